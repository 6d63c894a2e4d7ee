"""Property tests (issue 6): random security-group rule sets, written as CloudFormation YAML and
JSON, Terraform HCL and ``terraform show -json`` plans, give the same findings in every format,
and the findings a brute-force oracle written here gives; each finding points at its CIDR.

A rule set is a model (groups, rules, CIDRs) whose meaning is known by construction: every CIDR is
built from an address and a prefix length and then spelt, every protocol spelling comes with its
meaning. The oracle works from that meaning only: it checks every port of every catalog rule
against every rule, and merges address intervals for the union of a group's CIDRs. It shares no
code with the engine's matcher (``exposure.py``) or ``netmath``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import random
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache

from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import DETERMINISTIC, lint
from winportlint import netmath
from winportlint.catalog import load_catalog
from winportlint.checks import ExposureCheck
from winportlint.plugin_manager import load_plugins

# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cidr:
    """A CIDR as written, and what it means: ``first`` address and ``prefix`` length, or
    ``prefix`` None when AWS rejects the spelling (host bits set, a prefix out of range...)."""

    text: str
    version: int
    first: int = 0
    prefix: int | None = None

    @property
    def valid(self) -> bool:
        return self.prefix is not None

    @property
    def interval(self) -> tuple[int, int]:
        bits = 32 if self.version == 4 else 128
        return self.first, self.first + (1 << (bits - self.prefix)) - 1


@dataclass(frozen=True)
class Protocol:
    """A protocol as written (an int is written as a number where the format has numbers)
    and its meaning in the JSON output's words, None when it is not a protocol."""

    spelling: str | int
    meaning: str | None


@dataclass(frozen=True)
class Group:
    #: An ``sg-...`` id of a group the file does not define (standalone rules only), or None.
    external: str | None = None
    #: Terraform: inline rules as ``ingress = [{...}]`` instead of ``ingress {...}`` blocks.
    inline_attribute: bool = False


@dataclass(frozen=True)
class Rule:
    group: int
    direction: str  # ingress | egress
    protocol: Protocol
    from_port: int | str | None  # as written: a number, a numeric string, or absent
    to_port: int | str | None
    cidrs: tuple[Cidr, ...]
    cfn_form: str = "inline"  # inline (in the group's property) | standalone (a resource of its own)
    tf_form: str = "inline"  # inline | rule (aws_security_group_rule) | vpc (aws_vpc_security_group_*_rule)


@dataclass(frozen=True)
class Style:
    """How the renderings are laid out: none of it may change a finding."""

    yaml_quote: str = "double"  # plain | single | double: strings in YAML
    yaml_flow: bool = False  # rule entries as one-line flow mappings
    decorate: bool = False  # non-ASCII text before CIDRs on their line
    json_indent: int | None = 2
    yaml_short_tags: bool = True
    get_att: bool = False  # GroupId: !GetAtt Sg.GroupId instead of !Ref Sg
    plan_order: int = 0  # inline rules in a plan: 0 sorted as terraform sorts them, else shuffled with this seed
    plan_values_only: bool = False  # a plan with planned_values and no resource_changes
    crlf: bool = False  # every file with CRLF line ends


@dataclass(frozen=True)
class RuleSet:
    groups: tuple[Group, ...]
    rules: tuple[Rule, ...]
    style: Style = Style()


# --- CIDRs: built from a meaning, then spelt --------------------------------------------------


def v4_text(address: int) -> str:
    return ".".join(str((address >> shift) & 255) for shift in (24, 16, 8, 0))


ZERO_V6 = ("::", "0::", "::0", "0000::", "0:0:0:0:0:0:0:0", "0::0", "0000:0000:0000:0000:0000:0000:0000:0000",
           "::0.0.0.0")


def v6_text(address: int, spelling: int) -> str:
    """One of several spellings AWS accepts for the same IPv6 address."""
    if address == 0:
        return ZERO_V6[spelling % len(ZERO_V6)]
    value = ipaddress.IPv6Address(address)
    kind = spelling % 4
    if kind == 0:
        return value.compressed
    if kind == 1:
        return value.exploded
    if kind == 2:
        return value.compressed.upper()
    return ":".join(group.lstrip("0") or "0" for group in value.exploded.split(":"))  # nothing compressed


def v4(first: int, prefix: int) -> Cidr:
    return Cidr(f"{v4_text(first)}/{prefix}", 4, first, prefix)


def v6(first: int, prefix: int, spelling: int = 0) -> Cidr:
    return Cidr(f"{v6_text(first, spelling)}/{prefix}", 6, first, prefix)


WORLD_SPELLINGS = [v4(0, 0)] + [v6(0, 0, spelling) for spelling in range(len(ZERO_V6))]

#: Spellings AWS (and the Terraform provider) reject: never a peer, never the world, an input error.
REJECTED = [
    Cidr("0.0.0.1/0", 4), Cidr("128.0.0.1/1", 4), Cidr("10.0.0.1/8", 4), Cidr("0.0.0.0/33", 4),
    Cidr("010.0.0.0/8", 4), Cidr("256.0.0.0/1", 4), Cidr("::1/0", 6), Cidr("8000::1/1", 6),
    Cidr("::/129", 6), Cidr(":::/0", 6), Cidr("2001:db8::1/32", 6),
]


