"""Where blocks and attributes are written in ``.tf`` files.

The evaluator (tfparse) gives values and the lines of blocks; findings must
point at the attribute (``cidr_blocks``) and, where it is spelt out, at the
CIDR itself. A scanner of HCL's native syntax finds them: blocks (type, labels,
first and last row), attributes (where the name is, where the value is written)
and the quoted string literals of each value. It follows the structure only
(brackets, strings, templates, heredocs, comments), not the grammar of
expressions: a value ends at a newline outside brackets, as in HCL. It reads a
small module three times faster than a tree-sitter parse, and keeps no syntax tree.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from collections.abc import Callable

from winportlint.textfile import read_bytes

#: Deeper nesting of blocks, brackets or templates is an error (the scanner recurses).
MAX_DEPTH = 200
#: A module's configuration files: HCL native syntax (OpenTofu's ``.tofu`` too) and JSON syntax.
NATIVE_SUFFIXES = (".tf", ".tofu")
JSON_SUFFIXES = (".tf.json", ".tofu.json")
CONFIG_SUFFIXES = (*NATIVE_SUFFIXES, *JSON_SUFFIXES)


def is_json(path: str) -> bool:
    """Whether a configuration file is written in JSON syntax (``.tf.json``, ``.tofu.json``)."""
    return path.endswith(JSON_SUFFIXES)


class Attribute:
    """An attribute or object element: where its name is written, the quoted string literals
    of its value (text, line, column; as written, escapes included, blanks at either end
    left out, and only strings without interpolation), and ``objects``: the elements of
    each object written as an element of a list (``ingress = [{...}, {...}]``), in order.
    ``span`` is where the value is written in the text of a ``.tf`` file (start and end offsets)."""

    __slots__ = ("line", "column", "strings", "objects", "span")

    def __init__(self, line: int, column: int, strings: list[tuple[str, int, int]],
                 objects: list[dict[str, Attribute]], span: tuple[int, int] | None = None):
        self.line, self.column, self.strings, self.objects, self.span = line, column, strings, objects, span

    def position_of(self, text: str | None) -> tuple[int, int]:
        """The literal spelling ``text`` if the value has one, else the attribute."""
        for literal, line, column in self.strings:
            if literal == text:
                return line, column
        return self.line, self.column


class Block:
    """A block: its type (``kind``), labels, position, attributes and nested blocks.

    ``rows`` is the block's first and last row (0-based) in a ``.tf`` file, ``None`` in JSON.
    """

    __slots__ = ("kind", "labels", "line", "column", "rows", "attributes", "children")

    def __init__(self, kind: str, labels: list[str], line: int, column: int, rows: tuple[int, int] | None = None,
                 attributes: dict[str, Attribute] | None = None, children: list[Block] | None = None):
        self.kind, self.labels, self.line, self.column, self.rows = kind, labels, line, column, rows
        self.attributes = {} if attributes is None else attributes
        self.children = [] if children is None else children


class _Index:
    """The blocks of one file, found by their first line (1-based)."""

    top_level: list[Block]

    def block_at(self, line: int, kind: str | None = None) -> Block | None:
        raise NotImplementedError


class HclIndex(_Index):
    """The index of a ``.tf`` file. ``text`` is its source, decoded (offsets of ``span``
    are in it); ``attributes`` are those outside any block (a ``.tfvars`` file's); ``error``
    is (line, message) when the scanner gave up (nesting too deep), with the blocks found
    before it."""

    def __init__(self, source: bytes):
        self.text = source.decode("utf-8", "replace")
        scanner = _Scanner(self.text)
        self.error: tuple[int, str] | None = None
        self.attributes: dict[str, Attribute] = {}
        try:
            self.attributes, self.top_level = scanner.body(0, 0)[:2]
        except _TooDeep as exc:
            self.top_level = scanner.top_level
            self.error = (scanner.point(exc.args[0])[0], f"nesting deeper than {MAX_DEPTH} levels")

    def block_at(self, line: int, kind: str | None = None) -> Block | None:
        """The block written at ``line``, at any depth: the first block of that kind
        starting on the line among the blocks of the innermost block holding it."""
        row = line - 1
        candidates = self.top_level
        while candidates:
            holder = None
            for block in candidates:
                first, last = block.rows
                if first == row and (kind is None or block.kind == kind):
                    return block
                if first <= row <= last:
                    holder = block
            if holder is None:
                return None
            candidates = holder.children
        return None


class _TooDeep(Exception):
    """Nesting deeper than MAX_DEPTH; the offset where it went too deep."""


_COMMENT = re.compile(r"#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z)", re.S)
#: Blanks and comments on one line (a ``/* */`` comment may span lines).
_BLANKS = re.compile(rf"(?:[ \t\r]+|{_COMMENT.pattern})*", re.S)
#: Blanks, newlines and comments.
_SPACE = re.compile(rf"(?:\s+|{_COMMENT.pattern})*", re.S)
#: A name: a block type, a label written bare, an attribute name.
_NAME = re.compile(r"[^\W\d][\w-]*")
#: What an expression can hold between the characters that matter to its structure.
_PLAIN = re.compile(r'[^"\n{}\[\]()#/<,=:]*')
#: Template text up to its end, or up to an interpolation or a directive (``${``, ``%{``).
_TEMPLATE_TEXT = re.compile(r'(?:\\.|\$\$\{|%%\{|[^"\\\n$%]|[$%](?!\{))*')
#: A quoted string up to its end, or up to its first interpolation or directive.
_QUOTED = re.compile(f'"({_TEMPLATE_TEXT.pattern})')
_HEREDOC = re.compile(r"<<-?([^\W\d][\w-]*)[ \t]*\r?\n")
_TEMPLATE_START = re.compile(r"\$\$\{|%%\{|[$%]\{")
_FOR = re.compile(r"for\b")


class _Scanner:
    """One pass over a file's text. The strings and objects of the attribute being read
    are gathered in ``strings`` and ``objects``; an object element takes its share of them."""

    def __init__(self, text: str, comments: bool = False):
        self.text = text
        self.end = len(text)
        self.strings: list[tuple[str, int, int]] = []
        self.objects: list[dict[str, Attribute]] = []
        self.top_level: list[Block] = []  # the top-level blocks read so far
        self.written_end = 0  # see ``expression``
        self._line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
        #: With ``comments``, each comment skipped, by offset: ``(line, column, text)``.
        self.comments: dict[int, tuple[int, int, str]] | None = {} if comments else None
        # Blanks and comments are skipped by these; noting comments costs a scan that does not.
        self.space, self.blanks = (self._noting(_SPACE), self._noting(_BLANKS)) if comments else \
            (_SPACE.match, _BLANKS.match)

    def _noting(self, pattern: re.Pattern) -> Callable[[str, int], re.Match]:
        def skip(text: str, pos: int) -> re.Match:
            found = pattern.match(text, pos)
            for comment in _COMMENT.finditer(text, pos, found.end()):
                self._note(comment)
            return found
        return skip

    def _note(self, comment: re.Match) -> None:
        body = comment.group()
        closed = body.startswith("/*") and body.endswith("*/") and len(body) >= 4
        body = body[1:] if body[0] == "#" else body[2:-2] if closed else body[2:]
        self.comments[comment.start()] = (*self.point(comment.start()), body)

    def point(self, offset: int) -> tuple[int, int]:
        """Line and column (1-based, in characters) of an offset."""
        line = bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def body(self, pos: int, depth: int) -> tuple[dict[str, Attribute], list[Block], int]:
        """The attributes and blocks of a body from ``pos`` to its closing brace (the file's end
        at depth 0); and the offset after it. What is not an attribute or a block is skipped
        up to the end of its line (the evaluator reports it)."""
        if depth > MAX_DEPTH:
            raise _TooDeep(pos)
        text, end, space, blanks = self.text, self.end, self.space, self.blanks
        attributes: dict[str, Attribute] = {}
        blocks: list[Block] = self.top_level if depth == 0 else []
        while True:
            pos = space(text, pos).end()
            if pos >= end:
                return attributes, blocks, end
            if text[pos] == "}":
                if depth:
                    return attributes, blocks, pos + 1
                pos += 1
                continue
            name = _NAME.match(text, pos)
            if name is None:
                pos = self._line_end(pos)
                continue
            start = pos
            pos = blanks(text, name.end()).end()
            if text.startswith("=", pos) and not text.startswith(("==", "=>"), pos):
                value = blanks(text, pos + 1).end()
                self.strings, self.objects = [], []
                pos = self.expression(value, "}", True, depth + 1)
                attributes[name.group()] = Attribute(*self.point(start), self.strings, self.objects,
                                                     (value, self.written_end))
                continue
            labels = []
            while pos < end:
                if text[pos] == '"':
                    quoted = _QUOTED.match(text, pos)
                    literal = quoted.group(1)
                    labels.append(literal.strip(" \t") or literal)
                    pos = quoted.end() + (text.startswith('"', quoted.end()))
                else:
                    label = _NAME.match(text, pos)
                    if label is None:
                        break
                    labels.append(label.group())
                    pos = label.end()
                pos = blanks(text, pos).end()
            if not text.startswith("{", pos):
                pos = self._line_end(pos)
                continue
            block_attributes, children, pos = self.body(pos + 1, depth + 1)
            line, column = self.point(start)
            blocks.append(Block(name.group(), labels, line, column, (line - 1, self.point(pos - 1)[0] - 1),
                                block_attributes, children))

    def _line_end(self, pos: int) -> int:
        """The end of the line at ``pos`` (past at least one character)."""
        newline = self.text.find("\n", pos + 1)
        return self.end if newline < 0 else newline

    def expression(self, pos: int, stops: str, newline_stops: bool, depth: int) -> int:
        """The offset of the first of ``stops`` (or of a newline, with ``newline_stops``) after
        ``pos`` outside brackets, strings and comments; the text's end if there is none.
        ``written_end`` is then where the expression's text ends (before blanks and comments)."""
        if depth > MAX_DEPTH:
            raise _TooDeep(pos)
        text, end = self.text, self.end
        start = written_end = pos
        while True:
            plain = _PLAIN.match(text, pos).end()
            if plain > pos:
                if not text[pos:plain].isspace():
                    written_end = plain
                pos = plain
            if pos >= end or (char := text[pos]) in stops or char == "\n" and newline_stops:
                while written_end > start and text[written_end - 1] in " \t\r\n":
                    written_end -= 1
                self.written_end = written_end
                return min(pos, end)
            if char in "#/" and (comment := _COMMENT.match(text, pos)) is not None:
                if self.comments is not None:
                    self._note(comment)
                pos = comment.end()
                continue
            if char == '"':
                pos = self._quoted(pos, depth)
            elif char == "[":
                pos = self._tuple(pos + 1, depth + 1)
            elif char == "{":
                pos = self._closing(self.expression(pos + 1, "}", False, depth + 1), "}")
            elif char == "(":
                pos = self._closing(self.expression(pos + 1, ")", False, depth + 1), ")")
            elif char == "<" and (heredoc := _HEREDOC.match(text, pos)) is not None:
                pos = self._heredoc(heredoc, depth)
            else:  # a newline within brackets, an operator, a closing bracket without its opening
                pos += 1
            written_end = pos

    def _closing(self, pos: int, bracket: str) -> int:
        return pos + 1 if self.text.startswith(bracket, pos) else pos

    def _quoted(self, pos: int, depth: int) -> int:
        """Past a quoted string; one without interpolation is one of the value's strings."""
        text = self.text
        quoted = _QUOTED.match(text, pos)
        after = quoted.end()
        if text.startswith('"', after):
            literal = quoted.group(1).strip(" \t")
            if literal:
                self.strings.append((literal, *self.point(pos)))
            return after + 1
        while text.startswith(("${", "%{"), after):  # a template: its interpolations and directives
            after = self._closing(self.expression(after + 2, "}", False, depth + 1), "}")
            after = _TEMPLATE_TEXT.match(text, after).end()
        return after + 1 if text.startswith('"', after) else after

    def _tuple(self, pos: int, depth: int) -> int:
        """Past a list from just after its ``[``: an element written as an object is one of
        the value's objects (not in a ``for`` expression)."""
        text, end, space = self.text, self.end, self.space
        first = True
        while True:
            pos = space(text, pos).end()
            if pos >= end:
                return end
            if text[pos] == "]":
                return pos + 1
            if first and _FOR.match(text, pos):
                return self._closing(self.expression(pos, "]", False, depth), "]")
            first = False
            if text[pos] == "{":
                pos = self._object(pos + 1, depth + 1)
            pos = self.expression(pos, ",]", False, depth)
            if text.startswith(",", pos):
                pos += 1

    def _object(self, pos: int, depth: int) -> int:
        """Past an object written as a list element, from just after its ``{``: its elements
        (``key = value`` or ``key: value``) as attributes."""
        text, end, space = self.text, self.end, self.space
        if _FOR.match(text, space(text, pos).end()):  # a `for` expression, not an object
            return self._closing(self.expression(pos, "}", False, depth), "}")
        elements: dict[str, Attribute] = {}
        self.objects.append(elements)
        while True:
            pos = space(text, pos).end()
            while text.startswith(",", pos):
                pos = space(text, pos + 1).end()
            if pos >= end:
                return end
            if text[pos] == "}":
                return pos + 1
            start = pos
            pos = self.expression(pos, "=:,}", True, depth)
            if pos >= end or text[pos] not in "=:":
                continue
            key = text[start:pos].strip()
            value = self.blanks(text, pos + 1).end()
            strings, objects = len(self.strings), len(self.objects)
            pos = self.expression(value, ",}", True, depth)
            if key.startswith('"'):
                literal = _QUOTED.match(key).group(1).strip(" \t")
                key = literal or key
            elements[key] = Attribute(*self.point(start), self.strings[strings:], self.objects[objects:],
                                      (value, self.written_end))

    def _heredoc(self, heredoc: re.Match, depth: int) -> int:
        """Past a heredoc: to the end of its closing line; its interpolations are read."""
        text = self.text
        closing = re.compile(rf"^[ \t]*{re.escape(heredoc.group(1))}[ \t]*\r?$", re.M).search(text, heredoc.end())
        stop = closing.start() if closing else self.end
        pos = heredoc.end()
        while (start := _TEMPLATE_START.search(text, pos, stop)) is not None:
            pos = start.end()
            if len(start.group()) == 2:
                pos = self._closing(self.expression(pos, "}", False, depth + 1), "}")
        return closing.end() if closing else self.end


def comments(source: bytes) -> list[tuple[int, int, str]]:
    r"""``(line, column, text)`` of each comment of a ``.tf`` file, lines counted as the index
    counts them (``\n`` only): ``#`` and ``//`` to the end of the line, ``/* */``; ``text`` is what
    is written after ``#`` or ``//`` or between ``/*`` and ``*/``. The scanner skips strings
    and heredocs, so what they hold is no comment."""
    scanner = _Scanner(source.decode("utf-8", "replace"), comments=True)
    try:
        scanner.body(0, 0)
    except _TooDeep:  # the reading reports it; the comments before it are known
        pass
    return [scanner.comments[offset] for offset in sorted(scanner.comments)]


class JsonIndex(_Index):
    """The index of a ``.tf.json`` file, from the positioned JSON loader."""

    def __init__(self, source: bytes):
        from winportlint.nodes import LoadError, load
        from winportlint.textfile import NotText, decode

        self.blocks: dict[int, list[Block]] = {}
        self.top_level = []
        try:
            root = load(decode(source), json_syntax=True)[0]
        except (LoadError, NotText):  # the evaluator reports the syntax error
            return
        for kind, section in _items(root):
            depth = 2 if kind in ("resource", "data") else 1 if kind in ("module", "variable", "output") else 0
            for labels, node in _labelled(section, depth):
                for body in node.value if isinstance(node.value, list) else [node]:
                    self.top_level.append(self._block(kind, labels, body))

    def block_at(self, line: int, kind: str | None = None) -> Block | None:
        for block in self.blocks.get(line, ()):
            if kind is None or block.kind == kind:
                return block
        return None

    def _block(self, kind: str, labels: list[str], node) -> Block:
        block = Block(kind, labels, node.line, node.column)
        self.blocks.setdefault(node.line, []).append(block)
        for name, value in _items(node):
            line, column = node.key_pos[name]
            attribute = Attribute(line, column, sorted(_strings(value), key=lambda item: item[1:]), [])
            block.attributes[name] = attribute
            if isinstance(value.value, list):
                for item in value.value:
                    if isinstance(item.value, dict):
                        child = self._block(name, [], item)
                        block.children.append(child)
                        attribute.objects.append(child.attributes)
        return block


def _items(node) -> list:
    return list(node.value.items()) if isinstance(node.value, dict) else []


def _labelled(node, depth: int, labels: tuple[str, ...] = ()):
    if depth == 0:
        yield list(labels), node
        return
    for name, child in _items(node):
        yield from _labelled(child, depth - 1, (*labels, name))


def _strings(node):
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current.value, str):
            yield current.value, current.line, current.column
        elif isinstance(current.value, list):
            stack.extend(current.value)
        elif isinstance(current.value, dict):
            stack.extend(current.value.values())


