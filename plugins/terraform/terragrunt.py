"""Terragrunt units: a folder with ``terragrunt.hcl`` runs a module with its ``inputs``.

The unit's configuration is read here, offline, with tree-sitter's HCL grammar
(tree-sitter-hcl, already the grammar of the guards) and a small evaluator of
what a unit needs to name its module and its inputs: strings and templates,
lists and maps, ``local.*``, ``include.*`` (``expose``), ``dependency.*``,
conditions, ``==``, ``!=``, ``&&``, ``||``, ``!``, ``merge()``, ``concat()``,
``lookup()``, ``dirname()``, ``basename()`` and Terragrunt's path functions.
Anything else, and every function that would need the machine, the network or
a cloud account (``get_env`` takes its default only, ``run_cmd`` runs nothing,
``get_aws_account_id``), is unknown: the module's variable is then unknown too,
never an error. ``mock_outputs`` are not real values and are never used.
No file outside the scanned folders is read: an include or a source that leads
there is an input error at its line.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from winportlint.engine import scanned_trees, within_trees
from winportlint.excerpt import excerpt
from winportlint.model import Direction, FileResult, InputError, Location, Peer, Permission, Provenance
from winportlint.textfile import UnreadableFile, read_bytes

UNIT_FILE = "terragrunt.hcl"
#: Read no deeper chain of ``read_terragrunt_config`` calls than this (a file reading itself, say).
MAX_READS = 20
#: Expressions (and the locals they refer to, one through the other) nested deeper than this
#: are an error: real configurations nest a few levels, and the evaluation recurses.
MAX_DEPTH = 100


class Unknown:
    """A value not known offline; ``why`` says which expression."""

    __slots__ = ("why",)

    def __init__(self, why: str):
        self.why = why


class Written(str):
    """A string written as one literal, and where (file, line, column)."""

    __slots__ = ("location",)
    location: Location


def _written(text: str, path: str, node) -> Written:
    value = Written(text)
    value.location = Location(path, node.start_point[0] + 1, node.start_point[1] + 1)
    return value


class Unit(NamedTuple):
    """A ``terragrunt.hcl`` read: the module folder it runs (None: none to read here; then
    ``source`` is its source, when known), its inputs (``None`` for an unknown one; ``None``
    for all when which are set is not known) and the line they are set at, the other files
    it read, its errors."""

    config: str
    module: str | None
    inputs: dict | None
    files: list[str]
    errors: list[InputError]
    source: str | None = None
    inputs_at: Location | None = None


class ConfigError(Exception):
    """A unit that cannot be read: (file, line, message)."""


def read_unit(folder: str, trees: Sequence[str], parsed: dict | None = None) -> Unit:
    """The unit of a folder holding ``terragrunt.hcl``: its module and inputs (``parsed``: the
    files of the run parsed so far, see ``_Reader``)."""
    config = os.path.normpath(os.path.join(folder, UNIT_FILE))
    reader = _Reader(os.path.normpath(folder), trees, {} if parsed is None else parsed)
    try:
        read = reader.read(config, include_dir=None, context=reader.unit_dir)
        inputs = read.merged_inputs()
        module, source = reader.module(read)
    except ConfigError as exc:
        return Unit(config, None, {}, reader.files, [InputError(*exc.args)])
    values = {name: _plain(value) for name, value in inputs.items()} if isinstance(inputs, dict) else None
    return Unit(config, module, values, reader.files, [], source, read.inputs_at())


def _plain(value: object) -> object:
    """A value as terraform reads it from a variable file: ``None`` (unknown to the
    evaluator) when any part of it is unknown."""
    return None if _has_unknown(value) else value


def _has_unknown(value: object) -> bool:
    if isinstance(value, dict):
        return any(_has_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_unknown(item) for item in value)
    return isinstance(value, (Unknown, _Locals))


class _Read:
    """One configuration file read: its locals, attributes and blocks as values, and its includes."""

    def __init__(self, path: str, text: bytes):
        self.path, self.text = path, text
        self.locals: dict = {}
        self.inputs: object = {}
        self.source: object = None
        self.source_line = 0
        self.inputs_line = 0
        #: (name, merge strategy, expose, the included file read)
        self.includes: list[tuple[str, str, bool, _Read]] = []

    def exposed(self) -> dict:
        return {"locals": self.locals, "inputs": self.inputs,
                "terraform": {"source": self.source} if self.source is not None else {}}

    def inputs_at(self) -> Location:
        """Where the inputs are set: the unit's ``inputs``, else the last merged include's."""
        for read in (self, *(parent for _, strategy, _, parent in reversed(self.includes) if strategy != "no_merge")):
            if read.inputs_line:
                return Location(read.path, read.inputs_line, 1)
        return Location(self.path, 1, 1)

    def merged_inputs(self) -> object:
        """The inputs after the includes are merged in, as their merge strategies say
        (the child's win; ``deep`` merges maps and joins lists)."""
        merged: object = {}
        for _, strategy, _, parent in self.includes:
            if strategy != "no_merge":
                merged = _merge(merged, parent.inputs, strategy == "deep")
        return _merge(merged, self.inputs, any(s == "deep" for _, s, _, _ in self.includes))

    def merged_source(self) -> tuple[object, str, int]:
        """The ``terraform { source }`` in force: the child's, else the last merged include's."""
        if self.source is not None:
            return self.source, self.path, self.source_line
        for _, strategy, _, parent in reversed(self.includes):
            if strategy != "no_merge" and parent.source is not None:
                return parent.source, parent.path, parent.source_line
        return None, self.path, 0


def _merge(base: object, over: object, deep: bool) -> object:
    if isinstance(base, Unknown) or isinstance(over, Unknown):
        return Unknown("inputs not known")
    if not isinstance(base, dict) or not isinstance(over, dict):
        return over
    merged = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if deep and isinstance(old, dict) and isinstance(value, dict):
            merged[key] = _merge(old, value, True)
        elif deep and isinstance(old, list) and isinstance(value, list):
            merged[key] = old + value
        else:
            merged[key] = value
    return merged


class _Reader:
    """Reads a unit's configuration and the files it includes or reads, each inside the trees."""

    def __init__(self, unit_dir: str, trees: Sequence[str], parsed: dict):
        self.unit_dir = unit_dir
        self.trees = trees
        #: Each file's syntax tree, bytes and syntax error line, and whether each path is in the
        #: trees, shared by the units of a run (thousands of units include the same few files).
        self.parsed = parsed
        #: Files and folders read (the folders searched by find_in_parent_folders included).
        self.files: list[str] = []
        self.depth = 0
        self.nesting = 0  # of the expression evaluated (see ``_evaluate``)
        #: The files read_terragrunt_config() read, by path and the include they are read for.
        self.configs: dict[tuple[str, str | None], _Read] = {}

    def inside(self, path: str) -> bool:
        key = ("inside", path)
        if key not in self.parsed:
            self.parsed[key] = within_trees(path, self.trees)
        return self.parsed[key]

    def _parse(self, path: str, line: int, where: str):
        if not self.inside(path):
            raise ConfigError(where, line, f"{excerpt(path, quote=False)} is outside the scanned folders and is not "
                                           f"read (scan a folder that holds both, such as the repository)")
        self.files.append(path)  # an input of the result even when it cannot be read: its change is seen
        known = self.parsed.get(path)
        if known is None:
            try:
                source = read_bytes(path)
            except UnreadableFile as exc:
                raise ConfigError(path, 0, f"{exc}; the unit is not read") from None
            except OSError as exc:
                raise ConfigError(where, line, f"cannot read {excerpt(path, quote=False)}: {exc.strerror}") from None
            from .syntax import hcl_parser, readable

            root = hcl_parser().parse(readable(source)).root_node
            known = self.parsed[path] = (root, source, _first_error(root).start_point[0] + 1 if root.has_error else 0)
        if known[2]:
            raise ConfigError(path, known[2], "invalid HCL: Terragrunt cannot read this file")
        return known[0], known[1]

    def read(self, path: str, include_dir: str | None, context: str, line: int = 0, where: str = "") -> _Read:
        """Read one file: ``include_dir`` is set for an included file (its folder is then
        ``get_parent_terragrunt_dir()``); ``context`` is ``get_terragrunt_dir()``, the folder its
        relative paths start from: the unit's for the unit and its includes, a file's own for a
        file read_terragrunt_config() reads (as Terragrunt parses it)."""
        self.depth += 1
        if self.depth > MAX_READS:
            raise ConfigError(where, line, f"configurations read inside each other more than {MAX_READS} deep")
        try:
            root, text = self._parse(path, line, where or path)
            read = _Read(path, text)
            body = next((c for c in root.children if c.type == "body"), None)
            blocks = [c for c in body.children if c.type == "block"] if body is not None else []
            attributes = {_text(c.children[0]): c for c in body.children if c.type == "attribute"} if body else {}
            scope = _Scope(self, read, include_dir, context)
            for block in blocks:  # locals are evaluated when first named: an include's path may name one
                if _text(block.children[0]) == "locals":
                    for name, node in _attributes(block).items():
                        scope.pending_locals[name] = node
                elif _text(block.children[0]) == "dependency":
                    label = _labels(block)
                    if label:  # its outputs are known only after the other unit is applied
                        scope.dependencies[label[0]] = {"outputs": Unknown(f"dependency.{label[0]}.outputs")}
            for block in blocks:
                if _text(block.children[0]) == "include":
                    if include_dir is not None:
                        raise ConfigError(path, block.start_point[0] + 1,
                                          "include in an included configuration (Terragrunt allows one level)")
                    read.includes.append(self._include(block, scope))
            for name in list(scope.pending_locals):
                scope.local(name)
            for block in blocks:
                if _text(block.children[0]) == "terraform":
                    node = _attributes(block).get("source")
                    if node is not None:
                        read.source, read.source_line = scope.value(node), node.start_point[0] + 1
            if "inputs" in attributes:
                read.inputs = scope.value(attributes["inputs"])
                read.inputs_line = attributes["inputs"].start_point[0] + 1
            return read
        finally:
            self.depth -= 1

    def _include(self, block, scope: _Scope) -> tuple[str, str, bool, _Read]:
        labels = _labels(block)
        fields = _attributes(block)
        line = block.start_point[0] + 1
        target = scope.value(fields["path"]) if "path" in fields else Unknown("include without path")
        if not isinstance(target, str):
            raise ConfigError(scope.read.path, line, "include: its path is not known offline; the unit is not read")
        strategy = scope.value(fields["merge_strategy"]) if "merge_strategy" in fields else "shallow"
        expose = scope.value(fields["expose"]) if "expose" in fields else False
        if strategy not in ("no_merge", "shallow", "deep"):
            raise ConfigError(scope.read.path, line, f"include: merge_strategy {excerpt(str(strategy))} is not "
                                                     f"no_merge, shallow or deep")
        path = self.path(scope.context, target)
        parent = self.read(path, include_dir=os.path.dirname(path), context=scope.context, line=line,
                           where=scope.read.path)
        return (labels[0] if labels else "", strategy, expose is True, parent)

    def path(self, folder: str, target: str) -> str:
        """``target`` (absolute, as Terragrunt's functions give paths, or relative to ``folder``)
        written as the unit's folder is: relative to the working folder when that is."""
        path = os.path.normpath(os.path.join(folder, target))
        return os.path.relpath(path) if os.path.isabs(path) and not os.path.isabs(self.unit_dir) else path

    def find_in_parent_folders(self, name: str, fallback: object, start: str, line: int, where: str) -> object:
        """The nearest ``name`` in a folder above ``start``'s, searched no higher than the trees."""
        folder = os.path.dirname(os.path.dirname(os.path.abspath(start)))
        while self.inside(folder):
            self.files.append(folder)
            candidate = os.path.join(folder, name)
            if os.path.exists(candidate):  # a folder too, as Terragrunt finds them
                return os.path.abspath(candidate)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        if fallback is not _NONE:
            return fallback
        raise ConfigError(where, line, f"find_in_parent_folders: no {excerpt(name)} above {os.path.normpath(start)} "
                                       f"in the scanned folders (scan a folder that holds both, such as the "
                                       f"repository); the unit is not read")

    def module(self, read: _Read) -> tuple[str | None, str | None]:
        """The folder of the module the unit runs (the unit's own without a source), or
        None and the remote source not downloaded (see ``_cached``; None when not known)."""
        source, where, line = read.merged_source()
        if source is None:
            return self.unit_dir, None
        if not isinstance(source, str):
            return None, None
        if _REMOTE.match(source):
            cached, searched = _cached(self.unit_dir, source)
            self.files += searched  # a download made later is a change
            return (cached, None) if cached is not None else (None, str(source))
        base, _, sub = source.partition("//")
        folder = self.path(self.unit_dir, os.path.join(base.split("?")[0], sub.split("?")[0].lstrip("/")))
        if not os.path.isdir(folder):  # as a Terraform module's source: that it exists is all that is looked at
            raise ConfigError(where, line, f"terraform source {excerpt(source, quote=False)} does not exist")
        if not self.inside(folder):
            raise ConfigError(where, line, f"terraform source {excerpt(source, quote=False)} is outside the scanned "
                                           f"folders and is not read (scan a folder that holds both, such as the "
                                           f"repository)")
        return folder, None


#: A source go-getter fetches: ``git::``, ``s3::``, a URL, ``tfr://``, a host such as ``github.com/``.
_REMOTE = re.compile(r"^([a-z0-9]+::|[a-z][a-z0-9+.-]*://|git@|(github|bitbucket)\.org/|github\.com/)", re.I)


def _cached(unit_dir: str, source: str) -> tuple[str | None, list[str]]:
    """Where Terragrunt downloaded a remote source: ``.terragrunt-cache/<hash>/<hash>/<subfolder>``
    (one download only: with several, which one runs is not known); and the folders looked in."""
    address = re.sub(r"^[a-z0-9]+::", "", source, flags=re.I).split("?")[0]
    sub = address.rpartition("://")[2].partition("//")[2]
    top = os.path.join(unit_dir, ".terragrunt-cache")
    found, searched = [], [unit_dir, top]
    for first in _listing(top):
        searched.append(os.path.join(top, first))
        for second in _listing(os.path.join(top, first)):
            folder = os.path.normpath(os.path.join(top, first, second, sub))
            if os.path.isdir(folder):
                found.append(folder)
    return (found[0] if len(found) == 1 else None), searched


def _listing(folder: str) -> list[str]:
    try:
        return sorted(name for name in os.listdir(folder) if not name.startswith("."))
    except OSError:
        return []


_NONE = object()


class _Scope:
    """What the expressions of one file can refer to, evaluated on demand."""

    def __init__(self, reader: _Reader, read: _Read, include_dir: str | None, context: str):
        self.reader, self.read, self.include_dir, self.context = reader, read, include_dir, context
        self.pending_locals: dict = {}
        self.evaluating: set[str] = set()
        self.dependencies: dict = {}

    def local(self, name: str) -> object:
        if name in self.read.locals:
            return self.read.locals[name]
        node = self.pending_locals.get(name)
        if node is None or name in self.evaluating:
            return Unknown(f"local.{name}")
        self.evaluating.add(name)
        try:
            value = self.read.locals[name] = self.value(node)
        finally:
            self.evaluating.discard(name)
        return value

    def root(self, name: str) -> object:
        if name == "local":
            return _Locals(self)
        if name == "include":
            return {n: parent.exposed() for n, _, expose, parent in self.read.includes if expose and n}
        if name == "dependency":
            return self.dependencies
        return Unknown(name)

    def value(self, node) -> object:
        """The value of an ``attribute`` or ``expression`` node."""
        if node.type == "attribute":
            node = next(c for c in node.children if c.type == "expression")
        return _evaluate(node, self)

    def call(self, name: str, args: list, line: int) -> object:
        function = _FUNCTIONS.get(name)
        if function is None:
            return Unknown(f"{name}()")
        return function(self, args, line)


class _Locals:
    """``local``: each local evaluated when first referred to."""

    def __init__(self, scope: _Scope):
        self.scope = scope

    def get(self, name: str) -> object:
        return self.scope.local(name)


def _number(text: str) -> object:
    """A number as written (the source's, not the parsed text: see ``syntax.readable``); one
    beyond what a variable file carries exactly (``9E9999999``) is unknown."""
    try:
        value = float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:  # more digits than Python converts
        return Unknown("a number")
    return value if math.isfinite(value) and abs(value) < 2 ** 63 else Unknown("a number")


def _evaluate(node, scope: _Scope) -> object:
    """The value of a node; a nesting deeper than :data:`MAX_DEPTH` is an error at its line."""
    reader = scope.reader
    reader.nesting += 1
    try:
        if reader.nesting > MAX_DEPTH:
            raise ConfigError(scope.read.path, node.start_point[0] + 1,
                              f"expressions nested deeper than {MAX_DEPTH}; the unit is not read")
        return _value_of(node, scope)
    finally:
        reader.nesting -= 1


def _value_of(node, scope: _Scope) -> object:
    kind = node.type
    if kind in ("expression", "literal_value", "collection_value", "template_expr"):
        return _sequence(node, scope)
    if kind == "string_lit" or kind == "quoted_template":
        return _template(node, scope)
    if kind == "numeric_lit":
        return _number(scope.read.text[node.start_byte:node.end_byte].decode("ascii", errors="replace"))
    if kind == "bool_lit":
        return _text(node) == "true"
    if kind == "null_lit":
        return None
    if kind == "tuple":
        return [_evaluate(c, scope) for c in node.children if c.type == "expression"]
    if kind == "object":
        result: dict = {}
        for element in (c for c in node.children if c.type == "object_elem"):
            key_node, value_node = [c for c in element.children if c.type == "expression"]
            key = _key(key_node, scope)
            if not isinstance(key, str):
                return Unknown("an object key")
            result[key] = _evaluate(value_node, scope)
        return result
    if kind == "function_call":
        name = _text(node.children[0])
        arguments = next((c for c in node.children if c.type == "function_arguments"), None)
        args = [_evaluate(c, scope) for c in arguments.children if c.type == "expression"] if arguments else []
        if arguments is not None and any(c.type == "..." for c in arguments.children):
            return Unknown(f"{name}(...)")
        return scope.call(name, args, node.start_point[0] + 1)
    if kind == "conditional":
        condition, yes, no = [c for c in node.children if c.type == "expression"]
        test = _evaluate(condition, scope)
        return _evaluate(yes if test else no, scope) if isinstance(test, bool) else Unknown("a condition")
    if kind == "operation":
        return _sequence(node, scope)
    if kind == "unary_operation":
        value = _parts(node.children[1:], scope)
        operator = _text(node.children[0])
        if operator == "-" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
        return (not value) if operator == "!" and isinstance(value, bool) else Unknown(operator)
    if kind == "binary_operation":
        return _binary(node, scope)
    return Unknown(kind)


def _binary(node, scope: _Scope) -> object:
    """``==`` and ``!=`` of known values (a number is never equal to a string, as in HCL),
    ``&&`` and ``||`` of known bools; any other operation is unknown."""
    at = next((i for i, c in enumerate(node.children) if not c.is_named and c.type in ("==", "!=", "&&", "||")), None)
    if at is None:
        return Unknown("an operation")
    operator = node.children[at].type
    left, right = _parts(node.children[:at], scope), _parts(node.children[at + 1:], scope)
    if operator in ("&&", "||"):
        if not isinstance(left, bool) or not isinstance(right, bool):
            return Unknown(operator)
        return (left and right) if operator == "&&" else (left or right)
    if _has_unknown(left) or _has_unknown(right):
        return Unknown(operator)
    same = type(left) is type(right) and left == right or _number_like(left) and _number_like(right) and left == right
    return same if operator == "==" else not same


def _number_like(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _sequence(node, scope: _Scope) -> object:
    return _parts(node.children, scope)


def _parts(children, scope: _Scope) -> object:
    """An expression's parts: a first one and its attribute and index steps (``local.x``, ``a[0]``)."""
    parts = [c for c in children if c.is_named and c.type != "comment"]
    if not parts:
        return Unknown("an empty expression")
    first = parts[0]
    if first.type == "variable_expr":
        value = scope.root(_text(first.children[0]))
    else:
        value = _evaluate(first, scope)
    for step in parts[1:]:
        if step.type == "get_attr":
            value = _step(value, _text(step.children[-1]))
        elif step.type == "index":
            inner = next((c for c in step.children if c.type == "expression"), None)
            value = _step(value, _evaluate(inner, scope) if inner is not None else Unknown("a splat"))
        else:
            return Unknown(step.type)
    return value


def _step(value: object, key: object) -> object:
    if isinstance(value, Unknown):
        return value
    if isinstance(key, Unknown):
        return key
    if isinstance(value, _Locals) and isinstance(key, str):
        return value.get(key)
    if isinstance(value, dict) and isinstance(key, str):
        return value.get(key, Unknown(key))
    if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(value):
        return value[key]
    return Unknown(str(key))


def _key(node, scope: _Scope) -> object:
    """An object key: a bare name is the name itself, anything else its value."""
    parts = [c for c in node.children if c.is_named]
    if len(parts) == 1 and parts[0].type == "variable_expr":
        return _text(parts[0].children[0])
    return _evaluate(node, scope)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _template(node, scope: _Scope) -> object:
    """A quoted string with its interpolations, unknown when one of them is (or a directive is used)."""
    pieces = []
    for child in node.children:
        if child.type == "template_literal":
            text = _text(child).replace("$${", "${").replace("%%{", "%{")
            pieces.append(re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), text))
            if len(node.children) == 3:  # the one literal between the quotes
                return _written(pieces[0], scope.read.path, child)
        elif child.type == "template_interpolation":
            inner = next((c for c in child.children if c.type == "expression"), None)
            value = _evaluate(inner, scope) if inner is not None else Unknown("${}")
            if isinstance(value, bool):
                value = "true" if value else "false"
            if isinstance(value, (int, float)):
                value = str(value)
            if not isinstance(value, str):
                return value if isinstance(value, Unknown) else Unknown("a template")
            pieces.append(value)
        elif child.type in ("template_directive", "template_for", "template_if"):
            return Unknown("a template directive")
        elif child.type in ("quoted_template", "string_lit"):
            return _template(child, scope)
    return "".join(pieces)


