"""Terraform modules are read only from the scanned tree (issue #14): a module source that
leads outside the repository (or the folder named, outside a repository) is an input error
at its ``module`` block, and nothing of the folder it names reaches a report."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import check_folder, write_files
from winportlint.cli import main

SG = """variable "cidr" {
  default = "0.0.0.0/0"
}
resource "aws_security_group" "rdp" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }
}
"""
CALLS_LIB = 'module "lib" {\n  source = "../lib"\n}\n'
OUTSIDE = ('main.tf:1: error: module "lib": source ../lib is outside the scanned folders and is not read '
           '(scan a folder that holds both, such as the repository)')
LIB_FINDING = ("lib/main.tf:9:5: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on "
               "module.lib.aws_security_group.rdp: 3389/tcp RDP (open by default in the Windows Server 2012 R2 "
               "to 2022 AMIs) [value from var.cidr; via module.lib ({caller}:1)]")


def test_outside_a_repository_a_call_out_of_the_folder_named_is_an_error(tmp_path, capsys):
    write_files(tmp_path, {"root/main.tf": CALLS_LIB, "lib/main.tf": SG})
    assert check_folder(tmp_path / "root", capsys) == (2, [], [OUTSIDE])


def test_the_folder_that_holds_both_reads_the_call(tmp_path, capsys):
    write_files(tmp_path, {"root/main.tf": CALLS_LIB, "lib/main.tf": SG})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, errors) == (1, [])
    assert findings == [LIB_FINDING.format(caller="root/main.tf")]


def test_in_a_repository_a_call_anywhere_in_it_is_read(tmp_path, capsys):
    write_files(tmp_path, {"repo/root/main.tf": CALLS_LIB, "repo/lib/main.tf": SG})
    (tmp_path / "repo" / ".git").mkdir()
    code, findings, errors = check_folder(tmp_path / "repo" / "root", capsys)
    assert (code, errors) == (1, [])
    assert findings == ["../" + LIB_FINDING.format(caller="main.tf")]


def test_a_call_out_of_the_repository_reads_nothing_there(tmp_path, capsys):
    secret = "WPLSECRET-" + "s" * 30
    write_files(tmp_path, {"repo/root/main.tf": 'module "lib" {\n  source = "../../lib"\n}\n',
                           "lib/main.tf": SG.replace("0.0.0.0/0", secret)})
    (tmp_path / "repo" / ".git").mkdir()
    code, findings, errors = check_folder(tmp_path / "repo" / "root", capsys)
    assert (code, findings) == (2, [])
    assert errors == [OUTSIDE.replace("../lib", "../../lib")]


def test_a_symlinked_module_folder_that_leads_out_of_the_repository_is_outside(tmp_path, capsys):
    write_files(tmp_path, {"repo/root/main.tf": 'module "lib" {\n  source = "./lib"\n}\n', "lib/main.tf": SG})
    (tmp_path / "repo" / ".git").mkdir()
    os.symlink(tmp_path / "lib", tmp_path / "repo" / "root" / "lib")
    assert check_folder(tmp_path / "repo" / "root", capsys) == (2, [], [OUTSIDE.replace("../lib", "./lib")])


def test_a_downloaded_module_recorded_outside_the_repository_is_an_error(tmp_path: Path, capsys):
    write_files(tmp_path, {"repo/root/main.tf": SG.replace("0.0.0.0/0", "10.0.0.0/8"), "lib/main.tf": SG})
    (tmp_path / "repo" / ".git").mkdir()
    manifest = tmp_path / "repo" / "root" / ".terraform" / "modules" / "modules.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"Modules": [{"Key": "", "Source": "", "Dir": "."},
                                                {"Key": "lib", "Source": "x", "Dir": "../../lib"}]}))
    assert check_folder(tmp_path / "repo" / "root", capsys) == (2, [], [
        '.terraform/modules/modules.json: error: module "lib": source ../../lib is outside the scanned folders '
        'and is not read (scan a folder that holds both, such as the repository)'])


SECRET = "WPLSECRET-outside"


def test_symlinks_to_files_outside_the_repository_are_not_read(tmp_path, capsys, monkeypatch):
    """A template, a module file and a called module's file that lead out of the repository."""
    write_files(tmp_path, {"outside/t.yaml": f"Resources: [{SECRET}\n",
                           "outside/main.tf": f'variable "x" {{\n  default = "{SECRET}"\n}}\n{SECRET}\n',
                           "repo/root/main.tf": 'module "lib" {\n  source = "../lib"\n}\n',
                           "repo/lib/ok.tf": SG, "repo/good/main.tf": SG})
    (tmp_path / "repo" / ".git").mkdir()
    (tmp_path / "repo" / "t.yaml").symlink_to(tmp_path / "outside" / "t.yaml")
    (tmp_path / "repo" / "lib" / "main.tf").symlink_to(tmp_path / "outside" / "main.tf")
    (tmp_path / "repo" / "linked").mkdir()
    (tmp_path / "repo" / "linked" / "main.tf").symlink_to(tmp_path / "outside" / "main.tf")
    code, findings, errors = check_folder(tmp_path / "repo", capsys)  # none of them quotes the secret
    assert code == 2
    assert findings == ["good/main.tf:9:5: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on "
                        "aws_security_group.rdp: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs) "
                        "[value from var.cidr]"]
    assert errors == [
        "lib/main.tf: error: a symlink to a file outside the scanned folders; not read; its folder is not read",
        "linked/main.tf: error: a symlink to a file outside the scanned folders; not read; its folder is not read"]
    # A found template link is passed over (it may be any .yaml); one named is an error.
    monkeypatch.chdir(tmp_path / "repo")
    assert main(["check", "--no-cache", "t.yaml"]) == 2
    assert capsys.readouterr().out.splitlines() == [
        "t.yaml: error: a symlink to a file outside the scanned folders; not read",
        "0 findings in 0 files; 1 input error"]
