"""Rules of known registry modules that were not downloaded.

When a configuration calls ``terraform-aws-modules/security-group/aws`` and
the module is not installed (no ``.terraform/modules/modules.json`` entry),
tfparse cannot see the module's resources; it only returns the evaluated
inputs of the ``module`` block. :func:`module_rules` turns those inputs into
format-neutral :class:`ModuleRule` records by replaying the module's own
logic. The module's data (its named ``rules`` table, the ``auto_groups`` that
its ``//modules/<name>`` submodules add, and the v6 preset catalog) is kept in
``terraform-aws-security-group.yaml`` next to this file, with the repository,
commit and path it was taken from.

Semantics replayed (v4.x/v5.x input shape, the shape of the table's source)
--------------------------------------------------------------------------
Root module (``terraform-aws-modules/security-group/aws``):

* ``<dir>_rules`` (named rules) each make one rule with every CIDR of
  ``<dir>_cidr_blocks`` (IPv4) and of ``<dir>_ipv6_cidr_blocks`` (IPv6).
* ``computed_<dir>_rules`` the same, but the module creates only the first
  ``number_of_computed_<dir>_rules`` of them (``count`` in ``main.tf``;
  default 0, so without that number nothing is created).
* ``<dir>_with_cidr_blocks``: one rule per map. Ports and protocol are the
  map's ``from_port``/``to_port``/``protocol``, else those of its named
  ``rule``; the CIDRs are ``split(",", cidr_blocks)``, and a map without
  ``cidr_blocks`` falls back to ``join(",", <dir>_cidr_blocks)``.
  ``<dir>_with_ipv6_cidr_blocks`` likewise with ``ipv6_cidr_blocks`` and the
  ``<dir>_ipv6_cidr_blocks`` fallback. The ``computed_`` variants are capped by
  their ``number_of_computed_...`` input the same way.
* ``<dir>`` is ``ingress`` then ``egress``. Defaults: ``ingress_cidr_blocks``
  and ``ingress_ipv6_cidr_blocks`` ``[]``; ``egress_cidr_blocks``
  ``["0.0.0.0/0"]``, ``egress_ipv6_cidr_blocks`` ``["::/0"]``.
* ``create = false`` (and, since v4.9, ``putin_khuylo = false``) creates
  nothing. ``create_sg = false`` still creates every rule (on
  ``security_group_id``), so it changes nothing here.
* ``*_with_self``, ``*_with_source_security_group_id`` and
  ``*_with_prefix_list_ids`` rules have no CIDR and are not returned.
* A named rule missing from the table (also inside a map's ``rule``, which
  ``lookup()`` evaluates even when explicit ports are given) makes Terraform
  fail: :class:`UnknownModuleRule`.

Submodules (``//modules/<group>``) call the root with
``<dir>_rules = sort(compact(distinct(concat(auto_<dir>_rules, <dir>_rules))))``
(likewise ``computed_<dir>_rules``, with ``number_of_computed_<dir>_rules`` +
``auto_number_of_computed_<dir>_rules``), where ``auto_ingress_rules``
defaults to the group's rules and ``auto_egress_rules`` to ``["all-all"]``;
both can be overridden. Other inputs and defaults are the root's, so a
submodule opens nothing to ingress CIDRs unless ``ingress_cidr_blocks`` (or
the IPv6 list) is set, and opens all egress to the world by default.

v6 (map-of-object inputs, docs/UPGRADE-6.0.md), recognised by its input
shape (``ingress_rules``/``egress_rules`` maps, or a submodule's
``ingress_cidr_ipv4``/``ingress_cidr_ipv6``/... maps) or, for a call with
neither, by a ``version`` whose first number is 6:

* root: one rule per ``<dir>_rules`` entry with its ``cidr_ipv4`` /
  ``cidr_ipv6``; ``ip_protocol`` defaults to ``"tcp"`` and a missing
  ``from_port``/``to_port`` takes the other one's value. No implicit egress.
* submodule: ``preset_ingress_rules`` (default: the catalog entry) crossed
  with the values of ``ingress_cidr_ipv4`` and ``ingress_cidr_ipv6``; the
  keys ``"<preset>/<key>"`` of the IPv4, IPv6, prefix-list and referenced-SG
  products and then the user's ``ingress_rules`` are ``merge()``d, so a later
  map overrides an earlier entry with the same key, as in the module.
  ``egress_rules`` as in the root. Output is in key order.

Lenient where Terraform is strict (the rule is reported as written)
-------------------------------------------------------------------
* ``cidr_blocks`` given as a list of strings instead of a comma-separated
  string (Terraform rejects it against ``list(map(string))``; intent is
  clear), and a list input such as ``ingress_cidr_blocks`` given as a bare
  string, are accepted.
* Pieces of a comma-separated CIDR string are stripped of blanks, and empty
  pieces are dropped.
* A map with neither ``rule`` nor its own ports/protocol gets ``None`` there
  (the module's ``"_"`` fallback yields ``""``, which the provider rejects).

Unknown values (``null`` from tfparse) and ``ModuleRule.input``
---------------------------------------------------------------
``None`` in a ModuleRule means "not known": an unknown CIDR (a null list, a
null element, a null ``cidr_blocks``, or a value tfparse left as a reference
object) gives ``cidr=None``; unknown ports/protocol give ``None``. An unknown
rule list or map (e.g. ``ingress_rules = var.x`` without a default) gives
one rule with ``None`` protocol/ports per known CIDR; an unknown
``number_of_computed_*`` creates every listed entry; unknown ``create``
counts as true. ``input`` names the module input the CIDR came from:
``ingress_cidr_blocks`` (also for the map fallback), ``ingress_with_cidr_blocks[1].cidr_blocks``,
``ingress_rules["name"].cidr_ipv4`` or ``ingress_cidr_ipv4["key"]`` (v6). The
name is reported even when the value is the input's default (not written
in the file).

Not modelled: releases before v3.6 (where rules with a source security group
or ``self`` also took ``<dir>_ipv6_cidr_blocks``), and other releases' rule
tables (a name added or renamed in another release is judged by this table).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from winportlint.excerpt import excerpt

DATA_FILE = "terraform-aws-security-group.yaml"

__all__ = [
    "ModuleRule",
    "UnknownModuleRule",
    "UnknownSubmodule",
    "data_sources",
    "is_known_module",
    "module_rules",
]


@dataclass(frozen=True)
class ModuleRule:
    """One CIDR rule that a module call creates."""

    direction: str  # "ingress" | "egress"
    #: As the module passes it to AWS: "tcp", "udp", "icmp", "-1", "6", 6, ...; None if unknown.
    protocol: object
    #: int / numeric string / None (unknown).
    from_port: object
    to_port: object
    #: One CIDR (IPv4 or IPv6); None = unknown.
    cidr: str | None
    #: The module input that supplied the CIDR, e.g. "ingress_with_cidr_blocks[1].cidr_blocks".
    input: str
    #: The module's rule name (e.g. "rdp-tcp") when the rule came from a named rule.
    rule_name: str | None


class UnknownModuleRule(ValueError):
    """A rule name the module's table does not have; Terraform would fail on it."""

    def __init__(self, name: str, message: str | None = None):
        self.name = name
        super().__init__(message or
                         f"rule {excerpt(name)} is not in the rules table of terraform-aws-modules/security-group")


