"""The labelled public corpus (../shared/corpus): every expected exposure found, no noise.

Labels (LABELS.md) name the resource, the rule's port spec, protocol and the
line of the CIDR. A finding reported by default (severity low and above) on
anything that is not labelled expected or ambiguous is noise and fails.
"""

from __future__ import annotations

import json

import pytest

from conftest import CORPUS, lint, requires_corpus
from winportlint.model import Severity

pytestmark = requires_corpus


def _labels(fmt: str):
    if not CORPUS.is_dir():
        return []
    rows = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text().splitlines() if line.strip()]
    return [pytest.param(row, id=row["file"]) for row in rows if row["format"] == fmt]


def _label_key(entry) -> tuple:
    port = entry["port"]
    low, high = (port, port) if isinstance(port, int) else port
    protocol = "all" if entry["protocol"] == "-1" else entry["protocol"]
    return entry["resource"], entry["line"], protocol, low, high


def _finding_key(finding) -> tuple:
    permission = finding.permission
    low, high = (permission.ports.low, permission.ports.high) if permission.ports else (0, 65535)
    return permission.resource, finding.location.line, permission.protocol, low, high


@pytest.mark.parametrize("label", _labels("cloudformation"))
def test_cloudformation_corpus_file(label):
    result = lint([CORPUS / label["file"]])
    for error in result.errors:  # malformed templates are reported, never a crash
        assert error.line >= 1 and "plugin failed" not in error.message and "\n" not in error.message
    reported = [f for f in result.findings if f.severity.rank >= Severity.LOW.rank]
    expected = {_label_key(entry) for entry in label["expected"]}
    found = {_finding_key(f) for f in reported}
    assert expected - found == set(), "missed exposures"
    ambiguous_lines = {entry.get("line") for entry in label.get("ambiguous", [])}
    noise = [f for f in reported if _finding_key(f) not in expected and f.location.line not in ambiguous_lines]
    assert [(f.rule_id, f.message) for f in noise] == []


@pytest.mark.parametrize("label", _labels("terraform") + _labels("terraform-plan"))
def test_terraform_corpus_file(label, tmp_path):
    """Each labelled file is a module of its own: the corpus keeps several in one folder."""
    import shutil

    source = CORPUS / label["file"]
    copy = tmp_path / "module" / source.name
    copy.parent.mkdir()
    shutil.copy(source, copy)
    result = lint([copy])
    for error in result.errors:
        assert error.line >= 1 and "plugin failed" not in error.message and "\n" not in error.message
    reported = [f for f in result.findings if f.severity.rank >= Severity.LOW.rank]
    plan = label["format"] == "terraform-plan"
    expected = {_label_key(entry) for entry in label["expected"]}
    found = {(*_finding_key(f)[:1], None if plan else f.location.line, *_finding_key(f)[2:]) for f in reported}
    assert expected - found == set(), "missed exposures"
    ambiguous_lines = {entry.get("line") for entry in label.get("ambiguous", [])}
    noise = [f for f in reported if (f.permission.resource, None if plan else f.location.line,
                                     *_finding_key(f)[2:]) not in expected and f.location.line not in ambiguous_lines]
    assert [(f.rule_id, f.message) for f in noise] == []
