"""Serverless Framework services: the CloudFormation in ``resources``, its variables resolved.

A ``serverless.yml`` (``.yaml``, ``.json``) is a mapping with ``service`` and
``provider``; its ``resources`` is a CloudFormation template fragment, or a
list of them, each inline or a ``${file(./x.yml)}`` of its own. Variables are
resolved as the framework would without a deployment: ``${self:a.b}`` from the
service itself, ``${sls:stage}`` and ``${opt:stage}`` to ``provider.stage`` or
``dev``, and anything given a default (``${env:X, 'x'}``, ``${opt:y, 10}``)
to that default; the machine's environment is never read. What cannot be known
then (``${ssm:...}``, ``${cf:...}``, an option without a default, a file that
is not there) becomes a parameter without a default, so it is unknown, never
the world, and WPL001 names it. A ``${file()}`` is read only below the
service's own folder. A mapping or list a variable brings keeps its own place
(an :class:`IncludedNode` when that is another file), so that a rule points at
the line where it is written; a scalar takes the place of its variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from winportlint.engine import within_trees
from winportlint.excerpt import excerpt
from winportlint.model import InputError
from winportlint.nodes import IncludedNode, Node

from . import SERVERLESS_SOURCES

#: The innermost variable of a string: ``${...}`` holding no other.
_VARIABLE = re.compile(r"\$\{([^{}]*)\}")
#: How many steps a value may take through other variables (``self:`` chains, cycles).
MAX_DEPTH = 20
#: The prefix of the parameters that stand for values that cannot be known.
UNKNOWN_PREFIX = "Serverless variable "

Loader = Callable[[str], Node]


def is_service(document: Node) -> bool:
    """A Serverless Framework service with CloudFormation resources."""
    value = document.value
    return isinstance(value, dict) and "service" in value and "provider" in value and "resources" in value


def has_variables(document: Node) -> bool:
    """Whether any string of the document holds a Serverless variable (a fragment read on its own)."""
    return any(_is_variable_text(text) for text in _strings(document))


class _Unknown(Exception):
    """A variable no source resolves: ``expression`` as written."""

    def __init__(self, expression: str):
        super().__init__(expression)
        self.expression = expression


class Service:
    """One service's variables: resolves a document's strings against the service."""

    def __init__(self, path: str, service: Node | None, load: Loader):
        self.path = path
        self.service = service
        self.load = load
        self.unknown: dict[str, None] = {}
        self.errors: list[InputError] = []
        #: Every file a ``${file()}`` named (read or not): what the result depends on.
        self.inputs: dict[str, None] = {}
        #: The fragment files of ``resources``, read here as the service deploys them: their
        #: findings on their own (where the service's variables are unknown) are not reported.
        self.children: dict[str, None] = {}
        self._files: dict[str, Node | None] = {}
        #: The file of the template being resolved: nodes of any other file are IncludedNodes.
        self._reading = path

    def templates(self) -> list[tuple[str, Node]]:
        """Each CloudFormation fragment of ``resources`` as a template, with the file it is written in."""
        resources = self.service.value["resources"]
        fragments = resources.value if isinstance(resources.value, list) else [resources]
        found = []
        for fragment in fragments:
            if isinstance(fragment.value, str) and fragment.value.strip().startswith("${file(") and \
                    ":" not in fragment.value.strip()[7:].split(")", 1)[1]:
                written = fragment.value.strip()[7:].split(")", 1)[0].strip().strip("'\"")
                where = self._file_path(written)
                try:
                    if where is None:
                        raise OSError(0, "outside the service's folder, not read")
                    self.inputs[where] = None
                    found.append((where, self.template(self.load(where), where)))
                    self.children[where] = None
                except (OSError, ValueError) as exc:  # the framework would stop: its resources are unknown
                    self.errors.append(InputError(self.path, fragment.line, f"resources fragment "
                                                  f"{excerpt(written, quote=False)} cannot be read: "
                                                  f"{getattr(exc, 'strerror', None) or exc}"))
            elif isinstance(fragment.value, dict):
                found.append((self.path, self.template(fragment, self.path)))
        return found

    def template(self, fragment: Node, where: str) -> Node:
        """The fragment (written in ``where``) with its variables resolved, and a parameter without
        a default for each value that cannot be known (created in its ``Parameters``)."""
        self.unknown = {}
        self._reading = where
        resolved = self.resolve(fragment, 0, where)
        if self.unknown and isinstance(resolved.value, dict):
            parameters = resolved.value.get("Parameters")
            if parameters is None or not isinstance(parameters.value, dict):
                parameters = resolved.value["Parameters"] = Node({}, resolved.line, resolved.column)
            for name in self.unknown:
                parameters.value[name] = Node({"Type": Node("String", resolved.line, resolved.column)},
                                              resolved.line, resolved.column)
        return resolved

    def resolve(self, node: Node, depth: int, source: str) -> Node:
        """A copy of ``node`` (written in the file ``source``) with every variable in its strings resolved."""
        if isinstance(node.value, dict):
            copy = self._node({key: self.resolve(value, depth, source) for key, value in node.value.items()},
                              node, source, node.tag)
            copy.key_pos = node.key_pos
            return copy
        if isinstance(node.value, list):
            return self._node([self.resolve(item, depth, source) for item in node.value], node, source, node.tag)
        if isinstance(node.value, str) and _is_variable_text(node.value):
            return self._resolve_string(node, depth, source)
        return node if source == self._reading else self._node(node.value, node, source, node.tag)

    def _node(self, value, where: Node, source: str, tag: str | None = None) -> Node:
        """A node of ``value`` at the place of ``where``, in the file ``source``."""
        if source == self._reading:
            return Node(value, where.line, where.column, tag)
        return IncludedNode(value, where.line, where.column, tag, source)

    def _resolve_string(self, node: Node, depth: int, source: str) -> Node:
        text = node.value
        whole = _VARIABLE.fullmatch(text.strip())
        try:
            if whole and _is_expression(whole[1]):
                value = self._expression(whole[1], node, depth)
                if isinstance(value, Node):  # a mapping or list keeps its place; a scalar takes the variable's
                    unknown = _unknown_name(value)
                    if unknown is not None:  # what stands for an unknown value, too
                        return self._node({"Ref": self._node(unknown, node, source)}, node, source)
                    return value if isinstance(value.value, (dict, list)) else \
                        self._node(value.value, node, source, value.tag)
                return self._node(value, node, source)
            start = 0
            for _ in range(MAX_DEPTH * 8):
                match = _VARIABLE.search(text, start)
                if match is None:
                    break
                if not _is_expression(match[1]):  # ``${AWS::Region}`` of an Fn::Sub: CloudFormation's
                    start = match.end()
                    continue
                value = self._expression(match[1], node, depth)
                if isinstance(value, Node):
                    if not isinstance(value.value, str):
                        raise _Unknown(match[0])  # a mapping inside text: CloudFormation would get its repr
                    value = value.value
                if _in_default(text, match.start()):
                    value = "'" + str(value).replace("'", "") + "'"
                text = text[:match.start()] + str(value) + text[match.end():]
                start = 0
            else:
                raise _Unknown(text)
            return self._node(text, node, source)
        except _Unknown as exc:
            name = UNKNOWN_PREFIX + excerpt(exc.expression, quote=False)
            self.unknown[name] = None
            return self._node({"Ref": self._node(name, node, source)}, node, source)

    def _expression(self, expression: str, node: Node, depth: int) -> Node | str:
        """The value of one variable's expression (sources, then a default, left to right)."""
        if depth > MAX_DEPTH:
            raise _Unknown("${" + expression + "}")
        for part in _alternatives(expression):
            value = self._source(part, node, depth)
            if value is not None:
                return value
        raise _Unknown("${" + expression + "}")

    def _source(self, part: str, node: Node, depth: int) -> Node | str | None:
        if len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"":
            return part[1:-1]
        if re.fullmatch(r"-?\d+(\.\d+)?", part):
            return part
        if part.startswith("self:"):
            found = _path(self.service, part[5:]) if self.service is not None else None
            return None if found is None else self.resolve(found, depth + 1, self.path)
        if part in ("sls:stage", "opt:stage"):
            stage = _path(self.service, "provider.stage") if self.service is not None else None
            if stage is not None:
                resolved = self.resolve(stage, depth + 1, self.path)
                return resolved.value if isinstance(resolved.value, str) else None
            return "dev" if part == "sls:stage" else None
        if part.startswith("file(") and ")" in part:
            inside, _, key = part[5:].partition(")")
            where = self._file_path(inside)
            document = self._read(where) if where else None
            if document is None:
                return None
            found = _path(document, key.lstrip(":")) if key.lstrip(":") else document
            return None if found is None else self.resolve(found, depth + 1, where)
        return None  # opt: without a default, env:, ssm:, cf:, s3:, aws: and the rest: not known offline

    def _file_path(self, written: str) -> str | None:
        """The file a ``${file()}`` names, if it is below the service's folder (else its value
        is unknown: nothing outside the scanned folder is read)."""
        written = written.strip().strip("'\"")
        folder = os.path.dirname(self.path)
        target = os.path.normpath(os.path.join(folder, written))
        if os.path.isabs(written) or target == os.path.normpath(folder or ".") or \
                not within_trees(target, (os.path.realpath(folder or "."),)):
            return None
        return target

    def _read(self, where: str) -> Node | None:
        """A file a ``${file()}`` names; None (its value unknown) when it cannot be read: such
        files are often written at deploy time (``env.configs.yml``, kept out of the repository)."""
        self.inputs[where] = None
        if where not in self._files:  # a service names the same file for many values: read once
            try:
                self._files[where] = self.load(where)
            except (OSError, ValueError):
                self._files[where] = None
        return self._files[where]


