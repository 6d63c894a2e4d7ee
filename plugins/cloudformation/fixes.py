"""Fixes in CloudFormation templates: edits at the place a value is written.

Offsets are found in the file's bytes from the positions the loader reports (lines and
characters of the decoded text, which dropped a BOM and read CRLF as LF), so that every
byte outside an edit stays: quoting, comments, flow style, line endings.
"""

from __future__ import annotations

import re
from ipaddress import ip_network

from winportlint.model import Finding, Fix, FixRequest, TextEdit

_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r\n|\r|\n")
#: Bytes that end a plain scalar holding a CIDR (flow punctuation, a comment, a line end).
_PLAIN_END = frozenset(b" \t\r\n,]}#")
#: A YAML anchor, where the loader says a value starts (``&world 0.0.0.0/0``): aliases share it.
_ANCHOR = re.compile(rb"&[^\s,\[\]{}]+")


class _Text:
    """A UTF-8 file's bytes, with the byte offset of each line and character the loader counts."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        start = len(_BOM) if data.startswith(_BOM) else 0
        self.starts = [start, *(match.end() for match in _LINE_END.finditer(data, start))]

    def line_end(self, line: int) -> int:
        """The offset of the line's end (before its line ending)."""
        match = _LINE_END.search(self.data, self.starts[line - 1])
        return match.start() if match else len(self.data)

    def offset(self, line: int, column: int) -> int:
        start = self.starts[line - 1]
        text = self.data[start:self.line_end(line)].decode("utf-8")
        return start + len(text[:column - 1].encode("utf-8"))

    def scalar(self, offset: int) -> tuple[int, str, str]:
        """The end offset, quote (``"``, ``'`` or "") and text of the scalar starting at ``offset``,
        unescaped only when it needs no unescaping (a CIDR never does)."""
        data, quote = self.data, chr(self.data[offset])
        if quote in "\"'":
            end = data.index(quote.encode(), offset + 1)
            return end + 1, quote, data[offset + 1:end].decode("utf-8")
        end = offset
        while end < len(data) and data[end] not in _PLAIN_END:
            end += 1
        return end, "", data[offset:end].decode("utf-8")


