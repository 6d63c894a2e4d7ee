"""``winportlint fix`` on Serverless Framework services (issue #20): a CIDR a variable brings is
restricted where its value is written, an exception is written on the variable's line, and what
no edit of the service can change is said, never guessed."""

from __future__ import annotations

import json

from test_fixes import run

from winportlint.model import Fix, TextEdit


SERVICE = """\
service: jump  # the bastion
provider:
  name: aws
custom:
  adminCidr: '0.0.0.0/0' # open for now
  net:
    admin: "0.0.0.0/0"
  cidr:
    dev: 0.0.0.0/0
resources:
  Resources:
    Jump:
      Type: AWS::EC2::SecurityGroup
      Properties:
        GroupDescription: jump
        SecurityGroupIngress:
          - IpProtocol: tcp
            FromPort: 3389
            ToPort: 3389
            CidrIp: ${self:custom.adminCidr}
          - IpProtocol: tcp
            FromPort: 445
            ToPort: 445
            CidrIp: ${self:custom.net.admin}
          - IpProtocol: tcp
            FromPort: 5985
            ToPort: 5985
            CidrIp: ${self:custom.cidr.${sls:stage}}
          - IpProtocol: tcp
            FromPort: 5986
            ToPort: 5986
            CidrIp: 0.0.0.0/0
          - {IpProtocol: tcp, FromPort: 135, ToPort: 135, CidrIp: "${opt:cidr, ${env:CIDR, '0.0.0.0/0'}}"}
"""


def test_each_value_is_restricted_where_it_is_written_keeping_quotes_and_comments(fix_project, capsys):
    (fix_project / "serverless.yml").write_text(SERVICE)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "serverless.yml")
    assert out == """\
--- a/serverless.yml
+++ b/serverless.yml
@@ -2,11 +2,11 @@
 provider:
   name: aws
 custom:
-  adminCidr: '0.0.0.0/0' # open for now
+  adminCidr: '203.0.113.0/24' # open for now
   net:
-    admin: "0.0.0.0/0"
+    admin: "203.0.113.0/24"
   cidr:
-    dev: 0.0.0.0/0
+    dev: 203.0.113.0/24
 resources:
   Resources:
     Jump:
@@ -29,5 +29,5 @@
           - IpProtocol: tcp
             FromPort: 5986
             ToPort: 5986
-            CidrIp: 0.0.0.0/0
-          - {IpProtocol: tcp, FromPort: 135, ToPort: 135, CidrIp: "${opt:cidr, ${env:CIDR, '0.0.0.0/0'}}"}
+            CidrIp: 203.0.113.0/24
+          - {IpProtocol: tcp, FromPort: 135, ToPort: 135, CidrIp: "${opt:cidr, ${env:CIDR, '203.0.113.0/24'}}"}
"""
    assert (code, err) == (1, ["5 fixes to apply (with --apply)"])
    assert (fix_project / "serverless.yml").read_text() == SERVICE


def test_fixes_name_the_place_they_edit(fix_project, capsys):
    (fix_project / "serverless.yml").write_text(SERVICE)
    out = run(capsys, "check", "--format", "json", "serverless.yml")[1]
    assert [(finding["line"], fix["title"], fix["applicability"], [edit["text"] for edit in fix["edits"]])
            for finding in json.loads(out)["findings"] for fix in finding["fixes"]] == [
        (20, "Restrict 0.0.0.0/0 to 203.0.113.0/24 on Jump at self:custom.adminCidr (line 5)", "unsafe",
         ["'203.0.113.0/24'"]),
        (24, "Restrict 0.0.0.0/0 to 203.0.113.0/24 on Jump at self:custom.net.admin (line 7)", "unsafe",
         ['"203.0.113.0/24"']),
        (28, "Restrict 0.0.0.0/0 to 203.0.113.0/24 on Jump at self:custom.cidr.${sls:stage} (line 9)", "unsafe",
         ["203.0.113.0/24"]),
        (32, "Restrict 0.0.0.0/0 to 203.0.113.0/24 on Jump", "unsafe", ["203.0.113.0/24"]),
        (33, "Restrict 0.0.0.0/0 to 203.0.113.0/24 on Jump at the default of ${env:CIDR, '0.0.0.0/0'} (line 33)",
         "unsafe", ["'203.0.113.0/24'"]),
    ]


