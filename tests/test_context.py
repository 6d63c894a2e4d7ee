"""The core's side of issue #7, on records as a format emits them: Windows context of a
group's targets, network ACL entries in rule-number order, load balancer listeners."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from winportlint import engine
from winportlint.catalog import load_catalog
from winportlint.model import (Direction, Evidence, FileResult, Location, Peer, Permission, PortRange, Severity,
                               SubnetAcl, Target, TargetContext)
from winportlint.plugin_manager import load_plugins
from winportlint.windows import Reading, decide, read

FILE = "t.yaml"
SSM_2022 = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"
SSM_LINUX = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def at(line: int, column: int = 1) -> Location:
    return Location(FILE, line, column)


def world(cidr: str = "0.0.0.0/0") -> Peer:
    return Peer("cidr", cidr, ip_network(cidr))


def rule(port: int | None, *, group="Sg", protocol="tcp", cidr="0.0.0.0/0", line=10, **fields) -> Permission:
    return Permission(fields.pop("resource", group), fields.pop("resource_type", "AWS::EC2::SecurityGroup"), group,
                      fields.pop("direction", Direction.INGRESS), protocol,
                      PortRange(port, port) if port is not None else None, world(cidr), at(line, 20), at(line),
                      **fields)


def image(value: str, line: int = 3, field: str = "ImageId") -> Evidence:
    return Evidence("image", value, field, at(line, 16))


def findings(permissions, targets=(), subnet_acls=()):
    checks = [c for c in load_plugins().checks if c.enabled_by_default]
    result = FileResult(list(permissions), targets=list(targets), subnet_acls=list(subnet_acls))
    return sorted(engine.check_file(FILE, result, checks, load_catalog()), key=lambda f: (f.rule_id, f.message))


# --- reading the evidence ----------------------------------------------------------------------

@pytest.mark.parametrize(("evidence", "reading"), [
    (image(SSM_2022), Reading("windows", "2022")),
    (image("/aws/service/ami-windows-latest/Windows_Server-2012-R2_RTM-English-64Bit-Base"),
     Reading("windows", "2012 R2")),
    (image("Windows_Server-2019-English-Full-Base-*"), Reading("windows", "2019")),
    (image("/aws/service/ami-windows-latest/TPM-Windows_Server-2016-English-Full-Base"), Reading("windows", "2016")),
    (image(SSM_LINUX), Reading("linux")),
    (image("amzn2-ami-hvm-*-x86_64-gp2"), Reading("linux")),
    (image("ami-0123456789abcdef0"), Reading("unknown")),
    (Evidence("platform", "windows", "filter.platform", at(4)), Reading("windows")),
    (Evidence("password-data", "true", "get_password_data", at(4)), Reading("windows")),
    (Evidence("password-data", "false", "get_password_data", at(4)), Reading("unknown")),
    (Evidence("user-data", "<powershell>\nInstall-WindowsFeature Web-Server\n</powershell>", "UserData", at(4)),
     Reading("windows")),
    (Evidence("user-data", "#!/bin/bash\nyum install -y httpd\n", "UserData", at(4)), Reading("linux")),
])
def test_evidence_reads_as(evidence, reading):
    assert read(evidence) == reading


def test_a_windows_choice_among_alternatives_is_windows_with_each_version():
    verdict = decide([image(SSM_LINUX), image(SSM_2022), image("Windows_Server-2019-English-Full-Base-*")])
    assert (verdict.os, verdict.versions) == ("windows", ("2019", "2022"))
    assert decide([image(SSM_2022), Evidence("password-data", "true", "get_password_data", at(4))]).versions == \
        ("2022",)
    assert decide([Evidence("password-data", "true", "get_password_data", at(4))]).versions == ()
    assert decide([image(SSM_2022), image("Windows_Server-*")]).versions == ()  # one version unknown: any


# --- Windows context ---------------------------------------------------------------------------

def test_rdp_on_a_windows_2022_instance_says_so_and_keeps_critical():
    web = Target("Web", "AWS::EC2::Instance", at(2), groups=("Sg",), evidence=(image(SSM_2022),))
    [finding] = findings([rule(3389)], [web])
    assert finding.rule_id == "WPL101" and finding.severity is Severity.CRITICAL
    assert finding.message.endswith(f"; it protects Windows Server 2022 Web (ImageId {SSM_2022} at line 3), "
                                    "which opens it by default")
    assert finding.targets == (TargetContext("Web", "AWS::EC2::Instance", "windows", ("2022",),
                                             (f"ImageId {SSM_2022} at line 3",)),)
    assert all("2022" in hit.os for hit in finding.catalog)


def test_a_high_port_on_windows_is_raised_one_level():
    alljoyn = rule(9955)
    [plain] = findings([alljoyn])
    assert plain.severity is Severity.HIGH
    web = Target("Web", "AWS::EC2::Instance", at(2), groups=("Sg",),
                 evidence=(Evidence("password-data", "true", "get_password_data", at(4)),))
    [raised] = findings([alljoyn], [web])
    assert raised.severity is Severity.CRITICAL
    assert raised.message == plain.message + "; it protects Windows Web (get_password_data true at line 4)"
    assert raised.targets[0].versions == ()


def test_smb_on_windows_2022_is_not_raised_the_page_lists_it_for_2012_only():
    web = Target("Web", "AWS::EC2::Instance", at(2), groups=("Sg",), evidence=(image(SSM_2022),))
    [plain] = findings([rule(445)])
    [finding] = findings([rule(445)], [web])
    assert (finding.rule_id, finding.severity) == ("WPL102", plain.severity)
    assert finding.catalog == plain.catalog
    assert finding.message.endswith("where the AWS page does not list this port as open by default "
                                    "(it does for 2012, 2012 R2)")


def test_a_linux_target_and_no_target_keep_the_finding_as_is():
    [plain] = findings([rule(3389)])
    linux = Target("Web", "AWS::EC2::Instance", at(2), groups=("Sg",), evidence=(image(SSM_LINUX),))
    [on_linux] = findings([rule(3389)], [linux])
    assert on_linux._replace(targets=()) == plain
    assert on_linux.targets == (TargetContext("Web", "AWS::EC2::Instance", "linux", (),
                                              (f"ImageId {SSM_LINUX} at line 3",)),)
    elsewhere = Target("Other", "AWS::EC2::Instance", at(2), groups=("OtherSg",), evidence=(image(SSM_2022),))
    assert findings([rule(3389)], [elsewhere]) == [plain]


def test_an_auto_scaling_group_takes_its_launch_templates_groups_and_image():
    template = Target("Lt", "AWS::EC2::LaunchTemplate", at(2), groups=("Sg",), evidence=(image(SSM_2022),))
    group = Target("Asg", "AWS::AutoScaling::AutoScalingGroup", at(8), uses=("Lt",), subnets=("Public",))
    [finding] = findings([rule(3389)], [template, group])
    assert [t.resource for t in finding.targets] == ["Asg"]
    assert finding.targets[0].versions == ("2022",)


def test_records_of_one_resource_are_merged():
    instance = Target("Web", "AWS::EC2::Instance", at(2), evidence=(image(SSM_2022),))
    attachment = Target("Web", "AWS::EC2::Instance", at(2), groups=("Sg",))
    [finding] = findings([rule(3389)], [instance, attachment])
    assert finding.targets[0].os == "windows"


def test_a_network_acl_that_lets_it_through_is_named():
    web = Target("Web", "AWS::EC2::Instance", at(2), groups=("Sg",), subnets=("Public",),
                 evidence=(image(SSM_2022),))
    allow_all = rule(None, group="PublicAcl", protocol="all", resource="AllowAll", control="network-acl",
                     rule_number=100, line=30)
    rdp, acl = findings([rule(3389), allow_all], [web], [SubnetAcl("PublicAcl", "Public", at(40))])
    assert rdp.message.endswith("; the network ACL does not block it (entry AllowAll)")
    assert acl.rule_id == "WPL602" and acl.severity is Severity.INFO  # an allow-all entry
    deny = rule(3389, group="PublicAcl", resource="DenyRdp", control="network-acl", rule_number=90,
                action="deny", line=20)
    [rdp] = [f for f in findings([rule(3389), allow_all, deny], [web], [SubnetAcl("PublicAcl", "Public", at(40))])
             if f.rule_id == "WPL101"]
    assert "network ACL" not in rdp.message


# --- network ACL entries -------------------------------------------------------------------------

def acl_entry(port, number, action="allow", cidr="0.0.0.0/0", protocol="tcp", line=10):
    return rule(port, group="Acl", protocol=protocol, cidr=cidr, resource=f"Entry{number}",
                resource_type="AWS::EC2::NetworkAclEntry", control="network-acl", rule_number=number, action=action,
                line=line)


def acl_findings(*entries):
    return [(f.rule_id, f.permission.resource, f.severity.value) for f in findings(entries)
            if f.rule_id == "WPL601"]


def test_an_allow_for_the_world_on_rdp_is_a_finding_below_a_security_groups():
    assert acl_findings(acl_entry(3389, 100)) == [("WPL601", "Entry100", "high")]
    [finding] = [f for f in findings([acl_entry(3389, 100)]) if f.rule_id == "WPL601"]
    assert finding.message.startswith("network ACL entry Entry100 (rule 100) allows 3389/tcp from 0.0.0.0/0 "
                                      "(the whole internet): 3389/tcp RDP (open by default in the Windows Server "
                                      "2012 R2 to 2022 AMIs)")


@pytest.mark.parametrize(("deny", "expected"), [
    (acl_entry(3389, 90, "deny"), []),
    (acl_entry(None, 90, "deny", protocol="all"), []),
    (acl_entry(3389, 110, "deny"), [("WPL601", "Entry100", "high")]),  # after the allow
    (acl_entry(3389, 90, "deny", cidr="10.0.0.0/8"), [("WPL601", "Entry100", "high")]),  # not the world
    (acl_entry(3389, 90, "deny", cidr="::/0"), [("WPL601", "Entry100", "high")]),  # the other family
    (acl_entry(3389, 90, "deny", protocol="udp"), [("WPL601", "Entry100", "high")]),
    (acl_entry(3389, None, "deny"), [("WPL601", "Entry100", "high")]),  # order unknown
])
def test_a_deny_numbered_before_the_allow_that_covers_the_port_stops_it(deny, expected):
    assert acl_findings(acl_entry(3389, 100), deny) == expected


def test_a_deny_covering_part_of_a_range_stops_only_that_part():
    allow = acl_entry(None, 100, protocol="tcp")  # every tcp port: WPL602
    deny_rdp = acl_entry(3389, 90, "deny")
    [finding] = [f for f in findings([allow, deny_rdp]) if f.rule_id in ("WPL601", "WPL602")]
    assert finding.rule_id == "WPL602"
    rules = {hit.rule for hit in finding.catalog}
    assert "Remote Desktop - User Mode (TCP-In)" not in rules
    # RDP Shadow (any TCP port), SMB, WinRM and the rest still pass
    assert {"Remote Desktop - Shadow (TCP-In)", "File and Printer Sharing (SMB-In)"} <= rules
    assert "3389" not in finding.message and "445/tcp" in finding.message


def test_a_deny_covering_part_of_a_partial_range_stops_only_that_part():
    allow = acl_entry(None, 100, protocol="tcp")._replace(ports=PortRange(1024, 65535))  # names ports: WPL601
    deny_rdp = acl_entry(3389, 90, "deny")
    [finding] = [f for f in findings([allow, deny_rdp]) if f.rule_id in ("WPL601", "WPL602")]
    assert (finding.rule_id, finding.severity) == ("WPL601", Severity.HIGH)
    rules = {hit.rule for hit in finding.catalog}
    assert "Remote Desktop - User Mode (TCP-In)" not in rules
    assert "WMI-In" in rules  # 49152-65535


def test_a_non_world_allow_and_egress_entries_are_not_findings():
    assert acl_findings(acl_entry(3389, 100, cidr="10.0.0.0/8")) == []
    assert acl_findings(acl_entry(3389, 100)._replace(direction=Direction.EGRESS)) == []


# --- load balancers -----------------------------------------------------------------------------

def listener(port, forwards=(), guards=(), line=50):
    return rule(port, group="Lb", resource="Listener", resource_type="AWS::ElasticLoadBalancingV2::Listener",
                control="load-balancer", guards=guards, forwards_to=tuple(PortRange(p, p) for p in forwards),
                line=line)


def lb_findings(*permissions):
    return [f for f in findings(permissions) if f.rule_id == "WPL701"]


def test_a_listener_on_rdp_is_critical():
    [finding] = lb_findings(listener(3389))
    assert finding.severity is Severity.CRITICAL
    assert finding.message.startswith("internet-facing load balancer listener Listener accepts 3389/tcp: "
                                      "3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)")


def test_a_listener_forwarding_to_rdp_is_reported_with_both_ports():
    [finding] = lb_findings(listener(443, forwards=(3389,)))
    assert finding.permission.ports == PortRange(443, 443)
    assert "listener Listener accepts 443/tcp and forwards to 3389/tcp: 3389/tcp RDP (open" in finding.message
    assert lb_findings(listener(443, forwards=(443,))) == []


def test_the_load_balancers_security_groups_decide_reachability():
    closed = rule(443, group="LbSg", cidr="10.0.0.0/8")
    assert lb_findings(listener(3389, guards=("LbSg",)), closed._replace(ports=PortRange(3389, 3389))) == []
    open_ = rule(3389, group="LbSg")
    [finding] = lb_findings(listener(3389, guards=("LbSg",)), open_)
    assert "not in this file" not in finding.message
    [unknown] = lb_findings(listener(3389, guards=("sg-0123",)))
    assert unknown.message.endswith("; its security groups sg-0123 are not in this file")
    [prefixed] = lb_findings(listener(3389, guards=("modules/web:sg-0123",)))  # a Terraform key
    assert prefixed.message.endswith("; its security groups sg-0123 are not in this file")


def test_resources_of_the_same_name_in_two_folders_are_not_merged():
    windows = Target("aws_instance.web", "aws_instance", Location("a/main.tf", 1, 1), groups=("a:sg",),
                     evidence=(image(SSM_2022),))
    linux = Target("aws_instance.web", "aws_instance", Location("b/main.tf", 1, 1), groups=("b:sg",),
                   evidence=(image(SSM_LINUX),))
    [finding] = findings([rule(3389, group="b:sg")], [windows, linux])
    assert [t.os for t in finding.targets] == ["linux"]


def test_an_info_finding_on_windows_stays_info():
    web = Target("Web", "AWS::EC2::Instance", at(2), groups=("Sg",), evidence=(image(SSM_2022),))
    [plain] = findings([rule(443)])
    [finding] = findings([rule(443)], [web])
    assert plain.severity is finding.severity is Severity.INFO
    assert finding.message.endswith("which opens it by default")
