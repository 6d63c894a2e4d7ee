"""Which catalog rules a set of security-group permissions opens to the whole internet.

Every check shares this one matcher; a check only chooses which exposure
class it reports. A peer is the world when its CIDR is ``0.0.0.0/0`` or
``::/0``, or when the CIDRs that rules of one group open to the same catalog
rule add up to all of IPv4 or IPv6 (``0.0.0.0/1`` + ``128.0.0.0/1``).
"""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

from .catalog import CatalogRule
from .model import Direction, Permission, PortRange, Severity
from .netmath import PORTED_PROTOCOLS, covers_world, is_world

SECURITY_GROUP = "security-group"
NETWORK_ACL = "network-acl"
LOAD_BALANCER = "load-balancer"


class Exposure(NamedTuple):
    """A permission and the catalog rules it opens to the world."""

    permission: Permission
    rules: tuple[CatalogRule, ...]
    #: Other permissions of the group whose CIDRs complete the world with this one.
    union_with: tuple[Permission, ...] = ()


def opens(permission: Permission, rule: CatalogRule) -> bool:
    """Whether traffic the catalog rule describes passes the permission.

    A catalog rule on ``Any`` port names a program, not a port: only a
    permission on every port of the protocol opens it.
    """
    if permission.direction is not rule.direction:
        return False
    if permission.protocol not in ("all", rule.protocol) and rule.protocol != "all":
        return False
    if permission.protocol != "all" and rule.protocol == "all" and permission.ports is not None:
        return False
    service_ports = rule.service_ports
    if permission.ports is None:
        return True
    if service_ports is None:
        return False
    return any(permission.ports.overlaps(ports) for ports in service_ports)


def world_exposures(permissions: Sequence[Permission], rules: Sequence[CatalogRule]) -> list[Exposure]:
    """Exposures of the permissions (of one file) to the given catalog rules."""
    exposures: list[Exposure] = []
    for group_permissions, partial, partial_covers in _groups(permissions):
        union_hits: dict[int, list[CatalogRule]] = defaultdict(list)
        union_partners: dict[int, set[int]] = defaultdict(set)
        # Only if all the group's CIDRs together cover the world can some of them, per catalog rule.
        if partial_covers:
            for rule in rules:
                members = [p for p in partial if opens(p, rule)]
                for version in (4, 6):  # one address family's union: ::/1 adds nothing to IPv4's
                    family = [p for p in members if p.peer.network.version == version]
                    if len(family) > 1 and covers_world(p.peer.network for p in family):
                        needed = _needed(family)
                        for member in needed:
                            union_hits[id(member)].append(rule)
                            union_partners[id(member)].update(id(m) for m in needed if m is not member)
        index = {id(p): p for p in group_permissions}
        for permission in group_permissions:
            if is_world(permission.peer.network):
                hits = tuple(rule for rule in rules if opens(permission, rule))
                if hits:
                    exposures.append(Exposure(permission, hits))
            elif id(permission) in union_hits:
                partners = tuple(index[i] for i in sorted(union_partners[id(permission)],
                                                           key=lambda i: _order(index[i])))
                exposures.append(Exposure(permission, tuple(union_hits[id(permission)]), partners))
    return exposures


#: The last permissions grouped (every exposure check of a file asks about the same list), and their groups.
_last_grouped: tuple[tuple[Permission, ...], list] = ((), [])


def _groups(permissions: Sequence[Permission]) -> list[tuple[list[Permission], list[Permission], bool]]:
    """The security-group permissions on CIDRs of known protocol by group and direction: each group's
    permissions, those that are not the world, and whether these together cover the world.
    Worked out once for the same permissions (the same objects, in the same order)."""
    global _last_grouped
    key = tuple(permissions)
    last = _last_grouped[0]
    if len(key) == len(last) and all(map(operator.is_, key, last)):
        return _last_grouped[1]
    by_group: dict[tuple[str, Direction], list[Permission]] = defaultdict(list)
    for permission in key:
        if permission.peer.kind == "cidr" and determined(permission) and permission.control == SECURITY_GROUP:
            by_group[(permission.group, permission.direction)].append(permission)
    groups = []
    for group_permissions in by_group.values():
        partial = [p for p in group_permissions if not is_world(p.peer.network)]
        groups.append((group_permissions, partial, len(partial) > 1 and covers_world(p.peer.network for p in partial)))
    _last_grouped = (key, groups)
    return groups


def _needed(members: list[Permission]) -> list[Permission]:
    """Members whose CIDR is not inside another member's: ``10.0.0.0/8`` beside
    ``0.0.0.0/1`` and ``128.0.0.0/1`` adds nothing to the exposure."""
    return [m for m in members
            if not any(o.peer.network != m.peer.network and o.peer.network.version == m.peer.network.version
                       and o.peer.network.supernet_of(m.peer.network) for o in members)]


def determined(permission: Permission) -> bool:
    """Whether everything but the peer is known: the protocol, the ports and whatever decides
    that the rule applies (a format marks an unknown value with an ``unknown`` provenance step)."""
    return permission.protocol != "unknown" and not any(p.kind == "unknown" for p in permission.provenance)


