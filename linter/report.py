"""A finished run, as reporters see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from . import __version__
from .excerpt import printable
from .model import Finding, InputError, Location, Severity
from .services import ports_opened

TOOL_URI = "https://github.com/winportlint/winportlint"


@dataclass
class Report:
    """What a reporter renders.

    ``findings`` are those at or above ``threshold``, sorted; ``hidden``
    counts the findings below it. ``checks`` are the checks that ran, with
    their metadata (id, name, summary, severity, explanation, docs_url).
    """

    findings: list[Finding]
    errors: list[InputError]
    checks: list
    files_checked: int
    threshold: Severity = Severity.LOW
    hidden: int = 0
    color: bool = False
    tool_version: str = __version__
    warnings: list[str] = field(default_factory=list)
    #: Findings silenced by a comment, Metadata or the configuration (``Suppressed`` records).
    suppressed: list = field(default_factory=list)
    show_suppressed: bool = False
    #: Findings left out because the baseline holds them.
    baselined: int = 0
    #: With ``--diff-base``: the revision, and the findings it has too (not in ``findings``, not counted).
    diff_base: str = ""
    at_base: list[Finding] = field(default_factory=list)

    def printable(self) -> Report:
        """This report with what is not printable in messages, reasons and warnings escaped,
        whatever plugin wrote them: every format, JSON as much as text, shows them to a person,
        and one finding stays one line. File names stay as they are (formats that print them
        escape them with :func:`winportlint.excerpt.printable`; JSON keeps the real name)."""
        return replace(
            self,
            findings=[_printable_finding(f) for f in self.findings],
            at_base=[_printable_finding(f) for f in self.at_base],
            errors=[e._replace(message=printable(e.message)) for e in self.errors],
            suppressed=[s._replace(finding=_printable_finding(s.finding), reason=printable(s.reason),
                                   source=printable(s.source), owner=printable(s.owner)) for s in self.suppressed],
            warnings=[printable(str(w)) for w in self.warnings],
        )

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings at or above the threshold, 2 input or usage errors (errors win)."""
        if self.errors:
            return 2
        return 1 if self.findings else 0


def _printable_finding(finding: Finding) -> Finding:
    return finding if finding.message.isprintable() else finding._replace(message=printable(finding.message))


class Entry(NamedTuple):
    """The findings of one permission (one rule, one CIDR, one place), as the formats people read
    show them: one allow-all rule is one entry, not one line per check.

    ``findings`` are the gravest first. ``message`` is the gravest finding's, whole (what the group
    protects and whether a network ACL blocks it are in each finding's message only), then the
    ports the other findings open, each with its service's name.
    """

    findings: tuple[Finding, ...]
    message: str

    @property
    def severity(self) -> Severity:
        return self.findings[0].severity

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(finding.rule_id for finding in self.findings)

    @property
    def location(self) -> Location:
        return self.findings[0].location


def entries(findings: Sequence[Finding]) -> list[Entry]:
    """The findings by permission, in the order of their first finding. JSON and SARIF keep one
    result per check; a check ignored (``--ignore WPL101``) is simply not among the findings."""
    by_permission: dict = {}
    for finding in findings:
        by_permission.setdefault(finding.permission, []).append(finding)
    made = []
    for members in by_permission.values():
        gravest, *others = sorted(members, key=lambda f: (-f.severity.rank, f.rule_id))
        parts = [gravest.message]
        opened = ", ".join(ports_opened(finding.catalog) for finding in others if finding.catalog)
        if opened:
            parts.append(printable(f"also opens {opened}"))  # a user catalog's names are not escaped yet
        parts += [finding.message for finding in others if not finding.catalog]  # a plugin's, in its words
        made.append(Entry((gravest, *others), "; ".join(dict.fromkeys(parts))))
    return made
