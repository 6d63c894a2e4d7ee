"""Terraform fixes (issue #20): the exception, the restriction and the removal written where
the grammar reads them and where the value is written (the rule, a variable's default, a
variable file, a module call's argument, a local), every other byte kept; each fix made on a
copy of the module, which is read again: the finding is gone and nothing else changed."""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from conftest import CORPUS, REPO, lint

from winportlint import fixes
from winportlint.cli import main
from winportlint.model import Finding, Fix, FixRequest
from winportlint.plugin_manager import load_plugins

RESTRICT = FixRequest("restrict", ("203.0.113.0/24", "2001:db8::/32"))
ACCEPT = FixRequest("accept", reason="jump host, SEC-7", owner="platform", expires="2027-01-31")
REMOVE = FixRequest("remove")


def module(folder: Path, files: dict[str, str | bytes]) -> Path:
    """The files written byte for byte below ``folder`` (text as UTF-8, its line ends kept)."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


def offered(folder: Path, *asked: FixRequest, select=()) -> list[Finding]:
    """The findings of the module with the fixes the Terraform format offers, in finding order."""
    found = lint([folder], select)
    assert found.errors == []
    return sorted(fixes.attach(found.findings, load_plugins().formats, asked), key=Finding.sort_key)


def titles(findings: list[Finding]) -> list[tuple[str, str, list[str]]]:
    return [(f.rule_id, f.permission.peer.text, [f"{fix.applicability}: {fix.title}" for fix in f.fixes])
            for f in findings]


def made(folder: Path, fix: Fix, copy: Path) -> dict[str, bytes]:
    """The module copied to ``copy`` with the fix's edits made there; the patched files' bytes by
    their path relative to the module (every edit must lie in the module)."""
    shutil.copytree(folder, copy)
    by_file: dict[str, list] = {}
    for edit in fix.edits:
        relative = os.path.relpath(edit.file, folder)
        assert not relative.startswith(".."), edit
        by_file.setdefault(relative, []).append(edit)
    patched = {}
    for relative, edits in by_file.items():
        patched[relative] = fixes.applied((folder / relative).read_bytes(), edits)
        (copy / relative).write_bytes(patched[relative])
    return patched


def verified(folder: Path, finding: Finding, fix: Fix, copy: Path) -> dict[str, bytes]:
    """:func:`made`, then the copy read again: it reads without error, the finding is gone and no
    finding is new (the fix may end others that read the same value)."""
    patched = made(folder, fix, copy)
    before = Counter(map(fixes.key, lint([folder]).findings))
    after = lint([copy])
    assert after.errors == []
    left = Counter(map(fixes.key, after.findings))
    assert fixes.key(finding) not in left
    assert left - before == Counter()
    return patched


def diff(folder: Path, patched: dict[str, bytes]) -> str:
    return "".join(fixes.unified_diff(name, (folder / name).read_bytes(), data)
                   for name, data in sorted(patched.items()))


RULES = """\
resource "aws_security_group" "jump" {
  name = "jump"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8",\t"0.0.0.0/0"] # rdp, and the office
  }
}

resource "aws_security_group" "listed" {
  name = "listed"
  ingress = [{
    from_port = 5985, to_port = 5985, protocol = "tcp", description = ""
    cidr_blocks = [ '0.0.0.0/0' ], ipv6_cidr_blocks = ["::/0"]
    prefix_list_ids = [], security_groups = [], self = false
  }]
}

resource "aws_security_group_rule" "smb" {
  type              = "ingress"
  security_group_id = aws_security_group.jump.id
  from_port         = 445
  to_port           = 445
  protocol          = "tcp"
  cidr_blocks       = [
    "0.0.0.0/0", // the world
  ]
}

resource "aws_vpc_security_group_ingress_rule" "winrm" {
  security_group_id = aws_security_group.jump.id
  ip_protocol       = "tcp"
  from_port         = 5986
  to_port           = 5986
  cidr_ipv4         = "0.0.0.0/0"
}
""".replace("'", '"')


def test_restrict_replaces_the_world_literal_in_each_kind_of_rule_and_nothing_else(tmp_path):
    folder = module(tmp_path / "m", {"main.tf": RULES})
    found = offered(folder, RESTRICT)
    assert titles(found) == [
        ("WPL101", "0.0.0.0/0", ["unsafe: Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_security_group.jump"]),
        ("WPL103", "0.0.0.0/0", ["unsafe: Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_security_group.listed"]),
        ("WPL103", "::/0", ["unsafe: Restrict ::/0 to 2001:db8::/32 on aws_security_group.listed"]),
        ("WPL102", "0.0.0.0/0", ["unsafe: Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_security_group_rule.smb"]),
        ("WPL103", "0.0.0.0/0",
         ["unsafe: Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_vpc_security_group_ingress_rule.winrm"]),
    ]
    every = Fix("all", "unsafe", tuple(edit for finding in found for edit in finding.fixes[0].edits))
    patched = made(folder, every, tmp_path / "fixed")
    assert diff(folder, patched) == """\
--- a/main.tf
+++ b/main.tf
@@ -4,7 +4,7 @@
     from_port   = 3389
     to_port     = 3389
     protocol    = "tcp"
-    cidr_blocks = ["10.0.0.0/8",\t"0.0.0.0/0"] # rdp, and the office
+    cidr_blocks = ["10.0.0.0/8",\t"203.0.113.0/24"] # rdp, and the office
   }
 }
 
@@ -12,7 +12,7 @@
   name = "listed"
   ingress = [{
     from_port = 5985, to_port = 5985, protocol = "tcp", description = ""
-    cidr_blocks = [ "0.0.0.0/0" ], ipv6_cidr_blocks = ["::/0"]
+    cidr_blocks = [ "203.0.113.0/24" ], ipv6_cidr_blocks = ["2001:db8::/32"]
     prefix_list_ids = [], security_groups = [], self = false
   }]
 }
@@ -24,7 +24,7 @@
   to_port           = 445
   protocol          = "tcp"
   cidr_blocks       = [
-    "0.0.0.0/0", // the world
+    "203.0.113.0/24", // the world
   ]
 }
 
@@ -33,5 +33,5 @@
   ip_protocol       = "tcp"
   from_port         = 5986
   to_port           = 5986
-  cidr_ipv4         = "0.0.0.0/0"
+  cidr_ipv4         = "203.0.113.0/24"
 }
