"""The JSON contract: ``{"version": 1, "findings": [...], "errors": [...], "suppressed": [...]}`` (README).

With ``--diff-base REF``, ``findings`` also holds those REF has too, each finding says whether it
is ``new``, and ``diff_base`` gives the revision and both counts: one list, as the files hold them.

Written in ASCII (``\\u00e9`` escapes): valid JSON with the real file names on any console.
"""

from __future__ import annotations

from winportlint.model import Finding

SCHEMA_VERSION = 1


class JsonReporter:
    name = "json"

    def render(self, report) -> str:
        import json

        if report.diff_base:
            marked = sorted([*((f, True) for f in report.findings), *((f, False) for f in report.at_base)],
                            key=lambda pair: pair[0].sort_key())
            findings = [dict(finding_record(f), new=new) for f, new in marked]
        else:
            findings = [finding_record(f) for f in report.findings]
        document = {
            "version": SCHEMA_VERSION,
            "findings": findings,
            "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in report.errors],
            "suppressed": [dict(finding_record(s.finding), suppressed_by=s.source, reason=s.reason,
                                owner=s.owner or None, expires=s.expires.isoformat() if s.expires else None)
                           for s in report.suppressed],
        }
        if report.diff_base:
            document["diff_base"] = {"ref": report.diff_base, "new": len(report.findings),
                                     "also_at_base": len(report.at_base)}
        return json.dumps(document, indent=2) + "\n"


def finding_record(finding: Finding) -> dict:
    permission = finding.permission
    location = permission.location
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity.value,
        "message": finding.message,
        "file": location.file,
        "line": location.line,
        "column": location.column,
        "resource": permission.resource,
        "resource_type": permission.resource_type,
        "direction": permission.direction.value,
        "protocol": permission.protocol,
        "from_port": permission.ports.low if permission.ports else None,
        "to_port": permission.ports.high if permission.ports else None,
        "cidr": permission.peer.text,
        "catalog": [
            {"workload": hit.workload, "rule": hit.rule, "protocol": hit.protocol, "ports": hit.ports,
             "os": list(hit.os)}
            for hit in finding.catalog
        ],
        "provenance": [
            {"field": p.field, "kind": p.kind, "detail": p.detail,
             "line": p.location.line if p.location else None,
             "column": p.location.column if p.location else None}
            for p in permission.provenance
        ],
        "fingerprint": finding.fingerprint,
        **context_record(finding),
        "fixes": [{"title": fix.title, "applicability": fix.applicability,
                   "edits": [{"file": e.file, "start": e.start, "end": e.end, "text": e.text} for e in fix.edits]}
                  for fix in finding.fixes],
    }


def context_record(finding: Finding) -> dict:
    """What lets the traffic through, and what the group protects (also SARIF result properties)."""
    permission = finding.permission
    record: dict = {"control": permission.control}
    if permission.rule_number is not None:
        record["rule_number"] = permission.rule_number
    if permission.forwards_to:
        record["forwards_to"] = [{"from_port": p.low, "to_port": p.high} for p in permission.forwards_to]
    record["targets"] = [
        {"resource": t.resource, "resource_type": t.resource_type, "os": t.os, "versions": list(t.versions),
         "evidence": list(t.evidence)}
        for t in finding.targets
    ]
    return record