def _text(node) -> str:
    return node.text.decode("utf-8", errors="replace")


def _attributes(block) -> dict:
    body = next((c for c in block.children if c.type == "body"), None)
    return {_text(c.children[0]): c for c in body.children if c.type == "attribute"} if body else {}


def _labels(block) -> list[str]:
    return [_text(c).strip('"') for c in block.children if c.type in ("string_lit", "identifier")][1:]


def _first_error(node):
    """The first node of the tree that is wrong (walked without recursion: any depth is read)."""
    while node.type != "ERROR":
        child = next((c for c in node.children if c.has_error or c.is_missing or c.type == "ERROR"), None)
        if child is None:
            break
        node = child
    return node


# -- functions -------------------------------------------------------------------------------

def _find_in_parent_folders(scope: _Scope, args: list, line: int) -> object:
    name = args[0] if args else UNIT_FILE
    if not isinstance(name, str):
        return Unknown("find_in_parent_folders()")
    start = os.path.join(scope.context, UNIT_FILE)
    return scope.reader.find_in_parent_folders(name, args[1] if len(args) > 1 else _NONE, start, line,
                                               scope.read.path)


def _read_terragrunt_config(scope: _Scope, args: list, line: int) -> object:
    if not args or not isinstance(args[0], str):
        return Unknown("read_terragrunt_config()")
    path = scope.reader.path(scope.context, args[0])
    if len(args) > 1 and not os.path.isfile(path) and scope.reader.inside(os.path.dirname(path)):
        return args[1]
    reader, key = scope.reader, (path, scope.include_dir)
    if key not in reader.configs:  # each once: files that read another many times would take exponential time
        reader.configs[key] = reader.read(path, include_dir=scope.include_dir, context=os.path.dirname(path),
                                          line=line, where=scope.read.path)
    return reader.configs[key].exposed()