"""
    after = lint([tmp_path / "fixed"])
    assert (after.findings, after.errors) == ([], [])


def test_each_restriction_alone_ends_its_finding_and_adds_none(tmp_path):
    folder = module(tmp_path / "m", {"main.tf": RULES})
    for number, finding in enumerate(offered(folder, RESTRICT)):
        verified(folder, finding, finding.fixes[0], tmp_path / f"fixed{number}")


def test_an_ipv6_world_without_an_ipv6_source_is_display_only(tmp_path):
    folder = module(tmp_path / "m", {"main.tf": RULES})
    found = offered(folder, FixRequest("restrict", ("203.0.113.0/24",)), select=["WPL103"])
    assert [fix.title for fix in found[1].fixes] == [
        "Restrict ::/0 on aws_security_group.listed: no IPv6 admin source is configured ([tool.winportlint.fix] "
        "cidrs)"]
    assert found[1].fixes[0].applicability == "display-only"


VARIABLES = """\
variable "admin" {
  type    = list(string)
  default = ["0.0.0.0/0"] # for now
  validation {
    condition     = alltrue([for cidr in var.admin : can(cidrnetmask(cidr))])
    error_message = "CIDRs only."
  }
}

variable "everyone" {
  default = "0.0.0.0/0"
}
"""

USES = """\
resource "aws_security_group" "jump" {
  name = "jump"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = var.admin
  }
}

resource "aws_vpc_security_group_ingress_rule" "winrm" {
  security_group_id = aws_security_group.jump.id
  ip_protocol       = "tcp"
  from_port         = 5985
  to_port           = 5985
  cidr_ipv4         = var.everyone
}

resource "aws_vpc_security_group_ingress_rule" "smb" {
  security_group_id = aws_security_group.jump.id
  ip_protocol       = "tcp"
  from_port         = 445
  to_port           = 445
  cidr_ipv4         = "${var.everyone}"
}
"""


def test_a_variable_only_this_rule_uses_is_restricted_at_its_default_in_another_file(tmp_path):
    folder = module(tmp_path / "m", {"main.tf": USES, "variables.tf": VARIABLES})
    (finding, *_) = offered(folder, RESTRICT, select=["WPL101"])
    assert [fix.title for fix in finding.fixes] == ["Restrict variable admin's default 0.0.0.0/0 to 203.0.113.0/24"]
    patched = verified(folder, finding, finding.fixes[0], tmp_path / "fixed")
    assert patched == {"variables.tf": VARIABLES.replace('["0.0.0.0/0"]', '["203.0.113.0/24"]').encode()}


def test_a_variable_other_rules_use_is_display_only_and_names_the_uses(tmp_path):
    folder = module(tmp_path / "m", {"main.tf": USES, "variables.tf": VARIABLES})
    assert titles(offered(folder, RESTRICT, select=["WPL102", "WPL103"])) == [
        ("WPL103", "0.0.0.0/0", ["display-only: Restrict 0.0.0.0/0 to 203.0.113.0/24 on "
                                 "aws_vpc_security_group_ingress_rule.winrm: var.everyone is shared (used at "
                                 "main.tf:16, main.tf:24); give this rule a value of its own"]),
        ("WPL102", "0.0.0.0/0", ["display-only: Restrict 0.0.0.0/0 to 203.0.113.0/24 on "
                                 "aws_vpc_security_group_ingress_rule.smb: var.everyone is shared (used at "
                                 "main.tf:16, main.tf:24); give this rule a value of its own"]),
    ]


def test_the_last_variable_file_that_sets_the_variable_is_edited_as_terraform_reads_them(tmp_path):
    folder = module(tmp_path / "m", {
        "main.tf": USES.split("\n\n")[0] + "\n", "variables.tf": VARIABLES,
        "terraform.tfvars": 'admin = ["0.0.0.0/0"]\n',
        "b.auto.tfvars": "# the vendor's\nadmin = [\n  \"10.0.0.0/8\",\n  \"0.0.0.0/0\",\n]\n",
        "a.auto.tfvars": 'admin = ["192.0.2.0/24"]\n'})
    (finding,) = offered(folder, RESTRICT)
    assert [fix.title for fix in finding.fixes] == ["Restrict admin 0.0.0.0/0 to 203.0.113.0/24 in b.auto.tfvars"]
    patched = verified(folder, finding, finding.fixes[0], tmp_path / "fixed")
    assert patched == {"b.auto.tfvars": b"# the vendor's\nadmin = [\n  \"10.0.0.0/8\",\n  \"203.0.113.0/24\",\n]\n"}


def test_a_json_variable_file_entry_is_edited_in_its_string(tmp_path):
    folder = module(tmp_path / "m", {"main.tf": USES.split("\n\n")[0] + "\n", "variables.tf": VARIABLES,
                                     "prod.auto.tfvars.json": '{\r\n  "admin": ["0.0.0.0/0"]\r\n}\r\n'})
    (finding,) = offered(folder, RESTRICT)
    assert [fix.title for fix in finding.fixes] == [
        "Restrict admin 0.0.0.0/0 to 203.0.113.0/24 in prod.auto.tfvars.json"]
    patched = verified(folder, finding, finding.fixes[0], tmp_path / "fixed")
    assert patched == {"prod.auto.tfvars.json": b'{\r\n  "admin": ["203.0.113.0/24"]\r\n}\r\n'}


def test_a_value_from_the_environment_or_computed_is_display_only_and_says_where_it_comes_from(tmp_path,
                                                                                                monkeypatch):
    folder = module(tmp_path / "m", {"main.tf": USES.split("\n\n")[0].replace("var.admin", "local.world") + """
locals {
  world = [join("/", ["0.0.0.0", "0"])]
}
""" + USES.split("\n\n")[1] + "\n", "variables.tf": VARIABLES})
    monkeypatch.setenv("TF_VAR_everyone", "0.0.0.0/0")
    assert titles(offered(folder, RESTRICT)) == [
        ("WPL101", "0.0.0.0/0", ['display-only: Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_security_group.jump: '
                                 'it is computed ([join("/", ["0.0.0.0", "0"])]); change what it is computed from']),
        ("WPL103", "0.0.0.0/0", ["display-only: Restrict 0.0.0.0/0 to 203.0.113.0/24 on "
                                 "aws_vpc_security_group_ingress_rule.winrm: var.everyone is set by TF_VAR_everyone "
                                 "in the environment; change it there"]),
    ]


def test_a_local_only_this_rule_uses_is_restricted_where_it_is_set(tmp_path):
    folder = module(tmp_path / "m", {"main.tf": USES.split("\n\n")[0].replace("var.admin", "local.admin") +
                                     '\n\nlocals {\n  admin = ["0.0.0.0/0"]\n}\n'})
    (finding,) = offered(folder, RESTRICT)
    assert [fix.title for fix in finding.fixes] == ["Restrict local.admin 0.0.0.0/0 to 203.0.113.0/24"]
    patched = verified(folder, finding, finding.fixes[0], tmp_path / "fixed")
    assert patched["main.tf"].endswith(b'locals {\n  admin = ["203.0.113.0/24"]\n}\n')


CALLED = """\
variable "cidr" {
  type = string
}

