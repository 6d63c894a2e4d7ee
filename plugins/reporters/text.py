"""``path:line:col: ID severity message`` lines and a summary, like compilers print.

One entry is one line: the findings of one rule (:func:`winportlint.report.entries`),
``WPL101,WPL102 critical`` with the ports they open. File names are printed with what is
not printable escaped (messages are so already, see :class:`winportlint.report.Report`).
The last line names the ``winportlint explain`` command of the checks printed.
"""

from __future__ import annotations

from winportlint.excerpt import excerpt, printable
from winportlint.model import Severity
from winportlint.report import entries

_COLORS = {
    Severity.CRITICAL: "\033[1;31m", Severity.HIGH: "\033[31m", Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m", Severity.INFO: "\033[2m",
}
_RESET = "\033[0m"


class TextReporter:
    name = "text"

    def render(self, report) -> str:
        lines = []
        for entry in entries(report.findings):
            location = entry.location
            severity = entry.severity.value
            if report.color:
                severity = f"{_COLORS[entry.severity]}{severity}{_RESET}"
            lines.append(f"{printable(location.file)}:{location.line}:{location.column}: {','.join(entry.rule_ids)} "
                         f"{severity} {entry.message}")
        if report.show_suppressed:
            for item in report.suppressed:
                location = item.finding.location
                until = f" until {item.expires}" if item.expires else ""
                by = f" by {item.owner}" if item.owner else ""
                lines.append(f"{printable(location.file)}:{location.line}:{location.column}: "
                             f"{item.finding.rule_id} suppressed{until}{by} "
                             f"({item.reason}; {item.source}) {item.finding.message}")
        for error in report.errors:
            place = f"{printable(error.file)}:{error.line}" if error.line else printable(error.file)
            lines.append(f"{place}: error: {error.message}")
        lines.append(summary(report))
        if report.findings:
            lines.append(explain_hint(report))
        return "\n".join(lines) + "\n"


def explain_hint(report) -> str:
    """``see: winportlint explain WPL101 WPL102``: where each printed check says how to fix it."""
    return "see: winportlint explain " + " ".join(sorted({finding.rule_id for finding in report.findings}))


def summary(report) -> str:
    """``3 findings (2 critical, 1 high) in 4 files; 1 input error; 1 suppressed; 2 findings also at
    origin/main, not counted; 2 below --severity low``."""
    counts: dict[str, int] = {}
    for finding in report.findings:
        counts[finding.severity.value] = counts.get(finding.severity.value, 0) + 1
    detail = ", ".join(f"{counts[s.value]} {s.value}" for s in reversed(Severity) if s.value in counts)
    total = len(report.findings)
    text = f"{total} finding{'s' if total != 1 else ''}"
    if detail:
        text += f" ({detail})"
    text += f" in {report.files_checked} file{'s' if report.files_checked != 1 else ''}"
    if report.errors:
        text += f"; {len(report.errors)} input error{'s' if len(report.errors) != 1 else ''}"
    if report.suppressed:
        text += f"; {len(report.suppressed)} suppressed"
    if report.baselined:
        text += f"; {report.baselined} in the baseline"
    if report.diff_base:
        count, base = len(report.at_base), excerpt(report.diff_base, quote=False)
        text += f"; {count} finding{'s' if count != 1 else ''} also at {base}, not counted"
    if report.hidden:
        text += f"; {report.hidden} below --severity {report.threshold.value}"
    return text
