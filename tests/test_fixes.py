"""``winportlint fix`` (issue #20): fixes as text edits that change no other byte, verified
before they are written, for CloudFormation YAML and JSON."""

from __future__ import annotations

import stat
from collections import Counter
from pathlib import Path

import pytest

from winportlint import fixes
from winportlint.cli import main
from winportlint.model import Fix, TextEdit
from winportlint.plugins.cloudformation import CloudFormationFormat

TEMPLATE = """\
# the jump host
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Jump:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: jump
      SecurityGroupIngress:
        - IpProtocol: tcp   # rdp
          FromPort: 3389
          ToPort: 3389
          CidrIp: '0.0.0.0/0'
        - IpProtocol: tcp
          FromPort: 5985
          ToPort: 5985
          CidrIp: "0.0.0.0/0"
        - IpProtocol: tcp
          FromPort: 445
          ToPort: 445
          CidrIp: 0.0.0.0/0
"""


def run(capsys, *argv):
    code = main([argv[0], "--no-cache", *argv[1:]])
    out, err = capsys.readouterr()
    return code, out, err.splitlines()


def offered(path: Path, sources=("203.0.113.0/24",), reason: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    """Each finding of the file's default checks with the title and applicability of every fix
    its format offers for the requests of these sources and reason (remove always asked)."""
    from conftest import lint

    from winportlint.plugin_manager import load_plugins

    found = fixes.attach(lint([path]).findings, load_plugins().formats, fixes.requests(sources, reason))
    return [(finding.rule_id, [(fix.title, fix.applicability) for fix in finding.fixes]) for finding in found]


def test_diff_restricts_each_literal_keeping_its_quoting_and_writes_nothing(fix_project, capsys):
    (fix_project / "t.yaml").write_text(TEMPLATE)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "t.yaml")
    assert out == """\
--- a/t.yaml
+++ b/t.yaml
@@ -9,12 +9,12 @@
         - IpProtocol: tcp   # rdp
           FromPort: 3389
           ToPort: 3389
-          CidrIp: '0.0.0.0/0'
+          CidrIp: '203.0.113.0/24'
         - IpProtocol: tcp
           FromPort: 5985
           ToPort: 5985
-          CidrIp: "0.0.0.0/0"
+          CidrIp: "203.0.113.0/24"
         - IpProtocol: tcp
           FromPort: 445
           ToPort: 445
-          CidrIp: 0.0.0.0/0
+          CidrIp: 203.0.113.0/24
"""
    assert err == ["3 fixes to apply (with --apply)"]
    assert code == 1
    assert (fix_project / "t.yaml").read_text() == TEMPLATE


def test_restricting_is_unsafe_so_only_offered_without_unsafe_fixes(fix_project, capsys):
    (fix_project / "t.yaml").write_text(TEMPLATE)
    code, out, err = run(capsys, "fix", "--apply", "t.yaml")
    assert (out, err, code) == ("", ["0 fixes applied, 3 more with --unsafe-fixes"], 1)
    assert (fix_project / "t.yaml").read_text() == TEMPLATE


def test_apply_then_a_second_run_finds_nothing_to_fix(fix_project, capsys):
    path = fix_project / "t.yaml"
    path.write_text(TEMPLATE)
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "t.yaml")[::2] == (0, ["3 fixes applied"])
    assert path.read_text() == TEMPLATE.replace("0.0.0.0/0", "203.0.113.0/24")
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "t.yaml") == (0, "", ["0 fixes applied"])
    assert run(capsys, "check", "t.yaml")[0] == 0


def test_accept_writes_the_exception_the_suppression_grammar_reads(fix_project, capsys):
    path = fix_project / "t.yaml"
    path.write_text(TEMPLATE)
    code, out, err = run(capsys, "fix", "--apply", "--reason", "jump host, SEC-7", "--owner", "platform",
                         "--expires", "2027-01-31", "t.yaml")
    assert (code, err) == (0, ["3 fixes applied"])
    comment = "  # winportlint: ignore[{}] until=2027-01-31 owner=platform jump host, SEC-7"
    assert path.read_text() == TEMPLATE \
        .replace("CidrIp: '0.0.0.0/0'\n", "CidrIp: '0.0.0.0/0'" + comment.format("WPL101") + "\n") \
        .replace('CidrIp: "0.0.0.0/0"\n', 'CidrIp: "0.0.0.0/0"' + comment.format("WPL103") + "\n") \
        .replace("CidrIp: 0.0.0.0/0\n", "CidrIp: 0.0.0.0/0" + comment.format("WPL102") + "\n")
    code, out, _ = run(capsys, "check", "--show-suppressed", "t.yaml")
    assert code == 0
    assert "0 findings in 1 file; 3 suppressed" in out


def test_accept_after_an_existing_comment_is_still_read(fix_project, capsys):
    path = fix_project / "t.yaml"
    path.write_text(TEMPLATE.replace("CidrIp: 0.0.0.0/0\n", "CidrIp: 0.0.0.0/0 # smb\n"))
    assert run(capsys, "fix", "--apply", "--select", "WPL102", "--reason", "file share", "t.yaml")[::2] == \
        (0, ["1 fix applied"])
    assert "CidrIp: 0.0.0.0/0 # smb  # winportlint: ignore[WPL102] file share\n" in path.read_text()


PARAMETER = """\
Parameters:
  Admin:
    Type: String
    Default: 0.0.0.0/0 # everyone, for now
Resources:
  Jump:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: jump
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !Ref Admin}
"""


def test_a_parameter_only_this_rule_uses_is_restricted_at_its_default(fix_project, capsys):
    (fix_project / "p.yaml").write_text(PARAMETER)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "p.yaml")
    assert out == """\
--- a/p.yaml
+++ b/p.yaml
@@ -1,7 +1,7 @@
 Parameters:
   Admin:
     Type: String
-    Default: 0.0.0.0/0 # everyone, for now
+    Default: 203.0.113.0/24 # everyone, for now
 Resources:
   Jump:
     Type: AWS::EC2::SecurityGroup
"""
    assert (code, err) == (1, ["1 fix to apply (with --apply)"])


