"""What tfparse's Go code cannot take: it panics, and the panic aborts the whole
process (found by fuzzing). Such input is found here, before the module is
evaluated, and is an input error at its line; the module is not evaluated.
Terraform rejects each of these too.

Variable ``type`` constraints. tfparse (through trivy's parser) turns a variable's
``type`` into a cty type. When the expression is not a type constraint
(``type = {}``, ``list(strin)``, a reference, ``optional()`` outside an object), or
an ``optional()`` default is not constant or does not fit its type, that type is
nil and tfparse dereferences it. The check follows what tfparse takes (measured):
the keywords ``string``, ``number``, ``bool``, ``any`` and the legacy bare ``list``
and ``map``; ``list``, ``set`` and ``map`` of one type; ``tuple([...])``;
``object({name = type, ...})`` whose attributes may be ``optional(type)`` or
``optional(type, constant)``; and a quoted string holding one of these (the legacy
form, and the only one in ``.tf.json``). A default it cannot work out (an
operation on constants, a template) is taken as fitting.

``for_each`` of a ``dynamic`` block. tfparse counts its elements, and a known
string, number or bool there panics. Only a constant is recognised here
(``for_each = ""``, ``1 + 1``, ``"a" == "b"``): a value that comes from a variable
or a function is known only to the evaluator, and still panics there.

``count`` and ``for_each`` of a resource or data block. tfparse does not panic on a
constant of the wrong type there, it passes it in silence: ``count = "x"`` (or
``true``, ``1.5``, ``null``, ``[1]``) makes one instance, ``count = -1`` and
``for_each = 1`` (or a string, bool or null) none, ``for_each = [...]`` one per
element. Terraform rejects each; here it is an input error at its line. (Values
known only once evaluated: ``count`` is checked on the evaluator's output, see
``evaluate.count_errors``.)
"""

from __future__ import annotations

import re
from functools import lru_cache

from winportlint.excerpt import excerpt
from winportlint.model import InputError

from .hcl_positions import Attribute, Block, HclIndex, index_file

_BARE = {"string": ("string",), "number": ("number",), "bool": ("bool",), "any": ("any",),
         "list": ("list", ("any",)), "map": ("map", ("any",))}
#: A default that cannot be worked out here (taken as fitting any type).
_UNKNOWN = object()
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
#: Files without these words hold nothing checked here: in HCL, a variable's ``type``, a
#: ``dynamic`` block, a ``count`` or ``for_each`` (names and block types are written as they
#: are, never escaped); in JSON, whose keys may be escaped, a ``variable`` key too.
_CHECKED = re.compile(rb"type|dynamic|count|for_each")
_CHECKED_JSON = re.compile(rb"variable|dynamic|count|for_each")


class _Invalid(Exception):
    pass


def panic_errors(path: str, source: bytes) -> list[InputError]:
    """An input error for each variable type and ``dynamic`` block of the file that
    would make the evaluator panic."""
    if path.endswith(".tf.json"):
        # tfparse takes any dynamic for_each in JSON
        return _json_type_errors(path, source) if _CHECKED_JSON.search(source) else []
    if not _CHECKED.search(source):
        return []
    try:
        index = index_file(path, source)  # kept for the reading
    except OSError:  # gone since it was read
        index = HclIndex(source)
    errors: list[InputError] = []
    for block in index.top_level:
        if block.kind == "variable":
            errors.extend(_variable_type_errors(path, index.text, block))
        else:
            errors.extend(_dynamic_errors(path, index.text, block))
            if block.kind in ("resource", "data"):
                errors.extend(_meta_argument_errors(path, index.text, block))
    return errors  # (what the scanner could not read, the reading reports)


