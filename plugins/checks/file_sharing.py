from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL102",
    name="file-sharing-open-to-world",
    summary="SMB (445/tcp) or NetBIOS (137-139) file sharing is open to the whole internet",
    severity=Severity.CRITICAL,
    exposure_class="file-sharing",
    explanation=(
        "SMB and NetBIOS carry file shares, named pipes and authentication; EternalBlue-class exploits "
        "and NTLM relay start here. Keep 445 and 137-139 inside the VPC; use Amazon FSx or S3 for files "
        "that must be reached from outside."
    ),
)
