"""Exceptions with an owner and an end (issue #19): ``until=``/``owner=`` in comments, ``expires``/``owner``
in Metadata and allow entries, what the configuration requires of them, expiry and its warning window,
``winportlint exceptions`` and SARIF suppressions. Every date is injected with WINPORTLINT_TODAY."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from winportlint.cli import main

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Bastion:{metadata}
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: bastion
      SecurityGroupIngress:
        - IpProtocol: tcp{rdp}
          FromPort: 3389
          ToPort: 3389
          CidrIp: 0.0.0.0/0
        - IpProtocol: tcp{winrm}
          FromPort: 5985
          ToPort: 5985
          CidrIp: 0.0.0.0/0
"""
RDP = ("3389/tcp open from 0.0.0.0/0 (the whole internet) on {}: 3389/tcp RDP (open by default in the "
       "Windows Server 2012 R2 to 2022 AMIs)")
WINRM = ("5985/tcp open from 0.0.0.0/0 (the whole internet) on Bastion: 5985/tcp WinRM (open by default in the "
         "Windows Server 2012 to 2022 AMIs)")
PARTNER = "# winportlint: ignore[WPL101] until=2026-11-30 owner=platform partner bastion, SEC-42"
#: The finding of the rule PARTNER accepts, once 2026-11-30 has passed.
EXPIRED = (f"t.yaml:11:19: WPL101 critical {RDP.format('Bastion')}; accepted until 2026-11-30 by platform "
           f"(partner bastion, SEC-42); expired")


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-10")
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def template(path: Path, rdp: str = "", winrm: str = "", metadata: str = "") -> Path:
    path.write_text(TEMPLATE.format(rdp=f"  {rdp}" if rdp else "", winrm=f"  {winrm}" if winrm else "",
                                    metadata=metadata))
    return path


# --- inline comments ---------------------------------------------------------------------------------

def test_a_comment_with_an_owner_and_an_end_suppresses_until_that_day(project, capsys, monkeypatch):
    template(project / "t.yaml", rdp=PARTNER)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-01")
    code, lines, err = run(capsys, "check", "--no-cache", "--show-suppressed", "t.yaml")
    assert (code, err) == (1, "")
    assert lines == [f"t.yaml:15:19: WPL103 critical {WINRM}",
                     f"t.yaml:11:19: WPL101 suppressed until 2026-11-30 by platform (partner bastion, SEC-42; "
                     f"t.yaml:8) {RDP.format('Bastion')}",
                     "1 finding (1 critical) in 1 file; 1 suppressed", "see: winportlint explain WPL103"]


def test_owner_and_until_may_come_in_either_order(project, capsys, monkeypatch):
    template(project / "t.yaml", rdp="# winportlint: ignore[wpl101] owner=platform until=2026-11-30 partner")
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-01")
    code, lines, _ = run(capsys, "check", "--no-cache", "--format", "json", "t.yaml")
    suppressed = json.loads("\n".join(lines))["suppressed"]
    assert (code, [(s["rule_id"], s["reason"], s["owner"], s["expires"], s["suppressed_by"]) for s in suppressed]) \
        == (1, [("WPL101", "partner", "platform", "2026-11-30", "t.yaml:8")])


def test_on_its_last_day_the_exception_still_applies_and_warns(project, capsys, monkeypatch):
    template(project / "t.yaml", rdp=PARTNER)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-30")
    code, lines, err = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    assert (code, lines) == (0, ["0 findings in 1 file; 1 suppressed"])
    assert err == ("winportlint: warning: t.yaml:8: the exception of WPL101 by platform (partner bastion, SEC-42) "
                   "expires today\n")


def test_an_expired_comment_no_longer_applies_and_says_what_was_accepted(project, capsys, monkeypatch):
    template(project / "t.yaml", rdp=PARTNER)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    code, lines, err = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    assert (code, err) == (1, "")
    assert lines == [EXPIRED, "1 finding (1 critical) in 1 file", "see: winportlint explain WPL101"]
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "--format", "json", "t.yaml")
    assert [f["message"] for f in json.loads("\n".join(lines))["findings"]] == [EXPIRED.split(" critical ")[1]]


