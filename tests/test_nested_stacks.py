"""Templates that call templates (issue #15): a nested stack's local template is evaluated with the
values its parent passes, its findings named after the parent's stack and placed in the child."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import check_folder, write_files
from winportlint import cache as result_cache
from winportlint.cli import main

CASES = Path(__file__).parent / "cases" / "WPL101"
RDP = "3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)"
CHILD = """Parameters:
  AdminCidr:
    Type: String
Resources:
  AdminGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: admin
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: !Ref AdminCidr
"""


def stack(url: str, parameters: str = "", name: str = "Network") -> str:
    """A template with one AWS::CloudFormation::Stack (TemplateURL on line 5, Parameters after it)."""
    passed = f"      Parameters:\n{parameters}" if parameters else ""
    return f"Resources:\n  {name}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n" \
           f"      TemplateURL: {url}\n{passed}"


def rdp(where: str, resource: str, steps: str) -> str:
    return f"{where} WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on {resource}: {RDP} [{steps}]"


def test_a_child_without_default_is_open_where_its_parent_passes_the_world(tmp_path, capsys):
    write_files(tmp_path, {"parent.yaml": stack("stacks/bastion.yaml", "        AdminCidr: 0.0.0.0/0\n"),
                           "stacks/bastion.yaml": CHILD})
    # The child is scanned on its own too: its WPL001 (AdminCidr has no default) is not reported beside.
    assert check_folder(tmp_path, capsys, "--severity", "info") == (1, [rdp(
        "stacks/bastion.yaml:13:19:", "Network.AdminGroup",
        "via stack Network (parent.yaml:2); CidrIp from parameter AdminCidr passed by stack Network (parent.yaml:7)")],
        [])


def test_the_child_alone_is_read_with_its_own_defaults(tmp_path, capsys):
    write_files(tmp_path, {"parent.yaml": stack("stacks/bastion.yaml", "        AdminCidr: 0.0.0.0/0\n"),
                           "stacks/bastion.yaml": CHILD})
    code, findings, errors = check_folder(tmp_path / "stacks", capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [f"bastion.yaml:13:19: WPL001 info 3389/tcp on AdminGroup may be open to the internet: "
                        f"parameter AdminCidr has no default; if it is 0.0.0.0/0 or ::/0 this opens {RDP}"]


def test_a_restricted_value_passed_leaves_nothing_of_the_childs_own_unknown(tmp_path, capsys):
    write_files(tmp_path, {"parent.yaml": stack("stacks/bastion.yaml", "        AdminCidr: 10.0.0.0/8\n"),
                           "stacks/bastion.yaml": CHILD})
    assert check_folder(tmp_path, capsys, "--severity", "info") == (0, [], [])


def test_values_come_from_the_parents_parameters_conditions_and_the_childs_defaults(capsys, monkeypatch):
    """The fixture: a literal, a parent parameter's default, an Fn::If branch, a child default."""
    monkeypatch.chdir(CASES / "bad" / "nested-stack")
    code = main(["check", "--no-cache", "--format", "json", "."])
    document = json.loads(capsys.readouterr().out)
    assert (code, document["errors"]) == (1, [])
    assert [(f["file"], f["line"], f["resource"], [p["detail"] for p in f["provenance"]])
            for f in document["findings"]] == [
        ("stacks/bastion.yaml", 15, "Bastion.AdminGroup",
         ["stack Bastion (parent.yaml:10)", "parameter AdminCidr passed by stack Bastion (parent.yaml:15)"]),
        ("stacks/bastion.yaml", 15, "Branch.AdminGroup",
         ["stack Branch (parent.yaml:22)", "parameter AdminCidr passed by stack Branch (parent.yaml:27)",
          "condition IsProd is false (pseudo parameter AWS::StackName)"]),
        ("stacks/bastion.yaml", 15, "Office.AdminGroup",
         ["stack Office (parent.yaml:16)", "parameter AdminCidr passed by stack Office (parent.yaml:21)",
          "parameter OfficeCidr default"]),
        ("stacks/shared.yaml", 16, "Shared.SupportGroup",
         ["stack Shared (parent.yaml:28)", "parameter SupportCidr default"]),
    ]
    assert {p["kind"] for f in document["findings"] for p in f["provenance"][:1]} == {"module"}


