"""Security-group rules of a CloudFormation template as Permission records."""

from __future__ import annotations

from collections.abc import Collection, Iterator

from winportlint import netmath
from winportlint.excerpt import excerpt
from winportlint.model import Direction, Ignore, InputError, Location, Peer, Permission, PortRange, Provenance

from .intrinsics import (NO_VALUE, Alternative, Arguments, ResourceRef, Resolver, TooManyValues, Unknown,
                         combine_or_each, intrinsic, merge_worlds, scalar)
from winportlint.nodes import LoadError, Node

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
INGRESS = "AWS::EC2::SecurityGroupIngress"
EGRESS = "AWS::EC2::SecurityGroupEgress"
RESOURCE_TYPES = (SECURITY_GROUP, INGRESS, EGRESS)

#: The address family each CIDR field holds.
_CIDR_VERSIONS = {"CidrIp": 4, "CidrIpv6": 6}

#: Properties naming the peer of a rule, and the kind of peer each holds.
_PEER_FIELDS = {
    Direction.INGRESS: (("CidrIp", "cidr"), ("CidrIpv6", "cidr"), ("SourcePrefixListId", "prefix-list"),
                        ("SourceSecurityGroupId", "security-group"), ("SourceSecurityGroupName", "security-group")),
    Direction.EGRESS: (("CidrIp", "cidr"), ("CidrIpv6", "cidr"), ("DestinationPrefixListId", "prefix-list"),
                       ("DestinationSecurityGroupId", "security-group")),
}


def is_template(document: Node) -> bool:
    """A CloudFormation (or SAM) template: a mapping with a Resources mapping."""
    return isinstance(document.value, dict) and isinstance(
        getattr(document.value.get("Resources"), "value", None), dict)


def extract(file: str, document: Node, arguments: Arguments | None = None
            ) -> tuple[list[Permission], list[InputError]]:
    """Permissions of every security-group resource. A rule that cannot be read
    becomes an InputError; the other rules and resources are still read."""
    resolver = Resolver(file, document.value, arguments)
    permissions: list[Permission] = []
    errors: list[InputError] = []
    tags = security_group_tags(resolver, document)
    for name, resource_type, resource, start in typed_resources(resolver, document, RESOURCE_TYPES):
        ignores = resource_ignores(file, name, resource, errors)
        for rule in _resource_rules(resolver, name, resource_type, resource, errors):
            try:
                permissions.extend(permission._replace(resource_location=start, ignores=ignores,
                                                       tags=tags.get(permission.group, ()))
                                   for permission in _rule_permissions(resolver, name, resource_type, *rule))
            except LoadError as exc:
                errors.append(InputError(file, exc.line, f"{name}: {exc}"))
    return permissions, errors


def security_group_tags(resolver: Resolver, document: Node) -> dict[str, tuple[tuple[str, str], ...]]:
    """The known tags of each security group of the template, by logical id."""
    return {name: _group_tags(resolver, resource)
            for name, _, resource, _ in typed_resources(resolver, document, (SECURITY_GROUP,))}


def _group_tags(resolver: Resolver, resource: Node) -> tuple[tuple[str, str], ...]:
    """A security group's ``Tags`` whose key and value are known: each written as a ``{Key, Value}``
    item of a written list, each resolving to one text whatever the parameters and conditions (a
    value that differs with them, an unknown one, an item or list an ``Fn::If`` chooses is left out,
    so that it never selects an allow entry); sorted by key. Malformed tags are no error here:
    they tell nothing about what the group lets in."""
    properties = resource.value.get("Properties")
    tags = properties.value.get("Tags") if properties is not None and isinstance(properties.value, dict) else None
    if tags is None or not isinstance(tags.value, list) or intrinsic(tags)[0] is not None:
        return ()
    found: dict[str, str | None] = {}
    for item in tags.value:
        if not isinstance(item.value, dict) or intrinsic(item)[0] is not None:
            continue
        key, value = (_one_text(resolver, item.value.get(field), field) for field in ("Key", "Value"))
        if key is not None:
            found[key] = value if key not in found else None  # written twice: EC2 rejects it
    return tuple(sorted((key, value) for key, value in found.items() if value is not None))


def _one_text(resolver: Resolver, node: Node | None, field: str) -> str | None:
    """The one text a tag's key or value resolves to, or None."""
    if node is None:
        return None
    texts = set()
    try:
        for alternative in resolver.resolve(node, field):
            value = alternative.value
            value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
            texts.add(value if isinstance(value, str) else None)
    except LoadError:
        return None
    return texts.pop() if len(texts) == 1 else None