def aligned(draw, version: int, prefix: int) -> int:
    bits = 32 if version == 4 else 128
    address = draw(st.integers(0, (1 << bits) - 1))
    return address >> (bits - prefix) << (bits - prefix) if prefix else 0


@st.composite
def networks(draw) -> Cidr:
    """A valid CIDR: a random network, a host route, a well-known half or quarter."""
    version = draw(st.sampled_from([4, 4, 6]))
    bits = 32 if version == 4 else 128
    prefix = draw(st.one_of(st.integers(1, 3), st.integers(1, bits), st.just(bits)))
    first = aligned(draw, version, prefix)
    if version == 4:
        return v4(first, prefix)
    return v6(first, prefix, draw(st.integers(0, 6)))


@st.composite
def partitions(draw, version: int) -> list[Cidr]:
    """CIDRs that together cover all of IPv4 or IPv6, each of them smaller:
    ``0.0.0.0/1`` + ``128.0.0.0/1``, or finer splits of the address space."""
    bits = 32 if version == 4 else 128
    leaves = [(0, 0)]
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(leaves) - 1))
        first, prefix = leaves.pop(index)
        leaves[index:index] = [(first, prefix + 1), (first + (1 << (bits - prefix - 1)), prefix + 1)]
    spelling = draw(st.integers(0, 6))
    return [v4(f, p) if version == 4 else v6(f, p, spelling + i) for i, (f, p) in enumerate(leaves)]


@st.composite
def cidr_pools(draw) -> tuple[list[Cidr], list[list[Cidr]]]:
    """The CIDRs an example's rules choose from (the world in its spellings, other networks,
    spellings AWS rejects), and sets of CIDRs that add up to the world (a rule may take a
    whole set, or some of its members)."""
    unions = [draw(partitions(version)) for version in (4, 6) if draw(st.booleans())]
    pool = [cidr for union in unions for cidr in union]
    pool += draw(st.lists(st.sampled_from(WORLD_SPELLINGS), max_size=2))
    pool += draw(st.lists(networks(), max_size=3))
    pool += draw(st.lists(st.sampled_from(REJECTED), max_size=1))
    return (pool or [WORLD_SPELLINGS[0]]), unions


# --- protocols and ports ------------------------------------------------------------------------

#: Spellings and meanings; the two that are no protocol sit in the middle (Hypothesis draws the
#: ends of a list more often).
PROTOCOLS = [Protocol(s, "tcp") for s in ("tcp", "TCP", "6", 6)] * 3 + \
    [Protocol(s, "udp") for s in ("udp", "17", 17)] * 2 + \
    [Protocol(s, "icmp") for s in ("icmp", "1", 1)] + \
    [Protocol("256", None), Protocol("tcpx", None)] + \
    [Protocol(s, "icmpv6") for s in ("icmpv6", "58")] + \
    [Protocol(s, str(s)) for s in (0, 2, 41, 47, 50, 132, 255)] + [Protocol("41", "41")] + \
    [Protocol(s, "all") for s in ("-1", -1, "all")] * 2 + [Protocol("tcp", "tcp")]


@lru_cache(maxsize=1)
def interesting_ports() -> list[int]:
    """Catalog port boundaries and their neighbours, and the ends of the port space."""
    ports = {0, 1, 65534, 65535}
    for rule in load_catalog().rules:
        for ports_range in rule.service_ports or ():
            ports |= {ports_range.low - 1, ports_range.low, ports_range.high, ports_range.high + 1}
    return sorted(p for p in ports if 0 <= p <= 65535)


def ports_strategy():
    port = st.one_of(st.sampled_from(interesting_ports()), st.integers(0, 65535))
    valid = st.one_of(
        st.just((None, None)), st.just((-1, -1)), st.just((0, 65535)),
        port.map(lambda p: (p, p)), port.map(lambda p: (p, p)),
        st.tuples(port, port).map(lambda ends: tuple(sorted(ends))),
    )
    invalid = st.one_of(  # AWS rejects these for tcp and udp: an input error, never a finding
        st.tuples(port, port).filter(lambda ends: ends[0] > ends[1]),
        st.tuples(st.just(None), port), st.tuples(port, st.just(None)), st.tuples(st.just(-1), port),
        st.just((0, 65536)),
    )
    # About one in twenty: Hypothesis draws the ends of a range (and the last branch) more often.
    return st.integers(0, 19).flatmap(lambda n: invalid if n == 7 else valid)


@st.composite
def spelt_ports(draw, pool):
    """A port range from the example's pool (rules of a group often share ports, which is
    what makes unions of CIDRs count), each end written as a number or a numeric string."""
    ends = draw(st.one_of(st.sampled_from(pool), st.sampled_from(pool), ports_strategy()))
    return tuple(end if end is None or not draw(st.booleans()) else str(end) for end in ends)


# --- rule sets ----------------------------------------------------------------------------------