def test_a_parameter_used_elsewhere_is_display_only_and_says_why(fix_project, capsys):
    (fix_project / "p.yaml").write_text(PARAMETER + "Outputs:\n  Source:\n    Value: !Sub 'from ${Admin}'\n")
    assert offered(fix_project / "p.yaml") == [("WPL101", [
        ("Restrict 0.0.0.0/0 to 203.0.113.0/24 on Jump: parameter Admin's Default is shared (it is used 2 times); "
         "pass 203.0.113.0/24 for this stack instead", "display-only"),
        ("Remove Jump's rule 3389/tcp from 0.0.0.0/0", "unsafe")])]
    code, out, err = run(capsys, "fix", "p.yaml")
    assert (code, out, err) == (1, "", ["0 fixes to apply (with --apply), 1 more with --unsafe-fixes"])


JSON_TEMPLATE = """\
{
\t"Resources": {
\t\t"Jump": {
\t\t\t"Type": "AWS::EC2::SecurityGroup",
\t\t\t"Properties": {"GroupDescription": "jump", "SecurityGroupIngress": [
\t\t\t\t{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"}]}
\t\t}
\t}
}"""


def test_json_templates_are_restricted_in_place_and_accepting_is_display_only(fix_project, capsys):
    path = fix_project / "t.json"
    path.write_text(JSON_TEMPLATE)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "t.json")
    assert out == """\
--- a/t.json
+++ b/t.json
@@ -3,7 +3,7 @@
 \t\t"Jump": {
 \t\t\t"Type": "AWS::EC2::SecurityGroup",
 \t\t\t"Properties": {"GroupDescription": "jump", "SecurityGroupIngress": [
-\t\t\t\t{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"}]}
+\t\t\t\t{"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "203.0.113.0/24"}]}
 \t\t}
 \t}
 }
\\ No newline at end of file
"""
    assert (code, err) == (1, ["1 fix to apply (with --apply)"])
    assert offered(path, (), "jump") == [("WPL101", [
        ("Accept WPL101 on Jump: jump (JSON has no comments: add to Jump's Metadata winportlint: ignore: "
         "[{id: WPL101, reason: ...}])", "display-only"),
        ("Remove Jump's rule 3389/tcp from 0.0.0.0/0", "unsafe")])]


def test_an_ipv6_world_with_only_ipv4_sources_is_display_only(fix_project, capsys):
    (fix_project / "t.yaml").write_text(TEMPLATE.replace("CidrIp: 0.0.0.0/0", 'CidrIpv6: "::/0"'))
    assert offered(fix_project / "t.yaml")[2] == ("WPL102", [
        ("Restrict ::/0 on Jump: no IPv6 admin source is configured ([tool.winportlint.fix] cidrs, prefix_list or "
         "security_group)", "display-only"),
        ("Remove Jump's rule 445/tcp from ::/0", "unsafe")])


#: Every byte that a careless rewrite would change: a BOM, CRLF, tabs in a comment and a flow
#: mapping, trailing whitespace, an anchor and its alias, flow style, comments, key order.
AWKWARD = ("\ufeff# keep\tme  \r\n"
           "Resources:\r\n"
           "  Jump:   \r\n"
           "    Type: AWS::EC2::SecurityGroup\r\n"
           "    Properties:\r\n"
           "      SecurityGroupIngress: &rules\r\n"
           "        - {IpProtocol: tcp,\tFromPort: 3389, ToPort: 3389, CidrIp: '0.0.0.0/0'}   \r\n"
           "        - ToPort: 5986 # é ünïcode\r\n"
           "          FromPort: 5985\r\n"
           "          CidrIp: \"0.0.0.0/0\"\t\r\n"
           "          IpProtocol: tcp\r\n"
           "      GroupDescription: jump\r\n"
           "      Tags: [{Key: rules, Value: x}]\r\n")


def test_every_byte_outside_the_edits_stays(fix_project, capsys):
    path = fix_project / "t.yaml"
    path.write_bytes(AWKWARD.encode("utf-8"))
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "t.yaml")[::2] == (0, ["2 fixes applied"])
    assert path.read_bytes() == AWKWARD.replace("0.0.0.0/0", "203.0.113.0/24").encode("utf-8")
    path.write_bytes(AWKWARD.encode("utf-8"))
    assert run(capsys, "fix", "--apply", "--reason", "jump", "t.yaml")[::2] == (0, ["2 fixes applied"])
    assert path.read_bytes() == AWKWARD.replace(
        "'0.0.0.0/0'}   \r\n", "'0.0.0.0/0'}     # winportlint: ignore[WPL101] jump\r\n").replace(
        '"0.0.0.0/0"\t\r\n', '"0.0.0.0/0"\t  # winportlint: ignore[WPL103] jump\r\n').encode("utf-8")


ONE_LINE = ("Resources:\n"
            "  Jump:\n"
            "    Type: AWS::EC2::SecurityGroup\n"
            "    Properties:\n"
            "      GroupDescription: jump\n"
            "      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}, "
            "{IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}]\n")


def test_exceptions_for_one_line_make_one_comment_naming_both_checks(fix_project, capsys):
    path = fix_project / "t.yaml"
    path.write_text(ONE_LINE)
    assert run(capsys, "fix", "--apply", "--reason", "jump", "t.yaml")[::2] == (0, ["2 fixes applied"])
    assert path.read_text().endswith("CidrIp: 0.0.0.0/0}]  # winportlint: ignore[WPL101,WPL102] jump\n")
    assert run(capsys, "check", "t.yaml")[0] == 0
    assert run(capsys, "fix", "--apply", "--reason", "jump", "t.yaml") == (0, "", ["0 fixes applied"])


