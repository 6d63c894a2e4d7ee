"""The catalog of ports Windows opens, and how bad exposing each one is.

Three package files make the built-in catalog (``rules_catalog/``):
``windows-ami.yaml`` compiled from the AWS page, ``windows-extra.yaml`` with
well-known ports the page omits, and ``severity.yaml``, our overlay that gives
every rule an exposure class and a severity. Users may add files shaped like
``windows-extra.yaml``.

``builtin.json`` is those three files' classified rules, derived from them by
``python -m winportlint.catalog`` (and by ``winportlint catalog import``): it
loads in a millisecond where the YAML takes twelve, on every run. It names the
digest of each file it was made from and is ignored once one of them changes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from .excerpt import excerpt, excerpts_in
from .model import Direction, PortRange, Severity
from .netmath import PORTED_PROTOCOLS, normalize_protocol
from .textfile import NotText, read_text

AWS_SOURCE = "aws-windows-ami-page"
EXTRA_SOURCE = "not-from-aws-page"
#: The class of a user rule that names none and that no overlay matcher covers.
CUSTOM_CLASS = "custom"

_DIRECTIONS = {"in": Direction.INGRESS, "out": Direction.EGRESS}
_DIRECTION_TEXT = {Direction.INGRESS: "in", Direction.EGRESS: "out"}
_OS_RE = re.compile(r"(?:windows\s*server\s*)?(\d{4})\s*(r2)?", re.IGNORECASE)
_PORT_RE = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?")


class CatalogRule(NamedTuple):
    """One Windows firewall rule: what it opens, on which OS, and how bad exposing it is."""

    workload: str
    rule: str
    direction: Direction
    protocol: str
    local_ports: tuple[PortRange, ...] | None
    remote_ports: tuple[PortRange, ...] | None
    os: tuple[str, ...]
    exposure_class: str
    severity: Severity
    source: str
    symbol: str | None

    @property
    def service_ports(self) -> tuple[PortRange, ...] | None:
        """The ports a peer connects to: local for inbound rules, remote for outbound ones."""
        return self.local_ports if self.direction is Direction.INGRESS else self.remote_ports

    def ports_text(self) -> str:
        """The service ports as people write them: ``3389``, ``554, 8554-8558`` or ``any``."""
        ports = self.service_ports
        return ", ".join(str(p) for p in ports) if ports else "any"


class Catalog(NamedTuple):
    """The rules, in catalog order: the AWS page's order, then the extra and user files."""

    rules: tuple[CatalogRule, ...]

    def versions(self) -> frozenset[str]:
        """The Windows Server versions some rule is listed for."""
        return frozenset(version for rule in self.rules for version in rule.os)

    def select(self, *, os: Sequence[str] | None = None,
               direction: Direction | None = None) -> Catalog:
        """The rules present on any of the given OS versions, in the given direction.

        ``os`` takes one version or several, spelt as :func:`normalize_os` reads them;
        a release the page does not list yet stands for the one of :data:`ASSUMED_RULES`.
        A version that selects no rule raises ValueError: it would silently check nothing.
        """
        wanted = None
        if os is not None:
            listed, wanted, unknown = self.versions(), set(), []
            for value in (os,) if isinstance(os, str) else os:
                try:
                    version = rules_version(normalize_os(value), listed)
                except ValueError:
                    version = None
                if version in listed:
                    wanted.add(version)
                else:
                    unknown.append(repr(value))
            if unknown:
                raise ValueError(f"no catalog rule is for Windows Server {', '.join(unknown)} "
                                 f"(known: {known_versions(listed)})")
        return Catalog(tuple(
            rule for rule in self.rules
            if (direction is None or rule.direction is direction)
            and (wanted is None or not wanted.isdisjoint(rule.os))
        ))