def _alternatives(expression: str) -> list[str]:
    """``opt:stage, self:provider.stage, 'dev'`` -> its parts (commas inside quotes kept)."""
    parts, current, quote = [], "", ""
    for char in expression:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ",":
            parts.append(current.strip())
            current = ""
            continue
        current += char
    parts.append(current.strip())
    return [part for part in parts if part]


def _in_default(text: str, at: int) -> bool:
    """Whether the variable at ``at`` is a default of the variable around it (``${opt:x, ${self:y}}``:
    its value goes in quoted); one in the address (``${self:custom.cidr.${sls:stage}}``) is part of it."""
    depth = 0
    for index in range(at - 1, -1, -1):
        if text[index] == "}":
            depth += 1
        elif text.startswith("${", index):
            if depth == 0:
                return "," in text[index:at]
            depth -= 1
    return False


def _path(document: Node, dotted: str) -> Node | None:
    """The node at a dotted path of mapping keys (list items by index)."""
    node = document
    for key in dotted.split(".") if dotted else []:
        if isinstance(node.value, dict) and key in node.value:
            node = node.value[key]
        elif isinstance(node.value, list) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
        else:
            return None
    return node


def _unknown_name(node: Node) -> str | None:
    """The parameter name of a ``Ref`` that stands for a value that cannot be known, if ``node`` is one."""
    value = node.value
    if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"].value, str) \
            and value["Ref"].value.startswith(UNKNOWN_PREFIX):
        return value["Ref"].value
    return None


def _is_expression(expression: str) -> bool:
    """Whether the inside of a ``${...}`` is a Serverless variable (a source, then defaults)."""
    return expression.strip().startswith(SERVERLESS_SOURCES)


def _is_variable_text(text: str) -> bool:
    return "${" in text and any(_is_expression(match[1]) for match in _VARIABLE.finditer(text))


def _strings(node: Node):
    if isinstance(node.value, dict):
        for value in node.value.values():
            yield from _strings(value)
    elif isinstance(node.value, list):
        for item in node.value:
            yield from _strings(item)
    elif isinstance(node.value, str):
        yield node.value