@st.composite
def rule_sets(draw) -> RuleSet:
    groups = []
    for index in range(draw(st.sampled_from([1, 1, 2, 2, 3]))):
        external = f"sg-0e{index:015x}" if index and draw(st.integers(0, 4)) == 0 else None
        groups.append(Group(external, draw(st.integers(0, 3)) == 0))
    cidrs, unions = draw(cidr_pools())
    some_cidrs = st.lists(st.sampled_from(cidrs), min_size=1, max_size=3).map(tuple)
    if unions:
        some_cidrs = st.one_of(some_cidrs, st.sampled_from(unions).map(tuple))
    port_pool = draw(st.lists(ports_strategy(), min_size=1, max_size=3))
    protocol_pool = draw(st.lists(st.sampled_from(PROTOCOLS), min_size=1, max_size=3))
    rules = []
    for _ in range(draw(st.integers(1, 7))):
        group = draw(st.integers(0, len(groups) - 1))
        from_port, to_port = draw(spelt_ports(port_pool))
        external = groups[group].external is not None
        rules.append(Rule(
            group=group,
            direction=draw(st.sampled_from(["ingress"] * 5 + ["egress"])),
            protocol=draw(st.one_of(st.sampled_from(protocol_pool), st.sampled_from(protocol_pool),
                                    st.sampled_from(PROTOCOLS))),
            from_port=from_port, to_port=to_port,
            cidrs=draw(some_cidrs),
            cfn_form="standalone" if external else draw(st.sampled_from(["inline", "standalone"])),
            tf_form=draw(st.sampled_from(["rule", "vpc"] if external else ["inline", "inline", "rule", "vpc"])),
        ))
    style = Style(
        yaml_quote=draw(st.sampled_from(["plain", "single", "double"])),
        yaml_flow=draw(st.booleans()),
        decorate=draw(st.booleans()),
        json_indent=draw(st.sampled_from([None, 1, 2])),
        yaml_short_tags=draw(st.booleans()),
        get_att=draw(st.booleans()),
        plan_order=draw(st.integers(0, 2**16)),
        plan_values_only=draw(st.integers(0, 3)) == 0,
        crlf=draw(st.integers(0, 3)) == 0,
    )
    return RuleSet(tuple(groups), tuple(rules), style)


# --- the oracle ---------------------------------------------------------------------------------


def rule_meaning(rule: Rule) -> tuple[bool, tuple[int, int] | None]:
    """Whether AWS accepts the rule's protocol and ports, and the ports it opens (None:
    every port of the protocol). For tcp and udp, no range, -1/-1 and 0-65535 mean every
    port; other protocols have no ports (ICMP's fields are type and code)."""
    if rule.protocol.meaning is None:
        return False, None
    if rule.protocol.meaning not in ("tcp", "udp"):
        return True, None
    ends = [None if end is None else int(end) for end in (rule.from_port, rule.to_port)]
    if ends in ([None, None], [-1, -1], [0, 65535]):
        return True, None
    if None in ends or not 0 <= ends[0] <= ends[1] <= 65535:
        return False, None
    return True, (ends[0], ends[1])


@cache
def exposure_classes() -> tuple[tuple[str, tuple], ...]:
    """Each world-exposure check's id and its catalog rules (its class and direction)."""
    catalog = load_catalog()
    return tuple(
        (check.id, tuple(r for r in catalog.rules if r.exposure_class == check.exposure_class
                         and r.direction is check.direction))
        for check in load_plugins().checks if isinstance(check, ExposureCheck))


@cache
def opened(direction: str, protocol: str, ports: tuple[int, int] | None, catalog_rule) -> bool:
    """Brute force: does traffic on some port of the catalog rule pass the permission?
    A catalog rule on any port names a program, not a port: only a permission that opens
    every port of a protocol the program uses lets it through."""
    if direction != catalog_rule.direction.value:
        return False

    def passes(wanted_protocol: str, port: int | None) -> bool:
        if protocol == "all":
            return True
        if protocol != wanted_protocol:
            return False
        return ports is None if port is None else ports is None or ports[0] <= port <= ports[1]

    if catalog_rule.service_ports is None:
        if catalog_rule.protocol == "all":  # some protocol, whole
            return protocol == "all" or ports is None
        return passes(catalog_rule.protocol, None)
    return any(passes(catalog_rule.protocol, port)
               for ports_range in catalog_rule.service_ports
               for port in range(ports_range.low, ports_range.high + 1))


def covers(cidrs: list[Cidr], version: int) -> bool:
    """Whether the CIDRs' address intervals, merged, are the whole address space."""
    end = -1
    for first, last in sorted(c.interval for c in cidrs):
        if first > end + 1:
            return False
        end = max(end, last)
    return end == (1 << (32 if version == 4 else 128)) - 1


def inside(small: Cidr, large: Cidr) -> bool:
    """``small`` is strictly inside ``large`` (a CIDR that adds nothing to a union)."""
    (a, b), (c, d) = small.interval, large.interval
    return small.version == large.version and c <= a and b <= d and (a, b) != (c, d)


Key = tuple  # (check id, group, direction, protocol, ports, CIDR as written)


