"""A finished run, as reporters see it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import __version__
from .excerpt import printable
from .model import Finding, InputError, Severity

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

    def printable(self) -> Report:
        """This report with what is not printable in messages, reasons and warnings escaped,
        whatever plugin wrote them: every format, JSON as much as text, shows them to a person,
        and one finding stays one line. File names stay as they are (formats that print them
        escape them with :func:`winportlint.excerpt.printable`; JSON keeps the real name)."""
        return replace(
            self,
            findings=[_printable_finding(f) for f in self.findings],
            errors=[e._replace(message=printable(e.message)) for e in self.errors],
            suppressed=[s._replace(finding=_printable_finding(s.finding), reason=printable(s.reason),
                                   source=printable(s.source)) for s in self.suppressed],
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
