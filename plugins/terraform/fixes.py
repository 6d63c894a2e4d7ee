"""Fixes in Terraform configurations: edits at the place a value is written.

A finding points at the CIDR's literal, or at the attribute whose expression gives it. A
restriction follows that expression to where the world is written (a variable's default, a
variable file's entry, a module call's argument, a local) and edits it there when nothing
else uses it. Positions are the scanner's lines and characters; they are turned into byte
offsets of the file as read, so that every byte outside an edit stays.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from ipaddress import ip_network

from winportlint.excerpt import excerpt
from winportlint.model import Finding, Fix, FixRequest, Location, Provenance, TextEdit

from .hcl_positions import Attribute, Block, HclIndex, JsonIndex

Read = Callable[[str], "bytes | None"]

_BOM = b"\xef\xbb\xbf"
#: Where lines start: HCL counts ``\n`` only (a CR is a character of its line); the JSON loader
#: also breaks at a lone CR.
_HCL_LINE_START = re.compile(rb"\n")
_JSON_LINE_START = re.compile(rb"\r\n|\r|\n")
#: A string literal without interpolation, and one that is a single interpolation (``"${var.x}"``).
_STRING = re.compile(r'"(?:[^"\\$]|\\.|\$(?!\{))*"')
_INTERPOLATION = re.compile(r'"\$\{\s*([^{}"]*?)\s*\}"')
#: A line that opens a heredoc (``<<EOT``): nothing may follow the marker.
_HEREDOC = re.compile(rb"<<-?[A-Za-z_][\w-]*[ \t]*$")
_COMMENT = re.compile(r"#[^\n]*|//[^\n]*|/\*.*?\*/", re.S)
#: A reference to a variable, a local, a data source or a module's output.
_REFERENCE = re.compile(r"(?<![\w.-])(var|local|data|module)\.([A-Za-z_][\w-]*)")
#: Where ``terraform init`` puts registry and git modules: their files are not the user's to edit.
_DOWNLOADED = "/.terraform/modules/"


class _Source:
    """A configuration file's bytes and where each line and character its index counts starts.

    HCL lines end at ``\\n`` and a BOM is a character of the first; the JSON loader reads the
    text after the BOM and breaks lines at CR too. Not UTF-8: a UnicodeDecodeError (no fix)."""

    def __init__(self, path: str, data: bytes):
        data.decode("utf-8")
        self.path, self.data = path, data
        self.json = path.lower().endswith(".json")
        start = len(_BOM) if self.json and data.startswith(_BOM) else 0
        lines = _JSON_LINE_START if self.json else _HCL_LINE_START
        self.starts = [start, *(match.end() for match in lines.finditer(data, start))]
        self._index: HclIndex | JsonIndex | None = None

    @property
    def index(self) -> HclIndex | JsonIndex:
        if self._index is None:
            self._index = JsonIndex(self.data) if self.json else HclIndex(self.data)
        return self._index

    def line_end(self, line: int) -> int:
        """The offset where the line's text ends (before its CR LF, LF or CR)."""
        end = self.starts[line] if line < len(self.starts) else len(self.data)
        while end > self.starts[line - 1] and self.data[end - 1] in b"\r\n":
            end -= 1
        return end

    def offset(self, line: int, column: int) -> int:
        start = self.starts[line - 1]
        text = self.data[start:self.line_end(line)].decode("utf-8")
        if column - 1 > len(text):
            raise ValueError(f"column {column} is past the end of line {line}")
        return start + len(text[:column - 1].encode("utf-8"))

    def line_of(self, offset: int) -> int:
        return sum(1 for start in self.starts if start <= offset)

    def blocks(self):
        """Every block of the file, nested ones after their parent."""
        stack = list(reversed(self.index.top_level))
        while stack:
            block = stack.pop()
            yield block
            stack.extend(reversed(block.children))


def fixes(finding: Finding, request: FixRequest, read: Read) -> list[Fix]:
    """The fixes for ``request`` (see ``Format.fixes``); none for a file that is not UTF-8 or
    positions that do not fit its bytes."""
    path = finding.location.file
    data = read(path)
    if data is None or b"\x00" in data:
        return []
    try:
        source = _Source(path, data)
        if request.kind == "accept":
            return _accept(source, finding, request)
        if request.kind == "restrict":
            return _Restriction(finding, request, read).fixes(source)
        if request.kind == "remove":
            return _remove(source, finding, read)
    except (UnicodeDecodeError, ValueError, IndexError):
        return []
    return []


