"""Compiles the AWS "Windows AMI ports" page text into ``rules_catalog/windows-ami.yaml``.

The page is a pipe table whose rows wrap across lines at random places, so each
workload's table is read as one stream of cells and every cell is recognised by
its content. A row or cell the compiler cannot read stops it with the page line
and the raw text: a row dropped silently would be a port the linter never
reports. Corrections to the page are data (``windows-ami.errata.yaml``), applied
only where the page still says what the erratum expects: errata of one row's cell,
and spellings of the names (workload titles and rule names) wherever the page prints them.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .excerpt import excerpt
from .catalog import (CatalogError, YamlFile, check_keys, entry_list, normalize_os, parse_port_text,
                      parse_ports, read_top_level)
from .netmath import PORTED_PROTOCOLS, normalize_protocol

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DEFAULT_PAGE_NAME = "aws-windows-ami-ports.txt"


class CatalogCompileError(CatalogError):
    """A page row or cell, or an erratum, that cannot be read; carries its line and raw text."""

    def __init__(self, message: str, *, file: str, line: int, raw: str):
        super().__init__(f"{message}: {excerpt(raw)}", file, line)
        self.raw = raw


@dataclass(frozen=True, slots=True)
class PortSymbol:
    """A Windows Firewall port keyword that the page prints instead of port numbers."""

    ports: tuple[str, ...]
    protocol: str
    why: str


PORT_SYMBOLS = {
    "RPC": PortSymbol(("49152-65535",), "tcp",
                      "Windows Firewall keyword for the dynamic RPC ports, 49152-65535 by default "
                      "since Windows Server 2008"),
    "RPC-EPMap": PortSymbol(("135",), "tcp",
                            "Windows Firewall keyword for the RPC endpoint mapper, TCP 135"),
    "IPHTPS": PortSymbol(("443",), "tcp",
                         "the page's spelling of the IPHTTPS keyword; IP over HTTPS listens on TCP 443"),
    "Teredo": PortSymbol(("3544",), "udp",
                         "Windows Firewall keyword for the Teredo client's port; 3544 is Teredo's "
                         "well-known UDP port, the one a security group would open"),
    "Ply2Disc": PortSymbol(("1900",), "udp",
                           "Windows Firewall keyword for Play To discovery, which uses SSDP on UDP 1900"),
}

_OS_CELL_RE = re.compile(r"(?:Windows Server \d{4}(?: R2)?\s*)+")
_OS_VERSION_RE = re.compile(r"Windows Server (\d{4}(?: R2)?)")
_PORTS_CELL_RE = re.compile(r"Local:\s*(?P<local>.*?)\s*Remote:\s*(?P<remote>.*)")
_SEPARATOR_CELL_RE = re.compile(r"-{3,}")
_DIRECTIONS = ("in", "out")
_DESCRIPTION_COLUMNS = ("Description", "Definition")
_ERRATUM_FIELDS = ("direction", "protocol", "ports", "local_ports", "remote_ports")


@dataclass(frozen=True, slots=True)
class _Cell:
    text: str  # whitespace collapsed: a cell may wrap onto the next line
    line: int


@dataclass
class _Table:
    """One workload's table: its title, header and the page lines of its body."""

    workload: str
    title_line: int
    columns: tuple[str, ...] = ()
    body: list[tuple[int, str]] = field(default_factory=list)

    @property
    def has_description(self) -> bool:
        return any(column in _DESCRIPTION_COLUMNS for column in self.columns)


@dataclass(frozen=True, slots=True)
class _Row:
    rule: _Cell
    ports: _Cell | None
    protocol: _Cell
    direction: _Cell
    raw: str  # every cell of the row, for error messages


@dataclass(frozen=True, slots=True)
class _Erratum:
    id: str
    workload: str
    rule: str
    field: str
    raw: str
    corrected: object
    line: int  # in the errata file


@dataclass(frozen=True, slots=True)
class _Spelling:
    """A slip in the page's names ("WindowsRemote Management"), corrected wherever it is printed."""

    id: str
    raw: str
    corrected: str
    line: int  # in the errata file