def typed_resources(resolver: Resolver, document: Node,
                    types: Collection[str]) -> Iterator[tuple[str, str, Node, Location]]:
    """``(logical id, type, resource node, where it starts)`` of each resource of one of ``types``."""
    positions = document.value["Resources"].key_pos
    resources = document.value["Resources"]
    for name, resource in resolver.resources.items():
        if not isinstance(resource.value, dict):
            continue
        resource_type = getattr(resource.value.get("Type"), "value", None)
        if resource_type in types:
            line, column = positions[name]
            yield name, resource_type, resource, Location(resources.file or resolver.file, line, column)


def resource_ignores(file: str, name: str, resource: Node, errors: list[InputError]) -> tuple[Ignore, ...]:
    """The resource's Metadata suppressions; a malformed one is an input error (and none)."""
    try:
        return metadata_ignores(file, resource)
    except LoadError as exc:
        errors.append(InputError(file, exc.line, f"{name}: {exc}"))
        return ()


def resource_properties(resource: Node) -> Node | None:
    """A resource's ``Properties`` (a mapping node); ``None`` when it has none, a LoadError
    when they are not a mapping."""
    properties = resource.value.get("Properties")
    if properties is not None and not isinstance(properties.value, dict):
        raise LoadError("Properties must be a mapping", properties.line)
    return properties


def resource_condition(resolver: Resolver, resource: Node) -> list[Alternative]:
    """The worlds where the resource exists (its ``Condition`` is true), each with the
    provenance of everything it holds; none when the condition is never true."""
    condition = resource.value.get("Condition")
    if condition is None:
        return [Alternative(None)]
    return [Alternative(None, (outcome.provenance[0]._replace(detail="resource " + outcome.provenance[0].detail),),
                        outcome.world)
            for outcome in resolver.condition(condition) if outcome.value is True]


def within(contexts: list[Alternative], alternative: Alternative) -> list[Alternative]:
    """The contexts in which ``alternative`` also holds, with its steps added."""
    found = []
    for context in contexts:
        world = merge_worlds(context.world, alternative.world)
        if world is not None:
            found.append(Alternative(None, context.provenance + steps(alternative), world))
    return found


#: The keys of one Metadata ignore entry.
_IGNORE_KEYS = ("id", "reason", "expires", "owner")
#: What each optional key of an ignore entry holds.
_OPTIONAL_KEYS = {"expires": "a date (YYYY-MM-DD)", "owner": "a name"}


def metadata_ignores(file: str, resource: Node) -> tuple[Ignore, ...]:
    """``Metadata: winportlint: ignore: [{id: WPL101, reason: ...}]`` (also ``id: [A, B]``), each
    entry optionally with ``expires`` (a date, checked by the core) and ``owner``. An unknown key
    is an error: a misspelt ``expires`` would make the exception last for ever."""
    metadata = resource.value.get("Metadata")
    section = metadata.value.get("winportlint") if metadata is not None and isinstance(metadata.value, dict) else None
    if section is None:
        return ()
    entries = section.value.get("ignore") if isinstance(section.value, dict) else None
    if entries is None or not isinstance(entries.value, list):
        raise LoadError("Metadata winportlint needs 'ignore': a list of {id, reason}", section.line)
    ignores = []
    for entry in entries.value:
        fields = entry.value if isinstance(entry.value, dict) else {}
        ids = fields.get("id")
        reason = fields.get("reason")
        id_values = [n.value for n in ids.value] if ids is not None and isinstance(ids.value, list) else \
            [ids.value] if ids is not None else []
        if not id_values or not all(isinstance(v, str) and v for v in id_values):
            raise LoadError("each Metadata winportlint ignore needs an 'id'", entry.line)
        named = ", ".join(excerpt(v, quote=False) for v in id_values)
        unknown = [key for key in fields if key not in _IGNORE_KEYS]
        if unknown:
            raise LoadError(f"ignore of {named} has unknown key {', '.join(excerpt(k) for k in unknown)} "
                            f"(known: {', '.join(_IGNORE_KEYS)})", entry.line)
        if reason is None or not isinstance(reason.value, str) or not reason.value.strip():
            raise LoadError(f"ignore of {named} needs a 'reason'", entry.line)
        extra = {}
        for key, holds in _OPTIONAL_KEYS.items():
            node = fields.get(key)
            if node is not None and (not isinstance(node.value, str) or not node.value.strip()):
                raise LoadError(f"ignore of {named}: '{key}' must be {holds}", node.line)
            extra[key] = node.value.strip() if node is not None else ""
        ignores.append(Ignore(tuple(v.upper() for v in id_values), reason.value.strip(),
                              Location(entry.file or file, entry.line, entry.column), **extra))
    return tuple(ignores)


