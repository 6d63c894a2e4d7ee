"""What a finding says (issue #18): the ports it opens by name, one entry for one allow-all rule in
the formats people read, the AMIs that open a port by default, and how to go on from there."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import make_finding, make_permission
from winportlint.catalog import load_catalog
from winportlint.checks import describe_rules
from winportlint.cli import main
from winportlint.model import CatalogHit, Direction, Severity
from winportlint.plugins.reporters.markdown import MarkdownReporter
from winportlint.report import Report, entries
from winportlint.services import ports_opened, service_name

#: One rule that lets everything in from all of IPv6: seven checks find it.
ALLOW_ALL = """Resources:
  Open:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: everything from everywhere
      SecurityGroupIngress:
        - IpProtocol: "-1"
          CidrIpv6: ::/0
"""
IDS = ["WPL101", "WPL102", "WPL103", "WPL104", "WPL201", "WPL202", "WPL301"]
#: The ports the allow-all rule opens, gravest check first, by port within each check.
RDP = "3389/tcp+udp RDP, any tcp port RDP shadowing (open by default in the Windows Server 2012 R2 to 2022 AMIs)"
OTHER_PORTS = (
    "137-138/udp and 139/tcp NetBIOS, 445/tcp SMB, 5985-5986/tcp WinRM, 135/tcp RPC, 49152-65535/tcp RPC dynamic, "
    "554,8554-8558/tcp RTSP, 2177/tcp+udp qWave, 2869/tcp UPnP events, 5000-5020/udp RTP, 10246/tcp Cast to Device "
    "HTTP, 10247/tcp DIAL, 23554-23556/tcp Cast to Device RTSP, any udp port Cast to Device RTCP, 7680/tcp+udp "
    "Delivery Optimization, 9955/tcp and any udp port AllJoyn, 1900/udp SSDP, 3544/udp Teredo, 5353/udp mDNS, "
    "5355/udp LLMNR")
ENTRY = f"all traffic open from ::/0 (the whole internet) on Open: {RDP}; also opens {OTHER_PORTS}"
SUMMARY = "7 findings (4 critical, 2 high, 1 low) in 1 file; 1 below --severity low"


def run(folder: Path, capsys, *argv: str) -> tuple[int, list[str], str]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code = main(["check", "--no-cache", *argv])
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


@pytest.fixture()
def allow_all(tmp_path: Path) -> Path:
    (tmp_path / "t.yaml").write_text(ALLOW_ALL)
    return tmp_path


def test_one_allow_all_rule_is_one_text_line_with_its_ports_and_check_ids(allow_all, capsys):
    """It was seven lines at the same place, each naming catalog rules and none a port."""
    assert run(allow_all, capsys, "t.yaml") == (1, [
        f"t.yaml:8:21: {','.join(IDS)} critical {ENTRY}",
        SUMMARY,
        f"see: winportlint explain {' '.join(IDS)}",
    ], "")


def test_one_allow_all_rule_is_one_markdown_row_with_a_message(allow_all, capsys):
    code, lines, _ = run(allow_all, capsys, "--format", "markdown", "t.yaml")
    assert (code, lines) == (1, [
        "## winportlint", "", SUMMARY, "",
        "| Severity | Rule | Resource | Ports | Source | Message | Location |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| critical | {', '.join(IDS)} | Open | all traffic | ::/0 | {ENTRY} | t.yaml:8:21 |",
    ])


def test_one_allow_all_rule_is_one_github_annotation(allow_all, capsys):
    code, lines, _ = run(allow_all, capsys, "--format", "github", "t.yaml")
    assert (code, lines) == (1, [
        f"::error file=t.yaml,line=8,col=21,title={'%2C'.join(IDS)} critical::{ENTRY}",
        SUMMARY,
    ])


def test_an_ignored_check_leaves_the_entry_and_takes_its_ports(allow_all, capsys):
    """The checks stay selectable one by one: without WPL101, RDP is no longer among the ports."""
    code, lines, _ = run(allow_all, capsys, "--ignore", "WPL101", "t.yaml")
    assert (code, lines) == (1, [
        f"t.yaml:8:21: {','.join(IDS[1:])} critical all traffic open from ::/0 (the whole internet) on Open: "
        "137-138/udp and 139/tcp NetBIOS, 445/tcp SMB (open by default in the Windows Server 2012 and 2012 R2 AMIs); "
        f"also opens {OTHER_PORTS.removeprefix('137-138/udp and 139/tcp NetBIOS, 445/tcp SMB, ')}",
        "6 findings (3 critical, 2 high, 1 low) in 1 file; 1 below --severity low",
        f"see: winportlint explain {' '.join(IDS[1:])}",
    ])


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_and_sarif_keep_one_result_per_check(allow_all, capsys, fmt):
    code, lines, _ = run(allow_all, capsys, "--format", fmt, "t.yaml")
    document = json.loads("\n".join(lines))
    results = document["findings"] if fmt == "json" else document["runs"][0]["results"]
    assert code == 1
    assert [r["rule_id"] if fmt == "json" else r["ruleId"] for r in results] == IDS


def test_each_finding_of_the_rule_names_its_ports_and_the_amis_that_open_them(allow_all, capsys):
    """``[Windows Server 2012, 2012 R2]`` read as "only 2012 hosts are affected"."""
    code, lines, _ = run(allow_all, capsys, "--format", "json", "--select", "WPL102,WPL202,WPL301", "t.yaml")
    assert code == 1
    assert [f["message"] for f in json.loads("\n".join(lines))["findings"]] == [
        "all traffic open from ::/0 (the whole internet) on Open: 137-138/udp and 139/tcp NetBIOS, 445/tcp SMB "
        "(open by default in the Windows Server 2012 and 2012 R2 AMIs)",
        "all traffic open from ::/0 (the whole internet) on Open: 7680/tcp+udp Delivery Optimization (open by "
        "default in the Windows Server 2019 and 2022 AMIs), 9955/tcp and any udp port AllJoyn (open by default in "
        "the Windows Server 2016 to 2022 AMIs)",
        "all traffic open from ::/0 (the whole internet) on Open: 1900/udp SSDP, 3544/udp Teredo (open by default in "
        "the Windows Server 2016 to 2022 AMIs), 5353/udp mDNS (open by default in the Windows Server 2019 and 2022 "
        "AMIs), 5355/udp LLMNR (open by default in the Windows Server 2012 and 2012 R2 AMIs)",
    ]


def test_a_parameter_cidr_keeps_its_provenance_in_the_entry(tmp_path, capsys):
    (tmp_path / "t.yaml").write_text("Parameters:\n  Source: {Type: String, Default: '::/0'}\n" + ALLOW_ALL.replace(
        "CidrIpv6: ::/0", "CidrIpv6: !Ref Source"))
    code, lines, _ = run(tmp_path, capsys, "--select", "WPL103,WPL104", "t.yaml")
    assert (code, lines[0]) == (1, (
        "t.yaml:10:21: WPL103,WPL104 critical all traffic open from ::/0 (the whole internet) on Open: "
        "5985-5986/tcp WinRM (open by default in the Windows Server 2012 to 2022 AMIs) [CidrIpv6 from parameter "
        "Source default]; also opens 135/tcp RPC, 49152-65535/tcp RPC dynamic"))


def test_a_rule_on_one_port_stays_the_checks_own_line(tmp_path, capsys):
    (tmp_path / "t.yaml").write_text(ALLOW_ALL.replace('IpProtocol: "-1"', "IpProtocol: tcp\n          FromPort: 445\n"
                                                       "          ToPort: 445"))
    code, lines, _ = run(tmp_path, capsys, "t.yaml")
    assert (code, lines) == (1, [
        "t.yaml:10:21: WPL102 critical 445/tcp open from ::/0 (the whole internet) on Open: 445/tcp SMB (open by "
        "default in the Windows Server 2012 and 2012 R2 AMIs)",
        "1 finding (1 critical) in 1 file",
        "see: winportlint explain WPL102",
    ])


def test_the_explain_line_names_only_what_was_printed(tmp_path, capsys):
    (tmp_path / "t.yaml").write_text(ALLOW_ALL)
    code, lines, _ = run(tmp_path, capsys, "--severity", "critical", "t.yaml")
    assert (code, lines[-1]) == (1, "see: winportlint explain WPL101 WPL102 WPL103 WPL104")
    code, lines, _ = run(tmp_path, capsys, "--select", "WPL401", "t.yaml")  # info: below the threshold
    assert (code, lines) == (0, ["0 findings in 1 file; 1 below --severity low"])


def test_more_services_than_shown_is_singular_for_one():
    """It said "and 1 more catalog rules"."""
    rules = [rule for rule in load_catalog().rules if rule.exposure_class == "file-sharing"]
    assert describe_rules(rules, limit=1) == (
        "137-138/udp and 139/tcp NetBIOS (open by default in the Windows Server 2012 and 2012 R2 AMIs), "
        "and 1 more service")
    rules = [rule for rule in load_catalog().rules if rule.exposure_class in ("file-sharing", "rpc")]
    assert describe_rules(rules, limit=1).endswith(", and 3 more services")


def test_a_baseline_of_one_finding_says_finding(tmp_path, capsys):
    """It said "wrote 1 findings"."""
    (tmp_path / "t.yaml").write_text(ALLOW_ALL)
    code, lines, err = run(tmp_path, capsys, "--select", "WPL103", "--write-baseline", "b.json", "t.yaml")
    assert (code, err) == (0, "winportlint: wrote 1 finding to b.json\n")


def test_every_reported_builtin_rule_has_a_short_name():
    """A rule the table does not name shows its workload: a new row of the AWS page is named by a person."""
    reported = [rule for rule in load_catalog().rules
                if rule.direction is Direction.INGRESS or rule.exposure_class == "egress-file-sharing"]
    hits = [CatalogHit("(no name)", r.rule, r.protocol, r.ports_text(), r.os) for r in reported]
    assert [hit.rule for hit in hits if service_name(hit) == "(no name)"] == []


def test_a_user_rule_is_named_by_its_workload():
    hit = CatalogHit("Our admin console", "Admin console (TCP-In)", "tcp", "8443, 9443", ())
    assert ports_opened([hit]) == "8443,9443/tcp Our admin console"


def test_the_markdown_message_is_escaped():
    """A message holds values from the template: a pipe must not split the cell, a backtick open code."""
    permission = make_permission("t.yaml", 3, 7, "Sg", "tcp", None, "0.0.0.0/0")
    report = Report(findings=[make_finding("WPL101", Severity.CRITICAL, "a | b `c`\nd", permission)], errors=[],
                    checks=[], files_checked=1)
    assert MarkdownReporter().render(report).splitlines()[6] == (
        "| critical | WPL101 | Sg | all ports/tcp | 0.0.0.0/0 | a \\| b \\`c\\` d | t.yaml:3:7 |")


def test_entries_group_by_permission_and_order_the_gravest_first():
    rdp = make_permission("t.yaml", 3, 7, "Sg", "all", None, "0.0.0.0/0")
    other = make_permission("t.yaml", 3, 7, "Sg", "all", None, "::/0")
    findings = [make_finding("WPL301", Severity.LOW, "low", rdp), make_finding("WPL101", Severity.CRITICAL, "rdp", rdp),
                make_finding("WPL101", Severity.CRITICAL, "v6", other)]
    grouped = entries(findings)
    assert [(e.rule_ids, e.severity) for e in grouped] == [(("WPL101", "WPL301"), Severity.CRITICAL),
                                                            (("WPL101",), Severity.CRITICAL)]
    assert [e.message for e in grouped] == ["rdp; low", "v6"]  # no catalog rules named: their own words


def test_findings_that_name_no_catalog_rule_keep_their_own_words_in_one_entry():
    """A plugin's checks may report a permission without catalog rules: the entry says what they say."""
    permission = make_permission("t.yaml", 3, 7, "Sg", "tcp", None, "0.0.0.0/0")
    findings = [make_finding("ACME1", Severity.HIGH, "tcp open to the world", permission),
                make_finding("ACME2", Severity.MEDIUM, "no description", permission)]
    [entry] = entries(findings)
    assert (entry.rule_ids, entry.severity, entry.message) == (
        ("ACME1", "ACME2"), Severity.HIGH, "tcp open to the world; no description")