resource "aws_security_group" "rdp" {
  name = "rdp"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }
}
"""


def test_a_local_module_is_restricted_at_its_callers_argument(tmp_path):
    folder = module(tmp_path / "m", {"modules/rdp/main.tf": CALLED, "main.tf": """\
module "edge" {
  source = "./modules/rdp"
  cidr   = "0.0.0.0/0" # open for the vendor
}
"""})
    (finding,) = offered(folder, RESTRICT)
    assert [fix.title for fix in finding.fixes] == ["Restrict module.edge's argument cidr 0.0.0.0/0 to 203.0.113.0/24"]
    assert finding.location.file == str(folder / "modules" / "rdp" / "main.tf")
    patched = verified(folder, finding, finding.fixes[0], tmp_path / "fixed")
    assert diff(folder, patched) == """\
--- a/main.tf
+++ b/main.tf
@@ -1,4 +1,4 @@
 module "edge" {
   source = "./modules/rdp"
-  cidr   = "0.0.0.0/0" # open for the vendor
+  cidr   = "203.0.113.0/24" # open for the vendor
 }
"""


def test_an_argument_from_the_callers_variable_is_restricted_at_that_variables_value(tmp_path):
    folder = module(tmp_path / "m", {"modules/rdp/main.tf": CALLED, "main.tf": """\
variable "vendor" {
  default = "0.0.0.0/0"
}

module "edge" {
  source = "./modules/rdp"
  cidr   = var.vendor
}
"""})
    (finding,) = offered(folder, RESTRICT)
    assert [fix.title for fix in finding.fixes] == ["Restrict variable vendor's default 0.0.0.0/0 to 203.0.113.0/24"]
    patched = verified(folder, finding, finding.fixes[0], tmp_path / "fixed")
    assert patched == {"main.tf": (folder / "main.tf").read_bytes().replace(b"0.0.0.0/0", b"203.0.113.0/24")}


def test_a_module_default_every_call_shares_is_display_only(tmp_path):
    folder = module(tmp_path / "m", {
        "modules/rdp/main.tf": CALLED.replace("type = string", 'default = "0.0.0.0/0"'),
        "main.tf": 'module "edge" {\n  source = "./modules/rdp"\n}\n'})
    assert titles(offered(folder, RESTRICT)) == [
        ("WPL101", "0.0.0.0/0", ["display-only: Restrict 0.0.0.0/0 to 203.0.113.0/24 on "
                                 "module.edge.aws_security_group.rdp: var.cidr's default is shared by every call of "
                                 "the module; set cidr in module.edge instead"])]


def test_a_downloaded_module_is_restricted_at_the_call_and_never_edited(tmp_path):
    folder = module(tmp_path / "m", {
        "main.tf": 'module "rdp" {\n  source  = "example-corp/rdp/aws"\n  version = "1.0.0"\n'
                   '  cidr    = "0.0.0.0/0"\n}\n'})
    shutil.copytree(REPO / "tests" / "cases" / "WPL101" / "bad" / "tf-registry-downloaded" / ".terraform",
                    folder / ".terraform")
    (finding,) = offered(folder, RESTRICT, ACCEPT)
    assert titles([finding]) == [("WPL101", "0.0.0.0/0", [
        "unsafe: Restrict module.rdp's argument cidr 0.0.0.0/0 to 203.0.113.0/24",
        "display-only: Accept WPL101 on module.rdp.aws_security_group.this: jump host, SEC-7 (the rule is in a "
        "downloaded module: add a [[tool.winportlint.allow]] entry for resource module.rdp.aws_security_group.this "
        "to the configuration)"])]
    assert {edit.file for edit in finding.fixes[0].edits} == {str(folder / "main.tf")}


TF_JSON = """\
{
  "variable": {"open": {"default": "0.0.0.0/0"}},
  "resource": {
    "aws_security_group": {
      "jump": {
        "name": "jump",
        "ingress": [
          {"from_port": 3389, "to_port": 3389, "protocol": "tcp", "description": "",
           "cidr_blocks": [ "0.0.0.0/0" ], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
           "security_groups": [], "self": false}
        ]
      }
    },
    "aws_vpc_security_group_ingress_rule": {
      "winrm": {"security_group_id": "${aws_security_group.jump.id}", "ip_protocol": "tcp",
                "from_port": 5985, "to_port": 5985, "cidr_ipv4": "${var.open}"}
    }
  }
}
"""


def test_tf_json_is_restricted_in_its_strings_and_accepting_is_display_only(tmp_path):
    folder = module(tmp_path / "m", {"main.tf.json": TF_JSON})
    found = offered(folder, RESTRICT, ACCEPT)
    assert titles(found) == [
        ("WPL101", "0.0.0.0/0", [
            "unsafe: Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_security_group.jump",
            "display-only: Accept WPL101 on aws_security_group.jump: jump host, SEC-7 (JSON has no comments: add a "
            "[[tool.winportlint.allow]] entry for resource aws_security_group.jump to the configuration)"]),
        ("WPL103", "0.0.0.0/0", [
            "unsafe: Restrict variable open's default 0.0.0.0/0 to 203.0.113.0/24",
            "display-only: Accept WPL103 on aws_vpc_security_group_ingress_rule.winrm: jump host, SEC-7 (JSON has "
            "no comments: add a [[tool.winportlint.allow]] entry for resource "
            "aws_vpc_security_group_ingress_rule.winrm to the configuration)"]),
    ]
    for number, (finding, written) in enumerate(zip(found, ('[ "{}" ]', '"{}"}}'))):
        patched = verified(folder, finding, finding.fixes[0], tmp_path / f"fixed{number}")
        assert patched["main.tf.json"] == TF_JSON.replace(written.format("0.0.0.0/0"),
                                                          written.format("203.0.113.0/24")).encode()


def test_a_bom_crlf_and_tabs_are_kept_byte_for_byte(tmp_path):
    text = b"\xef\xbb\xbf" + RULES.split("\n\n")[0].replace("\n", "\r\n").replace("    ", "\t").encode() + b"\r\n"
    folder = module(tmp_path / "m", {"main.tf": text})
    (finding,) = offered(folder, RESTRICT, ACCEPT)
    restricted = verified(folder, finding, finding.fixes[0], tmp_path / "restricted")["main.tf"]
    assert restricted == text.replace(b'\t"0.0.0.0/0"]', b'\t"203.0.113.0/24"]')
    accepted = made(folder, finding.fixes[1], tmp_path / "accepted")["main.tf"]
    assert accepted == text.replace(b"# rdp, and the office\r\n", b"# rdp, and the office  # winportlint: "
                                    b"ignore[WPL101] until=2027-01-31 owner=platform jump host, SEC-7\r\n")


def check(folder: Path, capsys) -> tuple[int, str]:
    code = main(["check", "--no-cache", str(folder)])
    return code, capsys.readouterr().out.splitlines()[-1]


def test_accept_writes_the_exception_where_the_grammar_reads_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-10")
    folder = module(tmp_path / "m", {"main.tf": RULES})
    found = offered(folder, ACCEPT)
    every = Fix("all", "safe", tuple(edit for finding in found for edit in finding.fixes[0].edits
                                     if finding.permission.peer.text != "::/0"))  # one comment per line
    patched = made(folder, every, tmp_path / "fixed")
    comment = "  # winportlint: ignore[{}] until=2027-01-31 owner=platform jump host, SEC-7"
    assert patched["main.tf"].decode() == RULES \
        .replace("# rdp, and the office\n", "# rdp, and the office" + comment.format("WPL101") + "\n") \
        .replace('ipv6_cidr_blocks = ["::/0"]\n', 'ipv6_cidr_blocks = ["::/0"]' + comment.format("WPL103") + "\n") \
        .replace("// the world\n", "// the world" + comment.format("WPL102") + "\n") \
        .replace('cidr_ipv4         = "0.0.0.0/0"\n',
                 'cidr_ipv4         = "0.0.0.0/0"' + comment.format("WPL103") + "\n")
    assert check(tmp_path / "fixed", capsys) == (0, "0 findings in 1 file; 5 suppressed")


def test_accept_adds_the_id_to_the_same_exception_and_never_writes_a_second(tmp_path):
    same = "  # winportlint: ignore[WPL102] until=2027-01-31 owner=platform jump host, SEC-7"
    folder = module(tmp_path / "m", {"main.tf": RULES.replace('ipv6_cidr_blocks = ["::/0"]\n',
                                                              'ipv6_cidr_blocks = ["::/0"]' + same + "\n")})
    (v4, v6) = [f for f in offered(folder, ACCEPT, select=["WPL103"]) if f.permission.resource.endswith("listed")]
    assert v6.fixes[0].applicability == "safe"
    patched = made(folder, v6.fixes[0], tmp_path / "fixed")["main.tf"]
    assert same.replace("[WPL102]", "[WPL102,WPL103]").encode() in patched
    other = offered(folder, FixRequest("accept", reason="another reason"), select=["WPL103"])[1]
    assert other.permission.peer.text == "::/0"
    assert [fix.title for fix in other.fixes] == [
        "Accept WPL103 on aws_security_group.listed: another reason: line 15 holds another exception; add WPL103 "
        "to it by hand"]


def test_an_exception_goes_to_the_rules_first_line_when_the_cidrs_line_opens_a_heredoc(tmp_path, capsys,
                                                                                         monkeypatch):
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-10")
    text = """\
