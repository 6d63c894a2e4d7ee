"""Fixes in CloudFormation templates: edits at the place a value is written, or deleting the
rule (its item of the group's list, or its own resource).

Offsets are found in the file's bytes from the positions the loader reports (lines and
characters of the decoded text, which dropped a BOM and read CRLF as LF), so that every
byte outside an edit stays: quoting, comments, flow style, line endings.
"""

from __future__ import annotations

import functools
import re
from ipaddress import ip_network

from winportlint.excerpt import excerpt
from winportlint.flow_spans import flow_end, flow_span, quoted_end
from winportlint.model import Finding, Fix, FixRequest, TextEdit

_BOM = b"\xef\xbb\xbf"
_LINE_END = re.compile(rb"\r\n|\r|\n")
#: Bytes that end a plain scalar holding a CIDR (flow punctuation, a comment, a line end).
_PLAIN_END = frozenset(b" \t\r\n,]}#")
#: A YAML anchor, where the loader says a value starts (``&world 0.0.0.0/0``): aliases share it.
_ANCHOR = re.compile(rb"&[^\s,\[\]{}]+")
#: A YAML alias (``*world``), which shares the node its anchor names.
_ALIAS = re.compile(rb"(?:^|[\s\[{,])\*[^\s,\[\]{}]+", re.MULTILINE)


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


@functools.lru_cache(maxsize=4)
def documents(data: bytes, json_syntax: bool, js_yaml: bool = False) -> tuple:
    """A template's documents, read from its bytes as the format reads them (LoadError or NotText
    when they do not read). Every finding of a file and every request reads the same bytes: the
    last few files' are kept (their nodes are only ever read)."""
    from winportlint.nodes import load
    from winportlint.textfile import decode

    from .intrinsics import SHORT_TAGS

    return tuple(load(decode(data), json_syntax, SHORT_TAGS, js_yaml=js_yaml))