def oracle(rule_set: RuleSet) -> tuple[dict[Key, frozenset], bool]:
    """The findings (each with the catalog rules it opens) and whether an input error is due.

    A CIDR is the world when its prefix is 0; CIDRs of one group and direction that open the
    same catalog rule are the world together when their union is all of IPv4 or of IPv6, and
    then each of that address family is reported unless it lies inside another of them.
    """
    permissions = []  # (group, direction, protocol, ports, cidr)
    errors = False
    for rule in rule_set.rules:
        valid, ports = rule_meaning(rule)
        if not valid:
            errors = True
            continue
        errors |= not all(cidr.valid for cidr in rule.cidrs)  # AWS rejects the spelling: an input error
        permissions += [(rule.group, rule.direction, rule.protocol.meaning, ports, cidr)
                        for cidr in rule.cidrs if cidr.valid]
    found: dict[Key, set] = defaultdict(set)
    for check_id, catalog_rules in exposure_classes():
        for catalog_rule in catalog_rules:
            opening = [p for p in permissions if opened(p[1], p[2], p[3], catalog_rule)]
            for group in {p[0] for p in opening}:
                members = [p for p in opening if p[0] == group]
                reported = [p for p in members if p[4].prefix == 0]
                for version in (4, 6):
                    partial = [p for p in members if p[4].version == version and p[4].prefix > 0]
                    if covers([p[4] for p in partial], version):
                        reported += [p for p in partial if not any(inside(p[4], o[4]) for o in partial)]
                for group_, direction, protocol, ports, cidr in reported:
                    found[(check_id, group_, direction, protocol, ports, cidr.text)].add(
                        (catalog_rule.workload, catalog_rule.rule))
    return {key: frozenset(value) for key, value in found.items()}, errors


# --- renderings ---------------------------------------------------------------------------------

DECORATION = "Büro ✓ 𝄞"  # non-ASCII (one astral) before a CIDR on its line: columns count characters


def split_cidrs(rule: Rule) -> tuple[list[str], list[str]]:
    return [c.text for c in rule.cidrs if c.version == 4], [c.text for c in rule.cidrs if c.version == 6]


def cfn_entries(rule: Rule, style: Style) -> list[dict]:
    """One CloudFormation rule (IpProtocol, ports, one CidrIp or CidrIpv6) per CIDR."""
    entries = []
    for cidr in rule.cidrs:
        entry = {"IpProtocol": rule.protocol.spelling}
        if rule.from_port is not None:
            entry["FromPort"] = rule.from_port
        if rule.to_port is not None:
            entry["ToPort"] = rule.to_port
        if style.decorate:
            entry["Description"] = DECORATION
        entry["CidrIp" if cidr.version == 4 else "CidrIpv6"] = cidr.text
        entries.append(entry)
    return entries


class Ref:
    """A reference to a group the template defines."""

    def __init__(self, name: str):
        self.name = name


def cfn_template(rule_set: RuleSet) -> dict:
    resources: dict = {}
    style = rule_set.style
    for index, group in enumerate(rule_set.groups):
        if group.external:
            continue
        properties: dict = {"GroupDescription": f"group {index}"}
        for key, direction in (("SecurityGroupIngress", "ingress"), ("SecurityGroupEgress", "egress")):
            entries = [entry for rule in rule_set.rules
                       if rule.group == index and rule.direction == direction and rule.cfn_form == "inline"
                       for entry in cfn_entries(rule, style)]
            if entries:
                properties[key] = entries
        resources[f"Sg{index}"] = {"Type": "AWS::EC2::SecurityGroup", "Properties": properties}
    for number, rule in enumerate(rule_set.rules):
        if rule.cfn_form != "standalone":
            continue
        group = rule_set.groups[rule.group]
        for part, entry in enumerate(cfn_entries(rule, style)):
            kind = "AWS::EC2::SecurityGroupIngress" if rule.direction == "ingress" else "AWS::EC2::SecurityGroupEgress"
            resources[f"Rule{number}c{part}"] = {"Type": kind, "Properties": {
                "GroupId": group.external or Ref(f"Sg{rule.group}"), **entry}}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}


def cfn_json(template: dict, style: Style) -> str:
    def plain(value):
        if isinstance(value, Ref):
            return {"Fn::GetAtt": [value.name, "GroupId"]} if style.get_att else {"Ref": value.name}
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(template), indent=style.json_indent, ensure_ascii=False) + "\n"


_YAML_PLAIN = re.compile(r"[A-Za-z0-9:][A-Za-z0-9:./-]*")
_YAML_SPECIAL = re.compile(r"(?i)[-+]?[0-9._]*|true|false|yes|no|on|off|null|y|n|~|[-+]?\.inf|\.nan")


def yaml_scalar(value, style: Style, flow: bool = False) -> str:
    if isinstance(value, int):
        return str(value)
    if style.yaml_quote == "plain" and _YAML_PLAIN.fullmatch(value) and not _YAML_SPECIAL.fullmatch(value) \
            and not (flow and value.startswith(":")):  # libyaml: no plain scalar starts with ':' in flow
        return value
    if style.yaml_quote == "single":
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value, ensure_ascii=False)


def cfn_yaml(template: dict, style: Style) -> str:
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Resources:"]

    def ref(value: Ref) -> str:
        if style.yaml_short_tags:
            return f"!GetAtt {value.name}.GroupId" if style.get_att else f"!Ref {value.name}"
        return f'{{"Fn::GetAtt": [{value.name}, GroupId]}}' if style.get_att else f"{{Ref: {value.name}}}"

    def value_text(value) -> str:
        return ref(value) if isinstance(value, Ref) else yaml_scalar(value, style)

    for name, resource in template["Resources"].items():
        lines += [f"  {name}:", f"    Type: {resource['Type']}", "    Properties:"]
        for key, value in resource["Properties"].items():
            if not isinstance(value, list):
                lines.append(f"      {key}: {value_text(value)}")
                continue
            lines.append(f"      {key}:")
            for entry in value:
                if style.yaml_flow:
                    lines.append("        - {" + ", ".join(f"{k}: {yaml_scalar(v, style, flow=True)}"
                                                         for k, v in entry.items()) + "}")
                else:
                    for position, (k, v) in enumerate(entry.items()):
                        lines.append(f"        {'- ' if position == 0 else '  '}{k}: {yaml_scalar(v, style)}")
    return "\n".join(lines) + "\n"