resource "aws_vpc_security_group_ingress_rule" "rdp" {
  security_group_id = "sg-12345678"
  ip_protocol       = "tcp"
  from_port         = 3389
  to_port           = 3389
  cidr_ipv4         = trimspace(<<EOT
    0.0.0.0/0
  EOT
  )
}
"""
    folder = module(tmp_path / "m", {"main.tf": text})
    (finding,) = offered(folder, RESTRICT, ACCEPT)
    assert finding.location.line == 6
    assert [fix.applicability for fix in finding.fixes] == ["display-only", "safe"]
    assert finding.fixes[0].title.endswith("it is computed (trimspace(<<EOT 0.0.0.0/0 EOT )); change what it is "
                                           "computed from")
    patched = made(folder, finding.fixes[1], tmp_path / "fixed")["main.tf"]
    assert patched.decode() == text.replace('"rdp" {\n', '"rdp" {  # winportlint: ignore[WPL101] until=2027-01-31 '
                                                          'owner=platform jump host, SEC-7\n')
    assert check(tmp_path / "fixed", capsys) == (0, "0 findings in 1 file; 1 suppressed")


def test_a_terragrunt_units_input_is_display_only_and_names_the_unit():
    folder = REPO / "tests" / "cases" / "WPL101" / "bad" / "terragrunt-unit"
    (finding,) = offered(folder, RESTRICT)
    assert titles([finding]) == [("WPL101", "0.0.0.0/0", [
        f"display-only: Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_security_group.admin: var.admin_cidr is set by "
        f"the inputs of {folder / 'live' / 'prod' / 'app' / 'terragrunt.hcl'}; change it there"])]


def _terraform_modules() -> list[Path]:
    """The fixtures' and the shared corpus's Terraform modules: each case folder, each folder of
    the corpus holding configuration files (with what is below it)."""
    cases = sorted({path.relative_to(REPO / "tests" / "cases").parts[:3]
                    for path in (REPO / "tests" / "cases").rglob("*.tf*") if ".terraform" not in path.parts})
    found = [REPO / "tests" / "cases" / Path(*parts) for parts in cases if len(parts) == 3]
    found.append(REPO / "examples" / "vulnerable" / "terraform-windows-fleet")
    if CORPUS.is_dir():
        found += sorted({path.parent for path in CORPUS.rglob("*.tf*") if path.is_file()})
    return [folder for folder in found if not any(other in folder.parents for other in found)]


@pytest.mark.parametrize("request_", [RESTRICT, ACCEPT, REMOVE], ids=["restrict", "accept", "remove"])
def test_every_fix_over_the_fixtures_and_corpus_edits_only_its_span_and_the_modules_still_read(tmp_path, request_):
    """Each fix of each finding edits only its span (a restriction: exactly the CIDR as written; an
    exception: an insertion at a line's end or an id added in one; a removal: the lines or the
    list element holding the CIDR, or an empty list in their place); all of a module's fixes that
    do not overlap, made on a copy of every module, leave the copies reading without a new error
    or finding, the fixed findings gone (accepted: suppressed)."""
    from winportlint import suppress

    plugins = load_plugins()
    roots = _terraform_modules()
    copies = {root: tmp_path / str(number) for number, root in enumerate(roots)}
    for root, copy in copies.items():
        shutil.copytree(root, copy, symlinks=True)

    def home(path: str) -> tuple[Path, str]:
        root = next(root for root in roots if root in Path(path).parents)
        return root, os.path.relpath(path, root)

    before = lint(roots)
    found = fixes.attach(before.findings, plugins.formats, [request_])
    edits: dict[str, list] = {}
    fixed = Counter()
    for finding in found:
        for fix in (fix for fix in finding.fixes if fix.edits):
            for edit in fix.edits:
                data = Path(edit.file).read_bytes()
                if request_ is RESTRICT:
                    assert data[edit.start:edit.end].decode() == finding.permission.peer.text
                    assert edit.text in RESTRICT.sources
                elif request_ is REMOVE:
                    assert re.fullmatch(r"|\[\]|[ \t]*(ingress|egress) = \[\]\r?\n", edit.text), edit
                    assert edit.file == finding.location.file
                    lines = data.count(b"\n", 0, edit.start) + 1, data.count(b"\n", 0, edit.end) + 1
                    assert lines[0] <= finding.location.line <= lines[1]
                else:
                    assert edit.start == edit.end
                    assert data[edit.start:edit.start + 1] in (b"\n", b"\r", b"", b"]"), (edit, finding)
            try:
                for edit in fix.edits:
                    fixes.applied(Path(edit.file).read_bytes(), [*edits.get(edit.file, []), edit])
            except fixes.Overlap:
                continue
            for edit in fix.edits:
                edits.setdefault(edit.file, []).append(edit)
            fixed[(home(finding.location.file)[0], fixes.key(finding))] += 1
    for path, made_edits in edits.items():
        root, relative = home(path)
        (copies[root] / relative).write_bytes(fixes.applied(Path(path).read_bytes(), made_edits))
    after = lint(list(copies.values()))
    kept, errors = after.findings, after.errors
    if request_ is ACCEPT:
        outcome = suppress.apply(kept, after.files, plugins.formats, {check.id for check in plugins.checks}, ())
        kept, errors = outcome.kept, [*errors, *outcome.errors]
    original = {copy: root for root, copy in copies.items()}

    def where(path: str) -> tuple[Path, str]:
        copy = next(copy for copy in original if copy in Path(path).parents)
        return original[copy], os.path.relpath(path, copy)

    assert {(*where(e.file), e.message) for e in errors} <= {(*home(e.file), e.message) for e in before.errors}
    was = Counter((home(f.location.file)[0], fixes.key(f)) for f in before.findings)
    now = Counter((where(f.location.file)[0], fixes.key(f)) for f in kept)
    assert now - was == Counter()
    assert all(now[key] <= was[key] - count for key, count in fixed.items())
    least = {"restrict": 40, "accept": 60, "remove": 20} if CORPUS.is_dir() else \
        {"restrict": 20, "accept": 40, "remove": 5}  # the fixtures and examples alone
    assert sum(fixed.values()) >= least[request_.kind]


GROUP = """\
resource "aws_security_group" "jump" {
  name = "jump"

  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"] # rdp
  }

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}

