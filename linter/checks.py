"""The shapes of built-in check: an exposure class open to the world
(:class:`ExposureCheck`), and a :class:`Check` whose findings come from a
function: an exposure that depends on a value the template does not determine,
a network ACL that lets the world in, a load balancer listener in front of a port.

Each built-in check is one file in ``plugins/checks`` that instantiates one
of these with its metadata.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple

from .catalog import Catalog, CatalogRule
from .exposure import (Exposure, acl_exposures, allows_all, listener_exposures, ports_text,
                       unresolved_exposures, world_exposures)
from .model import CatalogHit, Direction, Finding, Permission, Severity, fingerprint
from .services import opened_by_default, ports_opened

DOCS_BASE = "https://github.com/winportlint/winportlint/blob/main/docs/rules.md"


class ExposureCheck(NamedTuple):
    """Reports permissions that open rules of one catalog exposure class to the world."""

    id: str
    name: str
    summary: str
    severity: Severity
    exposure_class: str
    explanation: str
    direction: Direction = Direction.INGRESS
    enabled_by_default: bool = True
    fix_kinds: tuple[str, ...] | None = None

    @property
    def docs_url(self) -> str:
        return f"{DOCS_BASE}#{self.id.lower()}"

    def rules(self, catalog: Catalog) -> list[CatalogRule]:
        return [r for r in catalog.rules if r.exposure_class == self.exposure_class and r.direction is self.direction]

    def run(self, permissions: Sequence[Permission], catalog: Catalog) -> Iterator[Finding]:
        rules = self.rules(catalog)
        if not rules:
            return
        for exposure in world_exposures(permissions, rules):
            yield self._finding(exposure)

    def _finding(self, exposure: Exposure) -> Finding:
        permission = exposure.permission
        verb = "from" if permission.direction is Direction.INGRESS else "to"
        source = f"{permission.peer.text}"
        if exposure.union_with:
            others = ", ".join(p.peer.text for p in exposure.union_with)
            source += f" (with {others}: the whole internet)"
        else:
            source += " (the whole internet)"
        message = f"{ports_text(permission)} open {verb} {source} on {permission.resource}: {describe_rules(exposure.rules)}"
        return make_finding(self.id, exposure, message)


class Check(NamedTuple):
    """A check whose findings come from a function of the file's permissions and the catalog,
    called as ``find(check, permissions, catalog)`` (the functions below)."""

    id: str
    name: str
    summary: str
    severity: Severity
    explanation: str
    find: Callable[[Check, Sequence[Permission], Catalog], Iterable[Finding]]
    enabled_by_default: bool = True
    fix_kinds: tuple[str, ...] | None = None

    @property
    def docs_url(self) -> str:
        return f"{DOCS_BASE}#{self.id.lower()}"

    def run(self, permissions: Sequence[Permission], catalog: Catalog) -> Iterable[Finding]:
        return self.find(self, permissions, catalog)


def unresolved_findings(check: Check, permissions: Sequence[Permission], catalog: Catalog) -> Iterator[Finding]:
    """Catalog ports whose exposure depends on a value known only at deployment. The message
    names what is unknown: the source, or (to a literal world CIDR) the port or whether the rule applies."""
    for exposure in unresolved_exposures(permissions, _grave_ingress_rules(catalog)):
        permission = exposure.permission
        why = "; ".join(p.detail for p in permission.provenance if p.kind == "unknown") or permission.peer.text
        if permission.protocol == "unknown":  # every catalog port may be open: the gravest are named first
            rules = describe_rules(exposure.rules, limit=_UNKNOWN_PORT_SERVICES)
            if permission.peer.kind != "unknown":
                message = (f"{permission.resource} is open to {permission.peer.text} (the whole internet) on a port "
                           f"not known before deployment: {why}; it may be {rules}")
            else:
                message = (f"{permission.resource} may be open to the internet on a port not known before deployment: "
                           f"{why}; if the source is 0.0.0.0/0 or ::/0, this may open {rules}")
        elif permission.peer.kind != "unknown":
            message = (f"{ports_text(permission)} on {permission.resource} may be open to the internet: {why}; "
                       f"from {permission.peer.text} (the whole internet) this opens {describe_rules(exposure.rules)}")
        else:
            message = (f"{ports_text(permission)} on {permission.resource} may be open to the internet: {why}; "
                       f"if it is 0.0.0.0/0 or ::/0 this opens {describe_rules(exposure.rules)}")
        yield make_finding(check.id, exposure, message, check.severity)


#: The services a finding on a port not known before deployment names, the gravest first, before ``and N more``
#: (the built-in catalog has seven critical ones).
_UNKNOWN_PORT_SERVICES = 7


def network_acl_findings(check: Check, permissions: Sequence[Permission], catalog: Catalog) -> Iterator[Finding]:
    """Network ACL entries whose own range lets the world reach catalog ports. Traffic needs both
    the ACL and a security group, so a finding is one severity level below that of the gravest
    catalog rule it lets through. Entries that allow everything are the other check's."""
    for exposure in acl_exposures(permissions, _grave_ingress_rules(catalog)):
        entry = exposure.permission
        if allows_all(entry):
            continue
        message = f"{_acl_entry_text(entry)}: {describe_rules(exposure.rules)}; only security groups stand in the way"
        gravest = max((rule.severity for rule in exposure.rules), key=lambda s: s.rank)
        yield make_finding(check.id, exposure, message, gravest.shifted(-1))