def hcl_value(value) -> str:
    return str(value) if isinstance(value, int) else json.dumps(value)


def hcl_list(values: list[str], style: Style) -> str:
    items = ", ".join(json.dumps(v) for v in values)
    return f"[/* {DECORATION} */ {items}]" if style.decorate else f"[{items}]"


def hcl_rule_body(rule: Rule, style: Style, protocol_key: str, indent: str) -> list[str]:
    lines = [f"{indent}{protocol_key} = {hcl_value(rule.protocol.spelling)}"]
    for key, value in (("from_port", rule.from_port), ("to_port", rule.to_port)):
        if value is not None:
            lines.append(f"{indent}{key} = {hcl_value(value)}")
    return lines


def terraform_hcl(rule_set: RuleSet) -> str:
    style = rule_set.style
    out = []

    def group_id(rule: Rule) -> str:
        external = rule_set.groups[rule.group].external
        return json.dumps(external) if external else f"aws_security_group.sg{rule.group}.id"

    for index, group in enumerate(rule_set.groups):
        if group.external:
            continue
        out.append(f'resource "aws_security_group" "sg{index}" {{\n  name = "sg{index}"')
        for direction in ("ingress", "egress"):
            inline = [r for r in rule_set.rules if r.group == index and r.direction == direction
                      and r.tf_form == "inline"]
            if group.inline_attribute and inline:
                out.append(f"  {direction} = [")
            for rule in inline:
                ipv4, ipv6 = split_cidrs(rule)
                indent = "      " if group.inline_attribute else "    "
                body = hcl_rule_body(rule, style, "protocol", indent)
                if ipv4:
                    body.append(f"{indent}cidr_blocks = {hcl_list(ipv4, style)}")
                if ipv6:
                    body.append(f"{indent}ipv6_cidr_blocks = {hcl_list(ipv6, style)}")
                if group.inline_attribute:
                    out += ["    {", *body, "    },"]
                else:
                    out += [f"  {direction} {{", *body, "  }"]
            if group.inline_attribute and inline:
                out.append("  ]")
        out.append("}")
    for number, rule in enumerate(rule_set.rules):
        if rule.tf_form == "rule":
            ipv4, ipv6 = split_cidrs(rule)
            out += [f'resource "aws_security_group_rule" "r{number}" {{', f'  type = "{rule.direction}"',
                    f"  security_group_id = {group_id(rule)}", *hcl_rule_body(rule, style, "protocol", "  ")]
            if ipv4:
                out.append(f"  cidr_blocks = {hcl_list(ipv4, style)}")
            if ipv6:
                out.append(f"  ipv6_cidr_blocks = {hcl_list(ipv6, style)}")
            out.append("}")
        elif rule.tf_form == "vpc":
            for part, cidr in enumerate(rule.cidrs):  # one CIDR a resource: a rule of several is several
                key = "cidr_ipv4" if cidr.version == 4 else "cidr_ipv6"
                decoration = f"/* {DECORATION} */ " if style.decorate else ""
                out += [f'resource "aws_vpc_security_group_{rule.direction}_rule" "r{number}_{part}" {{',
                        f"  security_group_id = {group_id(rule)}", *hcl_rule_body(rule, style, "ip_protocol", "  "),
                        f"  {key} = {decoration}{json.dumps(cidr.text)}", "}"]
    return "\n".join(out) + "\n"


def terraform_json(rule_set: RuleSet) -> str:
    """The rule set in Terraform's JSON syntax (``.tf.json``): nested blocks are lists of objects."""
    style = rule_set.style
    resources: dict[str, dict] = defaultdict(dict)

    def body(rule: Rule, protocol_key: str) -> dict:
        fields = {protocol_key: rule.protocol.spelling}
        fields.update({key: value for key, value in (("from_port", rule.from_port), ("to_port", rule.to_port))
                       if value is not None})
        return fields

    def group_id(rule: Rule) -> str:
        return rule_set.groups[rule.group].external or f"${{aws_security_group.sg{rule.group}.id}}"

    for index, group in enumerate(rule_set.groups):
        if group.external:
            continue
        values: dict = {"name": f"sg{index}"}
        for direction in ("ingress", "egress"):
            inline = []
            for rule in rule_set.rules:
                if rule.group == index and rule.direction == direction and rule.tf_form == "inline":
                    ipv4, ipv6 = split_cidrs(rule)
                    inline.append({**body(rule, "protocol"), **({"cidr_blocks": ipv4} if ipv4 else {}),
                                   **({"ipv6_cidr_blocks": ipv6} if ipv6 else {})})
            if inline:
                values[direction] = inline
        resources["aws_security_group"][f"sg{index}"] = values
    for number, rule in enumerate(rule_set.rules):
        if rule.tf_form == "rule":
            ipv4, ipv6 = split_cidrs(rule)
            resources["aws_security_group_rule"][f"r{number}"] = {
                "type": rule.direction, "security_group_id": group_id(rule), **body(rule, "protocol"),
                **({"cidr_blocks": ipv4} if ipv4 else {}), **({"ipv6_cidr_blocks": ipv6} if ipv6 else {})}
        elif rule.tf_form == "vpc":
            for part, cidr in enumerate(rule.cidrs):
                resources[f"aws_vpc_security_group_{rule.direction}_rule"][f"r{number}_{part}"] = {
                    "security_group_id": group_id(rule), **body(rule, "ip_protocol"),
                    "cidr_ipv4" if cidr.version == 4 else "cidr_ipv6": cidr.text}
    return json.dumps({"resource": resources}, indent=style.json_indent, ensure_ascii=False) + "\n"