def unresolved_exposures(permissions: Sequence[Permission], rules: Sequence[CatalogRule]) -> list[Exposure]:
    """Permissions that would open catalog rules if an unresolved value were the world.

    The peer is unknown (a parameter without default, an attribute of another
    resource) or the peer is the world and something else is unknown: the
    protocol, the ports, or whether the rule applies (its direction).
    """
    exposures = []
    for permission in permissions:
        peer = permission.peer
        if permission.control != SECURITY_GROUP:
            continue
        if not (peer.kind == "unknown" or peer.kind == "cidr" and is_world(peer.network)
                and not determined(permission)):
            continue
        if permission.protocol == "unknown":
            hits = tuple(r for r in rules if r.direction is permission.direction)
        else:
            hits = tuple(r for r in rules if opens(permission, r))
        if hits:
            exposures.append(Exposure(permission, hits))
    return exposures


def acl_exposures(permissions: Sequence[Permission], rules: Sequence[CatalogRule]) -> list[Exposure]:
    """Network ACL allow entries for the world that let catalog rules' traffic through.

    Entries are evaluated in rule-number order: a deny entry with a lower number,
    for the world of the same address family, that covers a rule's traffic stops
    it. A deny whose number is unknown stops nothing (its order is unknown).
    """
    by_acl: dict[tuple[str, Direction], list[Permission]] = defaultdict(list)
    for permission in permissions:
        if permission.control == NETWORK_ACL and permission.peer.kind == "cidr" and permission.protocol != "unknown":
            by_acl[(permission.group, permission.direction)].append(permission)
    exposures = []
    for entries in by_acl.values():
        denies = [e for e in entries if e.action == "deny" and e.rule_number is not None and is_world(e.peer.network)]
        for entry in entries:
            if entry.action != "allow" or not is_world(entry.peer.network):
                continue
            hits = tuple(rule for rule in rules
                         if opens(entry, rule) and not any(_stops(deny, entry, rule) for deny in denies))
            if hits:
                exposures.append(Exposure(entry, hits))
    return exposures


def allows_all(entry: Permission) -> bool:
    """Whether a network ACL entry lets the world in on every protocol, or on every port of TCP
    or UDP: the AWS default network ACL's entry and its explicit equivalents, which name no
    Windows port of their own."""
    if entry.action != "allow" or entry.peer.kind != "cidr" or not is_world(entry.peer.network):
        return False
    if entry.protocol == "all":
        return True
    ports = entry.ports
    return entry.protocol in PORTED_PROTOCOLS and (ports is None or ports.low <= 1 and ports.high == 65535)


def _stops(deny: Permission, allow: Permission, rule: CatalogRule) -> bool:
    """Whether a deny entry comes first and covers all the traffic of ``rule`` that ``allow`` lets in."""
    if allow.rule_number is None or deny.rule_number >= allow.rule_number:
        return False
    if deny.peer.network.version != allow.peer.network.version:
        return False
    protocol = rule.protocol if rule.protocol != "all" else allow.protocol
    if deny.protocol != "all" and deny.protocol != protocol:
        return False
    if deny.ports is None:
        return True
    if rule.service_ports is None:
        return False
    for ports in rule.service_ports:
        if allow.ports is not None and not allow.ports.overlaps(ports):
            continue
        low = ports.low if allow.ports is None else max(ports.low, allow.ports.low)
        high = ports.high if allow.ports is None else min(ports.high, allow.ports.high)
        if not (deny.ports.low <= low and high <= deny.ports.high):
            return False
    return True


def listener_exposures(permissions: Sequence[Permission], rules: Sequence[CatalogRule]) -> list[tuple[Exposure, tuple[str, ...]]]:
    """Load balancer listeners open to the world whose port, or a port they forward
    to, is a catalog rule's; each with the keys of its security groups that are
    not in the file (assumed to let the world in).

    A listener behind security groups that are all in the file counts only when
    one of them lets the world reach the listener's port.
    """
    groups = {p.group for p in permissions if p.control == SECURITY_GROUP}
    found = []
    for listener in permissions:
        if listener.control != LOAD_BALANCER or listener.peer.kind != "cidr" or not is_world(listener.peer.network):
            continue
        probes = [listener, *(listener._replace(ports=ports) for ports in listener.forwards_to)]
        hits = tuple(rule for rule in rules if any(opens(probe, rule) for probe in probes))
        if not hits:
            continue
        unknown = tuple(g for g in listener.guards if g not in groups)
        if listener.guards and not unknown and not _guards_admit_world(permissions, listener):
            continue
        found.append((Exposure(listener, hits), unknown))
    return found


def _guards_admit_world(permissions: Sequence[Permission], listener: Permission) -> bool:
    """Whether a security group of the load balancer lets the world reach the listener's port."""
    port = CatalogRule("listener", listener.resource, Direction.INGRESS, listener.protocol,
                       (listener.ports,) if listener.ports else None, None, (), "", Severity.INFO, "", None)
    guards = [p for p in permissions if p.control == SECURITY_GROUP and p.group in listener.guards]
    return bool(world_exposures(guards, [port]))


def _order(permission: Permission) -> tuple:
    location = permission.location
    return (location.line, location.column, permission.peer.text)


def ports_text(permission: Permission) -> str:
    """``3389/tcp``, ``0-1024/udp``, ``all ports/tcp`` or ``all traffic``."""
    if permission.protocol == "all":
        return "all traffic"
    ports: PortRange | None = permission.ports
    if ports is None:
        return permission.protocol if permission.protocol not in ("tcp", "udp") else f"all ports/{permission.protocol}"
    return f"{ports}/{permission.protocol}"
