"""The rdjson reporter (reviewdog's Diagnostic Format): exact output, valid against reviewdog's
published schema and against a strict copy of it that knows no field but the schema's own."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import ValidationError

from conftest import make_finding, make_permission, write_files
from winportlint.checks import ExposureCheck
from winportlint.cli import main
from winportlint.model import InputError, PortRange, Severity
from winportlint.plugins.reporters.rdjson import RdjsonReporter
from winportlint.report import Report

SCHEMA_PATH = Path(__file__).parent / "schemas" / "reviewdog" / "DiagnosticResult.json"
SOURCE = {"name": "winportlint", "url": "https://github.com/winportlint/winportlint"}
DOCS = "https://github.com/winportlint/winportlint/blob/main/docs/rules.md#"


def schema(strict: bool = False) -> dict:
    """reviewdog's schema; ``strict``: every object it describes takes only the properties it names
    (the published one takes any), so that a misspelled field fails."""
    loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    if strict:
        loaded = copy.deepcopy(loaded)
        for definition in loaded["definitions"].values():
            definition["additionalProperties"] = False
    return loaded


def validate(document: dict, strict: bool = False) -> None:
    """Validated with an empty registry: a ``$ref`` outside the file fails instead of being fetched."""
    from jsonschema.validators import validator_for
    from referencing import Registry

    loaded = schema(strict)
    cls = validator_for(loaded)
    cls.check_schema(loaded)
    cls(loaded, registry=Registry()).validate(document)


def refs(node) -> list[str]:
    if isinstance(node, dict):
        return [*([node["$ref"]] if "$ref" in node else []), *(r for value in node.values() for r in refs(value))]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_the_schema_is_reviewdogs_diagnostic_result_and_refers_only_to_itself():
    loaded = schema()
    assert loaded["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert loaded["definitions"]["DiagnosticResult"]["title"] == "Diagnostic Result"
    assert refs(loaded) and all(ref.startswith("#/definitions/") for ref in refs(loaded))


def test_the_strict_schema_rejects_a_misspelled_field_and_a_severity_reviewdog_does_not_know():
    good = {"source": SOURCE, "diagnostics": [
        {"message": "m", "location": {"path": "a.yaml", "range": {"start": {"line": 1}}}, "severity": "ERROR"}]}
    validate(good, strict=True)
    misspelled = copy.deepcopy(good)
    misspelled["diagnostics"][0]["location"]["range"]["start"]["col"] = 3
    validate(misspelled)  # the published schema lets any field through
    with pytest.raises(ValidationError, match="'col' was unexpected"):
        validate(misspelled, strict=True)
    unknown = copy.deepcopy(good)
    unknown["diagnostics"][0]["severity"] = "CRITICAL"
    with pytest.raises(ValidationError, match="'CRITICAL' is not one of"):
        validate(unknown)


TEMPLATE = """Resources:
  WebSG:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: web
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: 0.0.0.0/0
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 0.0.0.0/0
"""
BROKEN = "Resources:\n  S:\n    Type: AWS::EC2::SecurityGroup\n    Properties: [1, 2\n"


def test_a_critical_finding_an_info_one_and_an_input_error_exactly(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"web.yaml": TEMPLATE, "bad/broken.yaml": BROKEN})
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--no-cache", "--severity", "info", "--format", "rdjson", "."])
    out = capsys.readouterr().out
    document = json.loads(out)
    assert code == 2
    assert document == {"source": SOURCE, "diagnostics": [
        {"message": "3389/tcp open from 0.0.0.0/0 (the whole internet) on WebSG: 3389/tcp RDP (open by default "
                    "in the Windows Server 2012 R2 to 2022 AMIs)",
         "location": {"path": "web.yaml", "range": {"start": {"line": 10, "column": 19}}},
         "severity": "ERROR", "code": {"value": "WPL101", "url": DOCS + "wpl101"}},
        {"message": "443/tcp open from 0.0.0.0/0 (the whole internet) on WebSG: 443/tcp IP-HTTPS (open by default "
                    "in the Windows Server 2016 to 2022 AMIs)",
         "location": {"path": "web.yaml", "range": {"start": {"line": 14, "column": 19}}},
         "severity": "INFO", "code": {"value": "WPL401", "url": DOCS + "wpl401"}},
        {"message": "invalid YAML: did not find expected ',' or ']'",
         "location": {"path": "bad/broken.yaml", "range": {"start": {"line": 5}}},
         "severity": "ERROR", "code": {"value": "input-error"}},
    ]}
    assert out == json.dumps(document, indent=2) + "\n"
    validate(document)
    validate(document, strict=True)


def test_at_the_default_severity_the_info_finding_is_left_out(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"web.yaml": TEMPLATE})
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--no-cache", "--format", "rdjson", "."])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [d["code"]["value"] for d in document["diagnostics"]] == ["WPL101"]


MEDIUM = ExposureCheck(id="WPL003", name="file-sharing-open-to-world", summary="SMB is open",
                       severity=Severity.MEDIUM, exposure_class="file-sharing", explanation="Close 445/tcp.")


def test_each_severity_its_reviewdog_level_and_unknown_places_left_out():
    """High is an ERROR, medium and low WARNINGs; a line or column of 0 (unknown) is no position;
    a finding of a check the run does not list has a code without a URL; the output is ASCII."""
    high = make_permission("r\u00e9seau/a.yaml", 3, 0, "A", "tcp", PortRange(7680, 7680), "0.0.0.0/0")
    medium = make_permission("b.yaml", 0, 0, "B", "tcp", PortRange(445, 445), "::/0")
    low = make_permission("c.yaml", 9, 7, "C", "udp", PortRange(5355, 5355), "0.0.0.0/0")
    report = Report(
        findings=[make_finding("WPL202", Severity.HIGH, "7680/tcp open on A \u2013 \"quoted\"", high),
                  make_finding("WPL003", Severity.MEDIUM, "445/tcp open on B", medium),
                  make_finding("WPL301", Severity.LOW, "5355/udp open on C", low)],
        errors=[InputError("d.tf", 0, "unreadable")],
        checks=[MEDIUM],
        files_checked=4,
    )
    text = RdjsonReporter().render(report)
    assert text.isascii()
    document = json.loads(text)
    assert document["diagnostics"] == [
        {"message": "7680/tcp open on A \u2013 \"quoted\"", "location": {"path": "r\u00e9seau/a.yaml",
                                                                       "range": {"start": {"line": 3}}},
         "severity": "ERROR", "code": {"value": "WPL202"}},
        {"message": "445/tcp open on B", "location": {"path": "b.yaml"}, "severity": "WARNING",
         "code": {"value": "WPL003", "url": MEDIUM.docs_url}},
        {"message": "5355/udp open on C", "location": {"path": "c.yaml", "range": {"start": {"line": 9, "column": 7}}},
         "severity": "WARNING", "code": {"value": "WPL301"}},
        {"message": "unreadable", "location": {"path": "d.tf"}, "severity": "ERROR", "code": {"value": "input-error"}},
    ]
    validate(document, strict=True)


def test_a_clean_run_is_an_empty_list_of_diagnostics(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"web.yaml": TEMPLATE.replace("0.0.0.0/0", "10.0.0.0/8")})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--format", "rdjson", "."]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {"source": SOURCE, "diagnostics": []}
    validate(document, strict=True)
