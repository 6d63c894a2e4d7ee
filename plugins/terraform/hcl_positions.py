"""Where attributes are written in ``.tf`` files, from a tree-sitter parse.

The evaluator (tfparse) gives values and the lines of blocks; findings must
point at the attribute (``cidr_blocks``) and, where it is spelt out, at the
CIDR itself. Tree-sitter parses a file in about a millisecond and gives
every node's line and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache


class Attribute:
    """An attribute or object element: its name position and the string literals of its value.

    ``objects`` holds the elements of each object when the value is a list
    of objects (``ingress = [{...}, {...}]``), in order. Position, strings and
    objects are worked out on first use: most attributes of a file are never asked for.
    """

    __slots__ = ("_line", "_column", "_locate", "_strings", "_objects", "_expand")

    def __init__(self, line: int | None, column: int | None, strings=None, objects=None, expand=None, locate=None):
        self._line = line
        self._column = column
        self._locate = locate
        self._strings = strings
        self._objects = objects
        self._expand = expand

    def _place(self) -> None:
        self._line, self._column = self._locate()
        self._locate = None

    @property
    def line(self) -> int:
        if self._locate is not None:
            self._place()
        return self._line

    @property
    def column(self) -> int:
        if self._locate is not None:
            self._place()
        return self._column

    def _load(self) -> None:
        if self._strings is None:
            self._strings, self._objects = self._expand() if self._expand else ([], [])
            self._expand = None

    @property
    def strings(self) -> list[tuple[str, int, int]]:
        self._load()
        return self._strings

    @property
    def objects(self) -> list[dict[str, Attribute]]:
        self._load()
        return self._objects

    def work_out(self) -> None:
        """Everything now, so that nothing refers to the syntax tree any more."""
        if self._locate is not None:
            self._place()
        self._load()
        for elements in self._objects:
            for element in elements.values():
                element.work_out()

    def position_of(self, text: str | None) -> tuple[int, int]:
        """The literal spelling ``text`` if the value has one, else the attribute."""
        for literal, line, column in self.strings:
            if literal == text:
                return line, column
        return self.line, self.column


class Block:
    """A block: its kind, labels and position; attributes and nested blocks on first use.

    ``rows`` is the block's first and last row (0-based) in a ``.tf`` file, ``None`` in JSON.
    """

    __slots__ = ("kind", "labels", "line", "column", "rows", "_attributes", "_children", "_expand")

    def __init__(self, kind: str, labels: list[str], line: int, column: int, expand=None,
                 rows: tuple[int, int] | None = None):
        self.kind, self.labels, self.line, self.column, self.rows = kind, labels, line, column, rows
        self._attributes: dict[str, Attribute] | None = None if expand else {}
        self._children: list[Block] = []
        self._expand = expand

    def _load(self) -> None:
        if self._expand is not None:
            self._attributes, self._children = self._expand()
            self._expand = None

    @property
    def attributes(self) -> dict[str, Attribute]:
        self._load()
        return self._attributes

    @property
    def children(self) -> list[Block]:
        self._load()
        return self._children

    def work_out(self) -> None:
        """Attributes and nested blocks, all of them, now: nothing refers to the syntax tree any more."""
        self._load()
        for attribute in self._attributes.values():
            attribute.work_out()
        for child in self._children:
            child.work_out()


class _Index:
    """The blocks of one file, found by their first line (1-based)."""

    top_level: list[Block]

    def block_at(self, line: int, kind: str | None = None) -> Block | None:
        raise NotImplementedError

    def work_out(self, wanted: Callable[[Block], bool]) -> None:
        """Work out the blocks ``wanted`` picks now (a JSON index has worked out all)."""


class HclIndex(_Index):
    """The index of a ``.tf`` file, from tree-sitter. Only the blocks asked for are read.

    Nothing here holds a reference cycle (blocks and attributes point at a
    ``_Reader``, which points at no block), so an index is freed as soon as it
    is dropped, even while the cyclic garbage collector is off.
    """

    def __init__(self, source: bytes):
        self._reader = _Reader(source)
        self._top_nodes: list | None = None
        self._parse()
        self._top_blocks: list[Block | None] = [None] * len(self._top_nodes)
        self._top_rows: list[tuple[int, int]] | None = None

    def _parse(self) -> list:
        body = _child(_parser().parse(readable(self._reader.source)).root_node, "body")
        self._top_nodes = [node for node in body.named_children if node.type == "block"] if body else []
        return self._top_nodes

    def _top(self, index: int) -> Block:
        block = self._top_blocks[index]
        if block is None:
            nodes = self._top_nodes if self._top_nodes is not None else self._parse()  # dropped: parse again
            block = self._top_blocks[index] = self._reader.block(nodes[index])
        return block

    def work_out(self, wanted: Callable[[Block], bool]) -> None:
        """Work out the top-level blocks ``wanted`` picks, all through, and drop the syntax
        tree (several times the size of the source). The index answers as before; asked
        for another block, it parses the source again."""
        if self._top_rows is None:
            self._top_rows = [(node.start_point[0], node.end_point[0]) for node in self._top_nodes]
        for index in range(len(self._top_blocks)):
            block = self._top(index)
            if wanted(block):
                block.work_out()
            else:
                self._top_blocks[index] = None  # it refers to the tree: made again on demand
        self._top_nodes = None

    @property
    def top_level(self) -> list[Block]:
        return [self._top(index) for index in range(len(self._top_blocks))]

    def top_level_nodes(self) -> list[tuple[Block, object]]:
        """Top-level blocks with their syntax nodes (for line ranges)."""
        nodes = self._top_nodes if self._top_nodes is not None else self._parse()
        return [(self._top(index), node) for index, node in enumerate(nodes)]

    def block_at(self, line: int, kind: str | None = None) -> Block | None:
        """The block written at ``line``, at any depth: the first block of that kind
        starting on the line among the blocks of the innermost block holding it."""
        row = line - 1
        if self._top_rows is None:
            self._top_rows = [(node.start_point[0], node.end_point[0]) for node in self._top_nodes]
        inside = None
        for index, (first, last) in enumerate(self._top_rows):
            if first == row and (kind is None or self._top(index).kind == kind):
                return self._top(index)
            if first <= row <= last:
                inside = index
        if inside is None:
            return None
        candidates = self._top(inside).children
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


class _Reader:
    """Blocks and attributes out of syntax nodes of one file's source."""

    __slots__ = ("source", "_line_starts")

    def __init__(self, source: bytes):
        self.source = source
        self._line_starts: list[int] | None = None  # worked out for the first position asked for

    def position(self, point) -> tuple[int, int]:
        row, byte_column = point
        if self._line_starts is None:
            self._line_starts = [0, *(match.end() for match in re.finditer(b"\n", self.source))]
        start = self._line_starts[row] if row < len(self._line_starts) else 0
        prefix = self.source[start:start + byte_column]
        return row + 1, (byte_column if prefix.isascii() else len(prefix.decode("utf-8", "replace"))) + 1

    def text(self, node) -> str:
        return self.source[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def block(self, node) -> Block:
        children = node.named_children
        labels = [self._label(child) for child in children[1:] if child.type in ("string_lit", "identifier")]
        body = None
        for child in children:
            if child.type == "body":
                body = child
                break
        start = node.start_point
        return Block(self.text(children[0]) if children else "", labels, *self.position(start),
                     expand=lambda: self._body(body), rows=(start[0], node.end_point[0]))

    def _body(self, body) -> tuple[dict[str, Attribute], list[Block]]:
        attributes: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for node in body.named_children if body is not None else ():
            kind = node.type
            if kind == "attribute":
                parts = [part for part in node.named_children if part.type != "comment"]  # `x = /* c */ "v"`
                attributes[self.text(parts[0])] = self._attribute(parts[0], parts[1] if len(parts) > 1 else None)
            elif kind == "block":
                blocks.append(self.block(node))
        return attributes, blocks

    def _label(self, node) -> str:
        literal = _child(node, "template_literal")
        return self.text(literal) if literal is not None else self.text(node).strip('"')

    def _attribute(self, name_node, expression) -> Attribute:
        if expression is None:
            return Attribute(*self.position(name_node.start_point), [], [])
        return Attribute(None, None, expand=lambda: self._expand(expression),
                         locate=lambda: self.position(name_node.start_point))

    def _expand(self, expression) -> tuple[list, list]:
        strings, objects = [], []
        stack = [expression]
        while stack:
            node = stack.pop()
            if node.type == "string_lit":
                literal = _child(node, "template_literal")
                if literal is not None:
                    strings.append((self.text(literal), *self.position(node.start_point)))
                continue
            if node.type == "object" and node.parent is not None and node.parent.parent is not None \
                    and node.parent.parent.parent is not None and node.parent.parent.parent.type == "tuple":
                objects.append(self._object(node))
            stack.extend(reversed(node.named_children))
        strings.sort(key=lambda item: (item[1], item[2]))
        return strings, objects

    def _object(self, node) -> dict[str, Attribute]:
        elements: dict[str, Attribute] = {}
        for element in node.named_children:
            parts = [part for part in element.named_children if part.type != "comment"]
            if element.type != "object_elem" or len(parts) < 2:
                continue
            key, value = parts[0], parts[1]
            literal = _first(key, "template_literal")
            name = self.text(literal) if literal is not None else self.text(key)
            elements[name] = self._attribute(key, value)
        return elements


def _child(node, kind: str):
    for child in node.named_children:
        if child.type == kind:
            return child
    return None


def _first(node, kind: str):
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == kind:
            return current
        stack.extend(current.named_children)
    return None


#: A number with an exponent and no fraction (``1e3``): HCL takes it, tree-sitter's grammar does not.
_BARE_EXPONENT = re.compile(rb"(?<![\w.])(\d+)[eE]([+-]?)(?=\d)")
#: What every bare exponent contains.
_EXPONENT = re.compile(rb"\d[eE][+-]?\d")


def readable(source: bytes) -> bytes:
    """The source as tree-sitter's HCL grammar can read it: ``1e3`` as ``1.3``, ``1e-3`` as
    ``1.03``; the same length, so every position holds (text is read from the source itself)."""
    if not _EXPONENT.search(source) or not _BARE_EXPONENT.search(source):  # the first ~4 times faster
        return source
    return _BARE_EXPONENT.sub(lambda match: match[1] + (b".0" if match[2] else b"."), source)


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))


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


@lru_cache(maxsize=None)
def index_file(path: str, mtime_ns: int) -> HclIndex | JsonIndex:
    """The index of a file (cached for the run; the mtime makes an edited file a new entry)."""
    return read_index(path)


def read_index(path: str) -> HclIndex | JsonIndex:
    with open(path, "rb") as handle:
        source = handle.read()
    return JsonIndex(source) if path.endswith(".tf.json") else HclIndex(source)
