"""YAML or JSON text to a tree of positioned nodes (CloudFormation templates, ``.tf.json``).

YAML is read as a stream of parser events from libyaml (PyYAML's binding;
ruamel.yaml's pure-Python parser where that is missing) and composed here,
iteratively: composing in C recurses and crashes on deep nesting, and a
pure-Python round-trip load is ~15x slower. Depth and alias expansion are
bounded so hostile documents fail with a message instead of a hang. Plain
scalars that YAML 1.1 reads as nulls or integers (``06475`` is octal) become
``None`` or decimal text: CloudFormation deploys those values.

JSON is tokenised with one regular expression: libyaml rejects valid JSON
such as surrogate-pair escapes, and JSON needs no YAML semantics.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from .excerpt import excerpt, excerpts_in

MAX_DEPTH = 500
MAX_NODES = 2_000_000

_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
#: ``!!str``, ``!!int`` ...: plain data. Any other ``!!`` tag (``!!python/object``) is refused.
_CORE_SCHEMA_TAGS = frozenset({"str", "int", "float", "bool", "null", "seq", "map", "merge"})
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
#: YAML 1.1's integers, as its int resolver reads a plain scalar: binary, octal (a leading 0),
#: decimal, hexadecimal and base 60 (``56:29``), signed, with ``_`` between digits.
_YAML11_INT = re.compile(r"[-+]?(?:0b[01_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)")
_INT_TAG = _STANDARD_TAG_PREFIX + "int"
#: js-yaml 4's integers (YAML 1.2's core schema): decimal, ``0o`` octal, hexadecimal, binary, signed.
_JS_YAML_INT = re.compile(r"([-+]?)(0o[0-7]+|0x[0-9a-fA-F]+|0b[01]+|[0-9]+)")


class LoadError(Exception):
    """Input that cannot be read as a template; ``line`` is 1-based."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


class Node:
    """A scalar (``str`` or ``None``), sequence (``list``) or mapping (``dict``).

    ``line``/``column`` are 1-based. Mappings also keep the position of each
    key in ``key_pos``. ``tag`` is a local tag the caller allowed, such as ``!Ref``.
    """

    __slots__ = ("value", "line", "column", "tag", "key_pos")
    #: The file the node is written in, when it is not the file being read (an
    #: :class:`IncludedNode`); ``None`` for a node of the file being read.
    file: str | None = None

    def __init__(self, value, line: int, column: int, tag: str | None = None):
        self.value = value
        self.line = line
        self.column = column
        self.tag = tag
        self.key_pos: dict[str, tuple[int, int]] | None = None

    def __repr__(self) -> str:
        return f"Node({self.value!r}@{self.line}:{self.column}{' ' + self.tag if self.tag else ''})"


class IncludedNode(Node):
    """A node written in another file than the one being read (a Serverless ``${file()}``),
    so that what is found in it points at that file."""

    __slots__ = ("file",)

    def __init__(self, value, line: int, column: int, tag: str | None, file: str):
        super().__init__(value, line, column, tag)
        self.file = file


def load(text: str, json_syntax: bool, tags: Collection[str] = (), js_yaml: bool = False) -> list[Node]:
    """The documents of a file (JSON is always one). ``tags`` are the local YAML
    tags the format accepts (any other is an error). Integers are read as YAML 1.1
    reads them (CloudFormation, PyYAML), or with ``js_yaml`` as js-yaml 4 does (the
    Serverless Framework's loader: ``06475`` is 6475, ``0o6475`` is 3389)."""
    if json_syntax:
        return [_load_json(text)]
    return _load_yaml(text, frozenset(tags), _js_yaml_int if js_yaml else _yaml11_int)


# --- YAML -------------------------------------------------------------------------------------


def _yaml_parser():
    """Parser events from libyaml through PyYAML's binding, or ruamel.yaml's pure parser;
    and that library's two error classes (marked and general).

    Not ruamel.yaml's own C extension: its older libyaml rejects plain scalars
    with colons in flow collections, the everyday ``!Join ["", [!Ref AWS::StackName, x]]``.
    """
    try:
        from yaml import MarkedYAMLError, YAMLError
        from yaml.cyaml import CParser
    except ImportError:  # PyYAML without libyaml: the same events, slower
        from ruamel.yaml import YAML
        from ruamel.yaml.error import MarkedYAMLError, YAMLError

        return (lambda text: YAML(typ="safe", pure=True).parse(text)), MarkedYAMLError, YAMLError

    def events(text: str):
        parser = CParser(text)
        try:
            while parser.check_event():
                yield parser.get_event()
        finally:
            parser.dispose()

    return events, MarkedYAMLError, YAMLError