class CatalogError(Exception):
    """A catalog file that cannot be used; the message names the file and line."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None):
        self.file, self.line, self.reason = file, line, message
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(where + message)


#: Windows Server releases the AWS page does not list yet, and the listed release whose rules they are
#: assumed to have: the newest listed one. Every message that relies on it says so (:func:`spell_versions`).
ASSUMED_RULES = {"2025": "2022"}


def rules_version(version: str, listed: frozenset[str]) -> str:
    """The version whose catalog rules apply to ``version``: itself, unless the catalog does
    not list it and :data:`ASSUMED_RULES` names a stand-in."""
    return version if version in listed else ASSUMED_RULES.get(version, version)


def spell_versions(versions: Sequence[str], listed: frozenset[str]) -> str:
    """``Windows Server 2019, 2022``, saying which rules an unlisted release is assumed to have."""
    assumed = "".join(f" (rules of {rules_version(v, listed)} assumed: the AWS page does not list {v} yet)"
                      for v in versions if rules_version(v, listed) != v)
    return f"Windows Server {', '.join(versions)}{assumed}"


def known_versions(listed: frozenset[str]) -> str:
    """The versions ``--os`` accepts: ``2012, 2012 R2, 2016, 2019, 2022; 2025 means 2022's rules``."""
    assumed = [f"{v} means {a}'s rules" for v, a in ASSUMED_RULES.items() if v not in listed and a in listed]
    return ", ".join(sorted(listed, key=version_order)) + "".join(f"; {text}" for text in assumed)


def version_order(version: str) -> tuple[int, str]:
    """``2012`` before ``2012 R2`` before ``2016``."""
    return int(version[:4]), version


def normalize_os(value: str) -> str:
    """``2012R2``, ``2012 r2`` and ``Windows Server 2012 R2`` all mean ``2012 R2``."""
    match = _OS_RE.fullmatch(value.strip())
    if not match:
        raise ValueError(f"not a Windows Server version: {excerpt(value)} (write e.g. 2019 or 2012 R2)")
    year, r2 = match.groups()
    return f"{year} R2" if r2 else year


def parse_port_text(text: str) -> PortRange:
    """``"3389"`` or ``"49152-65535"``; raises ValueError for anything else."""
    match = _PORT_RE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a port or port range: {excerpt(text)}")
    low, high = match.groups()
    return PortRange(int(low), int(high or low))


def builtin_file(name: str) -> str:
    """A file of the built-in catalog: package data, which wheels install beside the code."""
    from . import rules_catalog

    return os.path.join(os.path.dirname(rules_catalog.__file__), name)