def compile_page(text: str, errata_path: Path | Traversable, *,
                 page_name: str = DEFAULT_PAGE_NAME) -> str:
    """The YAML text of ``windows-ami.yaml`` for the page ``text``, in page order.

    ``page_name`` is written in the provenance header and in error messages.
    Raises CatalogCompileError for anything on the page or in the errata it cannot read.
    """
    errata_text = errata_path.read_text(encoding="utf-8")
    errata, spellings = _load_errata(errata_text, str(errata_path))
    spelled: set[str] = set()
    pending: dict[tuple[str, str], list[_Erratum]] = {}
    for erratum in errata:
        pending.setdefault((erratum.workload, erratum.rule), []).append(erratum)
    tables = _read_tables(text, page_name)
    compiled = []
    for table in tables:
        os, rows = _table_rows(table, page_name)
        names: set[str] = set()
        for row in rows:
            if row.rule.text in names:
                raise CatalogCompileError("a second row with this rule name in one workload",
                                          file=page_name, line=row.rule.line, raw=row.raw)
            names.add(row.rule.text)
            row_errata = pending.pop((table.workload, row.rule.text), [])
            compiled.append(_spell(_compile_row(row, table.workload, os, row_errata, page_name), spellings, spelled))
    for spelling in spellings:
        if spelling.id not in spelled:
            raise CatalogCompileError(
                f"stale spelling {spelling.id}: no workload or rule name on the page has {excerpt(spelling.raw)}",
                file=str(errata_path), line=spelling.line, raw=_line_text(errata_text, spelling.line))
    for leftover in pending.values():
        erratum = leftover[0]
        raise CatalogCompileError(
            f"stale erratum {erratum.id}: the page has no rule {excerpt(erratum.rule)} in workload "
            f"{excerpt(erratum.workload)}", file=str(errata_path), line=erratum.line,
            raw=_line_text(errata_text, erratum.line))
    inbound = sum(row["direction"] == "in" for row in compiled)
    header = [
        "GENERATED by winportlint.catalog_compiler from the AWS page text: do not edit by hand.",
        "To change a value, correct it in windows-ami.errata.yaml (or fix the compiler) and run",
        "  winportlint catalog import PAGE.txt --output rules_catalog/windows-ami.yaml",
        f"page: {page_name}",
        f"page-sha256: {_sha256(text)}",
        f"errata: {errata_path.name}",
        f"errata-sha256: {_sha256(errata_text)}",
        f"rows: {len(compiled)} ({inbound} in, {len(compiled) - inbound} out) "
        f"in {len(tables)} workloads",
    ]
    return _emit(header, compiled)


def _read_tables(text: str, page: str) -> list[_Table]:
    """Split the page into workload tables; prose is allowed only before and after them."""
    lines = text.split("\n")
    last_table_line = max((n for n, line in enumerate(lines, 1) if "|" in line), default=0)
    tables: list[_Table] = []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped:
            continue
        if "|" not in stripped:
            if _next_line_is_header(lines, number):
                if tables and not tables[-1].body:
                    raise _error(page, number, f"workload {excerpt(tables[-1].workload)} has no rows", stripped)
                tables.append(_Table(stripped, number))
            elif tables and number < last_table_line:
                raise _error(page, number, "a line between table rows that is neither a cell "
                             "nor a workload title followed by a header", stripped)
            continue
        if not tables:
            raise _error(page, number, "a table row before any workload title", stripped)
        table = tables[-1]
        cells = _split_cells(stripped)
        if not table.columns:
            table.columns = _header_columns(cells, stripped, number, page)
        elif not table.body and cells and all(_SEPARATOR_CELL_RE.fullmatch(c) for c in cells):
            if len(cells) != len(table.columns):
                raise _error(page, number, "the separator does not have one cell per column", stripped)
        else:
            table.body.append((number, line))
    if not tables:
        raise _error(page, 1, "no workload table found", lines[0])
    if not tables[-1].body:
        raise _error(page, tables[-1].title_line, "workload has no rows", tables[-1].workload)
    return tables