def _load_yaml(text: str, tags: frozenset[str], integer: Callable[[str], str | None]) -> list[Node]:
    yaml_events, MarkedYAMLError, YAMLError = _yaml_parser()
    try:
        return _compose(yaml_events(text), tags, integer)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise LoadError(f"invalid YAML: {excerpts_in(problem)}", mark.line + 1 if mark else 1) from None
    except YAMLError as exc:
        raise LoadError(f"invalid YAML: {excerpts_in(str(exc).splitlines()[0])}", 1) from None


def _tag(event, line: int, tags: frozenset[str]) -> str | None:
    tag = event.tag
    if tag is None or tag == "!":
        return None
    tag = str(tag)
    if tag in tags:
        return tag
    if tag.startswith(_STANDARD_TAG_PREFIX) and tag[len(_STANDARD_TAG_PREFIX):] in _CORE_SCHEMA_TAGS:
        return None
    raise LoadError(f"unknown tag {excerpt(tag, quote=False)} (CloudFormation accepts only its intrinsic functions)",
                    line)


def _compose(events, tags: frozenset[str], integer: Callable[[str], str | None]) -> list[Node]:
    """Build nodes from parser events with an explicit stack (no recursion)."""
    documents: list[Node] = []
    anchors: dict[str, tuple[Node, int]] = {}
    # Each frame: [node, pending key node or None, expanded node count, anchor, merge sources]
    stack: list[list] = []
    total = 0

    def attach(node: Node, weight: int) -> None:
        nonlocal total
        total += weight
        if total > MAX_NODES:
            raise LoadError(f"document holds more than {MAX_NODES} values (too large, or an alias bomb)", node.line)
        if not stack:
            documents.append(node)
            return
        frame = stack[-1]
        frame[2] += weight
        parent = frame[0]
        if isinstance(parent.value, list):
            parent.value.append(node)
        elif frame[1] is None:
            frame[1] = node
        else:
            key = frame[1]
            if key.value == "<<" and key.tag is None:
                frame[4].append(node)  # merged when the mapping ends: explicit keys win
            else:
                _set_key(parent, key, node)
            frame[1] = None

    for event in events:
        kind = type(event).__name__
        if kind == "ScalarEvent":
            line, column = event.start_mark.line + 1, event.start_mark.column + 1
            value = event.value
            if event.implicit[0] and event.tag is None:  # plain and untagged: YAML 1.1 resolves its type
                value = None if value in _NULLS else integer(value) or value
            elif event.tag == _INT_TAG:
                value = integer(value)
                if value is None:
                    raise LoadError(f"!!int {excerpt(event.value)} is not an integer", line)
            node = Node(value, line, column, _tag(event, line, tags))
            if event.anchor:
                anchors[event.anchor] = (node, 1)
            attach(node, 1)
        elif kind in ("MappingStartEvent", "SequenceStartEvent"):
            line, column = event.start_mark.line + 1, event.start_mark.column + 1
            if len(stack) >= MAX_DEPTH:
                raise LoadError(f"nesting deeper than {MAX_DEPTH} levels", line)
            node = Node({} if kind == "MappingStartEvent" else [], line, column, _tag(event, line, tags))
            if kind == "MappingStartEvent":
                node.key_pos = {}
            stack.append([node, None, 1, event.anchor, []])
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            node, _, weight, anchor, merges = stack.pop()
            for source in merges:
                _merge(node, source)
            if anchor:
                anchors[anchor] = (node, weight)
            attach(node, weight)
        elif kind == "AliasEvent":
            line = event.start_mark.line + 1
            if event.anchor not in anchors:
                raise LoadError(f"unknown alias *{excerpt(event.anchor, quote=False)}", line)
            node, weight = anchors[event.anchor]
            attach(node, weight)
        elif kind == "DocumentEndEvent":
            anchors.clear()
    return documents