def fixes(path: str, data: bytes, finding: Finding, request: FixRequest, json_syntax: bool) -> list[Fix]:
    """The fixes for ``request`` (see ``Format.fixes``); none for text that is not UTF-8."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data:
        return []
    try:
        text = _Text(data)
        if request.kind == "accept":
            return _accept(path, text, finding, request, json_syntax)
        if request.kind == "restrict":
            return _restrict(path, text, finding, request, json_syntax)
    except (UnicodeDecodeError, ValueError, IndexError):  # positions that do not fit the bytes: no fix
        return []
    return []


def _accept(path: str, text: _Text, finding: Finding, request: FixRequest, json_syntax: bool) -> list[Fix]:
    """An inline exception at the end of the CIDR's line (after a comment there, the grammar
    reads it too), or the check's id added to the one that line holds when it says the same;
    JSON has no comments: a display-only fix names the Metadata to write."""
    p = finding.permission
    title = f"Accept {finding.rule_id} on {p.resource}: {request.reason}"
    if json_syntax:
        return [Fix(f"{title} (JSON has no comments: add to {p.resource}'s Metadata "
                    f"winportlint: ignore: [{{id: {finding.rule_id}, reason: ...}}])", "display-only")]
    if p.location.file != path:
        return []
    terms = {"until": request.expires, "owner": request.owner}
    line = p.location.line
    existing = _suppression(text, line)
    if existing is not None:
        at, match = existing
        written = dict(term.partition("=")[::2] for term in match["terms"].split())
        if match["reason"].strip() != request.reason or any(written.get(k, "") != v for k, v in terms.items()):
            return [Fix(f"{title}: line {line} holds another exception; add {finding.rule_id} to it by hand",
                        "display-only")]
        return [Fix(title, "safe", (TextEdit(path, at, at, f",{finding.rule_id}"),))]
    at = text.line_end(line)
    written = "".join(f" {name}={value}" for name, value in terms.items() if value)
    comment = f"  # winportlint: ignore[{finding.rule_id}]{written} {request.reason}"
    return [Fix(title, "safe", (TextEdit(path, at, at, comment),))]


def _suppression(text: _Text, line: int):
    """The byte offset of the ``]`` closing the ids of the suppression in a comment of ``line``,
    and its match; ``None`` when the line has none."""
    from winportlint.nodes import yaml_comments
    from winportlint.suppress import SUPPRESSION
    from winportlint.textfile import decode

    for number, column, _ in yaml_comments(decode(text.data)):
        if number != line:
            continue
        start = text.offset(line, column)
        comment = text.data[start:text.line_end(line)].decode("utf-8")
        match = SUPPRESSION.search(comment)
        if match:
            return start + len(comment[:match.end("ids")].encode("utf-8")), match
    return None


def _restrict(path: str, text: _Text, finding: Finding, request: FixRequest, json_syntax: bool) -> list[Fix]:
    """The CIDR replaced by the one configured source of its family, where it is written: in the
    rule, or in the Default of a parameter that only this rule uses."""
    p = finding.permission
    if p.control != "security-group" or p.peer.kind != "cidr" or p.peer.network is None or p.location.file != path:
        return []
    if finding.union_with:
        return [Fix(f"Restrict {p.peer.text} on {p.resource}: the internet is made by {len(finding.union_with) + 1} "
                    f"rules' CIDRs together; keep one rule, restricted, and remove the others", "display-only")]
    steps = [step for step in p.provenance if "Cidr" in step.field]  # not those of the ports or the resource
    other = next((step for step in steps if step.kind not in ("literal", "default", "parameter")), None)
    if other is not None:
        return [Fix(f"Restrict {p.peer.text} on {p.resource}: {other.describe()} decides it; change it there",
                    "display-only")]
    family = p.peer.network.version
    sources = [source for source in request.sources if ip_network(source, strict=False).version == family]
    if len(sources) != 1:
        why = (f"no IPv{family} admin source is configured ([tool.winportlint.fix] cidrs)" if not sources
               else f"{len(sources)} IPv{family} admin sources are configured: write one rule for each")
        return [Fix(f"Restrict {p.peer.text} on {p.resource}: {why}", "display-only")]
    source = sources[0]
    where, title = p.location, f"Restrict {p.peer.text} to {source} on {p.resource}"
    for provenance in steps:
        if provenance.kind != "parameter":
            continue
        name, uses, allowed = (_parameter(text, provenance.location, json_syntax)
                               if provenance.location is not None and provenance.location.file == path
                               else (None, 0, False))
        if name is None:
            return [Fix(f"{title}: change {provenance.describe()}", "display-only")]
        if uses != 1 or allowed:
            why = f"it is used {uses} times" if uses != 1 else "its AllowedValues must change too"
            return [Fix(f"{title}: parameter {name}'s Default is shared ({why}); pass {source} for this "
                        f"stack instead", "display-only")]
        where, title = provenance.location, f"Restrict parameter {name}'s Default {p.peer.text} to {source}"
    start = text.offset(where.line, where.column)
    anchor = _ANCHOR.match(text.data, start)
    if anchor:
        return [Fix(f"{title}: the value is anchored ({anchor[0].decode('utf-8', 'replace')}) for aliases to "
                    f"share; change it by hand", "display-only")]
    end, quote, value = text.scalar(start)
    if value != p.peer.text:
        return [Fix(f"{title}: the value at line {where.line} is not written as {p.peer.text}", "display-only")]
    if json_syntax and not quote:
        return []
    if not quote and ":" in source:  # a plain IPv6 CIDR may read as a mapping key in flow style
        quote = '"'
    return [Fix(title, "unsafe", (TextEdit(path, start, end, f"{quote}{source}{quote}"),))]


def _parameter(text: _Text, location, json_syntax: bool) -> tuple[str | None, int, bool]:
    """The parameter whose Default is written at ``location``, how many times the template
    refers to it (``Ref``, ``${Name}`` in ``Sub``) and whether it has AllowedValues."""
    from winportlint.nodes import load
    from winportlint.textfile import decode

    from .intrinsics import SHORT_TAGS

    for document in load(decode(text.data), json_syntax, SHORT_TAGS):
        parameters = document.value.get("Parameters") if isinstance(document.value, dict) else None
        if parameters is None or not isinstance(parameters.value, dict):
            continue
        for name, parameter in parameters.value.items():
            default = parameter.value.get("Default") if isinstance(parameter.value, dict) else None
            if default is not None and (default.line, default.column) == (location.line, location.column):
                rest = [node for key, node in document.value.items() if key != "Parameters"]
                return name, sum(_uses(node, name) for node in rest), "AllowedValues" in parameter.value
    return None, 0, False


def _uses(node, name: str) -> int:
    """References to the parameter ``name`` below ``node``."""
    count, stack = 0, [node]
    while stack:
        node = stack.pop()
        value = node.value
        if isinstance(value, dict):
            ref = value.get("Ref")
            count += ref is not None and ref.value == name
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            count += (node.tag == "!Ref" and value == name) + value.count("${" + name + "}")
    return count
