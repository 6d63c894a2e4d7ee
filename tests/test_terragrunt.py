"""Terragrunt: a folder with terragrunt.hcl runs its module with its inputs, read offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import check_folder, lint, write_files
from winportlint import cache as result_cache
from winportlint.cli import main
from winportlint.plugins.terraform import terragrunt

#: A module that opens RDP to whatever its caller says admins connect from.
RDP_MODULE = """variable "admin_cidr" {
  type    = string
  default = "10.0.0.0/8"
}

resource "aws_security_group_rule" "rdp" {
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = [var.admin_cidr]
  security_group_id = "sg-0123456789abcdef0"
}
"""
RDP_LINE = "modules/rdp/main.tf:11:3: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on " \
           "aws_security_group_rule.rdp: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs) " \
           "[value from var.admin_cidr; variables from inputs of {unit}/terragrunt.hcl; via {unit}/terragrunt.hcl]"


def _unit(source: str = "../../modules//rdp", inputs: str = 'admin_cidr = "0.0.0.0/0"', before: str = "") -> str:
    return f'{before}terraform {{\n  source = "{source}"\n}}\n\ninputs = {{\n  {inputs}\n}}\n'


def test_a_units_inputs_reach_its_local_module_and_the_finding_names_the_unit(tmp_path, capsys):
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE, "live/app/terragrunt.hcl": _unit()})
    assert check_folder(tmp_path, capsys) == (1, [RDP_LINE.format(unit="live/app")], [])
    # The module on its own opens RDP to nothing known to be the world: read through the unit only.
    assert check_folder(tmp_path / "modules" / "rdp", capsys, "--severity", "info") == (0, [], [])


def test_a_modules_own_tfvars_come_after_the_inputs_as_terragrunts_tf_var_values_do(tmp_path, capsys):
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE, "modules/rdp/terraform.tfvars": 'admin_cidr = "::/0"\n',
                           "live/app/terragrunt.hcl": _unit()})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, errors) == (1, [])
    assert [line.split(" on ")[0] for line in findings] == [
        "modules/rdp/main.tf:11:3: WPL101 critical 3389/tcp open from ::/0 (the whole internet)"]


def test_two_units_of_one_module_are_two_deployments(tmp_path, capsys):
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE,
                           "live/dev/terragrunt.hcl": _unit(inputs='admin_cidr = "10.1.0.0/16"'),
                           "live/prod/terragrunt.hcl": _unit()})
    assert check_folder(tmp_path, capsys) == (1, [RDP_LINE.format(unit="live/prod")], [])


def test_include_chains_expose_locals_and_merge_inputs_as_the_strategy_says(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {
        "modules/rdp/main.tf": RDP_MODULE.replace("[var.admin_cidr]", "values(var.admin_cidrs)").replace(
            'variable "admin_cidr" {\n  type    = string\n  default = "10.0.0.0/8"',
            'variable "admin_cidrs" {\n  type    = map(string)\n  default = {}'),
        # The root: the module's source from its own folder, a map of CIDRs the units merge into.
        "live/root.hcl": 'locals {\n  office = "192.0.2.0/24"\n  env    = read_terragrunt_config('
                         'find_in_parent_folders("env.hcl"))\n}\n\nterraform {\n  source = '
                         '"${get_parent_terragrunt_dir()}/../modules//rdp"\n}\n\ninputs = {\n  admin_cidrs = '
                         '{ office = local.office }\n}\n',
        "live/prod/env.hcl": 'locals {\n  world = "0.0.0.0/0"\n}\n',
        # deep: the root's office CIDR and the unit's own are both in the map.
        "live/prod/deep/terragrunt.hcl": 'include "root" {\n  path           = find_in_parent_folders("root.hcl")\n'
                                         '  expose         = true\n  merge_strategy = "deep"\n}\n\ninputs = {\n'
                                         '  admin_cidrs = { vpn = include.root.locals.env.locals.world }\n}\n',
        # no_merge: neither the root's inputs nor its source; the unit names its own.
        "live/prod/alone/terragrunt.hcl": 'include "root" {\n  path           = find_in_parent_folders("root.hcl")\n'
                                          '  merge_strategy = "no_merge"\n}\n\nterraform {\n  source = '
                                          '"${get_terragrunt_dir()}/../../../modules//rdp"\n}\n',
    })
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--format", "json", "--severity", "info", "."]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["errors"] == []
    assert [(f["rule_id"], f["cidr"], f["line"]) for f in report["findings"]] == [("WPL101", "0.0.0.0/0", 11)]
    assert "live/prod/deep/terragrunt.hcl" in report["findings"][0]["message"]


def test_an_include_path_may_name_locals_and_compare_known_values(tmp_path, capsys):
    write_files(tmp_path, {
        "modules/rdp/main.tf": RDP_MODULE,
        "live/open.hcl": 'inputs = {\n  admin_cidr = "0.0.0.0/0"\n}\n',
        "live/closed.hcl": 'inputs = {\n  admin_cidr = "10.0.0.0/8"\n}\n',
        # get_env takes its default ("false"), so the comparison chooses open.hcl.
        "live/app/terragrunt.hcl": 'locals {\n  ci   = get_env("CI", "false") == "true" && true\n'
                                   '  name = 1 != "1" ? "open" : "closed"\n}\n\ninclude {\n'
                                   '  path = local.ci || !true ? "../closed.hcl" : "../${local.name}.hcl"\n}\n\n'
                                   # A source whose subfolder starts with a slash, as path_relative_to_include()
                                   # after `///` gives it; and find_in_parent_folders() finds folders too.
                                   'terraform {\n  source = "${dirname(find_in_parent_folders("modules"))}'
                                   '/modules///rdp"\n}\n',
    })
    assert check_folder(tmp_path, capsys) == (1, [RDP_LINE.format(unit="live/app")], [])


def test_relative_paths_start_in_the_units_folder_and_in_a_read_files_own(tmp_path, capsys):
    """An included file reads "cidr.hcl" from each unit's folder; a file read_terragrunt_config()
    reads has its own folder as get_terragrunt_dir()."""
    write_files(tmp_path, {
        "modules/rdp/main.tf": RDP_MODULE,
        "live/common.hcl": 'locals {\n  cidr = read_terragrunt_config("cidr.hcl")\n}\n\n'
                           'terraform {\n  source = "${get_terragrunt_dir()}/../../modules//rdp"\n}\n\n'
                           'inputs = {\n  admin_cidr = local.cidr.locals.value\n}\n',
        "live/prod/terragrunt.hcl": 'include {\n  path = "../common.hcl"\n}\n',
        "live/prod/cidr.hcl": 'locals {\n  value = read_terragrunt_config("${get_terragrunt_dir()}/../shared/'
                              'world.hcl").locals.value\n}\n',
        "live/shared/world.hcl": 'locals {\n  value = read_terragrunt_config("${get_terragrunt_dir()}/cidr.hcl")'
                                 '.locals.value\n}\n',
        "live/shared/cidr.hcl": 'locals {\n  value = "0.0.0.0/0"\n}\n',
        "live/dev/terragrunt.hcl": 'include {\n  path = "../common.hcl"\n}\n',
        "live/dev/cidr.hcl": 'locals {\n  value = "10.0.0.0/8"\n}\n',
    })
    assert check_folder(tmp_path, capsys) == (1, [RDP_LINE.format(unit="live/prod")], [])


def test_the_functions_that_build_inputs_and_paths(tmp_path, capsys):
    module = RDP_MODULE.replace("[var.admin_cidr]", "var.cidrs").replace(
        'variable "admin_cidr" {\n  type    = string\n  default = "10.0.0.0/8"',
        'variable "cidrs" {\n  type    = list(string)\n  default = []')
    write_files(tmp_path, {
        "modules/app/main.tf": module,
        "live/root.hcl": 'terraform {\n  source = "${get_repo_root()}/modules//${path_relative_to_include()}"\n}\n',
        "live/app/terragrunt.hcl": 'include {\n  path = find_in_parent_folders("root.hcl")\n}\n\nlocals {\n'
                                   '  by_env = { prod = "0.0.0.0/0", dev = "10.1.0.0/16" }\n}\n\n'
                                   'inputs = merge({ cidrs = ["10.0.0.0/8"] }, {\n'
                                   '  cidrs = concat(["10.2.0.0/16"], [lookup(local.by_env, "prod", "10.3.0.0/16")])\n'
                                   '})\n',
    })
    (tmp_path / ".git").mkdir()
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, errors) == (1, [])
    assert [line.split(" on ")[0] for line in findings] == [
        "modules/app/main.tf:11:3: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet)"]


def test_a_shallow_include_replaces_the_parents_inputs_with_the_childs(tmp_path, capsys):
    write_files(tmp_path, {
        "modules/rdp/main.tf": RDP_MODULE,
        "live/root.hcl": 'inputs = {\n  admin_cidr = "0.0.0.0/0"\n}\n',
        "live/app/terragrunt.hcl": 'include {\n  path = find_in_parent_folders("root.hcl")\n}\n\n'
                                   + _unit(inputs='admin_cidr = "10.9.0.0/16"'),
        "live/web/terragrunt.hcl": 'include {\n  path = find_in_parent_folders("root.hcl")\n}\n\n'
                                   + _unit(inputs='other = 1'),
    })
    assert check_folder(tmp_path, capsys) == (1, [RDP_LINE.format(unit="live/web")], [])


def test_a_root_terragrunt_hcl_the_units_include_is_read_in_their_folders_only(tmp_path, capsys):
    """The older layout: the root is itself a terragrunt.hcl, whose find_in_parent_folders() calls
    only make sense from a unit's folder (on its own it would find no region.hcl)."""
    write_files(tmp_path, {
        "modules/rdp/main.tf": RDP_MODULE,
        "live/terragrunt.hcl": 'locals {\n  region = read_terragrunt_config(find_in_parent_folders("region.hcl"))\n}\n'
                               '\ninputs = {\n  admin_cidr = local.region.locals.admin_cidr\n}\n',
        "live/eu/region.hcl": 'locals {\n  admin_cidr = "0.0.0.0/0"\n}\n',
        "live/eu/app/terragrunt.hcl": 'include {\n  path = find_in_parent_folders()\n}\n\nterraform {\n  source = '
                                      '"${dirname(find_in_parent_folders())}/../modules//rdp"\n}\n',
    })
    assert check_folder(tmp_path, capsys) == (1, [RDP_LINE.format(unit="live/eu/app")], [])


