"""The format-neutral records that flow through the pipeline.

Format plugins produce :class:`Permission` records; checks turn them into
:class:`Finding` records. Nothing here knows CloudFormation or HCL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from ipaddress import IPv4Network, IPv6Network
from typing import NamedTuple


class Direction(str, Enum):
    INGRESS = "ingress"
    EGRESS = "egress"


class Severity(str, Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def shifted(self, levels: int) -> Severity:
        """``levels`` steps up (down when negative), staying within info..critical."""
        order = list(Severity)
        return order[min(max(self.rank + levels, 0), len(order) - 1)]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Location(NamedTuple):
    """A 1-based line and column in a file."""

    file: str
    line: int
    column: int


class Provenance(NamedTuple):
    """How one value of a permission was obtained.

    ``kind`` is one of ``literal``, ``parameter``, ``condition``, ``mapping``,
    ``intrinsic``, ``default`` (a value the format supplies when the field is
    absent, e.g. all ports) or ``unknown``; ``detail`` says which parameter,
    condition branch or mapping, in words a user can act on.
    """

    field: str
    kind: str
    detail: str = ""
    location: Location | None = None

    def describe(self) -> str:
        """``CidrIp from parameter AdminCidr default``, ``CidrIp when condition IsProd is false``,
        ``via module.edge (main.tf:12)``."""
        if self.kind == "module":
            return f"via {self.detail}"
        return f"{self.field} {'when' if self.kind == 'condition' else 'from'} {self.detail or self.kind}"


class _Bounds(NamedTuple):
    low: int
    high: int


class PortRange(_Bounds):
    """An inclusive port range; ``None`` in a Permission means every port."""

    __slots__ = ()

    def __new__(cls, low: int, high: int) -> PortRange:
        if not (0 <= low <= high <= 65535):
            raise ValueError(f"invalid port range {low}-{high}")
        return super().__new__(cls, low, high)

    def overlaps(self, other: PortRange) -> bool:
        return self.low <= other.high and other.low <= self.high

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


class Peer(NamedTuple):
    """The other end of a rule: a CIDR, or something that is not an address.

    ``kind`` is ``cidr`` (``network`` set), ``security-group``,
    ``prefix-list``, ``invalid`` (not a CIDR AWS accepts) or ``unknown`` (a
    value that could not be resolved: never the world, and kept so that it is
    visible in provenance). ``text`` is the value as written or resolved.
    """

    kind: str
    text: str
    network: IPv4Network | IPv6Network | None = None


class Ignore(NamedTuple):
    """A suppression written in a file's own structure (CloudFormation ``Metadata``),
    as opposed to a ``# winportlint: ignore[...]`` comment, which the core reads."""

    ids: tuple[str, ...]
    reason: str
    location: Location
    owner: str = ""
    #: The expiry date as written; the core reads it (see :mod:`winportlint.suppress`).
    expires: str = ""


