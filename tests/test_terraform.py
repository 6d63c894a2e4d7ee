"""Terraform: folders as modules, variables from files and the command line, plans, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import check_folder, finding_rows, lint, write_files
from winportlint.cli import main

CASES = Path(__file__).parent / "cases"
RDP_RULE = """
resource "aws_security_group_rule" "rdp" {
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = [var.admin_cidr]
  security_group_id = "sg-0123456789abcdef0"
}
"""


def _rows(result):
    return [(r["rule_id"], r["resource"], r["cidr"], r["line"]) for r in finding_rows(result.findings)]


def test_a_single_tfvars_file_makes_its_whole_module_be_read(tmp_path):
    module = write_files(tmp_path, {"variables.tf": 'variable "admin_cidr" { default = "10.0.0.0/8" }\n',
                               "rules.tf": RDP_RULE, "terraform.tfvars": 'admin_cidr = "0.0.0.0/0"\n'})
    result = lint([module / "terraform.tfvars"])  # as pre-commit passes a changed file
    assert _rows(result) == [("WPL101", "aws_security_group_rule.rdp", "0.0.0.0/0", 7)]
    assert result.findings[0].location.file == str(module / "rules.tf")


def test_var_file_and_var_options(tmp_path, capsys, monkeypatch):
    write_files(tmp_path / "m", {"main.tf": 'variable "admin_cidr" { default = "10.0.0.0/8" }\n' + RDP_RULE})
    (tmp_path / "open.tfvars").write_text('admin_cidr = "::/0"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["check", "m"]) == 0
    assert main(["check", "m", "--var-file", "open.tfvars"]) == 1
    assert "from ::/0" in capsys.readouterr().out
    assert main(["check", "m", "--var-file", "open.tfvars", "--var", "admin_cidr=10.1.0.0/16"]) == 0
    assert main(["check", "m", "--var", "admin_cidr=0.0.0.0/0"]) == 1
    out = capsys.readouterr().out
    assert "[value from var.admin_cidr; variables from --var admin_cidr]" in out


def test_unknown_values_are_never_the_world(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"main.tf": 'variable "admin_cidr" {}\ndata "aws_vpc" "v" {}\n' + RDP_RULE.replace(
        "[var.admin_cidr]", "[var.admin_cidr, data.aws_vpc.v.cidr_block]")})
    monkeypatch.chdir(tmp_path)
    assert main(["check", ".", "--format", "json", "--severity", "info"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule_id"], f["severity"], f["cidr"]) for f in findings] == [
        ("WPL001", "info", "cidr_blocks is not known before apply")]
    assert findings[0]["provenance"][-1] == {"field": "cidr_blocks", "kind": "unknown",
                                             "detail": "cidr_blocks is not known before apply", "line": 9,
                                             "column": 3}


def test_modules_called_by_another_folder_are_read_through_their_caller():
    result = lint([CASES / "WPL101/bad/tf-module"])
    assert _rows(result) == [("WPL101", "module.bastion.aws_security_group.rdp", "0.0.0.0/0", 11)]
    assert "via module.bastion (" in result.findings[0].message
    alone = lint([CASES / "WPL101/bad/tf-module/modules/bastion"])  # on its own: the input is unknown
    assert [(f.rule_id, f.permission.peer.kind) for f in alone.findings] == [("WPL001", "unknown")]


BAD_MODULES = {
    "syntax": {"main.tf": 'resource "aws_security_group" "x" {\n  ingress {\n    from_port = \n  }\n'},
    "nowhere": {"main.tf": 'module "m" {\n  source = "./does-not-exist"\n}\n'},
    "cycle": {"main.tf": 'module "m" {\n  source = "./m"\n}\n', "m/main.tf": 'module "back" {\n  source = "../"\n}\n'},
    "good": {"main.tf": 'variable "admin_cidr" { default = "0.0.0.0/0" }\n' + RDP_RULE},
    "plan": {"plan.json": '{"format_version": "1.2", "planned_values": {"root_module": {"resources": [}}'},
}


def test_bad_modules_are_errors_with_file_and_line_and_the_rest_is_checked(tmp_path, capsys, monkeypatch):
    for name, files in BAD_MODULES.items():
        write_files(tmp_path / name, files)
    monkeypatch.chdir(tmp_path)
    code = main(["check", "."])
    lines = capsys.readouterr().out.splitlines()
    assert code == 2
    assert lines == [
        "good/main.tf:8:3: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on "
        "aws_security_group_rule.rdp: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs) "
        "[value from var.admin_cidr]",
        "cycle/m/main.tf:1: error: module \"back\": module cycle (cycle -> cycle/m -> cycle)",
        "cycle/main.tf:1: error: module \"m\": module cycle (cycle/m -> cycle -> cycle/m)",
        "nowhere/main.tf:1: error: module \"m\": source ./does-not-exist does not exist",
        "plan/plan.json:1: error: invalid plan JSON: Expecting value",
        "syntax/main.tf:3: error: invalid HCL: no value after '='; the module is read without this file",
        "1 finding (1 critical) in 6 files; 5 input errors",
        "see: winportlint explain WPL101",
    ]


def test_plan_json_with_unknown_values(tmp_path):
    plan = {
        "format_version": "1.2",
        "resource_changes": [
            {"address": "aws_security_group.rdp", "mode": "managed", "type": "aws_security_group",
             "change": {"actions": ["create"],
                        "after": {"ingress": [
                            {"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]},
                            {"from_port": 445, "to_port": 445, "protocol": "tcp", "cidr_blocks": [None]}]},
                        "after_unknown": {"ingress": [{}, {"cidr_blocks": [True]}]}}},
            {"address": "module.m.aws_vpc_security_group_ingress_rule.all[0]", "mode": "managed",
             "type": "aws_vpc_security_group_ingress_rule",
             "change": {"actions": ["create"], "after": {"ip_protocol": "-1", "cidr_ipv6": "::/0"},
                        "after_unknown": {"security_group_id": True}}},
            {"address": "aws_security_group.gone", "mode": "managed", "type": "aws_security_group",
             "change": {"actions": ["delete"], "after": None}},
        ],
    }
    path = tmp_path / "tfplan.json"
    path.write_text(json.dumps(plan, indent=1))
    result = lint([path], select=["WPL001", "WPL101"])
    assert result.errors == []
    # A plan carries no source lines: findings point at the line naming the resource.
    assert [(f.rule_id, f.permission.resource, f.permission.peer.text, f.location.line) for f in result.findings] == [
        ("WPL001", "aws_security_group.rdp", "cidr_blocks is not known before apply", 5),
        ("WPL101", "aws_security_group.rdp", "0.0.0.0/0", 5),
        ("WPL101", "module.m.aws_vpc_security_group_ingress_rule.all[0]", "::/0", 45),
    ]


def _terraform_environment(tmp_path: Path) -> dict[str, str] | None:
    mirror = Path("/opt/tf-plugins")
    if shutil.which("terraform") is None or not (mirror / "registry.terraform.io/hashicorp/aws").is_dir():
        return None
    rc = tmp_path / "cli.tfrc"
    rc.write_text('provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n'
                  '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' % mirror)
    return {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
            "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE", "AWS_SECRET_ACCESS_KEY": "fake"}


def test_a_real_terraform_plan_built_offline(tmp_path):
    environment = _terraform_environment(tmp_path)
    if environment is None:
        pytest.skip("no terraform binary with a local AWS provider mirror (/opt/tf-plugins) on this machine")
    module = write_files(tmp_path / "stack", {"main.tf": """
