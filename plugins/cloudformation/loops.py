"""``Fn::ForEach`` loops (``Transform: AWS::LanguageExtensions``) expanded as CloudFormation
expands them, before any rule is read: a rule made by a loop is checked like a written one.

``Fn::ForEach::Name: [Identifier, Collection, {OutputKey: Value}]`` in a mapping of the
``Resources`` or ``Conditions`` section (a resource's properties included) becomes one copy of
the output keys per item of the collection, in place of the loop: ``${Identifier}`` in keys
and ``Fn::Sub`` strings is the item, ``&{Identifier}`` the item without its non-alphanumeric
characters, and ``Ref: Identifier`` the item itself (a plain string value is left as written,
as CloudFormation leaves it). Copies keep the lines of the loop body, so a finding points
at the line written in the loop and names the generated logical id. ``Outputs`` is not read.

A collection is a list or an expression the template resolves (a ``CommaDelimitedList``
parameter gives the items of its default and of each allowed value). A loop whose collection
cannot be known stays as written and, where it makes security groups or rules, is an unknown
rule (WPL001) at its line; a loop CloudFormation would refuse is an input error at its line.
"""

from __future__ import annotations

from typing import NamedTuple

from winportlint.excerpt import excerpt
from winportlint.model import Direction, InputError, Location, Peer, Permission, Provenance
from winportlint.nodes import LoadError, Node

from .extract import INGRESS, SECURITY_GROUP, steps
from .intrinsics import ResourceRef, Resolver, TooManyValues, Unknown, intrinsic

LOOP = "Fn::ForEach::"
#: The sections whose mappings may hold loops (``Outputs`` is not read; the others may not).
SECTIONS = ("Conditions", "Resources")
#: Nodes the loops of one template may generate; past that a loop is read as unknown.
MAX_NODES = 200_000


def has_loops(document: Node) -> bool:
    """Whether a loop key is written in a section that may hold one (a walk, no copy)."""
    pending = [document.value[name] for name in SECTIONS if isinstance(document.value.get(name), Node)]
    while pending:
        value = pending.pop().value
        if isinstance(value, dict):
            if any(key.startswith(LOOP) for key in value):
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


class Expansion(NamedTuple):
    """A template with its loops expanded."""

    document: Node
    #: The unknown rules of the loops whose collection is not known.
    unknown: list[Permission]
    #: The loops CloudFormation would refuse.
    errors: list[InputError]
    #: The resources made only for some values of a collection (a parameter's allowed value,
    #: a condition's branch), and which.
    items: dict[str, tuple[Provenance, ...]]

    def named(self, permissions: list[Permission]) -> list[Permission]:
        """The permissions, each of a resource a loop makes for some values only naming them."""
        return [p._replace(provenance=self.items[p.resource] + p.provenance) if p.resource in self.items else p
                for p in permissions]


def expand(file: str, document: Node) -> Expansion:
    """The template with its loops expanded (see :class:`Expansion`)."""
    expander = _Expander(Resolver(file, document.value))
    template = dict(document.value)
    for name in SECTIONS:
        section = template.get(name)
        if section is not None and isinstance(section.value, dict):
            template[name] = expander.mapping(section, {}, name == "Resources", None)
    expanded = Node(template, document.line, document.column, document.tag)
    expanded.key_pos = document.key_pos
    return Expansion(expanded, list(expander.unknown.values()), expander.errors, expander.items)


class _TooLarge(Exception):
    """The loops generate more than MAX_NODES nodes."""