def _js_yaml_int(text: str) -> str | None:
    """The decimal text of an integer as js-yaml 4 reads a plain scalar (a leading 0 is decimal,
    ``0o`` octal; no ``_`` and no base 60); ``None`` for any other scalar."""
    match = _JS_YAML_INT.fullmatch(text)
    if match is None:
        return None
    sign, digits = match.group(1) == "-", match.group(2)
    base = {"0o": 8, "0x": 16, "0b": 2}.get(digits[:2] if len(digits) > 2 else "", 10)
    number = int(digits[2:] if base != 10 else digits, base)
    return ("-" if sign and number else "") + str(number)


def _yaml11_int(text: str) -> str | None:
    """The decimal text of a YAML 1.1 integer (``06475`` is octal: ``3389``), as CloudFormation
    reads it; ``None`` for any other scalar."""
    if not _YAML11_INT.fullmatch(text):
        return None
    digits = text.replace("_", "")
    sign, digits = ("-", digits[1:]) if digits[0] == "-" else ("", digits.lstrip("+"))
    try:
        if ":" in digits:
            number = 0
            for part in digits.split(":"):
                number = number * 60 + int(part)
        elif digits[:2] in ("0b", "0x"):
            number = int(digits[2:], 2 if digits[1] == "b" else 16)
        else:
            number = int(digits, 8 if digits[0] == "0" else 10)
    except ValueError:  # digits that are all underscores (0b_, 0x_)
        return None
    return sign + str(number) if number else "0"


def _set_key(mapping: Node, key: Node, value: Node) -> None:
    if isinstance(key.value, (list, dict)):
        raise LoadError("a mapping key must be a scalar", key.line)
    name = "" if key.value is None else key.value
    if name in mapping.value:
        first = mapping.key_pos[name][0]
        raise LoadError(f"duplicate key {excerpt(name)} (first at line {first})", key.line)
    mapping.value[name] = value
    mapping.key_pos[name] = (key.line, key.column)


def _merge(mapping: Node, source: Node) -> None:
    """YAML merge keys: keys of the merged mappings that are not set explicitly."""
    sources = source.value if isinstance(source.value, list) else [source]
    for item in sources:
        if not isinstance(item.value, dict):
            raise LoadError("a merge key (<<) needs a mapping or a list of mappings", item.line)
        for name, value in item.value.items():
            if name not in mapping.value:
                mapping.value[name] = value
                mapping.key_pos[name] = item.key_pos[name]


#: What libyaml counts as a line break (YAML 1.1): line numbers and comments end at each of
#: them. ``\r`` is not among them only because decoding turned it into ``\n``.
_YAML_BREAKS = "\n\x85\u2028\u2029"
_YAML_BREAK = re.compile(f"[{_YAML_BREAKS}]")


def yaml_comments(text: str) -> list[tuple[int, int, str]]:
    """``(line, column, text after the #)`` of each comment of a YAML file, lines counted as
    libyaml counts them. In text libyaml cannot parse, the comments before the error.

    libyaml reports no comments, but each scalar's start and end: a ``#`` first on its line
    or after a blank is a comment when no scalar (quoted, plain, block, in a flow collection
    or not) holds it. Parsing stops once every such ``#`` is placed.
    """
    hashes = []
    position = text.find("#")
    while position >= 0:
        if position == 0 or text[position - 1] in _YAML_BREAKS or text[position - 1] in " \t":
            hashes.append(position)
        position = text.find("#", position + 1)
    if not hashes:
        return []
    yaml_events, _, YAMLError = _yaml_parser()
    held: set[int] = set()  # the hashes a scalar holds
    placed = 0  # hashes[:placed] are before the scalars read so far, or in one
    try:
        for event in yaml_events(text):
            if type(event).__name__ != "ScalarEvent":
                continue
            start, end = event.start_mark.index, event.end_mark.index
            if event.style in ("|", ">"):  # the header line may end with a comment
                header = _YAML_BREAK.search(text, start)
                start = header.start() if header else end
            while placed < len(hashes) and hashes[placed] < end:
                if hashes[placed] >= start:
                    held.add(hashes[placed])
                placed += 1
            if placed == len(hashes):
                break
        else:
            placed = len(hashes)  # after the last scalar
    except YAMLError:
        pass
    from bisect import bisect_right

    breaks = [match.start() for match in _YAML_BREAK.finditer(text)]
    comments = []
    covered = 0  # the end of the last comment: a # inside it is its text
    for position in hashes[:placed]:
        if position < covered or position in held:
            continue
        end = _YAML_BREAK.search(text, position)
        covered = end.start() if end else len(text)
        line = bisect_right(breaks, position)
        column = position - (breaks[line - 1] + 1 if line else 0) + 1
        comments.append((line + 1, column, text[position + 1:covered]))
    return comments