provider "aws" {
  region                      = "us-east-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
variable "admin_cidr" { default = "0.0.0.0/0" }
resource "aws_security_group" "rdp" {
  name   = "rdp"
  vpc_id = "vpc-0123456789abcdef0"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }
}
resource "aws_security_group_rule" "smb" {
  type              = "ingress"
  from_port         = 445
  to_port           = 445
  protocol          = "tcp"
  ipv6_cidr_blocks  = ["::/0"]
  security_group_id = aws_security_group.rdp.id
}
"""})
    for command in (["init", "-backend=false", "-input=false"],
                    ["plan", "-input=false", "-refresh=false", "-out=plan.bin"]):
        done = subprocess.run(["terraform", *command], cwd=module, env=environment, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
    shown = subprocess.run(["terraform", "show", "-json", "plan.bin"], cwd=module, env=environment,
                           capture_output=True, text=True, timeout=120, check=True)
    (module / "plan.json").write_text(shown.stdout)
    result = lint([module / "plan.json"])
    assert result.errors == []
    # The plan sits in its configuration folder: findings point at the .tf source.
    assert [(f.rule_id, f.permission.resource, f.location.file.split("/")[-1], f.location.line,
             f.location.column) for f in result.findings] == [
        ("WPL101", "aws_security_group.rdp", "main.tf", 17, 5),
        ("WPL102", "aws_security_group_rule.smb", "main.tf", 25, 24),
    ]


def test_a_large_module_evaluated_in_slices_gives_what_one_evaluation_gives(tmp_path, monkeypatch):
    """Slicing (plugins/terraform/chunking.py) must not change a single finding."""
    from winportlint.plugins.terraform import chunking

    module = tmp_path / "big"
    write_files(module, {
        "shared.tf": 'variable "world" { default = "0.0.0.0/0" }\nlocals {\n  ports = { rdp = 3389, smb = 445 }\n}\n'
                     'module "m" {\n  source = "./modules/m"\n  c      = var.world\n}\n',
        "modules/m/main.tf": 'variable "c" {}\nresource "aws_security_group" "m" {\n  ingress {\n    from_port = 5985\n'
                             '    to_port = 5985\n    protocol = "tcp"\n    cidr_blocks = [var.c]\n  }\n}\n',
    })
    for index in range(12):
        groups = []
        for group in range(6):
            cidr = "var.world" if (index + group) % 4 == 0 else '"10.0.0.0/8"'
            groups.append(
                f'resource "aws_security_group" "f{index}_g{group}" {{\n  dynamic "ingress" {{\n'
                f'    for_each = local.ports\n    content {{\n      from_port   = ingress.value\n'
                f'      to_port     = ingress.value\n      protocol    = "tcp"\n      cidr_blocks = [{cidr}]\n'
                f'    }}\n  }}\n}}\n'
                f'resource "aws_security_group_rule" "f{index}_half{group}" {{\n  type = "ingress"\n'
                f'  from_port = 3389\n  to_port = 3389\n  protocol = "tcp"\n'
                f'  cidr_blocks = ["{"0.0.0.0/1" if group % 2 else "128.0.0.0/1"}"]\n'
                f'  security_group_id = aws_security_group.f{index}_g{group - group % 2}.id\n}}\n')
        (module / f"f{index:02d}.tf").write_text("\n".join(groups))

    def findings(limit):
        monkeypatch.setattr(chunking, "WORK_LIMIT", limit)
        monkeypatch.setattr(chunking, "SLICE_BLOCKS", 10)
        result = lint([module], select=["WPL1"])
        assert result.errors == []
        return [(f.rule_id, f.permission.resource, f.permission.peer.text, f.location) for f in result.findings]

    whole, sliced = findings(10**12), findings(0)
    assert len(whole) == 109 and sliced == whole


def test_a_malformed_plan_is_an_error_not_a_crash(tmp_path):
    # Found by fuzzing: entries of the wrong type raised AttributeError.
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"format_version": "1.2", "resource_changes": [
        "not an object",
        {"address": "aws_security_group.x", "type": "aws_security_group", "change": ["wrong"]},
        {"address": "aws_security_group.y", "type": "aws_security_group",
         "change": {"after": {"ingress": "wrong", "egress": [{"protocol": "-1", "cidr_blocks": [7]}]}}},
    ]}))
    result = lint([path], select=["WPL"])
    assert [(e.line, e.message) for e in result.errors] == [(1, "malformed plan: resource_changes[0] is not an object")]
    assert [(f.rule_id, f.permission.peer.kind) for f in result.findings] == []


# -- issue #15: WPL001 names what is unknown; CIDRs the provider rejects are input errors ---------

UNKNOWNS = """\
variable "kind" {}
variable "port" {}
variable "bastion" {}
resource "aws_security_group_rule" "either" {
  type              = var.kind
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = "sg-0123456789abcdef0"
}
resource "aws_security_group_rule" "port" {
  type              = "ingress"
  from_port         = var.port
  to_port           = var.port
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = "sg-0123456789abcdef0"
}
resource "aws_security_group_rule" "bastion" {
  type                     = "ingress"
  from_port                = 3389
  to_port                  = 3389
  protocol                 = "tcp"
  source_security_group_id = var.bastion
  security_group_id        = "sg-0123456789abcdef0"
}
"""


def test_wpl001_names_the_unknown_type_or_port_not_the_literal_world_source(tmp_path, capsys):
    write_files(tmp_path, {"main.tf": UNKNOWNS})
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings[0] == (
        "main.tf:9:24: WPL001 info 3389/tcp on aws_security_group_rule.either may be open to the internet: type "
        "unknown (var.kind has no known value); from 0.0.0.0/0 (the whole internet) this opens 3389/tcp RDP (open "
        "by default in the Windows Server 2012 R2 to 2022 AMIs) [value from var.kind]")
    assert findings[1].startswith(
        "main.tf:17:24: WPL001 info aws_security_group_rule.port is open to 0.0.0.0/0 (the whole internet) on a "
        "port not known before deployment: var.port has no known value; it may be 135/tcp RPC, 137-138/udp and "
        "139/tcp NetBIOS, 445/tcp SMB, ")
    assert len(findings) == 2  # a source group id is never a CIDR, known or not


def test_a_cidr_the_provider_rejects_is_an_input_error_at_its_line(tmp_path, capsys):
    write_files(tmp_path, {"main.tf": """\