def test_a_line_holding_another_exception_is_not_given_a_second(fix_project, capsys):
    path = fix_project / "t.yaml"
    (fix_project / "pyproject.toml").write_text("")
    path.write_text(ONE_LINE.replace("0.0.0.0/0}]", "0.0.0.0/0}]  # winportlint: ignore[WPL101] partner"))
    assert offered(path, (), "jump")[1] == ("WPL102", [
        ("Accept WPL102 on Jump: jump: line 6 holds another exception; add WPL102 to it by hand", "display-only"),
        ("Remove Jump's rule 445/tcp from 0.0.0.0/0", "unsafe")])
    code, out, err = run(capsys, "fix", "--apply", "--reason", "jump", "t.yaml")
    assert (code, out, err) == (1, "", ["0 fixes applied, 1 more with --unsafe-fixes"])


def test_overlapping_edits_are_refused():
    edits = [TextEdit("f", 2, 5, "x"), TextEdit("f", 4, 6, "y")]
    with pytest.raises(fixes.Overlap):
        fixes.applied(b"0123456789", edits)
    with pytest.raises(fixes.Overlap):
        fixes.applied(b"0123456789", [TextEdit("f", 3, 3, "a"), TextEdit("f", 3, 3, "b")])
    assert fixes.applied(b"0123456789", [TextEdit("f", 5, 6, "Y"), TextEdit("f", 2, 5, "X")]) == b"01XY6789"


def _planted(edit_text: str):
    """A CloudFormation ``fixes`` that offers one safe fix replacing the CIDR's line's end with ``edit_text``."""
    def planted(self, finding, request, read):
        path = finding.location.file
        data = read(path)
        line_end = data.index(b"\n", data.index(b"CidrIp: '0.0.0.0/0'"))
        return [Fix("planted", "safe", (TextEdit(path, line_end, line_end, edit_text),))]
    return planted


@pytest.mark.parametrize("edit, reason", [
    (": [", "the fixed file would have an error: line 12: invalid YAML: mapping values are not allowed in this "
            "context"),
    ("  # harmless", "the fixed file would still have WPL101 on Jump"),
    ("\n        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}",
     "the fixed file would still have WPL101 on Jump"),
])
def test_verification_refuses_a_fix_that_breaks_the_file_or_ends_nothing(fix_project, capsys, monkeypatch, edit, reason):
    path = fix_project / "t.yaml"
    path.write_text(TEMPLATE)
    monkeypatch.setattr(CloudFormationFormat, "fixes", _planted(edit))
    code, out, err = run(capsys, "fix", "--apply", "--select", "WPL101", "--reason", "x", "t.yaml")
    assert (code, out) == (1, "")
    assert err == [f"t.yaml: not fixed: {reason}", "0 fixes applied"]
    assert path.read_text() == TEMPLATE


def test_verification_refuses_a_fix_that_adds_a_finding(fix_project, capsys, monkeypatch):
    path = fix_project / "t.yaml"
    path.write_text(TEMPLATE)

    def planted(self, finding, request, read):
        path = finding.location.file
        data = read(path)
        start = data.index(b"'0.0.0.0/0'")
        port = data.index(b"ToPort: 445") + len(b"ToPort: ")
        return [Fix("planted", "safe", (TextEdit(path, start, start + 11, "'203.0.113.0/24'"),
                                        TextEdit(path, port, port + 3, "3389")))]

    monkeypatch.setattr(CloudFormationFormat, "fixes", planted)
    code, _, err = run(capsys, "fix", "--apply", "--select", "WPL101", "--reason", "x", "t.yaml")
    assert err == ["t.yaml: not fixed: the fixed file would have a new finding: WPL101 445-3389/tcp open from "
                   "0.0.0.0/0 (the whole internet) on Jump: 3389/tcp RDP (open by default in the Windows Server "
                   "2012 R2 to 2022 AMIs)", "0 fixes applied"]
    assert code == 1
    assert path.read_text() == TEMPLATE


def test_applying_keeps_the_mode_and_leaves_no_temporary_file(fix_project, capsys):
    path = fix_project / "t.yaml"
    path.write_text(TEMPLATE)
    path.chmod(0o640)
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "t.yaml")[0] == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in fix_project.iterdir()) == ["pyproject.toml", "t.yaml"]