resource "aws_security_group_rule" "smb" {
  type              = "ingress"
  security_group_id = aws_security_group.jump.id
  from_port         = 445
  to_port           = 445
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_security_group" "listed" {
  name = "listed"
  ingress = [
    { from_port = 5985, to_port = 5985, protocol = "tcp", cidr_blocks = ["0.0.0.0/0"], description = "",
      ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false },
    { from_port = 22, to_port = 22, protocol = "tcp", cidr_blocks = ["10.0.0.0/8"], description = "",
      ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false }, # ssh
  ]
}
"""


def test_remove_deletes_the_rules_block_resource_or_list_element_and_its_separators(tmp_path):
    folder = module(tmp_path / "m", {"main.tf": GROUP})
    found = offered(folder, REMOVE)
    assert titles(found) == [
        ("WPL101", "0.0.0.0/0", ["unsafe: Remove the ingress rule at line 4 of aws_security_group.jump"]),
        ("WPL102", "0.0.0.0/0", ["unsafe: Remove aws_security_group_rule.smb"]),
        ("WPL103", "0.0.0.0/0", ["unsafe: Remove the ingress rule at line 30 of aws_security_group.listed"]),
    ]
    patched = [verified(folder, finding, finding.fixes[0], tmp_path / f"fixed{n}")["main.tf"].decode()
               for n, finding in enumerate(found)]
    second = GROUP.index("  ingress {\n    from_port   = 22")
    assert patched[0] == GROUP.replace(GROUP[GROUP.index("  ingress {"):second], "")
    assert patched[1] == GROUP.replace(GROUP[GROUP.index('resource "aws_security_group_rule"'):
                                             GROUP.index('resource "aws_security_group" "listed"')], "")
    assert patched[2] == GROUP.replace(GROUP[GROUP.index("{ from_port = 5985"):GROUP.index("{ from_port = 22, ")], "")


def test_removing_a_groups_last_block_or_element_leaves_an_empty_list_that_removes_it_from_aws(tmp_path):
    last = GROUP.replace("""
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
""", "").replace("""
    { from_port = 22, to_port = 22, protocol = "tcp", cidr_blocks = ["10.0.0.0/8"], description = "",
      ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], self = false }, # ssh""", "")
    folder = module(tmp_path / "m", {"main.tf": last})
    block, _, element = offered(folder, REMOVE)
    assert [fix.title for fix in block.fixes] == [
        "Remove the ingress rule at line 4 of aws_security_group.jump (ingress = [] in place of the group's last "
        "ingress block: without one, AWS keeps the rules)"]
    patched = verified(folder, block, block.fixes[0], tmp_path / "block")["main.tf"].decode()
    assert patched.startswith('resource "aws_security_group" "jump" {\n  name = "jump"\n\n  ingress = []\n}\n')
    patched = verified(folder, element, element.fixes[0], tmp_path / "element")["main.tf"].decode()
    assert patched.endswith('resource "aws_security_group" "listed" {\n  name = "listed"\n  ingress = []\n}\n')