def network_acl_allow_all_findings(check: Check, permissions: Sequence[Permission],
                                   catalog: Catalog) -> Iterator[Finding]:
    """Network ACL entries that let the world in on everything, as the AWS default network ACL
    does, at the check's severity: every VPC has one, so they are worth knowing, not an alarm."""
    for exposure in acl_exposures(permissions, _grave_ingress_rules(catalog)):
        entry = exposure.permission
        if allows_all(entry):
            gravest_first = sorted({rule.severity for rule in exposure.rules}, key=lambda s: -s.rank)
            reached = ", ".join(ports_opened(catalog_hits([rule for rule in exposure.rules if rule.severity is tier]))
                                for tier in gravest_first)
            message = (f"{_acl_entry_text(entry)}, as the AWS default network ACL does: security groups alone "
                       f"decide who reaches {reached}")
            yield make_finding(check.id, exposure, message, check.severity)


def _acl_entry_text(entry: Permission) -> str:
    number = f"rule {entry.rule_number}" if entry.rule_number is not None else "rule number unknown"
    return (f"network ACL entry {entry.resource} ({number}) allows {ports_text(entry)} from {entry.peer.text} "
            f"(the whole internet)")


def listener_findings(check: Check, permissions: Sequence[Permission], catalog: Catalog) -> Iterator[Finding]:
    """Internet-facing load balancer listeners on catalog ports, or that forward to one."""
    for exposure, unknown_guards in listener_exposures(permissions, _grave_ingress_rules(catalog)):
        listener = exposure.permission
        forwards = ", ".join(f"{ports}/{listener.protocol}" for ports in listener.forwards_to
                             if ports != listener.ports)
        message = (f"internet-facing load balancer listener {listener.resource} accepts {ports_text(listener)}"
                   + (f" and forwards to {forwards}" if forwards else "")
                   + f": {describe_rules(exposure.rules)}, whatever the instances' security groups say")
        if unknown_guards:
            message += f"; its security groups {', '.join(shown_key(g) for g in unknown_guards)} are not in this file"
        yield make_finding(check.id, exposure, message)


def shown_key(key: str) -> str:
    """A group key as a user wrote it: Terraform keys start with the module's folder and a colon."""
    return key.rsplit(":", 1)[-1]


def _grave_ingress_rules(catalog: Catalog) -> list[CatalogRule]:
    """The inbound catalog rules of high severity and above: the ports these checks look for."""
    return [r for r in catalog.rules if r.direction is Direction.INGRESS and r.severity.rank >= Severity.HIGH.rank]


def make_finding(rule_id: str, exposure: Exposure, message: str, severity: Severity | None = None) -> Finding:
    """A finding whose severity is that of the gravest catalog rule it opens, unless given."""
    permission = exposure.permission
    if severity is None:
        severity = max((rule.severity for rule in exposure.rules), key=lambda s: s.rank)
    return Finding(rule_id, severity, message + provenance_text(permission), permission,
                   catalog_hits(exposure.rules), fingerprint(rule_id, permission),
                   union_with=tuple(partner.peer for partner in exposure.union_with))


def provenance_text(permission: Permission) -> str:
    """`` [CidrIp from parameter AdminCidr default; via module.edge (main.tf:3)]``: how the values that
    are not literals were obtained, or nothing."""
    steps = [p.describe() for p in permission.provenance if p.kind not in ("literal", "unknown", "intrinsic")]
    return f" [{'; '.join(steps)}]" if steps else ""


def catalog_hits(rules: Sequence[CatalogRule]) -> tuple[CatalogHit, ...]:
    return tuple(CatalogHit(rule.workload, rule.rule, rule.protocol, rule.ports_text(), rule.os) for rule in rules)


def describe_rules(rules: Sequence[CatalogRule], limit: int | None = None) -> str:
    """``3389/tcp+udp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)``: the ports
    the rules open, the gravest first, then by port, and the AMIs whose firewall opens them;
    ``and N more services`` past ``limit``."""
    ordered = sorted(rules, key=lambda rule: (-rule.severity.rank, rule.service_ports[0].low if rule.service_ports
                                              else 65536))
    return opened_by_default(catalog_hits(ordered), limit)


def documentation(check) -> str:
    """What ``winportlint explain`` prints for a check (and an editor shows on hover)."""
    default = "yes" if check.enabled_by_default else "no (use --select)"
    return (f"{check.id} {check.name}\n\n{check.summary}\n\nSeverity: {check.severity.value}\n"
            f"Enabled by default: {default}\nDocs: {check.docs_url}\n\n{check.explanation}\n")