def _resource_rules(resolver: Resolver, name: str, resource_type: str, resource: Node, errors: list[InputError]):
    """``(group, direction, rule node, contexts)`` for each rule a resource holds: the
    contexts are the worlds in which the resource holds the rule."""
    try:
        properties = resource_properties(resource)
        if properties is None:
            return
        contexts = resource_condition(resolver, resource)
        if not contexts:
            return  # its condition is never true: the resource is never created
        if resource_type == SECURITY_GROUP:
            for key, direction in (("SecurityGroupIngress", Direction.INGRESS),
                                   ("SecurityGroupEgress", Direction.EGRESS)):
                rules = properties.value.get(key)
                if rules is not None:
                    unknowns: list[tuple[Node, Unknown, Alternative]] = []
                    for rule, rule_context in mapping_items(resolver, rules, key, unknowns=unknowns):
                        yield name, direction, rule, within(contexts, rule_context)
                    for node, unknown, rule_context in unknowns:
                        step = Provenance(key, "unknown", _unknown_rules(key, node, unknown), resolver.location(node))
                        yield name, direction, node, [c._replace(provenance=c.provenance + (step,))
                                                      for c in within(contexts, rule_context)]
            return
        direction = Direction.INGRESS if resource_type == INGRESS else Direction.EGRESS
        function, _ = intrinsic(properties)
        if function is not None:  # the whole rule is inserted at deployment (an AWS::Include)
            why = _unknown_rules("Properties", properties, Unknown(f"{function} is not known before deployment"))
            step = Provenance("Properties", "unknown", why, resolver.location(properties))
            yield name, direction, properties, [c._replace(provenance=c.provenance + (step,)) for c in contexts]
            return
        for group, group_context in _target_groups(resolver, name, properties):
            yield group, direction, properties, within(contexts, group_context)
    except LoadError as exc:
        errors.append(InputError(resolver.file, exc.line, f"{name}: {exc}"))


def mapping_items(resolver: Resolver, rules: Node, key: str, what: str = "rule mappings",
                  unknowns: list[tuple[Node, Unknown, Alternative]] | None = None,
                  ) -> Iterator[tuple[Node, Alternative]]:
    """The rule mappings of an inline rule list (or the ``what`` of any list of
    mappings), through Fn::If at either level.

    A single mapping in place of the list is read as a list of one, as
    CloudFormation does; an empty mapping (``{}``, typically an ``Fn::If``
    branch) opens nothing. Items (or a whole list) not known before deployment,
    such as an ``AWS::Include``, are added to ``unknowns`` when it is given. Each
    item comes with the world (and steps) of the alternative that holds it.
    """
    items = rules.value if isinstance(rules.value, list) and not rules.tag else [rules]  # item by item
    alternatives = []
    for item in items:
        try:
            alternatives.extend((item, alternative) for alternative in resolver.resolve(item, key))
        except TooManyValues as exc:  # too many forms to read one by one: unknown, as an include is
            if unknowns is None:
                raise
            unknowns.append((item, Unknown(str(exc)), Alternative(None)))
    for node, alternative in alternatives:
        context = Alternative(None, steps(alternative), alternative.world)
        value = alternative.value
        if value is NO_VALUE:
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Node) and isinstance(item.value, dict):
                if item.value:
                    yield item, context
            elif isinstance(item, Unknown):
                if unknowns is not None:
                    unknowns.append((node, item, context))
            elif item is not NO_VALUE:
                raise LoadError(f"{key} must be a list of {what}", node.line)


def _unknown_rules(key: str, node: Node, unknown: Unknown) -> str:
    """Why rules (a list, an item, a rule's properties) are not known: ``SecurityGroupIngress
    inserted by AWS::Include of s3://bucket/rules.yaml at deployment``."""
    function, argument = intrinsic(node)
    if function == "Fn::Transform" and isinstance(argument.value, dict):
        name = scalar(argument.value.get("Name")) or "a transform"
        parameters = argument.value.get("Parameters")
        location = scalar(parameters.value.get("Location")) if parameters and isinstance(parameters.value, dict) else None
        source = f" of {excerpt(location, quote=False)}" if location else ""
        return f"{key} inserted by {excerpt(name, quote=False)}{source} at deployment"
    return f"{key}: {unknown.why}"


def _target_groups(resolver: Resolver, name: str, properties: Node) -> Iterator[tuple[str, Alternative]]:
    """The group a standalone rule resource attaches to, for grouping rules, in each world."""
    for key in ("GroupId", "GroupName"):
        node = properties.value.get(key)
        if node is None:
            continue
        for alternative in resolver.resolve(node, key):
            value = alternative.value
            group = value.name if isinstance(value, ResourceRef) else value if isinstance(value, str) else name
            yield group, alternative
        return
    yield name, Alternative(None)


