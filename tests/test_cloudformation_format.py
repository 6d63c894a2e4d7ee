"""Which files are templates (by content, not name), in every encoding a template may come in."""

from __future__ import annotations

import json

from conftest import check_folder, finding_rows, lint

RDP_YAML = """\
AWSTemplateFormatVersion: "2010-09-09"
{extra}Resources:
  Rdp:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: rdp
      SecurityGroupIngress:
        - {{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}}
"""
RDP_JSON = {"Resources": {"Rdp": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
    "GroupDescription": "rdp", "SecurityGroupIngress": [
        {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"}]}}}}


def _rdp_lines(result):
    assert result.errors == []
    return [(row["resource"], row["line"], row["column"]) for row in finding_rows(result.findings)]


def test_sam_template(tmp_path):
    path = tmp_path / "template.yml"
    path.write_text(RDP_YAML.format(extra="Transform: AWS::Serverless-2016-10-31\n"))
    assert _rdp_lines(lint([tmp_path])) == [("Rdp", 9, 67)]


def test_cdk_output_and_dot_template_files(tmp_path):
    (tmp_path / "cdk.out").mkdir()
    (tmp_path / "cdk.out" / "AppStack.template.json").write_text(json.dumps(RDP_JSON))
    (tmp_path / "legacy.template").write_text(json.dumps(RDP_JSON, indent=2))
    result = lint([tmp_path])
    assert [(f.location.file.split("/")[-1], f.location.line) for f in result.findings] == [
        ("AppStack.template.json", 1), ("legacy.template", 12)]


def test_explicit_file_with_any_name_is_read(tmp_path):
    path = tmp_path / "rdp.cfn"
    path.write_text(RDP_YAML.format(extra=""))
    assert _rdp_lines(lint([path])) == [("Rdp", 8, 67)]
    assert lint([tmp_path]).files_checked == 0  # in a folder, only template suffixes are read


def test_utf16_with_bom_and_crlf(tmp_path):
    path = tmp_path / "windows-notepad.yaml"
    path.write_bytes(RDP_YAML.format(extra="").replace("\n", "\r\n").encode("utf-16"))
    assert _rdp_lines(lint([path])) == [("Rdp", 8, 67)]


def test_files_that_are_not_templates_are_skipped_not_errors(tmp_path):
    (tmp_path / "notes.yaml").write_text("title: we use AWS::EC2::SecurityGroup a lot\n")
    (tmp_path / "k8s.yaml").write_text("kind: ConfigMap\n---\nkind: Service\n")
    (tmp_path / "package.json").write_text('{"name": "x", "description": "AWS::EC2::SecurityGroup"}')
    (tmp_path / "broken-but-unrelated.yaml").write_text("a: [1, 2\n")
    result = lint([tmp_path])
    assert (result.findings, result.errors, result.files_checked) == ([], [], 0)


def test_skipped_folders(tmp_path):
    for folder in (".git", "node_modules", ".terraform", "venv-with-cfg"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.yaml").write_text(RDP_YAML.format(extra=""))
    (tmp_path / "venv-with-cfg" / "pyvenv.cfg").write_text("home = /usr\n")
    assert lint([tmp_path]).files_checked == 0


# -- issue #15: unknowns that are honest, CIDRs as AWS reads them --------------------------------

GROUP_ID_PARAMETERS = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  BastionGroup: {Type: "AWS::EC2::SecurityGroup::Id"}
  AdminGroups: {Type: "List<AWS::EC2::SecurityGroup::Id>"}
  AdminList: {Type: "AWS::EC2::PrefixList::Id"}
  RdpPort: {Type: Number}
Resources:
  Rdp:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: rdp from other groups only
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, SourceSecurityGroupId: !Ref BastionGroup}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, SourceSecurityGroupId: !Select [0, !Ref AdminGroups]}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, SourceSecurityGroupName: !ImportValue bastion}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, SourcePrefixListId: !Ref AdminList}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !Ref BastionGroup}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !Ref RdpPort}
"""


def test_a_group_id_or_a_number_is_never_an_unknown_cidr(tmp_path, capsys):
    """An id parameter (AWS::EC2::SecurityGroup::Id, a list of them, a prefix list) or a Number
    can never be 0.0.0.0/0: WPL001 said "if it is 0.0.0.0/0 this opens RDP" for each."""
    (tmp_path / "ids.yaml").write_text(GROUP_ID_PARAMETERS)
    assert check_folder(tmp_path, capsys, "--severity", "info") == (0, [], [])


def test_a_string_parameter_without_default_is_an_unknown_source(tmp_path, capsys):
    (tmp_path / "t.yaml").write_text(GROUP_ID_PARAMETERS.replace(
        "  RdpPort: {Type: Number}\n", "  RdpPort: {Type: Number}\n  AdminCidr: {Type: String}\n").replace(
        "CidrIp: !Ref RdpPort", "CidrIp: !Ref AdminCidr"))
    assert check_folder(tmp_path, capsys, "--severity", "info") == (1, [
        "t.yaml:19:67: WPL001 info 3389/tcp on Rdp may be open to the internet: parameter AdminCidr has no default; "
        "if it is 0.0.0.0/0 or ::/0 this opens 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)"],
        [])


def test_an_unknown_port_to_the_world_names_the_port_not_the_source(tmp_path, capsys):
    (tmp_path / "t.yaml").write_text(RDP_YAML.format(extra="Parameters:\n  RdpPort: {Type: Number}\n").replace(
        "FromPort: 3389, ToPort: 3389", "FromPort: !Ref RdpPort, ToPort: !Ref RdpPort"))
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [
        "t.yaml:10:83: WPL001 info Rdp is open to 0.0.0.0/0 (the whole internet) on a port not known before "
        "deployment: parameter RdpPort has no default; it may be "
        "135/tcp RPC, 137-138/udp and 139/tcp NetBIOS, 445/tcp SMB, 49152-65535/tcp RPC dynamic (open by default in "
        "the Windows Server 2012 and 2012 R2 AMIs), 3389/tcp+udp RDP, any tcp port RDP shadowing (open by default in "
        "the Windows Server 2012 R2 to 2022 AMIs), 5985-5986/tcp WinRM (open by default in the Windows Server 2012 "
        "to 2022 AMIs), and 10 more services"]
    assert "if it is 0.0.0.0/0" not in findings[0]


def test_aws_include_in_a_rule_list_is_unknown_not_silence(tmp_path, capsys):
    (tmp_path / "t.yaml").write_text(RDP_YAML.format(extra="").replace(
        "        - {IpProtocol", "        - Fn::Transform:\n            Name: AWS::Include\n"
        "            Parameters: {Location: s3://bucket/admin-rules.yaml}\n        - {IpProtocol").replace(
        "CidrIp: 0.0.0.0/0", "CidrIp: 10.0.0.0/8"))
    assert check_folder(tmp_path, capsys) == (0, [], [])  # info only
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info", "--select", "WPL001")
    assert (code, errors, len(findings)) == (1, [], 1)
    assert findings[0].startswith(
        "t.yaml:8:11: WPL001 info Rdp may be open to the internet on a port not known before deployment: "
        "SecurityGroupIngress inserted by AWS::Include of s3://bucket/admin-rules.yaml at deployment; if the "
        "source is 0.0.0.0/0 or ::/0, this may open 135/tcp RPC, ")


INVALID_CIDRS = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  AdminCidr: {Type: String, Default: "0.0.0.0/0 # admins"}
  HostCidr: {Type: String, Default: 192.168.1.0/0}
Resources:
  Rdp:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: rdp
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0/0}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 000.000.000.000/0}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0/0}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIpv6: "::/0%eth0"}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: "0.0.0.0/0 # c"}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: "::/0"}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 10.0.0.1/0}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !Ref AdminCidr}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 10.0.0.0/8}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 10.0.0.7}
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !Ref HostCidr}
"""