def fixes(path: str, data: bytes, finding: Finding, request: FixRequest, json_syntax: bool) -> list[Fix]:
    """The fixes for ``request`` (see ``Format.fixes``); none for text that is not UTF-8, or that
    no longer reads (an editor's buffer being typed in)."""
    from winportlint.nodes import LoadError

    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data:
        return []
    try:
        text = _Text(data)
        if request.kind == "accept":
            return _accept(path, text, finding, request, json_syntax)
        if request.kind == "restrict":
            return _restrict(path, text, finding, request, json_syntax)
        if request.kind == "remove":
            return _remove(path, text, finding, json_syntax)
    except (UnicodeDecodeError, ValueError, IndexError, LoadError):  # positions that do not fit the bytes: no fix
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
    rule, or in the Default of a parameter that only this rule uses; without a CIDR of its
    family, by the configured prefix list or else security group (key and value)."""
    p = finding.permission
    if p.control != "security-group" or p.peer.kind != "cidr" or p.peer.network is None or p.location.file != path:
        return []
    if finding.union_with:
        return [Fix(f"Restrict {p.peer.text} on {p.resource}: the internet is made by {len(finding.union_with) + 1} "
                    f"rules' CIDRs together; keep one rule, restricted, and remove the others", "display-only")]
    if _shared_rule(p) and _ALIAS.search(text.data):  # a Serverless variable's rule: see serverless_fixes
        return [Fix(f"Restrict {p.peer.text} on {p.resource}: {_SHARED.format(line=p.rule_location.line)}",
                    "display-only")]
    steps = [step for step in p.provenance if "Cidr" in step.field]  # not those of the ports or the resource
    other = next((step for step in steps
                  if step.kind not in ("literal", "default", "parameter", "condition", "mapping")), None)
    if other is not None:
        return [Fix(f"Restrict {p.peer.text} on {p.resource}: {other.describe()} decides it; change it there",
                    "display-only")]
    family = p.peer.network.version
    sources = [source for source in request.sources
               if "/" in source and ip_network(source, strict=False).version == family]
    ids = [source for source in request.sources if "/" not in source]  # a prefix list's, a group's
    chosen = next((step for step in steps if step.kind in ("condition", "mapping")), None)
    if not sources and ids:
        if chosen is not None:
            return [Fix(f"Restrict {p.peer.text} on {p.resource}: {chosen.describe()} chooses the CIDR, which a "
                        f"prefix list or security group id cannot replace there; change the rule by hand",
                        "display-only")]
        return _restrict_to_id(path, text, finding, ids[0], steps, json_syntax)
    if len(sources) != 1:
        why = (f"no IPv{family} admin source is configured ([tool.winportlint.fix] cidrs, prefix_list or "
               f"security_group)" if not sources
               else f"{len(sources)} IPv{family} admin sources are configured: write one rule for each")
        return [Fix(f"Restrict {p.peer.text} on {p.resource}: {why}", "display-only")]
    source = sources[0]
    where, title = p.location, f"Restrict {p.peer.text} to {source} on {p.resource}"
    mapping = next((step for step in steps if step.kind == "mapping"), None)
    if mapping is not None:  # the value is the entry's; parameters only choose the entry
        return _restrict_mapping_entry(path, text, finding, source, mapping, json_syntax)
    for provenance in steps:
        if provenance.kind == "condition" and provenance.location is not None and provenance.location.file == path:
            # the branch's own literal, written for this rule alone
            where, title = provenance.location, f"Restrict {p.peer.text} to {source} on {p.resource} " \
                                                f"({provenance.describe()})"
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
    return _replaced(path, text, where, title, p.peer.text, source, json_syntax)


def _restrict_mapping_entry(path: str, text: _Text, finding: Finding, source: str, mapping, json_syntax: bool):
    """The CIDR restricted in the mapping entry that gives it, when nothing else reads that
    mapping (``Fn::FindInMap`` on it once: its other entries serve other stacks' choices of this
    rule only); else display-only."""
    p = finding.permission
    name = mapping.detail.removeprefix("mapping ").split("/")[0]
    title = f"Restrict {mapping.detail}'s {p.peer.text} to {source}"
    if mapping.location is None or mapping.location.file != path:
        return [Fix(f"{title}: change it there", "display-only")]
    uses = _map_uses(text, name, json_syntax)
    if uses != 1:
        return [Fix(f"{title}: mapping {name} is read {uses} times; give this rule a value of its own",
                    "display-only")]
    return _replaced(path, text, mapping.location, title, p.peer.text, source, json_syntax)


def _map_uses(text: _Text, name: str, json_syntax: bool) -> int:
    """How many ``Fn::FindInMap`` (or ``!FindInMap``) read the mapping ``name``."""
    count, stack = 0, list(documents(text.data, json_syntax))
    while stack:
        node = stack.pop()
        value = node.value
        if isinstance(value, dict):
            found = value.get("Fn::FindInMap")
            count += found is not None and isinstance(found.value, list) and bool(found.value) \
                and found.value[0].value == name
            stack.extend(value.values())
        elif isinstance(value, list):
            count += node.tag == "!FindInMap" and bool(value) and value[0].value == name
            stack.extend(value)
    return count


def _replaced(path: str, text: _Text, where, title: str, written: str, source: str, json_syntax: bool) -> list[Fix]:
    """The scalar ``written`` at ``where`` replaced by ``source``, its quoting kept; display-only
    when it is anchored (aliases share it) or not written so."""
    start = text.offset(where.line, where.column)
    anchor = _ANCHOR.match(text.data, start)
    if anchor:
        return [Fix(f"{title}: the value is anchored ({excerpt(anchor[0].decode('utf-8', 'replace'), quote=False)}) for aliases to "
                    f"share; change it by hand", "display-only")]
    end, quote, value = text.scalar(start)
    if value != written:
        return [Fix(f"{title}: the value at line {where.line} is not written as {written}", "display-only")]
    if json_syntax and not quote:
        return []
    if not quote and ":" in source:  # a plain IPv6 CIDR may read as a mapping key in flow style
        quote = '"'
    return [Fix(title, "unsafe", (TextEdit(path, start, end, f"{quote}{source}{quote}"),))]


#: The key a rule names a prefix list or a security group with, by direction and id prefix.
_ID_KEYS = {("ingress", "pl-"): "SourcePrefixListId", ("ingress", "sg-"): "SourceSecurityGroupId",
            ("egress", "pl-"): "DestinationPrefixListId", ("egress", "sg-"): "DestinationSecurityGroupId"}


def _restrict_to_id(path: str, text: _Text, finding: Finding, source: str, steps, json_syntax: bool) -> list[Fix]:
    """The rule's CIDR key and value replaced by the prefix list's or security group's
    (``CidrIp: 0.0.0.0/0`` to ``SourcePrefixListId: pl-…``), each keeping its quoting; display-only
    when a parameter gives the CIDR (its Default is a CIDR, and other stacks may pass one)."""
    p = finding.permission
    named = "prefix list" if source.startswith("pl-") else "security group"
    key = _ID_KEYS[(p.direction.value, source[:3])]
    title = f"Restrict {p.peer.text} to {named} {source} on {p.resource}"
    parameter = next((step for step in steps if step.kind == "parameter"), None)
    if parameter is not None:
        return [Fix(f"{title}: {parameter.describe()} gives a CIDR, which a {named} id cannot replace; "
                    f"write {key}: {source} in the rule instead", "display-only")]
    rule = _mapping_at(text, p.rule_location, json_syntax)
    written = None if rule is None else next(
        (name for name, node in rule.value.items() if (node.line, node.column) == (p.location.line, p.location.column)),
        None)
    if written is None:
        return [Fix(f"{title}: the rule's {p.peer.text} is not written in it; change it by hand", "display-only")]
    if key in rule.value:
        return [Fix(f"{title}: the rule already has {key}", "display-only")]
    start = text.offset(p.location.line, p.location.column)
    anchor = _ANCHOR.match(text.data, start)
    if anchor:
        return [Fix(f"{title}: the value is anchored ({excerpt(anchor[0].decode('utf-8', 'replace'), quote=False)}) for aliases to "
                    f"share; change it by hand", "display-only")]
    end, quote, value = text.scalar(start)
    key_start = text.offset(*rule.key_pos[written])
    key_quote = chr(text.data[key_start]) if text.data[key_start:key_start + 1] in (b'"', b"'") else ""
    key_end = key_start + len(f"{key_quote}{written}{key_quote}".encode())
    if value != p.peer.text or text.data[key_start:key_end] != f"{key_quote}{written}{key_quote}".encode():
        return [Fix(f"{title}: the rule at line {p.rule_location.line} is not written as it reads", "display-only")]
    return [Fix(title, "unsafe", (TextEdit(path, key_start, key_end, f"{key_quote}{key}{key_quote}"),
                                  TextEdit(path, start, end, f"{quote}{source}{quote}")))]


def _mapping_at(text: _Text, location, json_syntax: bool):
    """The mapping node written at ``location`` (a rule), ``None`` when there is none."""
    stack = list(documents(text.data, json_syntax))
    while stack:
        node = stack.pop()
        if isinstance(node.value, dict):
            if (node.line, node.column) == (location.line, location.column):
                return node
            stack.extend(node.value.values())
        elif isinstance(node.value, list):
            stack.extend(node.value)
    return None


_SHARED = ("the rule is written at line {line}, above its resource, where other resources may take it too (an "
           "anchor's aliases, a Serverless variable); change it by hand")


def _shared_rule(p) -> bool:
    """Whether the rule is written above its resource in the same file: in an anchored mapping
    that the resource merges or aliases (an anchor comes before its aliases), which other
    resources may share."""
    start = p.resource_location
    return start is not None and start.file == p.rule_location.file and \
        (p.rule_location.line, p.rule_location.column) < (start.line, start.column)


def _parameter(text: _Text, location, json_syntax: bool) -> tuple[str | None, int, bool]:
    """The parameter whose Default is written at ``location``, how many times the template
    refers to it (``Ref``, ``${Name}`` in ``Sub``) and whether it has AllowedValues."""
    for document in documents(text.data, json_syntax):
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


#: The resource types whose rules a removal deletes, and where: an item of the group's list
#: of the direction, or the whole resource that is the rule.
_RULE_LISTS = {"ingress": "SecurityGroupIngress", "egress": "SecurityGroupEgress"}
_RULE_RESOURCES = ("AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress")


def _remove(path: str, text: _Text, finding: Finding, json_syntax: bool) -> list[Fix]:
    """The rule deleted: its item of the group's ``SecurityGroupIngress``/``Egress`` (a block item
    with every line below its dash, or a flow or JSON element with the comma between it and a
    neighbour), or the resource that is the rule when nothing refers to it. A rule a condition,
    a loop or a parent stack decides is display-only."""
    p = finding.permission
    if p.control != "security-group" or p.rule_location.file != path:
        return []
    rule = _rule_text(p)
    title = f"Remove {p.resource}, the rule {rule}" if p.resource_type in _RULE_RESOURCES else \
        f"Remove {p.resource}'s rule {rule}"
    if finding.union_with:
        return [Fix(f"{title}: the internet is made by {len(finding.union_with) + 1} rules' CIDRs together, and "
                    f"removing one leaves the others open; remove them all by hand, or keep one restricted",
                    "display-only")]
    if _shared_rule(p):
        return [Fix(f"{title}: {_SHARED.format(line=p.rule_location.line)}", "display-only")]
    stack = next((step for step in p.provenance if step.kind == "module"), None)
    if stack is not None:
        return [Fix(f"{title}: the template is nested {stack.detail}, whose parameters decide the rule, and "
                    f"other stacks may use it; remove the rule by hand", "display-only")]
    for document in documents(text.data, json_syntax):
        resources = document.value.get("Resources") if isinstance(document.value, dict) else None
        if resources is None or not isinstance(resources.value, dict):
            continue
        resource = resources.value.get(p.resource)
        if resource is None:
            if any(name.startswith("Fn::ForEach::") for name in resources.value):
                return [Fix(f"{title}: Fn::ForEach makes the resource; change the loop by hand", "display-only")]
            continue
        if p.resource_type in _RULE_RESOURCES:
            return _remove_resource(path, text, document, resources, p.resource, title, json_syntax)
        return _remove_item(path, text, resource, finding, title, json_syntax)
    return []


def _rule_text(p) -> str:
    """``3389/tcp from 0.0.0.0/0``: the rule as a title names it."""
    from winportlint.exposure import ports_text

    return f"{ports_text(p)} {'from' if p.direction.value == 'ingress' else 'to'} {p.peer.text}"


def _remove_item(path: str, text: _Text, resource, finding: Finding, title: str, json_syntax: bool) -> list[Fix]:
    """The rule's item deleted from the group's list; display-only when it is not an item of that
    list (a condition chooses it), or the list or item is anchored for aliases to share."""
    p = finding.permission
    key = _RULE_LISTS[p.direction.value]
    properties = resource.value.get("Properties") if isinstance(resource.value, dict) else None
    rules = properties.value.get(key) if properties is not None and isinstance(properties.value, dict) else None
    if rules is None or not isinstance(rules.value, list):
        return [Fix(f"{title}: Fn::If or another function makes {key}; change it by hand", "display-only")]
    where = (p.rule_location.line, p.rule_location.column)
    index = next((i for i, item in enumerate(rules.value) if (item.line, item.column) == where), None)
    if index is None:
        return [Fix(f"{title}: Fn::If chooses the rule (line {p.rule_location.line}); change the condition by hand",
                    "display-only")]
    anchor = _ANCHOR.match(text.data, text.offset(rules.line, rules.column))
    if anchor and _aliased(text.data, anchor[0], ()):
        return [Fix(f"{title}: {key} is anchored ({excerpt(anchor[0].decode('utf-8', 'replace'), quote=False)}) for aliases to share; "
                    f"remove it by hand", "display-only")]
    item = rules.value[index]
    start = text.offset(item.line, item.column)
    if start < text.offset(*properties.key_pos[key]):  # an alias: the item is written elsewhere
        return [Fix(f"{title}: it is an alias of the rule at line {item.line}; remove it by hand", "display-only")]
    dash = None if json_syntax else _dash(text, start)
    if dash is None:
        edits = [TextEdit(path, *span, "")
                 for span in flow_span(text.data, start, flow_end(text.data, start, json_syntax), json_syntax)]
    else:
        # One edit from the list's colon to the item's end, what is between written again as it
        # is: two removals from a list then overlap and are made in turn, never together (a list
        # emptied would read as null); the last one writes it as ``[]``.
        colon = _colon(text, *properties.key_pos[key])
        first, end = _block_span(text, *dash)
        kept = text.data[colon + 1:first].decode("utf-8")
        edits = [TextEdit(path, colon, end, (": []" if len(rules.value) == 1 else ":") + kept)]
    return _deletion(text, Fix(title, "unsafe", tuple(edits)), json_syntax,
                     lambda resources: _count(resources, p.resource, key), len(rules.value) - 1, "the item")


def _remove_resource(path: str, text: _Text, document, resources, name: str, title: str,
                     json_syntax: bool) -> list[Fix]:
    """The resource that is the rule deleted, key and body, when nothing in the template refers
    to it; else display-only naming what does."""
    resource = resources.value[name]
    reference = _reference(document, name, resource)
    if reference is not None:
        return [Fix(f"{title}: {reference} refers to it; remove that first", "display-only")]
    line, column = resources.key_pos[name]
    start = text.offset(line, column)
    if not json_syntax and _dash_free_block(text, start):
        spans = [_block_span(text, line, column - 1)]
    else:
        spans = flow_span(text.data, start, flow_end(text.data, text.offset(resource.line, resource.column),
                                                       json_syntax), json_syntax)
    return _deletion(text, Fix(title, "unsafe", tuple(TextEdit(path, *span, "") for span in spans)), json_syntax,
                     lambda resources: _count(resources, name), len(resources.value) - 1, "the resource")


def _deletion(text: _Text, fix: Fix, json_syntax: bool, count, expected: int, what: str) -> list[Fix]:
    """The removal ``fix``, display-only when it deletes an anchor that aliases elsewhere use, or
    when the fixed bytes do not read with ``count(Resources) == expected`` (the deletion's bounds
    were misjudged)."""
    shared = _shared_anchor(text.data, fix.edits)
    if shared:
        return [Fix(f"{fix.title}: it holds the anchor {shared} that aliases share; remove it by hand",
                    "display-only")]
    if not fix.edits or not _removed(text.data, fix, json_syntax, count, expected):
        return [Fix(f"{fix.title}: where {what} ends cannot be told; remove it by hand", "display-only")]
    return [fix]


def _aliased(data: bytes, anchor: bytes, spans) -> bool:
    """Whether an alias of ``anchor`` (``&name``) is written outside the byte ``spans``."""
    alias = re.compile(rb"\*" + re.escape(anchor[1:]) + rb"(?![^\s,\[\]{}])")
    return any(not any(start <= match.start() < end for start, end in spans) for match in alias.finditer(data))


def _shared_anchor(data: bytes, edits) -> str:
    """The first anchor that the deleted bytes define and an alias outside them uses ("" when none)."""
    spans = [(edit.start, edit.end) for edit in edits]
    for start, end in spans:
        for anchor in _ANCHOR.finditer(data, start, end):
            if _aliased(data, anchor[0], spans):
                return anchor[0].decode("utf-8", "replace")
    return ""


def _dash(text: _Text, start: int) -> tuple[int, int] | None:
    """The line and indentation of the ``-`` of the block sequence item starting at ``start``
    (on its line, or alone on a line above it), ``None`` for a flow item."""
    data = text.data
    line = _line_of(text, start)
    before = data[text.starts[line - 1]:start].rstrip(b" \t")
    if before.endswith(b"-") and not before[:-1].strip(b" "):
        return line, len(before) - 1
    if before.strip(b" \t"):
        return None
    for above in range(line - 1, 0, -1):
        content = data[text.starts[above - 1]:text.line_end(above)]
        stripped = content.strip(b" \t")
        if not stripped or stripped.startswith(b"#"):
            continue
        if stripped == b"-" or stripped.startswith(b"-") and stripped[1:].lstrip(b" \t").startswith(b"#") \
                and stripped[1:2] in (b" ", b"\t"):
            return above, len(content) - len(content.lstrip(b" "))
        return None
    return None


def _dash_free_block(text: _Text, start: int) -> bool:
    """Whether the key at ``start`` is a block mapping's: nothing but spaces before it on its line."""
    return not text.data[text.starts[_line_of(text, start) - 1]:start].strip(b" ")