class _Expander:
    """Copies one template's sections with their loops expanded; what it could not expand, and
    why, is gathered on the way (one walk, no second pass over the template)."""

    def __init__(self, resolver: Resolver):
        self.resolver = resolver
        self.file = resolver.file
        self.nodes = 0
        self.errors: list[InputError] = []
        #: The unknown rule of each loop whose collection is not known, by where the loop is.
        self.unknown: dict[tuple[int, int], Permission] = {}
        #: What each resource made for some values of a collection only is made for.
        self.items: dict[str, tuple[Provenance, ...]] = {}

    def mapping(self, node: Node, names: dict[str, str], resources: bool, resource: Node | None) -> Node:
        """A mapping with its loops expanded and ``names`` (identifier -> item) substituted.
        ``resources``: its values are resources; ``resource``: the resource it belongs to."""
        written: dict[str, Node] = {}
        positions: dict[str, tuple[int, int]] = {}
        loops = []
        for key, value in node.value.items():
            if key.startswith(LOOP):
                loops.append((key, value))
                continue
            new_key = _substitute(key, names)
            positions[new_key] = _position(node, key)
            written[new_key] = self.value(value, names, False, value if resources else resource)
        generated: dict[str, tuple[Node, tuple[int, int]]] = {}
        for key, value in loops:
            where = _position(node, key)
            try:
                copies = self.loop(key, value, names, resources, resource, where)
            except LoadError as exc:
                self.errors.append(InputError(self.file, exc.line, f"{key}: {exc}"))
                continue
            if copies is None:  # not known: left as written
                written[key], positions[key] = value, where
                continue
            for new_key, copy in copies.items():
                if new_key.startswith(LOOP):  # an inner loop not expanded, once
                    written.setdefault(new_key, copy[0])
                    positions.setdefault(new_key, copy[1])
                elif new_key in written or new_key in generated:
                    self.errors.append(InputError(self.file, where[0], f"{key}: it makes {excerpt(new_key)}, "
                                                                       "which the mapping already has"))
                else:
                    generated[new_key] = copy
        for new_key, (copy, position) in generated.items():
            written[new_key], positions[new_key] = copy, position
        copy = Node(written, node.line, node.column, node.tag)
        copy.key_pos = positions
        return copy

    def value(self, node: Node, names: dict[str, str], resources: bool, resource: Node | None) -> Node:
        """``node`` with loops expanded and names substituted (``node`` itself when nothing changes)."""
        if names:  # a copy
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise _TooLarge
        value = node.value
        if isinstance(value, dict):
            node = self.mapping(node, names, resources, resource)
        elif isinstance(value, list):
            node = Node([self.value(item, names, False, resource) for item in value], node.line, node.column,
                        node.tag)
        return _evaluated(node, names) if names and (node.tag or isinstance(node.value, dict)) else node

    def loop(self, key: str, loop: Node, names: dict[str, str], resources: bool, resource: Node | None,
             where: tuple[int, int]) -> dict[str, tuple[Node, tuple[int, int]]] | None:
        """``{generated key: (value, position)}`` of one loop; None when its collection is not known."""
        parts = loop.value
        line = where[0]
        if not isinstance(parts, list) or len(parts) != 3 or loop.tag:
            raise LoadError("needs a list of 3 items: an identifier, a collection and a mapping of "
                            "output keys to values", line)
        identifier_node, collection, body = parts
        identifier = _substitute(identifier_node.value, names) if isinstance(identifier_node.value, str) else None
        if not identifier or identifier_node.tag:
            raise LoadError("the identifier (first item) must be a name", line)
        if not isinstance(body.value, dict) or body.tag:
            raise LoadError("the third item must be a mapping of output keys to values", line)
        try:
            collected = self.collection(self.value(collection, names, False, resource), line)
        except TooManyValues:
            collected = Unknown("the collection can take too many values to list")
        if isinstance(collected, Unknown):
            self.unknown_loop(key, body, resources, resource, where, collected.why)
            return None
        items, to_values = collected
        copies: dict[str, tuple[Node, tuple[int, int]]] = {}
        sources: dict[str, frozenset[int]] = {}
        for item, worlds in items.items():
            try:
                copy = self.mapping(body, {**names, identifier: item}, resources, resource)
            except _TooLarge:
                self.unknown_loop(key, body, resources, resource, where,
                                  f"it makes more than {MAX_NODES} values")
                return None
            for new_key, value in copy.value.items():
                if new_key.startswith(LOOP):  # an inner loop not expanded: the same in every copy
                    copies.setdefault(new_key, (value, copy.key_pos[new_key]))
                    continue
                if new_key in copies and sources[new_key] & worlds:  # two items of one value of the collection
                    raise LoadError(f"it makes {excerpt(new_key)} more than once", line)
                if new_key not in copies:
                    copies[new_key], sources[new_key] = (value, copy.key_pos[new_key]), worlds
                    if resources and len(worlds) < len(to_values):
                        self.items[new_key] = tuple(Provenance(identifier, p.kind, p.detail, p.location)
                                                    for p in to_values[min(worlds)]) + self.items.get(new_key, ())
        return copies

    def collection(self, collection: Node, line: int) -> tuple[dict[str, frozenset[int]], list] | Unknown:
        """Each item the collection can hold, with the indexes of the values of the collection
        (a parameter's default, each allowed value) it is in, and the steps to each value;
        Unknown when one is not known."""
        if not isinstance(collection.value, list) and intrinsic(collection)[0] is None:
            raise LoadError("the collection (second item) must be a list or a function that gives one", line)
        items: dict[str, frozenset[int]] = {}
        alternatives = self.resolver.resolve(collection, "collection")
        for index, alternative in enumerate(alternatives):
            value = alternative.value
            if isinstance(value, (Unknown, ResourceRef)):
                return Unknown(f"the collection {value.why if isinstance(value, Unknown) else f'Ref {value}'}")
            if not isinstance(value, list):
                raise LoadError("the collection (second item) is not a list", line)
            for item in value:
                if isinstance(item, (Unknown, ResourceRef)):
                    return Unknown(f"an item of the collection: {item.why if isinstance(item, Unknown) else item}")
                if not isinstance(item, str):
                    raise LoadError("each item of the collection must be a string", line)
                if index in items.get(item, ()):
                    raise LoadError(f"the collection holds {excerpt(item)} more than once", line)
                items[item] = items.get(item, frozenset()) | {index}
        return items, [steps(alternative) for alternative in alternatives]

    def unknown_loop(self, key: str, body: Node, resources: bool, resource: Node | None,
                     where: tuple[int, int], why: str) -> None:
        """A loop that is not expanded opens unknown ports to unknown sources (WPL001) where it
        makes security groups or ingress rules (or properties of one), never nothing."""
        types = (SECURITY_GROUP, INGRESS)
        if not (_declares(body, types) if resources else _type(resource) in types):
            return
        location = Location(self.file, *where)
        why = f"{key} is not expanded: {why}"
        self.unknown.setdefault(where, Permission(
            resource=key, resource_type=INGRESS, group=key, direction=Direction.INGRESS, protocol="unknown",
            ports=None, peer=Peer("unknown", why), location=location, rule_location=location,
            resource_location=location, provenance=(Provenance(key, "unknown", why, location),)))


