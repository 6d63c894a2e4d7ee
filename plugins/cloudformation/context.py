"""What a CloudFormation template's security groups protect: Target records for
instances, launch templates and configurations, auto scaling groups and network
interfaces (their groups, subnets, the resources they use, and what is written
of their operating system), and SubnetAcl records for network ACL associations.

Values are reported as written or resolved; whether an image is Windows is for
:mod:`winportlint.windows` to decide.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from winportlint.model import Evidence, InputError, Location, SubnetAcl, Target
from winportlint.nodes import LoadError, Node

from .extract import mapping_items, resource_properties, typed_resources
from .intrinsics import (NO_VALUE, Arguments, Resolver, ResourceRef, TooManyValues, Unknown, intrinsic, list_argument,
                         scalar)

INSTANCE = "AWS::EC2::Instance"
LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"
LAUNCH_CONFIGURATION = "AWS::AutoScaling::LaunchConfiguration"
AUTO_SCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"
NETWORK_INTERFACE = "AWS::EC2::NetworkInterface"
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
ACL_ASSOCIATION = "AWS::EC2::SubnetNetworkAclAssociation"
TARGET_TYPES = (INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION, AUTO_SCALING_GROUP, NETWORK_INTERFACE)
RESOURCE_TYPES = (*TARGET_TYPES, ACL_ASSOCIATION)

#: User data longer than this is cut: the core looks for ``<powershell>`` near the start.
USER_DATA_LIMIT = 64 * 1024
#: ``Fn::GetAtt`` attributes that are the resource's own id (any other is something else:
#: a nested stack's output, a subnet's VPC).
_ID_ATTRIBUTES = frozenset(("GroupId", "Id", "SubnetId", "NetworkAclId", "NetworkInterfaceId", "LaunchTemplateId",
                            "LoadBalancerArn", "TargetGroupArn", "ListenerArn"))
#: At most this many alternative user-data texts per resource (each Fn::If doubles them).
USER_DATA_ALTERNATIVES = 16

#: ``{{resolve:ssm:/path}}``, ``{{resolve:ssm:/path:3}}`` and EC2's own ``resolve:ssm:/path``.
_SSM_REFERENCE = re.compile(r"\A\s*(?:\{\{\s*resolve:ssm:(?P<braced>[^}:]+)(?::\d+)?\s*\}\}"
                            r"|resolve:ssm:(?P<plain>[^:\s]+)(?::\d+)?)\s*\Z")


def extract_context(file: str, document: Node, arguments: Arguments | None = None
                    ) -> tuple[list[Target], list[SubnetAcl], list[InputError]]:
    """Targets and subnet ACL associations of one template. A resource whose
    properties cannot be read gives an InputError and no record."""
    resolver = Resolver(file, document.value, arguments)
    names = _NameIndex(resolver)
    targets: list[Target] = []
    subnet_acls: list[SubnetAcl] = []
    errors: list[InputError] = []
    for name, resource_type, resource, start in typed_resources(resolver, document, RESOURCE_TYPES):
        try:
            properties = resource_properties(resource)
            if properties is None:
                continue
            if resource_type == ACL_ASSOCIATION:
                subnet_acls.extend(_association(resolver, properties, start))
                continue
            target = _Reader(resolver, names, resource_type, start, name).read(properties.value)
        except LoadError as exc:
            errors.append(InputError(file, exc.line, f"{name}: {exc}"))
            continue
        if target.groups or target.subnets or target.uses or target.evidence:
            targets.append(target)
    return targets, subnet_acls, errors


#: The property that gives a resource the name other resources may refer to it by.
_NAME_PROPERTIES = {SECURITY_GROUP: "GroupName", LAUNCH_TEMPLATE: "LaunchTemplateName",
                    LAUNCH_CONFIGURATION: "LaunchConfigurationName"}


class _NameIndex:
    """Resources of the template by the name their properties give them
    (``GroupName``, ``LaunchTemplateName``, ``LaunchConfigurationName``), so that a
    reference by name finds the logical id."""

    def __init__(self, resolver: Resolver):
        self.by_name: dict[tuple[str, str], list[str]] = {}
        for name, resource in resolver.resources.items():
            if not isinstance(resource.value, dict):
                continue
            resource_type = getattr(resource.value.get("Type"), "value", None)
            key = _NAME_PROPERTIES.get(resource_type) if isinstance(resource_type, str) else None
            properties = resource.value.get("Properties")
            if key is None or properties is None or not isinstance(properties.value, dict) \
                    or key not in properties.value:
                continue
            try:
                alternatives = resolver.resolve(properties.value[key], key)
            except LoadError:
                continue  # reported where it matters, or not at all
            for alternative in alternatives:
                if isinstance(alternative.value, str):
                    self.by_name.setdefault((resource_type, alternative.value), []).append(name)

    def named(self, resource_type: str, name: str) -> list[str]:
        return self.by_name.get((resource_type, name), [])


def keys(resolver: Resolver, node: Node | None, field: str) -> list[str]:
    """The resources (logical ids) or literal ids a property may name, each once:
    ``Ref``/``Fn::GetAtt`` of a resource give its logical id, a literal stays as
    written, a list gives its items; ``Ref`` of a parameter without a value names
    the parameter (two properties that refer to it name the same thing); what
    cannot be resolved names nothing."""
    if node is None:
        return []
    items = node.value if isinstance(node.value, list) and not node.tag else [node]
    found: dict[str, None] = {}
    for item in items:
        try:
            alternatives = resolver.resolve(item, field)
        except TooManyValues:
            continue  # too many to tell: names nothing, as an unknown value
        function, argument = intrinsic(item)
        if function == "Ref" and argument.value in resolver.parameters \
                and all(isinstance(a.value, Unknown) for a in alternatives):
            found[argument.value] = None
            continue
        for alternative in alternatives:
            values = alternative.value if isinstance(alternative.value, list) else [alternative.value]
            for value in values:
                if isinstance(value, ResourceRef):
                    if value.attribute is None or value.attribute in _ID_ATTRIBUTES:
                        found[value.name] = None
                elif isinstance(value, str) and value.strip():
                    found[value.strip()] = None
                elif isinstance(value, Node):
                    raise LoadError(f"{field} must name a resource, not a mapping", value.line)
    return list(found)


class _Reader:
    """Reads one target resource's properties into a Target."""

    def __init__(self, resolver: Resolver, names: _NameIndex, resource_type: str, start: Location, name: str):
        self.resolver = resolver
        self.names = names
        self.resource_type = resource_type
        self.start = start
        self.name = name
        self.groups: dict[str, None] = {}
        self.subnets: dict[str, None] = {}
        self.uses: dict[str, None] = {}
        self.evidence: dict[Evidence, None] = {}

    def read(self, properties: dict[str, Node]) -> Target:
        kind = self.resource_type
        if kind == INSTANCE:
            self._groups(properties, "SecurityGroupIds", "SecurityGroups")
            self._add(self.subnets, keys(self.resolver, properties.get("SubnetId"), "SubnetId"))
            self._interfaces(properties, "NetworkInterfaces", "GroupSet")
            self._launch_template(properties.get("LaunchTemplate"), "LaunchTemplate")
            self._machine(properties, "")
        elif kind == LAUNCH_TEMPLATE:
            data = properties.get("LaunchTemplateData")
            for mapping in self._mappings(data, "LaunchTemplateData"):
                self._groups(mapping, "SecurityGroupIds", "SecurityGroups")
                self._interfaces(mapping, "NetworkInterfaces", "Groups", "LaunchTemplateData.")
                self._machine(mapping, "LaunchTemplateData.")
        elif kind == LAUNCH_CONFIGURATION:
            self._groups(properties, "SecurityGroups")
            self._machine(properties, "")
        elif kind == AUTO_SCALING_GROUP:
            self._launch_template(properties.get("LaunchTemplate"), "LaunchTemplate")
            for configuration in keys(self.resolver, properties.get("LaunchConfigurationName"),
                                      "LaunchConfigurationName"):
                self._add(self.uses, self.names.named(LAUNCH_CONFIGURATION, configuration) or [configuration])
            for policy in self._mappings(properties.get("MixedInstancesPolicy"), "MixedInstancesPolicy"):
                for template in self._mappings(policy.get("LaunchTemplate"), "MixedInstancesPolicy.LaunchTemplate"):
                    self._launch_template(template.get("LaunchTemplateSpecification"),
                                          "MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification")
                    overrides = template.get("Overrides")
                    if overrides is not None:
                        for override, _ in mapping_items(self.resolver, overrides, "Overrides", "mappings"):
                            self._launch_template(override.value.get("LaunchTemplateSpecification"),
                                                  "Overrides.LaunchTemplateSpecification")
            self._add(self.subnets, keys(self.resolver, properties.get("VPCZoneIdentifier"), "VPCZoneIdentifier"))
        elif kind == NETWORK_INTERFACE:
            self._groups(properties, "GroupSet")
            self._add(self.subnets, keys(self.resolver, properties.get("SubnetId"), "SubnetId"))
        return Target(self.name, kind, self.start, tuple(self.groups), tuple(self.subnets), tuple(self.uses),
                      tuple(self.evidence))

    @staticmethod
    def _add(into: dict, items) -> None:
        for item in items:
            into[item] = None

    def _mappings(self, node: Node | None, field: str) -> Iterator[dict[str, Node]]:
        """The mapping a property holds (each alternative of an Fn::If around it)."""
        if node is None:
            return
        for alternative in self.resolver.resolve(node, field):
            value = alternative.value
            if isinstance(value, Node) and isinstance(value.value, dict):
                yield value.value
            elif value is not NO_VALUE and not isinstance(value, (Unknown, ResourceRef)):
                raise LoadError(f"{field} must be a mapping", node.line)

    def _groups(self, properties: dict[str, Node], *fields: str) -> None:
        for field in fields:
            for key in keys(self.resolver, properties.get(field), field):
                # A name (default VPC, SecurityGroups) is also the group of the template that has it.
                self._add(self.groups, [key, *self.names.named(SECURITY_GROUP, key)])

    def _interfaces(self, properties: dict[str, Node], field: str, groups_field: str, prefix: str = "") -> None:
        node = properties.get(field)
        if node is None:
            return
        for interface, _ in mapping_items(self.resolver, node, prefix + field, "network interface mappings"):
            self._groups(interface.value, groups_field)
            self._add(self.subnets, keys(self.resolver, interface.value.get("SubnetId"), "SubnetId"))
            self._add(self.uses, keys(self.resolver, interface.value.get("NetworkInterfaceId"), "NetworkInterfaceId"))

    def _launch_template(self, node: Node | None, field: str) -> None:
        for specification in self._mappings(node, field):
            self._add(self.uses, keys(self.resolver, specification.get("LaunchTemplateId"), "LaunchTemplateId"))
            for template in keys(self.resolver, specification.get("LaunchTemplateName"), "LaunchTemplateName"):
                self._add(self.uses, self.names.named(LAUNCH_TEMPLATE, template) or [template])

    def _machine(self, properties: dict[str, Node], prefix: str) -> None:
        image = properties.get("ImageId")
        if image is not None:
            self._add(self.evidence, image_evidence(self.resolver, image, prefix + "ImageId"))
        user_data = properties.get("UserData")
        if user_data is not None:
            location = self.resolver.location(user_data)
            self._add(self.evidence, (Evidence("user-data", text, prefix + "UserData", location)
                                      for text in user_data_texts(self.resolver, user_data) if text.strip()))