def test_apply_then_a_second_run_finds_nothing_to_fix(fix_project, capsys):
    path = fix_project / "serverless.yml"
    path.write_text(SERVICE)
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "serverless.yml") == (0, "", ["5 fixes applied"])
    assert path.read_text() == SERVICE.replace("0.0.0.0/0", "203.0.113.0/24")
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "serverless.yml") == (0, "", ["0 fixes applied"])
    assert run(capsys, "check", "serverless.yml")[0] == 0


def test_accept_writes_the_exception_on_the_variables_line_and_it_is_read_back(fix_project, capsys):
    path = fix_project / "serverless.yml"
    path.write_text(SERVICE)
    code, out, err = run(capsys, "fix", "--apply", "--select", "WPL101,WPL104", "--reason", "bastion, SEC-7",
                         "--owner", "platform", "serverless.yml")
    assert (code, out, err) == (0, "", ["2 fixes applied"])
    comment = "  # winportlint: ignore[{}] owner=platform bastion, SEC-7\n"
    assert path.read_text() == SERVICE.replace(
        "CidrIp: ${self:custom.adminCidr}\n", "CidrIp: ${self:custom.adminCidr}" + comment.format("WPL101")).replace(
        "'0.0.0.0/0'}}\"}\n", "'0.0.0.0/0'}}\"}" + comment.format("WPL104"))
    code, out, _ = run(capsys, "check", "--show-suppressed", "--select", "WPL101,WPL104", "serverless.yml")
    assert code == 0
    assert "0 findings in 1 file; 2 suppressed" in out


def test_a_value_other_references_use_is_display_only_and_says_how_many(fix_project, capsys):
    (fix_project / "serverless.yml").write_text(SERVICE.replace(
        "provider:\n  name: aws\n", "provider:\n  name: aws\n  environment:\n    ADMIN: ${self:custom.adminCidr}\n"))
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "--select", "WPL101", "serverless.yml")
    assert (code, out) == (1, "")
    assert err == ["serverless.yml:22: WPL101: no fix to apply: Restrict 0.0.0.0/0 on Jump: self:custom.adminCidr is "
                   "shared (used 2 times); give this rule a value of its own",
                   "0 fixes to apply (with --apply), 1 finding without a fix to apply"]


def test_a_value_a_parent_reference_brings_is_shared_too(fix_project, capsys):
    (fix_project / "serverless.yml").write_text(SERVICE + "  Outputs:\n    Net:\n      Value: ${self:custom.net}\n")
    assert run(capsys, "fix", "--unsafe-fixes", "--select", "WPL102", "serverless.yml")[2][0] == (
        "serverless.yml:24: WPL102: no fix to apply: Restrict 0.0.0.0/0 on Jump: self:custom.net.admin is shared "
        "(used 2 times); give this rule a value of its own")


RULES = """\
service: s
provider: {name: aws}
custom:
  rules:
    - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}
resources:
  Resources:
    A:
      Type: AWS::EC2::SecurityGroup
      Properties:
        GroupDescription: a
        SecurityGroupIngress: ${self:custom.rules}
"""
GROUP_B = """\
    B:
      Type: AWS::EC2::SecurityGroup
      Properties:
        GroupDescription: b
        SecurityGroupIngress: ${self:custom.rules}
"""


def test_rules_a_variable_brings_are_restricted_in_place_unless_other_groups_take_them_too(fix_project, capsys):
    """Restricting the rule two groups take from ``custom`` would change both."""
    path = fix_project / "serverless.yml"
    path.write_text(RULES)
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "serverless.yml") == (0, "", ["1 fix applied"])
    assert path.read_text() == RULES.replace("CidrIp: 0.0.0.0/0", "CidrIp: 203.0.113.0/24")
    path.write_text(RULES + GROUP_B)
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "serverless.yml") == (1, "", [
        f"serverless.yml:5: WPL101: no fix to apply: Restrict 0.0.0.0/0 on {group}: self:custom.rules.0.CidrIp is "
        f"shared (used 2 times); give this rule a value of its own" for group in "AB"] + [
        "0 fixes applied, 2 findings without a fix to apply"])
    assert path.read_text() == RULES + GROUP_B