def provider_protocol(spelling: str | int) -> str:
    """The protocol as the AWS provider stores it for aws_security_group and
    aws_security_group_rule (what a plan shows): names for numbers that have one, -1 for all."""
    text = str(spelling).lower()
    if text in ("-1", "all"):
        return "-1"
    return {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}.get(text, text)


def plan_port(value: int | str | None) -> int | None:
    """Ports are numbers in a plan: the provider's schema converts ``"3389"``. An absent port
    is ``null`` (the provider requires ports in aws_security_group's rules and would not
    plan without them; the reader must still take null as absent, as it takes no attribute)."""
    return None if value is None else int(value)


def group_sg_id(index: int) -> str:
    return f"sg-0a{index:015x}"


def terraform_plan(rule_set: RuleSet) -> str:
    """What ``terraform show -json`` writes for the rule set (checked against terraform 1.x
    with the AWS provider: see the shapes below). The groups exist already (an update), so
    their ids are known and standalone rules name them: in a plan that creates a group its id
    is unknown, and its standalone rules could not be related to it (nor their CIDRs' union)."""
    style = rule_set.style
    order = random.Random(style.plan_order)
    resources = []  # (address, type, values)
    for index, group in enumerate(rule_set.groups):
        if group.external:
            continue
        values = {"description": "Managed by Terraform", "id": group_sg_id(index), "name": f"sg{index}",
                  "revoke_rules_on_delete": False, "tags": None, "vpc_id": "vpc-0123456789abcdef0"}
        for direction in ("ingress", "egress"):
            items = []
            for rule in rule_set.rules:
                if rule.group == index and rule.direction == direction and rule.tf_form == "inline":
                    ipv4, ipv6 = split_cidrs(rule)
                    items.append({"cidr_blocks": ipv4, "description": "", "from_port": plan_port(rule.from_port),
                                  "ipv6_cidr_blocks": ipv6, "prefix_list_ids": [],
                                  "protocol": provider_protocol(rule.protocol.spelling), "security_groups": [],
                                  "self": False, "to_port": plan_port(rule.to_port)})
            # A set: terraform writes its elements in an order of its own, not the configuration's
            # (seen: sorted as their JSON texts would be); a plan order other than 0 shuffles them.
            if style.plan_order:
                order.shuffle(items)
            else:
                items.sort(key=lambda item: json.dumps(item, sort_keys=True))
            values[direction] = items
        resources.append((f"aws_security_group.sg{index}", "aws_security_group", values))
    for number, rule in enumerate(rule_set.rules):
        group = rule_set.groups[rule.group]
        group_id = group.external or group_sg_id(rule.group)
        if rule.tf_form == "rule":
            ipv4, ipv6 = split_cidrs(rule)
            resources.append((f"aws_security_group_rule.r{number}", "aws_security_group_rule", {
                "cidr_blocks": ipv4 or None, "description": None, "from_port": plan_port(rule.from_port),
                "ipv6_cidr_blocks": ipv6 or None, "prefix_list_ids": None,
                "protocol": provider_protocol(rule.protocol.spelling), "security_group_id": group_id,
                "self": False, "timeouts": None, "to_port": plan_port(rule.to_port), "type": rule.direction}))
        elif rule.tf_form == "vpc":
            kind = f"aws_vpc_security_group_{rule.direction}_rule"
            for part, cidr in enumerate(rule.cidrs):
                resources.append((f"{kind}.r{number}_{part}", kind, {
                    "cidr_ipv4": cidr.text if cidr.version == 4 else None,
                    "cidr_ipv6": cidr.text if cidr.version == 6 else None,
                    "description": None, "from_port": plan_port(rule.from_port),
                    "ip_protocol": str(rule.protocol.spelling),  # kept as written
                    "prefix_list_id": None, "referenced_security_group_id": None, "security_group_id": group_id,
                    "tags": None, "tags_all": {}, "to_port": plan_port(rule.to_port)}))
    planned = [{"address": address, "mode": "managed", "type": kind, "name": address.split(".")[1],
                "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 1,
                "values": values, "sensitive_values": {}} for address, kind, values in resources]
    plan = {"format_version": "1.2", "terraform_version": "1.9.8",
            "planned_values": {"root_module": {"resources": planned}}}
    if not style.plan_values_only:
        plan["resource_changes"] = [
            {"address": address, "mode": "managed", "type": kind, "name": address.split(".")[1],
             "provider_name": "registry.terraform.io/hashicorp/aws",
             "change": {"actions": ["update" if kind == "aws_security_group" else "create"],
                        "before": None, "after": values,
                        "after_unknown": {"arn": True, "id": kind != "aws_security_group",
                                          "security_group_rule_id": kind != "aws_security_group"}}}
            for address, kind, values in resources]
    plan["configuration"] = {"root_module": {"resources": [
        {"address": address, "mode": "managed", "type": kind, "name": address.split(".")[1]}
        for address, kind, _ in resources]}}
    return json.dumps(plan, indent=style.json_indent or 1) + "\n"


