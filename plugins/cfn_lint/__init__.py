"""winportlint's checks as cfn-lint rules.

Use::

    cfn-lint --append-rules winportlint.cfn_lint -- template.yaml

or ``append_rules: [winportlint.cfn_lint]`` in ``.cfnlintrc`` (see docs/cfn-lint.md).

cfn-lint imports this module and instantiates every rule class in its
top-level namespace. The classes are generated here, at import time, from the
metadata of every installed winportlint check (third-party checks included):
``WPL101`` (critical) becomes ``E9101``, ``WPL301`` (low) ``W9301``, ``WPL401``
(info) ``I9401``. A fixed rule, ``W9000``, reports parts of a template that
winportlint could not read (cfn-lint reports syntax errors itself).

winportlint runs once per template and cfn-lint run, not once per rule: the
results are cached by file name and content hash, and each rule returns the
findings of its check as matches at the finding's line and column (the CIDR),
with a template path that starts ``Resources/<logical id>`` so that cfn-lint's
resource-level ``Metadata: cfn-lint: config: ignore_checks`` applies.

Only the cfn-lint rule *base* class is used from cfn-lint, through its module:
binding one of cfn-lint's own rule classes here would make cfn-lint load it a
second time and stop with ``DuplicateRuleError``.
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

import cfnlint.rules as _cfnlint_rules

from winportlint.excerpt import excerpts_in, printable
from winportlint.textfile import read_bytes

TAGS = ["security", "windows", "winportlint"]
DOCS_URL = "https://github.com/winportlint/winportlint/blob/main/docs/cfn-lint.md"

#: cfn-lint's severity comes from the first letter of a rule id.
SEVERITY_LETTERS = {"critical": "E", "high": "E", "medium": "W", "low": "W", "info": "I"}
#: The id of the rule for winportlint input errors (not a check's).
INPUT_ERROR_RULE_ID = "W9000"

_CHECK_DIGITS = re.compile(r"[A-Za-z]+(\d{3})")
_RULE_ID = re.compile(r"[EWI]9\d{3}")
#: Templates whose results are kept (one cfn-lint run visits each template once, rule after rule).
_CACHE_SIZE = 4


def rule_id_for(check) -> str | None:
    """``E9101`` for a critical ``WPL101``; ``None`` when the check id or severity
    gives no id in cfn-lint's user range (a letter, ``9`` and three digits)."""
    match = _CHECK_DIGITS.fullmatch(str(getattr(check, "id", "")))
    severity = getattr(check, "severity", None)
    letter = SEVERITY_LETTERS.get(str(getattr(severity, "value", severity)).lower())
    if match is None or letter is None:
        return None
    rule_id = f"{letter}9{match.group(1)}"
    return rule_id if _RULE_ID.fullmatch(rule_id) else None


# --- the rules -------------------------------------------------------------------------------


class _WinportlintRule(_cfnlint_rules.CloudFormationLintRule):
    """One winportlint check as a cfn-lint rule.

    cfn-lint also instantiates this base class, found in the namespace, and
    drops it because its id is empty (as it does with its own base classes).
    """

    tags = TAGS
    #: The winportlint check whose findings this rule reports ("" for input errors).
    check_id = ""
    #: The check is off by default in winportlint: the rule runs only when named.
    off_by_default = False

    def verbose(self) -> str:
        """``cfn-lint --list-rules``: cfn-lint's id, name and description, and the docs address."""
        off = f" (off by default: enable with -c {self.id} or --include-experimental)" if self.off_by_default else ""
        return f"{super().verbose()}{off}\n{self.source_url}"

    def is_enabled(self, include_experimental=False, ignore_rules=None, include_rules=None, mandatory_rules=None):
        """An off-by-default check is ``experimental``: it runs with ``--include-experimental``,
        or when ``-c``/``-m`` names it by more than its letter (``-c W9302``, ``-c W93``),
        as ``winportlint --select`` enables such a check."""
        if self.off_by_default and not include_experimental:
            named = [*(include_rules or ()), *(mandatory_rules or ())]
            if not any(len(prefix) > 1 and self.id.startswith(prefix) for prefix in named):
                return False
            include_experimental = True
        return super().is_enabled(include_experimental, ignore_rules, include_rules, mandatory_rules)

    def match(self, cfn):
        result = _results(cfn)
        failure = result.failures.get(self.check_id)
        if failure is not None:
            # cfn-lint reports it as E0002 "Unknown exception while processing rule ...".
            raise RuntimeError(f"winportlint {failure}")
        matches = []
        for found in result.matches.get(self.check_id, ()):
            # ``location`` (0-based line, column, end line, end column) is used as it is;
            # without it cfn-lint locates the path's last key.
            extra = {"location": found.location} if found.location is not None else {}
            matches.append(_cfnlint_rules.RuleMatch(list(found.path), found.message, **extra))
        return matches