def test_the_other_findings_of_a_rule_add_their_ports():
    permission = make_permission("t.yaml", 3, 7, "Sg", "all", None, "0.0.0.0/0")
    rdp = make_finding("WPL101", Severity.CRITICAL, "all traffic ...: 3389/tcp RDP (...)", permission)._replace(
        catalog=(CatalogHit("Remote Desktop", "Remote Desktop - User Mode (TCP-In)", "tcp", "3389", ("2022",)),))
    smb = make_finding("WPL102", Severity.CRITICAL, "all traffic ...: 445/tcp SMB (...)", permission)._replace(
        catalog=(CatalogHit("File and Printer Sharing", "File and Printer Sharing (SMB-In)", "tcp", "445", ()),))
    custom = make_finding("WPL901", Severity.LOW, "all traffic ...", permission)._replace(
        catalog=(CatalogHit("Our \x1b[2J app", "Our app (UDP-In)", "udp", "5353, 6000", ()),))
    [entry] = entries([custom, smb, rdp])
    assert entry.message == ("all traffic ...: 3389/tcp RDP (...); also opens 445/tcp SMB, "
                             "5353,6000/udp Our \\x1b[2J app")  # a user catalog's name, escaped


def test_the_explain_line_is_a_command_that_works(allow_all, capsys):
    """``winportlint explain`` took one id: the line the report ends with was a usage error."""
    *_, hint = run(allow_all, capsys, "--select", "WPL101,WPL102", "t.yaml")[1]
    assert hint == "see: winportlint explain WPL101 WPL102"
    assert main(hint.removeprefix("see: winportlint ").split()) == 0
    out = capsys.readouterr().out
    assert out.startswith("WPL101 remote-desktop-open-to-world\n")
    assert "\n\nWPL102 file-sharing-open-to-world\n" in out