def test_a_sam_application_with_a_local_location(capsys):
    # The application from the Serverless Application Repository is not fetched: nothing is said of it.
    assert check_folder(CASES / "bad" / "sam-application", capsys) == (1, [rdp(
        "apps/jump.yaml:15:19:", "Jump.JumpGroup",
        "via stack Jump (template.yaml:5); CidrIp from parameter JumpCidr passed by stack Jump (template.yaml:10)")],
        [])


def test_a_grandchild_gets_the_value_through_every_level(tmp_path, capsys):
    write_files(tmp_path, {
        "parent.yaml": stack("middle/edge.yaml", "        EdgeCidr: 0.0.0.0/0\n", name="Edge"),
        "middle/edge.yaml": "Parameters:\n  EdgeCidr:\n    Type: String\n" + stack(
            "../stacks/bastion.yaml", "        AdminCidr: !Ref EdgeCidr\n", name="Admin"),
        "stacks/bastion.yaml": CHILD})
    (tmp_path / ".git").mkdir()  # a repository: the middle template, read on its own too, may read ../stacks
    assert check_folder(tmp_path, capsys, "--severity", "info") == (1, [rdp(
        "stacks/bastion.yaml:13:19:", "Edge.Admin.AdminGroup",
        "via stack Edge (parent.yaml:2); via stack Admin (middle/edge.yaml:5); CidrIp from parameter AdminCidr "
        "passed by stack Admin (middle/edge.yaml:10); AdminCidr from parameter EdgeCidr passed by stack Edge "
        "(parent.yaml:7)")], [])


def test_a_value_not_known_before_deployment_is_an_unknown_of_the_childs_type(tmp_path, capsys):
    child = CHILD.replace("Type: String", "Type: AWS::EC2::SecurityGroup::Id").replace("CidrIp:",
                                                                                     "SourceSecurityGroupId:")
    write_files(tmp_path, {
        "parent.yaml": stack("cidr.yaml", "        AdminCidr: !ImportValue admin-cidr\n") +
        stack("group.yaml", "        AdminCidr: !ImportValue admin-group\n", name="Groups").replace("Resources:\n", ""),
        "cidr.yaml": CHILD, "group.yaml": child})
    # Only the String parameter can be a CIDR: the group id passed to the other is never the world.
    assert check_folder(tmp_path, capsys, "--severity", "info") == (1, [
        f"cidr.yaml:13:19: WPL001 info 3389/tcp on Network.AdminGroup may be open to the internet: Fn::ImportValue "
        f"is not known before deployment; if it is 0.0.0.0/0 or ::/0 this opens {RDP} [via stack Network "
        f"(parent.yaml:2); CidrIp from parameter AdminCidr passed by stack Network (parent.yaml:7)]"], [])


def test_a_parameter_passed_as_no_value_keeps_the_childs_default(tmp_path, capsys):
    child = CHILD.replace("Type: String", "Type: String\n    Default: 0.0.0.0/0")
    write_files(tmp_path, {"parent.yaml": "Conditions:\n  Office: !Equals [!Ref 'AWS::Region', eu-west-1]\n" + stack(
        "bastion.yaml", "        AdminCidr: !If [Office, 10.0.0.0/8, !Ref 'AWS::NoValue']\n"), "bastion.yaml": child})
    assert check_folder(tmp_path, capsys) == (1, [rdp("bastion.yaml:14:19:", "Network.AdminGroup",
                                                      "via stack Network (parent.yaml:4); CidrIp from parameter "
                                                      "AdminCidr default")], [])


