from winportlint.checks import Check, unresolved_findings
from winportlint.model import Severity

CHECK = Check(
    id="WPL001",
    name="source-unknown-before-deployment",
    summary="A high or critical Windows port is open to a source (or on a protocol) the template does not determine",
    severity=Severity.INFO,
    explanation=(
        "The source CIDR comes from a parameter without a default, another resource's attribute, an "
        "imported value or SSM: winportlint cannot know whether it is the internet, and never assumes so. "
        "Give the parameter a safe default or an AllowedPattern that excludes /0."
    ),
    find=unresolved_findings,
)