def test_a_cidr_aws_rejects_is_an_input_error_never_silently_not_the_world(tmp_path, capsys):
    """These were read as "not the world" with exit 0; each written one is an error at its line
    (cfn-lint's E3002), and the folder's other templates are still checked. A parameter's default
    is deployed as it is (cfn-lint only warns): no error, and EC2 keeps the network of one with
    host bits set, 192.168.1.0/0 being the whole internet."""
    (tmp_path / "bad.yaml").write_text(INVALID_CIDRS)
    (tmp_path / "open.yaml").write_text(RDP_YAML.format(extra=""))
    world = "(the whole internet) on Rdp: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)"
    assert check_folder(tmp_path, capsys) == (2, [
        f"bad.yaml:21:67: WPL101 critical 3389/tcp open from 192.168.1.0/0 {world} [CidrIp from parameter "
        "HostCidr default]",
        f"open.yaml:8:67: WPL101 critical 3389/tcp open from 0.0.0.0/0 {world}"], [
        "bad.yaml:11: error: Rdp: CidrIp '0/0' is not a valid IPv4 CIDR: AWS rejects it",
        "bad.yaml:12: error: Rdp: CidrIp '000.000.000.000/0' is not a valid IPv4 CIDR: AWS rejects it",
        "bad.yaml:13: error: Rdp: CidrIp '0.0.0.0/0/0' is not a valid IPv4 CIDR: AWS rejects it",
        "bad.yaml:14: error: Rdp: CidrIpv6 '::/0%eth0' is not a valid IPv6 CIDR: AWS rejects it",
        "bad.yaml:15: error: Rdp: CidrIp '0.0.0.0/0 # c' is not a valid IPv4 CIDR: AWS rejects it",
        "bad.yaml:16: error: Rdp: CidrIp '::/0' is an IPv6 CIDR, not IPv4: AWS rejects it",
        "bad.yaml:17: error: Rdp: CidrIp '10.0.0.1/0' has host bits set (the network is 0.0.0.0/0): cfn-lint and "
        "the Terraform provider reject it",
    ])


