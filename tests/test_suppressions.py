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
        "5985/tcp WinRM (open by default in the Windows Server 2012 to 2022 AMIs)",
        "t.yaml:11:19: WPL101 suppressed (partner bastion, SEC-42; t.yaml:8) 3389/tcp open from 0.0.0.0/0 "
        "(the whole internet) on Bastion: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)",
        "1 finding (1 critical) in 1 file; 1 suppressed",
        "see: winportlint explain WPL103",
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
    ("  # winportlint: ignore[XYZ9] because", "suppression names unknown check id XYZ9: write a check id such as "
                                            "WPL101 or a family prefix such as WPL1 (see 'winportlint rules')"),
    ("  # winportlint: ignore[] because", "suppression names no check id: write ignore[WPL101] reason"),
])
def test_malformed_comments_are_errors_and_do_not_suppress(project, capsys, comment, message):
    _template(project / "t.yaml", rule_comment=comment)
    code, lines, _ = run(capsys, "check", "t.yaml")
    assert code == 2
    assert f"t.yaml:8: error: {message}" in lines
    assert lines[-2:] == ["2 findings (2 critical) in 1 file; 1 input error", "see: winportlint explain WPL101 WPL103"]


def test_a_comment_in_the_wrong_place_is_unused(project, capsys):
    text = RDP_YAML.format(resource_comment="", rule_comment="").replace(
        "GroupDescription: bastion", "GroupDescription: bastion  # winportlint: ignore[WPL101] misplaced")
    (project / "t.yaml").write_text(text)
    code, lines, _ = run(capsys, "check", "t.yaml", "--report-unused-ignores")
    assert code == 2
    assert "t.yaml:6: error: unused suppression: ignore[WPL101] matches no finding" in lines
    assert lines[-2:] == ["2 findings (2 critical) in 1 file; 1 input error", "see: winportlint explain WPL101 WPL103"]


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
    assert code == 1 and lines[-2:] == ["1 finding (1 critical) in 1 file; 1 suppressed", "see: winportlint explain WPL103"]


def test_inline_suppressions_can_be_forbidden(project, capsys):
    _template(project / "t.yaml", rule_comment="  # winportlint: ignore[WPL101] partner")
    (project / ".winportlint.toml").write_text("inline_ignores = false\n")
    code, lines, _ = run(capsys, "check", "t.yaml")
    assert code == 2
    assert "t.yaml:8: error: inline suppressions are disabled by the configuration" in lines
    assert lines[-2:] == ["2 findings (2 critical) in 1 file; 1 input error", "see: winportlint explain WPL101 WPL103"]