def _split_cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("|") if cell.strip()]


def _next_line_is_header(lines: list[str], number: int) -> bool:
    following = next((line for line in lines[number:] if line.strip()), "")
    return _split_cells(following)[:1] == ["OS"]


def _header_columns(cells: list[str], line: str, number: int, page: str) -> tuple[str, ...]:
    columns = tuple(cells)
    middle = columns[2:-3]
    if (columns[:2] != ("OS", "Rule") or columns[-3:] != ("Port", "Protocol", "Direction")
            or middle not in ((), *((name,) for name in _DESCRIPTION_COLUMNS))):
        raise _error(page, number, "unknown table header", line)
    return columns


def _cells(table: _Table) -> list[_Cell]:
    """The table body as cells, each with the page line where it starts."""
    starts, joined = [], []
    offset = 0
    for _, line in table.body:
        starts.append(offset)
        joined.append(line)
        offset += len(line) + 1
    cells = []
    offset = 0
    for piece in "\n".join(joined).split("|"):
        text = " ".join(piece.split())
        if text:
            first_char = offset + len(piece) - len(piece.lstrip())
            cells.append(_Cell(text, table.body[bisect.bisect_right(starts, first_char) - 1][0]))
        offset += len(piece) + 1
    return cells


def _table_rows(table: _Table, page: str) -> tuple[tuple[str, ...], list[_Row]]:
    """The OS versions of the table (its first cell) and its rows, each ending at In or Out."""
    cells = _cells(table)
    first = cells[0] if cells else _Cell(table.workload, table.title_line)
    if not _OS_CELL_RE.fullmatch(first.text):
        raise _error(page, first.line, "expected the OS cell ('Windows Server ...') first", first.text)
    os = tuple(normalize_os(v) for v in _OS_VERSION_RE.findall(first.text))
    rows, current = [], []
    for cell in cells[1:]:
        if _OS_CELL_RE.fullmatch(cell.text):
            raise _error(page, cell.line, "a second OS cell in one table", cell.text)
        current.append(cell)
        if cell.text.lower() in _DIRECTIONS:
            rows.append(_split_row(current, table, page))
            current = []
    if current:
        raise _error(page, current[0].line, "a row without a direction cell (In or Out)",
                     " | ".join(c.text for c in current))
    return os, rows


def _split_row(cells: list[_Cell], table: _Table, page: str) -> _Row:
    """Rule first, direction last, protocol before it, ports (if any) before that."""
    raw = " | ".join(c.text for c in cells)
    misfit = _error(page, cells[0].line, f"a row of {len(cells)} cells does not fit the header "
                    f"{' | '.join(table.columns)}", raw)
    if len(cells) < 3:
        raise misfit
    rule, *middle, protocol, direction = cells
    ports = middle.pop() if middle and _PORTS_CELL_RE.fullmatch(middle[-1].text) else None
    descriptions = 1 if table.has_description else 0
    if len(middle) != descriptions or any(_PORTS_CELL_RE.fullmatch(c.text)
                                          for c in (rule, *middle, protocol)):
        raise misfit
    return _Row(rule, ports, protocol, direction, raw)