def test_dependency_outputs_are_unknown_and_mock_outputs_are_not_real_values(tmp_path, capsys):
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE, "live/app/terragrunt.hcl": _unit(
        inputs="admin_cidr = dependency.vpc.outputs.cidr",
        before='dependency "vpc" {\n  config_path  = "../vpc"\n  mock_outputs = {\n    cidr = "0.0.0.0/0"\n  }\n}\n\n')})
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    # Neither the mock (the world) nor the module's default (a private range): not known before apply.
    assert [line.split(" on ")[0] for line in findings] == [
        "modules/rdp/main.tf:11:3: WPL001 info 3389/tcp"]
    assert "cidr_blocks is not known before apply" in findings[0]


def test_inputs_not_known_offline_leave_every_variable_unknown_not_at_its_default(tmp_path, capsys):
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE.replace('"10.0.0.0/8"', '"0.0.0.0/0"'),
                           "live/app/terragrunt.hcl": 'terraform {\n  source = "../../modules//rdp"\n}\n\n'
                                                      'inputs = jsondecode(file("inputs.json"))\n'})
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert [line.split(" on ")[0] for line in findings] == ["modules/rdp/main.tf:11:3: WPL001 info 3389/tcp"]


def test_get_env_takes_its_default_and_run_cmd_runs_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ADMIN_CIDR", "10.0.0.0/8")
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE,
                           "live/app/terragrunt.hcl": _unit(inputs='admin_cidr = get_env("ADMIN_CIDR", "0.0.0.0/0")'),
                           "live/cmd/terragrunt.hcl": _unit(
                               inputs='admin_cidr = run_cmd("touch", "${get_terragrunt_dir()}/ran")\n'
                                      '  account    = get_aws_account_id()\n  home = get_env("HOME")')})
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert [line.split(" on ")[0] for line in findings] == [
        "modules/rdp/main.tf:11:3: WPL001 info 3389/tcp", "modules/rdp/main.tf:11:3: WPL101 critical 3389/tcp open "
                                                          "from 0.0.0.0/0 (the whole internet)"]
    assert "live/cmd/terragrunt.hcl" in findings[0] and "live/app/terragrunt.hcl" in findings[1]
    assert not (tmp_path / "live" / "cmd" / "ran").exists()