class UnknownSubmodule(UnknownModuleRule):
    """``//modules/<name>`` that the module (in the input shape used) does not have."""

    def __init__(self, name: str, shape: str):
        super().__init__(name, f"terraform-aws-modules/security-group has no submodule "
                               f"modules/{excerpt(name, quote=False)} ({shape} inputs)")


# ---------------------------------------------------------------- data


@lru_cache(maxsize=None)
def _data() -> dict:
    text = files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    from winportlint.catalog import parse_yaml

    return parse_yaml(text)


def data_sources() -> dict:
    """Where the module data came from (repository, commit, path, version)."""
    return copy.deepcopy(_data()["sources"])


# ---------------------------------------------------------------- source


_REGISTRY = re.compile(
    r"^(?:(?:registry\.terraform\.io|registry\.opentofu\.org)/)?"
    r"terraform-aws-modules/security-group/aws(?://(?P<sub>[^?]*))?/?$"
)
_GITHUB = re.compile(
    r"^(?:git::)?(?:(?:https|ssh)://)?(?:git@)?github\.com[/:]"
    r"terraform-aws-modules/terraform-aws-security-group(?:\.git)?(?://(?P<sub>[^?]*))?/?(?:\?.*)?$"
)
_SUBMODULE = re.compile(r"^modules/(?P<name>[a-z0-9][a-z0-9_.-]*)/?$")