def _compile_row(row: _Row, workload: str, os: tuple[str, ...], errata: list[_Erratum],
                 page: str) -> dict:
    corrected = {}
    for erratum in errata:
        cell, actual = _raw_field(row, erratum.field)
        if actual != erratum.raw:
            raise _error(page, cell.line, f"stale erratum {erratum.id}: it expects {erratum.field} "
                         f"{excerpt(erratum.raw)} but the page now says", actual)
        corrected[erratum.field] = erratum.corrected
    # The page writes "Any" for every protocol; security groups say "all" (or -1).
    protocol = corrected.get("protocol") or normalize_protocol(
        "all" if row.protocol.text.lower() == "any" else row.protocol.text)
    if protocol is None:
        raise _error(page, row.protocol.line, "unknown protocol", row.protocol.text)
    has_ports = row.ports is not None and "ports" not in corrected
    if protocol in PORTED_PROTOCOLS and not has_ports:
        raise _error(page, row.rule.line, f"a {protocol} row without a port cell", row.raw)
    if protocol not in PORTED_PROTOCOLS and has_ports:
        raise _error(page, row.ports.line, f"{protocol} has no ports, yet the row lists some "
                     "(add an erratum)", row.ports.text)
    sides, symbols = {}, []
    for side in ("local_ports", "remote_ports"):
        if side in corrected:
            sides[side] = corrected[side]
        elif has_ports:
            sides[side], symbol = _port_side(_ports_part(row.ports, side), row.ports, page)
            symbols += [symbol] if symbol else []
        else:
            sides[side] = "any"
    compiled = {"workload": workload, "rule": row.rule.text,
                "direction": corrected.get("direction") or row.direction.text.lower(),
                "protocol": protocol, **sides}
    if len(symbols) > 1:
        raise _error(page, row.ports.line, "a port keyword on both sides", row.ports.text)
    if symbols:
        symbol = PORT_SYMBOLS[symbols[0]]
        if symbol.protocol != protocol:
            raise _error(page, row.ports.line, f"port keyword {symbols[0]} is {symbol.protocol}, "
                         f"the row is {protocol}", row.raw)
        compiled |= {"symbol": symbols[0], "why": symbol.why}
    compiled["os"] = list(os)
    if errata:
        compiled["errata"] = [erratum.id for erratum in errata]
    compiled["page_line"] = row.rule.line
    return compiled


def _spell(compiled: dict, spellings: list[_Spelling], spelled: set[str]) -> dict:
    """The row with the spellings applied to its workload and rule names as the page prints them
    (one pass: a correction is never corrected again), their ids added to its errata in the
    errata file's order; ``spelled`` collects the ids applied anywhere."""
    if not spellings:
        return compiled
    by_raw = {spelling.raw: spelling for spelling in spellings}
    pattern = re.compile("|".join(re.escape(raw) for raw in sorted(by_raw, key=len, reverse=True)))
    applied: set[str] = set()

    def corrected(match: re.Match[str]) -> str:
        applied.add(by_raw[match.group()].id)
        return by_raw[match.group()].corrected

    for key in ("workload", "rule"):
        compiled[key] = pattern.sub(corrected, compiled[key])
    if applied:
        spelled.update(applied)
        page_line = compiled.pop("page_line")
        ids = [spelling.id for spelling in spellings if spelling.id in applied]
        compiled |= {"errata": [*compiled.pop("errata", []), *ids], "page_line": page_line}
    return compiled


def _raw_field(row: _Row, field_name: str) -> tuple[_Cell, str]:
    """The page cell an erratum field refers to, and its text as the page prints it."""
    if field_name == "direction":
        return row.direction, row.direction.text
    if field_name == "protocol":
        return row.protocol, row.protocol.text
    if row.ports is None:
        return row.rule, ""
    if field_name == "ports":
        return row.ports, row.ports.text
    return row.ports, _ports_part(row.ports, field_name)


def _ports_part(cell: _Cell, side: str) -> str:
    match = _PORTS_CELL_RE.fullmatch(cell.text)
    return match.group("local" if side == "local_ports" else "remote")


def _port_side(text: str, cell: _Cell, page: str) -> tuple[list[str] | str, str | None]:
    """``Any``, a Windows Firewall keyword, or a comma-separated list of ports and ranges."""
    if text == "Any":
        return "any", None
    if text in PORT_SYMBOLS:
        return list(PORT_SYMBOLS[text].ports), text
    try:
        return [str(parse_port_text(item)) for item in text.split(",")], None
    except ValueError:
        raise _error(page, cell.line, f"neither ports nor a known port keyword "
                     f"({', '.join(PORT_SYMBOLS)})", cell.text) from None


