"""reviewdog's Diagnostic Format as JSON (``--format rdjson``), for ``reviewdog -f=rdjson``.

One ``DiagnosticResult`` whose ``source`` is winportlint, with one diagnostic per
finding (one per check, as in JSON and SARIF: reviewdog posts each as a review
comment) and one per input error (code ``input-error``, ``ERROR``). A location
is the finding's file as the other formats print it and a ``range`` with only a
``start``: winportlint knows where a value starts, not where it ends, and
reviewdog reads a range without an end as that one point. reviewdog counts
columns in UTF-8 bytes where winportlint counts characters, so the finding's line
is read again to convert; a column whose line cannot be read again is left out,
as is a line or column of 0 (unknown). Suppressed and baselined findings are no
diagnostics: there is nothing to review in them. Written in ASCII (``\\u00e9``
escapes), like the JSON format.
"""

from __future__ import annotations

#: reviewdog severity of a winportlint severity.
SEVERITIES = {"critical": "ERROR", "high": "ERROR", "medium": "WARNING", "low": "WARNING", "info": "INFO"}
INPUT_ERROR = "input-error"


class _Columns:
    """reviewdog's column (UTF-8 bytes) of winportlint's (characters), each file read once."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = {}

    def __call__(self, file: str, line: int, column: int) -> int:
        """The column in bytes, or 0 when the file, the line or the column is not there now."""
        from winportlint.textfile import NotText, read_text

        if file not in self._lines:
            try:
                self._lines[file] = read_text(file).split("\n")
            except (OSError, NotText):
                self._lines[file] = []
        lines = self._lines[file]
        if not 0 < line <= len(lines) or not 0 < column <= len(lines[line - 1]) + 1:
            return 0
        return len(lines[line - 1][:column - 1].encode("utf-8", "surrogatepass")) + 1


def _location(file: str, line: int, column: int = 0) -> dict:
    location: dict = {"path": file}
    if line > 0:
        start = {"line": line}
        if column > 0:
            start["column"] = column
        location["range"] = {"start": start}
    return location


class RdjsonReporter:
    """Renders a run as one reviewdog ``DiagnosticResult``."""

    name = "rdjson"

    def render(self, report) -> str:
        import json

        from winportlint.report import TOOL_URI

        docs = {check.id: check.docs_url for check in report.checks}
        columns = _Columns()
        diagnostics = []
        for finding in report.findings:
            file, line, column = finding.location
            code = {"value": finding.rule_id}
            if docs.get(finding.rule_id):
                code["url"] = docs[finding.rule_id]
            diagnostics.append({
                "message": finding.message,
                "location": _location(file, line, columns(file, line, column)),
                "severity": SEVERITIES[finding.severity.value],
                "code": code,
            })
        diagnostics.extend({"message": error.message, "location": _location(error.file, error.line),
                            "severity": "ERROR", "code": {"value": INPUT_ERROR}} for error in report.errors)
        result = {"source": {"name": "winportlint", "url": TOOL_URI}, "diagnostics": diagnostics}
        return json.dumps(result, indent=2) + "\n"


__all__ = ["RdjsonReporter"]
