"""End to end for issue #7: the findings (with their targets' context) of every fixture under
tests/context/, as JSON snapshots beside them (``<fixture>.findings.json``).

The format tests (test_cloudformation_context.py, test_terraform_context.py) assert the records
each fixture gives; this asserts what the checks and the context stage make of them. A changed
snapshot is rewritten with ``WINPORTLINT_UPDATE_SNAPSHOTS=1`` and then read like any diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import lint

CONTEXT = Path(__file__).parent / "context"
FIXTURES = sorted(p for p in CONTEXT.glob("*/*") if not p.name.endswith(".findings.json"))


def _rows(fixture: Path) -> dict:
    result = lint([fixture])
    base = str(fixture.parent) + os.sep
    return {
        "findings": [
            {"rule_id": f.rule_id, "severity": f.severity.value, "resource": f.permission.resource,
             "file": f.location.file.replace(base, ""), "line": f.location.line,
             "ports": str(f.permission.ports) if f.permission.ports else "all",
             "targets": [[t.resource, t.os, list(t.versions)] for t in f.targets],
             "context": f.message.split("; ", 1)[1] if "; " in f.message else ""}
            for f in result.findings
        ],
        "errors": [[e.file.replace(base, ""), e.line, e.message] for e in result.errors],
    }


@pytest.mark.parametrize("fixture", FIXTURES, ids=[str(p.relative_to(CONTEXT)) for p in FIXTURES])
def test_findings_in_context(fixture: Path):
    snapshot = fixture.with_name(fixture.name + ".findings.json")
    rows = _rows(fixture)
    if os.environ.get("WINPORTLINT_UPDATE_SNAPSHOTS"):
        snapshot.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    assert rows == json.loads(snapshot.read_text(encoding="utf-8"))