def build_rule_classes(checks: Iterable) -> tuple[dict[str, type], list[str]]:
    """``{class name: rule class}`` for the checks, and a warning for each check skipped.

    Checks come in the plugin manager's order (built-in first): a later check
    whose number is taken (``ACME101`` after ``WPL101``) is skipped.
    """
    classes: dict[str, type] = {"WinportlintW9000": _input_error_rule()}
    taken = {INPUT_ERROR_RULE_ID[1:]: "winportlint input errors"}
    problems: list[str] = []
    for check in checks:
        rule_id = rule_id_for(check)
        if rule_id is None:
            problems.append(f"check {getattr(check, 'id', check)!s} has no cfn-lint rule: its id needs letters "
                            f"and three digits and its severity one of {', '.join(SEVERITY_LETTERS)}")
            continue
        if rule_id[1:] in taken:
            problems.append(f"check {check.id} has no cfn-lint rule: {rule_id[1:]} is taken by {taken[rule_id[1:]]}")
            continue
        taken[rule_id[1:]] = check.id
        off = not getattr(check, "enabled_by_default", True)
        classes[f"Winportlint{rule_id}"] = type(f"Winportlint{rule_id}", (_WinportlintRule,), {
            "__module__": __name__,
            "__doc__": f"winportlint {check.id}: {check.summary}",
            "id": rule_id,
            "shortdesc": str(check.name),
            "description": str(check.summary),
            "source_url": str(getattr(check, "docs_url", "") or DOCS_URL),
            "tags": list(TAGS),
            "experimental": off,
            "check_id": check.id,
            "off_by_default": off,
        })
    return classes, problems


def _input_error_rule() -> type:
    return type("WinportlintW9000", (_WinportlintRule,), {
        "__module__": __name__,
        "__doc__": "A security group rule that winportlint could not read.",
        "id": INPUT_ERROR_RULE_ID,
        "shortdesc": "winportlint-input-error",
        "description": "winportlint could not read a security group rule, so its exposure is not checked",
        "source_url": f"{DOCS_URL}#w9000",
        "tags": list(TAGS),
        "check_id": "",
    })


# --- one winportlint run per template --------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    path: tuple
    message: str
    #: cfn-lint's 0-based (line, column, end line, end column); ``None``: cfn-lint finds it from ``path``.
    location: tuple[int, int, int, int] | None


@dataclass
class _Results:
    #: check id ("" for input errors) -> matches
    matches: dict[str, list[_Match]] = field(default_factory=dict)
    #: check id -> what went wrong running it (or reading the template, for every check)
    failures: dict[str, str] = field(default_factory=dict)


_cache: OrderedDict[tuple, _Results] = OrderedDict()
_engine: dict[str, object] = {}


def _results(cfn) -> _Results:
    """winportlint's results for the template cfn-lint is linting, computed once."""
    filename = cfn.filename
    data = None
    if filename and filename != "-":
        try:
            data = read_bytes(filename)
        except OSError:
            data = None
    from_file = data is not None
    if not from_file:
        # Standard input or a template given as data: read what cfn-lint parsed.
        data = json.dumps(cfn.template, indent=1, default=str).encode("utf-8")
    key = (filename, from_file, hashlib.sha256(data).hexdigest())
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    results = _run(filename if from_file else "-", data, cfn, from_file)
    _cache[key] = results
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return results


