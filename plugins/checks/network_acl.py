from winportlint.checks import Check, network_acl_findings
from winportlint.model import Severity

CHECK = Check(
    id="WPL601",
    name="network-acl-allows-windows-port",
    summary="A network ACL entry names a Windows port (RDP, SMB, WinRM, RPC, ...) the whole internet may reach",
    severity=Severity.HIGH,
    explanation=(
        "A network ACL is the subnet's stateless firewall, evaluated before any security group: an allow "
        "entry for 0.0.0.0/0 or ::/0 whose own port range covers 3389, 445, 5985 or another Windows port (a "
        "single port, or a partial range such as 1024-65535) leaves security groups as the only control, so one "
        "mistaken group rule exposes every Windows host in the subnet. An entry that allows every protocol or "
        "every TCP or UDP port, as the AWS default network ACL does, is WPL602 (info), not this check. Entries "
        "are read in rule-number order: a deny for the whole internet with a lower number that covers the port "
        "means no finding. A finding is one severity level below a security group's for the same port, since "
        "both must allow the traffic. Fix: allow the Windows ports only from known CIDRs, or add a "
        "lower-numbered deny for them."
    ),
    find=network_acl_findings,
    fix_kinds=("restrict", "accept"),  # removing an allow entry can cut the subnet off
)