def test_a_file_changed_since_it_was_read_is_not_written(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("now\n")
    with pytest.raises(OSError, match="it changed while it was being fixed"):
        fixes.write_atomic(str(path), b"fixed\n", b"before\n")
    assert path.read_text() == "now\n"


def test_a_broken_file_is_an_input_error_and_the_others_are_still_fixed(fix_project, capsys):
    (fix_project / "t.yaml").write_text(TEMPLATE)
    (fix_project / "broken.yaml").write_text("Resources: {Sg: {Type: AWS::EC2::SecurityGroup\n")
    code, out, err = run(capsys, "fix", "--apply", "--unsafe-fixes", ".")
    assert code == 2
    assert err[0].startswith("broken.yaml:2: error: invalid YAML")
    assert err[-1] == "3 fixes applied"
    assert (fix_project / "t.yaml").read_text() == TEMPLATE.replace("0.0.0.0/0", "203.0.113.0/24")


@pytest.mark.parametrize("argv, message", [
    (["--owner", "ops"], "--owner and --expires go with --reason (the exception they describe)"),
    (["--reason", "x", "--expires", "31.12.2026"], "--expires 31.12.2026 is not a date (write YYYY-MM-DD)"),
    (["--reason", "x", "--owner", "two words"], "--owner needs one word, not 'two words'"),
    (["--reason", "two\nlines"], "--reason needs one line of text"),
    (["--diff", "--apply"], None),
])
def test_bad_options_are_usage_errors(fix_project, capsys, argv, message):
    (fix_project / "t.yaml").write_text(TEMPLATE)
    if message is None:
        with pytest.raises(SystemExit) as exit_:
            main(["fix", *argv, "t.yaml"])
        assert exit_.value.code == 2
        return
    assert run(capsys, "fix", *argv, "t.yaml") == (2, "", [f"winportlint: error: {message}"])


def test_without_configuration_or_reason_fix_offers_removal_only_as_unsafe(fix_project, capsys):
    (fix_project / "pyproject.toml").write_text("")
    (fix_project / "t.yaml").write_text(TEMPLATE)
    assert run(capsys, "fix", "t.yaml") == (1, "", ["0 fixes to apply (with --apply), 3 more with --unsafe-fixes"])
    assert (fix_project / "t.yaml").read_text() == TEMPLATE


@pytest.mark.parametrize("table, message", [
    ('[tool.winportlint.fix]\ncidrs = ["203.0.113.1/24"]\n',
     "fix: cidrs: '203.0.113.1/24' has host bits set (the network is 203.0.113.0/24)"),
    ('[tool.winportlint.fix]\nprefix = "pl-1"\n',
     "fix: unknown key prefix (known: cidrs, prefix_list, security_group)"),
    ('[tool.winportlint]\nfix = ["203.0.113.0/24"]\n',
     'fix must be a table, such as [tool.winportlint.fix] cidrs = ["203.0.113.0/24"]'),
    ('[tool.winportlint.fix]\nprefix_list = "pl-1234567"\n',
     "fix: prefix_list must be a managed prefix list id (pl- and 8 or 17 hex digits, such as "
     "pl-0123456789abcdef0), not 'pl-1234567'"),
    ('[tool.winportlint.fix]\nprefix_list = "sg-12345678"\n',
     "fix: prefix_list must be a managed prefix list id (pl- and 8 or 17 hex digits, such as "
     "pl-0123456789abcdef0), not 'sg-12345678'"),
    ('[tool.winportlint.fix]\nsecurity_group = "sg-0123456789ABCDEF0"\n',
     "fix: security_group must be a security group id (sg- and 8 or 17 hex digits, such as "
     "sg-0123456789abcdef0), not 'sg-0123456789ABCDEF0'"),
    ('[tool.winportlint.fix]\nsecurity_group = ["sg-12345678"]\n',
     "fix: security_group must be a security group id (sg- and 8 or 17 hex digits, such as "
     "sg-0123456789abcdef0), not an array"),
])
def test_a_bad_fix_table_names_its_key(fix_project, capsys, table, message):
    (fix_project / "pyproject.toml").write_text(table)
    (fix_project / "t.yaml").write_text(TEMPLATE)
    assert run(capsys, "fix", "t.yaml") == (2, "", [
        f"winportlint: error: pyproject.toml [tool.winportlint]: {message}"])


LITERAL = TEMPLATE.replace('"0.0.0.0/0"', '"10.0.0.0/8"').replace("CidrIp: 0.0.0.0/0", 'CidrIpv6: "::/0"')


def _literal_removal(rule: str, next_rule: str | None) -> list[dict]:
    """The edit removing the LITERAL template's block item starting with ``rule``: from its list's
    colon (two removals from one list overlap, so they are never made in one round) to
    ``next_rule``'s start (the end of the file for the last), what is before the item kept."""
    data = LITERAL.encode()
    colon = data.index(b"SecurityGroupIngress:") + len(b"SecurityGroupIngress")
    start = data.index(rule.encode())
    return [{"file": "t.yaml", "start": colon, "end": data.index(next_rule.encode()) if next_rule else len(data),
             "text": data[colon:start].decode()}]


def test_json_findings_carry_their_fixes_as_byte_edits(fix_project, capsys):
    import json

    (fix_project / "t.yaml").write_text(LITERAL)
    code, out, _ = run(capsys, "check", "--format", "json", "t.yaml")
    start = LITERAL.encode().index(b"'0.0.0.0/0'")
    assert [finding["fixes"] for finding in json.loads(out)["findings"]] == [
        [{"title": "Restrict 0.0.0.0/0 to 203.0.113.0/24 on Jump", "applicability": "unsafe",
          "edits": [{"file": "t.yaml", "start": start, "end": start + 11, "text": "'203.0.113.0/24'"}]},
         {"title": "Remove Jump's rule 3389/tcp from 0.0.0.0/0", "applicability": "unsafe",
          "edits": _literal_removal("        - IpProtocol: tcp   # rdp", "        - IpProtocol: tcp\n")}],
        [{"title": "Restrict ::/0 on Jump: no IPv6 admin source is configured ([tool.winportlint.fix] cidrs, "
                   "prefix_list or security_group)", "applicability": "display-only", "edits": []},
         {"title": "Remove Jump's rule 445/tcp from ::/0", "applicability": "unsafe",
          "edits": _literal_removal("        - IpProtocol: tcp\n          FromPort: 445", None)}]]
    assert code == 1


def test_sarif_results_carry_fixes_valid_against_the_schema(fix_project, capsys):
    import json

    from jsonschema.validators import validator_for

    (fix_project / "t.yaml").write_text(LITERAL)
    code, out, _ = run(capsys, "check", "--format", "sarif", "t.yaml")
    log = json.loads(out)
    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    validator_for(schema)(schema).validate(log)
    start = LITERAL.encode().index(b"'0.0.0.0/0'")
    removal = [{"deletedRegion": {"byteOffset": edit["start"], "byteLength": edit["end"] - edit["start"]},
                "insertedContent": {"text": edit["text"]}}
               for edit in _literal_removal("        - IpProtocol: tcp   # rdp", "        - IpProtocol: tcp\n")]
    assert [result.get("fixes") for result in log["runs"][0]["results"]][0] == [
        {"description": {"text": "Restrict 0.0.0.0/0 to 203.0.113.0/24 on Jump"},
         "artifactChanges": [{"artifactLocation": {"uri": "t.yaml"}, "replacements": [
             {"deletedRegion": {"byteOffset": start, "byteLength": 11},
              "insertedContent": {"text": "'203.0.113.0/24'"}}]}],
         "properties": {"applicability": "unsafe"}},
        {"description": {"text": "Remove Jump's rule 3389/tcp from 0.0.0.0/0"},
         "artifactChanges": [{"artifactLocation": {"uri": "t.yaml"}, "replacements": removal}],
         "properties": {"applicability": "unsafe"}}]
    assert [fix["description"]["text"] for fix in log["runs"][0]["results"][1]["fixes"]] == [
        "Remove Jump's rule 445/tcp from ::/0"]  # display-only: a SARIF fix needs a change


def test_without_admin_sources_json_findings_have_no_fixes(fix_project, capsys):
    import json

    (fix_project / "pyproject.toml").write_text("")
    (fix_project / "t.yaml").write_text(LITERAL)
    out = run(capsys, "check", "--format", "json", "t.yaml")[1]
    assert [finding["fixes"] for finding in json.loads(out)["findings"]] == [[], []]


def _cloudformation_files() -> list[Path]:
    from conftest import CORPUS, REPO

    roots = [REPO / "examples", REPO / "tests" / "cases", *([CORPUS] if CORPUS.is_dir() else [])]
    return sorted(path for root in roots for path in root.rglob("*")
                  if path.suffix in (".yaml", ".yml", ".json", ".template") and path.is_file())


def _kept_outside(data: bytes, patched: bytes, edits) -> None:
    """Every byte outside the edits is in the patched bytes, in order."""
    at, shift = 0, 0
    for edit in sorted(edits, key=lambda edit: edit.start):
        assert patched[at + shift:edit.start + shift] == data[at:edit.start]
        shift += len(edit.text.encode()) - (edit.end - edit.start)
        at = edit.end
    assert patched[at + shift:] == data[at:]


def test_every_fix_over_the_fixtures_and_corpus_edits_only_its_value_and_passes_verification():
    """Each fix of each finding, made alone: its restriction replaces exactly the CIDR as written
    (quotes kept; with a prefix list, the CIDR's key too), its exception is inserted at a line's
    end, its removal only deletes (the list's colon aside), every other byte stays, and the
    verification accepts it."""
    import datetime

    from conftest import lint

    from winportlint.catalog import load_catalog
    from winportlint.config import Config
    from winportlint.model import FixRequest, Severity
    from winportlint.plugin_manager import load_plugins

    plugins = load_plugins()
    checks = [check for check in plugins.checks if check.enabled_by_default]
    relint = fixes.relinter(plugins.formats, checks, load_catalog(()), Severity.INFO,
                            {check.id for check in plugins.checks}, Config(), datetime.date(2026, 11, 10))
    findings = [finding for finding in lint(_cloudformation_files()).findings  # not a .tfvars.json's module
                if fixes.format_for(finding.location.file, plugins.formats).name == "cloudformation"]
    found = [*fixes.attach(findings, plugins.formats, fixes.requests(("203.0.113.0/24", "2001:db8::/32"), "corpus"),
                           checks=checks),
             *fixes.attach(findings, plugins.formats, [FixRequest("restrict", ("pl-0123456789abcdef0",))],
                           checks=checks)]
    made, through = Counter(), 0
    for finding in found:
        for fix in (fix for fix in finding.fixes if fix.edits):
            path = finding.location.file
            data = Path(path).read_bytes()
            patched = fixes.applied(data, fix.edits)
            _kept_outside(data, patched, fix.edits)
            kind = fix.title.split()[0]
            for edit in fix.edits:
                replaced = data[edit.start:edit.end].decode().strip("'\"")
                if kind == "Restrict":
                    assert fix.applicability == "unsafe"
                    peer = finding.permission.peer.text
                    assert (replaced, edit.text.strip("'\"")) in (
                        (peer, "203.0.113.0/24"), (peer, "2001:db8::/32"), (peer, "pl-0123456789abcdef0"),
                        ("CidrIp", "SourcePrefixListId"), ("CidrIpv6", "SourcePrefixListId"))
                elif kind == "Accept":
                    assert fix.applicability == "safe"
                    assert edit.start == edit.end and data[edit.start:edit.start + 1] in (b"\n", b"\r", b"")
                else:
                    assert (kind, fix.applicability) == ("Remove", "unsafe")
                    # a block item: from its list's colon, what is before the item written again
                    assert data[edit.start:edit.end].decode().startswith(edit.text.replace(": []", ":", 1))
            refused = fixes.verify({path: data}, {path: patched}, [finding], relint)
            if "comes from a file that reads this one" in refused:  # a nested stack's or service's
                through += 1
                continue
            assert refused == "", (path, fix)
            made[kind] += 1
    assert len(made) == 3 and min(made.values()) >= 50 and through < made.total() / 10, made


def test_a_union_is_display_only_and_a_mapping_entry_or_a_conditions_branch_is_restricted_where_written(
        fix_project, capsys):
    """Two rules whose CIDRs make the internet together are not removed one at a time (the other
    half would stay open); a mapping entry nothing else reads and the literal a condition's branch
    holds are written for this rule alone, and restricted there."""
    from conftest import REPO

    offers = []
    for name in ("smb-file-server.yaml", "winrm-fleet.json", "windows-web-farm.yaml"):
        (fix_project / name).write_bytes((REPO / "examples" / "vulnerable" / name).read_bytes())
        offers += [offer for offer in offered(fix_project / name) if offer[0] in ("WPL102", "WPL103", "WPL701")]
    union = "the internet is made by 2 rules' CIDRs together"
    assert offers == [
        ("WPL102", [(f"Restrict 0.0.0.0/1 on FileServerSecurityGroup: {union}; keep one rule, restricted, and remove "
                     f"the others", "display-only"),
                    (f"Remove FileServerSecurityGroup's rule 445/tcp from 0.0.0.0/1: {union}, and removing one "
                     f"leaves the others open; remove them all by hand, or keep one restricted", "display-only")]),
        ("WPL102", [(f"Restrict 128.0.0.0/1 on FileServerSecurityGroup: {union}; keep one rule, restricted, and "
                     f"remove the others", "display-only"),
                    (f"Remove FileServerSecurityGroup's rule 445/tcp from 128.0.0.0/1: {union}, and removing one "
                     f"leaves the others open; remove them all by hand, or keep one restricted", "display-only")]),
        ("WPL102", [("Restrict 0.0.0.0/0 to 203.0.113.0/24 on FileServerSecurityGroup", "unsafe"),
                    ("Remove FileServerSecurityGroup's rule 137-138/udp from 0.0.0.0/0", "unsafe")]),
        ("WPL103", [("Restrict mapping ManagementNetwork/dev/Cidr's 0.0.0.0/0 to 203.0.113.0/24", "unsafe"),
                    ("Remove WinRmHttpIngress, the rule 5985-5986/tcp from 0.0.0.0/0", "unsafe")]),
        ("WPL103", [("Restrict ::/0 on WinRmIpv6Ingress: no IPv6 admin source is configured ([tool.winportlint.fix] "
                     "cidrs, prefix_list or security_group)", "display-only"),
                    ("Remove WinRmIpv6Ingress, the rule 5986/tcp from ::/0", "unsafe")]),
        ("WPL701", [])]  # a listener: its check asks only to accept
    (fix_project / "pyproject.toml").write_text('[tool.winportlint.fix]\ncidrs = ["203.0.113.0/24", "2001:db8::/32"]\n')
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "--select", "WPL103", "winrm-fleet.json")
    assert out == """\
--- a/winrm-fleet.json
+++ b/winrm-fleet.json
@@ -10,7 +10,7 @@
   },
   "Mappings": {
     "ManagementNetwork": {
-      "dev": {"Cidr": "0.0.0.0/0"},
+      "dev": {"Cidr": "203.0.113.0/24"},
       "prod": {"Cidr": "10.20.0.0/16"}
     }
   },
@@ -40,7 +40,7 @@
         "IpProtocol": "tcp",
         "FromPort": 5986,
         "ToPort": 5986,
-        "CidrIpv6": {"Fn::If": ["IsProd", "2001:db8::/32", "::/0"]}
+        "CidrIpv6": {"Fn::If": ["IsProd", "2001:db8::/32", "2001:db8::/32"]}
       }
     }
   }
"""
    assert (code, err) == (1, ["2 fixes to apply (with --apply)"])