def test_a_remote_source_is_read_from_the_terragrunt_cache_only(tmp_path, capsys):
    source = "git::https://example.com/org/modules.git//rdp?ref=v1.0.0"
    write_files(tmp_path, {"live/app/terragrunt.hcl": _unit(source=source)})
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")  # never downloaded
    assert (code, errors) == (1, [])
    assert findings == [
        "live/app/terragrunt.hcl:6:17: WPL001 info inputs.admin_cidr may be open to the internet on a port not known "
        f"before deployment: input admin_cidr is 0.0.0.0/0, passed to {source}, which is not downloaded (run "
        "terragrunt init to read it); if the source is 0.0.0.0/0 or ::/0, this may open "
        "135/tcp RPC, 137-138/udp and 139/tcp NetBIOS, 445/tcp SMB, 49152-65535/tcp RPC dynamic (open by default "
        "in the Windows Server 2012 and 2012 R2 AMIs), 3389/tcp+udp RDP, any tcp port RDP shadowing (open by "
        "default in the Windows Server 2012 R2 to 2022 AMIs), 5985-5986/tcp WinRM (open by default in the Windows "
        "Server 2012 to 2022 AMIs), and 10 more services [via live/app/terragrunt.hcl]"]
    assert check_folder(tmp_path, capsys) == (0, [], [])  # at the default severity: nothing known is open
    write_files(tmp_path, {"live/app/.terragrunt-cache/h1/h2/rdp/main.tf": RDP_MODULE})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, errors) == (1, [])
    assert [line.split(" on ")[0] for line in findings] == [
        "live/app/.terragrunt-cache/h1/h2/rdp/main.tf:11:3: WPL101 critical 3389/tcp open from 0.0.0.0/0 "
        "(the whole internet)"]
    # The download is read through its unit only, never found as a module of its own.
    assert lint([tmp_path]).files == [str(tmp_path / "live" / "app" / "terragrunt.hcl")]