def test_an_exception_about_to_expire_is_a_warning_within_the_configured_window(project, capsys):
    template(project / "t.yaml", rdp=PARTNER)  # 20 days after 2026-11-10
    code, lines, err = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    assert (code, lines, err) == (0, ["0 findings in 1 file; 1 suppressed"], "")
    (project / ".winportlint.toml").write_text("exception_warning_days = 30\n")
    code, lines, err = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    warning = "t.yaml:8: the exception of WPL101 by platform (partner bastion, SEC-42) expires on 2026-11-30, in 20 days"
    assert (code, lines, err) == (0, ["0 findings in 1 file; 1 suppressed"], f"winportlint: warning: {warning}\n")
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "--format", "github", "t.yaml")
    assert (code, lines[0]) == (0, f"::warning title=winportlint::{warning}")


HCL = """\
resource "aws_security_group" "bastion" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"] COMMENT
  }
}
"""


@pytest.mark.parametrize("comment", ["# winportlint: ignore[WPL101] until=2026-11-30 owner=platform partner access",
                                     "// winportlint: ignore[WPL101] owner=platform until=2026-11-30 partner access",
                                     "/* winportlint: ignore[WPL101] until=2026-11-30 owner=platform partner access */"],
                         ids=["hash", "slashes", "block"])
def test_hcl_comments_take_until_and_owner(project, capsys, monkeypatch, comment):
    (project / "main.tf").write_text(HCL.replace("COMMENT", comment))
    code, lines, _ = run(capsys, "check", "--no-cache", "--format", "json", ".")
    document = json.loads("\n".join(lines))
    assert (code, document["findings"], document["errors"]) == (0, [], [])
    assert [(s["reason"], s["owner"], s["expires"], s["suppressed_by"]) for s in document["suppressed"]] == [
        ("partner access", "platform", "2026-11-30", "main.tf:6")]
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    code, lines, _ = run(capsys, "check", "--no-cache", ".")
    assert (code, lines[0]) == (1, f"main.tf:6:20: WPL101 critical {RDP.format('aws_security_group.bastion')}; "
                                   f"accepted until 2026-11-30 by platform (partner access); expired")


@pytest.mark.parametrize("comment, message", [
    ("# winportlint: ignore[WPL101] until=2026-02-30 partner", "suppression of WPL101: until=2026-02-30 is not a date "
                                                              "(write YYYY-MM-DD)"),
    ("# winportlint: ignore[WPL101] until=30.11.2026 partner", "suppression of WPL101: until=30.11.2026 is not a "
                                                              "date (write YYYY-MM-DD)"),
    ("# winportlint: ignore[WPL101] until=20261130 partner", "suppression of WPL101: until=20261130 is not a date "
                                                            "(write YYYY-MM-DD)"),
    ("# winportlint: ignore[WPL101] until= partner", "suppression of WPL101: until= needs a value"),
    ("# winportlint: ignore[WPL101] owner=a owner=b partner", "suppression of WPL101 gives owner= twice"),
    ("# winportlint: ignore[WPL101] until=2026-11-30 owner=platform",
     "suppression of WPL101 needs a reason after the brackets"),
])
def test_a_malformed_until_or_owner_is_an_error_at_its_line_and_suppresses_nothing(project, capsys, comment, message):
    template(project / "t.yaml", rdp=comment)
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    assert (code, lines) == (2, [f"t.yaml:11:19: WPL101 critical {RDP.format('Bastion')}", f"t.yaml:8: error: {message}",
                                 "1 finding (1 critical) in 1 file; 1 input error", "see: winportlint explain WPL101"])


