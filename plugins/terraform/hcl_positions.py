"""Where attributes are written in ``.tf`` files, from a tree-sitter parse.

The evaluator (tfparse) gives values and the lines of blocks; findings must
point at the attribute (``cidr_blocks``) and, where it is spelt out, at the
CIDR itself. Tree-sitter parses a file in about a millisecond and gives
every node's line and column.
"""

from __future__ import annotations

import re
from functools import lru_cache


class Attribute:
    """An attribute or object element: its name position and the string literals of its value.

    ``objects`` holds the elements of each object when the value is a list
    of objects (``ingress = [{...}, {...}]``), in order. Both are worked out
    on first use: most attributes of a file are never asked for.
    """

    __slots__ = ("line", "column", "_strings", "_objects", "_expand")

    def __init__(self, line: int, column: int, strings=None, objects=None, expand=None):
        self.line = line
        self.column = column
        self._strings = strings
        self._objects = objects
        self._expand = expand

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

    def position_of(self, text: str | None) -> tuple[int, int]:
        """The literal spelling ``text`` if the value has one, else the attribute."""
        for literal, line, column in self.strings:
            if literal == text:
                return line, column
        return self.line, self.column


class Block:
    """A block: its kind, labels and position; attributes and nested blocks on first use."""

    __slots__ = ("kind", "labels", "line", "column", "_attributes", "_children", "_expand")

    def __init__(self, kind: str, labels: list[str], line: int, column: int, expand=None):
        self.kind, self.labels, self.line, self.column = kind, labels, line, column
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


class _Index:
    """The blocks of one file, found by their first line (1-based)."""

    top_level: list[Block]

    def block_at(self, line: int, kind: str | None = None) -> Block | None:
        raise NotImplementedError


class HclIndex(_Index):
    """The index of a ``.tf`` file, from tree-sitter. Only the blocks asked for are read."""

    def __init__(self, source: bytes):
        self._source = source
        self._line_starts = [0, *(match.end() for match in re.finditer(b"\n", source))]
        self._blocks: dict[int, Block] = {}  # by tree-sitter node id
        body = _child(_parser().parse(source).root_node, "body")
        self._top_nodes = [node for node in body.named_children if node.type == "block"] if body else []

    @property
    def top_level(self) -> list[Block]:
        return [self._block(node) for node in self._top_nodes]

    def top_level_nodes(self) -> list[tuple[Block, object]]:
        """Top-level blocks with their syntax nodes (for line ranges)."""
        return [(self._block(node), node) for node in self._top_nodes]

    def block_at(self, line: int, kind: str | None = None) -> Block | None:
        row = line - 1
        candidates = self._top_nodes
        while candidates:
            inside = None
            for node in candidates:
                if node.start_point[0] == row and (kind is None or self._kind(node) == kind):
                    return self._block(node)
                if node.start_point[0] <= row <= node.end_point[0]:
                    inside = node
            if inside is None:
                return None
            body = _child(inside, "body")
            candidates = [node for node in body.named_children if node.type == "block"] if body else []
        return None

    def _position(self, point) -> tuple[int, int]:
        row, byte_column = point
        start = self._line_starts[row] if row < len(self._line_starts) else 0
        prefix = self._source[start:start + byte_column]
        return row + 1, (byte_column if prefix.isascii() else len(prefix.decode("utf-8", "replace"))) + 1

    def _text(self, node) -> str:
        return self._source[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def _kind(self, node) -> str:
        children = node.named_children
        return self._text(children[0]) if children else ""

    def _block(self, node) -> Block:
        block = self._blocks.get(node.id)
        if block is None:
            children = node.named_children
            labels = [self._label(child) for child in children[1:] if child.type in ("string_lit", "identifier")]
            block = Block(self._kind(node), labels, *self._position(node.start_point),
                          expand=lambda: self._body(_child(node, "body")))
            self._blocks[node.id] = block
        return block

    def _body(self, body) -> tuple[dict[str, Attribute], list[Block]]:
        attributes: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for node in body.named_children if body is not None else ():
            if node.type == "attribute":
                name = node.named_children[0]
                expression = node.named_children[1] if len(node.named_children) > 1 else None
                attributes[self._text(name)] = self._attribute(name, expression)
            elif node.type == "block":
                blocks.append(self._block(node))
        return attributes, blocks

    def _label(self, node) -> str:
        literal = _child(node, "template_literal")
        return self._text(literal) if literal is not None else self._text(node).strip('"')

    def _attribute(self, name_node, expression) -> Attribute:
        line, column = self._position(name_node.start_point)
        if expression is None:
            return Attribute(line, column, [], [])
        return Attribute(line, column, expand=lambda: self._expand(expression))

    def _expand(self, expression) -> tuple[list, list]:
        strings, objects = [], []
        stack = [expression]
        while stack:
            node = stack.pop()
            if node.type == "string_lit":
                literal = _child(node, "template_literal")
                if literal is not None:
                    strings.append((self._text(literal), *self._position(node.start_point)))
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
            if element.type != "object_elem" or len(element.named_children) < 2:
                continue
            key, value = element.named_children[0], element.named_children[1]
            literal = _first(key, "template_literal")
            name = self._text(literal) if literal is not None else self._text(key)
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
    with open(path, "rb") as handle:
        source = handle.read()
    return JsonIndex(source) if path.endswith(".tf.json") else HclIndex(source)