# -- accept ------------------------------------------------------------------------------------


def _accept(source: _Source, finding: Finding, request: FixRequest) -> list[Fix]:
    """An inline exception at the end of the first line of the CIDR's, the rule's and the
    resource's where the suppression grammar reads it, or the check's id added to the one that
    line holds when it says the same; JSON has no comments: a display-only fix says what to
    write instead."""
    p = finding.permission
    title = f"Accept {finding.rule_id} on {p.resource}: {request.reason}"
    if source.json or _DOWNLOADED in "/" + source.path.replace(os.sep, "/"):
        why = "JSON has no comments" if source.json else "the rule is in a downloaded module"
        return [Fix(f"{title} ({why}: add a [[tool.winportlint.allow]] entry for resource {p.resource} to the "
                    f"configuration)", "display-only")]
    terms = {"until": request.expires, "owner": request.owner}
    written = "".join(f" {name}={value}" for name, value in terms.items() if value)
    comment = f"  # winportlint: ignore[{finding.rule_id}]{written} {request.reason}"
    lines = dict.fromkeys(location.line for location in (p.location, p.rule_location, p.resource_location)
                          if location is not None and location.file == source.path)
    for line in lines:
        existing = _suppression(source, line)
        if existing is not None:
            at, match = existing
            said = dict(term.partition("=")[::2] for term in match["terms"].split())
            if match["reason"].strip() != request.reason or any(said.get(k, "") != v for k, v in terms.items()):
                return [Fix(f"{title}: line {line} holds another exception; add {finding.rule_id} to it by hand",
                            "display-only")]
            return [Fix(title, "safe", (TextEdit(source.path, at, at, f",{finding.rule_id}"),))]
        at = source.line_end(line)
        if _HEREDOC.search(source.data, source.starts[line - 1], at):
            continue  # its marker must end the line
        patched = source.data[:at] + comment.encode("utf-8") + source.data[at:]
        if _suppression(_Source(source.path, patched), line) is not None:  # a comment there, not a string's text
            return [Fix(title, "safe", (TextEdit(source.path, at, at, comment),))]
    return [Fix(f"{title}: no line of the rule can end with a comment; add one by hand", "display-only")]


def _suppression(source: _Source, line: int):
    """The byte offset of the ``]`` closing the ids of the suppression the grammar reads on
    ``line``, and its match; ``None`` when it reads none there."""
    from winportlint.suppress import SUPPRESSION

    from .hcl_positions import comments

    for number, column, text in comments(source.data):
        start = source.offset(number, column)
        body = start + (1 if source.data[start:start + 1] == b"#" else 2)
        for match in SUPPRESSION.finditer(text):
            if number + text.count("\n", 0, match.start()) == line:
                return body + len(text[:match.end("ids")].encode("utf-8")), match
    return None


# -- restrict ----------------------------------------------------------------------------------


