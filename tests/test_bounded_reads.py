"""Every file winportlint reads goes through one reader: a FIFO or a symlink to /dev/zero in
place of any file it reads (a called module's files, modules.json, a catalog, a baseline, the
configuration, a variable file, a plan's configuration) is a one-line error naming the file,
never a hang or an exhausted memory. Each attack runs the CLI in a process of its own, under a
timeout and a memory limit, so that a regression fails the test instead of the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RDP_GROUP_TF, rdp_group_finding, write_files

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                                reason="no FIFOs or /dev/zero on this platform")

SG = RDP_GROUP_TF
GOOD_FINDING = rdp_group_finding("good/main.tf")
NOT_REGULAR = "not a regular file (a FIFO, socket or device)"
CALLS_LIB = 'module "inner" {\n  source = "../lib/inner"\n}\n'


def _limit_memory() -> None:  # a regression reading /dev/zero stops at 1 GB, not at the machine's memory
    import resource

    resource.setrlimit(resource.RLIMIT_DATA, (1 << 30, resource.getrlimit(resource.RLIMIT_DATA)[1]))


def run_cli(cwd: Path, *args: str, command: tuple[str, ...] = ("check", "--no-cache")
            ) -> tuple[int, list[str], list[str]]:
    """Exit code, stdout lines and stderr lines of ``winportlint COMMAND ARGS`` in ``cwd``."""
    done = subprocess.run([sys.executable, "-m", "winportlint.cli", *command, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60, preexec_fn=_limit_memory)
    return done.returncode, done.stdout.splitlines(), done.stderr.splitlines()


def plant(path: Path, kind: str) -> None:
    """A FIFO, or a symlink to /dev/zero, where a file is expected."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A repository of ``good`` (a finding) and ``root``, which holds a security group of its own."""
    write_files(tmp_path, {"good/main.tf": SG, "root/main.tf": SG})
    (tmp_path / ".git").mkdir()
    return tmp_path


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_modules_json_that_is_not_a_file_stops_its_root_only(tree, kind):
    plant(tree / "root/.terraform/modules/modules.json", kind)
    assert run_cli(tree, ".") == (2, [
        GOOD_FINDING,
        f"root/.terraform/modules/modules.json: error: {NOT_REGULAR}; root is not read",
        "1 finding (1 critical) in 2 files; 1 input error",
        "see: winportlint explain WPL101"], [])


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_called_module_file_outside_the_scanned_paths(tree, kind):
    (tree / "root/main.tf").write_text(SG + CALLS_LIB)
    plant(tree / "lib/inner/main.tf", kind)
    assert run_cli(tree, "good", "root") == (2, [
        GOOD_FINDING,
        f"lib/inner/main.tf: error: {NOT_REGULAR}; its folder is not read",
        "1 finding (1 critical) in 2 files; 1 input error",
        "see: winportlint explain WPL101"], [])


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_called_module_file_inside_the_scanned_tree_is_one_error(tree, kind):
    (tree / "root/main.tf").write_text(SG + CALLS_LIB)
    plant(tree / "lib/inner/main.tf", kind)
    assert run_cli(tree, ".") == (2, [
        GOOD_FINDING,
        f"lib/inner/main.tf: error: {NOT_REGULAR}; its folder is not read",
        "1 finding (1 critical) in 3 files; 1 input error",
        "see: winportlint explain WPL101"], [])


def test_a_downloaded_module_file_that_is_a_fifo(tree):
    (tree / "root/main.tf").write_text(SG + 'module "sg" {\n  source  = "acme/sg/aws"\n  version = "1.0.0"\n}\n')
    write_files(tree / "root/.terraform/modules", {"modules.json": json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "sg", "Source": "registry.terraform.io/acme/sg/aws", "Version": "1.0.0",
         "Dir": ".terraform/modules/sg"}]})})
    plant(tree / "root/.terraform/modules/sg/main.tf", "fifo")
    assert run_cli(tree, ".") == (2, [
        GOOD_FINDING,
        f"root/.terraform/modules/sg/main.tf: error: {NOT_REGULAR}; its folder is not read",
        "1 finding (1 critical) in 2 files; 1 input error",
        "see: winportlint explain WPL101"], [])


def test_a_downloaded_module_is_read_and_its_findings_reported(tree):
    """The other side of the test above: the same module, a regular file, is evaluated."""
    (tree / "root/main.tf").write_text('module "sg" {\n  source  = "acme/sg/aws"\n  version = "1.0.0"\n}\n')
    write_files(tree / "root/.terraform/modules", {"modules.json": json.dumps({"Modules": [
        {"Key": "sg", "Source": "registry.terraform.io/acme/sg/aws", "Dir": ".terraform/modules/sg"}]}),
        "sg/main.tf": SG})
    code, out, err = run_cli(tree, "root")
    assert (code, err) == (1, [])
    assert out[0].startswith("root/.terraform/modules/sg/main.tf:6:20: WPL101 critical 3389/tcp open from 0.0.0.0/0 "
                             "(the whole internet) on module.sg.aws_security_group.rdp")


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_catalog_file_that_is_not_a_file(tree, kind):
    plant(tree / "ports.yaml", kind)
    assert run_cli(tree, "--catalog", "ports.yaml", ".") == (
        2, [], [f"winportlint: error: ports.yaml: cannot read catalog file: {NOT_REGULAR}"])