def test_parameters_computed_at_deployment_leave_every_child_parameter_unknown(tmp_path, capsys):
    child = CHILD.replace("Type: String", "Type: String\n    Default: 10.0.0.0/8")
    write_files(tmp_path, {"parent.yaml": "Conditions:\n  Office: !Equals [!Ref 'AWS::Region', eu-west-1]\n" + stack(
        "bastion.yaml") + "      Parameters: !If [Office, {AdminCidr: 10.0.0.0/8}, !Ref 'AWS::NoValue']\n",
        "bastion.yaml": child})
    assert check_folder(tmp_path, capsys, "--severity", "info") == (1, [
        f"bastion.yaml:14:19: WPL001 info 3389/tcp on Network.AdminGroup may be open to the internet: the "
        f"parameters of stack Network are computed at deployment; if it is 0.0.0.0/0 or ::/0 this opens {RDP} "
        f"[via stack Network (parent.yaml:4)]"], [])


def test_what_a_childs_groups_protect_is_named_through_the_stack(tmp_path, capsys):
    host = """  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: '{{resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base}}'
      SecurityGroupIds: [!Ref AdminGroup]
"""
    write_files(tmp_path, {"parent.yaml": stack("bastion.yaml", "        AdminCidr: 0.0.0.0/0\n"),
                           "bastion.yaml": CHILD.replace("Resources:\n", "Resources:\n" + host)})
    assert main(["check", "--no-cache", "--format", "json", str(tmp_path / "parent.yaml")]) == 1
    finding, = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["resource"], [(t["resource"], t["os"], t["versions"]) for t in finding["targets"]]) == (
        "Network.AdminGroup", [("Network.Host", "windows", ["2022"])])


def test_a_rule_a_child_adds_to_the_parents_group_meets_the_parents_targets(tmp_path, capsys):
    parent = """Resources:
  AppGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
  Host:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: '{{resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base}}'
      SecurityGroupIds: [!GetAtt AppGroup.GroupId]
  Access:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: access.yaml
      Parameters:
        GroupId: !GetAtt AppGroup.GroupId
"""
    child = """Parameters:
  GroupId:
    Type: AWS::EC2::SecurityGroup::Id
Resources:
  Rdp:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !Ref GroupId
      IpProtocol: tcp
      FromPort: 3389
      ToPort: 3389
      CidrIp: 0.0.0.0/0
"""
    write_files(tmp_path, {"parent.yaml": parent, "access.yaml": child})
    assert main(["check", "--no-cache", "--format", "json", str(tmp_path / "parent.yaml")]) == 1
    finding, = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["resource"], [(t["resource"], t["versions"]) for t in finding["targets"]]) == (
        "Access.Rdp", [("Host", ["2019"])])


def test_a_fan_out_of_stacks_stops_at_the_bound_with_an_error(tmp_path, capsys, monkeypatch):
    from winportlint.plugins.cloudformation import stacks

    monkeypatch.setattr(stacks, "MAX_STACKS", 5)
    twice = "Resources:\n" + "".join(f"  {name}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n"
                                     f"      TemplateURL: {{0}}\n" for name in "AB")
    write_files(tmp_path, {"l0.yaml": twice.format("l1.yaml"), "l1.yaml": twice.format("l2.yaml"),
                           "l2.yaml": CHILD.replace("!Ref AdminCidr", "10.0.0.0/8")})
    # l0 calls l1 twice, each l1 calls l2 twice: the sixth stack is one too many.
    assert main(["check", "--no-cache", str(tmp_path / "l0.yaml")]) == 2
    assert capsys.readouterr().out.splitlines()[0] == \
        f"{tmp_path / 'l1.yaml'}:9: error: B: more than 5 nested stacks below {tmp_path / 'l0.yaml'}; the rest " \
        f"are not read"


