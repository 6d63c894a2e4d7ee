from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL401",
    name="iphttps-open-to-world",
    summary="443/tcp (Windows IP-HTTPS) is open to the whole internet",
    severity=Severity.INFO,
    exposure_class="https-tunnel",
    explanation=(
        "Windows lists 443/tcp inbound for IP-HTTPS tunnelling, but web servers legitimately open 443, "
        "so this is informational: it is shown with --severity info and never fails a run by default."
    ),
    # 443 is a web server's port too: restricting or removing it is a design change, not a fix
    fix_kinds=("accept",),
)
