from winportlint.checks import Check, network_acl_allow_all_findings
from winportlint.model import Severity

CHECK = Check(
    id="WPL602",
    name="network-acl-allows-all-traffic",
    summary="A network ACL entry lets all traffic in from the whole internet (the AWS default network ACL)",
    severity=Severity.INFO,
    explanation=(
        "An allow entry for 0.0.0.0/0 or ::/0 on every protocol, or on every port of TCP or UDP (0-65535 or "
        "1-65535), is what the AWS default network ACL holds, so nearly every VPC has one. It names no Windows "
        "port: it leaves the subnet's Windows ports (3389, 445, 5985-5986, 135, ...) to the security groups, "
        "which WPL101-WPL202 check. It is reported at info (shown with --severity info, never failing a run "
        "at the default threshold), with the Windows ports it lets through; an entry whose own range names a "
        "Windows port is WPL601. Entries are read in rule-number order: a lower-numbered deny for the whole "
        "internet takes its ports out of the finding. Security-group findings still say when such an entry "
        "does not block their traffic. Fix, where the subnet holds Windows hosts: add lower-numbered denies "
        "for the Windows ports, or replace the entry with allows for the ports the subnet serves."
    ),
    find=network_acl_allow_all_findings,
    fix_kinds=("accept",),  # the entry is the VPC default: narrowing it is a design change, not a fix
)
