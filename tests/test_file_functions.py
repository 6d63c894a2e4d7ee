"""Terraform's file functions read only regular files inside the scanned folders (issue #14)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import check_folder, write_files
from winportlint.plugins.terraform import TerraformFormat
from winportlint.plugins.terraform.evaluate import module_files
from winportlint.plugins.terraform.file_reads import confine

SECRET = "planted-secret-3f9a1c"
WINRM = """resource "aws_security_group" "g" {{
  ingress {{
    from_port   = 5985
    to_port     = 5985
    protocol    = "tcp"
    cidr_blocks = [{cidr}]
  }}
}}
"""
CLIMB = "../" * 24


def repository(tmp_path: Path, files: dict[str, str]) -> Path:
    """A git repository (a ``.git`` folder is enough) holding the files; its path."""
    repo = write_files(tmp_path / "repo", files)
    (repo / ".git").mkdir()
    return repo


def winportlint(folder: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``winportlint check --no-cache --severity info [extra] .`` in a process of its own (new helpers)."""
    return subprocess.run([str(Path(sys.executable).with_name("winportlint")),
                           "check", "--no-cache", "--severity", "info", *extra, "."], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def unread_finding(line: int, why: str) -> str:
    return (f"main.tf:{line}:5: WPL001 info 5985/tcp on aws_security_group.g may be open to the internet: {why}; "
            f"if it is 0.0.0.0/0 or ::/0 this opens 5985/tcp WinRM (open by default in the Windows Server 2012 to 2022 AMIs)")


def test_the_environment_read_through_a_climbing_path_reaches_no_output(tmp_path):
    repo = repository(tmp_path, {"main.tf": WINRM.format(cidr=f'file("{CLIMB}proc/self/environ")')
                                 + f'locals {{\n  leak = file("{CLIMB}proc/self/environ")\n}}\n'})
    env = {**os.environ, "WPL_PLANTED": SECRET}
    for output_format in ("text", "json"):
        run = winportlint(repo, "--format", output_format, env=env)
        assert SECRET not in run.stdout + run.stderr
        assert run.returncode == 1, run.stdout + run.stderr  # the one info finding below, no error
    assert winportlint(repo, env=env).stdout.splitlines() == [
        unread_finding(6, "file() outside the scanned folder is not read"), "1 finding (1 info) in 1 file",
        "see: winportlint explain WPL001"]


def test_a_file_outside_the_repository_is_not_read_by_any_file_function(tmp_path, capsys):
    (tmp_path / "outside.txt").write_text(SECRET)
    calls = ['file("../outside.txt")', 'templatefile("${path.module}/../outside.txt", {})',
             'filebase64("../outside.txt")', 'filesha256("../outside.txt")', 'tostring(fileexists("../outside.txt"))',
             'join(",", fileset("..", "*.txt"))', f'file("/{tmp_path}/outside.txt")', 'file("~/outside.txt")']
    for number, call in enumerate(calls):
        repo = repository(tmp_path / str(number), {"main.tf": WINRM.format(cidr=call)})
        code, findings, errors = check_folder(repo, capsys, "--severity", "info")
        name = call.split("(")[0] if "fileexists" not in call and "fileset" not in call else \
            "fileexists" if "fileexists" in call else "fileset"
        assert (code, errors) == (1, []), call
        assert findings == [unread_finding(6, f"{name}() outside the scanned folder is not read")], call


def test_a_symlink_in_the_module_that_leads_outside_is_not_followed(tmp_path, capsys):
    (tmp_path / "outside.json").write_text(json.dumps({"cidr": "0.0.0.0/0", "secret": SECRET}))
    repo = repository(tmp_path, {"main.tf": WINRM.format(cidr='jsondecode(file("${path.module}/link.json")).cidr')})
    (repo / "link.json").symlink_to(tmp_path / "outside.json")
    code, findings, errors = check_folder(repo, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [unread_finding(6, "file() outside the scanned folder is not read")]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="needs FIFOs and /dev/zero")
def test_a_fifo_or_a_device_read_through_file_is_not_read_and_does_not_hang(tmp_path):
    repo = repository(tmp_path, {"main.tf": WINRM.format(cidr='file("${path.module}/pipe")')
                                 + 'locals {\n  zero = file("zero")\n}\n'})
    os.mkfifo(repo / "pipe")
    (repo / "zero").symlink_to("/dev/zero")
    run = winportlint(repo)  # a read of either would block or fill the memory: the timeout fails the test
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines() == [unread_finding(6, "file() of a FIFO, device or folder is not read"),
                                       "1 finding (1 info) in 1 file", "see: winportlint explain WPL001"]


def test_a_template_path_known_only_when_evaluated_is_not_read(tmp_path, capsys):
    repo = repository(tmp_path, {
        "main.tf": WINRM.format(cidr='templatefile(var.template, {})') + 'variable "template" {\n'
                   f'  default = "{CLIMB}proc/self/environ"\n}}\n'})
    code, findings, errors = check_folder(repo, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [unread_finding(6, "templatefile() of a path known only when evaluated is not read")]


def test_a_template_inside_the_repository_that_reads_files_is_not_rendered(tmp_path, capsys):
    repo = repository(tmp_path, {"main.tf": WINRM.format(cidr='templatefile("cidr.tpl", {})'),
                                 "cidr.tpl": '${file("' + CLIMB + 'proc/self/environ")}'})
    code, findings, errors = check_folder(repo, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [unread_finding(6, "templatefile() of a template that reads files is not read")]


def test_files_inside_the_module_are_read_and_give_their_findings(tmp_path, capsys):
    repo = repository(tmp_path, {
        "main.tf": WINRM.format(cidr='jsondecode(file("${path.module}/rules.json")).cidr') +
        'resource "aws_security_group" "h" {\n  ingress {\n    from_port   = 3389\n    to_port     = 3389\n'
        '    protocol    = "tcp"\n    cidr_blocks = [trimspace(file("cidr.txt"))]\n  }\n}\n',
        "rules.json": '{"cidr": "0.0.0.0/0"}', "cidr.txt": "0.0.0.0/0\n"})
    code, findings, errors = check_folder(repo, capsys)
    assert (code, errors) == (1, [])
    assert [line.split(" open from")[0] for line in findings] == [
        "main.tf:6:5: WPL103 critical 5985/tcp", "main.tf:14:5: WPL101 critical 3389/tcp"]


def test_a_called_module_with_a_refused_call_still_works_from_the_scratch_copy(tmp_path, capsys):
    repo = repository(tmp_path, {
        "env/main.tf": 'module "shared" {\n  source = "../shared"\n}\n',
        "shared/main.tf": WINRM.format(cidr='file("/etc/hostname")') +
        'resource "aws_security_group" "h" {\n  ingress {\n    from_port   = 3389\n    to_port     = 3389\n'
        '    protocol    = "tcp"\n    cidr_blocks = [file("${path.module}/cidr.txt")]\n  }\n}\n',
        "shared/cidr.txt": "0.0.0.0/0"})
    code, findings, errors = check_folder(repo / "env", capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert [line.split(" open")[0].split(" may be")[0] for line in findings] == [
        "../shared/main.tf:6:5: WPL001 info 5985/tcp on module.shared.aws_security_group.g",
        "../shared/main.tf:14:5: WPL101 critical 3389/tcp"]
    assert "file() outside the scanned folder is not read" in findings[0]


def test_json_syntax_calls_are_checked_too(tmp_path, capsys):
    group = {"resource": {"aws_security_group": {"g": {"ingress": [{
        "from_port": 5985, "to_port": 5985, "protocol": "tcp",
        "cidr_blocks": ["${file(\"" + CLIMB + "proc/self/environ\")}"]}]}}}}
    repo = repository(tmp_path, {"main.tf.json": json.dumps(group, indent=2)})
    code, findings, errors = check_folder(repo, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert len(findings) == 1 and findings[0].startswith("main.tf.json:")
    assert "file() outside the scanned folder is not read" in findings[0]


def test_calls_in_comments_or_string_text_are_not_calls_and_cost_no_scratch_copy(tmp_path):
    repo = repository(tmp_path, {"main.tf": '# file("../../etc/passwd")\n/* file("/x") */\n'
                                            'locals {\n  a = "file(../x) $${file(\\"/y\\")}"\n'
                                            '  b = <<EOT\nfile("/z")\nEOT\n}\n' + WINRM.format(cidr='"10.0.0.0/8"')})
    files = module_files(str(repo))
    confined = confine(str(repo), files, (str(repo.resolve()),), module_files)
    assert (confined.folder, confined.files, confined.scratch, confined.unread) == (str(repo), files, None, [])


def test_every_file_read_is_an_input_of_the_folder_result(tmp_path):
    repo = repository(tmp_path, {"main.tf": WINRM.format(cidr='file("${path.module}/cidr.txt")')
                                 + 'locals {\n  t = templatefile("t.tpl", {})\n  n = fileexists("none")\n}\n',
                                 "cidr.txt": "0.0.0.0/0", "t.tpl": "x"})
    result = TerraformFormat().parse_folders([str(repo)], {"jobs": 1, "scanned_trees": (str(repo.resolve()),)})
    assert [os.path.basename(path) for path in result.inputs if ".terraform" not in path] == \
        ["cidr.txt", "none", "t.tpl"]  # a file that is not there is an input too: it may appear


RULE = """resource "aws_security_group_rule" "r" {{
  type              = {type}
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = "sg-0123"
}}
"""


@pytest.mark.parametrize("rule_type, why", [
    (f'file("{CLIMB}proc/self/environ")', "type unknown (file() outside the scanned folder is not read)"),
    ("var.direction", "type unknown (var.direction has no known value)")])
def test_a_rule_whose_type_is_unknown_may_be_ingress_and_is_never_dropped(tmp_path, capsys, rule_type, why):
    """The first was dropped silently; the second was an input error ("type must be ingress or egress")."""
    repo = repository(tmp_path, {"main.tf": RULE.format(type=rule_type) + 'variable "direction" {}\n'})
    code, findings, errors = check_folder(repo, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [f"main.tf:6:24: WPL001 info 3389/tcp on aws_security_group_rule.r may be open to the "
                        f"internet: {why}; from 0.0.0.0/0 (the whole internet) this opens 3389/tcp RDP (open by "
                        f"default in the Windows Server 2012 R2 to 2022 AMIs)"
                        + (" [value from var.direction]" if rule_type == "var.direction" else "")]