def _value(text: str, attribute: Attribute):
    """An attribute's value as a tree-sitter syntax node, and the source it was parsed from;
    the node is None when tree-sitter cannot read the value (what tfparse cannot take either)."""
    start, end = attribute.span
    # tree-sitter stops at a NUL byte, which HCL takes in a comment: parse with blanks there.
    source = b"x = " + text[start:end].replace("\x00", " ").encode("utf-8", "replace") + b"\n"
    tree = tree_sitter_parser().parse(readable(source))
    body = _child(tree.root_node, "body")
    items = [item for item in body.named_children if item.type == "attribute"] if body is not None else []
    if tree.root_node.has_error or len(items) != 1 or len(items[0].named_children) < 2:
        return source, None
    return source, items[0].named_children[1]


def _variable_type_errors(path: str, text: str, block: Block) -> list[InputError]:
    attribute = block.attributes.get("type")
    if attribute is None:
        return []
    try:
        start, end = attribute.span
        if "\x00" in text[start:end]:
            raise _Invalid("a NUL byte in the type")
        source, node = _value(text, attribute)
        if node is None:
            # What tree-sitter cannot read (invalid UTF-8, stray brackets; ``1e3`` it is
            # given readable) tfparse cannot take either.
            raise _Invalid(f"not a type: {_first_line(text[start:end])}")
        _type(source, node, quoted_allowed=True)
    except _Invalid as exc:
        label = block.labels[0] if block.labels else "?"
        return [InputError(path, attribute.line, f'variable "{label}": invalid type constraint ({exc})')]
    return []


def _dynamic_errors(path: str, text: str, block: Block) -> list[InputError]:
    """``dynamic`` blocks at any depth whose ``for_each`` is a constant string, number or bool."""
    errors = []
    stack = list(reversed(block.children))
    while stack:
        current = stack.pop()
        stack.extend(reversed(current.children))
        attribute = current.attributes.get("for_each")
        if current.kind != "dynamic" or attribute is None:
            continue
        source, node = _value(text, attribute)
        kind = _primitive_constant(source, node) if node is not None else None
        if kind:
            label = current.labels[0] if current.labels else "?"
            errors.append(InputError(path, attribute.line,
                                     f'dynamic "{label}": for_each is a {kind}, not a map or a set'))
    return errors


def _meta_argument_errors(path: str, text: str, block: Block) -> list[InputError]:
    """A resource's or data source's ``count`` or ``for_each`` that is a constant of a type
    Terraform rejects there."""
    errors = []
    for name, find_problem in (("count", _count_problem), ("for_each", _for_each_problem)):
        attribute = block.attributes.get(name)
        if attribute is None:
            continue
        source, node = _value(text, attribute)
        problem = find_problem(source, node) if node is not None else None
        if problem:
            labels = " ".join(f'"{label}"' for label in block.labels)
            errors.append(InputError(path, attribute.line, f"{block.kind} {labels}: {name} must be {problem}, "
                                                           f"got {_shown(source, node)}"))
    return errors


_COUNT = "a whole number, 0 or more"
_FOR_EACH = "a map or a set of strings"


def _count_problem(source: bytes, node) -> str | None:
    text = _text(source, node).strip()
    if re.fullmatch(r"-\s*(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", text) and float(text[1:].strip()) != 0:
        return _COUNT  # a negative number
    try:
        value = _constant(source, node)
    except _Invalid:  # it refers to something, or calls a function: see evaluate.count_errors
        return None
    if value is _UNKNOWN:
        return None
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = float(value)  # terraform converts a string of digits
    if isinstance(value, float) and not isinstance(value, bool) and value >= 0 and value.is_integer():
        return None
    return _COUNT


def _for_each_problem(source: bytes, node) -> str | None:
    if _primitive_constant(source, node):  # a number, string or bool, or an operation on constants
        return _FOR_EACH
    inner = node
    while inner.type == "expression" and len(inner.named_children) == 1:
        inner = inner.named_children[0]
    if inner.type == "template_expr":  # a string, whatever it refers to
        return _FOR_EACH
    try:
        value = _constant(source, node)
    except _Invalid:
        return None
    if value is _UNKNOWN or isinstance(value, dict):
        return None
    return _FOR_EACH