def parse_yaml(text: str, *, compose: bool = False) -> Any:
    """Data (or, with ``compose``, the node tree with positions) of a trusted YAML data file.

    PyYAML's libyaml loader: the catalog is read on every run, and this is
    about eight times faster than ruamel.yaml's (import included).
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        return loader.get_single_node() if compose else loader.get_single_data()
    finally:
        loader.dispose()


class YamlFile:
    """Parsed YAML that can tell on which line a value sits.

    Loading keeps no positions (faster); ``line_of`` composes the text again,
    which is for errors and other rare look-ups.
    """

    def __init__(self, text: str, name: str):
        from yaml import YAMLError

        self.text, self.name = text, name
        try:
            self.data = parse_yaml(text)
        except YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            problem = (getattr(exc, "problem", None) or str(exc) or "invalid YAML").splitlines()[0]
            raise CatalogError(f"invalid YAML: {excerpts_in(problem)}", name,
                               mark.line + 1 if mark else None) from None

    def error(self, message: str, *path: str | int) -> CatalogError:
        """An error naming the line of the value at ``path`` (keys and list indexes)."""
        return CatalogError(message, self.name, self.line_of(path))

    def line_of(self, path: Sequence[str | int]) -> int:
        node = parse_yaml(self.text, compose=True)
        if node is None:
            return 1
        line = node.start_mark.line
        for step in path:
            if isinstance(step, int) and node.id == "sequence" and step < len(node.value):
                node = node.value[step]
                line = node.start_mark.line
            elif isinstance(step, str) and node.id == "mapping":
                key_node, node = next(((k, v) for k, v in node.value if k.value == step), (None, None))
                if key_node is None:
                    break
                line = key_node.start_mark.line
            else:
                break
        return line + 1


def read_top_level(doc: YamlFile, keys: Sequence[str], optional: Sequence[str] = ()) -> dict:
    """The top-level mapping of a file, which must have exactly ``keys`` (and may have ``optional``)."""
    if not isinstance(doc.data, dict):
        raise doc.error(f"expected a mapping with the key(s) {', '.join(keys)} at the top")
    check_keys(doc, doc.data, (), keys, optional)
    return doc.data


def entry_list(doc: YamlFile, key: str) -> list[dict]:
    """The list of mappings under the top-level ``key``."""
    entries = doc.data[key]
    if not isinstance(entries, list):
        raise doc.error(f"'{key}' must be a list", key)
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise doc.error(f"each entry of '{key}' must be a mapping", key, index)
    return entries


def check_keys(doc: YamlFile, entry: dict, path: tuple, required: Sequence[str],
               optional: Sequence[str]) -> None:
    """Reject missing and misspelt keys: a typo must not silently change the meaning."""
    for key in required:
        if key not in entry:
            raise doc.error(f"missing key {excerpt(key)}", *path)
    for key in entry:
        if key not in required and key not in optional:
            raise doc.error(f"unknown key {excerpt(key)}", *path, key)


def parse_ports(value: object) -> tuple[PortRange, ...] | None:
    """``any`` or a list of ports and ranges; ``None`` means any port."""
    if value == "any":
        return None
    if not isinstance(value, list) or not value:
        raise ValueError(f"ports must be 'any' or a list like [\"3389\", \"49152-65535\"], not {excerpt(value)}")
    return tuple(parse_port_text(str(item)) for item in value)


# --- severity overlay ------------------------------------------------------------------------

class _Matcher(NamedTuple):
    """One entry of severity.yaml; every criterion it has must hold."""

    exposure_class: str
    direction: Direction | None
    workloads: frozenset[str] | None
    rule_pattern: re.Pattern[str] | None
    protocols: frozenset[str] | None
    ports: tuple[PortRange, ...] | None

    def matches(self, rule: CatalogRule) -> bool:
        # A rule open on any port matches no port list: "any" must not read as "445".
        service_ports = rule.service_ports or ()
        return ((self.direction is None or rule.direction is self.direction)
                and (self.workloads is None or rule.workload in self.workloads)
                and (self.rule_pattern is None or self.rule_pattern.search(rule.rule) is not None)
                and (self.protocols is None or rule.protocol in self.protocols)
                and (self.ports is None
                     or any(a.overlaps(b) for a in self.ports for b in service_ports)))


class _Overlay(NamedTuple):
    severities: dict[str, Severity]
    matchers: tuple[_Matcher, ...]

    def classify(self, rule: CatalogRule) -> str | None:
        return next((m.exposure_class for m in self.matchers if m.matches(rule)), None)


def _parse_overlay(doc: YamlFile) -> _Overlay:
    data = read_top_level(doc, ("classes", "matchers"))
    if not isinstance(data["classes"], dict):
        raise doc.error("'classes' must map class names to severities", "classes")
    severities = {}
    for name, value in data["classes"].items():
        severities[name] = _severity(doc, value, ("classes", name))
    matchers = []
    for index, entry in enumerate(entry_list(doc, "matchers")):
        path = ("matchers", index)
        check_keys(doc, entry, path, ("class", "why"),
                   ("direction", "workload", "rule", "protocol", "ports"))
        if entry["class"] not in severities:
            raise doc.error(f"class {excerpt(entry['class'])} is not listed under 'classes'", *path, "class")
        try:
            matchers.append(_Matcher(
                exposure_class=entry["class"],
                direction=_direction(entry["direction"]) if "direction" in entry else None,
                workloads=frozenset(_str_list(entry["workload"])) if "workload" in entry else None,
                rule_pattern=re.compile(entry["rule"]) if "rule" in entry else None,
                protocols=frozenset(_protocol(p) for p in _str_list(entry["protocol"]))
                if "protocol" in entry else None,
                ports=parse_ports(entry["ports"]) if "ports" in entry else None,
            ))
        except (ValueError, TypeError, re.error) as exc:
            raise doc.error(str(exc), *path) from None
    return _Overlay(severities, tuple(matchers))


# --- rule files ------------------------------------------------------------------------------

_RULE_REQUIRED = ("workload", "rule", "direction", "protocol", "os")
# symbol/why/source/errata/page_line document a rule for readers of the file; the loader checks
# their type only.
_RULE_OPTIONAL = ("local_ports", "remote_ports", "class", "severity", "symbol", "why", "source",
                  "errata", "page_line")
_RULE_TYPES = {"workload": str, "rule": str, "class": str, "symbol": str, "why": str, "source": str,
               "errata": list, "page_line": int}


class _Entry(NamedTuple):
    """A rule as written in a file, before the overlay gives it a class."""

    draft: CatalogRule
    given_class: str | None
    given_severity: Severity | None
    doc: YamlFile
    path: tuple


def _parse_rules(doc: YamlFile, source: str) -> list[_Entry]:
    parsed = []
    read_top_level(doc, ("rules",))
    for index, entry in enumerate(entry_list(doc, "rules")):
        path = ("rules", index)
        check_keys(doc, entry, path, _RULE_REQUIRED, _RULE_OPTIONAL)
        for key, expected in _RULE_TYPES.items():
            if key in entry and not (isinstance(entry[key], expected) and entry[key]):
                raise doc.error(f"{excerpt(key)} must be a non-empty {expected.__name__}", *path, key)
        try:
            draft = CatalogRule(
                workload=entry["workload"],
                rule=entry["rule"],
                direction=_direction(entry["direction"]),
                protocol=_protocol(entry["protocol"]),
                local_ports=parse_ports(entry.get("local_ports", "any")),
                remote_ports=parse_ports(entry.get("remote_ports", "any")),
                os=tuple(normalize_os(str(v)) for v in _str_list(entry["os"])),
                exposure_class=CUSTOM_CLASS,
                severity=Severity.INFO,
                source=source,
                symbol=entry.get("symbol"),
            )
        except ValueError as exc:
            raise doc.error(str(exc), *path) from None
        if draft.protocol not in PORTED_PROTOCOLS and (draft.local_ports or draft.remote_ports):
            raise doc.error(f"protocol {draft.protocol} has no ports: write 'any' or leave them out",
                            *path)
        severity = _severity(doc, entry["severity"], (*path, "severity")) if "severity" in entry else None
        parsed.append(_Entry(draft, entry.get("class"), severity, doc, path))
    return parsed


def _classify(entry: _Entry, overlay: _Overlay, user_file: bool) -> CatalogRule:
    """Class and severity: as the file gives them, else from the overlay.

    A built-in rule that no matcher covers is an error, so that a new row on the
    AWS page cannot slip in unclassified; a user rule becomes ``custom``.
    """
    exposure_class = entry.given_class or overlay.classify(entry.draft)
    if exposure_class is None:
        if not user_file:
            raise entry.doc.error(f"rule {excerpt(entry.draft.rule)} matches no matcher of severity.yaml",
                                  *entry.path)
        exposure_class = CUSTOM_CLASS
    severity = entry.given_severity or overlay.severities.get(exposure_class)
    if severity is None:
        raise entry.doc.error(f"rule {excerpt(entry.draft.rule)} has class {excerpt(exposure_class)}, which has "
                              "no severity of its own: give it a 'severity'", *entry.path)
    return entry.draft._replace(exposure_class=exposure_class, severity=severity)


def load_catalog(extra_files: Sequence[str | os.PathLike] = ()) -> Catalog:
    """The built-in catalog plus the rules of ``extra_files``, every rule classified."""
    return _load_catalog(tuple(str(path) for path in extra_files))


@functools.lru_cache(maxsize=8)
def _load_catalog(extra_files: tuple[str, ...]) -> Catalog:
    rules = list(_builtin_rules())
    if not extra_files:
        return Catalog(tuple(rules))
    overlay = _parse_overlay(_builtin_doc("severity.yaml"))
    seen = {(rule.workload, rule.rule): "the built-in catalog" for rule in rules}
    for name in extra_files:
        try:
            text = read_text(name)
        except OSError as exc:
            raise CatalogError(f"cannot read catalog file: {exc.strerror or exc}", name) from None
        except NotText as exc:
            raise CatalogError(f"cannot read catalog file: {exc}", name) from None
        rules.extend(_rules_of(YamlFile(text, name), name, overlay, seen, user_file=True))
    return Catalog(tuple(rules))


def _rules_of(doc: YamlFile, source: str, overlay: _Overlay, seen: dict[tuple[str, str], str],
              user_file: bool) -> list[CatalogRule]:
    """A file's rules, classified; ``seen`` (rule key to the file defining it) catches a rule defined twice."""
    rules = []
    for entry in _parse_rules(doc, source):
        key = (entry.draft.workload, entry.draft.rule)
        if key in seen:
            raise doc.error(f"rule {excerpt(key[1])} of workload {excerpt(key[0])} is already defined in {seen[key]}",
                            *entry.path)
        seen[key] = doc.name
        rules.append(_classify(entry, overlay, user_file))
    return rules


