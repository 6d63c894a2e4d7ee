from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL202",
    name="windows-service-open-to-world",
    summary="Another inbound Windows service port (AllJoyn 9955, Delivery Optimization 7680, ...) is open to the whole internet",
    severity=Severity.HIGH,
    exposure_class="windows-service",
    explanation=(
        "Windows listens on these service ports by default; none is meant to face the internet. "
        "Restrict the rule to the networks that need the service."
    ),
)