def test_a_bad_today_is_a_usage_error(project, capsys, monkeypatch):
    template(project / "t.yaml")
    monkeypatch.setenv("WINPORTLINT_TODAY", "tomorrow")
    assert run(capsys, "check", "--no-cache", "t.yaml") == (
        2, [], "winportlint: error: WINPORTLINT_TODAY: 'tomorrow' is not a date (write YYYY-MM-DD)\n")


# --- CloudFormation Metadata ---------------------------------------------------------------------------

def metadata(fields: str) -> str:
    return f"\n    Metadata:\n      winportlint:\n        ignore:\n          - {{id: WPL101, {fields}}}"


def test_metadata_takes_expires_and_owner(project, capsys, monkeypatch):
    template(project / "t.yaml", metadata=metadata("reason: 'partner bastion, SEC-42', expires: 2026-11-30, "
                                                   "owner: platform"))
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "--show-suppressed", "t.yaml")
    assert (code, lines) == (0, [
        f"t.yaml:15:19: WPL101 suppressed until 2026-11-30 by platform (partner bastion, SEC-42; t.yaml:7 (Metadata)) "
        f"{RDP.format('Bastion')}", "0 findings in 1 file; 1 suppressed"])
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    assert (code, lines[0]) == (1, EXPIRED.replace(":11:", ":15:"))


def test_a_cached_result_keeps_the_metadata_expiry(project, capsys, monkeypatch):
    """The second run reads the findings, Metadata ignores included, from the cache: the expiry is still there."""
    template(project / "t.yaml", metadata=metadata("reason: 'partner bastion, SEC-42', expires: 2026-11-30, "
                                                   "owner: platform"))
    assert run(capsys, "check", "--select", "WPL101", "t.yaml")[:2] == (0, ["0 findings in 1 file; 1 suppressed"])
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    code, lines, _ = run(capsys, "check", "--select", "WPL101", "t.yaml")
    assert (code, lines[0]) == (1, EXPIRED.replace(":11:", ":15:"))


@pytest.mark.parametrize("fields, message", [
    ("reason: partner, expires: 2026-13-01", "Metadata ignore of WPL101: expires '2026-13-01' is not a date "
                                             "(write YYYY-MM-DD)"),
    ("reason: partner, expires: [2026-11-30]", "Bastion: ignore of WPL101: 'expires' must be a date (YYYY-MM-DD)"),
    # A misspelt key would leave an exception without an end: an error, not a key passed over.
    ("reason: partner, expire: 2026-11-30", "Bastion: ignore of WPL101 has unknown key 'expire' (known: id, reason, "
                                            "expires, owner)"),
    ("reason: partner, owner: ''", "Bastion: ignore of WPL101: 'owner' must be a name"),
])
def test_a_malformed_metadata_exception_is_an_error_and_suppresses_nothing(project, capsys, fields, message):
    template(project / "t.yaml", metadata=metadata(fields))
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    assert (code, lines) == (2, [f"t.yaml:15:19: WPL101 critical {RDP.format('Bastion')}", f"t.yaml:7: error: {message}",
                                 "1 finding (1 critical) in 1 file; 1 input error", "see: winportlint explain WPL101"])


# --- allow entries -----------------------------------------------------------------------------------

ALLOW = '[[allow]]\nresource = "Bastion"\nports = "3389"\nreason = "partner bastion, SEC-42"\n'


@pytest.mark.parametrize("expires", ["2026-11-30", '"2026-11-30"'], ids=["toml-date", "string"])
def test_an_allow_entry_takes_expires_and_owner(project, capsys, monkeypatch, expires):
    template(project / "t.yaml")
    (project / ".winportlint.toml").write_text(f'{ALLOW}expires = {expires}\nowner = "platform"\n')
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "--format", "json", "t.yaml")
    suppressed = json.loads("\n".join(lines))["suppressed"]
    assert (code, [(s["owner"], s["expires"], s["suppressed_by"]) for s in suppressed]) == (
        0, [("platform", "2026-11-30", ".winportlint.toml allow[0]")])
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    assert (code, lines[0]) == (1, EXPIRED)