def _rule_permissions(resolver: Resolver, resource: str, resource_type: str, group: str, direction: Direction,
                      rule: Node, contexts: list[Alternative]) -> list[Permission]:
    """All permissions of one rule (one per value, in the first world that gives it), or a
    LoadError for the whole rule."""
    unique: dict[tuple, Permission] = {}
    for permission in _iter_rule_permissions(resolver, resource, resource_type, group, direction, rule, contexts):
        unique.setdefault(permission._replace(provenance=()), permission)
    return list(unique.values())


def _iter_rule_permissions(resolver: Resolver, resource: str, resource_type: str, group: str, direction: Direction,
                           rule: Node, contexts: list[Alternative]) -> Iterator[Permission]:
    fields = rule.value
    rule_location = resolver.location(rule)
    if not contexts:
        return  # the rule is in no world where its resource exists
    if contexts[0].provenance and contexts[0].provenance[-1].kind == "unknown" \
            and intrinsic(rule)[0] is not None:
        # rules not known before deployment (an AWS::Include): any protocol, port and source
        context = contexts[0].provenance
        yield Permission(resource, resource_type, group, direction, "unknown", None, Peer("unknown", context[-1].detail),
                         rule_location, rule_location, context)
        return
    if "IpProtocol" not in fields:
        raise LoadError("security group rule has no IpProtocol", rule.line)
    peers = [(key, kind) for key, kind in _PEER_FIELDS[direction] if key in fields]
    if not peers:
        raise LoadError("security group rule has no source or destination", rule.line)
    choices = [contexts] + [values(resolver, fields, key) for key in ("IpProtocol", "FromPort", "ToPort")]
    peer_choices = [(key, kind, values(resolver, fields, key)) for key, kind in peers]
    try:
        combinations, independent = combine_or_each(choices, rule)
    except TooManyValues as exc:  # too many to read even one by one: any protocol, port and source
        why = f"its fields take too many values to read ({exc})"
        yield Permission(resource, resource_type, group, direction, "unknown", None, Peer("unknown", why),
                         rule_location, rule_location, (Provenance("IpProtocol", "unknown", why, rule_location),))
        return
    for (context, protocol_alt, from_alt, to_alt), world in combinations:
        try:
            protocol, ports, port_provenance = protocol_and_ports(protocol_alt, from_alt, to_alt, fields, rule)
        except PortRangeError:
            if independent is None:
                raise
            continue  # ends of different worlds, paired only because worlds were not followed
        for key, kind, alternatives in peer_choices:
            node = fields[key]
            for peer_alt in alternatives:
                if peer_alt.value is NO_VALUE:
                    continue
                if independent is None:
                    peer_world = merge_worlds(world, peer_alt.world)
                    if peer_world is None or not resolver.holds(peer_world):
                        continue
                written = not any(p.kind in _RESOLVED for p in peer_alt.provenance)
                peer = to_peer(peer_alt.value, kind, _CIDR_VERSIONS.get(key), written)
                if peer.kind == "invalid" and written and not isinstance(peer_alt.value, Unknown):
                    raise LoadError(f"{key} {_cidr_problem(peer_alt.value, _CIDR_VERSIONS[key])}",
                                    _value_line(peer_alt, node))
                provenance = context.provenance + port_provenance + steps(peer_alt)
                if isinstance(peer_alt.value, Unknown):
                    provenance += (Provenance(key, "unknown", peer_alt.value.why, resolver.location(node)),)
                if independent is not None:
                    provenance += (independent,)
                yield Permission(
                    resource=resource,
                    resource_type=resource_type,
                    group=group,
                    direction=direction,
                    protocol=protocol,
                    ports=ports,
                    peer=peer,
                    location=resolver.location(node),
                    rule_location=rule_location,
                    provenance=provenance,
                )


def values(resolver: Resolver, fields: dict[str, Node], key: str) -> list[Alternative]:
    """The alternatives of a rule's field (``None`` when it is not written); a field that can
    take too many values to read one by one is unknown, not an error."""
    node = fields.get(key)
    if node is None:
        return [Alternative(None)]
    try:
        return resolver.alternatives(node, key)
    except TooManyValues as exc:
        return [Alternative(Unknown(str(exc)))]


class PortRangeError(LoadError):
    """Port ends that make no range (FromPort above ToPort, say)."""