def _merge_function(scope: _Scope, args: list, line: int) -> object:
    merged: dict = {}
    for arg in args:
        if arg is None:
            continue
        if not isinstance(arg, dict):
            return Unknown("merge()")
        merged.update(arg)
    return merged


def _concat(scope: _Scope, args: list, line: int) -> object:
    if not all(isinstance(arg, list) for arg in args):
        return Unknown("concat()")
    return [item for arg in args for item in arg]


def _lookup(scope: _Scope, args: list, line: int) -> object:
    if len(args) in (2, 3) and isinstance(args[0], dict) and isinstance(args[1], str):
        if args[1] in args[0]:
            return args[0][args[1]]
        if len(args) == 3:
            return args[2]
    return Unknown("lookup()")


def _string_function(function: Callable[[str], str]) -> Callable[[_Scope, list, int], object]:
    def call(scope: _Scope, args: list, line: int) -> object:
        return function(args[0]) if len(args) == 1 and isinstance(args[0], str) else Unknown("a function")
    return call


def _get_env(scope: _Scope, args: list, line: int) -> object:
    """The default only: the machine's environment is never read."""
    return args[1] if len(args) > 1 else Unknown("get_env()")


def _path_function(choose: Callable[[_Scope], str]) -> Callable[[_Scope, list, int], object]:
    return lambda scope, args, line: os.path.abspath(choose(scope))