class _Restriction:
    """The world replaced by the configured source of its family where it is written: the
    rule's literal, or, through the rule's expression, a variable's default or variable file
    entry, a module call's argument or a local, when only this rule uses it."""

    def __init__(self, finding: Finding, request: FixRequest, read: Read):
        self.finding, self.request, self.read = finding, request, read
        p = finding.permission
        self.peer = p.peer.text
        self.home = os.path.dirname(p.location.file)
        self.var_sources = [step.detail for step in p.provenance
                            if (step.field, step.kind) == ("variables", "variable")]
        self.calls = [step for step in p.provenance if step.kind == "module" and step.location is not None]
        self.truncated = any(step.detail.endswith("calls deep") for step in self.calls)
        self.source = ""
        self.sources: dict[str, _Source | None] = {}

    def fixes(self, source: _Source) -> list[Fix]:
        p = self.finding.permission
        if p.control != "security-group" or p.peer.kind != "cidr" or p.peer.network is None:
            return []
        self.sources[source.path] = source
        base = f"Restrict {self.peer} on {p.resource}"
        if self.finding.union_with:
            return [Fix(f"{base}: the internet is made by {len(self.finding.union_with) + 1} rules' CIDRs "
                        f"together; keep one rule, restricted, and remove the others", "display-only")]
        family = p.peer.network.version
        cidrs = [text for text in self.request.sources if _version(text) == family]
        others = [text for text in self.request.sources if _version(text) is None]
        if len(cidrs) > 1 or not cidrs and not others:
            why = (f"no IPv{family} admin source is configured ([tool.winportlint.fix] cidrs)" if not cidrs
                   else f"{len(cidrs)} IPv{family} admin sources are configured: write one rule for each")
            return [Fix(f"{base}: {why}", "display-only")]
        self.source = cidrs[0] if cidrs else others[0]
        at = p.location
        attribute = _attribute_at(source, at.line, at.column)
        if attribute is None:
            return [self.display(f"its value is not written at line {at.line}")]
        literal = next(((line, column) for _, line, column in attribute.strings if (line, column) == at[1:]), None)
        title = f"Restrict {self.peer} to {self.source} on {p.resource}"
        if not cidrs:
            return [self.replaced(source, attribute, literal, title)]
        return self.follow(source, attribute, len(self.calls), title, literal)

    def replaced(self, source: _Source, attribute: Attribute, literal: tuple[int, int] | None, title: str) -> Fix:
        """The rule's CIDR attribute replaced, key and value, by the attribute that names the prefix
        list or security group (``cidr_blocks = ["0.0.0.0/0"]``: ``prefix_list_ids = ["pl-..."]``),
        when the world is all the rule lets in and is written in it."""
        p = self.finding.permission
        rule = _rule_block(source, p)
        name = next((key for key, value in rule.attributes.items() if value is attribute), None) if rule else None
        kind = "prefix list" if self.source.startswith("pl-") else "security group"
        if source.json or name is None or literal is None or attribute.span is None:
            return self.display(f"a {kind} replaces a CIDR written in the rule's own block only; no IPv"
                                f"{p.peer.network.version} CIDR is configured for this one")
        key, listed = _REPLACEMENT[(p.resource_type in _STANDALONE and p.resource_type, kind)]
        other = _others(source, rule.attributes, self.finding) or (key if key in rule.attributes else "")
        if other:
            return self.display(f"the rule also names its {other}; a {kind} can replace only all its sources")
        start = source.offset(attribute.line, attribute.column)
        written = source.index.text[attribute.span[0]:attribute.span[1]]
        if listed == written.startswith("["):  # the same shape: the literal alone, the rest kept
            value = TextEdit(source.path, *_cidr_span(source, *literal, self.peer), self.source)
        else:
            value = TextEdit(source.path, *_bytes(source, *attribute.span),
                             f'["{self.source}"]' if listed else f'"{self.source}"')
        return Fix(title, "unsafe", (TextEdit(source.path, start, start + len(name), key), value))

    def display(self, why: str) -> Fix:
        return Fix(f"Restrict {self.peer} to {self.source} on {self.finding.permission.resource}: {why}",
                   "display-only")

    def shown(self, path: str) -> str:
        """A file named as the finding's own is (relative to its folder when below it)."""
        relative = os.path.relpath(path, self.home or ".")
        return path if relative.startswith("..") else relative

    def file(self, path: str) -> _Source | None:
        if path not in self.sources:
            data = self.read(path)
            try:
                self.sources[path] = None if data is None else _Source(path, data)
            except UnicodeDecodeError:
                self.sources[path] = None
        return self.sources[path]

    def follow(self, source: _Source, attribute: Attribute, calls: int, title: str,
               literal: tuple[int, int] | None = None) -> list[Fix]:
        """The edit of the world where ``attribute``'s value writes it: its literal (the one at
        ``literal`` when given), else through the variable or local its expression reads;
        ``calls`` is how many module calls of the finding's are still above ``source``."""
        spans = [span for span in (_cidr_span(source, line, column, self.peer)
                                   for _, line, column in attribute.strings
                                   if literal is None or (line, column) == literal) if span is not None]
        if spans and _DOWNLOADED in "/" + source.path.replace(os.sep, "/"):
            call = f"the call {self.calls[-1].detail}" if self.calls else "its call"
            return [self.display(f"it is written in a downloaded module ({self.shown(source.path)}:{attribute.line}); "
                                 f"pass a restricted input in {call} instead")]
        if len(spans) == 1:
            return [Fix(title, "unsafe", (TextEdit(source.path, *spans[0], self.source),))]
        if spans:
            return [self.display(f"{self.shown(source.path)}:{attribute.line} holds {self.peer} {len(spans)} times; "
                                 f"change it by hand")]
        expression = _expression(source, attribute)
        plain = _COMMENT.sub("", _STRING.sub('""', _INTERPOLATION.sub(r"\1", expression)))
        references = _REFERENCE.findall(plain)
        rest = re.sub(r"[\s,\[\]\"]", "", _REFERENCE.sub("", plain))  # not only the reference, in a list or not
        shown = excerpt(" ".join(expression.split()), quote=False)  # the repository's text: never at length
        if len(references) == 1 and not rest and references[0][0] in ("var", "local"):
            kind, name = references[0]
            folder = os.path.dirname(source.path)
            return self.variable(name, folder, calls) if kind == "var" else self.local(name, folder, calls)
        kinds = {kind for kind, _ in references}
        if "data" in kinds:
            why = f"a data source gives it ({shown}); change the data source or write the source here"
        elif "module" in kinds:
            why = f"a module's output gives it ({shown}); change it in that module"
        else:
            why = f"it is computed ({shown}); change what it is computed from"
        return [self.display(why)]

    def uses(self, folder: str, reference: str) -> list[str]:
        """Where the module in ``folder`` names ``reference`` (``var.admin``), as ``file:line``; not
        in a variable's own block (its ``validation`` reads it)."""
        from .evaluate import module_files

        pattern = re.compile(rb"(?<![\w.-])" + re.escape(reference.encode()) + rb"(?![\w-])")
        kind, _, name = reference.partition(".")
        found = []
        for path in module_files(folder):
            source = self.file(path)
            if source is None:
                continue
            own = [block.rows for block in source.index.top_level if kind == "var" and block.kind == "variable"
                   and block.labels == [name] and block.rows is not None]
            lines = (source.line_of(match.start()) for match in pattern.finditer(source.data))
            found += [f"{self.shown(path)}:{line}" for line in lines
                      if not any(first < line <= last + 1 for first, last in own)]
        return found

    def shared(self, folder: str, reference: str) -> Fix | None:
        """Display-only when the module names ``reference`` more than once: an edit of its value
        would change the other uses too."""
        places = self.uses(folder, reference)
        if len(places) <= 1:
            return None
        listed = ", ".join(places[:4]) + (", ..." if len(places) > 4 else "")
        return self.display(f"{reference} is shared (used at {listed}); give this rule a value of its own")

    def declared(self, folder: str, kind: str, name: str) -> tuple[_Source, Block] | None:
        """The ``variable "name"`` block, or the ``locals`` block setting ``name``, in the module."""
        from .evaluate import module_files

        for path in module_files(folder):
            source = self.file(path)
            for block in source.index.top_level if source is not None else ():
                if block.kind == kind and (block.labels == [name] if kind == "variable" else name in block.attributes):
                    return source, block
        return None

    def variable(self, name: str, folder: str, calls: int) -> list[Fix]:
        """Where ``var.name`` of the module in ``folder`` gets its value, as terraform sets it: the
        module call's argument; in the root, ``--var``, the last variable file that sets it, a
        ``TF_VAR_`` variable, else its default."""
        shared = self.shared(folder, f"var.{name}")
        if shared is not None:
            return [shared]
        if calls:
            return self.argument(name, calls)
        for given in reversed(self.var_sources):
            if given == f"--var {name}":
                return [self.display(f"var.{name} is set by --var on the command line; pass {self.source} there")]
            if given.startswith("inputs of "):
                return [self.display(f"var.{name} may be set by the {given}; change it there")]
            source = self.file(given) if not given.startswith("--var ") else None
            entry = _entries(source).get(name) if source is not None else None
            if entry is not None:
                return self.follow(source, entry, 0,
                                   f"Restrict {name} {self.peer} to {self.source} in {self.shown(given)}")
        from .environment import tf_var_environment

        if f"TF_VAR_{name}" in dict(tf_var_environment()):
            return [self.display(f"var.{name} is set by TF_VAR_{name} in the environment; change it there")]
        found = self.declared(folder, "variable", name)
        default = found[1].attributes.get("default") if found is not None else None
        if default is None:
            return [self.display(f"var.{name} has no default written in the module")]
        return self.follow(found[0], default, 0, f"Restrict variable {name}'s default {self.peer} to {self.source}")

    def argument(self, name: str, calls: int) -> list[Fix]:
        """A module's variable: the argument of the call that gives it (the finding's innermost call
        still above), else the module's default, which every call shares."""
        if self.truncated and calls < len(self.calls):
            return [self.display("its value comes through a long chain of module calls; restrict it where "
                                 "the chain starts")]
        step: Provenance = self.calls[calls - 1]
        at: Location = step.location
        call = step.detail.partition(" (")[0]
        if os.path.basename(at.file) == "terragrunt.hcl":
            return [self.display(f"var.{name} is set by the inputs of {call}; change it there")]
        source = self.file(at.file)
        block = next((block for block in source.blocks() if block.kind == "module" and block.line == at.line),
                     None) if source is not None else None
        if block is None:
            return [self.display(f"the call {call} is not written at {self.shown(at.file)}:{at.line}")]
        argument = block.attributes.get(name)
        if argument is None:
            return [self.display(f"var.{name}'s default is shared by every call of the module; set {name} "
                                 f"in {call} instead")]
        return self.follow(source, argument, calls - 1,
                           f"Restrict {call}'s argument {name} {self.peer} to {self.source}")

    def local(self, name: str, folder: str, calls: int) -> list[Fix]:
        shared = self.shared(folder, f"local.{name}")
        if shared is not None:
            return [shared]
        found = self.declared(folder, "locals", name)
        if found is None:
            return [self.display(f"local.{name} is not written in the module")]
        return self.follow(found[0], found[1].attributes[name], calls,
                           f"Restrict local.{name} {self.peer} to {self.source}")


