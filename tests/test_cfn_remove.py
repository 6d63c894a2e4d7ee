"""``winportlint fix`` removing a CloudFormation rule (issue #20): the item of the group's list or
the rule's own resource deleted, every other byte kept, and what a removal cannot reach named."""

from __future__ import annotations

import pytest
from test_fixes import run


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-10")
    (tmp_path / "pyproject.toml").write_text("")
    return tmp_path


BLOCK = """\
Resources:
  Jump:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: jump
      SecurityGroupIngress:
        # the partner's range
        - IpProtocol: tcp
          FromPort: 22
          ToPort: 22
          CidrIp: 198.51.100.0/24
        - IpProtocol: tcp   # rdp, for now
          FromPort: 3389

          # until the VPN is up
          ToPort: 3389
          CidrIp: 0.0.0.0/0
        -
          IpProtocol: tcp
          FromPort: 445
          ToPort: 445
          CidrIp: 0.0.0.0/0

      Tags: [{Key: team, Value: ops}]
  Files:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: files
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}  # smb
  Rdp:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !Ref Files
      IpProtocol: tcp
      FromPort: 3389
      ToPort: 3389
      CidrIp: 0.0.0.0/0   # until the bastion is built

  WinRm:   # kept: an output names it
    Type: AWS::EC2::SecurityGroupIngress
    Properties: {GroupId: !Ref Files, IpProtocol: tcp, FromPort: 5985, ToPort: 5985, CidrIp: 0.0.0.0/0}
Outputs:
  Rule:
    Value: !Ref WinRm
"""


def test_block_items_go_with_their_lines_and_comments_and_a_referenced_resource_stays(project, capsys):
    path = project / "t.yaml"
    path.write_text(BLOCK)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "t.yaml")
    assert out == """\
--- a/t.yaml
+++ b/t.yaml
@@ -9,33 +9,13 @@
           FromPort: 22
           ToPort: 22
           CidrIp: 198.51.100.0/24
-        - IpProtocol: tcp   # rdp, for now
-          FromPort: 3389
-
-          # until the VPN is up
-          ToPort: 3389
-          CidrIp: 0.0.0.0/0
-        -
-          IpProtocol: tcp
-          FromPort: 445
-          ToPort: 445
-          CidrIp: 0.0.0.0/0
 
       Tags: [{Key: team, Value: ops}]
   Files:
     Type: AWS::EC2::SecurityGroup
     Properties:
       GroupDescription: files
-      SecurityGroupIngress:
-        - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}  # smb
-  Rdp:
-    Type: AWS::EC2::SecurityGroupIngress
-    Properties:
-      GroupId: !Ref Files
-      IpProtocol: tcp
-      FromPort: 3389
-      ToPort: 3389
-      CidrIp: 0.0.0.0/0   # until the bastion is built
+      SecurityGroupIngress: []
 
   WinRm:   # kept: an output names it
     Type: AWS::EC2::SecurityGroupIngress
"""
    assert err == ["t.yaml:42: WPL103: no fix to apply: Remove WinRm, the rule 5985/tcp from 0.0.0.0/0: Outputs Rule "
                   "(Ref, line 45) refers to it; remove that first",
                   "4 fixes to apply (with --apply), 1 finding without a fix to apply"]
    assert (code, path.read_text()) == (1, BLOCK)


def test_removals_are_applied_only_with_unsafe_fixes_and_a_second_run_finds_nothing_more(project, capsys):
    path = project / "t.yaml"
    path.write_text(BLOCK)
    assert run(capsys, "fix", "--apply", "t.yaml") == (1, "", [
        "t.yaml:42: WPL103: no fix to apply: Remove WinRm, the rule 5985/tcp from 0.0.0.0/0: Outputs Rule "
        "(Ref, line 45) refers to it; remove that first",
        "0 fixes applied, 4 more with --unsafe-fixes, 1 finding without a fix to apply"])
    assert path.read_text() == BLOCK
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "t.yaml")[2][-1] == \
        "4 fixes applied, 1 finding without a fix to apply"
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "t.yaml")[2] == [
        "t.yaml:22: WPL103: no fix to apply: Remove WinRm, the rule 5985/tcp from 0.0.0.0/0: Outputs Rule "
        "(Ref, line 25) refers to it; remove that first", "0 fixes applied, 1 finding without a fix to apply"]
    code, out, _ = run(capsys, "check", "t.yaml")
    assert code == 1 and "1 finding (1 critical) in 1 file" in out


