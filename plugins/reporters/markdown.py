"""A Markdown summary (``--format markdown``) for a GitHub job summary or a pull request comment.

A heading, the text reporter's summary line, then a table with a row per entry
(the findings of one rule, :func:`winportlint.report.entries`; at most
:data:`MAX_ROWS`, then an "and N more findings" line) or "No findings.", and
a list of input errors when there are any. Every value from a template is
escaped, so that a ``|`` cannot split a cell and markup cannot inject links
or HTML.
"""

from __future__ import annotations

MAX_ROWS = 100
HEADING = "## winportlint"
COLUMNS = ("Severity", "Rule", "Resource", "Ports", "Source", "Message", "Location")
#: Characters that a backslash makes literal (all ASCII punctuation may be escaped in CommonMark).
_SPECIAL = set("\\`*_[]<>|~&#")


def escape(value: object) -> str:
    """``value`` as literal inline Markdown on one line: line breaks become spaces, other
    characters that are not printable escapes (``\\x1b``), markup characters (``|`` among
    them) are backslash-escaped."""
    from winportlint.excerpt import printable

    text = printable(" ".join(str(value).splitlines()))
    return "".join(f"\\{char}" if char in _SPECIAL else char for char in text)


def _line_start(text: str) -> str:
    """Escaped ``text`` that may open a line: a leading list or heading marker
    (``- x``, ``+ x``, ``= x``, ``1. x``) stays text."""
    import re

    return re.sub(r"^(\d*)([-+=.)])(?=\s|$)", r"\1\\\2", text)


def _more(count: int, noun: str) -> str:
    return f"…and {count} more {noun}{'s' if count != 1 else ''}."


class MarkdownReporter:
    """Renders a run as a Markdown summary."""

    name = "markdown"

    def render(self, report) -> str:
        from winportlint.exposure import ports_text
        from winportlint.report import entries

        from .text import summary

        lines = [HEADING, "", escape(summary(report)), ""]
        if report.findings:
            lines.append("| " + " | ".join(COLUMNS) + " |")
            lines.append("|" + " --- |" * len(COLUMNS))
            rows = entries(report.findings)
            for entry in rows[:MAX_ROWS]:
                permission = entry.findings[0].permission
                location = entry.location
                cells = (
                    entry.severity.value,
                    ", ".join(entry.rule_ids),
                    permission.resource,
                    ports_text(permission),
                    permission.peer.text,
                    entry.message,
                    f"{location.file}:{location.line}:{location.column}",
                )
                lines.append("| " + " | ".join(escape(cell) for cell in cells) + " |")
            if len(rows) > MAX_ROWS:
                lines.extend(["", _more(sum(len(entry.findings) for entry in rows[MAX_ROWS:]), "finding")])
        else:
            lines.append("No findings.")
        if report.errors:
            lines.extend(["", "### Input errors", ""])
            for error in report.errors[:MAX_ROWS]:
                place = f"{error.file}:{error.line}" if error.line else error.file
                lines.append(f"- {_line_start(escape(place))}: {escape(error.message)}")
            if len(report.errors) > MAX_ROWS:
                lines.extend(["", _more(len(report.errors) - MAX_ROWS, "input error")])
        return "\n".join(lines) + "\n"


__all__ = ["MarkdownReporter"]