# -- Images --------------------------------------------------------------------------------------

def image_evidence(resolver: Resolver, node: Node, field: str) -> list[Evidence]:
    """One ``image`` Evidence per value the image can take, with where it is written:
    the property, the parameter's ``Default``/``AllowedValues`` (also of an SSM-typed
    parameter, whose default is an SSM path) or the mapping entry."""
    function, argument = intrinsic(node)
    if function == "Fn::If":
        items = list_argument(argument, 3, "Fn::If", node)
        return image_evidence(resolver, items[1], field) + image_evidence(resolver, items[2], field)
    if function == "Ref" and isinstance(argument.value, str) and argument.value in resolver.parameters:
        return _parameter_images(resolver, argument.value)
    try:
        alternatives = resolver.resolve(node, field)
    except TooManyValues:
        return []  # (a mapping by region and architecture, typically): too many to tell
    evidence = []
    for alternative in alternatives:
        if not isinstance(alternative.value, str):
            continue
        where, location = field, resolver.location(node)
        for step in alternative.provenance:
            if step.kind == "mapping" and step.location is not None:
                where, location = "Mappings." + step.detail.removeprefix("mapping ").replace("/", "."), step.location
        evidence.append(Evidence("image", ssm_path(alternative.value), where, location))
    return evidence


