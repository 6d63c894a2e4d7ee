from winportlint.checks import ExposureCheck
from winportlint.model import Severity

CHECK = ExposureCheck(
    id="WPL901",
    name="custom-port-open-to-world",
    summary="A port from a user catalog file (class 'custom') is open to the whole internet",
    severity=Severity.HIGH,
    exposure_class="custom",
    explanation=(
        "Rules added through `catalog_files` (or a plugin's catalog) that name no built-in exposure class "
        "are reported here, with the severity the catalog file gives them."
    ),
)
