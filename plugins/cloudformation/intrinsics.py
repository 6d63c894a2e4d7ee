"""Every value a CloudFormation expression can take, and why.

A template is checked for every deployment it allows: a parameter yields its
default and each allowed value, and a condition is evaluated in each of them.
Each value comes with the *world* it holds in: the parameter values and
condition outcomes it depends on. Values of one rule are combined only within
one world, so that a condition takes the same branch everywhere in it, as
CloudFormation evaluates it once per deployment. A condition that depends on
what the template does not give (a pseudo parameter, a parameter without a
default, a value passed at deployment) may be either true or false.

What cannot be known from the template alone (``Fn::GetAtt``,
``Fn::ImportValue``, pseudo parameters, a parameter without a default) is
:class:`Unknown`, never the world.
"""

from __future__ import annotations

import itertools
import math
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
#: Combinations a condition function may weigh: its outcomes are only true or false, so
#: that a parameter with hundreds of allowed values is compared with each of them.
MAX_CONDITION_WORLDS = 4096


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


#: What a world fixes, as pairs of a key and the values it may have there: ``("parameter", name)``
#: and values of the parameter (a tuple for a list, or OTHER), ``("condition", name)`` and True or
#: False. A key not in the world may have any value; the empty world holds everywhere.
World = frozenset
EVERYWHERE: World = frozenset()
#: The value of a parameter a condition tests, in the worlds where it is passed neither
#: its default nor an allowed value.
OTHER = _Marker("OTHER")


class Alternative(NamedTuple):
    """One value an expression can take, in the world where it does. ``value`` is a str,
    a list of values, a :class:`Node` (structure left for the caller), NO_VALUE, Unknown,
    ResourceRef, or True/False for a condition."""

    value: object
    provenance: tuple[Provenance, ...] = ()
    world: World = EVERYWHERE


def merge_worlds(first: World, second: World) -> World | None:
    """The world where both hold, or None when they leave a key no value in common."""
    if not second or first == second:
        return first
    if not first:
        return second
    fixed = dict(first)
    for key, values in second:
        if key in fixed:
            values = fixed[key] & values
            if not values:
                return None
        fixed[key] = values
    return frozenset(fixed.items())


def combine_or_each(choices: list[list[Alternative]], node: Node,
                    ) -> tuple[list[tuple[tuple[Alternative, ...], World]], Provenance | None]:
    """:func:`combine`; past its bound, each distinct value of each choice with each of the others
    (worlds left aside), and the step of provenance that says so. A TooManyValues when even
    those are more than MAX_ALTERNATIVES squared."""
    try:
        return combine(choices, node), None
    except TooManyValues:
        distinct = [list({repr(a.value): a._replace(world=EVERYWHERE) for a in choice}.values()) for choice in choices]
        if math.prod(len(choice) for choice in distinct) > MAX_ALTERNATIVES ** 2:
            raise
        note = Provenance("Condition", "condition", f"more than {MAX_ALTERNATIVES} combinations of conditions "
                          "and parameter values: each value read on its own")
        return [(combination, EVERYWHERE) for combination in itertools.product(*distinct)], note


def outer_world(world: World, stack: str) -> World:
    """A parent template's world as its nested stack ``stack`` sees it: the same choices, under
    names the child's own parameters and conditions cannot have."""
    return frozenset(((f"{kind} of stack {stack}", name), values) for (kind, name), values in world)


def fixing(key: tuple[str, str], value: object) -> World:
    """The world where ``key`` has ``value``."""
    return frozenset({(key, frozenset({value}))})