def _version(source: str) -> int | None:
    """The address family of a configured CIDR; ``None`` for a prefix list or a security group."""
    try:
        return ip_network(source, strict=False).version
    except ValueError:
        return None


def _attribute_at(source: _Source, line: int, column: int) -> Attribute | None:
    """The innermost attribute (an object's element before the list holding it) that is written
    at ``line`` and ``column``, or whose value has a string literal there."""
    def within(attribute: Attribute) -> Attribute | None:
        for elements in attribute.objects:
            for element in elements.values():
                found = within(element)
                if found is not None:
                    return found
        return attribute if _written_at(attribute, line, column) else None

    blocks = list(source.blocks())
    for attribute in [*getattr(source.index, "attributes", {}).values(),
                      *(attribute for block in reversed(blocks) for attribute in block.attributes.values())]:
        found = within(attribute)
        if found is not None:
            return found
    return None


#: The attribute that takes a prefix list's or security group's id instead of a CIDR, by rule
#: resource (``False``: an inline rule of a group), and whether its value is a list.
_REPLACEMENT = {
    (False, "prefix list"): ("prefix_list_ids", True),
    (False, "security group"): ("security_groups", True),
    ("aws_security_group_rule", "prefix list"): ("prefix_list_ids", True),
    ("aws_security_group_rule", "security group"): ("source_security_group_id", False),
    ("aws_vpc_security_group_ingress_rule", "prefix list"): ("prefix_list_id", False),
    ("aws_vpc_security_group_ingress_rule", "security group"): ("referenced_security_group_id", False),
    ("aws_vpc_security_group_egress_rule", "prefix list"): ("prefix_list_id", False),
    ("aws_vpc_security_group_egress_rule", "security group"): ("referenced_security_group_id", False),
}