# --- running the engine on every rendering -----------------------------------------------------


@dataclass
class Rendering:
    name: str
    path: str  # what is linted
    groups: dict[str, int]  # the engine's group key -> the model's group


def renderings(rule_set: RuleSet, folder: str) -> list[Rendering]:
    """Every rendering of the rule set, written below ``folder``.

    Normalised: a group is a logical id in CloudFormation and ``<module folder>:<address>``
    in Terraform; both map to the model's group (an external group to its index as well).
    """
    def write(relative: str, text: str) -> str:
        path = os.path.join(folder, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\r\n" if rule_set.style.crlf else "\n") as handle:
            handle.write(text)
        return path

    template = cfn_template(rule_set)
    cfn_groups = {group.external or f"Sg{index}": index for index, group in enumerate(rule_set.groups)}
    out = [Rendering("cloudformation-yaml", write("cfn/template.yaml", cfn_yaml(template, rule_set.style)), cfn_groups),
           Rendering("cloudformation-json", write("cfn/template.json", cfn_json(template, rule_set.style)), cfn_groups)]

    def tf_groups(module: str) -> dict[str, int]:
        prefix = os.path.normpath(os.path.join(folder, module)) + ":"
        return {prefix + (group.external or f"aws_security_group.sg{index}"): index
                for index, group in enumerate(rule_set.groups)}

    plan = terraform_plan(rule_set)
    out += [
        Rendering("terraform-hcl", write("tf/main.tf", terraform_hcl(rule_set)), tf_groups("tf")),
        Rendering("terraform-json", write("tfjson/main.tf.json", terraform_json(rule_set)), tf_groups("tfjson")),
        # A plan on its own: findings point at the line naming the resource.
        Rendering("terraform-plan", write("plan/plan.json", plan), tf_groups("plan")),
        # The same plan in its configuration folder: findings point at the .tf source.
        Rendering("terraform-plan-beside-config", write("tf/plan.json", plan), tf_groups("tf")),
    ]
    return out


def engine_findings(result, rendering: Rendering) -> dict[Key, frozenset]:
    """The engine's findings as the oracle's keys. Findings that differ only in their
    location are one: a rendering decides how many places spell a rule (CloudFormation
    writes a rule per CIDR, Terraform one list of CIDRs), and the engine keeps one
    finding per place."""
    found: dict[Key, set] = defaultdict(set)
    for finding in result.findings:
        p = finding.permission
        key = (finding.rule_id, rendering.groups.get(p.group, p.group), p.direction.value, p.protocol,
               (p.ports.low, p.ports.high) if p.ports else None, p.peer.text)
        found[key] |= {(hit.workload, hit.rule) for hit in finding.catalog}
    return {key: frozenset(value) for key, value in found.items()}


def lint_all(rule_set: RuleSet, folder: str) -> list[tuple[Rendering, object]]:
    return [(rendering, lint([rendering.path], select=["WPL"])) for rendering in renderings(rule_set, folder)]


def describe(rendering: Rendering) -> str:
    with open(rendering.path, encoding="utf-8") as handle:
        return f"{rendering.name} ({rendering.path}):\n{handle.read()}"


# --- the properties -----------------------------------------------------------------------------

HALVES_RDP = RuleSet(
    groups=(Group(), Group()),
    rules=(
        Rule(0, "ingress", Protocol("tcp", "tcp"), 3389, 3389, (v4(0, 1),)),
        Rule(0, "ingress", Protocol(6, "tcp"), "3380", 3390, (v4(1 << 31, 1), v6(0, 0, 3)), "standalone", "vpc"),
        Rule(1, "ingress", Protocol("-1", "all"), None, None, (v6(0, 1), v6(1 << 127, 1, 2)), "inline", "rule"),
    ),
)


#: Regression: an invalid rule of a Terraform group hid the group's later rules (an error for the
#: whole aws_security_group, its other rules unchecked).
INVALID_RULE_FIRST = RuleSet(
    groups=(Group(inline_attribute=True),),
    rules=(Rule(0, "ingress", Protocol("tcp", "tcp"), 0, 65536, (v4(0, 0),)),
           Rule(0, "ingress", Protocol("tcp", "tcp"), None, None, (v4(0, 0),))),
)

#: Regression: ::/1 beside 0.0.0.0/1 and 128.0.0.0/1 was reported as part of their union (the
#: CIDRs needed for a union were chosen among both address families).
OTHER_FAMILY_BESIDE_A_UNION = RuleSet(
    groups=(Group(),),
    rules=(Rule(0, "ingress", Protocol("tcp", "tcp"), None, None, (v4(0, 1), v4(1 << 31, 1), v6(0, 1))),),
)


#: Regression: in a plan beside its configuration, an inline rule matched to another rule's block
#: took that block's written ``from_port`` for its own: ``null`` read as unknown, not absent.
PLAN_RULE_READ_WITH_ANOTHER_BLOCK = RuleSet(
    groups=(Group(),),
    rules=(Rule(0, "ingress", Protocol("tcp", "tcp"), None, 0, (v4(0, 0),)),
           Rule(0, "ingress", Protocol("tcp", "tcp"), -1, -1, (v4(0, 0),))),
)


#: Regression: in a .tf.json written on one line, every resource and inline rule was read with the
#: line's first block (its attributes and positions): findings pointed at the line's start.
ONE_LINE_TF_JSON = RuleSet(
    groups=(Group(),),
    rules=(Rule(0, "ingress", Protocol("tcp", "tcp"), 3389, 3389, (v4(0, 0),)),
           Rule(0, "ingress", Protocol("tcp", "tcp"), None, None, (v4(0, 1),)),
           Rule(0, "ingress", Protocol("tcp", "tcp"), 445, 445, (v6(0, 0),), "inline", "rule")),
    style=Style(json_indent=None),
)


@settings(max_examples=250, **DETERMINISTIC)
@given(rule_sets())
@example(HALVES_RDP)
@example(INVALID_RULE_FIRST)
@example(OTHER_FAMILY_BESIDE_A_UNION)
@example(PLAN_RULE_READ_WITH_ANOTHER_BLOCK)
def test_every_format_gives_the_oracles_findings(rule_set):
    expected, errors_due = oracle(rule_set)
    with tempfile.TemporaryDirectory(prefix="winportlint-properties-") as folder:
        resources = defaultdict(list)
        for rendering, result in lint_all(rule_set, folder):
            where = describe(rendering)
            assert bool(result.errors) == errors_due, f"{result.errors}\n{where}"
            assert engine_findings(result, rendering) == expected, where
            # Within a language, findings also name the same resources (the logical id, the address);
            # as a set: how many places spell a rule is the rendering's (a plan has none of its own).
            resources[rendering.name.split("-")[0]].append(sorted({
                (f.rule_id, f.permission.resource, f.permission.protocol, str(f.permission.ports),
                 f.permission.peer.text) for f in result.findings}))
        for language, rows in resources.items():
            assert all(other == rows[0] for other in rows), f"{language}: {rows}"


def text_at(path: str, line: int, column: int) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.read().split("\n")
    return lines[line - 1][column - 1:]


#: Regression: a comment before an attribute's value (``cidr_ipv4 = /* ... */ "0.0.0.0/0"``) was
#: taken for the value: the finding pointed at the attribute's name.
COMMENT_BEFORE_THE_VALUE = RuleSet(
    groups=(Group(),),
    rules=(Rule(0, "ingress", Protocol("tcp", "tcp"), 3389, 3389, (v4(0, 0),), "inline", "vpc"),),
    style=Style(decorate=True),
)

#: Regression: a plan beside its configuration matched its inline rules to the blocks by
#: position, but terraform orders them its own way: findings pointed at other blocks.
PLAN_ORDER_IS_NOT_THE_CONFIGURATIONS = RuleSet(
    groups=(Group(),),
    rules=(Rule(0, "ingress", Protocol("tcp", "tcp"), 3389, 3389, (v4(0, 0),)),
           Rule(0, "ingress", Protocol("udp", "udp"), 137, 137, (v6(0, 0),)),
           Rule(0, "ingress", Protocol("tcp", "tcp"), 445, 445, (v4(0, 1), v4(1 << 31, 1)))),
    style=Style(plan_order=1),
)


@settings(max_examples=120, **DETERMINISTIC)
@given(rule_sets())
@example(HALVES_RDP)
@example(COMMENT_BEFORE_THE_VALUE)
@example(PLAN_ORDER_IS_NOT_THE_CONFIGURATIONS)
@example(ONE_LINE_TF_JSON)
def test_each_finding_points_at_its_cidr(rule_set):
    """The line and column of a finding are where its CIDR is written (after the opening
    quote, if any). A plan names no source: there, they point at the line naming the resource."""
    with tempfile.TemporaryDirectory(prefix="winportlint-properties-") as folder:
        for rendering, result in lint_all(rule_set, folder):
            for finding in result.findings:
                location, permission = finding.location, finding.permission
                text = text_at(location.file, location.line, location.column)
                if rendering.name == "terraform-plan":
                    assert location.file == rendering.path
                    assert f'"address": {json.dumps(permission.resource)}' in \
                        text_at(location.file, location.line, 1), describe(rendering)
                    continue
                if text[:1] in ("'", '"'):
                    text = text[1:]
                assert text.startswith(permission.peer.text), (
                    f"{finding.rule_id} {permission.resource} {permission.peer.text} at "
                    f"{location.line}:{location.column}: {text!r}\n{describe(rendering)}")


# --- netmath against the construction (cheap: many examples) ------------------------------------


@settings(max_examples=600, **DETERMINISTIC)
@given(st.lists(st.one_of(networks(), st.sampled_from(WORLD_SPELLINGS + REJECTED)), max_size=6),
       st.sampled_from([4, 6]).flatmap(partitions))
def test_netmath_reads_cidrs_as_they_were_built(cidrs, partition):
    for cidr in [*cidrs, *partition]:
        peer = netmath.parse_peer(cidr.text)
        assert (peer.kind == "cidr") == cidr.valid, cidr
        if cidr.valid:
            assert (int(peer.network.network_address), peer.network.prefixlen) == (cidr.first, cidr.prefix)
            assert netmath.is_world(peer.network) == (cidr.prefix == 0)
    valid = [c for c in [*cidrs, *partition] if c.valid]
    networks_ = [netmath.parse_peer(c.text).network for c in valid]
    assert netmath.covers_world(networks_) == (covers([c for c in valid if c.version == 4], 4)
                                               or covers([c for c in valid if c.version == 6], 6))
    assert netmath.covers_world(netmath.parse_peer(c.text).network for c in partition)
