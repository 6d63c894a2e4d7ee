"""GitLab Code Quality report (``--format gitlab``): a JSON list of issues.

Each issue has the fields GitLab requires: ``description``, ``check_name``,
``fingerprint`` (unique per issue), ``severity`` (one of ``info``, ``minor``,
``major``, ``critical``, ``blocker``) and ``location.path`` with
``location.lines.begin``. Input errors are issues with ``check_name``
``input-error`` and severity ``blocker``. Written in ASCII (``\\u00e9`` escapes),
as valid on any console as in a file.
"""

from __future__ import annotations

#: GitLab Code Quality severity of a winportlint severity.
SEVERITIES = {"critical": "critical", "high": "major", "medium": "minor", "low": "minor", "info": "info"}
INPUT_ERROR = "input-error"


def _issue(description: str, check_name: str, fingerprint: str, severity: str, path: str, line: int) -> dict:
    return {
        "description": description,
        "check_name": check_name,
        "fingerprint": fingerprint,
        "severity": severity,
        # GitLab lines are 1-based; a 0 (unknown) points at the top of the file.
        "location": {"path": path, "lines": {"begin": max(1, int(line or 0))}},
    }


def _error_fingerprint(error) -> str:
    import hashlib

    key = "\x1f".join((INPUT_ERROR, error.file, str(error.line), error.message))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _unique_fingerprints(issues: list[dict]) -> None:
    """Give the second, third... issue that shares a fingerprint the suffix ``-2``, ``-3``..."""
    seen: dict[str, int] = {}
    taken = {issue["fingerprint"] for issue in issues}
    for issue in issues:
        base = issue["fingerprint"]
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            number = seen[base]
            while f"{base}-{number}" in taken:
                number += 1
            seen[base] = number
            issue["fingerprint"] = f"{base}-{number}"
            taken.add(issue["fingerprint"])


class GitlabReporter:
    """Renders a run as a GitLab Code Quality report."""

    name = "gitlab"

    def render(self, report) -> str:
        import json

        from winportlint.model import fingerprint

        issues = []
        for finding in report.findings:
            location = finding.location
            severity = str(getattr(finding.severity, "value", finding.severity))
            issues.append(_issue(finding.message, finding.rule_id,
                                 finding.fingerprint or fingerprint(finding.rule_id, finding.permission),
                                 SEVERITIES[severity], location.file, location.line))
        for error in report.errors:
            issues.append(_issue(error.message, INPUT_ERROR, _error_fingerprint(error), "blocker",
                                 error.file, error.line))
        _unique_fingerprints(issues)
        return json.dumps(issues, indent=2) + "\n"


__all__ = ["GitlabReporter"]