def _resource_at(source: _Source, line: int) -> Block | None:
    """The resource block written over ``line`` of a ``.tf`` file."""
    return next((block for block in source.index.top_level
                 if block.kind == "resource" and block.rows[0] < line <= block.rows[1] + 1), None)


def _rule_block(source: _Source, permission) -> Block | None:
    """The block of the permission's rule in a ``.tf`` file: a rule resource, or a group's
    ``ingress``/``egress`` block (``None`` for ``ingress = [{...}]``)."""
    at = permission.rule_location
    resource = _resource_at(source, at.line)
    if resource is None or permission.resource_type in _STANDALONE:
        return resource
    return next((child for child in resource.children if (child.line, child.column) == (at.line, at.column)), None)


def _bytes(source: _Source, start: int, end: int) -> tuple[int, int]:
    """Offsets into the index's decoded text as offsets into the file's bytes."""
    text = source.index.text
    return len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8"))


def _written_at(attribute: Attribute, line: int, column: int) -> bool:
    """Whether the attribute is written at ``line`` and ``column``, or a string literal of its value is."""
    return (attribute.line, attribute.column) == (line, column) or \
        any((at_line, at_column) == (line, column) for _, at_line, at_column in attribute.strings)


def _cidr_span(source: _Source, line: int, column: int, cidr: str) -> tuple[int, int] | None:
    """The byte span of ``cidr`` in the string literal at ``line`` and ``column``: the whole
    text between the quotes (blanks kept), or one element of a comma-separated list in it."""
    start = source.offset(line, column)
    if source.data[start:start + 1] != b'"':
        return None
    end = source.data.find(b'"', start + 1)
    at = start + 1
    for part in source.data[start + 1:end].split(b","):
        if part.strip(b" \t").decode("utf-8") == cidr:
            first = at + len(part) - len(part.lstrip(b" \t"))
            return first, first + len(cidr.encode("utf-8"))
        at += len(part) + 1
    return None


