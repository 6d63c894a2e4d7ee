"""Where an element of a YAML flow collection or of JSON starts and ends, in a file's bytes.

Fixes delete a rule written as an element (``- {IpProtocol: tcp, ...}``, a JSON object in a
list, a member of a JSON object) and must take one comma with it, never a byte of its
neighbours; the formats that write such collections share these spans.
"""

from __future__ import annotations

import re

_SPACE = b" \t\r\n"
_LINE_END = re.compile(rb"\r\n|\r|\n")


def flow_end(data: bytes, start: int, json_syntax: bool) -> int | None:
    """The offset after the flow mapping or sequence starting at ``start`` (quoted text and
    YAML comments skipped), ``None`` when none starts there or it does not end."""
    if data[start:start + 1] not in (b"{", b"["):
        return None
    depth, at = 0, start
    while at < len(data):
        char = data[at:at + 1]
        if char in (b"{", b"["):
            depth += 1
        elif char in (b"}", b"]"):
            depth -= 1
            if not depth:
                return at + 1
        elif char == b'"' or char == b"'" and not json_syntax and data[at - 1:at] in b" \t\r\n{[,:":
            at = quoted_end(data, at)
            if at < 0:
                return None
            continue
        elif char == b"#" and not json_syntax and data[at - 1:at] in b" \t\r\n":
            match = _LINE_END.search(data, at)
            at = match.start() if match else len(data)
            continue
        at += 1
    return None


def quoted_end(data: bytes, start: int) -> int:
    """The offset after the quoted scalar or JSON string starting at ``start``, -1 when it is not closed."""
    quote, at = data[start:start + 1], start + 1
    while at < len(data):
        char = data[at:at + 1]
        if quote == b'"' and char == b"\\":
            at += 2
            continue
        if char == quote:
            if quote == b"'" and data[at + 1:at + 2] == b"'":  # '' is a quote in a single-quoted scalar
                at += 2
                continue
            return at + 1
        at += 1
    return -1


def flow_span(data: bytes, start: int, end: int | None, json_syntax: bool) -> list[tuple[int, int]]:
    """The bytes to delete for the element (or member) at ``start``-``end`` of a flow collection
    or JSON: with the comma and spaces before the next element, or the comma after the one
    before; the inside of the brackets when it is the only one. A YAML comment between the
    element and the one before stays. Empty when the element's neighbours cannot be told."""
    if end is None:
        return []
    after = end
    while after < len(data) and data[after] in _SPACE:
        after += 1
    if data[after:after + 1] == b",":
        following = after + 1
        while following < len(data) and data[following] in _SPACE:
            following += 1
        return [(start, following)]
    gap = start  # after the last byte before the element that is no space: a comment's end, a comma
    while gap and data[gap - 1] in _SPACE:
        gap -= 1
    before, commented = gap - 1, False
    while before >= 0:
        comment = None if json_syntax else comment_start(data, data.rfind(b"\n", 0, before) + 1, before + 1)
        if comment is None:
            break
        before, commented = comment - 1, True
        while before >= 0 and data[before] in _SPACE:
            before -= 1
    if before >= 0 and data[before:before + 1] == b",":
        return [(before, before + 1), (gap, end)] if commented else [(before, end)]
    if before >= 0 and data[before:before + 1] in (b"[", b"{") and data[after:after + 1] in (b"]", b"}"):
        return [(start, end)] if commented else [(before + 1, after)]
    return []


def comment_start(data: bytes, start: int, end: int) -> int | None:
    """The offset of the ``#`` opening a YAML comment between ``start`` (a line's start) and
    ``end``, outside quotes; ``None`` when there is none."""
    at, quote = start, None
    while at < end:
        char = data[at:at + 1]
        if quote is not None:
            if char == b"\\" and quote == b'"':
                at += 1
            elif char == quote:
                quote = None
        elif char in (b'"', b"'") and (at == start or data[at - 1:at] in b" \t{[,:"):
            quote = char
        elif char == b"#" and (at == start or data[at - 1:at] in b" \t"):
            return at
        at += 1
    return None