JSON = """\
{
  "Resources": {
    "Jump": {
      "Type": "AWS::EC2::SecurityGroup",
      "Properties": {
        "GroupDescription": "jump",
        "SecurityGroupIngress": [
          {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"},
          {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "198.51.100.0/24"},
          {"IpProtocol": "tcp", "FromPort": 445, "ToPort": 445, "CidrIp": "0.0.0.0/0"}
        ]
      }
    },
    "Files": {
      "Type": "AWS::EC2::SecurityGroup",
      "Properties": {"GroupDescription": "files", "SecurityGroupIngress": [
        {"IpProtocol": "tcp", "FromPort": 445, "ToPort": 445, "CidrIp": "0.0.0.0/0"}]}
    },
    "WinRm": {
      "Type": "AWS::EC2::SecurityGroupIngress",
      "Properties": {"GroupId": {"Fn::GetAtt": ["Jump", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 5985,
                     "ToPort": 5986, "CidrIp": "0.0.0.0/0"}
    },
    "Later": {
      "Type": "AWS::EC2::SecurityGroupIngress",
      "DependsOn": ["Rpc"],
      "Properties": {"GroupId": {"Ref": "Files"}, "IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389,
                     "CidrIp": "0.0.0.0/0"}
    },
    "Rpc": {
      "Type": "AWS::EC2::SecurityGroupIngress",
      "Properties": {"GroupId": {"Ref": "Files"}, "IpProtocol": "tcp", "FromPort": 135, "ToPort": 135,
                     "CidrIp": "0.0.0.0/0"}
    }
  }
}"""


def test_json_elements_and_members_go_with_the_right_comma(project, capsys):
    path = project / "t.json"
    path.write_text(JSON)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "t.json")
    assert out == """\
--- a/t.json
+++ b/t.json
@@ -5,27 +5,13 @@
       "Properties": {
         "GroupDescription": "jump",
         "SecurityGroupIngress": [
-          {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"},
-          {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "198.51.100.0/24"},
-          {"IpProtocol": "tcp", "FromPort": 445, "ToPort": 445, "CidrIp": "0.0.0.0/0"}
+          {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "198.51.100.0/24"}
         ]
       }
     },
     "Files": {
       "Type": "AWS::EC2::SecurityGroup",
-      "Properties": {"GroupDescription": "files", "SecurityGroupIngress": [
-        {"IpProtocol": "tcp", "FromPort": 445, "ToPort": 445, "CidrIp": "0.0.0.0/0"}]}
-    },
-    "WinRm": {
-      "Type": "AWS::EC2::SecurityGroupIngress",
-      "Properties": {"GroupId": {"Fn::GetAtt": ["Jump", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 5985,
-                     "ToPort": 5986, "CidrIp": "0.0.0.0/0"}
-    },
-    "Later": {
-      "Type": "AWS::EC2::SecurityGroupIngress",
-      "DependsOn": ["Rpc"],
-      "Properties": {"GroupId": {"Ref": "Files"}, "IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389,
-                     "CidrIp": "0.0.0.0/0"}
+      "Properties": {"GroupDescription": "files", "SecurityGroupIngress": []}
     },
     "Rpc": {
       "Type": "AWS::EC2::SecurityGroupIngress",
"""
    assert err == ["t.json:33: WPL104: no fix to apply: Remove Rpc, the rule 135/tcp from 0.0.0.0/0: resource Later "
                   "(DependsOn, line 24) refers to it; remove that first",
                   "5 fixes to apply (with --apply), 1 finding without a fix to apply"]
    assert code == 1


#: A flow list over lines with a comment between items, CRLF line ends, a one-item flow list.
FLOW = ("Resources:\r\n"
        "  Jump:\r\n"
        "    Type: AWS::EC2::SecurityGroup\r\n"
        "    Properties:\r\n"
        "      GroupDescription: jump\r\n"
        "      SecurityGroupIngress: [\r\n"
        "        {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 198.51.100.0/24},  # partner\r\n"
        "        {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: \"0.0.0.0/0\"},\r\n"
        "        {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}\r\n"
        "      ]\r\n"
        "      SecurityGroupEgress: [{IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}]\r\n")


