"""The VS Code extension (editors/vscode): its manifest agrees with the project and the server, and
it builds into a .vsix that holds the compiled client and the runtime library it loads."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from winportlint import __version__

REPO = Path(__file__).resolve().parents[1]
EXTENSION = REPO / "editors" / "vscode"
MANIFEST = json.loads((EXTENSION / "package.json").read_text())
SOURCE = (EXTENSION / "src" / "extension.ts").read_text()
PINS = {**MANIFEST["dependencies"], **MANIFEST["devDependencies"]}
#: Generous bounds on a build on a loaded machine: limits, never measures.
BUILD_SECONDS = 300
#: Loads the client as VS Code would, with a stand-in for the ``vscode`` module that VS Code provides:
#: every module the client requires must come from the .vsix itself.
LOAD = """\
const Module = require("module");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === "vscode" ? request : resolve.call(this, request, ...rest);
};
require.cache.vscode = { id: "vscode", filename: "vscode", loaded: true,
                         exports: new Proxy({}, { get: () => class {} }) };
const extension = require(process.argv[1]);
console.log(typeof extension.activate, typeof extension.deactivate);
"""


def ts_strings(constant: str) -> list[str]:
    """The string literals of a ``const NAME = [...]`` array in the extension's source."""
    match = re.search(rf"^const {constant} = \[(.*?)\];", SOURCE, re.MULTILINE | re.DOTALL)
    assert match, f"no const {constant} in extension.ts"
    return re.findall(r'"([^"]*)"', match.group(1))


def test_the_extension_s_version_and_license_are_the_project_s():
    pyproject = (REPO / "pyproject.toml").read_text()
    assert MANIFEST["version"] == __version__
    assert f'license = "{MANIFEST["license"]}"' in pyproject
    assert MANIFEST["license"] in (EXTENSION / "LICENSE").read_text()


def test_the_extension_s_settings_are_the_command_the_trace_and_the_options_the_server_reads():
    pytest.importorskip("pygls", reason="the language server needs the lsp extra (pip install 'winportlint[lsp]')")
    from winportlint.lsp.server import DEBOUNCE, OPTIONS

    settings = MANIFEST["contributes"]["configuration"]["properties"]
    assert set(settings) == {"winportlint.path", "winportlint.trace.server"} | {f"winportlint.{o}" for o in OPTIONS}
    assert ts_strings("SERVER_OPTIONS") == list(OPTIONS)
    assert settings["winportlint.path"]["default"] == "winportlint"
    assert settings["winportlint.debounceMilliseconds"]["default"] == round(DEBOUNCE * 1000)
    assert MANIFEST["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"] == ["winportlint.path"]


def test_the_extension_starts_for_and_hands_over_every_terraform_file_name_the_server_reads():
    from winportlint.plugin_manager import load_plugins

    languages, patterns = ts_strings("LANGUAGES"), ts_strings("PATTERNS")
    assert MANIFEST["activationEvents"] == [f"onLanguage:{language}" for language in languages] + [
        f"workspaceContains:{pattern}" for pattern in patterns]
    assert {"yaml", "json", "terraform", "hcl"} <= set(languages)
    suffixes = {suffix for fmt in load_plugins().formats for suffix in getattr(fmt, "folder_suffixes", ())}
    assert ".tf" in suffixes
    for suffix in sorted(suffixes) + [".template"]:
        name = f"module/main{suffix}" if suffix.startswith(".") else f"module/{suffix}"
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


def node_modules() -> Path | None:
    """The folder on NODE_PATH (where .ci/run installs them) with every package the extension pins,
    at its pinned version."""
    for entry in filter(None, os.environ.get("NODE_PATH", "").split(os.pathsep)):
        folder = Path(entry)
        try:
            versions = {name: json.loads((folder / name / "package.json").read_text())["version"] for name in PINS}
        except (OSError, ValueError, KeyError):
            continue
        if versions == PINS:
            return folder
    return None


MODULES = node_modules()
NODE, NPM = shutil.which("node"), shutil.which("npm")


def load(client: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NODE, "-e", LOAD, str(client)], capture_output=True, text=True, timeout=BUILD_SECONDS,
                          env={**os.environ, "NODE_PATH": ""})


@pytest.mark.slow  # compiles the client and packages it (about 10 s idle)
@pytest.mark.skipif(NODE is None or NPM is None, reason="node and npm are not installed")
@pytest.mark.skipif(MODULES is None, reason="the extension's npm packages are not installed: .ci/run installs "
                    f"{' '.join(f'{name}@{version}' for name, version in PINS.items())} and sets NODE_PATH")
def test_the_vsix_holds_the_manifest_the_compiled_client_and_its_runtime_dependency_not_the_build_tools(tmp_path):
    build = tmp_path / "vscode"
    shutil.copytree(EXTENSION, build, ignore=shutil.ignore_patterns("node_modules", "out", "*.vsix"))
    (build / "node_modules").symlink_to(MODULES, target_is_directory=True)
    vsix = tmp_path / "winportlint.vsix"
    done = subprocess.run([NODE, str(MODULES / "@vscode" / "vsce" / "vsce"), "package", "--out", str(vsix)],
                          cwd=build, capture_output=True, text=True, timeout=BUILD_SECONDS)
    assert done.returncode == 0, done.stdout + done.stderr

    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        packaged = json.loads(archive.read("extension/package.json"))
        archive.extractall(tmp_path / "installed")
    for key in ("name", "publisher", "version", "license", "engines", "main", "activationEvents", "contributes"):
        assert packaged[key] == MANIFEST[key], key
    assert {"extension/out/extension.js", "extension/LICENSE.txt", "extension/readme.md"} <= names
    library = json.loads((tmp_path / "installed/extension/node_modules/vscode-languageclient/package.json").read_text())
    assert library["version"] == MANIFEST["dependencies"]["vscode-languageclient"]
    shipped = {name.split("/")[2] for name in names if name.startswith("extension/node_modules/")}
    assert shipped.isdisjoint({"typescript", "@vscode", "@types"}), shipped
    assert not any(name.startswith("extension/src/") for name in names)

    client = tmp_path / "installed" / "extension" / "out" / "extension.js"
    loaded = load(client)
    assert (loaded.returncode, loaded.stdout) == (0, "function function\n"), loaded.stderr
    # The same client without its library (a package made with --no-dependencies) does not load.
    shutil.rmtree(tmp_path / "installed" / "extension" / "node_modules" / "vscode-languageclient")
    broken = load(client)
    assert broken.returncode != 0 and "Cannot find module 'vscode-languageclient/node'" in broken.stderr
