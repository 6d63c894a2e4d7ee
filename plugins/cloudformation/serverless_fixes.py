"""Restricting a CIDR that a Serverless Framework variable brings, where its value is written.

A rule's ``CidrIp: ${self:custom.adminCidr}`` is reported at the variable (see :mod:`.serverless`),
but the CIDR is written elsewhere: an entry of ``custom``, or a default inside the variable
(``${opt:cidr, '0.0.0.0/0'}``). The variable is followed here as the framework resolves it offline,
to that place, and the CloudFormation fixes edit the value there, so that its quoting and anchors
are judged as for any value. A value other references share, one the stage chooses among several,
one written in another file and one known only at deploy time get a display-only fix naming it.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from winportlint.model import Finding, Fix, FixRequest, Location

from .serverless import MAX_DEPTH, is_service

#: Where a ``self:`` address is written in a string (its nested variables included, roughly).
_SELF = re.compile(r"\$\{\s*self:([^\s,'\"}]*(?:\$\{[^{}]*\}[^\s,'\"}]*)*)")
#: Sources whose value is known only when the service is deployed.
_DEPLOY_TIME = ("opt:", "env:", "ssm:", "cf:", "cf(", "s3:", "aws:", "param:", "sls:", "sls(")


class _Place(NamedTuple):
    """Where the CIDR is written in the finding's file (``line``, ``column``) and what that
    place is called; or, with ``why``, why no edit there can change it."""

    label: str
    line: int = 0
    column: int = 0
    why: str = ""
    #: The ``self:`` addresses followed to it.
    hops: tuple[str, ...] = ()


def variable_fixes(path: str, data: bytes, finding: Finding, request: FixRequest, json_syntax: bool,
                   read) -> list[Fix] | None:
    """The restrict fixes of a finding whose CIDR a Serverless variable gives, or whose rule one
    brings from ``custom``; ``None`` for any other finding or request (the CloudFormation fixes
    serve those), and none when the place found has no value to edit."""
    from winportlint.nodes import LoadError
    from winportlint.textfile import NotText, decode

    from .fixes import documents as template_documents
    from .fixes import fixes as template_fixes

    p = finding.permission
    if request.kind != "restrict" or p.control != "security-group" or p.location.file != path \
            or p.peer.kind not in ("cidr", "unknown") or b"${" not in data:
        return None
    try:
        text = decode(data)
        documents = template_documents(data, json_syntax, js_yaml=True)
    except (NotText, LoadError):
        return None
    node = next((node for document in documents for node in _scalars(document)
                 if (node.line, node.column) == (p.location.line, p.location.column)), None)
    if node is None:
        return None
    service = next((document for document in documents if is_service(document)), None)
    lines = re.split(r"\r\n|\r|\n", text)
    resolver = _Resolver(path, lines, service, read)
    if _variable(node.value) is None:  # a literal: in a rule, or in what a variable brings (custom.rules)
        address = _address(service, node) if service is not None else None
        shared = resolver.shared(f"self:{address}") if address else None
        return [Fix(f"Restrict {p.peer.text} on {p.resource}: {shared.why}", "display-only")] if shared else None
    place = resolver.place(node, "", ())
    place = next(filter(None, map(resolver.shared, place.hops)), place) if not place.why else place
    if p.peer.kind == "unknown" or place.why:
        what = _short(node.value) if p.peer.kind == "unknown" else p.peer.text
        return [Fix(f"Restrict {what} on {p.resource}: {place.why or 'it is known only at deploy time'}",
                    "display-only")]
    at = f"{p.resource} at {place.label} (line {place.line})"
    moved = finding._replace(permission=p._replace(location=Location(path, place.line, place.column)))
    return [fix._replace(title=fix.title.replace(f"on {p.resource}", f"on {at}", 1))
            for fix in template_fixes(path, data, moved, request, json_syntax)]


class _Resolver:
    """Follows a variable of the finding's file to where its value is written."""

    def __init__(self, path: str, lines: list[str], service, read):
        self.path = path
        self.lines = lines
        self.service = service
        self.read = read

    def place(self, node, label: str, seen: tuple[str, ...], variable: str | None = None, base: int = 0) -> _Place:
        """Where the value of ``node``'s string is written (``label``: the ``self:`` address it was
        reached by, after those ``seen``); ``variable``: the variable in it that gives the value, at ``base``."""
        variable = node.value if variable is None else variable
        inside = _variable(variable)
        if inside is None:
            if "${" in node.value:
                return _Place(label, why=f"{label} is made of text and variables "
                                         f"({_short(node.value)}); change it by hand")
            return _Place(label, node.line, node.column, hops=seen)
        if len(seen) > MAX_DEPTH or variable.count("${") > MAX_DEPTH * 8:  # as far as the resolver goes
            return _Place(label, why=f"{_short(variable)} goes through more variables than are followed offline")
        deploy_time = []
        for offset, part in _alternatives(inside):
            if part.startswith("${"):
                return self.place(node, label, seen, part, base + 2 + offset)
            if part[:1] in "'\"" or re.fullmatch(r"-?\d+(\.\d+)?", part):
                column = self._column(node, base + 2 + offset)
                if column is None:
                    return _Place(label, why=f"the default in {_short(variable)} at line {node.line} is "
                                             f"written with escapes; change it by hand")
                return _Place(f"the default of {_short(variable)}", node.line, column, hops=seen)
            if part.startswith("self:") and self.service is not None:
                found = self._self(part[5:])
                if isinstance(found, _Place):
                    return found
                if found is not None:
                    if part in seen:
                        return _Place(part, why=f"{_short(node.value)} refers to itself through other variables")
                    return self.place(found, part, (*seen, part))
            elif part.startswith("self:"):
                return _Place(part, why=f"the value is the service's {part}, and this file is a fragment of its "
                                        f"resources; restrict it in the service")
            elif part.startswith("file("):
                where = self._file(part)
                if where:
                    return _Place(part, why=f"the value is written in {where} ({part}); change it there")
            elif part.startswith(_DEPLOY_TIME) and part not in ("sls:stage", "opt:stage"):
                deploy_time.append(part)
        sources = ", ".join(deploy_time) or _short(variable)
        return _Place(label, why=f"{sources} is known only at deploy time; make it an admin source there")

    def _column(self, node, index: int) -> int | None:
        """The column of the character ``index`` of ``node``'s string, when the string is written
        on its line as it reads (no escapes, one line)."""
        line = self.lines[node.line - 1] if node.line <= len(self.lines) else ""
        written = line[node.column - 1:]
        quote = written[:1] if written[:1] in "'\"" else ""
        if not written.startswith(quote + node.value + quote) or (quote and quote in node.value) \
                or (quote == '"' and "\\" in node.value):
            return None
        return node.column + len(quote) + index

    def _self(self, address: str):
        """The node at a ``self:`` address of the service (``None`` when there is none: the
        framework goes on to the next source), or a :class:`_Place` saying why it is not one
        value (an entry the stage chooses among several)."""
        node = self.service
        steps = _segments(address)
        for number, step in enumerate(steps):
            if "${" in step:
                if not isinstance(node.value, dict) or not node.value:
                    return None
                if len(node.value) > 1:
                    where = ".".join(steps[:number])
                    return _Place(f"self:{address}", why=f"self:{where} holds {len(node.value)} values and "
                                                         f"{step} chooses one; restrict each by hand")
                step = next(iter(node.value))
            if isinstance(node.value, dict) and step in node.value:
                node = node.value[step]
            elif isinstance(node.value, list) and step.isdigit() and int(step) < len(node.value):
                node = node.value[int(step)]
            else:
                return None
        if not isinstance(node.value, str):
            return _Place(f"self:{address}", why=f"self:{address} is not one value written in the service")
        return node

    def shared(self, address: str) -> _Place | None:
        """A display-only place when other references than the one followed use the value at the
        ``self:`` ``address`` (they would change with it): in the service and the fragments of its
        ``resources``."""
        address = address[5:]
        target = _segments(address)
        uses = 0
        for text in self._texts():
            for match in _SELF.finditer(text):
                used = _segments(match[1])
                uses += len(used) <= len(target) and all("${" in a or "${" in b or a == b
                                                        for a, b in zip(used, target))
        if uses > 1:
            return _Place(f"self:{address}", why=f"self:{address} is shared (used {uses} times); give this rule "
                                                 f"a value of its own")
        return None

    def _texts(self):
        """The strings of the service and of the fragment files its ``resources`` name."""
        from winportlint.nodes import LoadError
        from winportlint.textfile import NotText

        from .fixes import documents as template_documents

        yield from _strings(self.service)
        resources = self.service.value["resources"]
        for item in resources.value if isinstance(resources.value, list) else [resources]:
            where = self._file(item.value) if isinstance(item.value, str) else None
            data = self.read(where) if where else None
            if data is None:
                continue
            try:
                documents = template_documents(data, where.endswith(".json"), js_yaml=True)
            except (NotText, LoadError):
                continue
            for document in documents:
                yield from _strings(document)

    def _file(self, part: str) -> str | None:
        """The file a ``file(...)`` source names, beside this one, when it can be read."""
        match = re.match(r"\s*\$?\{?\s*file\(\s*['\"]?([^)'\"]+)['\"]?\s*\)", part)
        if match is None:
            return None
        where = os.path.normpath(os.path.join(os.path.dirname(self.path), match[1].strip()))
        return where if self.read(where) is not None else None