def test_a_finding_at_a_terragrunt_hcl_is_suppressed_by_a_comment_there(tmp_path, capsys):
    write_files(tmp_path, {
        "live/app/terragrunt.hcl": _unit(
            source="tfr:///terraform-aws-modules/security-group/aws//modules/rdp?version=5.1.0",
            inputs='ingress_cidr_blocks = ["0.0.0.0/0"]  # winportlint: ignore[WPL101] RDP gateway, SEC-9'),
        "live/other/terragrunt.hcl": _unit(
            source="git::https://example.com/m.git",
            inputs='partner = "0.0.0.0/0"  # winportlint: ignore[WPL001] partner VPN, SEC-7\n  cidr = "::/0"'),
    })
    assert check_folder(tmp_path, capsys, "--severity", "info") == (1, [
        "live/other/terragrunt.hcl:7:11: WPL001 info inputs.cidr may be open to the internet on a port not known "
        "before deployment: input cidr is ::/0, passed to git::https://example.com/m.git, which is not downloaded "
        "(run terragrunt init to read it); if the source is 0.0.0.0/0 or ::/0, this may open "
        "135/tcp RPC, 137-138/udp and 139/tcp NetBIOS, 445/tcp SMB, 49152-65535/tcp RPC dynamic (open by default "
        "in the Windows Server 2012 and 2012 R2 AMIs), 3389/tcp+udp RDP, any tcp port RDP shadowing (open by "
        "default in the Windows Server 2012 R2 to 2022 AMIs), 5985-5986/tcp WinRM (open by default in the Windows "
        "Server 2012 to 2022 AMIs), and 10 more services [via live/other/terragrunt.hcl]"], [])