def test_a_mapping_other_rules_read_or_a_branch_that_is_no_literal_is_display_only(fix_project, capsys):
    (fix_project / "t.yaml").write_text(
        "Parameters:\n  Env: {Type: String, Default: dev}\n  Admin: {Type: String, Default: 0.0.0.0/0}\n"
        "Conditions:\n  Prod: !Equals [!Ref Env, prod]\n"
        "Mappings:\n  Net:\n    dev: {Cidr: 0.0.0.0/0}\n"
        "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: a\n"
        "      SecurityGroupIngress:\n"
        "        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !FindInMap [Net, !Ref Env, Cidr]}\n"
        "        - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: !FindInMap [Net, !Ref Env, Cidr]}\n"
        "        - {IpProtocol: tcp, FromPort: 5985, ToPort: 5985, CidrIp: !If [Prod, 10.0.0.0/8, !Ref Admin]}\n"
        "        - {IpProtocol: tcp, FromPort: 5986, ToPort: 5986, CidrIp: !Ref Admin}\n")
    assert [fixes_ for rule_id, fixes_ in offered(fix_project / "t.yaml") if rule_id in ("WPL101", "WPL102")] == [
        [("Restrict mapping Net/dev/Cidr's 0.0.0.0/0 to 203.0.113.0/24: mapping Net is read 2 times; give this rule "
          "a value of its own", "display-only"), ("Remove Sg's rule 3389/tcp from 0.0.0.0/0", "unsafe")],
        [("Restrict mapping Net/dev/Cidr's 0.0.0.0/0 to 203.0.113.0/24: mapping Net is read 2 times; give this rule "
          "a value of its own", "display-only"), ("Remove Sg's rule 445/tcp from 0.0.0.0/0", "unsafe")]]
    [winrm] = [fixes_ for rule_id, fixes_ in offered(fix_project / "t.yaml") if rule_id == "WPL103"][:1]
    assert winrm[0] == ("Restrict 0.0.0.0/0 to 203.0.113.0/24 on Sg (CidrIp when condition Prod is false (Env = "
                        "'dev')): parameter Admin's Default is shared (it is used 2 times); pass 203.0.113.0/24 for "
                        "this stack instead", "display-only")