resource "aws_security_group" "admin" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0/0", "0.0.0.0/0"]
  }
  ingress {
    from_port        = 5985
    to_port          = 5985
    protocol         = "tcp"
    ipv6_cidr_blocks = ["::/0%eth0", "10.0.0.0/8"]  # the provider takes either family here
  }
}
resource "aws_vpc_security_group_ingress_rule" "smb" {
  security_group_id = aws_security_group.admin.id
  from_port         = 445
  to_port           = 445
  ip_protocol       = "tcp"
  cidr_ipv4         = "10.0.0.1/8"
}
"""})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert code == 2
    assert [line.split(" open from ")[0] for line in findings] == ["main.tf:6:27: WPL101 critical 3389/tcp"]
    assert errors == [
        "main.tf:6: error: aws_security_group.admin: cidr_blocks '0/0' is not a valid IPv4 CIDR: AWS rejects it",
        "main.tf:12: error: aws_security_group.admin: ipv6_cidr_blocks '::/0%eth0' is not a valid IPv6 CIDR: AWS "
        "rejects it",
        "main.tf:20: error: aws_vpc_security_group_ingress_rule.smb: cidr_ipv4 '10.0.0.1/8' has host bits set (the "
        "network is 10.0.0.0/8): cfn-lint and the Terraform provider reject it",
    ]


def test_rules_counted_over_a_list_are_each_read_when_the_count_is_known_only_at_apply(tmp_path, capsys):
    """The count depends on a data source: the evaluator gives element 0 only, the rest are read from the list."""
    write_files(tmp_path, {"main.tf": """\
data "aws_availability_zones" "available" {}

variable "rules" {
  default = [
    { port = 80, cidr = "0.0.0.0/0" },
    { port = 3389, cidr = "0.0.0.0/0" },
    { port = 5985, cidr = "10.0.0.0/8" },
  ]
}

resource "aws_security_group_rule" "admin" {
  count             = length(data.aws_availability_zones.available.names) > 0 ? length(var.rules) : 0
  security_group_id = "sg-0123456789abcdef0"
  type              = "ingress"
  protocol          = "tcp"
  from_port         = var.rules[count.index].port
  to_port           = var.rules[count.index]["port"]
  cidr_blocks       = [var.rules[count.index].cidr]
}
"""})
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [
        "main.tf:18:3: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on "
        "aws_security_group_rule.admin[1]: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs) "
        "[value from var.rules; count.index from element 1 of var.rules (the count is known only at apply)]",
    ]