def test_flow_items_go_with_their_comma_keeping_a_comment_and_crlf(project, capsys):
    path = project / "t.yaml"
    path.write_bytes(FLOW.encode())
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "--select", "WPL1,WPL501", "t.yaml") == (
        0, "", ["3 fixes applied"])
    assert path.read_bytes() == FLOW.replace(
        "198.51.100.0/24},  # partner\r\n"
        "        {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: \"0.0.0.0/0\"},\r\n"
        "        {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}\r\n",
        "198.51.100.0/24}  # partner\r\n").replace(
        "SecurityGroupEgress: [{IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}]",
        "SecurityGroupEgress: []").encode()
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "--select", "WPL1,WPL501", "t.yaml") == (
        0, "", ["0 fixes applied"])


UNREACHABLE = """\
Transform: AWS::LanguageExtensions
Conditions:
  Open: !Equals [!Ref AWS::Region, us-east-1]
Resources:
  Jump:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: jump
      SecurityGroupIngress:
        - !If [Open, {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}, !Ref AWS::NoValue]
  Files:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: files
  Fn::ForEach::Rules:
    - Port
    - ["5985", "5986"]
    - WinRm${Port}:
        Type: AWS::EC2::SecurityGroupIngress
        Properties: {GroupId: !Ref Files, IpProtocol: tcp, FromPort: !Ref Port, ToPort: !Ref Port, CidrIp: 0.0.0.0/0}
  Rdp:
    Type: AWS::EC2::SecurityGroupIngress
    Properties: {GroupId: !GetAtt Files.GroupId, IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}
  Smb:
    Type: AWS::EC2::SecurityGroupIngress
    Properties: {GroupId: !Ref Files, IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}
  Waiter:
    Type: AWS::CloudFormation::WaitConditionHandle
    Metadata: {Rule: !GetAtt [Smb, Id]}
Outputs:
  RdpRule:
    Value: !Sub "rule ${Rdp}"
"""


def test_a_rule_a_condition_chooses_a_loop_makes_or_something_refers_to_is_display_only(project, capsys):
    (project / "t.yaml").write_text(UNREACHABLE)
    assert run(capsys, "fix", "--unsafe-fixes", "t.yaml") == (1, "", [
        "t.yaml:10: WPL101: no fix to apply: Remove Jump's rule 3389/tcp from 0.0.0.0/0: Fn::If chooses the rule "
        "(line 10); change the condition by hand",
        "t.yaml:20: WPL103: no fix to apply: Remove WinRm5985, the rule 5985/tcp from 0.0.0.0/0: Fn::ForEach makes "
        "the resource; change the loop by hand",
        "t.yaml:20: WPL103: no fix to apply: Remove WinRm5986, the rule 5986/tcp from 0.0.0.0/0: Fn::ForEach makes "
        "the resource; change the loop by hand",
        "t.yaml:23: WPL101: no fix to apply: Remove Rdp, the rule 3389/tcp from 0.0.0.0/0: Outputs RdpRule "
        "(Fn::Sub, line 32) refers to it; remove that first",
        "t.yaml:26: WPL102: no fix to apply: Remove Smb, the rule 445/tcp from 0.0.0.0/0: resource Waiter "
        "(Fn::GetAtt, line 29) refers to it; remove that first",
        "0 fixes to apply (with --apply), 5 findings without a fix to apply"])


def test_a_rule_of_a_nested_stack_is_display_only(project, capsys):
    from test_nested_stacks import CHILD, stack

    (project / "child.yaml").write_text(CHILD)
    (project / "parent.yaml").write_text(stack("child.yaml", "        AdminCidr: 0.0.0.0/0\n"))
    assert run(capsys, "fix", "--unsafe-fixes", ".") == (1, "", [
        "child.yaml:13: WPL101: no fix to apply: Remove Network.AdminGroup's rule 3389/tcp from 0.0.0.0/0: the "
        "template is nested stack Network (parent.yaml:2), whose parameters decide the rule, and other stacks may "
        "use it; remove the rule by hand",
        "0 fixes to apply (with --apply), 1 finding without a fix to apply"])


