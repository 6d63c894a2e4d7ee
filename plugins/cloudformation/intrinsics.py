"""Every value a CloudFormation expression can take, and why.

Conditions are not evaluated: a template is checked for every deployment it
allows, so ``Fn::If`` yields both branches and a parameter yields its default
and each allowed value. What cannot be known from the template alone
(``Fn::GetAtt``, ``Fn::ImportValue``, pseudo parameters, a parameter without
a default) is :data:`UNKNOWN`, never the world.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import NamedTuple

from winportlint.excerpt import excerpt
from winportlint.model import Location, Provenance
from winportlint.nodes import LoadError, Node

#: The functions of the template language: the intrinsic and condition functions, and those
#: of the ``Rules`` section. ``Fn::ForEach`` is written as a key, ``Fn::ForEach::LoopName``.
FUNCTIONS = (
    "Ref", "Condition", "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::ForEach", "Fn::GetAtt", "Fn::GetAZs",
    "Fn::ImportValue", "Fn::Join", "Fn::Length", "Fn::Select", "Fn::Split", "Fn::Sub", "Fn::ToJsonString",
    "Fn::Transform", "Fn::And", "Fn::Equals", "Fn::If", "Fn::Not", "Fn::Or",
    "Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn", "Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll",
)
#: Short-form tags and the function each stands for (every function but Fn::ForEach has one).
SHORT_TAGS = {
    "!" + function.removeprefix("Fn::"): function for function in FUNCTIONS if function != "Fn::ForEach"
}
#: Functions whose value the template alone does not give, and why.
_UNKNOWABLE = {
    "Fn::ImportValue": "Fn::ImportValue is not known before deployment",
    "Fn::GetAZs": "Fn::GetAZs depends on the region and account",
    "Fn::Transform": "Fn::Transform is the output of a macro",
    "Fn::ForEach": "Fn::ForEach loops are not expanded",
    **{function: f"{function} is true or false (a condition)"
       for function in ("Condition", "Fn::And", "Fn::Equals", "Fn::Not", "Fn::Or")},
    **{function: f"{function} belongs to the Rules section" for function in (
        "Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn", "Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll")},
}

MAX_ALTERNATIVES = 256


class _Marker:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: ``Ref: AWS::NoValue``: the property or list item is absent.
NO_VALUE = _Marker("NO_VALUE")


class TooManyValues(LoadError):
    """An expression that can take more than MAX_ALTERNATIVES values: not malformed,
    too many to check one by one."""


class Unknown(NamedTuple):
    """A value the template does not determine; ``why`` says what it depends on, ``type``
    the declared Type of the parameter it comes from (what it can be), if one."""

    why: str
    type: str = ""


class ResourceRef(NamedTuple):
    """``Ref`` or ``Fn::GetAtt`` of a resource of the template (a security group id, say)."""

    name: str
    attribute: str | None = None

    def __str__(self) -> str:
        return f"{self.name}.{self.attribute}" if self.attribute else self.name


class Alternative(NamedTuple):
    """One value an expression can take. ``value`` is a str, a list of values, a
    :class:`Node` (structure left for the caller), NO_VALUE, Unknown or ResourceRef."""

    value: object
    provenance: tuple[Provenance, ...] = ()


#: Values passed for parameters by a parent stack, each parameter's alternatives in the parent.
Arguments = Mapping[str, list[Alternative]]

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class Resolver:
    """Resolves intrinsic functions against one template's parameters and mappings."""

    def __init__(self, file: str, template: dict[str, Node], arguments: Arguments | None = None):
        self.file = file
        #: Values a parent stack passes for parameters (a nested stack's): they replace the defaults.
        self.arguments = arguments or {}
        self.parameters = _section(template, "Parameters")
        self.mappings = _section(template, "Mappings")
        self.resources = _section(template, "Resources")
        #: Mapping values being resolved: a value that finds itself again is a cycle, not a deep recursion.
        self._open_entries: set[int] = set()

    def location(self, node: Node) -> Location:
        return Location(self.file, node.line, node.column)

    def resolve(self, node: Node, field: str) -> list[Alternative]:
        """Every alternative of ``node``; scalars and lists are resolved, mappings
        that are not intrinsic functions come back as Nodes."""
        alternatives = self._resolve(node, field)
        if len(alternatives) > MAX_ALTERNATIVES:
            raise TooManyValues(f"{field} can take more than {MAX_ALTERNATIVES} values", node.line)
        return alternatives

    def _resolve(self, node: Node, field: str) -> list[Alternative]:
        function, argument = intrinsic(node)
        if function is None:
            value = node.value
            if isinstance(value, list):
                return self._resolve_list(node, field)
            if isinstance(value, dict):
                return [Alternative(node)]
            return [Alternative(value, (Provenance(field, "literal", "", self.location(node)),))]
        if function.startswith("Fn::ForEach::"):
            function = "Fn::ForEach"
        if function in _UNKNOWABLE:
            return [Alternative(Unknown(_UNKNOWABLE[function]))]
        if function not in FUNCTIONS:
            raise LoadError(f"unknown function {excerpt(function)}", node.line)
        return getattr(self, "_fn_" + function.removeprefix("Fn::").lower())(argument, field, node)

    def _resolve_list(self, node: Node, field: str) -> list[Alternative]:
        """A literal list whose items may be expressions: the product of their alternatives."""
        per_item = [self._resolve(item, field) for item in node.value]
        results = []
        for combination in _bounded_product(per_item, node):
            items = [a.value for a in combination if a.value is not NO_VALUE]
            results.append(Alternative(items, _join_provenance(combination)))
        return results

    # -- Ref ------------------------------------------------------------------------------------

    def _fn_ref(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        name = argument.value
        if not isinstance(name, str):
            raise LoadError("Ref needs a name", node.line)
        if name == "AWS::NoValue":
            return [Alternative(NO_VALUE)]
        if name in self.parameters:
            return self._parameter(name, field)
        if name in self.resources:
            return [Alternative(ResourceRef(name), (Provenance(field, "intrinsic", f"Ref {name}", self.location(node)),))]
        if name.startswith("AWS::"):
            return [Alternative(Unknown(f"pseudo parameter {name}"))]
        raise LoadError(f"Ref to {excerpt(name)}, which is neither a parameter nor a resource", argument.line)

    def _parameter(self, name: str, field: str) -> list[Alternative]:
        declaration = self.parameters[name]
        spec = declaration.value if isinstance(declaration.value, dict) else {}
        kind = scalar(spec.get("Type")) or ""
        values: list[tuple[Node, str]] = []
        if "Default" in spec:
            values.append((spec["Default"], f"parameter {name} default"))
        allowed = spec.get("AllowedValues")
        if allowed is not None and isinstance(allowed.value, list):
            values.extend((item, f"parameter {name} allowed value") for item in allowed.value)
        if kind.startswith("AWS::SSM::Parameter::Value"):
            return [Alternative(Unknown(f"parameter {name} is read from SSM at deployment", kind))]
        if name in self.arguments:
            return [_argument(passed, field, kind) for passed in self.arguments[name]]
        if not values:
            return [Alternative(Unknown(f"parameter {name} has no default", kind))]
        is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
        seen: dict[object, Alternative] = {}
        for value_node, detail in values:
            text = scalar(value_node)
            if text is None:
                continue
            value: object = [part.strip() for part in text.split(",")] if is_list else text
            key = tuple(value) if is_list else value
            if key not in seen:
                seen[key] = Alternative(value, (Provenance(field, "parameter", detail, self.location(value_node)),))
        return list(seen.values()) or [Alternative(Unknown(f"parameter {name} has no usable value"))]

    def _fn_getatt(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        parts = argument.value
        if isinstance(parts, list) and len(parts) == 2:
            name, attribute = (part.value if isinstance(part, Node) else part for part in parts)
            if isinstance(name, str) and name in self.resources and isinstance(attribute, str):
                step = Provenance(field, "intrinsic", f"Fn::GetAtt {name}.{attribute}", self.location(node))
                return [Alternative(ResourceRef(name, attribute), (step,))]
        return [Alternative(Unknown("Fn::GetAtt is not known before deployment"))]

    # -- Conditions and mappings ----------------------------------------------------------------

    def _fn_if(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        items = list_argument(argument, 3, "Fn::If", node)
        condition = scalar(items[0]) or "?"
        results = []
        for branch, truth in ((items[1], "true"), (items[2], "false")):
            step = Provenance(field, "condition", f"condition {condition} is {truth}", self.location(branch))
            for alternative in self._resolve(branch, field):
                results.append(Alternative(alternative.value, (step, *alternative.provenance)))
        return results

    def _fn_findinmap(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        """Every entry the names can select; with ``{DefaultValue: x}`` (AWS::LanguageExtensions),
        also ``x`` whenever a name may be missing from the map."""
        items = argument.value
        if not isinstance(items, list) or len(items) not in (3, 4):
            raise LoadError("Fn::FindInMap needs a list of 3 items (and an optional {DefaultValue: x})", node.line)
        default = None
        if len(items) == 4:
            option = items[3].value
            if not isinstance(option, dict) or list(option) != ["DefaultValue"]:
                raise LoadError("Fn::FindInMap's fourth item must be {DefaultValue: x}", items[3].line)
            default = option["DefaultValue"]
        written = scalar(items[0])
        if written is not None and written not in self.mappings and default is None:
            raise LoadError(f"Fn::FindInMap names unknown mapping {excerpt(written)}", items[0].line)
        missing = False  # some names may select no entry: where the default applies
        selections: list[tuple[object, tuple[str, ...], tuple[Provenance, ...]]] = [(self.mappings, (), ())]
        for depth, key_node in enumerate(items[:3]):
            deeper = []
            for key, key_provenance in self._keys(key_node, field):
                missing = missing or key is None
                for level, path, provenance in selections:
                    for name in (list(level) if key is None else [key]):
                        entry = level.get(name)
                        if entry is None or (depth < 2 and not isinstance(entry.value, dict)):
                            missing = True
                            continue
                        deeper.append((entry if depth == 2 else entry.value, (*path, name),
                                       provenance + key_provenance))
            selections = deeper
        results = []
        for value_node, path, provenance in selections:
            where = "/".join(path)
            step = Provenance(field, "mapping", f"mapping {where}", self.location(value_node))
            if id(value_node) in self._open_entries:
                raise LoadError(f"mapping {where} refers to itself through Fn::FindInMap", value_node.line)
            self._open_entries.add(id(value_node))
            try:
                alternatives = self._resolve(value_node, field)
            finally:
                self._open_entries.discard(id(value_node))
            results.extend(Alternative(a.value, (*provenance, step, *a.provenance)) for a in alternatives)
        if default is not None and (missing or not results):
            step = Provenance(field, "mapping", "Fn::FindInMap DefaultValue", self.location(default))
            results.extend(Alternative(a.value, (step, *a.provenance)) for a in self._resolve(default, field))
        return results or [Alternative(Unknown(f"no entry of mapping {written or '(computed name)'} matches"))]

    def _keys(self, node: Node, field: str) -> list[tuple[str | None, tuple[Provenance, ...]]]:
        """Mapping keys an argument can take; ``None`` stands for every key."""
        keys = []
        for alternative in self._resolve(node, field):
            value = alternative.value
            literal = value if isinstance(value, str) else None
            provenance = tuple(p for p in alternative.provenance if p.kind != "literal")
            keys.append((literal, provenance))
        return keys

    # -- String functions -----------------------------------------------------------------------

    def _fn_sub(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        if isinstance(argument.value, list):
            items = list_argument(argument, 2, "Fn::Sub", node)
            template_node, variables_node = items
            variables = variables_node.value if isinstance(variables_node.value, dict) else {}
        else:
            template_node, variables = argument, {}
        template = scalar(template_node)
        if template is None:
            return [Alternative(Unknown("Fn::Sub of a non-string"))]
        names = list(dict.fromkeys(_SUB_VARIABLE.findall(template)))
        choices = []
        for name in names:
            if name in variables:
                choices.append(self._resolve(variables[name], field))
            elif name in self.parameters or name in self.resources or name.startswith("AWS::"):
                choices.append(self._fn_ref(Node(name, node.line, node.column), field, node))
            else:  # ${Resource.Attribute}
                choices.append([Alternative(Unknown(f"Fn::Sub of {excerpt(name, quote=False)}"))])
        results = []
        for combination in _bounded_product(choices, node):
            unknown = next((a.value for a in combination if not isinstance(a.value, str)), None)
            if unknown is not None:
                results.append(Alternative(unknown if isinstance(unknown, Unknown)
                                           else Unknown("Fn::Sub of a non-string value")))
                continue
            substitutions = dict(zip(names, (a.value for a in combination)))
            text = _SUB_VARIABLE.sub(lambda m: substitutions[m.group(1)], template).replace("${!", "${")
            results.append(Alternative(text, _join_provenance(combination)))
        return results

    def _fn_join(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        items = list_argument(argument, 2, "Fn::Join", node)
        delimiter = scalar(items[0]) or ""
        results = []
        for alternative in self._resolve(items[1], field):
            parts = alternative.value
            if not isinstance(parts, list):
                results.append(Alternative(parts if isinstance(parts, Unknown) else Unknown("Fn::Join of a non-list"),
                                           alternative.provenance))
            elif all(isinstance(part, str) for part in parts):
                results.append(Alternative(delimiter.join(parts), alternative.provenance))
            else:
                unknown = next((p for p in parts if isinstance(p, Unknown)), Unknown("Fn::Join of a non-string"))
                results.append(Alternative(unknown, alternative.provenance))
        return results

    def _fn_split(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        items = list_argument(argument, 2, "Fn::Split", node)
        delimiter = scalar(items[0])
        if not delimiter:
            raise LoadError("Fn::Split needs a delimiter", node.line)
        return [
            Alternative(a.value.split(delimiter) if isinstance(a.value, str) else a.value, a.provenance)
            for a in self._resolve(items[1], field)
        ]

    def _fn_select(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        items = list_argument(argument, 2, "Fn::Select", node)
        results = []
        for index_alt, list_alt in itertools.product(self._resolve(items[0], field), self._resolve(items[1], field)):
            provenance = index_alt.provenance + list_alt.provenance
            try:
                index = int(index_alt.value)
            except (TypeError, ValueError):
                results.append(Alternative(Unknown("Fn::Select index is not known"), provenance))
                continue
            values = list_alt.value
            if isinstance(values, list) and 0 <= index < len(values):
                results.append(Alternative(values[index], provenance))
            elif isinstance(values, Unknown):
                results.append(Alternative(values, provenance))
            else:
                raise LoadError(f"Fn::Select index {index} is outside the list", node.line)
        return results

    # -- Language extensions and encodings ------------------------------------------------------

    def _fn_length(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        return [Alternative(str(len(a.value)) if isinstance(a.value, list) else
                            a.value if isinstance(a.value, Unknown) else Unknown("Fn::Length of a non-list"),
                            a.provenance)
                for a in self._resolve(argument, field)]

    def _fn_base64(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        import base64

        return [Alternative(base64.b64encode(a.value.encode()).decode() if isinstance(a.value, str) else
                            a.value if isinstance(a.value, Unknown) else Unknown("Fn::Base64 of a non-string"),
                            a.provenance)
                for a in self._resolve(argument, field)]

    def _fn_cidr(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        """The first ``count`` blocks of ``ipBlock`` with ``cidrBits`` host bits each; unknown
        where an argument is, or where CloudFormation would refuse them."""
        import ipaddress

        items = list_argument(argument, 3, "Fn::Cidr", node)
        results = []
        for combination in _bounded_product([self._resolve(item, field) for item in items], node):
            block, count, bits = (a.value for a in combination)
            try:
                network = ipaddress.ip_network(block, strict=False)
                subnets = network.subnets(new_prefix=network.max_prefixlen - int(bits))
                value: object = [str(subnet) for subnet in itertools.islice(subnets, int(count))]
                if not 1 <= int(count) <= 256 or len(value) < int(count):
                    value = Unknown("Fn::Cidr with a count CloudFormation refuses")
            except (TypeError, ValueError):
                value = next((v for v in (block, count, bits) if isinstance(v, Unknown)),
                             Unknown("Fn::Cidr of values that are not a block, a count and a size"))
            results.append(Alternative(value, _join_provenance(combination)))
        return results

    def _fn_tojsonstring(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        """The JSON text of the argument. Scalars are written as strings: the loader keeps
        no number or boolean type, so the text may differ from CloudFormation's there."""
        import json

        return [Alternative(a.value if isinstance(a.value, Unknown) else json.dumps(a.value, separators=(",", ":")),
                            a.provenance)
                for a in self._data(argument, field, node)]

    def _data(self, node: Node, field: str, call: Node) -> list[Alternative]:
        """Alternatives of a whole value as plain lists, dicts and strings; Unknown when any part is."""
        return [combined for a in self._resolve(node, field) for combined in self._plain(a, field, call)]

    def _plain(self, alternative: Alternative, field: str, call: Node) -> list[Alternative]:
        value = alternative.value
        if isinstance(value, Node):  # a mapping that is no function: each value resolved
            keys = list(value.value)
            parts = [self._data(value.value[key], field, call) for key in keys]
        elif isinstance(value, list):
            keys = None
            parts = [self._plain(Alternative(item), field, call) for item in value]
        elif value is None or value is NO_VALUE or isinstance(value, (str, Unknown)):
            return [alternative]
        else:
            return [Alternative(Unknown(f"Fn::ToJsonString of {value}"), alternative.provenance)]
        results = []
        for combination in _bounded_product(parts, call):
            values = [a.value for a in combination]
            data = next((v for v in values if isinstance(v, Unknown)), None) or (
                values if keys is None else {k: v for k, v in zip(keys, values) if v is not NO_VALUE})
            results.append(Alternative(data, alternative.provenance + _join_provenance(combination)))
        return results

def _argument(passed: Alternative, field: str, kind: str) -> Alternative:
    """A value passed for a parameter, as the parameter's type reads it (a list parameter splits
    its text); its first step (which stack passed it) is told of ``field``."""
    value = passed.value
    if isinstance(value, Unknown):
        value = Unknown(value.why, kind)
    elif isinstance(value, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")):
        value = [part.strip() for part in value.split(",")]
    steps = passed.provenance
    return Alternative(value, (steps[0]._replace(field=field), *steps[1:]) if steps else ())


def _section(template: dict[str, Node], name: str) -> dict[str, Node]:
    node = template.get(name)
    return node.value if node is not None and isinstance(node.value, dict) else {}


def scalar(node: Node | None) -> str | None:
    """A plain scalar's text; None for a list, a mapping, a tagged or a missing node."""
    if node is None or node.tag or isinstance(node.value, (list, dict)):
        return None
    return node.value


def intrinsic(node: Node) -> tuple[str | None, Node | None]:
    """``(function name, argument node)`` for short tags and one-key ``Ref``/``Fn::`` mappings."""
    if node.tag:
        function = SHORT_TAGS[node.tag]
        if function == "Fn::GetAtt" and isinstance(node.value, str):
            return function, Node(node.value.split(".", 1), node.line, node.column)
        return function, Node(node.value, node.line, node.column)
    value = node.value
    if isinstance(value, dict) and len(value) == 1:
        (key, argument), = value.items()
        if key == "Ref" or key.startswith("Fn::"):
            return key, argument
    return None, None


def list_argument(argument: Node, size: int, function: str, node: Node) -> list[Node]:
    """A function's list argument of exactly ``size`` items, else a LoadError at the call."""
    if not isinstance(argument.value, list) or len(argument.value) != size:
        raise LoadError(f"{function} needs a list of {size} items", node.line)
    return argument.value


def _bounded_product(choices: list[list[Alternative]], node: Node):
    count = 1
    for choice in choices:
        count *= max(len(choice), 1)
    if count > MAX_ALTERNATIVES:
        raise TooManyValues(f"expression can take more than {MAX_ALTERNATIVES} values", node.line)
    return itertools.product(*choices)


def _join_provenance(combination) -> tuple[Provenance, ...]:
    return tuple(p for alternative in combination for p in alternative.provenance)