def _primitive_constant(source: bytes, node) -> str | None:
    """"string", "number" or "bool" for a constant expression of that type, else None."""
    try:
        value = _constant(source, node)
    except _Invalid:  # it refers to something, or calls a function: the evaluator knows
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is _UNKNOWN:
        inner = node
        while inner.type == "expression" and len(inner.named_children) == 1:
            inner = inner.named_children[0]
        if inner.type == "template_expr":
            return "string"
        if inner.type == "operation":
            return "number or bool"
    return None


def _json_type_errors(path: str, source: bytes) -> list[InputError]:
    from winportlint.nodes import LoadError, load
    from winportlint.textfile import NotText, decode

    try:
        root = load(decode(source), json_syntax=True)[0]
    except (LoadError, NotText):
        return []  # the evaluator reports the syntax error
    errors = []
    variables = root.value.get("variable") if isinstance(root.value, dict) else None
    for label, variable in (variables.value.items() if variables is not None and isinstance(variables.value, dict)
                            else ()):
        for body in variable.value if isinstance(variable.value, list) else [variable]:
            if not isinstance(body.value, dict) or "type" not in body.value:
                continue
            node = body.value["type"]
            try:
                if not isinstance(node.value, str) or node.tag is not None:
                    raise _Invalid("a type is written as a string in JSON")
                _string_type(node.value)
            except _Invalid as exc:
                errors.append(InputError(path, body.key_pos["type"][0],
                                         f'variable "{label}": invalid type constraint ({exc})'))
    return errors


def _text(source: bytes, node) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _shown(source: bytes, node) -> str:
    """A node's text, for a message: an excerpt of its first line."""
    return _first_line(_text(source, node))


def _first_line(text: str) -> str:
    lines = text.splitlines()
    return excerpt(lines[0], quote=False) if lines else ""


def _child(node, kind: str):
    for child in node.named_children:
        if child.type == kind:
            return child
    return None


def _inner(source: bytes, node):
    """The expression inside ``expression`` wrappers; parentheses and postfix operators
    (``x[0]``, ``x.y``) are not part of a type constraint."""
    if node.type != "expression":
        return node
    children = node.named_children
    if len(children) != 1 or children[0].type == "expression":
        raise _Invalid(f"not a type: {_shown(source, node)}")
    return children[0]


def _string_literal(source: bytes, node) -> str | None:
    """The value of a quoted string without interpolation, else None."""
    if node.type == "literal_value":
        node = node.named_children[0] if node.named_children else node
    if node.type != "string_lit" or len(node.children) < 2:
        return None
    # Between the quotes: tree-sitter's template_literal leaves out blanks at either end.
    return _unescape(source[node.children[0].end_byte:node.children[-1].start_byte].decode("utf-8", "replace"))


def _unescape(text: str) -> str:
    def one(match: re.Match) -> str:
        escape = match.group()
        if escape in ("$${", "%%{"):
            return escape[1:]
        if escape[1] in "uU":
            try:
                return chr(int(escape[2:], 16))
            except ValueError:
                raise _Invalid("an escape that is not a character") from None
        if escape[1] not in _SIMPLE_ESCAPES:
            raise _Invalid(f"unknown escape {excerpt(escape, quote=False)}")
        return _SIMPLE_ESCAPES[escape[1]]

    return _ESCAPE.sub(one, text)


def _string_type(text: str):
    """A type constraint written in a string (legacy HCL, and ``.tf.json``)."""
    source = b"type = " + text.encode("utf-8")
    tree = tree_sitter_parser().parse(readable(source))
    body = _child(tree.root_node, "body")
    items = body.named_children if body is not None else []
    if tree.root_node.has_error or len(items) != 1 or items[0].type != "attribute" \
            or len(items[0].named_children) != 2:
        raise _Invalid(f"not a type: {excerpt(text)}")
    return _type(source, items[0].named_children[1], quoted_allowed=False)