def test_world_cidrs_for_egress_passed_to_a_remote_module_are_not_reported(tmp_path, capsys):
    write_files(tmp_path, {"live/app/terragrunt.hcl": _unit(
        source="git::https://example.com/org/modules.git//app", inputs='egress_cidr_blocks = ["0.0.0.0/0"]')})
    assert check_folder(tmp_path, capsys, "--severity", "info") == (0, [], [])


def test_a_known_registry_module_is_read_from_the_units_inputs(tmp_path, capsys):
    write_files(tmp_path, {"live/rdp/terragrunt.hcl": _unit(
        source="tfr:///terraform-aws-modules/security-group/aws//modules/rdp?version=5.1.0",
        inputs='name                = "rdp"\n  ingress_cidr_blocks = ["10.0.0.0/8", "0.0.0.0/0"]')})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, errors) == (1, [])
    assert [line.split(": 3389/")[0] for line in findings] == [
        f"live/rdp/terragrunt.hcl:7:41: WPL101 critical 3389/{protocol} open from 0.0.0.0/0 (the whole internet) on "
        "terraform-aws-modules/security-group/aws//modules/rdp" for protocol in ("tcp", "udp")]
    assert findings[0].endswith("[via terraform-aws-modules/security-group/aws//modules/rdp (rules from its inputs); "
                                "cidr from input ingress_cidr_blocks (rule rdp-tcp); via live/rdp/terragrunt.hcl]")
    # The module's root, as registry sources name it with `//.`: its named rules.
    write_files(tmp_path, {"live/rdp/terragrunt.hcl": _unit(
        source="tfr:///terraform-aws-modules/security-group/aws//.?version=4.17.0",
        inputs='egress_cidr_blocks  = ["0.0.0.0/0"]\n  ingress_rules       = ["rdp-tcp"]\n'
               '  ingress_cidr_blocks = ["0.0.0.0/0"]\n  tags                = { range = "0.0.0.0/0" }')})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert [line.split(": 3389/")[0] for line in findings] == [
        "live/rdp/terragrunt.hcl:8:27: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on "
        "terraform-aws-modules/security-group/aws"]  # the CIDR of the input the rule takes


def test_nothing_outside_the_scanned_folders_is_read(tmp_path, capsys):
    repo = tmp_path / "repo"
    write_files(tmp_path, {"root.hcl": 'inputs = {\n  admin_cidr = "0.0.0.0/0"\n  token = "SECRET-OUTSIDE"\n}\n',
                           "modules/rdp/main.tf": RDP_MODULE})
    write_files(repo, {
        "found/terragrunt.hcl": 'include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\n',
        "named/terragrunt.hcl": 'include "root" {\n  path = "../../root.hcl"\n}\n',
        "source/terragrunt.hcl": _unit(source="../../modules//rdp"),
        "gone/terragrunt.hcl": _unit(source="/nonexistent/modules//rdp"),
    })
    (repo / ".git").mkdir()
    code, findings, errors = check_folder(repo, capsys)
    assert (code, findings) == (2, [])
    assert errors == [
        "found/terragrunt.hcl:2: error: find_in_parent_folders: no 'root.hcl' above found/terragrunt.hcl in the "
        "scanned folders (scan a folder that holds both, such as the repository); the unit is not read",
        "gone/terragrunt.hcl:2: error: terraform source /nonexistent/modules//rdp does not exist",
        "named/terragrunt.hcl:1: error: ../root.hcl is outside the scanned folders and is not read (scan a folder "
        "that holds both, such as the repository)",
        "source/terragrunt.hcl:2: error: terraform source ../../modules//rdp is outside the scanned folders and is "
        "not read (scan a folder that holds both, such as the repository)"]


