"""Network ACL entries and load balancer listeners of a CloudFormation template
as Permission records (``control`` ``network-acl`` and ``load-balancer``).

The format reports what is written and resolved; which ports matter, and in
which order ACL entries apply, is for the checks to decide.
"""

from __future__ import annotations

import itertools
from ipaddress import IPv4Network

from winportlint import netmath
from winportlint.excerpt import excerpt
from winportlint.model import Direction, InputError, Location, Peer, Permission, PortRange, Provenance
from winportlint.nodes import LoadError, Node

from .context import keys
from .extract import (PortRangeError, mapping_items, protocol_and_ports, resource_condition, resource_ignores,
                      resource_properties, steps, to_peer, typed_resources, within)
from .intrinsics import (NO_VALUE, Alternative, Arguments, Resolver, ResourceRef, Unknown, combine, combine_or_each,
                         merge_worlds)

ACL_ENTRY = "AWS::EC2::NetworkAclEntry"
LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
CLASSIC_LOAD_BALANCER = "AWS::ElasticLoadBalancing::LoadBalancer"
RESOURCE_TYPES = (ACL_ENTRY, LISTENER, CLASSIC_LOAD_BALANCER)

NETWORK_ACL = "network-acl"
LOAD_BALANCER_CONTROL = "load-balancer"
WORLD = Peer("cidr", "0.0.0.0/0", IPv4Network("0.0.0.0/0"))

#: Listener protocols and the IP protocols they accept traffic on.
_LISTENER_PROTOCOLS = {"http": ("tcp",), "https": ("tcp",), "tcp": ("tcp",), "tls": ("tcp",), "ssl": ("tcp",),
                       "udp": ("udp",), "tcp_udp": ("tcp", "udp"), "geneve": ("udp",)}


def extract_network(file: str, document: Node, arguments: Arguments | None = None
                    ) -> tuple[list[Permission], list[InputError]]:
    """Permissions of every network ACL entry and load balancer listener. An entry
    or listener that cannot be read becomes an InputError; the others are still read."""
    resolver = Resolver(file, document.value, arguments)
    permissions: list[Permission] = []
    errors: list[InputError] = []
    for name, resource_type, resource, start in typed_resources(resolver, document, RESOURCE_TYPES):
        try:
            properties = resource_properties(resource)
            if properties is None:
                continue
            context = resource_condition(resolver, resource)
            if not context:
                continue  # its condition is never true: the resource is never created
            if resource_type == ACL_ENTRY:
                found = _acl_entry(resolver, name, properties, start, context)
            elif resource_type == LISTENER:
                found = _listener(resolver, name, properties, start, context, errors,
                                  document.value["Resources"].key_pos)
            else:
                found = _classic(resolver, name, properties, start, context)
        except LoadError as exc:
            errors.append(InputError(file, exc.line, f"{name}: {exc}"))
            continue
        ignores = resource_ignores(file, name, resource, errors)
        permissions.extend(p._replace(resource_location=start, ignores=p.ignores + ignores) for p in found)
    return permissions, errors


# -- Network ACL entries -------------------------------------------------------------------------