def _type(source: bytes, node, quoted_allowed: bool):
    node = _inner(source, node)
    if node.type == "variable_expr":
        name = _text(source, node)
        if name not in _BARE:
            raise _Invalid(f"unknown type {excerpt(name, quote=False)}")
        return _BARE[name]
    if node.type == "literal_value" and quoted_allowed:
        text = _string_literal(source, node)
        if text is not None:
            return _string_type(text)
    if node.type != "function_call":
        raise _Invalid(f"not a type: {_shown(source, node)}")
    name = _text(source, node.named_children[0])
    arguments = _child(node, "function_arguments")
    args = [a for a in arguments.named_children if a.type == "expression"] if arguments is not None else []
    if arguments is not None and any(c.type == "expand_ellipsis" or c.type == "..." for c in arguments.children):
        raise _Invalid(f"{name}(...) with an expanded argument")
    if name in ("list", "set", "map"):
        if len(args) != 1:
            raise _Invalid(f"{name}() takes one type")
        return (name, _type(source, args[0], False))
    if name == "tuple":
        items = _collection(source, args, "tuple")
        return ("tuple", [_type(source, item, False) for item in items.named_children if item.type == "expression"])
    if name == "object":
        attributes = {}
        for element in _collection(source, args, "object").named_children:
            if element.type != "object_elem":
                continue
            key, value = element.named_children[0], element.named_children[-1]
            key = _inner(source, key)
            if key.type != "variable_expr":
                raise _Invalid("an object attribute name must be a bare name")
            attribute = _text(source, key)
            if attribute in attributes:
                raise _Invalid(f"attribute {excerpt(attribute, quote=False)} given twice")
            attributes[attribute] = _attribute_type(source, value)
        return ("object", attributes)
    if name == "optional":
        raise _Invalid("optional() only as an object attribute's type")
    raise _Invalid(f"unknown type {excerpt(name, quote=False)}()")


def _collection(source: bytes, args: list, kind: str):
    """The tuple (``[...]``) or object (``{...}``) literal that is the only argument."""
    if len(args) == 1:
        inner = _inner(source, args[0])
        if inner.type == "collection_value" and inner.named_children and inner.named_children[0].type == kind:
            return inner.named_children[0]
    raise _Invalid(f"{kind}() takes {'a list' if kind == 'tuple' else 'an object'} of types")


def _attribute_type(source: bytes, node) -> tuple:
    """An object attribute's (type, optional)."""
    inner = _inner(source, node)
    if inner.type == "function_call" and _text(source, inner.named_children[0]) == "optional":
        arguments = _child(inner, "function_arguments")
        args = [a for a in arguments.named_children if a.type == "expression"] if arguments is not None else []
        if not 1 <= len(args) <= 2:
            raise _Invalid("optional() takes a type and maybe a default")
        kind = _type(source, args[0], False)
        if len(args) == 2 and not _fits(_constant(source, args[1]), kind):
            raise _Invalid(f"the default {_shown(source, args[1])} does not fit the type {kind[0]}")
        return kind, True
    return _type(source, node, False), False


