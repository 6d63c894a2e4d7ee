"""Configuration, inline and Metadata suppressions, allow-lists and baselines, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from winportlint.cli import main

RDP_YAML = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bastion:{resource_comment}
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: bastion
      SecurityGroupIngress:
        - IpProtocol: tcp{rule_comment}
          FromPort: 3389
          ToPort: 3389
          CidrIp: 0.0.0.0/0
        - IpProtocol: tcp
          FromPort: 5985
          ToPort: 5985
          CidrIp: 0.0.0.0/0
"""
RDP_TF = """\
resource "aws_security_group" "bastion" { # winportlint: ignore[WPL101] partner access, SEC-42
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def _template(path: Path, resource_comment: str = "", rule_comment: str = "") -> Path:
    path.write_text(RDP_YAML.format(resource_comment=resource_comment, rule_comment=rule_comment))
    return path


def test_inline_comment_on_the_rule_line(project, capsys):
    _template(project / "t.yaml", rule_comment="  # winportlint: ignore[WPL101] partner bastion, SEC-42")
    code, lines, _ = run(capsys, "check", "t.yaml", "--show-suppressed")
    assert code == 1
    assert lines == [
        "t.yaml:15:19: WPL103 critical 5985/tcp open from 0.0.0.0/0 (the whole internet) on Bastion: "
        "WindowsRemote Management (HTTP-In) [Windows Server 2012 to 2022]",
        "t.yaml:11:19: WPL101 suppressed (partner bastion, SEC-42; t.yaml:8) 3389/tcp open from 0.0.0.0/0 "
        "(the whole internet) on Bastion: Remote Desktop - User Mode (TCP-In) [Windows Server 2012 R2 to 2022]",
        "1 finding (1 critical) in 1 file; 1 suppressed",
    ]


def test_inline_comment_on_the_resource_line_covers_every_rule_of_it(project, capsys):
    _template(project / "t.yaml", resource_comment="  # winportlint: ignore[WPL1] jump host behind the VPN")
    code, lines, _ = run(capsys, "check", "t.yaml")
    assert (code, lines) == (0, ["0 findings in 1 file; 2 suppressed"])


def test_hcl_comment(project, capsys):
    (project / "main.tf").write_text(RDP_TF)
    code, lines, _ = run(capsys, "check", ".", "--format", "json")
    document = json.loads("\n".join(lines))
    assert (code, document["findings"]) == (0, [])
    assert [(s["rule_id"], s["reason"], s["suppressed_by"]) for s in document["suppressed"]] == [
        ("WPL101", "partner access, SEC-42", "main.tf:1")]


@pytest.mark.parametrize("comment, message", [
    ("  # winportlint: ignore[WPL101]", "suppression of WPL101 needs a reason after the brackets"),
    ("  # winportlint: ignore[XYZ9] because", "suppression names unknown check id XYZ9"),
    ("  # winportlint: ignore[] because", "suppression names no check id: write ignore[WPL101] reason"),
])
def test_malformed_comments_are_errors_and_do_not_suppress(project, capsys, comment, message):
    _template(project / "t.yaml", rule_comment=comment)
    code, lines, _ = run(capsys, "check", "t.yaml")
    assert code == 2
    assert f"t.yaml:8: error: {message}" in lines
    assert lines[-1] == "2 findings (2 critical) in 1 file; 1 input error"


def test_a_comment_in_the_wrong_place_is_unused(project, capsys):
    text = RDP_YAML.format(resource_comment="", rule_comment="").replace(
        "GroupDescription: bastion", "GroupDescription: bastion  # winportlint: ignore[WPL101] misplaced")
    (project / "t.yaml").write_text(text)
    code, lines, _ = run(capsys, "check", "t.yaml", "--report-unused-ignores")
    assert code == 2
    assert "t.yaml:6: error: unused suppression: ignore[WPL101] matches no finding" in lines
    assert lines[-1] == "2 findings (2 critical) in 1 file; 1 input error"


def test_metadata_suppression_in_a_json_template(project, capsys):
    template = {"Resources": {"Bastion": {
        "Type": "AWS::EC2::SecurityGroup",
        "Metadata": {"winportlint": {"ignore": [{"id": "WPL103", "reason": "WinRM over the partner link"}]}},
        "Properties": {"GroupDescription": "b", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 5985, "ToPort": 5985, "CidrIp": "0.0.0.0/0"}]}}}}
    (project / "t.json").write_text(json.dumps(template, indent=2))
    code, lines, _ = run(capsys, "check", "t.json", "--show-suppressed")
    assert code == 0
    assert lines[0].startswith("t.json:22:23: WPL103 suppressed (WinRM over the partner link; t.json:8 (Metadata))")
    template["Resources"]["Bastion"]["Metadata"]["winportlint"]["ignore"][0].pop("reason")
    (project / "t.json").write_text(json.dumps(template, indent=2))
    code, lines, _ = run(capsys, "check", "t.json")
    assert code == 2 and "t.json:8: error: Bastion: ignore of WPL103 needs a 'reason'" in lines


def test_configuration_select_severity_exclude_and_allow(project, capsys):
    _template(project / "t.yaml")
    (project / "legacy").mkdir()
    _template(project / "legacy" / "old.yaml")
    (project / "pyproject.toml").write_text("""