def test_a_file_is_asked_for_fixes_of_the_format_that_claims_its_name():
    from winportlint.plugin_manager import load_plugins

    formats = load_plugins().formats
    assert fixes.format_for("infra/main.tf", formats).name == "terraform"
    assert fixes.format_for("infra/main.tf.json", formats).name == "terraform"
    assert fixes.format_for("t.yaml", formats).name == "cloudformation"
    assert fixes.format_for("stack.cfn", formats).name == "cloudformation"  # a name no format claims


def test_a_symlinked_template_is_fixed_in_its_target_and_stays_a_link(fix_project, capsys):
    (fix_project / "real").mkdir()
    target = fix_project / "real" / "t.yaml"
    target.write_text(TEMPLATE)
    (fix_project / "t.yaml").symlink_to(target)
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "t.yaml")[::2] == (0, ["3 fixes applied"])
    assert (fix_project / "t.yaml").is_symlink()
    assert target.read_text() == TEMPLATE.replace("0.0.0.0/0", "203.0.113.0/24")


def test_a_utf16_template_gets_no_fix_and_is_left_as_it_is(fix_project, capsys):
    path = fix_project / "t.yaml"
    path.write_bytes(TEMPLATE.encode("utf-16"))
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "--select", "WPL101", "t.yaml") == (
        1, "", ["t.yaml:12: WPL101: no fix to apply", "0 fixes applied, 1 finding without a fix to apply"])
    assert path.read_bytes() == TEMPLATE.encode("utf-16")