def test_a_list_in_a_cidr_field_is_an_input_error(tmp_path, capsys):
    (tmp_path / "t.yaml").write_text(RDP_YAML.format(extra="").replace(
        "CidrIp: 0.0.0.0/0", "CidrIp: [10.0.0.0/8, 0.0.0.0/0]"))
    assert check_folder(tmp_path, capsys) == (
        2, [], ["t.yaml:8: error: Rdp: CidrIp holds a list that is not one CIDR: AWS rejects it"])


def test_an_unknown_cidr_is_never_an_input_error(tmp_path, capsys):
    (tmp_path / "t.yaml").write_text(RDP_YAML.format(extra="").replace(
        "CidrIp: 0.0.0.0/0", "CidrIp: !Sub '${AWS::Region}/0'"))
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors, len(findings)) == (1, [], 1)


def test_a_rule_resource_whose_properties_are_included_is_unknown_not_an_error(tmp_path, capsys):
    """Was "security group rule has no IpProtocol", an input error on a template CloudFormation deploys."""
    (tmp_path / "t.yaml").write_text("Resources:\n  Rule:\n    Type: AWS::EC2::SecurityGroupIngress\n"
                                     "    Properties:\n      Fn::Transform: {Name: AWS::Include, Parameters: "
                                     "{Location: s3://bucket/rule.yaml}}\n")
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors, len(findings)) == (1, [], 1)
    assert findings[0].startswith(
        "t.yaml:5:7: WPL001 info Rule may be open to the internet on a port not known before deployment: Properties "
        "inserted by AWS::Include of s3://bucket/rule.yaml at deployment; if the source is 0.0.0.0/0 or ::/0, this "
        "may open 135/tcp RPC, ")
