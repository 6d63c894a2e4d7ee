"""Terraform files one by one: an invalid file is its own error and hides nothing of its
module; OpenTofu's ``.tofu`` files are read, and replace the ``.tf`` files of their name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import write_files
from winportlint.cli import main

REPO = Path(__file__).resolve().parents[1]
#: A world-open RDP rule whose CIDR comes from a variable's default, through for_each.
NETWORK = """\
variable "admin_cidrs" {
  default = ["0.0.0.0/0"]
}

resource "aws_security_group" "windows" {
  name = "windows"
}

resource "aws_vpc_security_group_ingress_rule" "rdp" {
  for_each          = toset(var.admin_cidrs)
  security_group_id = aws_security_group.windows.id
  ip_protocol       = "tcp"
  from_port         = 3389
  to_port           = 3389
  cidr_ipv4         = each.value
}
"""
#: A file that is HCL only once a template engine has rendered it.
JINJA = """\
resource "aws_instance" "linux" {
  ami = "ami-0123456789abcdef0"
{% if public %}
  associate_public_ip_address = true
{% endif %}
}
"""
FINDING = ("{file}:15:3: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on "
           'aws_vpc_security_group_ingress_rule.rdp["0.0.0.0/0"]: 3389/tcp RDP (open by default in the '
           "Windows Server 2012 R2 to 2022 AMIs) [value from var.admin_cidrs{extra}]")
WITHOUT = "the module is read without this file"


def check(folder: Path, capsys, monkeypatch) -> tuple[int, list[str]]:
    monkeypatch.chdir(folder)
    code = main(["check", "--no-cache", "."])
    return code, capsys.readouterr().out.splitlines()


def test_a_jinja_templated_sibling_is_an_error_and_the_world_open_rule_beside_it_is_found(tmp_path, capsys,
                                                                                         monkeypatch):
    write_files(tmp_path, {"win/network.tf": NETWORK, "win/linux.tf": JINJA})
    code, lines = check(tmp_path, capsys, monkeypatch)
    assert code == 2
    assert lines == [
        FINDING.format(file="win/network.tf", extra="; values from the module read without win/linux.tf (invalid)"),
        f"win/linux.tf:3: error: invalid HCL: unexpected '{{% if public %}}'; {WITHOUT}",
        "1 finding (1 critical) in 2 files; 1 input error",
        "see: winportlint explain WPL101",
    ]


def test_two_broken_files_in_one_folder_are_two_errors(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"win/network.tf": NETWORK, "win/a.tf": JINJA,
                           "win/b.tf": 'resource "aws_eip" "ip" {\n  domain = \n}\n'})
    code, lines = check(tmp_path, capsys, monkeypatch)
    assert code == 2
    assert lines == [
        FINDING.format(file="win/network.tf", extra="; values from the module read without win/a.tf, win/b.tf "
                                                    "(invalid)"),
        f"win/a.tf:3: error: invalid HCL: unexpected '{{% if public %}}'; {WITHOUT}",
        f"win/b.tf:2: error: invalid HCL: no value after '='; {WITHOUT}",
        "1 finding (1 critical) in 3 files; 2 input errors",
        "see: winportlint explain WPL101",
    ]


def test_bare_map_entries_outside_any_block_are_errors_wherever_they_are(tmp_path, capsys, monkeypatch):
    # Alone in a folder (the evaluator passes such a file in silence) and beside a module.
    write_files(tmp_path, {"amis/regions.tf": '"us-east-1" = "ami-1"\n"eu-west-1" = "ami-2"\n',
                           "amis/names.tf": 'windows = "ami-3"\n',
                           "win/network.tf": NETWORK, "win/amis.tf": 'us-east-1 = "ami-1"\n'})
    code, lines = check(tmp_path, capsys, monkeypatch)
    assert code == 2
    assert lines == [
        FINDING.format(file="win/network.tf", extra="; values from the module read without win/amis.tf (invalid)"),
        "amis/names.tf:1: error: invalid Terraform: argument 'windows' outside any block (only blocks are "
        f"taken at the top level of a file); {WITHOUT}",
        f"amis/regions.tf:1: error: invalid HCL: unexpected '\"us-east-1\" = \"ami-1\"'; {WITHOUT}",
        "win/amis.tf:1: error: invalid Terraform: argument 'us-east-1' outside any block (only blocks are "
        f"taken at the top level of a file); {WITHOUT}",
        "1 finding (1 critical) in 4 files; 3 input errors",
        "see: winportlint explain WPL101",
    ]


def test_an_invalid_json_file_is_an_error_and_its_module_is_still_read(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"win/network.tf": NETWORK, "win/extra.tf.json": '{"locals": {"a": 1},\n"x": }\n',
                           "win/list.tf.json": "[]\n"})
    code, lines = check(tmp_path, capsys, monkeypatch)
    assert code == 2
    assert lines == [
        FINDING.format(file="win/network.tf", extra="; values from the module read without win/extra.tf.json, "
                                                    "win/list.tf.json (invalid)"),
        f"win/extra.tf.json:2: error: invalid JSON: Expecting value; {WITHOUT}",
        f"win/list.tf.json:1: error: invalid Terraform JSON: the top level must be an object; {WITHOUT}",
        "1 finding (1 critical) in 3 files; 2 input errors",
        "see: winportlint explain WPL101",
    ]


def test_a_broken_file_of_a_called_module_is_an_error_and_the_call_is_still_read(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"root/main.tf": 'module "win" {\n  source = "./win"\n}\n',
                           "root/win/network.tf": NETWORK, "root/win/linux.tf": JINJA})
    code, lines = check(tmp_path, capsys, monkeypatch)
    assert code == 2
    assert lines[0].startswith("root/win/network.tf:15:3: WPL101 critical 3389/tcp open from 0.0.0.0/0")
    assert lines[0].endswith("[value from var.admin_cidrs; via module.win (root/main.tf:1); values from the module "
                             "read without root/win/linux.tf (invalid)]")
    assert lines[1:] == [f"root/win/linux.tf:3: error: invalid HCL: unexpected '{{% if public %}}'; {WITHOUT}",
                         "1 finding (1 critical) in 3 files; 1 input error", "see: winportlint explain WPL101"]


def test_a_valid_folder_is_read_as_before(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"win/network.tf": NETWORK, "win/linux.tf": JINJA.replace("{% if public %}\n", "")
                           .replace("{% endif %}\n", "")})
    code, lines = check(tmp_path, capsys, monkeypatch)
    assert (code, lines) == (1, [FINDING.format(file="win/network.tf", extra=""), "1 finding (1 critical) in 2 files",
                                 "see: winportlint explain WPL101"])


def test_a_fix_of_the_broken_file_is_seen_by_a_cached_run(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"win/network.tf": NETWORK, "win/linux.tf": JINJA})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "win"]) == 2
    capsys.readouterr()
    (tmp_path / "win" / "linux.tf").write_text('resource "aws_eip" "ip" {}\n')
    assert main(["check", "win"]) == 1
    assert capsys.readouterr().out.splitlines() == [FINDING.format(file="win/network.tf", extra=""),
                                                    "1 finding (1 critical) in 2 files",
                                                    "see: winportlint explain WPL101"]


def test_a_tofu_file_added_beside_a_tf_file_is_seen_by_a_cached_run(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"win/network.tf": NETWORK})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "win"]) == 1
    (tmp_path / "win" / "network.tofu").write_text(NETWORK.replace('["0.0.0.0/0"]', '["10.0.0.0/8"]'))
    assert main(["check", "win"]) == 0


def test_a_tofu_module_is_read(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"win/main.tofu": NETWORK})
    code, lines = check(tmp_path, capsys, monkeypatch)
    assert (code, lines) == (1, [FINDING.format(file="win/main.tofu", extra=""), "1 finding (1 critical) in 1 file",
                                 "see: winportlint explain WPL101"])


@pytest.mark.parametrize("json_syntax", [False, True])
def test_a_tofu_file_replaces_the_tf_file_of_its_name(tmp_path, capsys, monkeypatch, json_syntax):
    closed = NETWORK.replace('["0.0.0.0/0"]', '["10.0.0.0/8"]')
    tf, tofu = ("main.tf.json", "main.tofu.json") if json_syntax else ("main.tf", "main.tofu")
    if json_syntax:  # the same rule in JSON syntax, its CIDR on line 5
        open_rule = ('{"resource": {"aws_vpc_security_group_ingress_rule": {"rdp": {\n'
                     '  "security_group_id": "sg-0123456789abcdef0",\n'
                     '  "ip_protocol": "tcp",\n  "from_port": 3389, "to_port": 3389,\n'
                     '  "cidr_ipv4": "0.0.0.0/0"\n}}}}\n')
        closed_rule = open_rule.replace("0.0.0.0/0", "10.0.0.0/8")
    else:
        open_rule, closed_rule = NETWORK, closed
    # The .tf file has the exposure, the .tofu file that replaces it does not: nothing is found.
    write_files(tmp_path, {f"a/{tf}": open_rule, f"a/{tofu}": closed_rule, "a/other.tf": "locals {}\n"})
    # And the other way round: the exposure is found, in the .tofu file.
    write_files(tmp_path, {f"b/{tf}": closed_rule, f"b/{tofu}": open_rule})
    code, lines = check(tmp_path, capsys, monkeypatch)
    assert code == 1
    assert len(lines) == 3 and lines[1:] == ["1 finding (1 critical) in 5 files", "see: winportlint explain WPL101"]
    assert re.match(rf"b/{re.escape(tofu)}:\d+:\d+: WPL101 critical 3389/tcp open from 0\.0\.0\.0/0", lines[0]), lines


def test_the_pre_commit_hook_passes_opentofu_files():
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    pattern = re.compile(hooks["winportlint"]["files"])
    assert all(pattern.search(name) for name in ("main.tofu", "infra/rules.tofu.json", "main.tf", "a.tf.json"))
    assert not pattern.search("main.tofu.bak")


@pytest.mark.parametrize(("name", "source", "error"), [
    ("object.tf", '# generated\n{\n  "resource": {}\n}\n',
     (2, "invalid HCL: an argument or block is required here, not an object")),
    ("label.tf", 'resource "aws_instance" "web_${var.n}" {\n}\n',
     (1, 'invalid HCL: block label "web_${var.n}" holds a template (labels are plain strings)')),
    ("unclosed.tf", 'locals {\n  a = 1\n\nresource "aws_eip" "ip" {\n}\n',
     (1, "invalid HCL: unclosed block, no closing '}'")),
    ("empty.tf.json", "", (1, "invalid JSON: Expecting value")),
    ("binary.tf.json", b"\xff\xfe{}", (1, "invalid JSON: not UTF-8 text")),
    # Valid files: comments before the first block, escaped templates in labels, functions
    # of providers, numbers with a bare exponent, heredocs, splats, for expressions.
    ("comments.tf", '# a\n// b\n/* c */\nlocals {\n  a = 1e3\n}\n', None),
    ("escaped.tf", 'resource "aws_instance" "web_$${x}" {\n}\n', None),
    ("expressions.tf", 'locals {\n  a = provider::aws::arn_parse("x")\n  b = <<-EOT\n    ${local.c}\n    EOT\n'
                       '  c = local.m[*].id\n  d = { for k, v in local.m : k => v... }\n  e = concat(local.l...)\n}\n',
     None),
    ("module.tofu.json", '{"locals": {"a": 1}}', None),
])
def test_each_file_is_checked_on_its_own(name, source, error):
    from winportlint.plugins.terraform.syntax import syntax_error

    data = source if isinstance(source, bytes) else source.encode()
    found = syntax_error(name, data)
    expected = None if error is None else (error[0], f"{error[1]}; {WITHOUT}")
    assert (None if found is None else (found.line, found.message)) == expected
