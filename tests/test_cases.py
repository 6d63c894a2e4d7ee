"""Every check's good and bad fixture templates, as data: tests/cases/<ID>/{bad,good}/<name>.

A bad fixture's expected findings of its check are in ``<name>.expected.json``;
a good fixture must give no finding of its check. A ``catalog.yaml`` in the
check's folder is loaded as an extra catalog file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import finding_rows, lint
from winportlint.plugin_manager import load_plugins

CASES = Path(__file__).parent / "cases"


def _fixtures():
    for fixture in sorted(CASES.glob("*/*/*")):
        if fixture.name.endswith(".expected.json") or fixture.parent.name not in ("bad", "good"):
            continue
        yield pytest.param(fixture, id=str(fixture.relative_to(CASES)))


@pytest.mark.parametrize("fixture", list(_fixtures()))
def test_case(fixture: Path):
    check_dir = fixture.parents[1]
    check_id = check_dir.name
    catalogs = [check_dir / "catalog.yaml"] if (check_dir / "catalog.yaml").exists() else []
    result = lint([fixture], select=[check_id], catalog_files=catalogs)
    assert result.errors == []
    rows = finding_rows(f for f in result.findings if f.rule_id == check_id)
    if fixture.parent.name == "good":
        assert rows == []
    else:
        expected = json.loads(fixture.with_name(fixture.name + ".expected.json").read_text())
        assert rows == expected


def test_every_check_has_good_and_bad_fixtures():
    for check in load_plugins().checks:
        for kind in ("bad", "good"):
            fixtures = [p for p in (CASES / check.id / kind).glob("*") if not p.name.endswith(".expected.json")]
            assert fixtures, f"{check.id} has no {kind} fixture"