def test_an_expired_comment_gives_way_to_an_allow_entry_in_force(project, capsys, monkeypatch):
    template(project / "t.yaml", rdp=PARTNER)
    (project / ".winportlint.toml").write_text(f'{ALLOW}expires = 2027-03-31\nowner = "security"\n')
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "--show-suppressed", "t.yaml")
    assert (code, lines[0]) == (0, f"t.yaml:11:19: WPL101 suppressed until 2027-03-31 by security (partner bastion, "
                                   f"SEC-42; .winportlint.toml allow[0]) {RDP.format('Bastion')}")


@pytest.mark.parametrize("line, message", [
    ("expires = 2026-11-31", "invalid TOML: "),
    ('expires = "2026-11-31"', "allow[0]: expires must be a date such as 2027-03-31, not '2026-11-31'"),
    ('expires = "next year"', "allow[0]: expires must be a date such as 2027-03-31, not 'next year'"),
    ("expires = 2026-11-30T12:00:00", "allow[0]: expires must be a date such as 2027-03-31, not a date or time"),
    ("expires = 20261130", "allow[0]: expires must be a date such as 2027-03-31, not an integer"),
    ('owner = ""', 'allow[0]: owner must be a name, such as "platform"'),
])
def test_a_malformed_allow_expiry_or_owner_is_a_usage_error(project, capsys, line, message):
    template(project / "t.yaml")
    (project / ".winportlint.toml").write_text(f"{ALLOW}{line}\n")
    code, lines, err = run(capsys, "check", "--no-cache", "t.yaml")
    assert (code, lines) == (2, [])
    assert err.startswith(f"winportlint: error: .winportlint.toml: {message}")


# --- what the configuration requires -----------------------------------------------------------------

def test_require_owner_and_expiry_name_each_exception_without_them(project, capsys):
    template(project / "t.yaml", rdp="# winportlint: ignore[WPL101] until=2026-11-30 partner",
             metadata="\n    Metadata:\n      winportlint:\n        ignore:\n          - {id: WPL103, reason: winrm, "
                      "owner: ops}")
    (project / ".winportlint.toml").write_text("require_owner = true\nrequire_expiry = true\n")
    code, lines, _ = run(capsys, "check", "--no-cache", "t.yaml")
    assert (code, lines[2:]) == (2, [
        "t.yaml:7: error: Metadata ignore of WPL103 needs an expiry date (the configuration sets require_expiry)",
        "t.yaml:12: error: suppression of WPL101 needs an owner (the configuration sets require_owner)",
        "2 findings (2 critical) in 1 file; 2 input errors", "see: winportlint explain WPL101 WPL103"])
    (project / ".winportlint.toml").write_text(f"require_owner = true\n{ALLOW}expires = 2026-11-30\n")
    template(project / "t.yaml")
    assert run(capsys, "check", "--no-cache", "t.yaml") == (2, [], (
        "winportlint: error: .winportlint.toml allow[0] needs an owner (the configuration sets require_owner)\n"))


def test_an_owner_too_long_to_be_a_name_is_refused_not_printed_at_length(project, capsys, monkeypatch):
    """An owner is printed by every report: one of 5,000 characters would have been echoed whole in
    the finding's message when it expired, in warnings and in the exceptions listing."""
    owner = "x" * 5000
    template(project / "t.yaml", rdp=PARTNER.replace("owner=platform", f"owner={owner}"))
    (project / ".winportlint.toml").write_text(f'[[allow]]\nresource = "Old*"\nreason = "old"\nowner = "{owner}"\n')
    assert run(capsys, "check", "--no-cache", "t.yaml") == (2, [], (
        f"winportlint: error: .winportlint.toml allow[0]: owner '{'x' * 60}…' (5000 characters) is longer than 100 "
        "characters (a team's or a person's name)\n"))
    (project / ".winportlint.toml").unlink()
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101", "t.yaml")
    assert (code, lines[1:]) == (2, [
        f"t.yaml:8: error: suppression of WPL101: owner '{'x' * 60}…' (5000 characters) is longer than 100 "
        "characters (a team's or a person's name)",
        "1 finding (1 critical) in 1 file; 1 input error", "see: winportlint explain WPL101"])


