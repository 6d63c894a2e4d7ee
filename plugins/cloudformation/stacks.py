"""Nested stacks: templates that call templates.

An ``AWS::CloudFormation::Stack`` whose ``TemplateURL`` is a local path (relative to
the parent's folder, as ``aws cloudformation package`` takes it), or an
``AWS::Serverless::Application`` whose ``Location`` is one, is read and evaluated
with the ``Parameters`` the parent passes, each resolved in the parent: a passed
value replaces the child parameter's default and allowed values. What the child
holds is named ``<stack>.<logical id>`` and points at the child's lines, like a
Terraform module's resources. A remote template (a URL, a dynamic reference, a
computed path, a ``{ApplicationId, SemanticVersion}`` application) is never
fetched: what it holds is not known, and nothing is said of it. Only files in
the parent's repository (or below its folder outside one) are read.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from winportlint.engine import scanned_trees, within_trees
from winportlint.excerpt import excerpt
from winportlint.model import FileResult, InputError, Location, Provenance
from winportlint.nodes import LoadError, Node

from .extract import is_template, resource_condition, resource_properties, security_group_tags, typed_resources
from .intrinsics import NO_VALUE, Alternative, Arguments, Resolver, Unknown, intrinsic, merge_worlds, outer_world, scalar

#: The resource types that call a template, and the property naming it.
STACK_TYPES = {"AWS::CloudFormation::Stack": "TemplateURL", "AWS::Serverless::Application": "Location"}
#: How many stacks one template may lead to, at every depth together: a template that calls
#: two that each call two... doubles the work at each level. CloudFormation sets no such limit;
#: real templates call a few.
MAX_STACKS = 500

Loader = Callable[[str], Node]
#: Reads one template's permissions, targets and errors into a result, with arguments.
Reader = Callable[[str, Node, FileResult, Arguments | None], None]


class Nesting:
    """The nested stacks below one file: each child file is loaded once, and evaluated once for
    each stack that calls it, with that stack's values."""

    def __init__(self, root: str, load: Loader, read: Reader):
        self.root = root
        self.trees = scanned_trees([root])
        self.load = load
        self.read = read
        self.documents: dict[str, Node | str] = {}
        self.stacks = 0

    def read_stacks(self, path: str, document: Node, result: FileResult, arguments: Arguments | None = None,
                    chain: tuple[str, ...] = ()) -> None:
        """Evaluate every local template ``document`` (written in ``path``) calls, into ``result``;
        ``chain`` holds the real paths of the templates that led here."""
        chain = chain or (os.path.realpath(path),)
        resolver = Resolver(path, document.value, arguments)
        tags: dict | None = None
        for name, kind, resource, start in typed_resources(resolver, document, tuple(STACK_TYPES)):
            if tags is None:
                tags = security_group_tags(resolver, document)
            try:
                self._stack(resolver, name, kind, resource, start, result, chain, tags)
            except LoadError as exc:
                result.errors.append(InputError(path, exc.line, f"{name}: {exc}"))

    def _stack(self, resolver: Resolver, name: str, kind: str, resource: Node, start: Location,
               result: FileResult, chain: tuple[str, ...], tags: dict[str, tuple[tuple[str, str], ...]]) -> None:
        properties = resource_properties(resource)
        key = STACK_TYPES[kind]
        url = properties.value.get(key) if properties is not None else None
        if url is None:
            raise LoadError(f"{kind} needs a {key}", resource.line)
        written = scalar(url)
        if written is None or intrinsic(url)[0] is not None or _is_remote(written):
            return  # fetched by CloudFormation at deployment: not known here
        path = os.path.normpath(os.path.join(os.path.dirname(resolver.file), written))
        if "\0" in written:  # no file has such a name (and the system refuses to look one up)
            raise LoadError(f"{key} {excerpt(written)} is not a file name", url.line)
        if not within_trees(path, self.trees):
            raise LoadError(f"{key} {excerpt(written)} is outside the template's repository (its folder, outside "
                            f"a repository); not read", url.line)
        contexts = resource_condition(resolver, resource)
        if not contexts:
            return  # its condition is never true: the stack is never created
        real = os.path.realpath(path)
        if real in chain:
            raise LoadError(f"{key} {excerpt(written)} calls a template that calls this one (a cycle)", url.line)
        self.stacks += 1
        if self.stacks > MAX_STACKS:
            raise LoadError(f"more than {MAX_STACKS} nested stacks below {self.root}; the rest are not read",
                            url.line)
        result.inputs.append(path)  # also when missing: its appearance is a change
        child = self._document(path)
        if isinstance(child, str):
            raise LoadError(f"{key} {excerpt(written)} {child}", url.line)
        arguments = self._arguments(resolver, name, properties, path, written, child, contexts)
        nested = FileResult()
        self.read(path, child, nested, arguments)
        self.read_stacks(path, child, nested, arguments, (*chain, real))
        steps = (Provenance(key, "module", f"stack {name} ({resolver.file}:{start.line})", start),
                 *contexts[0].provenance)
        _add_named(result, nested, name, set(child.value["Resources"].value), steps, tags)
        result.children += [path, *nested.children]
        result.inputs += nested.inputs

    def _document(self, path: str) -> Node | str:
        """The child's template, or why it cannot be read (a missing file, no template)."""
        if path not in self.documents:
            try:
                document = self.load(path)
                self.documents[path] = document if is_template(document) else \
                    "is not a CloudFormation template (no Resources)"
            except OSError as exc:
                self.documents[path] = f"cannot be read: {exc.strerror or exc}"
            except ValueError as exc:
                self.documents[path] = f"cannot be read: {exc}"
        return self.documents[path]

    def _arguments(self, resolver: Resolver, name: str, properties: Node, path: str, written: str,
                   child: Node, contexts: list[Alternative]) -> Arguments:
        """Each child parameter's values as the stack passes them, resolved in the parent in the
        worlds where the stack exists (``contexts``), each keeping the parent's world (under names
        of the stack's, so that the child's own parameters and conditions are not taken for the
        parent's): two values of one parent condition are never paired. One not passed (or passed
        as ``AWS::NoValue``) keeps its own; passing a parameter the child does not declare is an
        error (CloudFormation refuses to create the stack)."""
        declared = child.value.get("Parameters")
        declared = declared.value if declared is not None and isinstance(declared.value, dict) else {}
        passed = properties.value.get("Parameters")
        if passed is not None and (not isinstance(passed.value, dict) or intrinsic(passed)[0] is not None):
            unknown = Unknown(f"the parameters of stack {name} are computed at deployment")
            return {parameter: [Alternative(unknown)] for parameter in declared}
        child_resolver = Resolver(path, child.value)
        arguments: dict[str, list[Alternative]] = {}
        for parameter, node in (passed.value.items() if passed is not None else ()):
            if parameter not in declared:
                raise LoadError(f"passes parameter {excerpt(parameter)}, which {excerpt(written)} does not declare",
                                node.line)
            step = Provenance(parameter, "parameter", f"parameter {parameter} passed by stack {name} "
                                                      f"({resolver.file}:{node.line})", resolver.location(node))
            values = []
            for alternative in resolver.resolve(node, parameter):
                worlds = [world for context in contexts
                          if (world := merge_worlds(context.world, alternative.world)) is not None]
                if not worlds:
                    continue  # a value of a world where the stack is not created
                if alternative.value is NO_VALUE:
                    values += child_resolver.resolve(Node({"Ref": Node(parameter, node.line, node.column)},
                                                          node.line, node.column), parameter)
                else:
                    values.append(Alternative(alternative.value, (step, *alternative.provenance),
                                              outer_world(worlds[0], name)))
            arguments[parameter] = values
        return arguments