def _parameter_images(resolver: Resolver, name: str) -> list[Evidence]:
    """A parameter's default and allowed values, as written (an SSM-typed parameter's are SSM paths)."""
    declaration = resolver.parameters[name]
    spec = declaration.value if isinstance(declaration.value, dict) else {}
    values = [(spec.get("Default"), f"Parameters.{name}.Default")]
    allowed = spec.get("AllowedValues")
    if allowed is not None and isinstance(allowed.value, list):
        values.extend((item, f"Parameters.{name}.AllowedValues") for item in allowed.value)
    evidence = []
    for value_node, where in values:
        text = scalar(value_node)
        if isinstance(text, str) and text.strip():
            evidence.append(Evidence("image", ssm_path(text), where, resolver.location(value_node)))
    return evidence


def ssm_path(value: str) -> str:
    """``{{resolve:ssm:/aws/service/...}}`` or ``resolve:ssm:/aws/service/...`` → the parameter path."""
    match = _SSM_REFERENCE.match(value)
    if match is None:
        return value.strip()
    return (match.group("braced") or match.group("plain")).strip()


# -- User data -----------------------------------------------------------------------------------

def user_data_texts(resolver: Resolver, node: Node) -> list[str]:
    """The literal text user data can have: through ``Fn::Base64``, ``Fn::Sub`` (variables
    given as literals substituted, others left as written), ``Fn::Join`` (the literal parts
    joined), ``Fn::If`` (each branch) and parameters with values; what is not known
    before deployment is left out. Each text is cut at 64 KiB."""
    texts = _texts(resolver, node)
    return list(dict.fromkeys(text[:USER_DATA_LIMIT] for text in texts))[:USER_DATA_ALTERNATIVES]