@pytest.mark.parametrize("url", ["https://s3.amazonaws.com/bucket/bastion.yaml", "s3://bucket/bastion.yaml",
                                 "'{{resolve:ssm:/templates/bastion}}'",
                                 "!Sub 'https://${AWS::Region}.example.com/stacks/bastion.yaml'"])
def test_a_remote_template_is_not_fetched_and_nothing_is_invented(tmp_path, capsys, url):
    write_files(tmp_path, {"parent.yaml": stack(url, "        AdminCidr: 0.0.0.0/0\n")})
    assert check_folder(tmp_path, capsys, "--severity", "info") == (0, [], [])


def test_a_missing_child_is_an_input_error_at_the_parents_line(tmp_path, capsys):
    write_files(tmp_path, {"parent.yaml": stack("stacks/none.yaml", "        AdminCidr: 0.0.0.0/0\n")})
    assert check_folder(tmp_path, capsys) == (2, [], [
        "parent.yaml:5: error: Network: TemplateURL 'stacks/none.yaml' cannot be read: No such file or directory"])


def test_a_child_that_is_no_template_is_an_input_error(tmp_path, capsys):
    write_files(tmp_path, {"parent.yaml": stack("notes.yaml"), "notes.yaml": "title: not a template\n"})
    assert check_folder(tmp_path, capsys) == (2, [], [
        "parent.yaml:5: error: Network: TemplateURL 'notes.yaml' is not a CloudFormation template (no Resources)"])