def _run(path: str, data: bytes, cfn, from_file: bool) -> _Results:
    from winportlint.catalog import load_catalog
    from winportlint.engine import unique_findings, with_context
    from winportlint.model import Finding
    from winportlint.plugins.cloudformation import CloudFormationFormat

    results = _Results()
    fmt = CloudFormationFormat()
    try:
        file_result = fmt.parse(path, data)
        catalog = load_catalog(tuple(_engine["catalog_files"]))
    except Exception as exc:  # a bug: every rule reports it (E0002), none stays silent
        message = f"could not read the template: {type(exc).__name__}: {excerpts_in(str(exc))}"
        results.failures = {check.id: message for check in _engine["checks"]}
        results.failures[""] = message
        return results
    if file_result is None:  # no security group in it
        return results
    findings: list[Finding] = []
    for check in _engine["checks"]:
        try:
            findings.extend(check.run(file_result.permissions, catalog))
        except Exception as exc:  # a check plugin must not take the others down
            results.failures[check.id] = f"check {check.id} failed: {type(exc).__name__}: {excerpts_in(str(exc))}"
    findings = with_context(findings, file_result, catalog)
    outcome = _suppress(unique_findings(sorted(findings, key=Finding.sort_key)), path if from_file else None, fmt)
    positions = _Positions(cfn, data if not from_file else None, path)
    for finding in outcome.kept:
        results.matches.setdefault(finding.rule_id, []).append(positions.match(finding))
    # cfn-lint reports what it cannot parse (E0000) and then runs no rule: an error here is
    # a template cfn-lint read but winportlint could not (part of), which nothing else reports;
    # a malformed suppression too (it suppresses nothing).
    for error in [*file_result.errors, *outcome.errors]:
        results.matches.setdefault("", []).append(positions.error_match(error))
    return results


def _suppress(findings: list, path: str | None, fmt):
    """winportlint's own suppressions (``# winportlint: ignore[...]`` comments, from the
    comments the format reports, and ``Metadata: winportlint: ignore``) apply as in
    ``winportlint check``; the outcome's errors are the malformed ones. cfn-lint's template
    from standard input has no comments (winportlint reads it as JSON)."""
    from winportlint import suppress

    return suppress.apply(findings, [path] if path else [], [fmt] if path else [], _engine["known_ids"], ())


