"""Which files are templates (by content, not name), in every encoding a template may come in."""

from __future__ import annotations

import json

from conftest import finding_rows, lint

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