def _line_of(text: _Text, offset: int) -> int:
    from bisect import bisect_right

    return bisect_right(text.starts, offset)


def _block_span(text: _Text, line: int, indent: int) -> tuple[int, int]:
    """The bytes of the block starting at ``line`` whose lines below are indented more than
    ``indent`` (a blank line or a comment among them included; blank lines after it not)."""
    last = line
    for number in range(line + 1, len(text.starts) + 1):
        content = text.data[text.starts[number - 1]:text.line_end(number)]
        if not content.strip(b" \t"):
            continue
        if len(content) - len(content.lstrip(b" ")) <= indent:
            break
        last = number
    end = text.starts[last] if last < len(text.starts) else len(text.data)
    return text.starts[line - 1], end


def _colon(text: _Text, line: int, column: int) -> int:
    """The offset of the ``:`` after the block mapping key at ``line``/``column``."""
    start = text.offset(line, column)
    end = quoted_end(text.data, start) if text.data[start:start + 1] in (b'"', b"'") else start
    return text.data.index(b":", end)


def _removed(data: bytes, fix: Fix, json_syntax: bool, count, expected: int) -> bool:
    """Whether the fixed bytes read as a template where ``count(Resources)`` is ``expected``: the
    edits deleted the one item or resource meant, no less and no more."""
    from winportlint.fixes import applied
    from winportlint.nodes import LoadError, load
    from winportlint.textfile import NotText, decode

    from .intrinsics import SHORT_TAGS

    try:
        documents = load(decode(applied(data, fix.edits)), json_syntax, SHORT_TAGS)
    except (LoadError, NotText, ValueError):
        return False
    counts = [count(document.value["Resources"]) for document in documents
              if isinstance(document.value, dict) and "Resources" in document.value]
    return counts == [expected]