def test_a_value_per_stage_is_display_only_unless_there_is_one(fix_project, capsys):
    (fix_project / "serverless.yml").write_text(SERVICE.replace("    dev: 0.0.0.0/0\n",
                                                            "    dev: 0.0.0.0/0\n    prod: 10.0.0.0/8\n"))
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "--select", "WPL103", "serverless.yml")
    assert err[0] == ("serverless.yml:29: WPL103: no fix to apply: Restrict 0.0.0.0/0 on Jump: self:custom.cidr "
                      "holds 2 values and ${sls:stage} chooses one; restrict each by hand")
    assert "-            CidrIp: 0.0.0.0/0\n" in out  # the literal 5986 rule is still restricted
    assert code == 1


UNKNOWN = """\
service: s
provider: {name: aws}
resources:
  Resources:
    Sg:
      Type: AWS::EC2::SecurityGroup
      Properties:
        GroupDescription: s
        SecurityGroupIngress:
          - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: "${ssm:/net/admin}"}
          - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: "${env:SMB_CIDR}"}
          - {IpProtocol: tcp, FromPort: 5985, ToPort: 5985, CidrIp: "${opt:cidr}"}
          - {IpProtocol: tcp, FromPort: 135, ToPort: 135, CidrIp: "${cf:net.AdminCidr}"}
          - {IpProtocol: tcp, FromPort: 5986, ToPort: 5986, CidrIp: "${param:adminCidr}"}
          - {IpProtocol: tcp, FromPort: 9955, ToPort: 9955, CidrIp: "${file(./net.yml):admin}"}
"""


def test_values_known_only_at_deploy_time_or_in_another_file_are_display_only_naming_their_source(
        fix_project, capsys):
    (fix_project / "serverless.yml").write_text(UNKNOWN)
    (fix_project / "net.yml").write_text("admin: 0.0.0.0/0\n")
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "--severity", "info", "serverless.yml")
    assert (code, out) == (1, "")
    assert err == [
        'serverless.yml:10: WPL001: no fix to apply: Restrict ${ssm:/net/admin} on Sg: ssm:/net/admin is known '
        'only at deploy time; make it an admin source there',
        'serverless.yml:11: WPL001: no fix to apply: Restrict ${env:SMB_CIDR} on Sg: env:SMB_CIDR is known only at '
        'deploy time; make it an admin source there',
        'serverless.yml:12: WPL001: no fix to apply: Restrict ${opt:cidr} on Sg: opt:cidr is known only at deploy '
        'time; make it an admin source there',
        'serverless.yml:13: WPL001: no fix to apply: Restrict ${cf:net.AdminCidr} on Sg: cf:net.AdminCidr is known '
        'only at deploy time; make it an admin source there',
        'serverless.yml:14: WPL001: no fix to apply: Restrict ${param:adminCidr} on Sg: param:adminCidr is known '
        'only at deploy time; make it an admin source there',
        'serverless.yml:15: WPL202: no fix to apply: Restrict 0.0.0.0/0 on Sg: the value is written in net.yml '
        '(file(./net.yml):admin); change it there',
        '0 fixes to apply (with --apply), 6 findings without a fix to apply']
    assert (fix_project / "net.yml").read_text() == "admin: 0.0.0.0/0\n"


FRAGMENT = """\
Resources:
  Jump:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: jump
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: "${self:custom.adminCidr}"}
        - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: "${opt:smb, '0.0.0.0/0'}"}
"""


def test_a_fragment_is_restricted_only_where_its_own_text_decides(fix_project, capsys):
    """The service's ``custom`` value a fragment's rule takes is written in the service: no edit of
    the fragment can change it. A default written in the fragment can be."""
    (fix_project / "serverless.yml").write_text(
        "service: s\nprovider: {name: aws}\ncustom:\n  adminCidr: 0.0.0.0/0\nresources:\n"
        "  - ${file(./resources/sg.yml)}\n")
    (fix_project / "resources").mkdir()
    (fix_project / "resources" / "sg.yml").write_text(FRAGMENT)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", ".")
    assert err == ["resources/sg.yml:7: WPL101: not fixed: it comes from a file that reads this one (a parent "
                   "stack, a service), which cannot be checked again before writing",
                   "1 fix to apply (with --apply)"]
    fixes = json.loads(run(capsys, "check", "--format", "json", ".")[1])["findings"][0]["fixes"]
    assert [(fix["title"], fix["applicability"]) for fix in fixes] == [
        ("Restrict 0.0.0.0/0 on Jump: the value is the service's self:custom.adminCidr, and this file is a fragment "
         "of its resources; restrict it in the service", "display-only"),
        ("Remove Jump's rule 3389/tcp from 0.0.0.0/0", "unsafe")]
    assert out == """\
--- a/resources/sg.yml
+++ b/resources/sg.yml
@@ -5,4 +5,4 @@
       GroupDescription: jump
       SecurityGroupIngress:
         - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: "${self:custom.adminCidr}"}
-        - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: "${opt:smb, '0.0.0.0/0'}"}
+        - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: "${opt:smb, '203.0.113.0/24'}"}
"""
    assert code == 1


