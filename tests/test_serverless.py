"""Serverless Framework services (issue #15): the CloudFormation in ``resources``, inline or in
``${file()}`` fragments, with the service's variables resolved as the framework would offline."""

from __future__ import annotations

import json

from conftest import check_folder, write_files

RDP = "3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)"
SERVICE = """service: jump
provider:
  name: aws
  stage: prod
custom:
  adminCidr: 0.0.0.0/0
  rdp: 3389
resources:
  - ${file(./resources/sg.yml)}
  - Resources:
      Inline:
        Type: AWS::EC2::SecurityGroup
        Properties:
          GroupDescription: inline-${sls:stage}
          SecurityGroupIngress:
            - IpProtocol: tcp
              FromPort: ${self:custom.rdp}
              ToPort: ${self:custom.rdp}
              CidrIp: ${opt:cidr, '0.0.0.0/0'}
            - IpProtocol: tcp
              FromPort: 5985
              ToPort: 5985
              CidrIp: ${ssm:/admin/cidr}
            - IpProtocol: tcp
              FromPort: 445
              ToPort: 445
              CidrIp: ${env:SMB_CIDR, '10.0.0.0/8'}
"""
FRAGMENT = """Resources:
  Jump:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: ${self:service}-${sls:stage}
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: ${self:custom.adminCidr}
"""


def unknown(where: str, port: str, resource: str, variable: str, opens: str) -> str:
    return (f"{where} WPL001 info {port} on {resource} may be open to the internet: parameter Serverless "
            f"variable {variable} has no default; if it is 0.0.0.0/0 or ::/0 this opens {opens}")


def test_a_service_with_inline_resources_and_a_file_fragment(tmp_path, capsys):
    write_files(tmp_path, {"svc/serverless.yml": SERVICE, "svc/resources/sg.yml": FRAGMENT})
    code, findings, errors = check_folder(tmp_path / "svc", capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [
        # The fragment read through the service: the rule's line, in the fragment. Read on its own
        # (its variables are the service's, unknown there) it gives nothing more: it is the service's.
        f"resources/sg.yml:10:19: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on Jump: {RDP}",
        # ${self:...} ports and an option's default; ${env:...} takes its default, never the machine's.
        f"serverless.yml:19:23: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on Inline: {RDP}",
        unknown("serverless.yml:23:23:", "5985/tcp", "Inline", "${ssm:/admin/cidr}",
                "5985/tcp WinRM (open by default in the Windows Server 2012 to 2022 AMIs)"),
    ]


def test_the_environment_is_never_read(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SMB_CIDR", "0.0.0.0/0")
    write_files(tmp_path, {"svc/serverless.yml": SERVICE, "svc/resources/sg.yml": FRAGMENT})
    code, findings, _ = check_folder(tmp_path / "svc", capsys, "--select", "WPL102")
    assert (code, findings) == (0, [])


def test_resources_as_one_mapping_in_json(tmp_path, capsys):
    service = {"service": "s", "provider": {"name": "aws"}, "custom": {"cidr": "::/0"},
               "resources": {"Resources": {"G": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
                   "GroupDescription": "g", "SecurityGroupIngress": [
                       {"IpProtocol": "tcp", "FromPort": 5986, "ToPort": 5986, "CidrIpv6": "${self:custom.cidr}"}]}}}}}
    text = json.dumps(service)
    write_files(tmp_path, {"serverless.json": text})
    code, findings, errors = check_folder(tmp_path, capsys)
    column = text.index('"${self:custom.cidr}"') + 1
    assert (code, errors) == (1, [])
    assert findings == [f"serverless.json:1:{column}: WPL103 critical 5986/tcp open from ::/0 (the whole internet) on G: "
                        "5986/tcp WinRM (open by default in the Windows Server 2012 to 2022 AMIs)"]