def _acl_entry(resolver: Resolver, name: str, properties: Node, start: Location,
               context: list[Alternative]) -> list[Permission]:
    fields = properties.value
    port_range = fields.get("PortRange")
    ends: dict[str, Node] = {}
    if port_range is not None:
        if not isinstance(port_range.value, dict) or port_range.tag:
            raise LoadError("PortRange must be a mapping with From and To", port_range.line)
        ends = {f"PortRange.{key}": node for key, node in port_range.value.items() if key in ("From", "To")}
    if "Protocol" not in fields:
        raise LoadError("network ACL entry has no Protocol", properties.line)
    peers = [key for key in ("CidrBlock", "Ipv6CidrBlock") if key in fields]
    if not peers:
        raise LoadError("network ACL entry has no CidrBlock or Ipv6CidrBlock", properties.line)
    named = {"Protocol": fields["Protocol"], **ends}

    def values(node: Node | None, key: str) -> list[Alternative]:
        return resolver.alternatives(node, key) if node is not None else [Alternative(None)]

    acls = [Alternative(acl) for acl in keys(resolver, fields.get("NetworkAclId"), "NetworkAclId")]
    choices = [context, acls or [Alternative(name)],
               values(fields.get("Protocol"), "Protocol"), values(ends.get("PortRange.From"), "PortRange.From"),
               values(ends.get("PortRange.To"), "PortRange.To"), values(fields.get("RuleNumber"), "RuleNumber"),
               values(fields.get("RuleAction"), "RuleAction"), values(fields.get("Egress"), "Egress")]
    permissions = []
    combinations, independent = combine_or_each(choices, properties)
    for (context_alt, group_alt, protocol_alt, from_alt, to_alt, number_alt, action_alt, egress_alt), world in \
            combinations:
        action = _action(action_alt, fields, properties)
        direction = _direction(egress_alt, fields)
        if action is None or direction is None:
            continue  # not known before deployment: an entry that may allow or deny anything
        try:
            protocol, ports, port_steps = protocol_and_ports(protocol_alt, from_alt, to_alt, named, properties,
                                                             ("Protocol", "PortRange.From", "PortRange.To"))
        except PortRangeError:
            if independent is None:
                raise
            continue  # ends of different worlds, paired only because worlds were not followed
        rule_number = _rule_number(number_alt, fields)
        provenance = context_alt.provenance + port_steps + steps(number_alt) + steps(action_alt) + steps(egress_alt) \
            + ((independent,) if independent else ())
        for key in peers:
            node = fields[key]
            for peer_alt in resolver.alternatives(node, key):
                peer_world = merge_worlds(world, peer_alt.world)
                if peer_alt.value is NO_VALUE or peer_world is None or not resolver.holds(peer_world):
                    continue
                location = resolver.location(node)
                peer_provenance = steps(peer_alt)
                if isinstance(peer_alt.value, Unknown):
                    peer_provenance += (Provenance(key, "unknown", peer_alt.value.why, location),)
                permissions.append(Permission(
                    resource=name, resource_type=ACL_ENTRY, group=group_alt.value, direction=direction, protocol=protocol,
                    ports=ports, peer=to_peer(peer_alt.value, "cidr"), location=location, rule_location=start,
                    provenance=provenance + peer_provenance, control=NETWORK_ACL, rule_number=rule_number,
                    action=action))
    return permissions


def _action(alternative: Alternative, fields: dict[str, Node], properties: Node) -> str | None:
    value = alternative.value
    if value is None:
        raise LoadError("network ACL entry has no RuleAction", properties.line)
    if isinstance(value, (Unknown, ResourceRef)) or value is NO_VALUE:
        return None
    if not isinstance(value, str) or value.strip().lower() not in ("allow", "deny"):
        raise LoadError(f"RuleAction {excerpt(value)} is not allow or deny", fields["RuleAction"].line)
    return value.strip().lower()


def _direction(alternative: Alternative, fields: dict[str, Node]) -> Direction | None:
    value = alternative.value
    if value is None or value is NO_VALUE:
        return Direction.INGRESS
    if isinstance(value, (Unknown, ResourceRef)):
        return None
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in ("true", "false"):
        raise LoadError(f"Egress {excerpt(value)} is not true or false", fields["Egress"].line)
    return Direction.EGRESS if text == "true" else Direction.INGRESS


def _rule_number(alternative: Alternative, fields: dict[str, Node]) -> int | None:
    value = alternative.value
    if value is None or value is NO_VALUE or isinstance(value, (Unknown, ResourceRef)):
        return None
    number = netmath.parse_port(value) if isinstance(value, str) else None
    if number is None:
        raise LoadError(f"RuleNumber {excerpt(value)} is not a number", fields["RuleNumber"].line)
    return number


# -- Load balancers ------------------------------------------------------------------------------

def _listener(resolver: Resolver, name: str, properties: Node, start: Location, context: list[Alternative],
              errors: list[InputError], starts: dict[str, tuple[int, int]]) -> list[Permission]:
    fields = properties.value
    if "LoadBalancerArn" not in fields:
        raise LoadError("listener has no LoadBalancerArn", properties.line)
    balancers = _balancers(resolver, fields["LoadBalancerArn"], name)
    forwards, forward_steps = _forwards(resolver, name, fields.get("DefaultActions"), "DefaultActions")
    for rule_name, rule_fields in _listener_rules(resolver, name, errors):
        rule_forwards, rule_steps = _forwards(resolver, rule_name, rule_fields.get("Actions"), "Actions")
        forwards += tuple(ports for ports in rule_forwards if ports not in forwards)
        forward_steps += rule_steps
    permissions = []
    for group, balancer in balancers:
        guards: tuple[str, ...] = ()
        scheme_alternatives: list[tuple[Peer | None, tuple[Provenance, ...]]]
        if balancer is None:
            scheme_alternatives = [(Peer("unknown", f"load balancer {group} is not in this template"), ())]
        else:
            balancer_fields = balancer.value.get("Properties")
            balancer_fields = balancer_fields.value if balancer_fields is not None and isinstance(
                balancer_fields.value, dict) else {}
            guards = tuple(keys(resolver, balancer_fields.get("SecurityGroups"), "SecurityGroups"))
            line, column = starts[group]
            scheme_alternatives = _schemes(resolver, balancer_fields, Location(resolver.file, line, column))
        permissions.extend(_listener_permissions(
            resolver, name, LISTENER, group, fields, "Port", "Protocol", properties, start,
            context, scheme_alternatives, guards, forwards, forward_steps))
    return permissions