def test_a_value_a_fragments_rule_uses_too_is_shared(fix_project, capsys):
    (fix_project / "serverless.yml").write_text(
        "service: s\nprovider: {name: aws}\ncustom:\n  adminCidr: 0.0.0.0/0\nresources:\n"
        "  - ${file(./sg.yml)}\n"
        "  - Resources:\n      Own:\n        Type: AWS::EC2::SecurityGroup\n        Properties:\n"
        "          GroupDescription: own\n          SecurityGroupIngress:\n"
        "            - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: '${self:custom.adminCidr}'}\n")
    (fix_project / "sg.yml").write_text(FRAGMENT)
    assert run(capsys, "fix", "--unsafe-fixes", "--select", "WPL101", "serverless.yml") == (1, "", [
        "serverless.yml:13: WPL101: no fix to apply: Restrict 0.0.0.0/0 on Own: self:custom.adminCidr is shared "
        "(used 2 times); give this rule a value of its own",
        "sg.yml:7: WPL101: not fixed: it comes from a file that reads this one (a parent stack, a service), which "
        "cannot be checked again before writing",
        "0 fixes to apply (with --apply), 1 finding without a fix to apply"])


JSON_SERVICE = {
    "service": "s", "provider": {"name": "aws"}, "custom": {"v6": "::/0", "cidr": "0.0.0.0/0"},
    "resources": {"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "s", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "${self:custom.cidr}"},
            {"IpProtocol": "tcp", "FromPort": 5986, "ToPort": 5986, "CidrIpv6": "${self:custom.v6}"}]}}}}}


def test_a_json_service_is_restricted_in_its_custom_entry_and_says_what_no_source_fits(fix_project, capsys):
    text = json.dumps(JSON_SERVICE, indent="\t")
    (fix_project / "serverless.json").write_text(text)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "--reason", "x", "serverless.json")
    assert out == """\
--- a/serverless.json
+++ b/serverless.json
@@ -5,7 +5,7 @@
 \t},
 \t"custom": {
 \t\t"v6": "::/0",
-\t\t"cidr": "0.0.0.0/0"
+\t\t"cidr": "203.0.113.0/24"
 \t},
 \t"resources": {
 \t\t"Resources": {
"""
    assert err == ["serverless.json:27: WPL103: no fix to apply: Restrict ::/0 on Sg at self:custom.v6 (line 7): no "
                   "IPv6 admin source is configured ([tool.winportlint.fix] cidrs, prefix_list or security_group)",
                   "1 fix to apply (with --apply), 1 finding without a fix to apply"]
    assert code == 1


#: Bytes a careless rewrite would change: a BOM, CRLF, a tab, trailing spaces, comments, an
#: anchored value (its aliases share it: not edited), flow style.
AWKWARD = ("\ufeffservice: s # keep\r\n"
           "provider: {name: aws}\r\n"
           "custom:\r\n"
           "  shared: &w 0.0.0.0/0   \r\n"
           "  other: *w\r\n"
           "  admin:\t'0.0.0.0/0'  # ünïcode\r\n"
           "resources:\r\n"
           "  Resources:\r\n"
           "    Sg:\r\n"
           "      Type: AWS::EC2::SecurityGroup\r\n"
           "      Properties:\r\n"
           "        GroupDescription: s\r\n"
           "        SecurityGroupIngress:\r\n"
           "          - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: '${self:custom.admin}'}   \r\n"
           "          - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: '${self:custom.shared}'}\r\n")


