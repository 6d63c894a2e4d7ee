from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL104",
    name="rpc-open-to-world",
    summary="Windows RPC (endpoint mapper 135/tcp or the dynamic range 49152-65535/tcp) is open to the whole internet",
    severity=Severity.CRITICAL,
    exposure_class="rpc",
    explanation=(
        "The RPC endpoint mapper and the dynamic RPC ports carry DCOM, WMI, the print spooler and remote "
        "firewall management: remote administration by another name, and the path of PrintNightmare. "
        "Note that a rule opening high TCP ports to the world (e.g. 1024-65535 for return traffic, which "
        "security groups never need because they are stateful) opens the dynamic RPC range."
    ),
)