class _Positions:
    """Template paths and cfn-lint locations of findings.

    A finding's line and column (1-based) are where its CIDR is written. From
    a file they are exact, and the path is looked up in cfn-lint's parsed
    template by position. From standard input winportlint read a JSON
    serialisation of cfn-lint's template: the path is looked up there and cfn-lint
    turns it into its own position.

    A finding (or an error) in a template this one calls, a nested stack's, is
    reported at the stack resource that calls it, its message naming the file and
    line where it is written: cfn-lint reports matches in the file it lints only.
    """

    def __init__(self, cfn, serialised: bytes | None, file: str):
        self.cfn = cfn
        self.file = file
        self.by_start: dict[tuple[int, int], tuple] = {}  # 1-based (line, column) -> path
        self.spans: dict[tuple, tuple[int, int, int, int]] = {}  # path -> 0-based span
        if serialised is None:
            self._index_cfn(cfn.template, ())
        else:
            from winportlint.nodes import load

            self._index_nodes(load(serialised.decode("utf-8"), True)[0], ())
        self.from_file = serialised is None

    def _index_cfn(self, value, path: tuple) -> None:
        stack = [(value, path)]
        while stack:
            value, path = stack.pop()
            start, end = getattr(value, "start_mark", None), getattr(value, "end_mark", None)
            if start is not None and end is not None:
                self.by_start.setdefault((start.line + 1, start.column + 1), path)
                self.spans.setdefault(path, (start.line, start.column, end.line, end.column))
            if isinstance(value, dict):
                stack.extend((item, (*path, key)) for key, item in value.items())
            elif isinstance(value, list):
                stack.extend((item, (*path, index)) for index, item in enumerate(value))

    def _index_nodes(self, node, path: tuple) -> None:
        stack = [(node, path)]
        while stack:
            node, path = stack.pop()
            self.by_start.setdefault((node.line, node.column), path)
            if isinstance(node.value, dict):
                stack.extend((item, (*path, key)) for key, item in node.value.items())
            elif isinstance(node.value, list):
                stack.extend((item, (*path, index)) for index, item in enumerate(node.value))

    def _path(self, resource: str, *positions) -> tuple:
        """The path of the first position found under the resource, else the resource."""
        fallback = ("Resources", resource)
        for position in positions:
            path = self.by_start.get((position.line, position.column)) if position else None
            if path is not None and path[:2] == fallback:
                return path
        return fallback

    def match(self, finding) -> _Match:
        permission = finding.permission
        location = permission.location
        if location.file != self.file:
            call = next((step.location for step in permission.provenance if step.kind == "module"
                         and step.location is not None and step.location.file == self.file), None)
            path = self._path(permission.resource.split(".", 1)[0], call)
            message = f"{finding.message} (written in {location.file}:{location.line})"
            return _Match(path, printable(message), self.spans.get(path) if self.from_file else None)
        path = self._path(permission.resource, location, permission.rule_location)
        if self.from_file:
            span = self.spans.get(self.by_start.get((location.line, location.column)))
            if span is None:  # not a node cfn-lint kept (a key, a merged alias): the CIDR's width
                width = max(len(permission.peer.text), 1)
                span = (location.line - 1, location.column - 1, location.line - 1, location.column - 1 + width)
        else:
            span = _span_at(self.cfn.template, path) if path != ("Resources", permission.resource) else None
        return _Match(path, printable(finding.message), span)

    def error_match(self, error) -> _Match:
        """An input error is at a line: its path and position are those of the first value there."""
        if error.file != self.file:  # in a nested stack's template: cfn-lint places it at the section
            message = f"winportlint could not check this: {printable(f'{error.file}:{error.line}: {error.message}')}"
            return _Match(("Resources",), message, None)
        line = max(error.line, 1)
        path = min(((column, p) for (l, column), p in self.by_start.items()
                    if l == line and p[:1] == ("Resources",)), default=(0, ("Resources",)))[1]
        message = f"winportlint could not check this: {printable(error.message)}"
        if self.from_file:
            span = self.spans.get(path) if path != ("Resources",) else None
            return _Match(path, message, span or (line - 1, 0, line - 1, 1))
        return _Match(path, message, _span_at(self.cfn.template, path))


def _span_at(template, path: tuple) -> tuple[int, int, int, int] | None:
    """The 0-based span of the value at the path in cfn-lint's template, if it has one."""
    value = template
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    start, end = getattr(value, "start_mark", None), getattr(value, "end_mark", None)
    if start is None or end is None:
        return None
    return (start.line, start.column, end.line, end.column)


# --- module namespace: what cfn-lint scans ---------------------------------------------------


def _load_engine() -> dict[str, type]:
    """The rule classes of the installed checks; the checks that got one are the ones run."""
    from winportlint.plugin_manager import load_plugins

    plugins = load_plugins()
    classes, problems = build_rule_classes(plugins.checks)
    for problem in [*plugins.warnings, *problems]:
        warnings.warn(f"winportlint: {problem}", RuntimeWarning, stacklevel=2)
    with_rules = {cls.check_id for cls in classes.values()}
    _engine["checks"] = [check for check in plugins.checks if check.id in with_rules]
    _engine["known_ids"] = {check.id for check in plugins.checks}
    _engine["catalog_files"] = list(plugins.catalog_files)
    return classes


globals().update(_load_engine())