def _count(resources, name: str, key: str | None = None) -> int:
    """How many resources the template has (without ``key``), or rules the resource ``name``'s
    ``key`` lists (-1 when that is not a list)."""
    if not isinstance(resources.value, dict):
        return -1
    if key is None:
        return -1 if name in resources.value else len(resources.value)
    resource = resources.value.get(name)
    properties = resource.value.get("Properties") if resource is not None and isinstance(resource.value, dict) \
        else None
    rules = properties.value.get(key) if properties is not None and isinstance(properties.value, dict) else None
    return len(rules.value) if rules is not None and isinstance(rules.value, list) else -1


def _reference(document, name: str, skip) -> str | None:
    """What refers to the resource ``name`` outside ``skip`` (its own body), as ``resource X
    (Ref, line 7)`` or ``Outputs Y (Fn::Sub, line 9)``: a ``Ref``, ``Fn::GetAtt``, ``DependsOn``
    or ``${name}`` in a ``Fn::Sub``; ``None`` when nothing does."""
    sub = re.compile(r"\$\{" + re.escape(name) + r"[.}]")
    stack = []
    for section, entries in document.value.items():
        if isinstance(entries.value, dict):
            stack += [(node, f"resource {key}" if section == "Resources" else f"{section} {key}")
                      for key, node in entries.value.items()]
    while stack:
        node, owner = stack.pop()
        if node is skip:
            continue
        value, how = node.value, None
        if isinstance(value, dict):
            for key, child in value.items():
                target = child.value
                if key == "Ref" and target == name or key == "DependsOn" and (
                        target == name or isinstance(target, list) and any(item.value == name for item in target)):
                    how = key
                elif key == "Fn::GetAtt" and (isinstance(target, list) and target and target[0].value == name
                                              or isinstance(target, str) and target.startswith(name + ".")):
                    how = key
            stack += [(child, owner) for child in value.values()]
        elif isinstance(value, list):
            how = "Fn::GetAtt" if node.tag == "!GetAtt" and value and value[0].value == name else None
            stack += [(child, owner) for child in value]
        elif isinstance(value, str):
            if node.tag == "!Ref" and value == name:
                how = "Ref"
            elif node.tag == "!GetAtt" and value.startswith(name + "."):
                how = "Fn::GetAtt"
            elif sub.search(value):
                how = "Fn::Sub"
        if how is not None:
            return f"{owner} ({how}, line {node.line})"
    return None
