"""SARIF 2.1.0 output (``--format sarif``), for GitHub code scanning and other viewers.

Accepted (suppressed) findings are results too, always, with a ``suppressions`` entry: ``inSource``
for a comment or Metadata, ``external`` for an allow entry, the reason as its ``justification``
and the owner and expiry in its properties; code scanning shows them as dismissed with the reason
rather than not at all. They never change the exit code.

Only the standard library is used, and only inside :meth:`SarifReporter.render`,
so that importing this module costs nothing.
"""

from __future__ import annotations

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "winportlintFingerprint/v1"

#: SARIF ``level`` of a winportlint severity.
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "warning", "info": "note"}
#: GitHub code scanning's ``security-severity`` (a CVSS-like score as a string).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
RULE_TAGS = ("security", "windows")


def _severity(value) -> str:
    """``"critical"`` for ``Severity.CRITICAL`` or ``"critical"``."""
    return str(getattr(value, "value", value))


def artifact_uri(path: str) -> str:
    """The SARIF ``uri`` of a file path.

    A relative path stays relative (POSIX separators, percent-encoded:
    ``my dir/a.yaml`` -> ``my%20dir/a.yaml``); an absolute path becomes a
    ``file://`` URI.
    """
    from pathlib import PurePosixPath, PureWindowsPath
    from urllib.parse import quote

    if "\\" in path or PureWindowsPath(path).drive:
        pure = PureWindowsPath(path)
        if pure.is_absolute():
            return pure.as_uri()
        posix = pure.as_posix()
    else:
        posix = path
        if PurePosixPath(posix).is_absolute():
            return PurePosixPath(posix).as_uri()
    return quote(posix, safe="/", errors="surrogateescape")  # a name that is not UTF-8: its bytes


def _region(line: int, column: int | None = None) -> dict:
    region = {"startLine": max(1, int(line or 0))}
    if column is not None:
        region["startColumn"] = max(1, int(column or 0))
    return region


def _physical(file: str, line: int, column: int | None = None) -> dict:
    return {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(file)},
                                 "region": _region(line, column)}}


def _rule(check) -> dict:
    severity = _severity(check.severity)
    return {
        "id": check.id,
        "name": check.name,
        "shortDescription": {"text": check.summary},
        "fullDescription": {"text": check.summary},
        "help": {"text": check.explanation, "markdown": check.explanation},
        "helpUri": check.docs_url,
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "tags": list(RULE_TAGS),
            "precision": "very-high",
        },
    }


def _result(finding, rule_index: dict[str, int]) -> dict:
    from .json_document import context_record

    permission = finding.permission
    location = permission.location
    severity = _severity(finding.severity)
    result: dict = {"ruleId": finding.rule_id}
    if finding.rule_id in rule_index:
        result["ruleIndex"] = rule_index[finding.rule_id]
    sarif_location = _physical(location.file, location.line, location.column)
    sarif_location["logicalLocations"] = [
        {"name": permission.resource, "kind": "resource", "fullyQualifiedName": permission.resource}
    ]
    ports = permission.ports
    result.update({
        "level": LEVELS[severity],
        "message": {"text": finding.message},
        "locations": [sarif_location],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "severity": severity,
            "resource_type": permission.resource_type,
            "protocol": permission.protocol,
            # null when the rule allows every port of its protocol
            "from_port": ports.low if ports is not None else None,
            "to_port": ports.high if ports is not None else None,
            "cidr": permission.peer.text,
            **context_record(finding),
        },
    })
    fixes = [_fix(fix) for fix in finding.fixes if fix.edits]
    if fixes:
        result["fixes"] = fixes
    return result


def _fix(fix) -> dict:
    """A fix with its edits: byte offsets into the file as it is, one change per file; its
    applicability (``safe``, ``unsafe``) in the properties. A display-only fix has no edits,
    so it is not a SARIF fix (the schema wants at least one change)."""
    changes: dict[str, list] = {}
    for edit in fix.edits:
        changes.setdefault(edit.file, []).append({
            "deletedRegion": {"byteOffset": edit.start, "byteLength": edit.end - edit.start},
            "insertedContent": {"text": edit.text}})
    return {"description": {"text": fix.title},
            "artifactChanges": [{"artifactLocation": {"uri": artifact_uri(file)}, "replacements": replacements}
                                for file, replacements in changes.items()],
            "properties": {"applicability": fix.applicability}}


def _suppressed_result(item, rule_index: dict[str, int]) -> dict:
    """The result of an accepted finding: dismissed in code scanning, with who accepted it and until when."""
    result = _result(item.finding, rule_index)
    result["suppressions"] = [{
        "kind": "external" if item.kind == "allow" else "inSource",
        "status": "accepted",
        "justification": item.reason,
        "properties": {"owner": item.owner or None, "expires": item.expires.isoformat() if item.expires else None,
                       "suppressedBy": item.source},
    }]
    return result


def _notifications(report) -> list[dict]:
    notifications = [
        {"level": "error", "message": {"text": error.message}, "locations": [_physical(error.file, error.line)]}
        for error in sorted(report.errors, key=lambda e: (e.file, e.line, e.message))
    ]
    notifications.extend({"level": "warning", "message": {"text": str(warning)}} for warning in report.warnings)
    return notifications


class SarifReporter:
    """Renders a run as one SARIF 2.1.0 log with one run."""

    name = "sarif"

    def render(self, report) -> str:
        import json

        from winportlint.report import TOOL_URI

        checks = sorted(report.checks, key=lambda check: check.id)
        rules = [_rule(check) for check in checks]
        rule_index = {check.id: index for index, check in enumerate(checks)}
        invocation: dict = {"executionSuccessful": not report.errors}
        notifications = _notifications(report)
        if notifications:
            invocation["toolExecutionNotifications"] = notifications
        log = {
            "$schema": SCHEMA_URI,
            "version": SARIF_VERSION,
            "runs": [{
                "tool": {"driver": {
                    "name": "winportlint",
                    "version": report.tool_version,
                    "informationUri": TOOL_URI,
                    "rules": rules,
                }},
                "invocations": [invocation],
                # Columns count Unicode code points of the decoded text.
                "columnKind": "unicodeCodePoints",
                "results": [*(_result(finding, rule_index) for finding in report.findings),
                            *(_suppressed_result(item, rule_index) for item in report.suppressed)],
            }],
        }
        return json.dumps(log, indent=2) + "\n"


__all__ = ["SarifReporter"]
