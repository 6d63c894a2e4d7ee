from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL302",
    name="core-networking-open-to-world",
    summary="ICMP, IGMP, IPv6-in-IPv4 (41) or DHCP traffic is open to the whole internet",
    severity=Severity.LOW,
    exposure_class="core-networking",
    enabled_by_default=False,
    explanation=(
        "Off by default: ICMP from anywhere is common and often wanted (path MTU discovery needs "
        "'fragmentation needed' and 'packet too big'). Select it to audit these protocols."
    ),
)
