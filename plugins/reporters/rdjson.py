"""reviewdog's Diagnostic Format as JSON (``--format rdjson``), for ``reviewdog -f=rdjson``.

One ``DiagnosticResult`` whose ``source`` is winportlint, with one diagnostic per
finding (one per check, as in JSON and SARIF: reviewdog posts each as a review
comment) and one per input error (code ``input-error``, ``ERROR``). A location
is the finding's file as the other formats print it and a ``range`` with only a
``start``: winportlint knows where a value starts, not where it ends, and
reviewdog reads a range without an end as that one point. The column is
winportlint's (characters of the line); reviewdog counts UTF-8 bytes, the same
wherever the line before the value is ASCII. A line or column of 0 (unknown) is
left out. Suppressed and baselined findings are no diagnostics: there is nothing
to review in them. Written in ASCII (``\\u00e9`` escapes), like the JSON format.
"""

from __future__ import annotations

#: reviewdog severity of a winportlint severity.
SEVERITIES = {"critical": "ERROR", "high": "ERROR", "medium": "WARNING", "low": "WARNING", "info": "INFO"}
INPUT_ERROR = "input-error"


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
        diagnostics = []
        for finding in report.findings:
            location = finding.location
            code = {"value": finding.rule_id}
            if docs.get(finding.rule_id):
                code["url"] = docs[finding.rule_id]
            diagnostics.append({
                "message": finding.message,
                "location": _location(location.file, location.line, location.column),
                "severity": SEVERITIES[finding.severity.value],
                "code": code,
            })
        diagnostics.extend({"message": error.message, "location": _location(error.file, error.line),
                            "severity": "ERROR", "code": {"value": INPUT_ERROR}} for error in report.errors)
        result = {"source": {"name": "winportlint", "url": TOOL_URI}, "diagnostics": diagnostics}
        return json.dumps(result, indent=2) + "\n"


__all__ = ["RdjsonReporter"]
