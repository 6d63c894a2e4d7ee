"""A finished run, as reporters see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import __version__
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

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings at or above the threshold, 2 input or usage errors (errors win)."""
        if self.errors:
            return 2
        return 1 if self.findings else 0
