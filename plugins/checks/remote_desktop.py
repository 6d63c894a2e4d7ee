from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL101",
    name="remote-desktop-open-to-world",
    summary="Remote Desktop (RDP 3389/tcp and /udp) is open to the whole internet",
    severity=Severity.CRITICAL,
    exposure_class="remote-desktop",
    explanation=(
        "RDP is the most attacked Windows service: exposed hosts are brute-forced within minutes and "
        "RDP vulnerabilities (BlueKeep) are wormable. Reach instances through AWS Systems Manager "
        "Session Manager or Fleet Manager, a VPN, or a bastion that admits a known CIDR, never 0.0.0.0/0 or ::/0."
    ),
)