def _parent_dir(scope: _Scope) -> str:
    """``get_parent_terragrunt_dir()``: the included file's folder (from the unit: its first include's)."""
    return scope.include_dir or next((os.path.dirname(p.path) for _, _, _, p in scope.read.includes),
                                     scope.reader.unit_dir)


def _relative(to_include: bool) -> Callable[[_Scope, list, int], object]:
    def function(scope: _Scope, args: list, line: int) -> object:
        include = _parent_dir(scope)
        if to_include:
            return os.path.relpath(scope.reader.unit_dir, include).replace(os.sep, "/")
        return os.path.relpath(include, scope.reader.unit_dir).replace(os.sep, "/")
    return function


_FUNCTIONS: dict[str, Callable[[_Scope, list, int], object]] = {
    "find_in_parent_folders": _find_in_parent_folders,
    "read_terragrunt_config": _read_terragrunt_config,
    "merge": _merge_function,
    "concat": _concat,
    "lookup": _lookup,
    "dirname": _string_function(os.path.dirname),
    "basename": _string_function(os.path.basename),
    "get_env": _get_env,
    "get_terragrunt_dir": _path_function(lambda scope: scope.context),
    "get_parent_terragrunt_dir": _path_function(_parent_dir),
    "get_original_terragrunt_dir": _path_function(lambda scope: scope.reader.unit_dir),
    "get_repo_root": _path_function(lambda scope: scanned_trees([scope.reader.unit_dir])[0]),
    "path_relative_to_include": _relative(True),
    "path_relative_from_include": _relative(False),
}