def test_max_exception_days_caps_how_far_ahead_an_expiry_may_be(project, capsys):
    template(project / "t.yaml", rdp=PARTNER.replace("2026-11-30", "2027-06-01"),
             winrm="# winportlint: ignore[WPL103] until=2027-05-10 owner=ops winrm")
    (project / ".winportlint.toml").write_text("max_exception_days = 180\n")  # 2026-11-10 + 180 days = 2027-05-09
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101,WPL103", "t.yaml")
    assert (code, lines[2:]) == (2, [
        "t.yaml:8: error: suppression of WPL101 expires on 2027-06-01, more than max_exception_days (180) after "
        "2026-11-10", "t.yaml:12: error: suppression of WPL103 expires on 2027-05-10, more than max_exception_days "
                      "(180) after 2026-11-10", "2 findings (2 critical) in 1 file; 2 input errors",
        "see: winportlint explain WPL101 WPL103"])
    template(project / "t.yaml", winrm="# winportlint: ignore[WPL103] until=2027-05-09 owner=ops winrm")
    code, lines, _ = run(capsys, "check", "--no-cache", "--select", "WPL101,WPL103", "t.yaml")
    assert (code, lines[-2:]) == (1, ["1 finding (1 critical) in 1 file; 1 suppressed", "see: winportlint explain WPL101"])
    (project / ".winportlint.toml").write_text(f"max_exception_days = 30\n{ALLOW}expires = 2027-03-31\n")
    assert run(capsys, "check", "--no-cache", "t.yaml") == (2, [], (
        "winportlint: error: .winportlint.toml allow[0] expires on 2027-03-31, more than max_exception_days (30) "
        "after 2026-11-10\n"))


@pytest.mark.parametrize("text, message", [
    ("max_exception_days = 0", "max_exception_days must be a number of days, 1 or more, not 0"),
    ("max_exception_days = '90'", "max_exception_days must be a number of days, 1 or more, not a string"),
    ("exception_warning_days = -1", "exception_warning_days must be a number of days, 0 or more, not -1"),
    ("exception_warning_days = true", "exception_warning_days must be a number of days, 0 or more, not a boolean"),
    ("require_owner = 'yes'", "require_owner must be true or false, not a string"),
])
def test_bad_exception_settings_are_usage_errors(project, capsys, text, message):
    template(project / "t.yaml")
    (project / ".winportlint.toml").write_text(f"{text}\n")
    assert run(capsys, "check", "--no-cache", "t.yaml") == (2, [], f"winportlint: error: .winportlint.toml: {message}\n")


# --- winportlint exceptions --------------------------------------------------------------------------

def _listed_project(project: Path) -> None:
    """An exception of each kind and status on 2026-11-20: a Metadata one in force, an unused comment,
    a comment expiring in 10 days and an expired allow entry."""
    template(project / "t.yaml", rdp=PARTNER,
             metadata=metadata("reason: winrm via the partner link, expires: 2027-03-31, owner: ops").replace(
                 "id: WPL101", "id: WPL103"))
    text = (project / "t.yaml").read_text().replace(
        "GroupDescription: bastion", "GroupDescription: bastion  # winportlint: ignore[WPL102] owner=storage no SMB")
    (project / "t.yaml").write_text(text)
    (project / ".winportlint.toml").write_text(
        '[[allow]]\nresource = "Old*"\nports = "3389"\nreason = "old bastion"\nexpires = 2026-10-01\n')


