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
#: Stand-ins for the ``vscode`` module that VS Code provides (api) and for the client library
#: (client), and the script that drives the compiled extension with them.
HOST = Path(__file__).resolve().parent / "tools" / "vscode_host"

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


def host(mode: str, client: Path, *stand_ins: str, settings: dict | None = None) -> subprocess.CompletedProcess:
    """The compiled client run by ``tests/tools/vscode_host/run.cjs`` with these stand-ins on NODE_PATH."""
    env = {**os.environ, "NODE_PATH": os.pathsep.join(str(HOST / name) for name in stand_ins),
           "SETTINGS": json.dumps(settings or {})}
    return subprocess.run([NODE, str(HOST / "run.cjs"), mode, str(client)], capture_output=True, text=True,
                          timeout=BUILD_SECONDS, env=env)


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
    installed = tmp_path / "installed" / "extension"
    library = json.loads((installed / "node_modules" / "vscode-languageclient" / "package.json").read_text())
    assert library["version"] == MANIFEST["dependencies"]["vscode-languageclient"]
    shipped = {name.split("/")[2] for name in names if name.startswith("extension/node_modules/")}
    assert shipped.isdisjoint({"typescript", "@vscode", "@types"}), shipped
    assert not any(name.startswith("extension/src/") for name in names)

    # Loaded as VS Code loads it, every module the client requires comes from the package.
    client = installed / "out" / "extension.js"
    loaded = host("load", client, "api")
    assert (loaded.returncode, loaded.stdout) == (
        0, f"function function {installed / 'node_modules/vscode-languageclient/node.js'}\n"), loaded.stderr
    # A package made without its dependencies (vsce package --no-dependencies) does not load.
    shutil.rmtree(installed / "node_modules" / "vscode-languageclient")
    broken = host("load", client, "api")
    assert broken.returncode != 0 and "Cannot find module 'vscode-languageclient/node'" in broken.stderr

    # Activated with a stand-in client library: the command, its settings, restarts and the error.
    defaults = {name: value["default"] for name, value in MANIFEST["contributes"]["configuration"]["properties"].items()}
    session = host("session", client, "api", "client",
                   settings={**defaults, "winportlint.path": "/venv/bin/winportlint", "winportlint.select": ["WPL1"]})
    assert session.returncode == 0, session.stderr
    selector = [{"scheme": "file", "language": name} for name in ts_strings("LANGUAGES")] + [
        {"scheme": "file", "pattern": pattern} for pattern in ts_strings("PATTERNS")]

    def new(command: str, ignore: list[str], select: str = "WPL1") -> list:
        return ["new", "winportlint", "winportlint", {"command": command, "args": ["lsp"]},
                {"documentSelector": selector,
                 "initializationOptions": {"debounceMilliseconds": 200, "select": [select], "ignore": ignore}}]

    assert json.loads(session.stdout) == [
        new("/venv/bin/winportlint", []), ["start", "/venv/bin/winportlint"],
        # the trace changed: nothing to restart; the ignored checks changed: restarted with them
        ["stop", "/venv/bin/winportlint"], new("/venv/bin/winportlint", ["WPL301"]), ["start", "/venv/bin/winportlint"],
        ["stop", "/venv/bin/winportlint"], new("missing", ["WPL301"]), ["start", "missing"],
        ["showErrorMessage", "winportlint: 'missing lsp' did not start (Error: spawn missing ENOENT). Install it with "
                             "pip install 'winportlint[lsp]' or set winportlint.path to the command."],
        # two changes at once: two restarts one after the other, never two servers at a time
        new("winportlint", ["WPL301"], "WPL2"), ["start", "winportlint"],
        ["stop", "winportlint"], new("winportlint", ["WPL301"], "WPL2"), ["start", "winportlint"],
        ["stop", "winportlint"]]
