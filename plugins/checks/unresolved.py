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
        "Give the parameter a safe default or an AllowedPattern that excludes /0. The message names what "
        "is unknown: the source, the port of a rule open to 0.0.0.0/0, whether the rule is ingress (a "
        "Terraform type), or rules inserted at deployment (AWS::Include). A value that can never be a CIDR "
        "(a security group or prefix list id, a Number) is not reported."
    ),
    find=unresolved_findings,
    # removing a rule that cannot be read is no fix; restricting one says where its value is decided
    fix_kinds=("restrict", "accept"),
)