def test_an_include_that_links_outside_is_not_read(tmp_path, capsys):
    write_files(tmp_path, {"outside/root.hcl": 'inputs = {\n  admin_cidr = "0.0.0.0/0"\n}\n',
                           "repo/modules/rdp/main.tf": RDP_MODULE,
                           "repo/live/app/terragrunt.hcl": 'include {\n  path = find_in_parent_folders("root.hcl")\n}\n'
                                                           '\n' + _unit(source="../../modules//rdp", inputs="")})
    (tmp_path / "repo" / ".git").mkdir()
    os.symlink(tmp_path / "outside" / "root.hcl", tmp_path / "repo" / "root.hcl")
    assert check_folder(tmp_path / "repo", capsys) == (2, [], [
        "live/app/terragrunt.hcl:1: error: root.hcl is outside the scanned folders and is not read (scan a folder "
        "that holds both, such as the repository)"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_an_included_fifo_is_an_error_and_never_blocks(tmp_path):
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE, "live/app/terragrunt.hcl": _unit(),
                           "live/pipe/terragrunt.hcl": 'include {\n  path = "../pipe.hcl"\n}\n'})
    os.mkfifo(tmp_path / "live" / "pipe.hcl")
    done = subprocess.run([sys.executable, "-m", "winportlint.cli", "check", "--no-cache", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert (done.returncode, done.stdout.splitlines()) == (2, [
        RDP_LINE.format(unit="live/app"),
        "live/pipe.hcl: error: not a regular file (a FIFO, socket or device); the unit is not read",
        "1 finding (1 critical) in 3 files; 1 input error", "see: winportlint explain WPL101"])


def test_an_invalid_terragrunt_hcl_is_an_error_at_its_line_and_other_units_are_checked(tmp_path, capsys):
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE, "live/app/terragrunt.hcl": _unit(),
                           "live/bad/terragrunt.hcl": 'locals {\n  x = "a"\n  y =\n}\n',
                           "live/nested/terragrunt.hcl": 'include {\n  path = "../inner.hcl"\n}\n',
                           "live/inner.hcl": 'include {\n  path = "root.hcl"\n}\n'})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, findings) == (2, [RDP_LINE.format(unit="live/app")])
    assert errors == ["live/bad/terragrunt.hcl:3: error: invalid HCL: Terragrunt cannot read this file",
                      "live/inner.hcl:1: error: include in an included configuration (Terragrunt allows one level)"]


def test_every_file_a_unit_reads_is_an_input_of_the_cached_result(tmp_path, monkeypatch):
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE,
                           "live/root.hcl": 'locals {\n  admin = "10.0.0.0/8"\n}\n',
                           "live/prod/app/terragrunt.hcl": 'include "root" {\n  path = find_in_parent_folders('
                                                           '"root.hcl")\n  expose = true\n}\n\n'
                                                           + _unit(source="../../../modules//rdp",
                                                                   inputs="admin_cidr = include.root.locals.admin")})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(result_cache, "SETTLE_SECONDS", 0.0)  # files written a moment ago count as settled
    assert main(["check", "."]) == 0
    with monkeypatch.context() as unread:  # the next run is the cached result: no unit is read
        unread.setattr(terragrunt, "check_units", None)
        assert main(["check", "."]) == 0
    (tmp_path / "live" / "root.hcl").write_text('locals {\n  admin = "0.0.0.0/0"\n}\n')
    assert main(["check", "."]) == 1
    # A root.hcl added nearer the unit is the one it includes now.
    (tmp_path / "live" / "prod" / "root.hcl").write_text('locals {\n  admin = "10.1.0.0/16"\n}\n')
    assert main(["check", "."]) == 0
    (tmp_path / "modules" / "rdp" / "open.auto.tfvars").write_text('admin_cidr = "::/0"\n')
    assert main(["check", "."]) == 1
    # A remote source downloaded after a run is read in the next one.
    write_files(tmp_path, {"live/remote/terragrunt.hcl": _unit(source="git::https://example.com/m.git//rdp")})
    (tmp_path / "modules" / "rdp" / "open.auto.tfvars").unlink()
    assert main(["check", "."]) == 0
    write_files(tmp_path, {"live/remote/.terragrunt-cache/h1/h2/rdp/main.tf": RDP_MODULE})
    assert main(["check", "."]) == 1