# --- the built-in catalog and its snapshot ---------------------------------------------------

SNAPSHOT = "builtin.json"
#: The files the snapshot is made from; the first is the overlay.
SNAPSHOT_SOURCES = ("severity.yaml", "windows-ami.yaml", "windows-extra.yaml")
_SNAPSHOT_SOURCE_IDS = {"windows-ami.yaml": AWS_SOURCE, "windows-extra.yaml": EXTRA_SOURCE}


def _builtin_rules() -> tuple[CatalogRule, ...]:
    """The built-in rules: from the snapshot while it matches its sources, else from the YAML."""
    texts = {}
    for name in SNAPSHOT_SOURCES:
        with open(builtin_file(name), encoding="utf-8") as handle:
            texts[name] = handle.read()
    try:
        with open(builtin_file(SNAPSHOT), encoding="utf-8") as handle:
            snapshot = json.load(handle)
        if snapshot["sources"] == _digests(texts):
            return tuple(_rule_from_record(record) for record in snapshot["rules"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return _rules_from_yaml(texts)


def _rules_from_yaml(texts: dict[str, str]) -> tuple[CatalogRule, ...]:
    overlay_name, *rule_files = SNAPSHOT_SOURCES
    overlay = _parse_overlay(YamlFile(texts[overlay_name], f"rules_catalog/{overlay_name}"))
    seen: dict[tuple[str, str], str] = {}
    return tuple(rule for name in rule_files
                 for rule in _rules_of(YamlFile(texts[name], f"rules_catalog/{name}"), _SNAPSHOT_SOURCE_IDS[name],
                                       overlay, seen, user_file=False))


def _digests(texts: dict[str, str]) -> dict[str, str]:
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in texts.items()}


def snapshot_text() -> str:
    """``builtin.json`` as the current YAML files make it."""
    texts = {}
    for name in SNAPSHOT_SOURCES:
        with open(builtin_file(name), encoding="utf-8") as handle:
            texts[name] = handle.read()
    rules = ",\n  ".join(json.dumps(_rule_record(rule), ensure_ascii=False) for rule in _rules_from_yaml(texts))
    sources = json.dumps(_digests(texts), indent=2).replace("\n", "\n  ")
    return f'{{\n  "sources": {sources},\n  "rules": [\n  {rules}\n  ]\n}}\n'  # a rule a line: diffs read well


def write_snapshot() -> str:
    """Rewrite ``builtin.json`` from the YAML files; its path."""
    path = builtin_file(SNAPSHOT)
    text = snapshot_text()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _rule_record(rule: CatalogRule) -> dict:
    def ports(value):
        return None if value is None else [str(p) for p in value]

    return {"workload": rule.workload, "rule": rule.rule, "direction": _DIRECTION_TEXT[rule.direction],
            "protocol": rule.protocol, "local_ports": ports(rule.local_ports), "remote_ports": ports(rule.remote_ports),
            "os": list(rule.os), "class": rule.exposure_class, "severity": rule.severity.value,
            "source": rule.source, "symbol": rule.symbol}


def _rule_from_record(record: dict) -> CatalogRule:
    def ports(value):
        return None if value is None else tuple(parse_port_text(p) for p in value)

    return CatalogRule(record["workload"], record["rule"], _DIRECTIONS[record["direction"]], record["protocol"],
                       ports(record["local_ports"]), ports(record["remote_ports"]), tuple(record["os"]),
                       record["class"], Severity(record["severity"]), record["source"], record["symbol"])


def _builtin_doc(name: str) -> YamlFile:
    with open(builtin_file(name), encoding="utf-8") as handle:
        return YamlFile(handle.read(), f"rules_catalog/{name}")


def _direction(value: object) -> Direction:
    if not isinstance(value, str) or value not in _DIRECTIONS:
        raise ValueError(f"direction must be 'in' or 'out', not {excerpt(value)}")
    return _DIRECTIONS[value]


def _protocol(value: object) -> str:
    protocol = normalize_protocol(value)
    if protocol is None:
        raise ValueError(f"unknown protocol {excerpt(value)} (tcp, udp, icmp, icmpv6, all or a number)")
    return protocol


def _str_list(value: object) -> list:
    if not isinstance(value, list) or not value:
        raise ValueError(f"expected a non-empty list, not {excerpt(value)}")
    return value


def _severity(doc: YamlFile, value: object, path: tuple) -> Severity:
    try:
        return Severity(value)
    except ValueError:
        raise doc.error(f"severity must be one of {', '.join(s.value for s in Severity)}, "
                        f"not {excerpt(value)}", *path) from None


def format_catalog_table(catalog: Catalog, width: int | None = None) -> str:
    """A fixed-width table for ``winportlint catalog``, one rule a line. Given a ``width`` (a
    terminal's), the text columns are cut to fit it, each cut cell ending with ``…``."""
    header = ("WORKLOAD", "RULE", "DIR", "PROTO", "PORTS", "OS", "CLASS", "SEVERITY")
    rows = [header] + [
        (r.workload, r.rule, _DIRECTION_TEXT[r.direction], r.protocol, r.ports_text(),
         ", ".join(r.os), r.exposure_class, r.severity.value)
        for r in catalog.rules
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    if width:
        _fit(widths, width - 2 * (len(widths) - 1))
    return "".join("  ".join(_cut(cell, w).ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n"
                   for row in rows)


#: The columns ``_fit`` narrows, first the names down to 20 characters, then those and the
#: versions and classes down to their headers' width.
_NARROWED = (((0, 20), (1, 20)), ((0, 8), (1, 8), (5, 8), (6, 8)))


def _fit(widths: list[int], room: int) -> None:
    """Narrow ``widths`` in place, the widest narrowable column first, until they fit in ``room``
    characters or none can be narrower (a terminal narrower than that wraps the lines)."""
    for columns in _NARROWED:
        while sum(widths) > room:
            wide = [column for column, least in columns if widths[column] > least]
            if not wide:
                break
            widths[max(wide, key=lambda column: widths[column])] -= 1


def _cut(cell: str, width: int) -> str:
    return cell if len(cell) <= width else cell[:width - 1] + "…"


if __name__ == "__main__":
    print(f"wrote {write_snapshot()}")