def combine(choices: list[list[Alternative]], node: Node,
            limit: int = MAX_ALTERNATIVES) -> list[tuple[tuple[Alternative, ...], World]]:
    """One alternative of each choice, in every way that holds in one world, with that world;
    a TooManyValues at ``node`` past ``limit`` combinations."""
    combinations: list[tuple[tuple[Alternative, ...], World]] = [((), EVERYWHERE)]
    for choice in choices:
        grown = []
        for combination, world in combinations:
            for alternative in choice:
                merged = merge_worlds(world, alternative.world)
                if merged is not None:
                    grown.append(((*combination, alternative), merged))
        if len(grown) > limit:
            raise TooManyValues(f"expression can take more than {limit} values", node.line)
        combinations = grown
    return combinations


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
        self.conditions = _section(template, "Conditions")
        #: Parameters some condition tests: each is also read as a value other than those written.
        self._tested = _referenced(self.conditions.values())
        self._tests: dict[str, frozenset[str]] = {}
        #: Mapping values being resolved: a value that finds itself again is a cycle, not a deep recursion.
        self._open_entries: set[int] = set()
        self._outcomes: dict[str, list[Alternative]] = {}
        self._open_conditions: set[str] = set()

    def location(self, node: Node) -> Location:
        return Location(node.file or self.file, node.line, node.column)

    def resolve(self, node: Node, field: str) -> list[Alternative]:
        """Every alternative of ``node`` read on its own (in the worlds that :meth:`holds`);
        scalars and lists are resolved, mappings that are not intrinsic functions come back
        as Nodes."""
        return [alternative for alternative in self.alternatives(node, field) if self.holds(alternative.world)]

    def alternatives(self, node: Node, field: str) -> list[Alternative]:
        """Every alternative of ``node``, to be combined with others of the same rule: the
        worlds of the combination are to be checked with :meth:`holds`."""
        alternatives = self._resolve(node, field)
        if len(alternatives) > MAX_ALTERNATIVES:
            raise TooManyValues(f"{field} can take more than {MAX_ALTERNATIVES} values", node.line)
        return alternatives

    def holds(self, world: World) -> bool:
        """Whether a world is one the template is read in: a parameter is given a value other
        than those written only where a condition that tests it is fixed too (elsewhere it is
        read as its default and allowed values, as a parameter no condition tests)."""
        others = [name for (kind, name), values in world if kind == "parameter" and values == {OTHER}]
        if not others:
            return True
        tested = set().union(*(self._tested_by(name) for (kind, name), _ in world if kind == "condition"))
        return all(name in tested for name in others)

    def _tested_by(self, condition: str) -> frozenset[str]:
        """The parameters a condition tests, through the conditions it refers to."""
        if condition not in self._tests:
            self._tests[condition] = frozenset()  # a cycle tests nothing more
            definition = self.conditions.get(condition)
            names = _referenced([definition]) if definition is not None else frozenset()
            self._tests[condition] = frozenset(names & set(self.parameters)).union(
                *(self._tested_by(name) for name in names & set(self.conditions)))
        return self._tests[condition]

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
        for combination, world in combine(per_item, node):
            items = [a.value for a in combination if a.value is not NO_VALUE]
            results.append(Alternative(items, _join_provenance(combination), world))
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
        if any(key.startswith("Fn::ForEach::") for key in self.resources):  # left unexpanded: its collection is unknown
            return [Alternative(Unknown(f"Ref {name}: a resource an Fn::ForEach loop may make"))]
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
            return [_argument(passed, field, kind, name) for passed in self.arguments[name]]
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
                seen[key] = Alternative(value, (Provenance(field, "parameter", detail, self.location(value_node)),),
                                        fixing(("parameter", name), key))
        if not seen:
            return [Alternative(Unknown(f"parameter {name} has no usable value"))]
        if name in self._tested and allowed is None:  # any other value may be passed, and tested
            why = f"parameter {name} is passed another value at deployment"
            step = Provenance(field, "parameter", f"parameter {name}, another value passed at deployment",
                              self.location(declaration))
            seen[OTHER] = Alternative(Unknown(why, kind), (step,), fixing(("parameter", name), OTHER))
        return list(seen.values())

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
        results = []
        branches = {}
        for outcome in self.condition(items[0]):
            branch = items[1] if outcome.value else items[2]
            if id(branch) not in branches:
                branches[id(branch)] = self._resolve(branch, field)
            step = Provenance(field, "condition", outcome.provenance[0].detail, self.location(branch))
            for alternative in branches[id(branch)]:
                world = merge_worlds(outcome.world, alternative.world)
                if world is not None:
                    results.append(Alternative(alternative.value, (step, *alternative.provenance), world))
        return results

    def condition(self, name_node: Node) -> list[Alternative]:
        """The outcomes (True, False) of the condition ``name_node`` names, each in the world
        where it is so; the world fixes the condition itself, so that every Fn::If on it and
        the resources it guards agree. The one step of provenance says why it is so."""
        name = scalar(name_node)
        if name is None:
            raise LoadError("a condition must be named by a string", name_node.line)
        if name in self._outcomes:
            return self._outcomes[name]
        if name in self._open_conditions:
            raise LoadError(f"condition {excerpt(name)} depends on itself", name_node.line)
        definition = self.conditions.get(name)
        self._open_conditions.add(name)
        try:
            truths = [Alternative(Unknown(f"condition {name} is not defined"))] if definition is None \
                else self._truth(definition)
        except TooManyValues:  # too many combinations to weigh: either outcome, as for an unknown
            truths = [Alternative(Unknown(f"condition {name} weighs more than {MAX_CONDITION_WORLDS} "
                                          "combinations of values"))]
        finally:
            self._open_conditions.discard(name)
        outcomes = []
        for truth in truths:
            why = truth.value.why if isinstance(truth.value, Unknown) else ""
            for value in (truth.value,) if isinstance(truth.value, bool) else (True, False):
                world = merge_worlds(truth.world, fixing(("condition", name), value))
                if world is not None:
                    outcomes.append((value, why, world))
        self._outcomes[name] = [
            Alternative(value, (Provenance("Condition", "condition", f"condition {name} is {str(value).lower()}"
                                           f"{_because(why, world)}", self.location(name_node)),), world)
            for value, why, world in _joined(outcomes)]
        return self._outcomes[name]

    def _truth(self, node: Node) -> list[Alternative]:
        """The values (True, False or Unknown) of a condition function, each in its world,
        as few as the worlds allow (see :func:`_joined`)."""
        return [Alternative(value, (), world)
                for value, _, world in _joined([(a.value, "", a.world) for a in self._truths(node)])]

    def _truths(self, node: Node) -> list[Alternative]:
        function, argument = intrinsic(node)
        if function is None and isinstance(node.value, dict) and list(node.value) == ["Condition"]:
            function, argument = "Condition", node.value["Condition"]  # the long form, only here
        if function == "Condition":
            return self.condition(argument)
        if function == "Fn::Equals":
            items = list_argument(argument, 2, "Fn::Equals", node)
            choices = [self._resolve(item, "Fn::Equals") for item in items]
            return [Alternative(_equal(first.value, second.value), (), world)
                    for (first, second), world in combine(choices, node, MAX_CONDITION_WORLDS)]
        if function == "Fn::Not":
            items = list_argument(argument, 1, "Fn::Not", node)
            return [a._replace(value=not a.value) if isinstance(a.value, bool) else a for a in self._truth(items[0])]
        if function in ("Fn::And", "Fn::Or"):
            items = argument.value
            if not isinstance(items, list) or not 2 <= len(items) <= 10:
                raise LoadError(f"{function} needs a list of 2 to 10 conditions", node.line)
            deciding = function == "Fn::Or"  # the value that decides alone: True for Or, False for And
            results = []
            for combination, world in combine([self._truth(item) for item in items], node, MAX_CONDITION_WORLDS):
                values = [a.value for a in combination]
                value = deciding if deciding in values else \
                    next((v for v in values if isinstance(v, Unknown)), not deciding)
                results.append(Alternative(value, (), world))
            return results
        return [Alternative(Unknown("the condition is not a condition function"))]

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
        missing: dict[World, tuple[Provenance, ...]] = {}  # worlds where the names select no entry
        selections: list[tuple[object, tuple[str, ...], tuple[Provenance, ...], World]] = [
            (self.mappings, (), (), EVERYWHERE)]
        for depth, key_node in enumerate(items[:3]):
            deeper = []
            for key, key_provenance, key_world in self._keys(key_node, field):
                for level, path, provenance, world in selections:
                    world = merge_worlds(world, key_world)
                    if world is None:
                        continue
                    if key is None:  # any key, or none of them
                        missing.setdefault(world, provenance + key_provenance)
                    for name in (list(level) if key is None else [key]):
                        entry = level.get(name)
                        if entry is None or (depth < 2 and not isinstance(entry.value, dict)):
                            missing.setdefault(world, provenance + key_provenance)
                            continue
                        deeper.append((entry if depth == 2 else entry.value, (*path, name),
                                       provenance + key_provenance, world))
            selections = deeper
        results = []
        for value_node, path, provenance, world in selections:
            where = "/".join(path)
            step = Provenance(field, "mapping", f"mapping {where}", self.location(value_node))
            if id(value_node) in self._open_entries:
                raise LoadError(f"mapping {where} refers to itself through Fn::FindInMap", value_node.line)
            self._open_entries.add(id(value_node))
            try:
                alternatives = self._resolve(value_node, field)
            finally:
                self._open_entries.discard(id(value_node))
            results.extend(Alternative(a.value, (*provenance, step, *a.provenance), merged)
                           for a in alternatives if (merged := merge_worlds(world, a.world)) is not None)
        if default is not None and (missing or not results):
            step = Provenance(field, "mapping", "Fn::FindInMap DefaultValue", self.location(default))
            defaults = self._resolve(default, field)
            for world, provenance in (missing or {EVERYWHERE: ()}).items():
                results.extend(Alternative(a.value, (*provenance, step, *a.provenance), merged)
                               for a in defaults if (merged := merge_worlds(world, a.world)) is not None)
        return results or [Alternative(Unknown(f"no entry of mapping {written or '(computed name)'} matches"))]

    def _keys(self, node: Node, field: str) -> list[tuple[str | None, tuple[Provenance, ...], World]]:
        """Mapping keys an argument can take, each in its world; ``None`` stands for every key."""
        keys = []
        for alternative in self._resolve(node, field):
            value = alternative.value
            literal = value if isinstance(value, str) else None
            provenance = tuple(p for p in alternative.provenance if p.kind != "literal")
            keys.append((literal, provenance, alternative.world))
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
        for combination, world in combine(choices, node):
            unknown = next((a.value for a in combination if not isinstance(a.value, str)), None)
            if unknown is not None:
                results.append(Alternative(unknown if isinstance(unknown, Unknown)
                                           else Unknown("Fn::Sub of a non-string value"), (), world))
                continue
            substitutions = dict(zip(names, (a.value for a in combination)))
            text = _SUB_VARIABLE.sub(lambda m: substitutions[m.group(1)], template).replace("${!", "${")
            results.append(Alternative(text, _join_provenance(combination), world))
        return results

    def _fn_join(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        items = list_argument(argument, 2, "Fn::Join", node)
        delimiter = scalar(items[0]) or ""
        results = []
        for alternative in self._resolve(items[1], field):
            parts = alternative.value
            if not isinstance(parts, list):
                results.append(alternative._replace(
                    value=parts if isinstance(parts, Unknown) else Unknown("Fn::Join of a non-list")))
            elif all(isinstance(part, str) for part in parts):
                results.append(alternative._replace(value=delimiter.join(parts)))
            else:
                unknown = next((p for p in parts if isinstance(p, Unknown)), Unknown("Fn::Join of a non-string"))
                results.append(alternative._replace(value=unknown))
        return results

    def _fn_split(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        items = list_argument(argument, 2, "Fn::Split", node)
        delimiter = scalar(items[0])
        if not delimiter:
            raise LoadError("Fn::Split needs a delimiter", node.line)
        return [
            a._replace(value=a.value.split(delimiter)) if isinstance(a.value, str) else a
            for a in self._resolve(items[1], field)
        ]

    def _fn_select(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        items = list_argument(argument, 2, "Fn::Select", node)
        results = []
        for (index_alt, list_alt), world in combine([self._resolve(items[0], field),
                                                     self._resolve(items[1], field)], node):
            provenance = index_alt.provenance + list_alt.provenance
            try:
                index = int(index_alt.value)
            except (TypeError, ValueError):
                results.append(Alternative(Unknown("Fn::Select index is not known"), provenance, world))
                continue
            values = list_alt.value
            if isinstance(values, list) and 0 <= index < len(values):
                results.append(Alternative(values[index], provenance, world))
            elif isinstance(values, Unknown):
                results.append(Alternative(values, provenance, world))
            elif isinstance(values, ResourceRef):  # an attribute that is a list (a broker's endpoints)
                results.append(Alternative(Unknown(f"Fn::Select of {values}, not known before deployment"),
                                           provenance, world))
            else:
                raise LoadError(f"Fn::Select index {index} is outside the list", node.line)
        return results

    # -- Language extensions and encodings ------------------------------------------------------

    def _fn_length(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        return [a._replace(value=str(len(a.value)) if isinstance(a.value, list) else
                           a.value if isinstance(a.value, Unknown) else Unknown("Fn::Length of a non-list"))
                for a in self._resolve(argument, field)]

    def _fn_base64(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        import base64

        return [a._replace(value=base64.b64encode(a.value.encode()).decode() if isinstance(a.value, str) else
                           a.value if isinstance(a.value, Unknown) else Unknown("Fn::Base64 of a non-string"))
                for a in self._resolve(argument, field)]

    def _fn_cidr(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        """The first ``count`` blocks of ``ipBlock`` with ``cidrBits`` host bits each; unknown
        where an argument is, or where CloudFormation would refuse them."""
        import ipaddress

        items = list_argument(argument, 3, "Fn::Cidr", node)
        results = []
        for combination, world in combine([self._resolve(item, field) for item in items], node):
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
            results.append(Alternative(value, _join_provenance(combination), world))
        return results

    def _fn_tojsonstring(self, argument: Node, field: str, node: Node) -> list[Alternative]:
        """The JSON text of the argument. Scalars are written as strings: the loader keeps
        no number or boolean type, so the text may differ from CloudFormation's there."""
        import json

        return [a if isinstance(a.value, Unknown) else a._replace(value=json.dumps(a.value, separators=(",", ":")))
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
            return [alternative._replace(value=Unknown(f"Fn::ToJsonString of {value}"))]
        results = []
        for combination, world in combine([[alternative], *parts], call):
            values = [a.value for a in combination[1:]]
            data = next((v for v in values if isinstance(v, Unknown)), None) or (
                values if keys is None else {k: v for k, v in zip(keys, values) if v is not NO_VALUE})
            results.append(Alternative(data, _join_provenance(combination), world))
        return results


def _referenced(nodes) -> frozenset[str]:
    """Names ``Ref`` or ``Condition`` (or an ``Fn::Sub`` variable) refers to anywhere in ``nodes``."""
    names: set[str] = set()
    pending = list(nodes)
    while pending:
        node = pending.pop()
        value = node.value
        if isinstance(value, dict):
            for key in ("Ref", "Condition"):
                reference = value.get(key)
                if reference is not None and isinstance(reference.value, str):
                    names.add(reference.value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str):
            names.update(_SUB_VARIABLE.findall(value))
            if node.tag in ("!Ref", "!Condition"):
                names.add(value)
    return frozenset(names)


def _equal(first: object, second: object) -> bool | Unknown:
    """``Fn::Equals`` of two resolved values (strings, or lists of them)."""
    for value in (first, second):
        if isinstance(value, Unknown):
            return value
        if isinstance(value, (ResourceRef, Node)) or value is NO_VALUE:
            return Unknown("Fn::Equals of a value not known before deployment")
    return first == second


def _joined(outcomes: list[tuple[object, str, World]]) -> list[tuple[object, str, World]]:
    """Outcomes whose worlds differ in the values of one parameter only, as one: a condition on
    a parameter with hundreds of allowed values has two outcomes, not one per value."""
    keys = dict.fromkeys(key for _, _, world in outcomes for key, _ in world if key[0] == "parameter")
    for key in keys:
        joined: dict[tuple, set] = {}
        for value, why, world in outcomes:
            rest = frozenset(pair for pair in world if pair[0] != key)
            values = next((values for k, values in world if k == key), None)
            joined.setdefault((value, why, rest, values is None), set()).update(values or ())
        outcomes = [(value, why, rest if absent else rest | {(key, frozenset(values))})
                    for (value, why, rest, absent), values in joined.items()]
    return outcomes


def _because(why: str, world: World) -> str:
    """Why a condition has its outcome: what it depends on, or the parameter values of its world."""
    if why:
        return f" ({why})"
    described = []
    for (kind, name), values in sorted(world, key=lambda pair: pair[0]):
        if kind != "parameter":
            continue
        texts = sorted(excerpt(",".join(v) if isinstance(v, tuple) else str(v)) for v in values if v is not OTHER)
        if OTHER in values:
            texts.append("another value")
        if len(texts) == 1:
            described.append(f"{name} is another value" if OTHER in values else f"{name} = {texts[0]}")
        else:
            more = len(texts) - 1
            described.append(f"{name} = {texts[0]} or {more} other value{'s' if more > 1 else ''}")
    return f" ({', '.join(described)})" if described else ""


def _argument(passed: Alternative, field: str, kind: str, name: str) -> Alternative:
    """A value passed for a parameter, as the parameter's type reads it (a list parameter splits
    its text); its first step (which stack passed it) is told of ``field``. The value fixes
    the parameter in the child's world, beside the parent's choices it was made in."""
    value = passed.value
    if isinstance(value, Unknown):
        value = Unknown(value.why, kind)
    elif isinstance(value, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")):
        value = [part.strip() for part in value.split(",")]
    steps = passed.provenance
    key = tuple(value) if isinstance(value, list) else value
    return Alternative(value, (steps[0]._replace(field=field), *steps[1:]) if steps else (),
                       merge_worlds(passed.world, fixing(("parameter", name), key)))


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


def _join_provenance(combination) -> tuple[Provenance, ...]:
    return tuple(p for alternative in combination for p in alternative.provenance)