@pytest.mark.parametrize("text, message", [
    ("colour = 1\n", ".winportlint.toml: unknown key colour (known: allow, catalog, exception_warning_days, "
                     "exclude, fail_on_empty, fix, ignore, inline_ignores, max_exception_days, os, require_expiry, "
                     "require_owner, select, severity, var_files)"),
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
    assert lines[-2:] == ["1 finding (1 critical) in 1 file; 1 in the baseline", "see: winportlint explain WPL103"]
    assert "5985-5986/tcp" in lines[0]


def test_output_format_writes_a_second_format(project, capsys):
    _template(project / "t.yaml")
    code, lines, _ = run(capsys, "check", "t.yaml", "--output", "r.sarif", "--output-format", "sarif")
    assert code == 1 and lines[-2:] == ["2 findings (2 critical) in 1 file", "see: winportlint explain WPL101 WPL103"]
    assert json.loads((project / "r.sarif").read_text())["version"] == "2.1.0"


# --- only real comments count (issue #14) ----------------------------------------------------

#: The finding of RDP_YAML's first rule, and of a group ``Sg`` or ``aws_security_group.a`` with one RDP rule.
RDP_FINDING = ("WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on {}: "
               "3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)")
SUPPRESSION = "# winportlint: ignore[WPL101] partner bastion"


def _group_yaml(rules: str, description: str = "rdp") -> str:
    """A template whose group ``Sg`` has the ingress rules given; with a one-line
    description, they start at line 7."""
    return ("Resources:\n"
            "  Sg:\n"
            "    Type: AWS::EC2::SecurityGroup\n"
            "    Properties:\n"
            f"      GroupDescription: {description}\n"
            "      SecurityGroupIngress:\n"
            f"{rules}")


RDP_RULE = "        - IpProtocol: tcp\n          FromPort: 3389\n          ToPort: 3389\n          CidrIp: 0.0.0.0/0\n"
RDP_FLOW = "        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0, Description: "
MINIFIED = json.dumps({"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
    "GroupDescription": SUPPRESSION, "SecurityGroupIngress": [
        {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"}]}}}}, separators=(",", ":"))
HCL_OBJECT = ('resource "aws_security_group" "a" {\n'
              f'  ingress = [{{ description = "{SUPPRESSION}", from_port = 3389, to_port = 3389, protocol = "tcp", '
              'cidr_blocks = ["0.0.0.0/0"], ipv6_cidr_blocks = [], prefix_list_ids = [], security_groups = [], '
              'self = false }]\n}\n')
TF_JSON = json.dumps({"resource": {"aws_security_group": {"a": {"description": SUPPRESSION, "ingress": [
    {"description": "", "from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
     "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False}]}}}},
    separators=(",", ":"))

#: (file name, text, where the finding is): the marker is in a string on the finding's line.
STRINGS_ON_THE_FINDING_LINE = [
    ("minified.json", MINIFIED, "1:218", "Sg"),
    ("flow.yaml", _group_yaml(f'{RDP_FLOW}"x {SUPPRESSION}"}}\n'), "7:67", "Sg"),
    ("single-quoted.yaml", _group_yaml(f"{RDP_FLOW}'x {SUPPRESSION}'}}\n"), "7:67", "Sg"),
    ("quoted-lines.yaml", _group_yaml("        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, Description: "
                                      f'"two\n            lines {SUPPRESSION}", CidrIp: 0.0.0.0/0}}\n'), "8:75", "Sg"),
    ("hcl-object/main.tf", HCL_OBJECT, "2:146", "aws_security_group.a"),
    ("tf-json/main.tf.json", TF_JSON, "1:196", "aws_security_group.a"),
]


@pytest.mark.parametrize("name, text, position, resource", STRINGS_ON_THE_FINDING_LINE,
                         ids=[case[0] for case in STRINGS_ON_THE_FINDING_LINE])
def test_a_suppression_in_a_string_is_no_suppression(project, capsys, name, text, position, resource):
    """The string holds ``# winportlint: ignore[WPL101] ...`` on the finding's line: it stays a finding."""
    (project / name).parent.mkdir(exist_ok=True)
    (project / name).write_text(text)
    target = name if "/" not in name else name.split("/")[0]
    code, lines, _ = run(capsys, "check", "--no-cache", "--report-unused-ignores", target)
    assert (code, lines) == (1, [f"{name}:{position}: {RDP_FINDING.format(resource)}",
                                 "1 finding (1 critical) in 1 file", "see: winportlint explain WPL101"])


#: Text that looks like a malformed suppression, where no finding is: in a string, it is no error.
NOT_COMMENTS = [
    ("block.yaml", _group_yaml(RDP_RULE, "|\n        rdp\n        # winportlint: ignore[] not a comment\n")),
    ("folded.yaml", _group_yaml(RDP_RULE, ">-\n        rdp\n\n         # winportlint: ignore[WPL101] text\n")),
    ("plain.yaml", _group_yaml(RDP_RULE, "remote desktop\n        for partners#winportlint:ignore[WPL101] text")),
    ("heredoc/main.tf", 'resource "aws_security_group" "a" {\n  description = <<-EOT\n    # winportlint: ignore[] x\n'
                        '    // winportlint: ignore[WPL101] y\n    EOT\n  ingress {\n    from_port = 3389\n'
                        '    to_port = 3389\n    protocol = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'),
]


@pytest.mark.parametrize("name, text", NOT_COMMENTS, ids=[case[0] for case in NOT_COMMENTS])
def test_block_plain_and_heredoc_text_is_no_comment(project, capsys, name, text):
    (project / name).parent.mkdir(exist_ok=True)
    (project / name).write_text(text)
    code, lines, _ = run(capsys, "check", "--no-cache", "--report-unused-ignores", name.split("/")[0])
    assert code == 1
    assert lines[-2:] == ["1 finding (1 critical) in 1 file", "see: winportlint explain WPL101"]


REAL_COMMENTS = [
    ("cidr-line.yaml", _group_yaml(RDP_RULE.replace("0.0.0.0/0", f"0.0.0.0/0  {SUPPRESSION}")), "t:10"),
    ("block-header.yaml", _group_yaml(RDP_RULE.replace("0.0.0.0/0", f">-  {SUPPRESSION}\n            0.0.0.0/0")),
     "t:10"),
    ("flow.yaml", _group_yaml(f'{RDP_FLOW}"x"}}  {SUPPRESSION}\n'), "t:7"),
    ("hash/main.tf", RDP_TF, "main.tf:1"),
    ("slashes/main.tf", RDP_TF.replace("{ # winportlint", "{ // winportlint"), "main.tf:1"),
    ("block/main.tf", RDP_TF.replace('["0.0.0.0/0"]', f'["0.0.0.0/0"] /* {SUPPRESSION[2:]} */'), "main.tf:6"),
    ("lines/main.tf", RDP_TF.replace("  ingress {", f"  /* the partner's\n     {SUPPRESSION[2:]} */ ingress {{"),
     "main.tf:3"),
    ("after-a-note/main.tf", RDP_TF.replace("# winportlint", "# reviewed # winportlint"), "main.tf:1"),
]


@pytest.mark.parametrize("name, text, source", REAL_COMMENTS, ids=[case[0] for case in REAL_COMMENTS])
def test_real_comments_suppress(project, capsys, name, text, source):
    (project / name).parent.mkdir(exist_ok=True)
    (project / name).write_text(text)
    code, lines, _ = run(capsys, "check", "--no-cache", "--format", "json", name.split("/")[0])
    document = json.loads("\n".join(lines))
    assert (code, document["findings"], document["errors"]) == (0, [], [])
    expected = source.replace("t:", f"{name}:") if "/" not in name else f"{name.split('/')[0]}/{source}"
    assert [(s["rule_id"], s["suppressed_by"]) for s in document["suppressed"]] == [("WPL101", expected)]


#: Characters that Python's str.splitlines() takes for line ends; HCL counts only ``\n``.
SEPARATORS = ["\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("separator", SEPARATORS, ids=[f"U+{ord(c):04X}" for c in SEPARATORS])
def test_hcl_line_separators_above_a_comment_do_not_shift_it(project, capsys, separator):
    (project / "main.tf").write_text(f"# a note{separator}on two lines\n"
                                     f'locals {{ text = "a{separator}b" }}\n' + RDP_TF, encoding="utf-8")
    code, lines, _ = run(capsys, "check", "--no-cache", "--format", "json", ".")
    document = json.loads("\n".join(lines))
    assert (code, document["findings"], document["errors"]) == (0, [], [])
    assert [(s["line"], s["suppressed_by"]) for s in document["suppressed"]] == [(8, "main.tf:3")]


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"], ids=["NEL", "U+2028", "U+2029"])
def test_yaml_line_separators_are_line_breaks_for_findings_and_comments_alike(project, capsys, separator):
    """libyaml (YAML 1.1) breaks lines at NEL, U+2028 and U+2029: findings and comments count them."""
    text = _group_yaml(RDP_RULE, f'"a{separator}b"').replace("Resources:", f"# a note{separator}x: 1\nResources:")
    text = text.replace("IpProtocol: tcp", f"IpProtocol: tcp  {SUPPRESSION}")
    (project / "t.yaml").write_text(text, encoding="utf-8")
    code, lines, _ = run(capsys, "check", "--no-cache", "--format", "json", "t.yaml")
    document = json.loads("\n".join(lines))
    assert (code, document["findings"], document["errors"]) == (0, [], [])
    assert [(s["line"], s["suppressed_by"]) for s in document["suppressed"]] == [(13, "t.yaml:10")]


def test_cached_results_get_the_same_suppressions(project, capsys):
    """Findings come from the cache on the second run; the comments are read again, not from a parse."""
    (project / "t.yaml").write_text(_group_yaml(RDP_RULE.replace("0.0.0.0/0", f"0.0.0.0/0  {SUPPRESSION}")))
    (project / "minified.json").write_text(MINIFIED)
    first = run(capsys, "check", ".")
    assert first == run(capsys, "check", ".")
    assert first[:2] == (1, [f"minified.json:1:218: {RDP_FINDING.format('Sg')}",
                             "1 finding (1 critical) in 2 files; 1 suppressed", "see: winportlint explain WPL101"])


def test_an_unused_comment_is_reported_and_a_string_is_not(project, capsys):
    text = _group_yaml(RDP_RULE, f'"{SUPPRESSION}"  # winportlint: ignore[WPL103] winrm, not open here')
    (project / "t.yaml").write_text(text)
    code, lines, _ = run(capsys, "check", "--no-cache", "--report-unused-ignores", "t.yaml")
    assert (code, lines) == (2, [f"t.yaml:10:19: {RDP_FINDING.format('Sg')}",
                                 "t.yaml:5: error: unused suppression: ignore[WPL103] matches no finding",
                                 "1 finding (1 critical) in 1 file; 1 input error", "see: winportlint explain WPL101"])


# --- which ids a suppression may name ---------------------------------------------------------

ACCEPTED = "write a check id such as WPL101 or a family prefix such as WPL1 (see 'winportlint rules')"


@pytest.mark.parametrize("ids", ["W", "WPL", "wpl", "WPL8", "WPL1010", "1", "WPL1*", "WPL101,W"])
def test_an_id_that_is_no_check_id_or_family_prefix_is_an_error(project, capsys, ids):
    """``W`` or ``WPL`` would silence every check: an error, and nothing is suppressed."""
    _template(project / "t.yaml", resource_comment=f"  # winportlint: ignore[{ids}] everything")
    code, lines, _ = run(capsys, "check", "--no-cache", "t.yaml")
    bad = ", ".join(i.strip().upper() for i in ids.split(",") if i.strip().upper() != "WPL101")
    assert (code, lines[2:]) == (2, [f"t.yaml:3: error: suppression names unknown check id {bad}: {ACCEPTED}",
                                     "2 findings (2 critical) in 1 file; 1 input error",
                                     "see: winportlint explain WPL101 WPL103"])


@pytest.mark.parametrize("ids, code, summary", [
    ("wpl1", 0, "0 findings in 1 file; 2 suppressed"),
    ("WPL10", 0, "0 findings in 1 file; 2 suppressed"),
    ("WPL103, wpl101", 0, "0 findings in 1 file; 2 suppressed"),
    ("Wpl101", 1, "1 finding (1 critical) in 1 file; 1 suppressed"),
])
def test_ids_and_family_prefixes_in_any_case(project, capsys, ids, code, summary):
    _template(project / "t.yaml", resource_comment=f"  # winportlint: ignore[{ids}] behind the VPN")
    winrm = ("t.yaml:15:19: WPL103 critical 5985/tcp open from 0.0.0.0/0 (the whole internet) on Bastion: "
             "5985/tcp WinRM (open by default in the Windows Server 2012 to 2022 AMIs)")
    lines = [summary] if code == 0 else [winrm, summary, "see: winportlint explain WPL103"]
    assert run(capsys, "check", "--no-cache", "t.yaml")[:2] == (code, lines)


def _metadata_template(ids: str) -> str:
    return RDP_YAML.format(resource_comment="", rule_comment="").replace(
        "    Type: AWS::EC2::SecurityGroup\n",
        f"    Type: AWS::EC2::SecurityGroup\n    Metadata:\n      winportlint:\n        ignore:\n"
        f"          - {{id: {ids}, reason: partner access}}\n")


def test_a_metadata_ignore_of_no_check_id_is_an_error(project, capsys):
    (project / "t.yaml").write_text(_metadata_template("W"))
    code, lines, _ = run(capsys, "check", "--no-cache", "t.yaml")
    assert (code, lines[2:]) == (2, [f"t.yaml:8: error: Metadata ignore names unknown check id W: {ACCEPTED}",
                                     "2 findings (2 critical) in 1 file; 1 input error",
                                     "see: winportlint explain WPL101 WPL103"])
    (project / "t.yaml").write_text(_metadata_template("[wpl103]"))
    code, lines, _ = run(capsys, "check", "--no-cache", "t.yaml")
    assert (code, lines[-2:]) == (1, ["1 finding (1 critical) in 1 file; 1 suppressed", "see: winportlint explain WPL101"])


def test_metadata_ignores_can_be_forbidden(project, capsys):
    (project / "t.yaml").write_text(_metadata_template("WPL103"))
    (project / ".winportlint.toml").write_text("inline_ignores = false\n")
    code, lines, _ = run(capsys, "check", "--no-cache", "t.yaml")
    assert (code, lines[2:]) == (2, ["t.yaml:8: error: Metadata suppressions are disabled by the configuration",
                                     "2 findings (2 critical) in 1 file; 1 input error",
                                     "see: winportlint explain WPL101 WPL103"])


@pytest.mark.parametrize("rule", ["W", "WPL", "WPL8", "*"])
def test_an_allow_rule_of_no_check_id_is_a_usage_error(project, capsys, rule):
    _template(project / "t.yaml")
    (project / ".winportlint.toml").write_text(f"[[allow]]\nresource = '*'\nrule = '{rule}'\nreason = 'all'\n")
    code, lines, err = run(capsys, "check", "--no-cache", "t.yaml")
    assert (code, lines) == (2, [])
    assert err == (f"winportlint: error: .winportlint.toml allow[0]: rule names unknown check id {rule}: "
                   f"{ACCEPTED}\n")


def test_an_allow_rule_takes_a_family_prefix_in_any_case(project, capsys):
    _template(project / "t.yaml")
    (project / ".winportlint.toml").write_text("[[allow]]\nresource = 'Bastion'\nrule = 'wpl10'\nreason = 'vpn'\n")
    code, lines, _ = run(capsys, "check", "--no-cache", "t.yaml")
    assert (code, lines) == (0, ["0 findings in 1 file; 2 suppressed"])


def test_a_cached_run_takes_the_comments_from_the_cache_too(tmp_path):
    """Reading a YAML file's comments costs a parse: a cached run over unchanged files parses nothing."""
    from test_lazy_imports import loaded_modules

    _template(tmp_path / "t.yaml", rule_comment=f"  {SUPPRESSION}")
    loaded_modules(tmp_path, "check", "t.yaml")
    assert "winportlint.nodes" not in loaded_modules(tmp_path, "check", "t.yaml")


def test_a_format_that_fails_to_give_comments_is_an_error_of_the_file(tmp_path):
    from winportlint import suppress
    from winportlint.model import InputError

    class Broken:
        name, suffixes = "broken", (".conf",)

        def comments(self, path, data):
            return [(1, "one", "x")]  # not a line number

    path = tmp_path / "a.conf"
    path.write_text(f"{SUPPRESSION}\n")
    outcome = suppress.apply([], [str(path)], [Broken()], {"WPL101"}, ())
    assert outcome.errors == [InputError(str(path), 0, "broken plugin failed reading comments: ValueError: "
                                                       "invalid literal for int() with base 10: 'one'")]