def test_a_rule_that_is_referenced_makes_several_or_lets_in_more_is_removed_only_by_hand(tmp_path):
    folder = module(tmp_path / "m", {
        "main.tf": GROUP.replace('cidr_blocks = ["0.0.0.0/0"] # rdp', 'cidr_blocks = ["0.0.0.0/0", "10.0.0.0/8"]')
        .replace('prefix_list_ids = [], security_groups = [], self = false },\n    { from_port = 22',
                 'prefix_list_ids = ["pl-12345678"], security_groups = [], self = false },\n    { from_port = 22'),
        "rules.tf": 'resource "aws_vpc_security_group_ingress_rule" "winrm" {\n  for_each = toset(["5985", "5986"])\n'
                    '  security_group_id = "sg-12345678"\n  ip_protocol = "tcp"\n  from_port = each.value\n'
                    '  to_port = each.value\n  cidr_ipv4 = "0.0.0.0/0"\n}\n',
        "outputs.tf": 'output "smb" {\n  value = aws_security_group_rule.smb.id\n}\n'})
    assert [(f.permission.resource, [fix.title for fix in f.fixes]) for f in offered(folder, REMOVE)] == [
        ("aws_security_group.jump", ["Remove the ingress rule at line 4 of aws_security_group.jump: it also lets in "
                                     "its other CIDRs of cidr_blocks; restrict instead"]),
        ("aws_security_group_rule.smb", ["Remove aws_security_group_rule.smb: it is referenced at outputs.tf:2; "
                                         "remove the reference too"]),
        ("aws_security_group.listed", ["Remove the ingress rule at line 30 of aws_security_group.listed: it also "
                                       "lets in its prefix_list_ids; restrict instead"]),
        ('aws_vpc_security_group_ingress_rule.winrm["5985"]', [
            "Remove aws_vpc_security_group_ingress_rule.winrm[\"5985\"]: its for_each makes several rules; remove "
            "this one from the for_each instead"]),
        ('aws_vpc_security_group_ingress_rule.winrm["5986"]', [
            "Remove aws_vpc_security_group_ingress_rule.winrm[\"5986\"]: its for_each makes several rules; remove "
            "this one from the for_each instead"]),
    ]


@pytest.mark.parametrize("sources, written", [
    (("pl-0123456789abcdef0", "sg-12345678"), (
        'prefix_list_ids = ["10.0.0.0/8",\t"pl-0123456789abcdef0"]',
        'prefix_list_ids       = [\n    "pl-0123456789abcdef0", // the world',
        'prefix_list_id         = "pl-0123456789abcdef0"')),
    (("sg-12345678",), (
        'security_groups = ["10.0.0.0/8",\t"sg-12345678"]',
        'source_security_group_id       = "sg-12345678"\n}',
        'referenced_security_group_id         = "sg-12345678"')),
], ids=["prefix-list", "security-group"])
def test_without_a_cidr_of_its_family_the_world_is_replaced_by_a_prefix_list_or_security_group(tmp_path, sources,
                                                                                              written):
    folder = module(tmp_path / "m", {"main.tf": RULES})
    found = offered(folder, FixRequest("restrict", sources), select=["WPL101", "WPL102", "WPL103"])
    source = sources[0]
    kind = "prefix list" if source.startswith("pl-") else "security group"
    own = f"a {kind} replaces a CIDR written in the rule's own block only; no IPv{{}} CIDR is configured for this one"
    assert titles(found) == [
        ("WPL101", "0.0.0.0/0", [f"display-only: Restrict 0.0.0.0/0 to {source} on aws_security_group.jump: the "
                                 f"rule also names its other CIDRs of cidr_blocks; a {kind} can replace only all its "
                                 f"sources"]),
        ("WPL103", "0.0.0.0/0", [f"display-only: Restrict 0.0.0.0/0 to {source} on aws_security_group.listed: "
                                 + own.format(4)]),
        ("WPL103", "::/0", [f"display-only: Restrict ::/0 to {source} on aws_security_group.listed: " + own.format(6)]),
        ("WPL102", "0.0.0.0/0", [f"unsafe: Restrict 0.0.0.0/0 to {source} on aws_security_group_rule.smb"]),
        ("WPL103", "0.0.0.0/0",
         [f"unsafe: Restrict 0.0.0.0/0 to {source} on aws_vpc_security_group_ingress_rule.winrm"]),
    ]
    lone = module(tmp_path / "lone", {"main.tf": RULES.replace('"10.0.0.0/8",\t', "")})
    (jump, *_) = offered(lone, FixRequest("restrict", sources), select=["WPL101"])
    patched = verified(lone, jump, jump.fixes[0], tmp_path / "lone-fixed")["main.tf"].decode()
    assert patched == RULES.replace('cidr_blocks = ["10.0.0.0/8",\t"0.0.0.0/0"]',
                                    written[0].replace('"10.0.0.0/8",\t', ""))
    smb, winrm = found[3:]
    assert verified(folder, smb, smb.fixes[0], tmp_path / "smb")["main.tf"].decode() == RULES.replace(
        'cidr_blocks       = [\n    "0.0.0.0/0", // the world\n  ]\n}' if "sg-" in source else
        'cidr_blocks       = [\n    "0.0.0.0/0", // the world', written[1])
    assert verified(folder, winrm, winrm.fixes[0], tmp_path / "winrm")["main.tf"].decode() == RULES.replace(
        'cidr_ipv4         = "0.0.0.0/0"', written[2])


def test_json_findings_carry_terraform_fixes_and_a_var_on_the_command_line_is_display_only(tmp_path, capsys,
                                                                                             monkeypatch):
    import json

    module(tmp_path, {"pyproject.toml": '[tool.winportlint.fix]\ncidrs = ["203.0.113.0/24"]\n',
                      "main.tf": USES.split("\n\n")[0].replace("var.admin", '["0.0.0.0/0"]') + "\n\n" +
                      USES.split("\n\n")[1] + "\n", "variables.tf": VARIABLES})
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--no-cache", "--format", "json", "--var", "everyone=0.0.0.0/0", "."])
    findings = json.loads(capsys.readouterr().out)["findings"]
    data = (tmp_path / "main.tf").read_bytes()
    at = data.index(b'"0.0.0.0/0"') + 1
    block, rule = data.index(b"  ingress {"), data.index(b'resource "aws_vpc_security_group_ingress_rule"')
    assert [finding["fixes"] for finding in findings] == [
        [{"title": "Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_security_group.jump", "applicability": "unsafe",
          "edits": [{"file": "main.tf", "start": at, "end": at + 9, "text": "203.0.113.0/24"}]},
         {"title": "Remove the ingress rule at line 3 of aws_security_group.jump (ingress = [] in place of the "
                   "group's last ingress block: without one, AWS keeps the rules)", "applicability": "unsafe",
          "edits": [{"file": "main.tf", "start": block, "end": data.index(b"}\n", at) + 2, "text": "  ingress = []\n"}]}],
        [{"title": "Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_vpc_security_group_ingress_rule.winrm: var.everyone "
                   "is set by --var on the command line; pass 203.0.113.0/24 there", "applicability": "display-only",
          "edits": []},
         {"title": "Remove aws_vpc_security_group_ingress_rule.winrm", "applicability": "unsafe",
          "edits": [{"file": "main.tf", "start": rule, "end": len(data), "text": ""}]}]]
    assert code == 1