def test_an_exception_the_policy_refuses_is_not_written(fix_project, capsys):
    (fix_project / "pyproject.toml").write_text("[tool.winportlint]\nrequire_owner = true\n")
    path = fix_project / "t.yaml"
    path.write_text(TEMPLATE)
    code, out, err = run(capsys, "fix", "--apply", "--select", "WPL101", "--reason", "jump", "t.yaml")
    assert err == ["t.yaml: not fixed: the fixed file would have an error: line 12: suppression of WPL101 needs "
                   "an owner (the configuration sets require_owner)", "0 fixes applied"]
    assert (code, path.read_text()) == (1, TEMPLATE)


def test_a_fix_that_edits_a_file_it_cannot_read_is_dropped(fix_project, capsys, monkeypatch):
    (fix_project / "t.yaml").write_text(TEMPLATE)
    (fix_project / "other.yaml").mkdir()
    monkeypatch.setattr(CloudFormationFormat, "fixes", lambda self, finding, request, read: [
        Fix("elsewhere", "safe", (TextEdit(str(fix_project / "other.yaml"), 0, 1, "y"),))])
    code, out, err = run(capsys, "fix", "--apply", "--select", "WPL101", "--reason", "x", "t.yaml")
    assert (code, out, err) == (1, "", ["t.yaml:12: WPL101: no fix to apply",
                                        "0 fixes applied, 1 finding without a fix to apply"])
    assert (fix_project / "other.yaml").is_dir()


def test_an_anchored_value_its_aliases_share_is_display_only(fix_project, capsys):
    (fix_project / "a.yaml").write_text(
        "Resources:\n"
        "  A:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: a\n"
        "      SecurityGroupIngress:\n"
        "        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: &world 0.0.0.0/0}\n"
        "  B:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: b\n"
        "      SecurityGroupIngress:\n"
        "        - {IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: *world}\n")
    assert [offer[1][1] for offer in offered(fix_project / "a.yaml")] == [
        ("Remove A's rule 3389/tcp from 0.0.0.0/0: it holds the anchor &world that aliases share; remove it by hand",
         "display-only"),
        ("Remove B's rule 445/tcp from 0.0.0.0/0", "unsafe")]
    assert run(capsys, "fix", "a.yaml") == (1, "", [
        "a.yaml:7: WPL101: no fix to apply: Restrict 0.0.0.0/0 to 203.0.113.0/24 on A: the value is anchored "
        "(&world) for aliases to share; change it by hand",
        "0 fixes to apply (with --apply), 1 more with --unsafe-fixes, 1 finding without a fix to apply"])
    (fix_project / "pyproject.toml").write_text("")
    assert run(capsys, "fix", "a.yaml") == (1, "", [
        "a.yaml:7: WPL101: no fix to apply: Remove A's rule 3389/tcp from 0.0.0.0/0: it holds the anchor &world "
        "that aliases share; remove it by hand",
        "0 fixes to apply (with --apply), 1 more with --unsafe-fixes, 1 finding without a fix to apply"])


def test_admin_sources_are_requested_cidrs_then_prefix_list_then_security_group(tmp_path):
    from winportlint.config import load

    path = tmp_path / ".winportlint.toml"
    path.write_text('[fix]\nsecurity_group = "sg-0123456789abcdef0"\nprefix_list = "pl-12345678"\n'
                    'cidrs = ["2001:db8::/32", "203.0.113.0/24"]\n')
    sources = load(str(path)).fix_sources
    assert sources == ("2001:db8::/32", "203.0.113.0/24", "pl-12345678", "sg-0123456789abcdef0")
    assert [(request.kind, request.sources) for request in fixes.requests(sources, "jump")] == [
        ("restrict", sources), ("accept", ()), ("remove", ())]
    assert [request.kind for request in fixes.requests()] == ["remove"]


def test_each_check_is_asked_only_the_fix_kinds_it_declares(fix_project, capsys, monkeypatch):
    """A rule whose source is unknown is not removed (it cannot be read), but restricting it says
    where its value is decided; a load balancer's scheme and the default network ACL's allow-all
    entry are no CIDR to narrow; removing a network ACL's allow entry can cut the subnet off."""
    from conftest import REPO

    for case in ("WPL001/bad/unknown-source.yaml", "WPL401/bad/https.yaml", "WPL601/bad/acl.yaml",
                 "WPL602/bad/allow-all.yaml", "WPL701/bad/listeners.yaml"):
        (fix_project / case.replace("/", "-")).write_bytes((REPO / "tests" / "cases" / case).read_bytes())
    (fix_project / "t.yaml").write_text(TEMPLATE)
    asked = set()
    monkeypatch.setattr(CloudFormationFormat, "fixes",
                        lambda self, finding, request, read: asked.add((finding.rule_id, request.kind)) or [])
    assert run(capsys, "fix", "--severity", "info", "--reason", "x", ".")[0] == 1
    assert sorted(asked) == [
        ("WPL001", "accept"), ("WPL001", "restrict"),
        ("WPL101", "accept"), ("WPL101", "remove"), ("WPL101", "restrict"),
        ("WPL102", "accept"), ("WPL102", "remove"), ("WPL102", "restrict"),
        ("WPL103", "accept"), ("WPL103", "remove"), ("WPL103", "restrict"),
        ("WPL401", "accept"),
        ("WPL601", "accept"), ("WPL601", "restrict"),
        ("WPL602", "accept"),
        ("WPL701", "accept")]