def _evaluated(node: Node, names: dict[str, str]) -> Node:
    """What the transform makes of a function in a loop body: ``Ref`` to an identifier is the
    item; an ``Fn::Sub`` string has the identifiers substituted, and is plain text when no
    variable is left in it. Any other node is left as it is."""
    function, argument = intrinsic(node)
    if function == "Ref" and isinstance(argument.value, str) and argument.value in names:
        return Node(names[argument.value], argument.line, argument.column)
    if function != "Fn::Sub":
        return node
    listed = isinstance(argument.value, list)
    template = argument.value[0] if listed and argument.value else argument
    if not isinstance(template.value, str) or template.tag:
        return node
    text = _substitute(template.value, names)
    if "${" not in text and "&{" not in text:
        return Node(text, template.line, template.column)
    if text == template.value:
        return node
    template = Node(text, template.line, template.column)
    argument = Node([template, *argument.value[1:]], argument.line, argument.column) if listed else template
    if node.tag:
        return Node(argument.value, node.line, node.column, node.tag)
    copy = Node({"Fn::Sub": argument}, node.line, node.column)
    copy.key_pos = node.key_pos
    return copy


def _substitute(text: str, names: dict[str, str]) -> str:
    """``${Identifier}`` is the item, ``&{Identifier}`` the item's letters and digits."""
    for identifier, item in names.items():
        if identifier in text:
            text = text.replace("${" + identifier + "}", item).replace(
                "&{" + identifier + "}", "".join(c for c in item if c.isascii() and c.isalnum()))
    return text


def _position(node: Node, key: str) -> tuple[int, int]:
    return (node.key_pos or {}).get(key, (node.line, node.column))


def _type(resource: Node | None) -> object:
    fields = resource.value if resource is not None and isinstance(resource.value, dict) else {}
    return getattr(fields.get("Type"), "value", None)


def _declares(node: Node, types: tuple[str, ...]) -> bool:
    """Whether a resource of one of ``types`` is declared anywhere in ``node``."""
    pending = [node]
    while pending:
        value = pending.pop().value
        if isinstance(value, dict):
            kind = value.get("Type")
            if kind is not None and kind.value in types:
                return True
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False