def _expression(source: _Source, attribute: Attribute) -> str:
    """The value's text as written (a ``.tf`` file), or its strings in JSON (where references are
    written as ``"${var.x}"``)."""
    if attribute.span is not None:
        return source.index.text[attribute.span[0]:attribute.span[1]]
    return " ".join(f'"{text}"' for text, _, _ in attribute.strings)


def _entries(source: _Source) -> dict[str, Attribute]:
    """The variables a variable file sets (``.tfvars``: its attributes; ``.tfvars.json``: its
    object's keys, with their strings)."""
    if not source.json:
        return source.index.attributes
    from winportlint.nodes import LoadError, load
    from winportlint.textfile import NotText, decode

    try:
        root = load(decode(source.data), json_syntax=True)[0]
    except (LoadError, NotText, IndexError):
        return {}
    if not isinstance(root.value, dict):
        return {}
    entries = {}
    for name, node in root.value.items():
        strings, stack = [], [node]
        while stack:
            current = stack.pop()
            if isinstance(current.value, str):
                strings.append((current.value, current.line, current.column))
            elif isinstance(current.value, (list, dict)):
                stack.extend(current.value.values() if isinstance(current.value, dict) else current.value)
        entries[name] = Attribute(*root.key_pos[name], strings, [])
    return entries


# -- remove ------------------------------------------------------------------------------------

#: What a rule may let in besides CIDRs: removing the rule would take them away too.
_OTHER_SOURCES = ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups", "self",
                  "source_security_group_id", "cidr_ipv4", "cidr_ipv6", "prefix_list_id",
                  "referenced_security_group_id")
#: A value that sets nothing.
_EMPTY = frozenset(("", "[]", "null", "false", '""'))
_STANDALONE = ("aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")


def _remove(source: _Source, finding: Finding, read: Read) -> list[Fix]:
    """The rule deleted: a rule resource's block, an ``ingress`` block (``ingress = []`` in place of
    the group's last, since an absent one leaves the rules as they are), or an element of
    ``ingress = [{...}]``; display-only when the rule lets in other sources too, makes several
    rules, is referenced, or is written in a module other calls share."""
    p = finding.permission
    if p.control != "security-group" or p.peer.kind != "cidr":
        return []
    standalone = p.resource_type in _STANDALONE
    what = p.resource if standalone else f"the {p.direction.value} rule at line {p.rule_location.line} of {p.resource}"
    title = f"Remove {what}"
    if finding.union_with:
        return [Fix(f"{title}: the internet is made by {len(finding.union_with) + 1} rules' CIDRs together, and "
                    f"removing one leaves the others open; remove them all by hand, or keep one restricted",
                    "display-only")]
    if source.json and not standalone:
        return [Fix(f"{title}: delete its object from the group's {p.direction.value} list by hand (JSON reads "
                    f"an empty list as no block, which leaves the rules in AWS)", "display-only")]
    if any(step.kind == "module" for step in p.provenance):
        return [Fix(f"{title}: it is written in a module that every call of it shares; restrict instead",
                    "display-only")]
    resource = source.index.block_at(p.rule_location.line, "resource") if source.json else \
        _resource_at(source, p.rule_location.line)
    if resource is None:
        return []
    if standalone:
        return _delete_resource(source, resource, title, read)
    rule = _rule_block(source, p) or next(  # a rule a dynamic block's content makes is written inside it
        (child for child in resource.children if child.kind == "dynamic" and child.rows is not None
         and child.rows[0] < p.rule_location.line <= child.rows[1] + 1), None)
    if rule is not None:
        if rule.kind == "dynamic":
            return [Fix(f"{title}: a dynamic block makes it; remove its element from the for_each collection",
                        "display-only")]
        return _delete_block(source, resource, rule, finding, title)
    attribute = resource.attributes.get(p.direction.value)
    if attribute is None or (attribute.line, attribute.column) != (p.rule_location.line, p.rule_location.column):
        return [Fix(f"{title}: it is not written as one block or list element; remove it by hand", "display-only")]
    return _delete_element(source, attribute, finding, title)


