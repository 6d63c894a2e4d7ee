from winportlint.checks import Check, listener_findings
from winportlint.model import Severity

CHECK = Check(
    id="WPL701",
    name="load-balancer-exposes-windows-port",
    summary="An internet-facing load balancer listens on, or forwards to, a Windows port (RDP, SMB, WinRM, ...)",
    severity=Severity.CRITICAL,
    explanation=(
        "An internet-facing load balancer (ALB, NLB or classic ELB) whose listener accepts 3389, 445, 5985 or "
        "another Windows port, or forwards to a target group on one, carries internet traffic to the instances "
        "whatever their own security groups say of the internet: they only need to admit the load balancer. "
        "When the load balancer has security groups in the same file, their inbound rules decide whether the "
        "listener is reachable from the internet; groups defined elsewhere are assumed to admit it. Fix: make "
        "the load balancer internal, remove the listener, or reach Windows hosts through Systems Manager."
    ),
    find=listener_findings,
    fix_kinds=("accept",),  # the exposure is the scheme or the listener, not a CIDR
)
