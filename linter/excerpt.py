"""How a message shows what it read: an input value as a short escaped excerpt, a name escaped.

Reports travel far (code scanning, pull-request comments, CI logs), and a value
can hold anything a template or module was made to read: a value is never
quoted whole, and nothing a file holds may move a terminal's cursor, start a
new line of output or reorder text (control, format and separator characters).
"""

from __future__ import annotations

import re

#: The most characters of a value a message shows.
LIMIT = 60

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every character that is not printable written as an escape
    (``\\x1b``, ``\\n``, ``\\u202e``): for names (files, resources), never cut short."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def excerpt(value: object, quote: bool = True) -> str:
    """An input value as a message quotes it: a string in single quotes (``\\`` and ``'``
    escaped, so that where it ends is never in doubt), anything else as Python writes it;
    at most :data:`LIMIT` characters of it, and when it is longer, ``…`` and its length
    (``'WPLSECRET…' (209 characters)``); characters that are not printable escaped.
    ``quote=False`` shows a string as it is (source text as written, a value in JSON)."""
    text = value if isinstance(value, str) else repr(value)
    cut = text[:LIMIT]
    more = "…" if len(text) > LIMIT else ""
    if quote and isinstance(value, str):
        shown = "'" + printable(cut.replace("\\", "\\\\").replace("'", "\\'")) + more + "'"
    else:
        shown = printable(cut) + more
    return f"{shown} ({len(text)} characters)" if more else shown


#: A quoted part of another program's message: ``'...'`` or ``"..."``, with backslash escapes.
_QUOTED = re.compile(r"'((?:[^'\\\n]|\\.)*)'" + r'|"((?:[^"\\\n]|\\.)*)"')


def excerpts_in(text: str) -> str:
    """A message another program wrote (a parser, the evaluator, an exception) with each
    quoted part longer than :data:`LIMIT` shown as its :func:`excerpt`, and what is not
    printable escaped: such messages quote the input they choke on, whole."""
    if len(text) > LIMIT:
        text = _QUOTED.sub(lambda m: m[0] if len(m[0]) <= LIMIT + 2 else excerpt(m[1] if m[1] is not None else m[2]),
                           text)
    return printable(text)