def test_values_terragrunt_itself_hangs_on_are_bounded_here(tmp_path, capsys):
    """A number with a huge exponent is unknown (not a float infinity, nor millions of digits); a
    list nested thousands deep and a chain of locals each naming the next are errors at their line."""
    chain = "".join(f"  l{i} = local.l{i + 1}\n" for i in range(150))
    write_files(tmp_path, {
        "modules/rdp/main.tf": RDP_MODULE + 'variable "count" {\n  default = 1\n}\n',
        "live/big/terragrunt.hcl": _unit(inputs='admin_cidr = "0.0.0.0/0"\n  count = 9E9999999\n  n = ' + "9" * 5000),
        "live/source/terragrunt.hcl": "terraform {\n  source = 9E9999999\n}\n",
        "live/deep/terragrunt.hcl": "inputs = { x = " + "[" * 5000 + "]" * 5000 + " }\n",
        "live/chain/terragrunt.hcl": f"locals {{\n{chain}  l150 = 1\n}}\n\ninputs = {{\n  x = local.l0\n}}\n",
    })
    # Each file reads the next one twenty times: read once each, not 20 ** 15 times.
    write_files(tmp_path, {f"live/c{i}.hcl": "locals {\n" + "".join(
        f'  r{j} = read_terragrunt_config("c{i + 1}.hcl")\n' for j in range(20)) + "}\n" for i in range(15)})
    write_files(tmp_path, {"live/c15.hcl": 'locals {\n  admin_cidr = "0.0.0.0/0"\n}\n', "modules/wide/main.tf": RDP_MODULE,
                           "live/wide/terragrunt.hcl": _unit(source="../../modules//wide", inputs="admin_cidr = "
                                                             'read_terragrunt_config("../c0.hcl").locals.r0'
                                                             + ".locals.r0" * 14 + ".locals.admin_cidr")})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, findings) == (2, [RDP_LINE.format(unit="live/big"),
                                    RDP_LINE.format(unit="live/wide").replace("modules/rdp/", "modules/wide/")])
    assert errors == ["live/chain/terragrunt.hcl:102: error: expressions nested deeper than 100; the unit is not read",
                      "live/deep/terragrunt.hcl:1: error: expressions nested deeper than 100; the unit is not read"]


def test_the_pre_commit_hook_passes_a_changed_terragrunt_hcl(tmp_path, capsys, monkeypatch):
    import re

    import yaml

    hooks = yaml.safe_load((Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml").read_text())
    pattern = re.compile(next(hook["files"] for hook in hooks if hook["id"] == "winportlint"))
    assert [bool(pattern.search(p)) for p in ("live/app/terragrunt.hcl", "terragrunt.hcl", "live/root.hcl",
                                               "live/app/my-terragrunt.hcl")] == [True, True, False, False]
    write_files(tmp_path, {"modules/rdp/main.tf": RDP_MODULE, "live/app/terragrunt.hcl": _unit()})
    (tmp_path / ".git").mkdir()  # the repository the hook runs in: the module is in it
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "live/app/terragrunt.hcl"]) == 1  # as the hook passes it
    assert capsys.readouterr().out.splitlines()[0] == RDP_LINE.format(unit="live/app")