# --- JSON -------------------------------------------------------------------------------------

_JSON_TOKEN = re.compile(
    r'[ \t\n\r]*(?:([{}\[\]:,])|("(?:[^"\\\x00-\x1f]|\\.)*")'
    r"|(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null)|([^ \t\n\r]|$))"
)


def _load_json(text: str) -> Node:
    """A strict JSON parser that keeps positions and refuses duplicate keys."""
    line, line_start = 1, 0
    position = 0
    stack: list[list] = []  # [node, pending key node, expecting: 'key'|'colon'|'value'|'comma']
    root: Node | None = None
    expect = "value"
    scan = _JSON_TOKEN.match

    while True:
        match = scan(text, position)
        start = match.start(1) if match.lastindex == 1 else match.start(match.lastindex)
        newlines = text.count("\n", position, start)
        if newlines:
            line += newlines
            line_start = text.rfind("\n", position, start) + 1
        column = start - line_start + 1
        position = match.end()
        punct, string, literal, other = match.groups()
        if other is not None:
            if other == "" and root is not None and not stack:
                return root
            found = "end of file" if other == "" else excerpt(other)
            raise LoadError(f"invalid JSON: unexpected {found} at column {column}", line)
        if root is not None and not stack:
            raise LoadError(f"invalid JSON: extra data at column {column}", line)
        frame = stack[-1] if stack else None

        if punct in ("}", "]"):
            if frame is None or (punct == "}") != isinstance(frame[0].value, dict) or (
                frame[2] not in ("comma", "close-or-value" if punct == "]" else "close-or-key")
            ):
                raise LoadError(f"invalid JSON: unexpected '{punct}' at column {column}", line)
            stack.pop()
            node = frame[0]
            if not stack:
                root = node
            else:
                _json_after_value(stack[-1], node)
            continue
        if punct == ",":
            if frame is None or frame[2] != "comma":
                raise LoadError(f"invalid JSON: unexpected ',' at column {column}", line)
            frame[2] = "key" if isinstance(frame[0].value, dict) else "value"
            continue
        if punct == ":":
            if frame is None or frame[2] != "colon":
                raise LoadError(f"invalid JSON: unexpected ':' at column {column}", line)
            frame[2] = "value"
            continue

        # A value or a key.
        state = frame[2] if frame else expect
        if state in ("key", "close-or-key"):
            if string is None:
                raise LoadError(f"invalid JSON: expected a string key at column {column}", line)
            frame[1] = Node(_json_string(string, line), line, column)
            frame[2] = "colon"
            continue
        if state not in ("value", "close-or-value"):
            raise LoadError(f"invalid JSON: expected ',' or a closing bracket at column {column}", line)
        if punct is not None:  # '{' or '['
            if len(stack) >= MAX_DEPTH:
                raise LoadError(f"nesting deeper than {MAX_DEPTH} levels", line)
            node = Node({} if punct == "{" else [], line, column)
            if punct == "{":
                node.key_pos = {}
            stack.append([node, None, "close-or-key" if punct == "{" else "close-or-value"])
            continue
        if string is not None:
            node = Node(_json_string(string, line), line, column)
        else:
            node = Node(None if literal == "null" else literal, line, column)
        if frame is None:
            root = node
        else:
            _json_after_value(frame, node)


def _json_after_value(frame: list, node: Node) -> None:
    parent = frame[0]
    if isinstance(parent.value, list):
        parent.value.append(node)
    else:
        _set_key(parent, frame[1], node)
        frame[1] = None
    frame[2] = "comma"


def _json_string(token: str, line: int) -> str:
    if "\\" not in token:
        return token[1:-1]
    try:
        import json

        return json.loads(token)
    except ValueError:
        raise LoadError("invalid JSON: bad escape in string", line) from None
