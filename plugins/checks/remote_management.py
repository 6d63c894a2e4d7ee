from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL103",
    name="remote-management-open-to-world",
    summary="WinRM / PowerShell remoting (5985/tcp, 5986/tcp) is open to the whole internet",
    severity=Severity.CRITICAL,
    exposure_class="remote-management",
    explanation=(
        "WinRM runs remote PowerShell with administrator credentials; an exposed listener invites "
        "password spraying and credential relay. Use Systems Manager Run Command, or admit only the "
        "management network's CIDR."
    ),
)