def _classic(resolver: Resolver, name: str, properties: Node, start: Location,
             context: list[Alternative]) -> list[Permission]:
    fields = properties.value
    listeners = fields.get("Listeners")
    if listeners is None:
        return []
    schemes = _schemes(resolver, fields, start)
    guards = tuple(keys(resolver, fields.get("SecurityGroups"), "SecurityGroups"))
    permissions = []
    for listener, listener_context in mapping_items(resolver, listeners, "Listeners", "listener mappings"):
        forwards: tuple[PortRange, ...] = ()
        instance_port = listener.value.get("InstancePort")
        if instance_port is not None:
            forwards = tuple(dict.fromkeys(_ports(resolver, instance_port, "InstancePort")))
        permissions.extend(_listener_permissions(
            resolver, name, CLASSIC_LOAD_BALANCER, name, listener.value, "LoadBalancerPort", "Protocol", listener,
            resolver.location(listener), within(context, listener_context), schemes, guards, forwards, ()))
    return permissions


def _listener_permissions(resolver: Resolver, name: str, resource_type: str, group: str, fields: dict[str, Node],
                          port_key: str, protocol_key: str, listener: Node, rule_location: Location,
                          context: list[Alternative], schemes, guards: tuple[str, ...],
                          forwards: tuple[PortRange, ...], forward_steps: tuple[Provenance, ...]) -> list[Permission]:
    """One permission per (listener port, IP protocol, internet-facing scheme); none for an internal one."""
    port_node = fields.get(port_key)
    if port_node is None:
        return []  # a Gateway Load Balancer's listener: no port of its own
    protocol_node = fields.get(protocol_key)
    protocols = resolver.resolve(protocol_node, protocol_key) if protocol_node is not None else [Alternative(None)]
    permissions = []
    for ((context_alt, port_alt, protocol_alt), _), (peer, scheme_steps) in itertools.product(
            combine([context, resolver.resolve(port_node, port_key), protocols], listener), schemes):
        if peer is None:
            continue  # internal: not reachable from the internet
        if isinstance(port_alt.value, (Unknown, ResourceRef)) or port_alt.value is NO_VALUE:
            continue  # the listener's port is not known before deployment
        port = netmath.parse_port(port_alt.value) if isinstance(port_alt.value, str) else None
        if port is None or not 1 <= port <= 65535:
            raise LoadError(f"{port_key} {excerpt(port_alt.value)} is not a port number", port_node.line)
        ip_protocols, protocol_steps = _ip_protocols(protocol_alt, protocol_key, protocol_node)
        for ip_protocol in ip_protocols:
            permissions.append(Permission(
                resource=name, resource_type=resource_type, group=group, direction=Direction.INGRESS,
                protocol=ip_protocol, ports=PortRange(port, port), peer=peer, location=resolver.location(port_node),
                rule_location=rule_location,
                provenance=context_alt.provenance + steps(port_alt) + protocol_steps + scheme_steps + forward_steps,
                control=LOAD_BALANCER_CONTROL, guards=guards, forwards_to=forwards))
    return permissions


def _ip_protocols(alternative: Alternative, key: str, node: Node | None) -> tuple[tuple[str, ...], tuple[Provenance, ...]]:
    value = alternative.value
    if value is None or value is NO_VALUE:
        return ("tcp",), (Provenance(key, "default", "no protocol: TCP"),)
    if isinstance(value, (Unknown, ResourceRef)):
        why = value.why if isinstance(value, Unknown) else str(value)
        return ("tcp",), steps(alternative) + (Provenance(key, "unknown", f"{why}; read as TCP"),)
    protocols = _LISTENER_PROTOCOLS.get(value.strip().lower()) if isinstance(value, str) else None
    if protocols is None:
        raise LoadError(f"{key} {excerpt(value)} is not a listener protocol", node.line)
    return protocols, steps(alternative)