# -- evaluating the units ----------------------------------------------------------------------

def check_units(folders: Sequence[str], settings: Mapping[str, object]) -> tuple[FileResult, set[str]]:
    """Every unit among the folders read and its module evaluated with its inputs; and the
    real paths of the modules they run, which are read through their units only (as a
    Terraform module through its caller)."""
    from .evaluate import scanned_folders

    trees = scanned_folders(folders, settings)
    result = FileResult()
    through: set[str] = set()
    parsed: dict = {}
    units = [read_unit(folder, trees, parsed) for folder in folders]
    # A terragrunt.hcl that other units include or read (the root of the older layouts) is
    # their shared configuration, read in their folders' context, not a unit of its own.
    shared = {os.path.realpath(path) for unit in units for path in unit.files[1:]
              if os.path.basename(path) == UNIT_FILE}
    for unit in units:
        if os.path.realpath(unit.config) in shared:
            continue
        result.inputs.extend(unit.files)
        result.errors.extend(unit.errors)
        if unit.module is not None:
            through.add(os.path.realpath(unit.module))
            _evaluate_unit(unit, trees, settings, result)
        elif unit.source is not None:
            _remote_unit(unit, result)
    return result, through


def _variables(files: list[str]) -> list[str]:
    """The names of the variables a module declares (each one unknown when the inputs are)."""
    from .hcl_positions import index_file

    names = []
    for path in files:
        try:
            names += [block.labels[0] for block in index_file(path).top_level if block.kind == "variable" and block.labels]
        except (OSError, ValueError):
            continue  # the evaluation reports the file
    return names