def test_an_item_holding_an_anchor_another_rule_aliases_is_display_only(project, capsys):
    """B's rule is A's, aliased: removing either item would delete it from both groups."""
    (project / "t.yaml").write_text(
        "Resources:\n"
        "  A:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: a\n"
        "      SecurityGroupIngress:\n"
        "        - &rdp {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}\n"
        "        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 198.51.100.0/24}\n"
        "  B:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: b\n"
        "      SecurityGroupIngress: [*rdp]\n")
    assert run(capsys, "fix", "--unsafe-fixes", "t.yaml") == (1, "", [
        "t.yaml:7: WPL101: no fix to apply: Remove A's rule 3389/tcp from 0.0.0.0/0: it holds the anchor &rdp that "
        "aliases share; remove it by hand",
        "t.yaml:7: WPL101: no fix to apply: Remove B's rule 3389/tcp from 0.0.0.0/0: the rule is written at line 7, "
        "above its resource, where other resources may take it too (an anchor's aliases, a Serverless variable); "
        "change it by hand",
        "0 fixes to apply (with --apply), 2 findings without a fix to apply"])


def test_an_item_aliased_within_its_resource_is_display_only(project, capsys):
    (project / "t.yaml").write_text(
        "Resources:\n"
        "  A:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: a\n"
        "      SecurityGroupIngress:\n"
        "        - &smb {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}\n"
        "      SecurityGroupEgress: [*smb]\n")
    assert run(capsys, "fix", "--unsafe-fixes", "--select", "WPL102,WPL501", "t.yaml")[2] == [
        "t.yaml:7: WPL102: no fix to apply: Remove A's rule 445/tcp from 0.0.0.0/0: it holds the anchor &smb that "
        "aliases share; remove it by hand",
        "t.yaml:7: WPL501: no fix to apply: Remove A's rule 445/tcp to 0.0.0.0/0: it is an alias of the rule at "
        "line 7; remove it by hand",
        "0 fixes to apply (with --apply), 2 findings without a fix to apply"]


MERGED = """\
Metadata:
  Base: &base
    GroupDescription: shared
    SecurityGroupIngress:
      - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}
Resources:
  A:
    Type: AWS::EC2::SecurityGroup
    Properties:
      <<: *base
  B:
    Type: AWS::EC2::SecurityGroup
    Properties:
      <<: *base
      GroupDescription: b
"""


@pytest.mark.parametrize("sources, verb", [("", "Remove {}'s rule 3389/tcp from 0.0.0.0/0"),
                                           ('cidrs = ["203.0.113.0/24"]', "Restrict 0.0.0.0/0 on {}"),
                                           ('prefix_list = "pl-12345678"', "Restrict 0.0.0.0/0 on {}")])
def test_a_rule_merged_into_groups_from_an_anchor_is_changed_for_none(project, capsys, sources, verb):
    """Editing the anchored mapping would change every group that merges it."""
    (project / "pyproject.toml").write_text(f"[tool.winportlint.fix]\n{sources}\n")
    path = project / "t.yaml"
    path.write_text(MERGED)
    code, out, err = run(capsys, "fix", "--apply", "--unsafe-fixes", "t.yaml")
    assert (code, out) == (1, "")
    assert err[:2] == [f"t.yaml:5: WPL101: no fix to apply: {verb.format(group)}: the rule is written at line 5, "
                       f"above its resource, where other resources may take it too (an anchor's aliases, a Serverless "
                       f"variable); change it by hand" for group in "AB"]
    assert path.read_text() == MERGED


def test_bytes_that_no_longer_read_give_no_fix_and_raise_nothing(project):
    """An editor's buffer half typed: the format is asked of bytes other than those it parsed."""
    from conftest import lint

    from winportlint.model import FixRequest
    from winportlint.plugins.cloudformation import CloudFormationFormat

    (project / "t.yaml").write_text(BLOCK)
    findings = lint([project / "t.yaml"]).findings
    requests = [FixRequest("remove"), FixRequest("restrict", ("pl-12345678",))]
    for typed in (BLOCK[:BLOCK.index("  Rdp:")] + "  Rdp: [\n", BLOCK.replace("\n", "\r\n")[:900], ""):
        offered = [fix for finding in findings for request in requests
                   for fix in CloudFormationFormat().fixes(finding, request, lambda path: typed.encode())]
        assert [fix for fix in offered if fix.edits] == []