def test_a_fifo_child_is_an_input_error_and_never_blocks(tmp_path):
    write_files(tmp_path, {"parent.yaml": stack("pipe.yaml")})
    os.mkfifo(tmp_path / "pipe.yaml")
    done = subprocess.run([sys.executable, "-m", "winportlint.cli", "check", "--no-cache", "parent.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout.splitlines()[0]) == (2, "parent.yaml:5: error: Network: TemplateURL "
                                                                  "'pipe.yaml' cannot be read: not a regular file "
                                                                  "(a FIFO, socket or device)")


def test_a_name_with_a_nul_character_is_an_input_error(tmp_path, capsys):
    write_files(tmp_path, {"parent.json": json.dumps({"Resources": {"Network": {
        "Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "bastion.yaml\0.txt"}}}})})
    assert check_folder(tmp_path, capsys) == (2, [], [
        "parent.json:1: error: Network: TemplateURL 'bastion.yaml\\x00.txt' is not a file name"])


def test_a_template_that_calls_itself_is_an_input_error(tmp_path, capsys):
    write_files(tmp_path, {"loop.yaml": stack("./loop.yaml")})
    assert check_folder(tmp_path, capsys) == (2, [], [
        "loop.yaml:5: error: Network: TemplateURL './loop.yaml' calls a template that calls this one (a cycle)"])


def test_a_cycle_through_two_templates_is_an_input_error_and_no_finding_is_lost(tmp_path, capsys):
    rule = CHILD.split("Resources:\n")[1].replace("!Ref AdminCidr", "0.0.0.0/0")
    write_files(tmp_path, {"a.yaml": stack("b.yaml", name="B") + rule, "b.yaml": stack("a.yaml", name="A") + rule})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, errors) == (2, [
        "a.yaml:5: error: B: TemplateURL 'b.yaml' calls a template that calls this one (a cycle)",
        "b.yaml:5: error: A: TemplateURL 'a.yaml' calls a template that calls this one (a cycle)"])
    # Neither file has a caller outside the cycle: each keeps its own findings beside those through the other.
    assert [(line.split(" ")[0], line.split(" on ")[1].split(":")[0]) for line in findings] == [
        ("a.yaml:14:19:", "A.AdminGroup"), ("a.yaml:14:19:", "AdminGroup"),
        ("b.yaml:14:19:", "AdminGroup"), ("b.yaml:14:19:", "B.AdminGroup")]


def test_a_parameter_the_child_does_not_declare_is_an_input_error_as_for_cfn_lint(tmp_path, capsys):
    write_files(tmp_path, {"parent.yaml": stack("stacks/bastion.yaml", "        AdminCidr: 10.0.0.0/8\n"
                                                                          "        Unknown: x\n"),
                           "stacks/bastion.yaml": CHILD})
    assert check_folder(tmp_path, capsys) == (2, [], [
        "parent.yaml:8: error: Network: passes parameter 'Unknown', which 'stacks/bastion.yaml' does not declare"])
    from test_cfn_lint import json_matches, run_cfn_lint

    (tmp_path / "home").mkdir()
    matches = json_matches(run_cfn_lint("--format", "json", "--", "parent.yaml", cwd=tmp_path, home=tmp_path / "home"))
    assert [(m["Rule"]["Id"], m["Location"]["Start"]["LineNumber"]) for m in matches if m["Rule"]["Id"][0] == "E"] == [
        ("E3043", 8)]


@pytest.mark.parametrize("url", ["../outside/secret.yaml", "link.yaml", "/etc/hostname"])
def test_a_template_outside_the_repository_is_an_input_error_that_shows_nothing_of_it(tmp_path, capsys, url):
    secret = "SECRET-CANARY-4f1c"
    write_files(tmp_path, {"outside/secret.yaml": CHILD.replace("admin", secret) + f"# {secret}\n",
                           "repo/parent.yaml": stack(url, "        AdminCidr: 0.0.0.0/0\n")})
    (tmp_path / "repo" / ".git").mkdir()
    (tmp_path / "repo" / "link.yaml").symlink_to(tmp_path / "outside" / "secret.yaml")
    code = main(["check", "--no-cache", "--format", "json", str(tmp_path / "repo" / "parent.yaml")])
    output = capsys.readouterr().out
    assert secret not in output
    document = json.loads(output)
    assert (code, document["findings"], [(e["line"], e["message"]) for e in document["errors"]]) == (2, [], [
        (5, f"Network: TemplateURL '{url}' is outside the template's repository (its folder, outside a "
            f"repository); not read")])


def test_a_cached_run_equals_a_fresh_one_and_sees_the_child_change(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(result_cache, "SETTLE_SECONDS", 0.0)
    write_files(tmp_path, {"parent.yaml": stack("stacks/bastion.yaml", "        AdminCidr: 0.0.0.0/0\n"),
                           "stacks/bastion.yaml": CHILD})

    def run(*extra: str) -> tuple[int, str]:
        return main(["check", "--severity", "info", "--format", "json", *extra, str(tmp_path)]), \
            capsys.readouterr().out

    fresh = run("--no-cache")
    assert fresh[0] == 1 and "Network.AdminGroup" in fresh[1] and '"AdminGroup"' not in fresh[1]
    assert run() == fresh  # stores
    assert run() == fresh  # from the cache
    (tmp_path / "stacks" / "bastion.yaml").write_text(CHILD.replace("3389", "3390"))
    changed = run()
    assert changed == run("--no-cache")
    assert changed[0] == 0 and "3389" not in changed[1]


def test_the_cfn_lint_extension_reports_what_the_parent_passes_at_its_stack(tmp_path):
    from test_cfn_lint import MODULE, json_matches, run_cfn_lint

    shutil.copytree(CASES / "bad" / "nested-stack", tmp_path / "t")
    (tmp_path / "home").mkdir()
    matches = json_matches(run_cfn_lint("--format", "json", "--append-rules", MODULE, "--", "parent.yaml",
                                        "stacks/bastion.yaml", cwd=tmp_path / "t", home=tmp_path / "home"))
    ours = sorted((m["Filename"], m["Rule"]["Id"], m["Location"]["Start"]["LineNumber"], m["Location"]["Path"][:2],
                   m["Message"].split(" (written in ")[-1]) for m in matches if m["Rule"]["Id"].startswith("E9"))
    # cfn-lint lints one file at a time: the parent's findings in its children are at the stacks
    # that call them, naming where the rule is written; the child on its own has no E9 finding.
    assert ours == [("parent.yaml", "E9101", 11, ["Resources", "Bastion"], "stacks/bastion.yaml:15)"),
                    ("parent.yaml", "E9101", 17, ["Resources", "Office"], "stacks/bastion.yaml:15)"),
                    ("parent.yaml", "E9101", 23, ["Resources", "Branch"], "stacks/bastion.yaml:15)"),
                    ("parent.yaml", "E9101", 29, ["Resources", "Shared"], "stacks/shared.yaml:16)")]


def test_the_cfn_lint_extension_reports_an_error_in_a_child_at_the_parents_resources(tmp_path):
    from test_cfn_lint import MODULE, json_matches, run_cfn_lint

    write_files(tmp_path, {"t/parent.yaml": stack("bastion.yaml", "        AdminCidr: 10.0.0.0/8\n"),
                           "t/bastion.yaml": CHILD.replace("FromPort: 3389", "FromPort: rdp"), "home/.keep": ""})
    matches = json_matches(run_cfn_lint("--format", "json", "--append-rules", MODULE, "--", "parent.yaml",
                                        cwd=tmp_path / "t", home=tmp_path / "home"))
    assert [(m["Rule"]["Id"], m["Location"]["Path"], m["Message"]) for m in matches if m["Rule"]["Id"] == "W9000"] == [
        ("W9000", ["Resources"], "winportlint could not check this: bastion.yaml:11: AdminGroup: FromPort 'rdp' is "
                                 "not a port number")]


def test_a_report_is_never_written_over_a_child_the_run_reads(tmp_path, capsys):
    write_files(tmp_path, {"parent.yaml": stack("bastion.yaml", "        AdminCidr: 10.0.0.0/8\n"),
                           "bastion.yaml": CHILD})
    assert main(["check", "--no-cache", "--output", str(tmp_path / "bastion.yaml"), str(tmp_path / "parent.yaml")]) == 2
    assert "refusing to write over" in capsys.readouterr().err
    assert (tmp_path / "bastion.yaml").read_text() == CHILD


def test_values_a_parent_condition_chooses_are_paired_as_the_parent_chooses_them(tmp_path, capsys):
    """Both ends passed as ``!If [HasProxy, ...]``: the child never pairs 8000 with 80 (an input
    error on a valid template), and a stack that exists only with a proxy gets the proxy's port."""
    ports = "        From: !If [HasProxy, 8000, 3389]\n        To: !If [HasProxy, 8000, 3389]\n"
    parent = ("Parameters:\n  UseProxy: {Type: String, Default: 'no', AllowedValues: ['yes', 'no']}\n"
              "Conditions:\n  HasProxy: !Equals [!Ref UseProxy, 'yes']\n"
              + stack("stacks/port.yaml", ports, "Both")
              + stack("stacks/port.yaml", ports, "ProxyOnly").replace("Resources:\n", "").replace(
                  "    Type: AWS::CloudFormation::Stack\n", "    Type: AWS::CloudFormation::Stack\n    Condition: HasProxy\n"))
    child = ("Parameters:\n  From: {Type: Number}\n  To: {Type: Number}\nResources:\n  Group:\n"
             "    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: one port\n"
             "      SecurityGroupIngress:\n"
             "        - {IpProtocol: tcp, FromPort: !Ref From, ToPort: !Ref To, CidrIp: 0.0.0.0/0}\n")
    write_files(tmp_path, {"parent.yaml": parent, "stacks/port.yaml": child})
    code, findings, errors = check_folder(tmp_path, capsys, "--select", "WPL101")
    assert (code, errors) == (1, [])
    assert [line.rsplit(" on ", 1)[1].split(":")[0] for line in findings] == ["Both.Group"]