def _parse_source(source: object) -> tuple[bool, str | None]:
    """(is this module, submodule name or None for the root)."""
    if not isinstance(source, str):
        return False, None
    text = source.strip().lower()
    match = _REGISTRY.match(text) or _GITHUB.match(text)
    if not match:
        return False, None
    sub = (match.group("sub") or "").strip("/")
    if not sub:
        return True, None
    named = _SUBMODULE.match(sub)
    return (True, named.group("name")) if named else (False, None)


def is_known_module(source: str) -> bool:
    """Whether ``source`` is ``terraform-aws-modules/security-group/aws`` (the
    public registry address, optionally with its host, or the GitHub
    repository), its root or one of its ``//modules/<name>`` submodules."""
    known, sub = _parse_source(source)
    if not known:
        return False
    data = _data()
    return sub is None or sub in data["auto_groups"] or sub in data["v6_presets"]


# ---------------------------------------------------------------- helpers

_MISSING = object()


def _is_false(value: object) -> bool:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, str):
        return value.strip().lower() in ("false", "0")
    return False


def _value(value: object) -> object:
    """A port or protocol as written; ``""``/null/references are unknown (None)."""
    if value is None or value == "" or isinstance(value, (Mapping, list, tuple)):
        return None
    return value


def _split(text: str) -> list[str]:
    return [piece.strip() for piece in text.split(",") if piece.strip()]


def _cidrs(value: object) -> list[str | None]:
    """CIDRs of a comma-separated string or a list of strings; None = unknown."""
    if isinstance(value, str):
        return _split(value)
    if isinstance(value, (list, tuple)):
        found: list[str | None] = []
        for item in value:
            if isinstance(item, str):
                found.extend(_split(item))
            else:
                found.append(None)
        return found
    return [None]