def _remote_unit(unit: Unit, result: FileResult) -> None:
    """A remote module that is not downloaded: a known one's rules from the inputs (see
    ``known_modules``); else each input that is the whole internet may open a Windows port,
    on a port and in a way not known (WPL001; not one whose name says it is for egress): the
    module is never fetched."""
    from .known_modules import is_known_module

    shown = os.path.normpath(unit.config)
    registry = _registry_address(unit.source)
    if is_known_module(registry):
        _known_module(unit, registry, result)
        return
    step = Provenance("resource", "module", shown, Location(shown, 1, 1))
    for name, value in (unit.inputs or {}).items():
        if "egress" in name.lower():  # outbound rules let nothing in
            continue
        for cidr in _world_cidrs(value):
            location = getattr(cidr, "location", None) or unit.inputs_at
            why = (f"input {name} is {cidr}, passed to {excerpt(unit.source, quote=False)}, which is not downloaded "
                   f"(run terragrunt init to read it)")
            result.permissions.append(Permission(
                resource=f"inputs.{name}", resource_type="terragrunt-input", group=f"{shown}:inputs.{name}",
                direction=Direction.INGRESS, protocol="unknown", ports=None,
                peer=Peer("unknown", why), location=location, rule_location=location,
                provenance=(Provenance("cidr", "unknown", why, location), step), resource_location=location))