def test_an_opentofu_file_is_fixed_and_the_terraform_file_it_replaces_is_not_read(tmp_path):
    folder = module(tmp_path / "m", {"main.tofu": USES.split("\n\n")[0] + "\n",
                                     "variables.tofu": VARIABLES,
                                     "variables.tf": VARIABLES.replace("0.0.0.0/0", "192.0.2.0/24")})
    (finding,) = offered(folder, RESTRICT, ACCEPT)
    assert [(fix.applicability, fix.title, [os.path.basename(edit.file) for edit in fix.edits])
            for fix in finding.fixes] == [
        ("unsafe", "Restrict variable admin's default 0.0.0.0/0 to 203.0.113.0/24", ["variables.tofu"]),
        ("safe", "Accept WPL101 on aws_security_group.jump: jump host, SEC-7", ["main.tofu"])]
    verified(folder, finding, finding.fixes[0], tmp_path / "fixed")


def test_a_file_that_is_not_utf8_gets_no_fix_rather_than_edits_at_wrong_offsets(tmp_path):
    text = RULES.split("\n\n")[0].encode().replace(b"# rdp, and the office", b"# r\xe9seau du bureau")
    folder = module(tmp_path / "m", {"main.tf": text})
    found = lint([folder])
    assert [f.rule_id for f in found.findings] == ["WPL101"]
    (finding,) = fixes.attach(found.findings, load_plugins().formats, [RESTRICT, ACCEPT, REMOVE])
    assert finding.fixes == ()


def test_rules_whose_cidrs_make_the_internet_together_are_not_removed_one_at_a_time(tmp_path):
    """Removing the 0.0.0.0/1 rule would leave 128.0.0.0/1, half the internet, open, and end the
    finding: each removal is display-only."""
    block = '  ingress {{\n    from_port   = 3389\n    to_port     = 3389\n    protocol    = "tcp"\n' \
            '    cidr_blocks = ["{}"]\n  }}\n'
    folder = module(tmp_path, {"main.tf": 'resource "aws_security_group" "jump" {\n' + block.format("0.0.0.0/1")
                               + block.format("128.0.0.0/1") + "}\n"})
    union = "the internet is made by 2 rules' CIDRs together"
    assert titles(offered(folder, REMOVE, select=("WPL101",))) == [
        ("WPL101", "0.0.0.0/1", [f"display-only: Remove the ingress rule at line 2 of aws_security_group.jump: {union}, "
                                 f"and removing one leaves the others open; remove them all by hand, or keep one "
                                 f"restricted"]),
        ("WPL101", "128.0.0.0/1", [f"display-only: Remove the ingress rule at line 8 of aws_security_group.jump: "
                                   f"{union}, and removing one leaves the others open; remove them all by hand, or "
                                   f"keep one restricted"])]


ROOT_MAIN = """\
variable "admin" {
  type    = string
  default = "0.0.0.0/0" # set per environment
}

variable "winrm" {
  type = string
}

module "sg" {
  source     = "./modules/sg"
  smb_source = "0.0.0.0/0"
}

resource "aws_security_group" "jump" {
  name = "jump"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.admin]
  }
}

resource "aws_vpc_security_group_ingress_rule" "winrm" {
  security_group_id = aws_security_group.jump.id
  cidr_ipv4         = var.winrm
  ip_protocol       = "tcp"
  from_port         = 5986
  to_port           = 5986
}
"""
MODULE_SG = """\
variable "smb_source" {
  type = string
}

resource "aws_security_group" "files" {
  name = "files"
  ingress {
    from_port   = 445
    to_port     = 445
    protocol    = "tcp"
    cidr_blocks = [var.smb_source]
  }
}
"""
ROOT_TF_JSON = """\
{
  "resource": {
    "aws_security_group": {
      "rdp": {
        "name": "rdp",
        "ingress": [{"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                     "description": null, "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}]
      }
    }
  }
}
"""


