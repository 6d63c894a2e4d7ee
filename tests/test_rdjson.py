"""The rdjson reporter (reviewdog's Diagnostic Format): exact output, valid against reviewdog's
published schema and against a strict copy of it that knows no field but the schema's own."""

from __future__ import annotations

import copy
import json
import os
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


def test_each_severity_its_reviewdog_level_and_unknown_places_left_out(tmp_path, monkeypatch):
    """High is an ERROR, medium and low WARNINGs; a line of 0 (unknown) is no range; a finding of
    a check the run does not list has a code without a URL; the output is ASCII."""
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"r\u00e9seau/a.yaml": "a\nb\nc\n", "c.yaml": "x\n" * 8 + "      CidrIp: 0.0.0.0/0\n"})
    high = make_permission("r\u00e9seau/a.yaml", 3, 1, "A", "tcp", PortRange(7680, 7680), "0.0.0.0/0")
    medium = make_permission("b.yaml", 0, 0, "B", "tcp", PortRange(445, 445), "::/0")
    low = make_permission("c.yaml", 9, 15, "C", "udp", PortRange(5355, 5355), "0.0.0.0/0")
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
        {"message": "7680/tcp open on A \u2013 \"quoted\"",
         "location": {"path": "r\u00e9seau/a.yaml", "range": {"start": {"line": 3, "column": 1}}},
         "severity": "ERROR", "code": {"value": "WPL202"}},
        {"message": "445/tcp open on B", "location": {"path": "b.yaml"}, "severity": "WARNING",
         "code": {"value": "WPL003", "url": MEDIUM.docs_url}},
        {"message": "5355/udp open on C", "location": {"path": "c.yaml", "range": {"start": {"line": 9, "column": 15}}},
         "severity": "WARNING", "code": {"value": "WPL301"}},
        {"message": "unreadable", "location": {"path": "d.tf"}, "severity": "ERROR", "code": {"value": "input-error"}},
    ]
    validate(document, strict=True)


def start(report: Report) -> list:
    """Each diagnostic's ``start``, rendered in a thread that must end within a minute (a reader
    that blocked on a FIFO would hang the test run)."""
    import threading

    rendered: list[str] = []
    worker = threading.Thread(target=lambda: rendered.append(RdjsonReporter().render(report)), daemon=True)
    worker.start()
    worker.join(60)
    assert rendered, "rendering did not end"
    return [d["location"].get("range", {}).get("start") for d in json.loads(rendered[0])["diagnostics"]]


def at(file: str, line: int, column: int):
    permission = make_permission(file, line, column, "G", "tcp", PortRange(3389, 3389), "0.0.0.0/0")
    return make_finding("WPL101", Severity.CRITICAL, "3389/tcp open", permission)


def test_columns_count_utf8_bytes_as_reviewdog_does(tmp_path, monkeypatch):
    """winportlint counts characters; reviewdog counts UTF-8 bytes: each accented letter before the
    value is one more, a CJK character two more, a character beyond the BMP three more."""
    line = '        - {Description: "acc\u00e8s \u00e0 \u7aef \U0001f600", CidrIp: 0.0.0.0/0}'
    write_files(tmp_path, {"t.yaml": "Resources:\n" + line + "\n"})
    monkeypatch.chdir(tmp_path)
    column = line.index("0.0.0.0/0") + 1
    assert column == 48
    report = Report(findings=[at("t.yaml", 2, column), at("t.yaml", 2, 1)], errors=[], checks=[], files_checked=1)
    assert start(report) == [{"line": 2, "column": 48 + 1 + 1 + 2 + 3}, {"line": 2, "column": 1}]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_column_whose_line_cannot_be_read_again_is_left_out(tmp_path, monkeypatch):
    """The file is gone, is now a FIFO or /dev/zero, or no longer has the line or the column (changed
    since it was checked): the line stays, the column goes, and nothing blocks."""
    write_files(tmp_path, {"short.yaml": "Resources: {}\n"})
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    monkeypatch.chdir(tmp_path)
    report = Report(findings=[at("gone.yaml", 3, 5), at("pipe.yaml", 3, 5), at("zero.yaml", 3, 5),
                              at("short.yaml", 3, 1), at("short.yaml", 1, 15), at("short.yaml", 1, 14)],
                    errors=[], checks=[], files_checked=1)
    assert start(report) == [{"line": 3}, {"line": 3}, {"line": 3}, {"line": 3}, {"line": 1},
                             {"line": 1, "column": 14}]  # just after the line's last character


def test_a_clean_run_is_an_empty_list_of_diagnostics(tmp_path, capsys, monkeypatch):
    write_files(tmp_path, {"web.yaml": TEMPLATE.replace("0.0.0.0/0", "10.0.0.0/8")})
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--format", "rdjson", "."]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {"source": SOURCE, "diagnostics": []}
    validate(document, strict=True)