LISTED = [
    "t.yaml:7 (Metadata): active: WPL103 on Bastion, 5985/tcp; owner ops; expires 2027-03-31; winrm via the partner "
    "link",
    "t.yaml:10: unused: WPL102; owner storage; expires never; no SMB",
    "t.yaml:12: expiring soon: WPL101 on Bastion, 3389/tcp; owner platform; expires 2026-11-30; partner bastion, SEC-42",
    ".winportlint.toml allow[0]: expired: every check on Old*, ports 3389; owner -; expires 2026-10-01; old bastion",
    "4 exceptions: 1 active, 1 expiring soon, 1 expired, 1 unused",
]


def test_exceptions_lists_each_with_its_status(project, capsys, monkeypatch):
    _listed_project(project)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-20")
    assert run(capsys, "exceptions", "--no-cache") == (1, LISTED, "")


def test_exceptions_as_json(project, capsys, monkeypatch):
    _listed_project(project)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-20")
    code, lines, _ = run(capsys, "exceptions", "--no-cache", "--format", "json", ".")
    document = json.loads("\n".join(lines))
    common = {"kind": "comment", "files": None, "tags": None, "from": None}
    assert (code, document) == (1, {"version": 1, "today": "2026-11-20", "errors": [], "exceptions": [
        {"where": "t.yaml:7 (Metadata)", "kind": "metadata", "file": "t.yaml", "line": 7, "checks": ["WPL103"],
         "resource": "Bastion", "ports": "5985/tcp", "files": None, "tags": None, "from": None,
         "reason": "winrm via the partner link",
         "owner": "ops", "expires": "2027-03-31", "status": "active", "findings": 1},
        {**common, "where": "t.yaml:10", "file": "t.yaml", "line": 10, "checks": ["WPL102"], "resource": None,
         "ports": None, "reason": "no SMB", "owner": "storage", "expires": None, "status": "unused", "findings": 0},
        {**common, "where": "t.yaml:12", "file": "t.yaml", "line": 12, "checks": ["WPL101"], "resource": "Bastion",
         "ports": "3389/tcp", "reason": "partner bastion, SEC-42", "owner": "platform", "expires": "2026-11-30",
         "status": "expiring soon", "findings": 1},
        {"where": ".winportlint.toml allow[0]", "kind": "allow", "file": None, "line": None, "checks": [],
         "resource": "Old*", "ports": "3389", "files": None, "tags": None, "from": None, "reason": "old bastion",
         "owner": None,
         "expires": "2026-10-01", "status": "expired", "findings": 0},
    ]})


def test_exceptions_as_markdown(project, capsys, monkeypatch):
    _listed_project(project)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-20")
    code, lines, _ = run(capsys, "exceptions", "--no-cache", "--format", "markdown")
    assert (code, lines) == (1, [
        "## winportlint exceptions", "", "4 exceptions: 1 active, 1 expiring soon, 1 expired, 1 unused", "",
        "| Status | Where | Covers | Owner | Expires | Reason |", "| --- | --- | --- | --- | --- | --- |",
        "| active | t.yaml:7 (Metadata) | WPL103 on Bastion, 5985/tcp | ops | 2027-03-31 | winrm via the partner link |",
        "| unused | t.yaml:10 | WPL102 | storage | never | no SMB |",
        "| expiring soon | t.yaml:12 | WPL101 on Bastion, 3389/tcp | platform | 2026-11-30 | partner bastion, SEC-42 |",
        "| expired | .winportlint.toml allow\\[0\\] | every check on Old\\*, ports 3389 | - | 2026-10-01 | old bastion |",
    ])


def test_exceptions_exit_0_when_every_one_is_in_force_and_used(project, capsys, monkeypatch):
    template(project / "t.yaml", rdp=PARTNER)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-20")  # expiring soon is still in force
    assert run(capsys, "exceptions", "--no-cache", "t.yaml") == (0, [
        "t.yaml:8: expiring soon: WPL101 on Bastion, 3389/tcp; owner platform; expires 2026-11-30; partner bastion, "
        "SEC-42", "1 exception: 1 expiring soon"], "")
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    assert run(capsys, "exceptions", "--no-cache", "t.yaml")[0] == 1
    (project / "t.yaml").unlink()
    assert run(capsys, "exceptions", "--no-cache", ".") == (0, ["0 exceptions"], "")


