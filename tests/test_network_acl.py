"""Network ACL entries (issue #18): an allow-all entry for the whole internet (every protocol, or
every TCP or UDP port: the AWS default network ACL and its explicit equivalents) is WPL602 at info,
naming the Windows ports it lets through; an entry whose own range names a Windows port stays
WPL601 at its severity. Lower-numbered denies are honoured by both."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import lint
from winportlint.catalog import CatalogRule
from winportlint.cli import main
from winportlint.model import Direction, PortRange, Severity

CASES = Path(__file__).parent / "cases"
ALLOW_ALL = CASES / "WPL602" / "bad" / "allow-all.yaml"
ALLOW_ALL_TF = CASES / "WPL602" / "bad" / "tf-allow-all"
DENY_RDP_FIRST = CASES / "WPL602" / "bad" / "allow-all-deny-rdp-first.yaml"
SCHEMA = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"

CRITICAL_TCP = ("135/tcp RPC, 139/tcp NetBIOS, 445/tcp SMB, 3389/tcp RDP, 5985-5986/tcp WinRM, "
                "49152-65535/tcp RPC dynamic, any tcp port RDP shadowing")
HIGH_TCP = ("554,8554-8558/tcp RTSP, 2177/tcp qWave, 2869/tcp UPnP events, 7680/tcp Delivery Optimization, "
            "9955/tcp AllJoyn, 10246/tcp Cast to Device HTTP, 10247/tcp DIAL, 23554-23556/tcp Cast to Device RTSP")
EVERY_PORT = ("135/tcp RPC, 137-138/udp and 139/tcp NetBIOS, 445/tcp SMB, 3389/tcp+udp RDP, 5985-5986/tcp WinRM, "
              "49152-65535/tcp RPC dynamic, any tcp port RDP shadowing, 554,8554-8558/tcp RTSP, 2177/tcp+udp qWave, "
              "2869/tcp UPnP events, 5000-5020/udp RTP, 7680/tcp+udp Delivery Optimization, 9955/tcp and any udp "
              "port AllJoyn, 10246/tcp Cast to Device HTTP, 10247/tcp DIAL, 23554-23556/tcp Cast to Device RTSP, "
              "any udp port Cast to Device RTCP")
# 1-65535 is not every port to the catalog: a rule on any port (a program's) needs 0-65535 or no range.
EVERY_UDP = "137-138/udp NetBIOS, 3389/udp RDP, 2177/udp qWave, 5000-5020/udp RTP, 7680/udp Delivery Optimization"
DEFAULT = "as the AWS default network ACL does: security groups alone decide who reaches"


def findings(path: Path) -> list[tuple[str, str, str, str]]:
    """Every finding of the checks on by default, at every severity."""
    result = lint([path])
    assert result.errors == []
    return [(f.rule_id, f.severity.value, f.permission.resource, f.message) for f in result.findings]


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_the_default_acl_and_its_explicit_equivalents_are_wpl602_info_only():
    assert findings(ALLOW_ALL) == [
        ("WPL602", "info", "AllowAll", "network ACL entry AllowAll (rule 100) allows all traffic from 0.0.0.0/0 "
                                       f"(the whole internet), {DEFAULT} {EVERY_PORT}"),
        ("WPL602", "info", "AllowAllTcpIpv6", "network ACL entry AllowAllTcpIpv6 (rule 101) allows all ports/tcp "
                                              f"from ::/0 (the whole internet), {DEFAULT} {CRITICAL_TCP}, {HIGH_TCP}"),
        ("WPL602", "info", "AllowAllUdp", "network ACL entry AllowAllUdp (rule 102) allows 1-65535/udp from "
                                          f"0.0.0.0/0 (the whole internet), {DEFAULT} {EVERY_UDP}"),
    ]


def test_terraform_default_acl_inline_ingress_and_acl_rules_are_wpl602_info_only():
    assert [(rule_id, severity, resource) for rule_id, severity, resource, _ in findings(ALLOW_ALL_TF)] == [
        ("WPL602", "info", "aws_default_network_acl.default"),
        ("WPL602", "info", "aws_network_acl.public"),
        ("WPL602", "info", "aws_network_acl_rule.all_tcp_ipv6"),
        ("WPL602", "info", "aws_network_acl_rule.all_udp"),
    ]


@pytest.mark.parametrize(("fixture", "resource"), [
    (DENY_RDP_FIRST, "AllowAll"),
    (CASES / "WPL602" / "bad" / "tf-allow-all-deny-rdp-first", "aws_default_network_acl.default"),
])
def test_a_lower_numbered_deny_of_rdp_takes_it_out_of_the_allow_all_finding(fixture, resource):
    [(rule_id, severity, _, message)] = findings(fixture)  # and no WPL601
    assert (rule_id, severity) == ("WPL602", "info")
    assert message == (f"network ACL entry {resource} (rule 100) allows all traffic from 0.0.0.0/0 (the whole "
                       f"internet), {DEFAULT} {EVERY_PORT.replace('3389/tcp+udp RDP, ', '')}")


@pytest.mark.parametrize(("fixture", "resource", "ports"), [
    (CASES / "WPL601" / "bad" / "acl.yaml", "AllowRdp", "3389/tcp"),
    (CASES / "WPL601" / "bad" / "ephemeral-range.yaml", "AllowEphemeral", "1024-65535/tcp"),
])
def test_an_entry_that_names_a_windows_port_stays_wpl601_high(fixture, resource, ports):
    acl = [f for f in findings(fixture) if f[2] == resource]
    assert [(rule_id, severity) for rule_id, severity, _, _ in acl] == [("WPL601", "high")]
    assert acl[0][3].startswith(f"network ACL entry {resource} (rule 100) allows {ports} from 0.0.0.0/0 "
                                "(the whole internet): ")


def test_the_default_acl_never_fails_a_run_at_the_default_threshold(capsys):
    assert run(capsys, "check", "--no-cache", str(ALLOW_ALL)) == (0, "0 findings in 1 file; 3 below --severity low\n")
    code, out = run(capsys, "check", "--no-cache", "--severity", "info", str(ALLOW_ALL))
    assert code == 1
    assert out.splitlines()[0] == (f"{ALLOW_ALL}:14:18: WPL602 info network ACL entry AllowAll (rule 100) allows all "
                                   f"traffic from 0.0.0.0/0 (the whole internet), {DEFAULT} {EVERY_PORT}")
    assert out.splitlines()[-2:] == ["3 findings (3 info) in 1 file", "see: winportlint explain WPL602"]
    assert run(capsys, "check", "--no-cache", "--severity", "info", "--ignore", "WPL602", str(ALLOW_ALL)) == \
        (0, "0 findings in 1 file\n")


def test_sarif_lists_wpl602_from_the_check_registry_and_validates(capsys):
    from jsonschema.validators import validator_for

    code, out = run(capsys, "check", "--no-cache", "--format", "sarif", "--severity", "info", str(ALLOW_ALL))
    assert code == 1
    log = json.loads(out)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_for(schema)(schema).validate(log)
    [rule] = [r for r in log["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "WPL602"]
    assert (rule["name"], rule["defaultConfiguration"]["level"], rule["helpUri"]) == (
        "network-acl-allows-all-traffic", "note",
        "https://github.com/winportlint/winportlint/blob/main/docs/rules.md#wpl602")
    assert [(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]] == [("WPL602", "note")] * 3


def test_explain_wpl602_gives_the_policy(capsys):
    code, out = run(capsys, "explain", "WPL602")
    assert code == 0
    assert out.startswith("WPL602 network-acl-allows-all-traffic\n\nA network ACL entry lets all traffic in from "
                          "the whole internet (the AWS default network ACL)\n\nSeverity: info\nEnabled by default: yes\n")
    assert "an entry whose own range names a Windows port is WPL601" in out


def _rule(protocol: str, ports: tuple[PortRange, ...] | None, severity: Severity, workload: str = "W") -> CatalogRule:
    return CatalogRule(workload, f"{workload} {protocol} {ports}", Direction.INGRESS, protocol, ports, None, (), "x",
                       severity, "test", None)