def _schemes(resolver: Resolver, fields: dict[str, Node],
             start: Location) -> list[tuple[Peer | None, tuple[Provenance, ...]]]:
    """``(peer, provenance)`` per value of the scheme: the world for internet-facing
    (the default), ``None`` for internal, an unknown peer when not known."""
    node = fields.get("Scheme")
    if node is None:
        return [(WORLD, (Provenance("Scheme", "default", "internet-facing", start),))]
    schemes = []
    for alternative in resolver.resolve(node, "Scheme"):
        value = alternative.value
        if value is NO_VALUE:
            schemes.append((WORLD, steps(alternative) + (Provenance("Scheme", "default", "internet-facing", start),)))
        elif isinstance(value, (Unknown, ResourceRef)):
            why = value.why if isinstance(value, Unknown) else str(value)
            schemes.append((Peer("unknown", why), steps(alternative) + (
                Provenance("Scheme", "unknown", why, resolver.location(node)),)))
        elif isinstance(value, str) and value.strip().lower() == "internet-facing":
            written = next((p.location for p in reversed(alternative.provenance) if p.location is not None),
                           resolver.location(node))
            schemes.append((WORLD, steps(alternative) + (Provenance("Scheme", "literal", "internet-facing", written),)))
        elif isinstance(value, str) and value.strip().lower() == "internal":
            schemes.append((None, ()))
        else:
            raise LoadError(f"Scheme {excerpt(value)} is not internet-facing or internal", node.line)
    return schemes


def _balancers(resolver: Resolver, node: Node, name: str) -> list[tuple[str, Node | None]]:
    """The load balancers a listener belongs to: (key, resource node when in the template)."""
    found = []
    for key in keys(resolver, node, "LoadBalancerArn") or [name]:
        resource = resolver.resources.get(key)
        is_balancer = resource is not None and isinstance(resource.value, dict) and getattr(
            resource.value.get("Type"), "value", None) == LOAD_BALANCER
        found.append((key, resource if is_balancer else None))
    return found


def _listener_rules(resolver: Resolver, listener: str, errors: list[InputError]):
    """``(name, properties)`` of the listener rules of the template attached to ``listener``."""
    for name, resource in resolver.resources.items():
        if not isinstance(resource.value, dict) or getattr(resource.value.get("Type"), "value", None) != LISTENER_RULE:
            continue
        properties = resource.value.get("Properties")
        if properties is None or not isinstance(properties.value, dict):
            continue
        try:
            if listener in keys(resolver, properties.value.get("ListenerArn"), "ListenerArn"):
                yield name, properties.value
        except LoadError as exc:
            errors.append(InputError(resolver.file, exc.line, f"{name}: {exc}"))


def _forwards(resolver: Resolver, name: str, actions: Node | None,
              field: str) -> tuple[tuple[PortRange, ...], tuple[Provenance, ...]]:
    """The ports of the target groups that actions forward to, and one provenance per target group port."""
    if actions is None:
        return (), ()
    groups: dict[str, None] = {}
    for action, _ in mapping_items(resolver, actions, field, "action mappings"):
        groups.update(dict.fromkeys(keys(resolver, action.value.get("TargetGroupArn"), "TargetGroupArn")))
        forward = action.value.get("ForwardConfig")
        if forward is None:
            continue
        if not isinstance(forward.value, dict) or forward.tag:
            raise LoadError("ForwardConfig must be a mapping", forward.line)
        target_groups = forward.value.get("TargetGroups")
        if target_groups is not None:
            for item, _ in mapping_items(resolver, target_groups, "ForwardConfig.TargetGroups",
                                         "target group mappings"):
                groups.update(dict.fromkeys(keys(resolver, item.value.get("TargetGroupArn"), "TargetGroupArn")))
    ports: dict[PortRange, None] = {}
    provenance = []
    for group in groups:
        resource = resolver.resources.get(group)
        if resource is None or not isinstance(resource.value, dict) or getattr(
                resource.value.get("Type"), "value", None) != TARGET_GROUP:
            continue  # a target group of another stack: its port is not known here
        properties = resource.value.get("Properties")
        port_node = properties.value.get("Port") if properties is not None and isinstance(
            properties.value, dict) else None
        if port_node is None:
            continue
        for port in _ports(resolver, port_node, "Port"):
            ports[port] = None
            provenance.append(Provenance("TargetGroupArn", "reference", f"target group {group} port {port}",
                                         resolver.location(port_node)))
    return tuple(ports), tuple(provenance)


def _ports(resolver: Resolver, node: Node, key: str) -> list[PortRange]:
    """Each port a port property can be; unknown values are left out."""
    ports = []
    for alternative in resolver.resolve(node, key):
        value = alternative.value
        if not isinstance(value, str):
            continue
        port = netmath.parse_port(value)
        if port is None or not 1 <= port <= 65535:
            raise LoadError(f"{key} {excerpt(value)} is not a port number", node.line)
        ports.append(PortRange(port, port))
    return ports