def test_cycles_nested_defaults_sub_text_and_files_outside(tmp_path, capsys):
    write_files(tmp_path, {"svc/serverless.yml": """service: loop
provider:
  name: aws
custom:
  a: ${self:custom.b}
  b: ${self:custom.a}
  region: ${opt:region, ${self:provider.stage, 'eu-west-1'}}
resources:
  Resources:
    G:
      Type: AWS::EC2::SecurityGroup
      Properties:
        GroupDescription: !Sub "sg in ${AWS::Region} ${self:custom.region}"
        SecurityGroupIngress:
          - IpProtocol: tcp
            FromPort: 3389
            ToPort: 3389
            CidrIp: ${self:custom.a}
          - IpProtocol: tcp
            FromPort: 3389
            ToPort: 3389
            CidrIp: ${file(../secret/cidr.yml):cidr}
""", "secret/cidr.yml": "cidr: 0.0.0.0/0\n"})
    code, findings, errors = check_folder(tmp_path / "svc", capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [
        unknown("serverless.yml:18:21:", "3389/tcp", "G", "${self:custom.b}", RDP),  # a cycle: unknown, no hang
        unknown("serverless.yml:22:21:", "3389/tcp", "G", "${file(../secret/cidr.yml):cidr}", RDP),  # not read
    ]


def test_a_value_from_a_file_that_is_missing_is_unknown_not_an_error(tmp_path, capsys):
    """Such files are often written at deploy time and kept out of the repository."""
    write_files(tmp_path, {"svc/serverless.yml": SERVICE.replace("${opt:cidr, '0.0.0.0/0'}", "${file(./env.yml):cidr}"),
                           "svc/resources/sg.yml": FRAGMENT})
    code, findings, errors = check_folder(tmp_path / "svc", capsys, "--severity", "info", "--select", "WPL001")
    assert (code, errors) == (1, [])
    assert findings == [
        unknown("serverless.yml:19:23:", "3389/tcp", "Inline", "${file(./env.yml):cidr}", RDP),
        unknown("serverless.yml:23:23:", "5985/tcp", "Inline", "${ssm:/admin/cidr}",
                "5985/tcp WinRM (open by default in the Windows Server 2012 to 2022 AMIs)")]


def test_a_resources_fragment_that_is_missing_is_an_error(tmp_path, capsys):
    write_files(tmp_path, {"svc/serverless.yml": SERVICE})
    code, findings, errors = check_folder(tmp_path / "svc", capsys)
    assert code == 2
    assert errors == ["serverless.yml:9: error: resources fragment ./resources/sg.yml cannot be read: "
                      "No such file or directory"]
    assert findings == [f"serverless.yml:19:23: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) "
                        f"on Inline: {RDP}"]


def test_resources_and_a_resource_from_files_point_at_the_files(tmp_path, capsys):
    """``Resources: ${file(./res.yml)}`` crashed the reader (TypeError) and ``Sg: ${file(...):Sg}``
    pointed at the include line: a rule points at its line in the file it is written in."""
    resources = """Sg:
  Type: AWS::EC2::SecurityGroup
  Properties:
    GroupDescription: from a file
    SecurityGroupIngress:
      - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}
      - {IpProtocol: tcp, FromPort: 5985, ToPort: 5985, CidrIp: "${self:custom.cidr}"}
"""
    write_files(tmp_path, {
        "a/serverless.yml": "service: a\nprovider: {name: aws}\ncustom: {cidr: 0.0.0.0/0}\n"
                            "resources:\n  Resources: ${file(./res.yml)}\n",
        "a/res.yml": resources,
        "b/serverless.yml": "service: b\nprovider: {name: aws}\ncustom: {cidr: 10.0.0.0/8}\n"
                            "resources:\n  Resources:\n    Admin: ${file(../a/res.yml):Sg}\n"})
    code, findings, errors = check_folder(tmp_path, capsys, "--select", "WPL101,WPL103")
    assert (code, errors) == (1, [])
    assert findings == [
        f"a/res.yml:6:65: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on Sg: {RDP}",
        # the CIDR is the service's variable, written on this line: a's 0.0.0.0/0 (b's is 10.0.0.0/8)
        "a/res.yml:7:65: WPL103 critical 5985/tcp open from 0.0.0.0/0 (the whole internet) on Sg: "
        "5985/tcp WinRM (open by default in the Windows Server 2012 to 2022 AMIs)",
    ]


def test_a_changed_fragment_is_read_again_not_taken_from_the_cache(tmp_path, capsys):
    """The service's cached result was kept when only its fragment changed: a stale answer."""
    import os

    from winportlint.cli import main

    write_files(tmp_path, {"svc/serverless.yml": SERVICE, "svc/resources/sg.yml": FRAGMENT})
    cwd = os.getcwd()
    os.chdir(tmp_path / "svc")
    try:
        assert main(["check", "--select", "WPL101", "serverless.yml"]) == 1
        first = capsys.readouterr().out
        (tmp_path / "svc/resources/sg.yml").write_text(FRAGMENT.replace("3389", "22"))
        assert main(["check", "--select", "WPL101", "serverless.yml"]) == 1
        second = capsys.readouterr().out
    finally:
        os.chdir(cwd)
    assert "resources/sg.yml:10:19: WPL101" in first
    assert "resources/sg.yml" not in second and "serverless.yml:19:23: WPL101" in second


def test_a_service_without_variables_is_read(tmp_path, capsys):
    """A service whose resources use no variable was passed over: "0 findings in 0 files"."""
    write_files(tmp_path, {"serverless.yml": "service: plain\nprovider:\n  name: aws\nresources:\n  Resources:\n"
                                             "    Sg:\n      Type: AWS::EC2::SecurityGroup\n      Properties:\n"
                                             "        GroupDescription: x\n        SecurityGroupIngress:\n"
                                             "          - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, "
                                             "CidrIp: 0.0.0.0/0}\n"})
    code, findings, errors = check_folder(tmp_path, capsys, "--select", "WPL101")
    assert (code, errors) == (1, [])
    assert findings == [f"serverless.yml:11:69: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) "
                        f"on Sg: {RDP}"]


def test_numbers_are_read_as_the_framework_reads_them(tmp_path, capsys):
    """The framework loads its files with js-yaml 4, not YAML 1.1: ``06475`` is 6475 there (octal
    3389 in a CloudFormation template), ``0o6475`` is 3389."""
    group = """    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: x
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 06475, ToPort: 06475, CidrIp: 0.0.0.0/0}
        - {IpProtocol: tcp, FromPort: 0o6475, ToPort: 0o6475, CidrIp: "${self:custom.cidr}"}
"""
    write_files(tmp_path, {
        "serverless.yml": "service: s\nprovider: {name: aws}\ncustom: {cidr: 0.0.0.0/0}\nresources:\n"
                          "  Resources:\n    Sg:\n" + group.replace("\n    ", "\n      ").replace("    Type", "      Type", 1),
        "template.yaml": "Resources:\n  Cfn:\n" + group.replace("0o6475", "3389").replace('"${self:custom.cidr}"', "10.0.0.0/8")})
    code, findings, errors = check_folder(tmp_path, capsys, "--select", "WPL101")
    assert (code, errors) == (1, [])
    assert [line.split(": WPL101")[0] + " " + line.rsplit(" on ", 1)[1].split(":")[0] for line in findings] == [
        "serverless.yml:12:73 Sg", "template.yaml:7:69 Cfn"]


def test_a_fragment_is_reported_as_its_service_deploys_it(tmp_path, capsys):
    """A fragment (a template with the service's variables) is read as the framework reads it: 06475
    is 6475, with its service or alone. Scanned with its service, it is reported once, as deployed."""
    fragment = FRAGMENT.replace("FromPort: 3389", "FromPort: 06475").replace("ToPort: 3389", "ToPort: 06475")
    write_files(tmp_path, {"svc/serverless.yml": SERVICE, "svc/resources/sg.yml": fragment})
    code, findings, _ = check_folder(tmp_path / "svc", capsys, "--select", "WPL101,WPL001", "--severity", "info")
    assert [line.split(" WPL")[0] for line in findings] == ["serverless.yml:19:23:", "serverless.yml:23:23:"]
    code, findings, _ = check_folder(tmp_path / "svc" / "resources", capsys, "--select", "WPL001",
                                     "--severity", "info")
    assert findings == []  # 6475/tcp, from an unknown source: no Windows port


def test_a_variable_in_another_variables_address_is_part_of_the_address(tmp_path, capsys):
    """``${self:custom.cidr.${sls:stage}}`` (a value per stage) was read as the address
    ``custom.cidr.'dev'``: unknown, so the world written for the stage was missed."""
    write_files(tmp_path, {"serverless.yml": """service: s
provider: {name: aws}
custom:
  cidr: {dev: 0.0.0.0/0, prod: 10.0.0.0/8}
resources:
  Resources:
    Sg:
      Type: AWS::EC2::SecurityGroup
      Properties:
        GroupDescription: x
        SecurityGroupIngress:
          - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: "${self:custom.cidr.${sls:stage}}"}
          - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: "${opt:cidr, ${self:custom.cidr.prod}}"}
"""})
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert findings == [f"serverless.yml:12:69: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) "
                        f"on Sg: {RDP}"]
