"""The instances of a resource whose ``count`` is known only at apply (issue #16).

The evaluator makes one instance (``[0]``, with ``count.index`` 0) of a resource whose
count it cannot work out, such as ``count = local.create ? length(var.rules) : 0`` when
``local.create`` depends on a data source. A module that builds one network ACL entry or
security group rule per element of a list that way (``rule_number =
var.rules[count.index]["rule_number"]``) was read as its first element only, and an
entry for 3389 further down the list was lost. Here the other elements are read from the
list's evaluated value (a module input, a variable's default, a local) when the count is
that list's length and each attribute that uses ``count.index`` is written in one of the
forms such modules use: ``X[count.index]``, ``X[count.index].k`` or ``["k"]``,
``element(X, count.index)``, ``lookup(X[count.index], "k", default)``, ``try(...)`` of
these with a literal default, and a list of one of these (``[X[count.index].cidr]``). Another form makes the attribute unknown. The forms must
give the evaluator's own instance ``[0]`` from element 0, else nothing is read (the list
was not the one the evaluator used, e.g. a variable set by a var file).
"""

from __future__ import annotations

import json
import re

from .hcl_positions import Block

_NAME = r"(?:var|local)\.[A-Za-z_][\w-]*"
_KEY = r'(?:\.(?P<dot>[A-Za-z_][\w-]*)|\[\s*"(?P<quoted>[^"\\]*)"\s*\])'
_ITEM = rf"(?:(?P<list>{_NAME})\s*\[\s*count\.index\s*\]|element\(\s*(?P<wrapped>{_NAME})\s*,\s*count\.index\s*\))"
_DIRECT = re.compile(rf"{_ITEM}{_KEY}?")
_LISTED = re.compile(rf"\[\s*{_ITEM}{_KEY}?\s*,?\s*\]")
_LOOKUP = re.compile(rf'lookup\(\s*{_ITEM}\s*,\s*"(?P<quoted>[^"\\]*)"\s*(?:,\s*(?P<default>[^,()]*?))?\s*,?\s*\)')
_TRY = re.compile(rf"try\(\s*{_ITEM}{_KEY}\s*,\s*(?P<default>[^,()]*?)\s*,?\s*\)")
_LENGTH = re.compile(rf"\blength\(\s*({_NAME})\s*\)")
#: An attribute read from an element that does not hold it (and has no default): unknown.
_MISSING = object()


class _Form:
    """How an attribute takes its value from the ``count.index``-th element of a list."""

    def __init__(self, match: re.Match | None, listed: bool = False):
        self.known = match is not None
        self.listed = listed
        groups = match.groupdict() if match else {}
        self.list = groups.get("list") or groups.get("wrapped")
        self.wraps = bool(groups.get("wrapped"))
        self.key = groups.get("dot") or groups.get("quoted")
        self.default = _MISSING
        if groups.get("default") is not None:
            self.default = _literal(groups["default"])

    def value(self, items: list, index: int) -> object:
        value = self._element_value(items, index)
        return [value] if self.listed and value is not _MISSING else value

    def _element_value(self, items: list, index: int) -> object:
        if self.wraps:
            index %= len(items)
        if index >= len(items):
            return _MISSING
        item = items[index]
        if self.key is None:
            return item
        if isinstance(item, dict) and self.key in item:
            return item[self.key]
        return self.default


def other_instances(entry: dict, block: Block, text: str, blocks: dict, modules: dict,
                    prefix: str) -> list[dict]:
    """The instances after ``[0]`` of a resource the evaluator gave one instance of for an
    unknown count, their metadata's ``element`` naming the list element each comes from
    (``element 4 of var.rules``); empty when they cannot be read (see the module's docstring).
    ``prefix`` is the resource's module call address (``module.vpc``, "" in the root),
    ``modules`` the module calls by address."""
    meta = entry.get("__tfmeta") or {}
    path = str(meta.get("path", ""))
    count = entry.get("count", 0)
    if not path.endswith("[0]") or not (count is None or isinstance(count, dict) and "__attribute__" in count):
        return []
    written = block.attributes.get("count")
    if written is None or written.span is None:
        return []
    counted = _LENGTH.findall(text[written.span[0]:written.span[1]])
    forms: dict[str, _Form] = {}
    for name, attribute in block.attributes.items():
        expression = text[attribute.span[0]:attribute.span[1]].strip() if attribute.span else ""
        if name == "count" or "count.index" not in expression:
            continue
        form = _Form(_DIRECT.fullmatch(expression))
        if not form.known:
            form = _Form(_LOOKUP.fullmatch(expression))
        if not form.known:
            form = _Form(_TRY.fullmatch(expression))
        if not form.known:
            form = _Form(_LISTED.fullmatch(expression), listed=True)
        forms[name] = form
    lists = {form.list for form in forms.values() if form.known}
    if len(counted) != 1 or counted[0] not in lists:
        return []
    values = {name: _value(name, blocks, modules, prefix) for name in lists}
    if not all(isinstance(value, list) and value for value in values.values()):
        return []
    for name, form in forms.items():  # the evaluator's instance must be element 0
        if form.known and not _same(form.value(values[form.list], 0), entry.get(name)):
            return []
    base = path[:-len("[0]")]
    instances = []
    for index in range(1, len(values[counted[0]])):
        instance = dict(entry)
        instance["__tfmeta"] = {**meta, "path": f"{base}[{index}]", "element": f"element {index} of {counted[0]}"}
        for name, form in forms.items():
            value = form.value(values[form.list], index) if form.known else _MISSING
            instance[name] = {"__attribute__": f"{name} of instance {index}"} if value is _MISSING else value
        instances.append(instance)
    return instances


def _value(name: str, blocks: dict, modules: dict, prefix: str) -> object:
    """The evaluated value of ``var.x`` or ``local.x`` in the module at ``prefix``; None if unknown."""
    kind, _, key = name.partition(".")
    scope = f"{prefix}." if prefix else ""
    if kind == "var":
        call = modules.get(prefix) if prefix else None
        if isinstance(call, dict) and key in call:
            return call[key]
        for variable in blocks.get("variable") or ():
            if isinstance(variable, dict) and (variable.get("__tfmeta") or {}).get("path") == f"{scope}variable.{key}":
                return variable.get("default")
        return None
    for local in blocks.get("locals") or ():
        if isinstance(local, dict) and (local.get("__tfmeta") or {}).get("path") == f"{scope}locals" and key in local:
            return local[key]
    return None


def _literal(text: str) -> object:
    """A default written as a literal (``null``, a number, a string, a bool); otherwise unknown."""
    try:
        return json.loads(text)
    except ValueError:
        return _MISSING


def _same(ours: object, evaluated: object) -> bool:
    """Whether a value read here is the evaluator's (which writes numbers and bools of a
    resource's attributes as strings)."""
    if ours is _MISSING:
        return evaluated is None or isinstance(evaluated, dict) and "__attribute__" in evaluated
    if ours == evaluated:
        return True
    if isinstance(ours, bool) and isinstance(evaluated, str):
        return str(ours).lower() == evaluated
    return isinstance(ours, (int, float, str)) and isinstance(evaluated, (int, float, str)) and \
        str(ours) == str(evaluated)