def _load_errata(text: str, name: str) -> tuple[list[_Erratum], list[_Spelling]]:
    try:
        doc = YamlFile(text, name)
        read_top_level(doc, ("errata",), ("spellings",))
        errata = [_erratum(doc, index, entry) for index, entry in enumerate(entry_list(doc, "errata"))]
        spellings = ([_spelling(doc, index, entry) for index, entry in enumerate(entry_list(doc, "spellings"))]
                     if "spellings" in doc.data else [])
    except CatalogError as exc:
        line = exc.line or 1
        raise CatalogCompileError(exc.reason, file=name, line=line, raw=_line_text(text, line)) from None
    seen_ids, seen_fields = set(), set()
    for entry in [*errata, *spellings]:
        target = (entry.workload, entry.rule, entry.field) if isinstance(entry, _Erratum) else entry.raw
        if entry.id in seen_ids or target in seen_fields:
            raise CatalogCompileError("a second erratum with this id, for this row and field or for this spelling",
                                      file=name, line=entry.line, raw=_line_text(text, entry.line))
        seen_ids.add(entry.id)
        seen_fields.add(target)
    return errata, spellings


def _spelling(doc: YamlFile, index: int, entry: dict) -> _Spelling:
    path = ("spellings", index)
    check_keys(doc, entry, path, ("id", "raw", "corrected", "why"), ())
    for key in ("id", "raw", "corrected", "why"):
        if not (isinstance(entry[key], str) and entry[key].strip()):
            raise doc.error(f"{excerpt(key)} must be a non-empty string", *path, key)
    return _Spelling(entry["id"], entry["raw"], entry["corrected"], doc.line_of(path))


def _erratum(doc: YamlFile, index: int, entry: dict) -> _Erratum:
    path = ("errata", index)
    keys = ("id", "workload", "rule", "field", "raw", "corrected", "why")
    check_keys(doc, entry, path, keys, ())
    for key in ("id", "workload", "rule", "field", "raw", "why"):
        if not (isinstance(entry[key], str) and entry[key].strip()):
            raise doc.error(f"{excerpt(key)} must be a non-empty string", *path, key)
    if entry["field"] not in _ERRATUM_FIELDS:
        raise doc.error(f"field must be one of {', '.join(_ERRATUM_FIELDS)}", *path, "field")
    try:
        corrected = _corrected_value(entry["field"], entry["corrected"])
    except ValueError as exc:
        raise doc.error(str(exc), *path, "corrected") from None
    return _Erratum(entry["id"], entry["workload"], entry["rule"], entry["field"], entry["raw"],
                    corrected, doc.line_of(path))


def _corrected_value(field_name: str, value: object) -> object:
    """The corrected value in the form the compiled catalog writes it."""
    if field_name == "direction":
        if value not in _DIRECTIONS:
            raise ValueError("a corrected direction is 'in' or 'out'")
        return value
    if field_name == "protocol":
        if not isinstance(value, str) or normalize_protocol(value) != value:
            raise ValueError("a corrected protocol is tcp, udp, icmp, icmpv6, all or a number (quoted)")
        return value
    if field_name == "ports":
        if value is not None:
            raise ValueError("a corrected 'ports' is null (the row has no ports); "
                             "correct one side with local_ports or remote_ports")
        return None
    ports = parse_ports(value)
    return "any" if ports is None else [str(p) for p in ports]


def _error(page: str, line: int, message: str, raw: str) -> CatalogCompileError:
    return CatalogCompileError(message, file=page, line=line, raw=raw)


def _line_text(text: str, line: int) -> str:
    lines = text.split("\n")
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _emit(header: list[str], rows: list[dict]) -> str:
    """YAML by hand: JSON scalars and flow lists are valid YAML, and the bytes never depend on
    an emitter library's version, so the checked-in file can be compared byte for byte."""
    lines = [f"# {text}" for text in header] + ["rules:"]
    for row in rows:
        for index, (key, value) in enumerate(row.items()):
            lines.append(f"{'  - ' if index == 0 else '    '}{key}: {json.dumps(value)}")
    return "\n".join(lines) + "\n"