def _texts(resolver: Resolver, node: Node) -> list[str]:
    function, argument = intrinsic(node)
    if function is None:
        return [node.value] if isinstance(node.value, str) else [""]
    if function == "Fn::Base64":
        return _texts(resolver, argument)
    if function == "Fn::If":
        items = list_argument(argument, 3, "Fn::If", node)
        return _unique(_texts(resolver, items[1]) + _texts(resolver, items[2]))
    if function == "Fn::Join":
        items = list_argument(argument, 2, "Fn::Join", node)
        delimiter = scalar(items[0]) or ""
        parts = items[1].value if isinstance(items[1].value, list) and not items[1].tag else [items[1]]
        combinations: list[list[str]] = [[]]
        for part in parts:
            texts = _texts(resolver, part)
            combinations = [before + [text] for before in combinations for text in texts][:USER_DATA_ALTERNATIVES]
        return _unique([delimiter.join(combination) for combination in combinations])
    if function == "Fn::Sub":
        return _sub_texts(resolver, argument, node)
    texts = [a.value for a in resolver.resolve(node, "UserData") if isinstance(a.value, str)]
    return _unique(texts) or [""]


def _sub_texts(resolver: Resolver, argument: Node, node: Node) -> list[str]:
    if isinstance(argument.value, list):
        template_node, variables_node = list_argument(argument, 2, "Fn::Sub", node)
        variables = variables_node.value if isinstance(variables_node.value, dict) else {}
    else:
        template_node, variables = argument, {}
    template = scalar(template_node)
    if template is None:
        return [""]
    choices = []
    names = list(dict.fromkeys(re.findall(r"\$\{([^}!][^}]*)\}", template)))
    for name in names:
        if name in variables:
            choices.append(_texts(resolver, variables[name]))
        elif name in resolver.parameters:
            choices.append([a.value for a in resolver.resolve(Node({"Ref": Node(name, node.line, node.column)},
                                                                   node.line, node.column), "UserData")
                            if isinstance(a.value, str)] or ["${" + name + "}"])
        else:
            choices.append(["${" + name + "}"])
    texts = []
    for combination in itertools.islice(itertools.product(*choices), USER_DATA_ALTERNATIVES):
        values = dict(zip(names, combination))
        texts.append(re.sub(r"\$\{([^}!][^}]*)\}", lambda m, values=values: values[m.group(1)], template)
                     .replace("${!", "${"))
    return texts


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))[:USER_DATA_ALTERNATIVES]


# -- Network ACL associations --------------------------------------------------------------------

def _association(resolver: Resolver, properties: Node, start: Location) -> list[SubnetAcl]:
    acls = keys(resolver, properties.value.get("NetworkAclId"), "NetworkAclId")
    subnets = keys(resolver, properties.value.get("SubnetId"), "SubnetId")
    return [SubnetAcl(acl, subnet, start) for acl in acls for subnet in subnets]