def _address(service, target) -> str | None:
    """The dotted address of the node ``target`` in the service, outside ``resources`` (where a
    ``self:`` reference can bring it from); ``None`` when it is not there."""
    stack = [(key, value) for key, value in service.value.items() if key != "resources"]
    while stack:
        address, node = stack.pop()
        if node is target:
            return address
        if isinstance(node.value, dict):
            stack.extend((f"{address}.{key}", value) for key, value in node.value.items())
        elif isinstance(node.value, list):
            stack.extend((f"{address}.{index}", value) for index, value in enumerate(node.value))
    return None


def _variable(text) -> str | None:
    """The inside of ``text`` when it is one whole variable, ``${...}`` (holding others or not)."""
    if not isinstance(text, str) or not text.startswith("${") or not text.endswith("}"):
        return None
    depth = 0
    for index, char in enumerate(text):
        if text.startswith("${", index):
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0 and index != len(text) - 1:
                return None
    return text[2:-1] if depth == 0 else None


def _alternatives(inside: str) -> list[tuple[int, str]]:
    """The sources and defaults of a variable, each with its offset in ``inside`` (commas in
    quotes and nested variables kept)."""
    parts, start, depth, quote = [], 0, 0, ""
    for index, char in enumerate(inside + ","):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif inside.startswith("${", index):
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "," and depth == 0:
            part = inside[start:index]
            if part.strip():
                parts.append((start + len(part) - len(part.lstrip()), part.strip()))
            start = index + 1
    return parts


def _segments(address: str) -> list[str]:
    """``custom.cidr.${sls:stage}`` -> its keys (dots inside a nested variable kept)."""
    steps, current, depth = [], "", 0
    for index, char in enumerate(address):
        if address.startswith("${", index):
            depth += 1
        elif char == "}":
            depth -= 1
        if char == "." and depth == 0:
            steps.append(current)
            current = ""
            continue
        current += char
    return [*steps, current] if address else []


def _scalars(node):
    """The string nodes below ``node``."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node.value, dict):
            stack.extend(node.value.values())
        elif isinstance(node.value, list):
            stack.extend(node.value)
        elif isinstance(node.value, str):
            yield node


def _strings(node):
    return (scalar.value for scalar in _scalars(node))


def _short(text: str) -> str:
    from winportlint.excerpt import excerpt

    return excerpt(text, quote=False)