[tool.winportlint]
ignore = ["WPL103"]
exclude = ["legacy"]

[[tool.winportlint.allow]]
resource = "Bast*"
ports = "3389"
reason = "partner RDP through the bastion, SEC-42"
""")
    code, lines, _ = run(capsys, "check", ".", "--show-suppressed")
    assert code == 0
    assert lines[-1] == "0 findings in 1 file; 1 suppressed"
    assert "(partner RDP through the bastion, SEC-42; pyproject.toml [tool.winportlint] allow[0])" in lines[0]
    code, lines, _ = run(capsys, "check", ".", "--ignore", "WPL2")  # a flag wins over the file
    assert code == 1 and lines[-1] == "1 finding (1 critical) in 1 file; 1 suppressed"


def test_inline_suppressions_can_be_forbidden(project, capsys):
    _template(project / "t.yaml", rule_comment="  # winportlint: ignore[WPL101] partner")
    (project / ".winportlint.toml").write_text("inline_ignores = false\n")
    code, lines, _ = run(capsys, "check", "t.yaml")
    assert code == 2
    assert "t.yaml:8: error: inline suppressions are disabled by the configuration" in lines
    assert lines[-1] == "2 findings (2 critical) in 1 file; 1 input error"


@pytest.mark.parametrize("text, message", [
    ("colour = 1\n", ".winportlint.toml: unknown key colour (known: allow, catalog, exclude, ignore, "
                     "inline_ignores, os, select, severity)"),
    ("severity = 'loud'\n", ".winportlint.toml: severity must be one of info, low, medium, high, critical, not 'loud'"),
    ("[[allow]]\nresource = 'X'\nports = '3389'\n", ".winportlint.toml: allow[0] (X) needs a reason"),
    ("[[allow]]\nresource = 'X'\nports = '70000'\nreason = 'r'\n",
     ".winportlint.toml: allow[0]: ports must be a port or a range such as \"3389\" or \"49152-65535\""),
    ("select = 'WPL1'\n", ".winportlint.toml: select must be a list"),
    ("select = [\n", ".winportlint.toml: invalid TOML: "),
])
def test_bad_configuration_is_a_usage_error(project, capsys, text, message):
    _template(project / "t.yaml")
    (project / ".winportlint.toml").write_text(text)
    code, lines, err = run(capsys, "check", "t.yaml")
    assert code == 2 and lines == []
    assert err.startswith(f"winportlint: error: {message}")


def test_baseline_survives_moved_lines_but_not_new_ports(project, capsys):
    _template(project / "t.yaml")
    code, _, err = run(capsys, "check", "t.yaml", "--write-baseline", "baseline.json")
    assert (code, err) == (0, "winportlint: wrote 2 findings to baseline.json\n")
    moved = RDP_YAML.format(resource_comment="", rule_comment="").replace("Resources:", "Description: x\n\nResources:")
    (project / "t.yaml").write_text(moved)
    code, lines, _ = run(capsys, "check", "t.yaml", "--baseline", "baseline.json")
    assert (code, lines) == (0, ["0 findings in 1 file; 2 in the baseline"])
    (project / "t.yaml").write_text(moved.replace("FromPort: 5985\n          ToPort: 5985",
                                                  "FromPort: 5985\n          ToPort: 5986"))
    code, lines, _ = run(capsys, "check", "t.yaml", "--baseline", "baseline.json")
    assert code == 1
    assert lines[-1] == "1 finding (1 critical) in 1 file; 1 in the baseline"
    assert "5985-5986/tcp" in lines[0]


def test_output_format_writes_a_second_format(project, capsys):
    _template(project / "t.yaml")
    code, lines, _ = run(capsys, "check", "t.yaml", "--output", "r.sarif", "--output-format", "sarif")
    assert code == 1 and lines[-1] == "2 findings (2 critical) in 1 file"
    assert json.loads((project / "r.sarif").read_text())["version"] == "2.1.0"