class Permission(NamedTuple):
    """One resolved (protocol, ports, peer) that a security group, a network ACL
    entry or a load balancer listener lets through.

    A rule whose values can take several forms (a parameter with allowed
    values, both branches of a condition) yields one Permission per form.

    - ``resource``: the resource holding the rule (logical id or address).
    - ``group``: the security group the rule belongs to, so that rules of one
      group can be considered together (CIDR unions).
    - ``protocol``: ``tcp``, ``udp``, ``icmp``, ``icmpv6``, ``all`` or an IP
      protocol number as a string; ``unknown`` when it could not be resolved.
    - ``ports``: ``None`` when the rule allows every port of the protocol.
    - ``location``: where the peer (CIDR) value is written; ``rule_location``
      where the rule starts; ``resource_location`` where the resource starts.
    - ``ignores``: suppressions the format found in the resource's structure.
    - ``control``: what lets the traffic through: ``security-group`` (a rule of
      the group ``group``), ``network-acl`` (an entry of the ACL ``group``, with
      its ``rule_number`` and ``action``, ``allow`` or ``deny``) or
      ``load-balancer`` (a listener of the load balancer ``group``: ``ports``
      is the listener's, ``forwards_to`` the ports of the target groups it
      forwards to, ``guards`` the keys of the load balancer's security groups;
      the peer is the world for an internet-facing one).
    - ``tags``: the security group's tags, ``(key, value)`` pairs sorted by key, as the format
      resolved them (for allow entries that select by tag); a tag whose key or value is not
      known before deployment is left out, so that it never selects; none for a rule whose group
      is not in the file or module, and for network ACL entries and listeners.
    """

    resource: str
    resource_type: str
    group: str
    direction: Direction
    protocol: str
    ports: PortRange | None
    peer: Peer
    location: Location
    rule_location: Location
    provenance: tuple[Provenance, ...] = ()
    resource_location: Location | None = None
    ignores: tuple[Ignore, ...] = ()
    control: str = "security-group"
    rule_number: int | None = None
    action: str = "allow"
    guards: tuple[str, ...] = ()
    forwards_to: tuple[PortRange, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()


class Evidence(NamedTuple):
    """A value a format read that may tell a target's operating system, as written;
    the core (:mod:`winportlint.windows`) decides what it means.

    ``kind`` is ``image`` (an AMI id, an SSM parameter path such as
    ``/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base``, an
    image name or name filter), ``platform`` (a platform filter or attribute, e.g.
    ``windows``), ``password-data`` (``get_password_data = true``) or ``user-data``
    (the user data text). ``field`` names where it was read: ``ImageId``,
    ``Parameters.WindowsAmi.Default``, ``data.aws_ami.win.filter.name``.
    """

    kind: str
    value: str
    field: str
    location: Location


class Target(NamedTuple):
    """A resource that security groups protect: an instance, a launch template or
    configuration, an auto scaling group, a network interface.

    - ``groups``: keys of the security groups attached, as in ``Permission.group``
      (a literal ``sg-...`` id as written).
    - ``subnets``: keys of the subnets it is placed in (logical ids, addresses or ids).
    - ``uses``: resources whose settings it takes (an auto scaling group's launch
      template, an instance's launch template or network interface), by resource name.
    - ``evidence``: what was read about its operating system.
    """

    resource: str
    resource_type: str
    location: Location
    groups: tuple[str, ...] = ()
    subnets: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    evidence: tuple[Evidence, ...] = ()


class SubnetAcl(NamedTuple):
    """A network ACL associated with a subnet (both by key, as in ``Target.subnets``
    and ``Permission.group``)."""

    acl: str
    subnet: str
    location: Location


class TargetContext(NamedTuple):
    """What a finding's security group protects, and what is known of its operating system.

    ``os`` is ``windows``, ``linux`` or ``unknown``; ``versions`` the Windows
    Server versions (``2022``, ``2012 R2``) the evidence names (several when a
    condition or mapping chooses; empty when unknown); ``evidence`` says why,
    one item a fact (``ImageId /aws/service/ami-windows-latest/... at line 12``).
    """

    resource: str
    resource_type: str
    os: str
    versions: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


class CatalogHit(NamedTuple):
    """A catalog rule that a finding's permission exposes."""

    workload: str
    rule: str
    protocol: str
    ports: str
    os: tuple[str, ...]


class TextEdit(NamedTuple):
    """Replace bytes ``start:end`` of ``file`` (its bytes as read, BOM included) with ``text``.

    Byte offsets, so that an edit never depends on how a format decoded the file;
    the language server turns one into a line and character in the encoding its client chose.
    """

    file: str
    start: int
    end: int
    text: str


#: How far a fix may be applied: ``safe`` (changes no infrastructure), ``unsafe`` (changes
#: who can connect: only when asked) or ``display-only`` (shown, never applied).
APPLICABILITIES = ("safe", "unsafe", "display-only")


class Fix(NamedTuple):
    """One way to end a finding: a title a user reads and the edits that do it.

    A ``display-only`` fix may have no edits: its title says what to change and why
    no edit can (the value is shared, or comes from outside the file).
    """

    title: str
    applicability: str
    edits: tuple[TextEdit, ...] = ()


class FixRequest(NamedTuple):
    """What a fix should do, in terms no format has to interpret for the check.

    ``kind`` is ``restrict`` (replace the world with ``sources`` from the configuration:
    CIDRs, then at most one managed prefix list id, then at most one security group id),
    ``remove`` (delete the rule) or ``accept`` (write an exception
    with ``reason``, ``owner`` and ``expires``, ``YYYY-MM-DD``).
    """

    kind: str
    sources: tuple[str, ...] = ()
    reason: str = ""
    owner: str = ""
    expires: str = ""


class Finding(NamedTuple):
    """A violation: a check id, a severity, a message and where to look."""

    rule_id: str
    severity: Severity
    message: str
    permission: Permission
    catalog: tuple[CatalogHit, ...] = ()
    fingerprint: str = ""
    #: What the security group protects (set by :mod:`winportlint.context`).
    targets: tuple[TargetContext, ...] = ()
    #: The other peers of the group whose CIDRs make the world with this one's (a union exposure).
    union_with: tuple[Peer, ...] = ()
    #: Ways to end the finding, as text edits (set by :mod:`winportlint.fixes`, asked of the format).
    fixes: tuple[Fix, ...] = ()

    @property
    def location(self) -> Location:
        return self.permission.location

    def sort_key(self) -> tuple:
        p = self.permission
        return (p.location.file, p.location.line, p.location.column, self.rule_id, p.resource,
                p.protocol, p.ports.low if p.ports else -1, p.peer.text)


def fingerprint(rule_id: str, permission: Permission) -> str:
    """A hash of what a finding is, not where it is: it survives line moves."""
    p = permission
    ports = str(p.ports) if p.ports else "all"
    key = "\x1f".join((rule_id, p.location.file, p.resource, p.direction.value, p.protocol,
                       ports, p.peer.text))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class InputError(NamedTuple):
    """A file (or part of one) that could not be checked. Always reported."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(slots=True)
class FileResult:
    """What a format plugin read from one file (or from folders)."""

    permissions: list[Permission] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    #: Files read beyond those handed to the format (a module's called modules,
    #: variable files): a cached result is used only while they are unchanged.
    inputs: list[str] = field(default_factory=list)
    #: What the security groups protect, for the findings' context.
    targets: list[Target] = field(default_factory=list)
    #: Which network ACL guards which subnet.
    subnet_acls: list[SubnetAcl] = field(default_factory=list)
    #: Files this result evaluated with the values its file gives them (a CloudFormation nested
    #: stack's template, at any depth): when such a file is also checked on its own in the run, its
    #: own findings are dropped, as those of values nothing deploys it with (its errors are kept).
    children: list[str] = field(default_factory=list)
