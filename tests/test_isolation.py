"""No code from the scanned folder runs, and the evaluator sees none of the job's environment (issue #14)."""

from __future__ import annotations

import functools
import os
import pickle
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from conftest import RDP_GROUP_TF, rdp_group_finding
from winportlint.plugins.terraform import isolated
from winportlint.plugins.terraform.environment import tf_var_environment

GROUP = RDP_GROUP_TF
FINDING = rdp_group_finding("main.tf")


@functools.lru_cache(maxsize=None)
def helper_imports() -> tuple[str, ...]:
    """The top-level modules a helper imports, measured: the helper's own program run with
    ``-X importtime`` through one evaluation (names of the standard library, tfparse's and cffi's)."""
    with tempfile.TemporaryDirectory() as folder:
        return _measure(Path(folder))


def _measure(folder: Path) -> tuple[str, ...]:
    (folder / "main.tf").write_text(GROUP)
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-I", "-S", "-X", "importtime", "-c", isolated.SERVE.format(path=isolated.import_folders()),
         str(request_read), str(reply_write), str(isolated.MEMORY_LIMIT)],
        pass_fds=(request_read, reply_write), stderr=subprocess.PIPE, cwd=folder, text=True)
    os.close(request_read)
    os.close(reply_write)
    requests, replies = Connection(request_write, readable=False), Connection(reply_read, writable=False)
    requests.send_bytes(pickle.dumps((str(folder), [])))
    assert replies.recv_bytes()[:1] == b"{"
    requests.close()
    replies.close()
    stderr = process.communicate(timeout=60)[1]
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in stderr.splitlines()
             if line.startswith("import time:") and not line.rstrip().endswith("imported package")}
    names.discard("")
    return tuple(sorted(names))


def pytest_generate_tests(metafunc):
    """One test per module the helper imports (measured when the tests are collected)."""
    if "name" in metafunc.fixturenames:
        metafunc.parametrize("name", helper_imports())


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """A scanned folder, also the working folder, with a ``<name>.py`` for each module a helper
    imports (each writes a marker file when imported); the output of a check run in it."""
    names = helper_imports()
    folder = tmp_path_factory.mktemp("scanned")
    (folder / "main.tf").write_text(GROUP)
    for name in names:
        (folder / f"{name}.py").write_text(
            f"import os\nopen(os.path.join({str(folder)!r}, 'marker-{name}'), 'w').close()\n")
    run = subprocess.run([str(Path(sys.executable).with_name("winportlint")),
                          "check", "--no-cache", "."], cwd=folder, capture_output=True, text=True, timeout=120)
    return names, folder, run


def test_the_measured_imports_are_those_of_the_evaluator():
    names = helper_imports()
    assert {"tfparse", "_cffi_backend", "resource", "pickle", "enum", "re", "struct", "copyreg", "functools",
            "operator"} <= set(names)


def test_no_module_in_the_scanned_or_working_folder_is_imported(attacked, name):
    names, folder, run = attacked
    assert (folder / f"{name}.py").exists()
    assert not (folder / f"marker-{name}").exists()
    assert run.stdout.splitlines() == [FINDING, "1 finding (1 critical) in 1 file",
                                       "see: winportlint explain WPL101"], run.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/environ")
def test_a_helper_gets_no_variable_of_the_job_but_tf_var(monkeypatch):
    monkeypatch.setenv("WPL_PLANTED_TOKEN", "planted-secret-77")
    monkeypatch.setenv("TF_VAR_cidr", "10.0.0.0/8")
    monkeypatch.setenv("PYTHONPATH", "/planted")
    isolated.close_helpers()
    before = set(_children())
    isolated.start_helpers(1)
    try:
        helpers = set(_children()) - before
        assert len(helpers) == 1
        pid = helpers.pop()
        environment = dict(item.split("=", 1) for item in
                           Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0") if item)
        assert set(environment) - {"GOGC"} == {"TF_VAR_cidr", "HOME"}
        assert environment["TF_VAR_cidr"] == "10.0.0.0/8"
        assert os.readlink(f"/proc/{pid}/cwd") == environment["HOME"] and not os.listdir(environment["HOME"])
        assert tf_var_environment() == [("TF_VAR_cidr", "10.0.0.0/8")]
    finally:
        isolated.close_helpers()


def _children() -> list[int]:
    """This process's child processes (Linux)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                found.append(int(entry))
    return found