class _Kept:
    """Indexes kept for the next to ask (the module-call scan reads files the reading reads
    again), by normalised path, with the file's mtime; at most ``limit`` bytes of source
    (the oldest go first)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.entries: dict[str, tuple[int, int, HclIndex | JsonIndex]] = {}
        self.size = 0

    def get(self, key: str, mtime: int) -> HclIndex | JsonIndex | None:
        kept = self.entries.get(key)
        return kept[2] if kept is not None and kept[0] == mtime else None

    def put(self, key: str, mtime: int, size: int, index: HclIndex | JsonIndex) -> None:
        self.pop(key)
        self.entries[key] = (mtime, size, index)
        self.size += size
        while self.size > self.limit and len(self.entries) > 1:
            self.pop(next(iter(self.entries)))

    def pop(self, key: str) -> None:
        kept = self.entries.pop(key, None)
        if kept is not None:
            self.size -= kept[1]


_kept = _Kept(64 << 20)


def index_file(path: str, source: bytes | None = None) -> HclIndex | JsonIndex:
    """The index of a file, kept until :func:`forget_index` (an edited file, with another
    mtime, is read again); ``source`` is its content, when the caller has read it."""
    key = os.path.normpath(path)
    mtime = os.stat(path).st_mtime_ns
    index = _kept.get(key, mtime)
    if index is None:
        if source is None:
            source = read_bytes(path)
        index = JsonIndex(source) if is_json(path) else HclIndex(source)
        _kept.put(key, mtime, len(source), index)
    return index


def forget_index(path: str) -> None:
    """Drop the kept index of a file (indexes are several times the size of their source)."""
    _kept.pop(os.path.normpath(path))


def read_ahead(paths: list[str], done: Callable[[], bool]) -> None:
    """Index files for the reading, one by one until ``done()``: work for this thread
    while the evaluator runs on another."""
    for path in paths:
        if done():
            break
        try:
            index_file(path)
        except OSError:
            continue  # reported by the reading