def test_a_configured_catalog_file_that_is_a_fifo(tree):
    (tree / ".winportlint.toml").write_text('catalog = ["ports.yaml"]\n')
    plant(tree / "ports.yaml", "fifo")
    assert run_cli(tree, ".") == (
        2, [], [f"winportlint: error: .winportlint.toml: catalog: {tree / 'ports.yaml'}: cannot read catalog file: "
                f"{NOT_REGULAR}"])


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_an_aws_page_to_import_that_is_not_a_file(tmp_path, kind):
    plant(tmp_path / "page.txt", kind)
    assert run_cli(tmp_path, "page.txt", "--output", "out.yaml", command=("catalog", "import")) == (
        2, [], [f"winportlint: error: cannot read page.txt: {NOT_REGULAR}"])
    assert not (tmp_path / "out.yaml").exists()


def test_a_baseline_that_is_a_fifo(tree):
    plant(tree / "baseline.json", "fifo")
    assert run_cli(tree, "--baseline", "baseline.json", ".") == (
        2, [], [f"winportlint: error: cannot read baseline baseline.json: {NOT_REGULAR}"])


@pytest.mark.parametrize("name", [".winportlint.toml", "pyproject.toml"])
@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_configuration_file_that_is_not_a_file_is_an_error_not_skipped(tree, name, kind):
    plant(tree / name, kind)
    assert run_cli(tree, ".") == (2, [], [f"winportlint: error: {name}: cannot read: {NOT_REGULAR}"])


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_var_file_that_is_not_a_file(tree, kind):
    plant(tree / "prod.tfvars", kind)
    assert run_cli(tree, "--var-file", "prod.tfvars", ".") == (
        2, [], [f"winportlint: error: --var-file prod.tfvars: {NOT_REGULAR}"])


@pytest.mark.parametrize("kind", ["fifo", "zero"])
def test_a_plan_beside_a_configuration_file_that_is_not_a_file(tmp_path, kind):
    plan = {"format_version": "1.2", "configuration": {"root_module": {}}, "resource_changes": [
        {"address": "aws_security_group.rdp", "mode": "managed", "type": "aws_security_group",
         "change": {"actions": ["create"], "after": {"ingress": [
             {"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}}}]}
    (tmp_path / "plan.json").write_text(json.dumps(plan, indent=1))
    plant(tmp_path / "main.tf", kind)
    code, out, err = run_cli(tmp_path, ".")
    assert (code, err) == (2, [])
    assert out[0].startswith("plan.json:8:1: WPL101 critical 3389/tcp open from 0.0.0.0/0")  # at the plan's line
    assert out[1:] == [f"main.tf: error: {NOT_REGULAR}; its folder is not read",
                       "1 finding (1 critical) in 1 file; 1 input error", "see: winportlint explain WPL101"]


def test_a_called_module_file_over_the_size_limit(tmp_path, capsys, monkeypatch):
    from conftest import check_folder
    from winportlint import textfile

    write_files(tmp_path, {"root/main.tf": CALLS_LIB, "lib/inner/main.tf": SG + "#" * 400})
    (tmp_path / ".git").mkdir()
    monkeypatch.setattr(textfile, "MAX_FILE_BYTES", 300)
    code, findings, errors = check_folder(tmp_path / "root", capsys)
    size = len(SG) + 400
    assert (code, findings, errors) == (2, [], [
        f"../lib/inner/main.tf: error: file too large ({size:,} bytes; the limit is 300); its folder is not read"])


def test_a_file_that_grows_while_it_is_read_is_read_whole_up_to_the_limit(tmp_path, monkeypatch):
    from winportlint import textfile

    path = tmp_path / "t.yaml"
    path.write_bytes(b"x" * 250)
    real_fstat = textfile.os.fstat

    class Smaller:  # the size fstat saw before the file grew to 250 bytes
        def __init__(self, status):
            self.status = status
            self.st_size = 100

        def __getattr__(self, name):
            return getattr(self.status, name)

    monkeypatch.setattr(textfile.os, "fstat", lambda descriptor: Smaller(real_fstat(descriptor)))
    assert textfile.read_bytes(str(path)) == b"x" * 250
    monkeypatch.setattr(textfile, "MAX_FILE_BYTES", 200)
    with pytest.raises(textfile.UnreadableFile, match="more than 200 bytes"):
        textfile.read_bytes(str(path))