def _others(source: _Source, attributes: dict[str, Attribute], finding: Finding) -> str:
    """The first attribute of the rule that lets in a source besides the finding's CIDR ("" for none)."""
    p = finding.permission
    for name in _OTHER_SOURCES:
        attribute = attributes.get(name)
        if attribute is None or _expression(source, attribute).strip() in _EMPTY:
            continue
        if not _written_at(attribute, *p.location[1:]):
            return name
        if len(attribute.strings) > 1:
            return f"other CIDRs of {name}"
    return ""


def _delete_resource(source: _Source, block: Block, title: str, read: Read) -> list[Fix]:
    """A rule resource's lines, unless it makes several rules or another block names it."""
    from .evaluate import module_files

    kind, name = block.labels[:2]
    for many in ("count", "for_each"):
        if many in block.attributes:
            return [Fix(f"{title}: its {many} makes several rules; remove this one from the {many} instead",
                        "display-only")]
    reference = re.compile(rb"(?<![\w.-])" + re.escape(f"{kind}.{name}".encode()) + rb"(?![\w-])")
    for path in module_files(os.path.dirname(source.path)):
        data = read(path)
        found = reference.search(data) if data is not None else None
        if found is not None:
            line = data.count(b"\n", 0, found.start()) + 1
            return [Fix(f"{title}: it is referenced at {os.path.basename(path)}:{line}; remove the reference too",
                        "display-only")]
    if source.json:
        return _delete_member(source, block, title)
    span = _lines(source, block)
    if span is None:
        return [Fix(f"{title}: other text shares its lines; delete it by hand", "display-only")]
    return [Fix(title, "unsafe", (TextEdit(source.path, *span, ""),))]


def _delete_member(source: _Source, block: Block, title: str) -> list[Fix]:
    """A rule resource's member of its type's object in a ``.tf.json`` file, with one comma (the
    type's member of ``resource`` when it is the only one of its type)."""
    from winportlint.flow_spans import flow_end, flow_span
    from winportlint.nodes import LoadError, load
    from winportlint.textfile import NotText, decode

    kind, name = block.labels[:2]
    try:
        root = load(decode(source.data), json_syntax=True)[0]
    except (LoadError, NotText):
        return []
    path = [root]  # the resource object, its type's object, the rule's body
    for key in ("resource", kind, name):
        parent = path[-1].value
        if not isinstance(parent, dict) or key not in parent:
            return [Fix(f"{title}: it is not written as one JSON object; delete it by hand", "display-only")]
        path.append(parent[key])
    resources, typed, body = path[1:]
    if not isinstance(body.value, dict):
        return [Fix(f"{title}: it is not written as one JSON object; delete it by hand", "display-only")]
    # the type's only rule goes with its type (Terraform rejects an empty one), but not the file's only resource
    holder, key, value = (typed, name, body) if len(typed.value) > 1 else (resources, kind, typed)
    if len(holder.value) == 1:
        return [Fix(f"{title}: it is the file's only resource; delete it or the file by hand", "display-only")]
    line, column = holder.key_pos[key]
    spans = flow_span(source.data, source.offset(line, column),
                      flow_end(source.data, source.offset(value.line, value.column), True), True)
    if not spans:
        return [Fix(f"{title}: its neighbours in the JSON cannot be told; delete it by hand", "display-only")]
    return [Fix(title, "unsafe", tuple(TextEdit(source.path, start, end, "") for start, end in spans))]