def test_exceptions_exit_2_on_input_errors(project, capsys):
    template(project / "t.yaml", rdp="# winportlint: ignore[WPL101] until=someday partner")
    assert run(capsys, "exceptions", "--no-cache", "t.yaml") == (2, [
        "t.yaml:8: error: suppression of WPL101: until=someday is not a date (write YYYY-MM-DD)",
        "0 exceptions; 1 input error"], "")


# --- SARIF -------------------------------------------------------------------------------------------

def test_sarif_carries_accepted_findings_as_suppressed_results(project, capsys, monkeypatch):
    from test_sarif import validate

    template(project / "t.yaml", rdp=PARTNER)
    (project / ".winportlint.toml").write_text(
        '[[allow]]\nresource = "Bastion"\nports = "5985"\nreason = "WinRM from the partner link"\n')
    code, lines, _ = run(capsys, "check", "--no-cache", "--format", "sarif", "t.yaml")
    log = json.loads("\n".join(lines))
    validate(log)
    results = log["runs"][0]["results"]
    assert code == 0  # accepted findings never fail the run
    assert [(r["ruleId"], r["message"]["text"], r["suppressions"]) for r in results] == [
        ("WPL101", RDP.format("Bastion"), [{
            "kind": "inSource", "status": "accepted", "justification": "partner bastion, SEC-42",
            "properties": {"owner": "platform", "expires": "2026-11-30", "suppressedBy": "t.yaml:8"}}]),
        ("WPL103", WINRM, [{
            "kind": "external", "status": "accepted", "justification": "WinRM from the partner link",
            "properties": {"owner": None, "expires": None, "suppressedBy": ".winportlint.toml allow[0]"}}]),
    ]
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    code, lines, _ = run(capsys, "check", "--no-cache", "--format", "sarif", "t.yaml")
    log = json.loads("\n".join(lines))
    validate(log)
    results = log["runs"][0]["results"]
    assert (code, [(r["ruleId"], "suppressions" in r) for r in results]) == (1, [("WPL101", False), ("WPL103", True)])
    assert results[0]["message"]["text"] == EXPIRED.split(" critical ")[1]


def test_an_allow_entry_by_tags_and_source_is_listed_with_them(project, capsys, monkeypatch):
    """What an allow entry covers includes the tags it selects on and the ranges it accepts."""
    template(project / "t.yaml", rdp=PARTNER)
    (project / ".winportlint.toml").write_text(
        '[[allow]]\ntags = {exposure = "bastion", team = "net"}\nfrom = ["203.0.113.0/24", "2001:db8::/32"]\n'
        'reason = "partner ranges"\nowner = "net"\nexpires = 2027-01-31\n')
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-20")
    code, lines, _ = run(capsys, "exceptions", "--no-cache")
    assert (code, lines) == (1, [
        "t.yaml:8: expiring soon: WPL101 on Bastion, 3389/tcp; owner platform; expires 2026-11-30; partner bastion, "
        "SEC-42",
        ".winportlint.toml allow[0]: unused: every check on *, tagged exposure=bastion, team=net, from "
        "203.0.113.0/24, 2001:db8::/32; owner net; expires 2027-01-31; partner ranges",
        "2 exceptions: 1 expiring soon, 1 unused",
    ])
    code, lines, _ = run(capsys, "exceptions", "--no-cache", "--format", "json")
    listed = json.loads("\n".join(lines))["exceptions"][-1]
    assert (listed["tags"], listed["from"]) == ({"exposure": "bastion", "team": "net"},
                                               ["203.0.113.0/24", "2001:db8::/32"])