def _world_cidrs(value: object) -> list[str]:
    """The strings in a value that are (or list, comma-separated) the whole internet."""
    from winportlint import netmath

    peers = {text: [netmath.parse_peer(part.strip()) for part in text.split(",")] for text in _strings(value)}
    return [text for text, parsed in peers.items()
            if any(peer.network is not None and peer.network.prefixlen == 0 for peer in parsed)]


def _registry_address(source: str) -> str:
    """A ``tfr://`` source as the registry address terraform writes (``tfr:///a/b/c//sub?version=1``
    is ``a/b/c//sub``); any other as it is."""
    if not source.lower().startswith("tfr://"):
        return source
    address = source[len("tfr://"):].split("?")[0].lstrip("/")
    return address[:-3] if address.endswith("//.") else address  # ``//.``: the module's root


def _known_module(unit: Unit, registry: str, result: FileResult) -> None:
    """The rules of a known module called with the unit's inputs, at the line the inputs are set."""
    from .evaluate import Evaluation
    from .reading import read_module

    shown = os.path.normpath(unit.config)
    at = unit.inputs_at or Location(shown, 1, 1)
    call = {**(unit.inputs or {}), "source": registry,
            "__tfmeta": {"type": "module", "path": "module.terragrunt", "label": "terragrunt",
                         "filename": os.path.basename(at.file), "line_start": at.line}}
    version = re.search(r"[?&](?:version|ref)=v?([^&]+)", unit.source or "")
    if version:
        call.setdefault("version", version[1])
    evaluation = Evaluation(os.path.dirname(at.file), blocks={"module": [call]}, var_sources=[f"inputs of {shown}"])
    reading = read_module(evaluation)
    result.errors.extend(reading.errors)
    step = Provenance("resource", "module", shown, Location(shown, 1, 1))
    result.permissions += [p._replace(resource=registry, location=_written_in(unit.inputs or {}, p),
                                      provenance=(*p.provenance, step)) for p in reading.permissions]