def _is_remote(written: str) -> bool:
    """A template CloudFormation fetches (``https://``, ``s3://``, a ``{{resolve:...}}`` reference)."""
    return "://" in written or "{{resolve:" in written


def _add_named(result: FileResult, nested: FileResult, stack: str, own: set[str],
               steps: tuple[Provenance, ...], tags: dict[str, tuple[tuple[str, str], ...]]) -> None:
    """The child's records into the parent's result, the names of the child's own resources
    prefixed with the stack's (``Network.AdminGroup``) so that nothing of the child is taken for
    the parent's own; a group the parent passed (``!Ref AppGroup``) or a literal id keeps its key,
    so that the child's rules on it meet the parent's rules and targets, and takes the ``tags`` of
    the parent's groups."""
    def key(name: str) -> str:
        return f"{stack}.{name}" if name in own else name

    def keys(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(map(key, names))

    result.permissions += [p._replace(resource=f"{stack}.{p.resource}", group=key(p.group), guards=keys(p.guards),
                                      provenance=(*steps, *p.provenance),
                                      tags=p.tags if p.group in own else tags.get(p.group, p.tags))
                           for p in nested.permissions]
    result.targets += [t._replace(resource=f"{stack}.{t.resource}", groups=keys(t.groups), subnets=keys(t.subnets),
                                  uses=keys(t.uses)) for t in nested.targets]
    result.subnet_acls += [a._replace(acl=key(a.acl), subnet=key(a.subnet)) for a in nested.subnet_acls]
    result.errors += nested.errors