def test_winportlint_fix_restricts_and_accepts_terraform_values_where_they_are_written(tmp_path, monkeypatch, capsys):
    """End to end, as a user runs it: a variable's default, a module call's argument, a
    terraform.tfvars entry (CRLF kept) and a .tf.json literal are restricted, each fix verified by
    evaluating the module again; exceptions go on the lines the rules read them."""
    module(tmp_path, {"pyproject.toml": '[tool.winportlint.fix]\ncidrs = ["203.0.113.0/24"]\n',
                      "root/main.tf": ROOT_MAIN, "root/terraform.tfvars": b'winrm = "0.0.0.0/0"\r\n',
                      "root/modules/sg/main.tf": MODULE_SG, "tfjson/main.tf.json": ROOT_TF_JSON})
    monkeypatch.chdir(tmp_path)
    code = main(["fix", "--unsafe-fixes", "--no-cache", "root", "tfjson"])
    out, err = capsys.readouterr()
    assert out == """\
--- a/root/main.tf
+++ b/root/main.tf
@@ -1,6 +1,6 @@
 variable "admin" {
   type    = string
-  default = "0.0.0.0/0" # set per environment
+  default = "203.0.113.0/24" # set per environment
 }
 
 variable "winrm" {
@@ -9,7 +9,7 @@
 
 module "sg" {
   source     = "./modules/sg"
-  smb_source = "0.0.0.0/0"
+  smb_source = "203.0.113.0/24"
 }
 
 resource "aws_security_group" "jump" {
--- a/root/terraform.tfvars
+++ b/root/terraform.tfvars
@@ -1 +1 @@
-winrm = "0.0.0.0/0"\r
+winrm = "203.0.113.0/24"\r
--- a/tfjson/main.tf.json
+++ b/tfjson/main.tf.json
@@ -3,7 +3,7 @@
     "aws_security_group": {
       "rdp": {
         "name": "rdp",
-        "ingress": [{"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
+        "ingress": [{"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["203.0.113.0/24"],
                      "description": null, "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": false}]
       }
     }
"""
    assert (code, err) == (1, "4 fixes to apply (with --apply)\n")
    code = main(["fix", "--reason", "jump host, SEC-7", "--owner", "platform", "--expires", "2027-01-31", "--no-cache",
                 "root", "tfjson"])
    out, err = capsys.readouterr()
    assert out == """\
--- a/root/main.tf
+++ b/root/main.tf
@@ -18,13 +18,13 @@
     from_port   = 3389
     to_port     = 3389
     protocol    = "tcp"
-    cidr_blocks = [var.admin]
+    cidr_blocks = [var.admin]  # winportlint: ignore[WPL101] until=2027-01-31 owner=platform jump host, SEC-7
   }
 }
 
 resource "aws_vpc_security_group_ingress_rule" "winrm" {
   security_group_id = aws_security_group.jump.id
-  cidr_ipv4         = var.winrm
+  cidr_ipv4         = var.winrm  # winportlint: ignore[WPL103] until=2027-01-31 owner=platform jump host, SEC-7
   ip_protocol       = "tcp"
   from_port         = 5986
   to_port           = 5986
--- a/root/modules/sg/main.tf
+++ b/root/modules/sg/main.tf
@@ -8,6 +8,6 @@
     from_port   = 445
     to_port     = 445
     protocol    = "tcp"
-    cidr_blocks = [var.smb_source]
+    cidr_blocks = [var.smb_source]  # winportlint: ignore[WPL102] until=2027-01-31 owner=platform jump host, SEC-7
   }
 }
"""
    assert (code, err) == (1, "3 fixes to apply (with --apply), 1 more with --unsafe-fixes\n")
    assert main(["fix", "--apply", "--unsafe-fixes", "--no-cache", "root", "tfjson"]) == 0
    assert (tmp_path / "root" / "terraform.tfvars").read_bytes() == b'winrm = "203.0.113.0/24"\r\n'
    capsys.readouterr()
    assert main(["check", "--no-cache", "root", "tfjson"]) == 0


def test_a_rule_a_dynamic_blocks_content_makes_is_not_removed_and_says_why(tmp_path):
    folder = module(tmp_path, {"main.tf": 'locals {\n  ports = { rdp = 3389 }\n}\n\n'
                               'resource "aws_security_group" "fleet" {\n  name = "fleet"\n'
                               '  dynamic "ingress" {\n    for_each = local.ports\n    content {\n'
                               '      from_port   = ingress.value\n      to_port     = ingress.value\n'
                               '      protocol    = "tcp"\n      cidr_blocks = ["0.0.0.0/0"]\n    }\n  }\n}\n'})
    assert titles(offered(folder, REMOVE)) == [
        ("WPL101", "0.0.0.0/0", ["display-only: Remove the ingress rule at line 9 of aws_security_group.fleet: a "
                                 "dynamic block makes it; remove its element from the for_each collection"])]


RULES_JSON = """\
{
  "resource": {
    "aws_security_group": {"g": {"name": "g"}},
    "aws_security_group_rule": {
      "ssh": {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"],
              "security_group_id": "${aws_security_group.g.id}"},
      "rdp": {
        "type": "ingress", "from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
        "security_group_id": "${aws_security_group.g.id}"
      }
    }
  }
}
"""


def test_a_rule_resource_in_a_tf_json_file_is_removed_with_its_comma_and_verified(tmp_path, monkeypatch, capsys):
    module(tmp_path, {"main.tf.json": RULES_JSON})
    monkeypatch.chdir(tmp_path)
    assert main(["fix", "--unsafe-fixes", "--no-cache", "."]) == 1
    out, err = capsys.readouterr()
    assert out == """\
--- a/main.tf.json
+++ b/main.tf.json
@@ -3,11 +3,7 @@
     "aws_security_group": {"g": {"name": "g"}},
     "aws_security_group_rule": {
       "ssh": {"type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"],
-              "security_group_id": "${aws_security_group.g.id}"},
-      "rdp": {
-        "type": "ingress", "from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
-        "security_group_id": "${aws_security_group.g.id}"
-      }
+              "security_group_id": "${aws_security_group.g.id}"}
     }
   }
 }
"""
    assert err == "1 fix to apply (with --apply)\n"
    only = RULES_JSON.replace(RULES_JSON[RULES_JSON.index('      "ssh"'):RULES_JSON.index('      "rdp"')], "")
    (tmp_path / "main.tf.json").write_text(only)
    assert main(["fix", "--apply", "--unsafe-fixes", "--no-cache", "."]) == 0  # the type's only rule: with its type
    assert (tmp_path / "main.tf.json").read_text() == """\
{
  "resource": {
    "aws_security_group": {"g": {"name": "g"}}
  }
}
"""
    capsys.readouterr()


def test_a_rule_resource_in_a_tf_json_file_that_another_names_is_not_removed(tmp_path):
    folder = module(tmp_path, {"main.tf.json": RULES_JSON, "outputs.tf": 'output "rule" {\n  value = '
                               'aws_security_group_rule.rdp.id\n}\n'})
    assert titles(offered(folder, REMOVE)) == [
        ("WPL101", "0.0.0.0/0", ["display-only: Remove aws_security_group_rule.rdp: it is referenced at "
                                 "outputs.tf:2; remove the reference too"])]


def test_a_computed_expression_is_named_in_a_fix_title_as_an_excerpt_never_at_length(tmp_path):
    secret = "WPLSECRET" * 40
    folder = module(tmp_path, {"main.tf": 'resource "aws_security_group" "g" {\n  ingress {\n    from_port   = 3389\n'
                               '    to_port     = 3389\n    protocol    = "tcp"\n'
                               f'    cidr_blocks = [replace("0.0.0.0/0{secret}", "{secret}", "")]\n  }}\n}}\n'})
    [(_, _, [title])] = titles(offered(folder, RESTRICT))
    assert title.startswith("display-only: Restrict 0.0.0.0/0 to 203.0.113.0/24 on aws_security_group.g: it is "
                            "computed ([replace(\"0.0.0.0/0WPLSECRET")
    assert secret not in title and len(title) < 300