def test_every_byte_outside_the_edits_stays(fix_project, capsys):
    path = fix_project / "serverless.yml"
    path.write_bytes(AWKWARD.encode())
    code, out, err = run(capsys, "fix", "--apply", "--unsafe-fixes", "serverless.yml")
    assert (code, out) == (1, "")
    assert err == ["serverless.yml:15: WPL102: no fix to apply: Restrict 0.0.0.0/0 to 203.0.113.0/24 on Sg at "
                   "self:custom.shared (line 4): the value is anchored (&w) for aliases to share; change it by hand",
                   "1 fix applied, 1 finding without a fix to apply"]
    assert path.read_bytes() == AWKWARD.replace("\t'0.0.0.0/0'", "\t'203.0.113.0/24'").encode()
    path.write_bytes(AWKWARD.encode())
    assert run(capsys, "fix", "--apply", "--reason", "x", "serverless.yml") == (0, "", ["2 fixes applied"])
    assert path.read_bytes() == AWKWARD.replace(
        "'${self:custom.admin}'}   \r\n", "'${self:custom.admin}'}     # winportlint: ignore[WPL101] x\r\n").replace(
        "'${self:custom.shared}'}\r\n", "'${self:custom.shared}'}  # winportlint: ignore[WPL102] x\r\n").encode()


def test_a_chain_of_custom_values_is_followed_to_its_end_and_a_cycle_is_said(fix_project, capsys):
    path = fix_project / "serverless.yml"
    path.write_text(SERVICE.replace('  net:\n    admin: "0.0.0.0/0"\n',
                                    "  net:\n    admin: ${self:custom.base}\n  base: 0.0.0.0/0\n"))
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "--select", "WPL102", "serverless.yml")
    assert "-  base: 0.0.0.0/0\n+  base: 203.0.113.0/24\n" in out
    assert (code, err) == (1, ["1 fix to apply (with --apply)"])
    path.write_text(SERVICE.replace('  net:\n    admin: "0.0.0.0/0"\n',
                                    "  net:\n    admin: ${self:custom.net.admin}\n"))
    assert run(capsys, "fix", "--unsafe-fixes", "--severity", "info", "--select", "WPL001", "serverless.yml") == (
        1, "", ["serverless.yml:24: WPL001: no fix to apply: Restrict ${self:custom.net.admin} on Jump: "
                "${self:custom.net.admin} refers to itself through other variables",
                "0 fixes to apply (with --apply), 1 finding without a fix to apply"])


def _planted(self, finding, request, read):
    """A Serverless restrict that edits the wrong custom entry (the 445 rule's, not the 3389 rule's)."""
    path = finding.location.file
    data = read(path)
    start = data.index(b'"0.0.0.0/0"')
    return [Fix("planted", "unsafe", (TextEdit(path, start, start + 11, '"203.0.113.0/24"'),))]


def test_verification_reads_the_patched_service_again_and_refuses_a_fix_that_leaves_the_exposure(
        fix_project, capsys, monkeypatch):
    from winportlint.plugins.cloudformation import CloudFormationFormat

    path = fix_project / "serverless.yml"
    path.write_text(SERVICE)
    monkeypatch.setattr(CloudFormationFormat, "fixes", _planted)
    code, out, err = run(capsys, "fix", "--apply", "--unsafe-fixes", "--select", "WPL101", "serverless.yml")
    assert (code, out, err) == (1, "", ["serverless.yml: not fixed: the fixed file would still have WPL101 on Jump",
                                        "0 fixes applied"])
    assert path.read_text() == SERVICE


def test_a_file_that_is_not_there_leaves_the_value_to_the_default_which_is_restricted(fix_project, capsys):
    """``env.yml`` is written at deploy time: offline the framework takes the default, so it is edited."""
    (fix_project / "serverless.yml").write_text(UNKNOWN.replace('"${ssm:/net/admin}"', "\"${file(./env.yml):cidr, '0.0.0.0/0'}\""))
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "--select", "WPL101", "serverless.yml")
    assert "+          - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: \"${file(./env.yml):cidr, " \
           "'203.0.113.0/24'}\"}\n" in out
    assert (code, err) == (1, ["1 fix to apply (with --apply)"])


def test_a_variable_nested_deeper_than_the_framework_is_followed_gets_a_reason_not_a_crash(fix_project, capsys):
    deep = "${opt:x, " * 500 + "'0.0.0.0/0'" + "}" * 500
    (fix_project / "serverless.yml").write_text(UNKNOWN.replace("${ssm:/net/admin}", deep))
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "--severity", "info", "--select", "WPL001",
                         "serverless.yml")
    assert (code, out) == (1, "")
    assert err[0].startswith("serverless.yml:10: WPL001: no fix to apply: Restrict ${opt:x, ${opt:x, ")
    assert err[0].endswith("(5011 characters) goes through more variables than are followed offline")
