"""Environments (issue #16): a root module's variable files that terraform does not load by itself
(``envs/prod.tfvars``) are scenarios of that root, each evaluated once more."""

from __future__ import annotations

import os

from conftest import check_folder, write_files
from winportlint.cli import main
from winportlint.plugins.terraform.scenarios import scenario_files

RDP = "3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)"
ROOT = """variable "admin_cidr" {
  type    = string
  default = "10.0.0.0/8"
}

resource "aws_security_group" "admin" {
  name = "admin"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }
}
"""


def rdp(files: str) -> str:
    return (f"app/main.tf:12:5: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on "
            f"aws_security_group.admin: {RDP} [value from var.admin_cidr; {files}]")


def test_an_environment_file_that_opens_the_world_is_found_and_named(tmp_path, capsys):
    """Found only with --var-file before: the root's own default is safe, prod is not."""
    write_files(tmp_path, {"app/main.tf": ROOT, "app/terraform.tfvars": 'admin_cidr = "192.168.0.0/16"\n',
                           "app/envs/prod.tfvars": 'admin_cidr = "0.0.0.0/0"\n',
                           "app/envs/dev.tfvars": 'admin_cidr = "10.1.0.0/16"\n'})
    assert check_folder(tmp_path, capsys) == (
        1, [rdp("variables from app/terraform.tfvars; variables from app/envs/prod.tfvars")], [])


def test_what_the_root_opens_anyway_is_reported_once_and_an_error_names_its_file(tmp_path, capsys):
    write_files(tmp_path, {"app/main.tf": ROOT.replace('"10.0.0.0/8"', '"0.0.0.0/0"'),
                           "app/prod.tfvars": 'admin_cidr = "0.0.0.0/0"\n',
                           "app/bad.tfvars.json": '{"admin_cidr": "10.9.9.9/0"}\n'})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, findings) == (2, [rdp("")[:-3] + "]"])
    assert errors == ["app/main.tf:12: error: aws_security_group.admin: cidr_blocks '10.9.9.9/0' has host bits "
                      "set (the network is 0.0.0.0/0): cfn-lint and the Terraform provider reject it "
                      "(with bad.tfvars.json)"]


def test_files_terraform_loads_another_modules_files_and_var_files_given_are_no_scenarios(tmp_path):
    write_files(tmp_path, {"root/main.tf": ROOT, "root/terraform.tfvars": "", "root/x.auto.tfvars": "",
                           "root/x.auto.tfvars.json": "{}", "root/envs/a.tfvars": "", "root/envs/b.tfvars.json": "{}",
                           "root/modules/sg/main.tf": "", "root/modules/sg/test.tfvars": "",
                           "root/.terraform/modules/m/c.tfvars": "", "root/given.tfvars": ""})
    root = str(tmp_path / "root")
    modules = {os.path.abspath(root), os.path.abspath(os.path.join(root, "modules", "sg"))}
    found = scenario_files(root, modules, [os.path.join(root, "given.tfvars")], "auto")
    assert [os.path.relpath(f, root) for f in found] == ["envs/a.tfvars", "envs/b.tfvars.json"]
    assert scenario_files(root, modules, [], False) == []
    chosen = [os.path.join(root, "envs", "b.tfvars.json"), os.path.join(root, "modules", "sg", "test.tfvars"),
              str(tmp_path / "elsewhere.tfvars")]
    assert [os.path.abspath(f) for f in scenario_files(root, modules, [], chosen)] == [chosen[0]]


def test_the_configuration_turns_them_off_or_names_them(tmp_path, capsys):
    write_files(tmp_path, {"app/main.tf": ROOT, "app/envs/prod.tfvars": 'admin_cidr = "0.0.0.0/0"\n',
                           "app/envs/qa.tfvars": 'admin_cidr = "0.0.0.0/0"\n'})
    (tmp_path / ".winportlint.toml").write_text("var_files = false\n")
    assert check_folder(tmp_path, capsys) == (0, [], [])
    (tmp_path / ".winportlint.toml").write_text('var_files = ["app/envs/qa.tfvars"]\n')
    assert check_folder(tmp_path, capsys) == (1, [rdp("variables from app/envs/qa.tfvars")], [])
    (tmp_path / ".winportlint.toml").write_text("var_files = 3\n")
    assert main(["check", "--no-cache", str(tmp_path)]) == 2
    assert 'var_files must be "auto", false or a list of files' in capsys.readouterr().err


def test_a_new_environment_file_is_seen_by_a_cached_run(tmp_path, capsys):
    write_files(tmp_path, {"app/main.tf": ROOT, "app/envs/dev.tfvars": 'admin_cidr = "10.1.0.0/16"\n'})
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["check", "."]) == 0
        (tmp_path / "app/envs/prod.tfvars").write_text('admin_cidr = "0.0.0.0/0"\n')
        assert main(["check", "."]) == 1
    finally:
        os.chdir(cwd)
    assert rdp("variables from app/envs/prod.tfvars").split(" [")[0] in capsys.readouterr().out