def protocol_and_ports(protocol_alt: Alternative, from_alt: Alternative, to_alt: Alternative, fields, rule: Node,
                       names: tuple[str, str, str] = ("IpProtocol", "FromPort", "ToPort")):
    """``(protocol, ports, provenance)`` of one alternative of a rule's protocol and
    port ends; ``fields`` maps each of ``names`` that is written to its node."""
    provenance = steps(protocol_alt) + steps(from_alt) + steps(to_alt)
    protocol_key, from_key, to_key = names
    raw = protocol_alt.value
    if isinstance(raw, Unknown):
        return "unknown", None, provenance + (Provenance(protocol_key, "unknown", raw.why),)
    protocol = netmath.normalize_protocol(raw)
    if protocol is None:
        raise LoadError(f"{protocol_key} {excerpt(raw)} is not a protocol", fields[protocol_key].line)
    if protocol not in netmath.PORTED_PROTOCOLS:
        return protocol, None, provenance
    ends = []
    for key, alternative in ((from_key, from_alt), (to_key, to_alt)):
        value = alternative.value
        if isinstance(value, Unknown):
            return "unknown", None, provenance + (Provenance(key, "unknown", value.why),)
        if value is None or value is NO_VALUE:
            ends.append(None)
            continue
        port = netmath.parse_port(value)
        if port is None:
            raise LoadError(f"{key} {excerpt(value)} is not a port number", fields[key].line)
        ends.append(port)
    try:
        ports: PortRange | None = netmath.port_range(protocol, *ends)
    except ValueError as exc:
        raise PortRangeError(f"{exc} ({from_key} {ends[0]}, {to_key} {ends[1]})", rule.line) from None
    if ports is None and ends == [None, None]:
        provenance += (Provenance(from_key, "default", "no port range: every port"),)
    return protocol, ports, provenance


def to_peer(value: object, kind: str, version: int | None = None, written: bool = True) -> Peer:
    """The peer a resolved value names. For a CIDR field (``version`` 4 or 6), a value that is
    not a CIDR of that family is ``invalid``; an unknown one is ``unknown`` only if it can be a
    CIDR (a String parameter, say), else it is ``invalid`` too: never the world. A value not
    ``written`` in the rule (a parameter's default, a mapping's entry) is deployed as it is,
    cfn-lint only warns of it, and EC2 keeps the network of one with host bits set."""
    if isinstance(value, Unknown):
        if kind != "cidr":
            return Peer(kind, value.why)
        return Peer("unknown", value.why) if _may_be_text(value.type) else Peer("invalid", value.why)
    if isinstance(value, ResourceRef):
        return Peer(kind if kind != "cidr" else "unknown", str(value))
    if kind != "cidr":
        return Peer(kind, str(value))
    if isinstance(value, int) and not isinstance(value, bool):  # CloudFormation passes a number as its text
        value = str(value)
    if not isinstance(value, str):
        return Peer("invalid", repr(value))
    return netmath.parse_peer(value, version, bare_address=True, host_bits=not written)


#: Parameter types whose value is free text (so can be a CIDR): a String, an item of a
#: CommaDelimitedList, an SSM parameter's name or its String value.
_TEXT_TYPES = frozenset({"", "String", "CommaDelimitedList", "AWS::SSM::Parameter::Name",
                         "AWS::SSM::Parameter::Value<String>", "AWS::SSM::Parameter::Value<List<String>>",
                         "AWS::SSM::Parameter::Value<CommaDelimitedList>"})


def _may_be_text(parameter_type: str) -> bool:
    """Whether a parameter of this type can hold any text; ``Number`` or an ``AWS::EC2::...``
    id (a security group's, a prefix list's, in a list or from SSM) can never be a CIDR."""
    return parameter_type.strip() in _TEXT_TYPES


#: Provenance of a value that is not written in the rule (a condition's branch is).
_RESOLVED = frozenset({"parameter", "mapping", "intrinsic", "unknown"})


def _cidr_problem(value: object, version: int) -> str:
    """What is wrong with a CIDR field's value that is not a CIDR, in a message's words."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return f"{excerpt(str(value))} {netmath.cidr_error(str(value), version)}"
    return f"holds a {'list' if isinstance(value, list) else 'value'} that is not one CIDR: AWS rejects it"


def _value_line(alternative: Alternative, node: Node) -> int:
    """The line where a resolved value is written: a parameter's default, a mapping's entry, or ``node``."""
    located = [p.location for p in alternative.provenance if p.location is not None]
    return located[-1].line if located else node.line


def steps(alternative: Alternative) -> tuple[Provenance, ...]:
    """The non-literal steps that led to a value: what a user needs to know."""
    return tuple(p for p in alternative.provenance if p.kind != "literal")
