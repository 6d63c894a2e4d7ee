"""GitHub Actions workflow commands (``--format github``): one annotation per entry.

Each entry (the findings of one rule, :func:`winportlint.report.entries`) becomes
``::error file=F,line=L,col=C,title=IDS severity::message`` (``IDS`` as ``WPL101,WPL102``)
(``error`` for critical and high, ``warning`` for medium and low, ``notice``
for info), which GitHub shows on the pull request's diff; each input error
becomes ``::error file=F,line=L::message`` and each plugin warning
``::warning title=winportlint::text``. The last line is the plain summary of
the text reporter. Values are escaped as GitHub's toolkit does, so that no
message can end an annotation early or start a command of its own; file names
have what is not printable escaped too, as in the text format.
"""

from __future__ import annotations

#: Workflow command of a winportlint severity.
COMMANDS = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "notice"}


def escape_data(value: object) -> str:
    """The message part of a command: ``%``, CR and LF are percent-encoded."""
    return str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: object) -> str:
    """A ``key=value`` property: as :func:`escape_data`, and ``:`` and ``,`` too."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: list[tuple[str, object]], message: object) -> str:
    """``::name k=v,k=v::message`` (``::name::message`` without properties)."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _place(file: str, line: int, column: int | None = None) -> list[tuple[str, object]]:
    """``file``, then ``line`` and ``col`` where known (a 0 means unknown and is left out)."""
    from winportlint.excerpt import printable

    properties: list[tuple[str, object]] = [("file", printable(file))]
    if line:
        properties.append(("line", line))
        if column:
            properties.append(("col", column))
    return properties


class GithubReporter:
    """Renders a run as GitHub Actions annotations and a summary line."""

    name = "github"

    def render(self, report) -> str:
        from winportlint.report import entries

        from .text import summary

        lines = []
        for entry in entries(report.findings):
            location = entry.location
            severity = entry.severity.value
            properties = _place(location.file, location.line, location.column)
            properties.append(("title", f"{','.join(entry.rule_ids)} {severity}"))
            lines.append(command(COMMANDS[severity], properties, entry.message))
        for error in report.errors:
            lines.append(command("error", _place(error.file, error.line), error.message))
        for warning in report.warnings:
            lines.append(command("warning", [("title", "winportlint")], warning))
        lines.append(summary(report))
        return "\n".join(lines) + "\n"


__all__ = ["GithubReporter", "escape_data", "escape_property"]
