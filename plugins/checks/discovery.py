from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL301",
    name="discovery-open-to-world",
    summary="Name resolution and discovery ports (LLMNR 5355, mDNS 5353, SSDP 1900, Teredo 3544) are open to the whole internet",
    severity=Severity.LOW,
    exposure_class="discovery",
    explanation=(
        "LLMNR, mDNS and SSDP answer local-network discovery; from the internet they leak host names and "
        "serve as reflection amplifiers, and LLMNR answers feed credential-relay attacks."
    ),
)