def test_without_a_cidr_of_the_family_the_prefix_list_replaces_the_cidr_key_and_value(fix_project, capsys):
    (fix_project / "pyproject.toml").write_text('[tool.winportlint.fix]\ncidrs = ["2001:db8::/32"]\n'
                                            'prefix_list = "pl-0123456789abcdef0"\nsecurity_group = "sg-12345678"\n')
    (fix_project / "t.yaml").write_text(TEMPLATE)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", "t.yaml")
    assert out == """\
--- a/t.yaml
+++ b/t.yaml
@@ -9,12 +9,12 @@
         - IpProtocol: tcp   # rdp
           FromPort: 3389
           ToPort: 3389
-          CidrIp: '0.0.0.0/0'
+          SourcePrefixListId: 'pl-0123456789abcdef0'
         - IpProtocol: tcp
           FromPort: 5985
           ToPort: 5985
-          CidrIp: "0.0.0.0/0"
+          SourcePrefixListId: "pl-0123456789abcdef0"
         - IpProtocol: tcp
           FromPort: 445
           ToPort: 445
-          CidrIp: 0.0.0.0/0
+          SourcePrefixListId: pl-0123456789abcdef0
"""
    assert (code, err) == (1, ["3 fixes to apply (with --apply)"])


def test_a_security_group_source_names_the_egress_destination_in_json(fix_project, capsys):
    (fix_project / "pyproject.toml").write_text('[tool.winportlint.fix]\nsecurity_group = "sg-12345678"\n')
    path = fix_project / "t.json"
    path.write_text(JSON_TEMPLATE.replace('"SecurityGroupIngress"', '"SecurityGroupEgress"')
                    .replace("3389", "445"))
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", "--select", "WPL501", "t.json") == (
        0, "", ["1 fix applied"])
    assert path.read_text() == JSON_TEMPLATE.replace('"SecurityGroupIngress"', '"SecurityGroupEgress"') \
        .replace("3389", "445").replace('"CidrIp": "0.0.0.0/0"', '"DestinationSecurityGroupId": "sg-12345678"')
    assert run(capsys, "check", "--select", "WPL501", "t.json")[0] == 0


def test_a_parameter_cidr_or_a_rule_that_names_a_group_already_is_not_given_an_id(fix_project, capsys):
    (fix_project / "pyproject.toml").write_text('[tool.winportlint.fix]\nprefix_list = "pl-12345678"\n')
    (fix_project / "p.yaml").write_text(PARAMETER)
    (fix_project / "t.yaml").write_text(ONE_LINE.replace("ToPort: 445,", "ToPort: 445, SourcePrefixListId: pl-87654321,"))
    assert offered(fix_project / "p.yaml", ("pl-12345678",))[0][1][0] == (
        "Restrict 0.0.0.0/0 to prefix list pl-12345678 on Jump: CidrIp from parameter Admin default gives a CIDR, "
        "which a prefix list id cannot replace; write SourcePrefixListId: pl-12345678 in the rule instead",
        "display-only")
    assert offered(fix_project / "t.yaml", ("pl-12345678",))[1][1][0] == (
        "Restrict 0.0.0.0/0 to prefix list pl-12345678 on Jump: the rule already has SourcePrefixListId",
        "display-only")


def test_a_file_named_by_its_absolute_path_is_named_so_in_the_diff(fix_project, capsys):
    (fix_project / "t.yaml").write_text(TEMPLATE)
    path = str(fix_project / "t.yaml")
    code, out, _ = run(capsys, "fix", "--unsafe-fixes", "--select", "WPL101", path)
    assert out.splitlines()[:2] == [f"--- {path}", f"+++ {path}"]
    assert code == 1


def test_fixing_a_copy_of_the_whole_corpus_keeps_its_errors_and_line_ends_and_a_second_run_has_nothing_to_fix(
        tmp_path, monkeypatch, capsys):
    """Every fix of every kind, CloudFormation, Serverless and Terraform, applied over the shared
    corpus as a user would (``--apply --unsafe-fixes --reason``): each unit verified, no input
    error added, no file's line ends or BOM changed, and the second run finds nothing more."""
    import re
    import shutil

    from conftest import CORPUS

    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not here ({CORPUS})")
    shutil.copytree(CORPUS, tmp_path / "corpus")
    (tmp_path / "pyproject.toml").write_text('[tool.winportlint.fix]\ncidrs = ["203.0.113.0/24", "2001:db8::/32"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-10")
    before = {path: path.read_bytes() for path in (tmp_path / "corpus").rglob("*") if path.is_file()}
    argv = ("fix", "--apply", "--unsafe-fixes", "--reason", "corpus", "corpus")
    code, out, err = run(capsys, *argv)
    errors = sorted(line for line in err if ": error: " in line)
    applied = int(re.match(r"(\d+) fix(?:es)? applied", err[-1])[1])
    assert (code, out, applied >= 150) == (2, "", True), err[-1]  # the corpus holds broken files: exit 2
    changed = [path for path, data in before.items() if path.read_bytes() != data]
    assert len(changed) >= 20
    for path in changed:
        old, new = before[path], path.read_bytes()
        assert old.startswith(b"\xef\xbb\xbf") == new.startswith(b"\xef\xbb\xbf"), path
        ends = [(data.count(b"\r\n") > 0, data.count(b"\n") > data.count(b"\r\n")) for data in (old, new)]
        assert ends[0] == ends[1], path  # CRLF files stay CRLF, LF files LF
    code, out, err = run(capsys, *argv)
    assert (code, out, err[-1].split(",")[0]) == (2, "", "0 fixes applied")
    assert sorted(line for line in err if ": error: " in line) == errors