def _written_in(inputs: dict, permission: Permission) -> Location:
    """Where the permission's CIDR is written: in the input its rule took it from (``input
    ingress_cidr_blocks``), else in any input; else where the inputs are set."""
    taken = [re.match(r"input ([\w-]+)", p.detail) for p in permission.provenance if p.kind == "module input"]
    named = [inputs.get(match[1]) for match in taken if match]
    for value in (*named, inputs):
        for text in _strings(value):
            if isinstance(text, Written) and text == permission.peer.text:
                return text.location
    return permission.location


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


def _evaluate_unit(unit: Unit, trees: Sequence[str], settings: Mapping[str, object], result: FileResult) -> None:
    """The unit's module evaluated with its inputs (set before the module's own variable
    files, as Terragrunt sets them: as ``TF_VAR_*``), its findings keyed and named by the unit."""
    from .evaluate import Runner, module_calls, module_files, start
    from .reading import read_module

    files = module_files(unit.module)
    calls, errors = module_calls({unit.module: files}, tuple(trees))
    call = calls[unit.module]
    result.errors.extend(errors)
    result.inputs += [unit.module, *files, *(p for f in call.files for p in (os.path.dirname(f), f))]
    if call.errors or not call.holds:  # invalid files alone: the module is read without them
        return
    shown = os.path.normpath(unit.config)
    inputs = unit.inputs if unit.inputs is not None else dict.fromkeys(_variables(files))
    with Runner(1) as runner:
        evaluation = start(unit.module, {**settings, "unit_inputs": (inputs, f"inputs of {shown}")}, files, runner,
                           call.dropped)()
    result.inputs += [*evaluation.var_files, *evaluation.file_reads]
    result.errors.extend(evaluation.errors)
    if evaluation.errors:
        return
    reading = read_module(evaluation)
    permissions = reading.permissions
    result.errors.extend(reading.errors)
    old, new = os.path.normpath(unit.module) + ":", shown + ":"

    def key(text: str) -> str:  # two units of one module are two deployments: their groups are apart
        return new + text[len(old):] if text.startswith(old) else text

    step = Provenance("resource", "module", shown, Location(shown, 1, 1))
    result.permissions += [p._replace(group=key(p.group), provenance=(*p.provenance, step)) for p in permissions]
    result.targets += [t._replace(groups=tuple(map(key, t.groups)), subnets=tuple(map(key, t.subnets)))
                       for t in reading.targets]
    result.subnet_acls += [a._replace(acl=key(a.acl), subnet=key(a.subnet)) for a in reading.subnet_acls]