def _items(value: object) -> list:
    """A list input; None (unknown) is one unknown item, a lone map one item."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if value is None or isinstance(value, (str, Mapping)):
        return [value]
    return [None]


def _count(entry: Mapping, key: str, extra: object = 0) -> int | None:
    """A ``number_of_computed_*`` input (+ the submodule's ``auto_`` one); None if unknown."""
    total = 0
    for value in (entry.get(key, 0), extra):
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            total += int(value)
            continue
        if isinstance(value, str):
            try:
                total += int(value.strip())
                continue
            except ValueError:
                pass
        return None
    return total


def _capped(items: list, count: int | None) -> list:
    return items if count is None else items[: max(count, 0)]


# ---------------------------------------------------------------- v4/v5


class _V5:
    def __init__(self, entry: Mapping, sub: str | None):
        data = _data()
        self.entry, self.sub = entry, sub
        self.table = data["rules"]
        self.defaults = data["v5_defaults"]
        if sub is not None:
            if sub not in data["auto_groups"]:
                raise UnknownSubmodule(sub, "v4/v5")
            self.group = data["auto_groups"][sub]
        self.out: list[ModuleRule] = []

    def run(self) -> list[ModuleRule]:
        entry = self.entry
        if _is_false(entry.get("create", True)) or _is_false(entry.get("putin_khuylo", True)):
            return []
        for direction in ("ingress", "egress"):
            v4_key, v6_key = f"{direction}_cidr_blocks", f"{direction}_ipv6_cidr_blocks"
            v4, v6 = self._list_cidrs(v4_key), self._list_cidrs(v6_key)
            sources = [(v4_key, v4), (v6_key, v6)]

            for name in self._names(direction, computed=False):
                self._named(direction, name, sources)
            computed = self._names(direction, computed=True)
            auto_number = entry.get(f"auto_number_of_computed_{direction}_rules", 0) if self.sub else 0
            for name in _capped(computed, _count(entry, f"number_of_computed_{direction}_rules", auto_number)):
                self._named(direction, name, sources)

            for key, cidr_key, fallback_key, fallback in (
                (f"{direction}_with_cidr_blocks", "cidr_blocks", v4_key, v4),
                (f"{direction}_with_ipv6_cidr_blocks", "ipv6_cidr_blocks", v6_key, v6),
            ):
                for prefix in ("", "computed_"):
                    value = entry.get(prefix + key, [])
                    count = _count(entry, f"number_of_computed_{key}") if prefix else None
                    if value is None:  # the whole list is unknown
                        if count != 0:
                            self.out.append(ModuleRule(direction, None, None, None, None, prefix + key, None))
                        continue
                    items = _capped(_items(value), count)
                    for index, item in enumerate(items):
                        self._mapped(direction, item, f"{prefix}{key}[{index}]", cidr_key, fallback_key, fallback)
        return self.out

    def _list_cidrs(self, key: str) -> list[str | None]:
        value = self.entry.get(key, _MISSING)
        return list(self.defaults[key]) if value is _MISSING else _cidrs(value)

    def _names(self, direction: str, computed: bool) -> list[str | None]:
        """Rule names the root receives; None stands for an unknown name."""
        key = f"computed_{direction}_rules" if computed else f"{direction}_rules"
        names = _items(self.entry.get(key, []))
        if self.sub is None:
            return [n if isinstance(n, str) else None for n in names]
        auto_default = [] if computed else self.group.get(f"{direction}_rules", [])
        auto = _items(self.entry.get("auto_" + key, auto_default))
        every = auto + names
        known = sorted({n for n in every if isinstance(n, str) and n})
        return known + ([None] if any(not isinstance(n, str) for n in every) else [])

    def _rule(self, name: object) -> list | None:
        if name is None:
            return None
        if name not in self.table:
            raise UnknownModuleRule(str(name))
        return self.table[name]

    def _named(self, direction: str, name: str | None, sources) -> None:
        spec = self._rule(name)
        protocol, low, high = (spec[2], spec[0], spec[1]) if spec else (None, None, None)
        for input_name, cidrs in sources:
            for cidr in cidrs:
                self.out.append(ModuleRule(direction, protocol, low, high, cidr, input_name, name))

    def _mapped(self, direction, item, where, cidr_key, fallback_key, fallback) -> None:
        if not isinstance(item, Mapping):
            # Unknown map (or list): nothing is known but that a rule may exist.
            self.out.append(ModuleRule(direction, None, None, None, None, where, None))
            return
        name = item.get("rule", "_")
        if not isinstance(name, str):
            name = None  # unknown (null, or a reference tfparse could not resolve)
        spec = None if name == "_" else self._rule(name)

        def field(key: str, index: int) -> object:
            if key in item:
                return _value(item[key])
            return _value(spec[index]) if spec else None

        protocol, low, high = field("protocol", 2), field("from_port", 0), field("to_port", 1)
        rule_name = name if spec else None
        if cidr_key in item:
            cidrs, input_name = _cidrs(item[cidr_key]), f"{where}.{cidr_key}"
        else:
            cidrs, input_name = fallback, fallback_key
        for cidr in cidrs:
            self.out.append(ModuleRule(direction, protocol, low, high, cidr, input_name, rule_name))


# ---------------------------------------------------------------- v6

_V6_SUB_INPUTS = ("ingress_cidr_ipv4", "ingress_cidr_ipv6", "ingress_prefix_list_id",
                  "ingress_referenced_security_group_id", "preset_ingress_rules")
_V5_ONLY_INPUTS = ("ingress_cidr_blocks", "ingress_ipv6_cidr_blocks", "egress_cidr_blocks",
                   "egress_ipv6_cidr_blocks", "ingress_with_cidr_blocks", "ingress_with_ipv6_cidr_blocks",
                   "egress_with_cidr_blocks", "egress_with_ipv6_cidr_blocks", "computed_ingress_rules",
                   "computed_egress_rules")


def _is_v6(entry: Mapping, sub: str | None) -> bool:
    if any(isinstance(entry.get(key), Mapping) for key in ("ingress_rules", "egress_rules")):
        return True
    if sub is not None and any(key in entry for key in _V6_SUB_INPUTS):
        return True
    if any(key in entry for key in _V5_ONLY_INPUTS) or any(
        isinstance(entry.get(key), (list, tuple)) for key in ("ingress_rules", "egress_rules")
    ):
        return False
    version = entry.get("version")
    major = re.search(r"\d+", version) if isinstance(version, str) else None
    return bool(major) and int(major.group()) == 6


def _v6_fields(obj: Mapping) -> tuple[object, object, object]:
    """(protocol, from_port, to_port) of a v6 rule object: ``ip_protocol``
    defaults to "tcp", a missing port takes the other one's value."""
    protocol = _value(obj.get("ip_protocol", "tcp"))
    low = _value(obj["from_port"]) if "from_port" in obj else _value(obj.get("to_port"))
    high = _value(obj["to_port"]) if "to_port" in obj else _value(obj.get("from_port"))
    return protocol, low, high


def _v6_rule(direction: str, obj: object, where: str) -> list[ModuleRule]:
    """A v6 ``ingress_rules``/``egress_rules`` object: a rule per CIDR attribute it sets."""
    if not isinstance(obj, Mapping):
        return [ModuleRule(direction, None, None, None, None, where, None)]
    protocol, low, high = _v6_fields(obj)
    return [
        ModuleRule(direction, protocol, low, high, _v6_cidr(obj[attr]), f"{where}.{attr}", None)
        for attr in ("cidr_ipv4", "cidr_ipv6")
        if attr in obj
    ]


def _v6_cidr(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _v6_map(value: object) -> dict:
    """A v6 map input; None (unknown) is one unknown entry under the key None."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (list, tuple)):  # a list where a map is expected: index keys
        return {str(i): v for i, v in enumerate(value)}
    return {None: None}


def _key_order(key: object) -> tuple:
    return (key is None, str(key))


def _v6_presets(entry: Mapping, sub: str) -> dict:
    """``"<preset>/<key>"`` -> rules of the preset products, merged in the module's order."""
    catalog = _data()["v6_presets"]
    if sub not in catalog:
        raise UnknownSubmodule(sub, "v6")
    presets = _v6_map(entry.get("preset_ingress_rules", catalog[sub]))
    merged: dict = {}
    for source_key, has_cidr in (("ingress_cidr_ipv4", True), ("ingress_cidr_ipv6", True),
                                 ("ingress_prefix_list_id", False), ("ingress_referenced_security_group_id", False)):
        sources = _v6_map(entry.get(source_key, {}))
        for preset_name in sorted(presets, key=_key_order):
            preset = presets[preset_name]
            if isinstance(preset, (list, tuple)) and len(preset) >= 3:  # the data file's [from, to, protocol, ...]
                preset = {"from_port": preset[0], "to_port": preset[1], "ip_protocol": preset[2]}
            fields = _v6_fields(preset) if isinstance(preset, Mapping) else (None, None, None)
            rule_name = preset_name if isinstance(preset_name, str) else None
            for source_name in sorted(sources, key=_key_order):
                key = f"{preset_name}/{source_name}"
                if not has_cidr:
                    merged[key] = []  # a prefix-list or security-group rule: no CIDR
                    continue
                where = f'{source_key}["{source_name}"]' if source_name is not None else source_key
                merged[key] = [ModuleRule("ingress", *fields, _v6_cidr(sources[source_name]), where, rule_name)]
    return merged


def _v6_rules(entry: Mapping, sub: str | None) -> list[ModuleRule]:
    if _is_false(entry.get("create", True)):
        return []
    out: list[ModuleRule] = []
    for direction in ("ingress", "egress"):
        merged = _v6_presets(entry, sub) if sub is not None and direction == "ingress" else {}
        key = f"{direction}_rules"
        if key in entry:
            for name, obj in _v6_map(entry[key]).items():
                merged[name] = _v6_rule(direction, obj, f'{key}["{name}"]' if name is not None else key)
        for name in sorted(merged, key=_key_order):
            out.extend(merged[name])
    return out


# ---------------------------------------------------------------- API


def module_rules(entry: Mapping) -> list[ModuleRule]:
    """The CIDR rules a call of the module creates, from its evaluated inputs
    (one entry of ``tfparse.load_from_path(...)["module"]``).

    Raises :class:`UnknownModuleRule` (or its subclass :class:`UnknownSubmodule`)
    where Terraform itself would fail, and ``ValueError`` if the entry's
    ``source`` is not this module.
    """
    known, sub = _parse_source(entry.get("source"))
    if not known:
        raise ValueError(f"not a known module: {excerpt(entry.get('source'))}")
    if _is_v6(entry, sub):
        return _v6_rules(entry, sub)
    return _V5(entry, sub).run()