def _delete_block(source: _Source, resource: Block, rule: Block, finding: Finding, title: str) -> list[Fix]:
    """An ``ingress`` or ``egress`` block's lines; the group's last is replaced by an empty list."""
    other = _others(source, rule.attributes, finding)
    if other:
        return [Fix(f"{title}: it also lets in its {other}; restrict instead", "display-only")]
    span = _lines(source, rule)
    if span is None:
        return [Fix(f"{title}: other text shares its lines; delete it by hand", "display-only")]
    if sum(child.kind == rule.kind or child.labels == [rule.kind] for child in resource.children) > 1:
        return [Fix(title, "unsafe", (TextEdit(source.path, *span, ""),))]
    first, last = rule.rows
    start = source.starts[first]
    end = source.starts[last + 1] if last + 1 < len(source.starts) else len(source.data)
    indent = source.data[start:source.offset(rule.line, rule.column)].decode("utf-8")
    newline = re.search(rb"\r?\n$", source.data[start:end])
    written = f"{indent}{rule.kind} = []{newline[0].decode() if newline else ''}"
    return [Fix(f"{title} ({rule.kind} = [] in place of the group's last {rule.kind} block: without one, AWS "
                f"keeps the rules)", "unsafe", (TextEdit(source.path, start, end, written),))]


def _delete_element(source: _Source, attribute: Attribute, finding: Finding, title: str) -> list[Fix]:
    """An object of ``ingress = [{...}, ...]`` deleted with the comma that separates it; the only one
    leaves ``[]``."""
    at = finding.permission.location[1:]
    index = next((number for number, elements in enumerate(attribute.objects)
                  if any(_written_at(element, *at) for element in elements.values())), None)
    if index is None or attribute.span is None:
        return []
    other = _others(source, attribute.objects[index], finding)
    if other:
        return [Fix(f"{title}: it also lets in its {other}; restrict instead", "display-only")]
    text = source.index.text
    elements = _elements(text, *attribute.span)
    if elements is None or len(elements) != len(attribute.objects):
        return [Fix(f"{title}: the list holds more than objects; delete it by hand", "display-only")]
    if len(elements) == 1:
        start, end, written = attribute.span[0], attribute.span[1], "[]"
    else:
        start, end = elements[index]
        if index + 1 < len(elements):
            end = elements[index + 1][0]
        else:
            start = elements[index - 1][1]
        written = ""
    return [Fix(title, "unsafe", (TextEdit(source.path, *_bytes(source, start, end), written),))]


def _elements(text: str, start: int, end: int) -> list[tuple[int, int]] | None:
    """The spans of the elements of the list written at ``text[start:end]`` (without the commas,
    blanks and comments between them); ``None`` when it is not a list or holds a heredoc."""
    if not text.startswith("[", start):
        return None
    spans: list[tuple[int, int]] = []
    element: tuple[int, int] | None = None
    depth, at = 1, start + 1
    while at < end:
        char = text[at]
        if char == '"':
            stop = at + 1
            while stop < end and text[stop] != '"':
                stop += 2 if text[stop] == "\\" else 1
            stop += 1
        elif text.startswith(("#", "//"), at):
            newline = text.find("\n", at)
            at = end if newline < 0 else newline
            continue
        elif text.startswith("/*", at):
            closing = text.find("*/", at)
            if closing < 0:
                return None
            at = closing + 2
            continue
        elif text.startswith("<<", at):
            return None
        elif char in "]})" and depth == 1:
            return [*spans, element] if element else spans
        elif char == "," and depth == 1:
            if element:
                spans.append(element)
            element, at = None, at + 1
            continue
        elif char.isspace():
            at += 1
            continue
        else:
            depth += (char in "[{(") - (char in "]})")
            stop = at + 1
        element = (element[0] if element else at, stop)
        at = stop
    return None


def _lines(source: _Source, block: Block) -> tuple[int, int] | None:
    """The byte span of the lines a block is written on, with a blank line after it when one is
    also before it; ``None`` when something else is written on its first or last line."""
    first, last = block.rows
    start = source.starts[first]
    if source.data[start:source.offset(block.line, block.column)].strip(b" \t"):
        return None
    end = source.starts[last + 1] if last + 1 < len(source.starts) else len(source.data)
    closing = source.data.rindex(b"}", start, end)
    after = source.data[closing + 1:end].strip(b" \t\r\n")
    if after and not after.startswith((b"#", b"//")):
        return None
    blank = re.compile(rb"[ \t]*\r?\n")
    before = source.starts[first - 1] if first > 0 else None
    following = blank.match(source.data, end)
    if before is not None and blank.fullmatch(source.data, before, start) and following:
        end = following.end()
    return start, end