def _constant(source: bytes, node):
    """The value of a constant default: str, float, bool, None, list, dict or _UNKNOWN."""
    kind = node.type
    if kind == "expression":
        children = node.named_children
        return _constant(source, children[0]) if len(children) == 1 else _no_references(source, node)
    if kind == "literal_value":
        return _constant(source, node.named_children[0])
    if kind == "numeric_lit":
        try:
            return float(_text(source, node))
        except ValueError:
            return _UNKNOWN
    if kind == "bool_lit":
        return _text(source, node) == "true"
    if kind == "null_lit":
        return None
    if kind == "string_lit":
        return _string_literal(source, node)
    if kind == "collection_value":
        return _constant(source, node.named_children[0])
    if kind == "tuple":
        return [_constant(source, item) for item in node.named_children if item.type == "expression"]
    if kind == "object":
        value = {}
        for element in node.named_children:
            if element.type != "object_elem":
                continue
            key_node, item = element.named_children[0], element.named_children[-1]
            names = key_node.named_children
            key = _text(source, names[0]) if len(names) == 1 and names[0].type == "variable_expr" \
                else _constant(source, key_node)
            value[key if isinstance(key, str) else _UNKNOWN] = _constant(source, item)
        return _UNKNOWN if _UNKNOWN in value else value
    if kind == "for_expr":
        return _no_references(source, node)
    if kind in ("function_call", "variable_expr"):
        raise _Invalid(f"the default {_shown(source, node)} is not a constant")
    if kind == "operation" and node.named_children and node.named_children[0].type == "unary_operation":
        operation = node.named_children[0]
        operand = _constant(source, operation.named_children[-1]) if operation.named_children else _UNKNOWN
        operator = operation.children[0].type if operation.children else ""
        if operand is _UNKNOWN:
            return _UNKNOWN
        if operator == "-":
            if not _fits(operand, ("number",)) or operand is None:
                raise _Invalid(f"-{_shown(source, operation.named_children[-1])} is not a number")
            return _UNKNOWN
        if operator == "!":
            if not _fits(operand, ("bool",)) or operand is None:
                raise _Invalid(f"!{_shown(source, operation.named_children[-1])} is not a bool")
            return _UNKNOWN
    return _no_references(source, node)


class _Items(list):
    """A list whose items are not worked out (a ``for`` expression's)."""


class _Entries(dict):
    """A map whose entries are not worked out (a ``for`` expression's)."""


def _no_references(source: bytes, node):
    """_UNKNOWN (or, for a ``for`` expression, a list or map of unknown items) for an
    expression of constants; an error when it calls a function or refers to anything
    (a ``for`` expression may refer to its own symbols)."""
    stack = [(node, False)]
    while stack:
        current, in_for = stack.pop()
        if current.type == "function_call" or current.type == "variable_expr" and not in_for:
            raise _Invalid(f"the default {_shown(source, node)} is not a constant")
        in_for = in_for or current.type == "for_expr"
        stack.extend((child, in_for) for child in current.named_children)
    if node.type == "for_expr":
        return _Items() if node.named_children and node.named_children[0].type == "for_tuple_expr" else _Entries()
    return _UNKNOWN


def _fits(value, kind: tuple) -> bool:
    """Whether a constant converts to the type (as cty converts it); unknown values fit."""
    if value is _UNKNOWN or value is None or kind[0] == "any":
        return True
    name = kind[0]
    if name == "string":
        return isinstance(value, (str, float, bool))
    if name == "number":
        return isinstance(value, float) and not isinstance(value, bool) or \
            isinstance(value, str) and _NUMBER.fullmatch(value) is not None
    if name == "bool":
        return isinstance(value, bool) or value in ("true", "false", "1", "0")
    if name in ("list", "set"):
        return isinstance(value, list) and all(_fits(item, kind[1]) for item in value)
    if name == "tuple":
        return isinstance(value, _Items) or isinstance(value, list) and len(value) == len(kind[1]) and all(
            _fits(item, item_kind) for item, item_kind in zip(value, kind[1]))
    if name == "map":
        return isinstance(value, dict) and all(_fits(item, kind[1]) for item in value.values())
    if name == "object":
        return isinstance(value, _Entries) or isinstance(value, dict) and all(
            (attribute in value and _fits(value[attribute], attribute_kind)) or (optional and attribute not in value)
            for attribute, (attribute_kind, optional) in kind[1].items())
    return True


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
def tree_sitter_parser():
    """tree-sitter's HCL parser: the grammar of the values checked here (types, constants),
    and of Terragrunt's configuration (see ``terragrunt``)."""
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
