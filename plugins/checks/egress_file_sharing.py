from winportlint.checks import ExposureCheck
from winportlint.model import Direction, Severity

CHECK = ExposureCheck(
    id="WPL501",
    name="file-sharing-egress-to-world",
    summary="Outbound SMB (445/tcp) or NetBIOS (137-139) to the whole internet is allowed",
    severity=Severity.HIGH,
    exposure_class="egress-file-sharing",
    direction=Direction.EGRESS,
    enabled_by_default=False,
    explanation=(
        "Off by default, because most groups allow all egress. Outbound SMB to the internet leaks NTLM "
        "hashes to any server a user or a document can be made to open (\\\\attacker\\share)."
    ),
)
