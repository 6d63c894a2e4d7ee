"""The SARIF reporter: valid against the official OASIS 2.1.0 schema, exact values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from winportlint.checks import ExposureCheck
from winportlint.model import (
    InputError,
    PortRange,
    Severity,
)
from conftest import make_finding, make_permission
from winportlint.plugins.reporters.sarif import SarifReporter, artifact_uri
from winportlint.report import TOOL_URI, Report

SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"

RDP = ExposureCheck(
    id="WPL101",
    name="remote-desktop-open-to-world",
    summary="Remote Desktop is open to the whole internet",
    severity=Severity.CRITICAL,
    exposure_class="remote-desktop",
    explanation="RDP is brute-forced within **minutes**.",
)
SMB = ExposureCheck(
    id="WPL003",
    name="file-sharing-open-to-world",
    summary="SMB is open to the whole internet",
    severity=Severity.MEDIUM,
    exposure_class="file-sharing",
    explanation="Close 445/tcp.",
)


permission = make_permission
finding = make_finding


@pytest.fixture()
def report() -> Report:
    rdp = permission("templates/web.yaml", 12, 19, "WebSG", "tcp", PortRange(3389, 3389), "0.0.0.0/0")
    # line/column 0 must come out as 1; the space must be percent-encoded.
    smb = permission("my templates/file server.yaml", 0, 0, "FileSG", "all", None, "::/0")
    findings = [
        finding("WPL101", Severity.CRITICAL, "3389/tcp open from 0.0.0.0/0 on WebSG", rdp),
        finding("WPL003", Severity.LOW, "all traffic open from ::/0 on FileSG", smb),
    ]
    return Report(
        findings=findings,
        errors=[InputError("broken dir/bad.yaml", 7, "mapping values are not allowed here")],
        checks=[RDP, SMB],  # deliberately not sorted by id
        files_checked=3,
        tool_version="9.8.7",
        warnings=["plugin 'broken' failed to load: ImportError: nope"],
    )


def render(report: Report) -> dict:
    text = SarifReporter().render(report)
    assert text.endswith("}\n")
    return json.loads(text)


def validate(log: dict) -> None:
    from jsonschema.validators import validator_for

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    cls(schema).validate(log)


def test_schema_is_the_official_oasis_one() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"


def test_output_is_valid_sarif(report: Report) -> None:
    validate(render(report))


def test_empty_run_is_valid_sarif() -> None:
    log = render(Report(findings=[], errors=[], checks=[], files_checked=0))
    validate(log)
    run = log["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_schema_rejects_broken_output(report: Report) -> None:
    """The validation is not vacuous: a wrong level is caught."""
    from jsonschema.exceptions import ValidationError

    log = render(report)
    log["runs"][0]["results"][0]["level"] = "critical"
    with pytest.raises(ValidationError):
        validate(log)


def test_header_and_driver(report: Report) -> None:
    log = render(report)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "winportlint"
    assert driver["version"] == "9.8.7"
    assert driver["informationUri"] == TOOL_URI


def test_rules(report: Report) -> None:
    rules = render(report)["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["WPL003", "WPL101"]
    smb, rdp = rules
    assert rdp == {
        "id": "WPL101",
        "name": "remote-desktop-open-to-world",
        "shortDescription": {"text": "Remote Desktop is open to the whole internet"},
        "fullDescription": {"text": "Remote Desktop is open to the whole internet"},
        "help": {"text": "RDP is brute-forced within **minutes**.",
                 "markdown": "RDP is brute-forced within **minutes**."},
        "helpUri": "https://github.com/winportlint/winportlint/blob/main/docs/rules.md#wpl101",
        "defaultConfiguration": {"level": "error"},
        "properties": {"security-severity": "9.5", "tags": ["security", "windows"], "precision": "very-high"},
    }
    assert smb["defaultConfiguration"] == {"level": "warning"}
    assert smb["properties"]["security-severity"] == "5.5"
    assert smb["helpUri"] == "https://github.com/winportlint/winportlint/blob/main/docs/rules.md#wpl003"


def test_results(report: Report) -> None:
    results = render(report)["runs"][0]["results"]
    assert len(results) == 2
    rdp, smb = results

    assert rdp["ruleId"] == "WPL101"
    assert rdp["ruleIndex"] == 1
    assert rdp["level"] == "error"
    assert rdp["message"] == {"text": "3389/tcp open from 0.0.0.0/0 on WebSG"}
    assert rdp["locations"] == [{
        "physicalLocation": {"artifactLocation": {"uri": "templates/web.yaml"},
                             "region": {"startLine": 12, "startColumn": 19}},
        "logicalLocations": [{"name": "WebSG", "kind": "resource", "fullyQualifiedName": "WebSG"}],
    }]
    assert rdp["partialFingerprints"] == {"winportlintFingerprint/v1": report.findings[0].fingerprint}
    assert len(report.findings[0].fingerprint) == 32
    assert rdp["properties"] == {"severity": "critical", "resource_type": "AWS::EC2::SecurityGroup",
                                 "protocol": "tcp", "from_port": 3389, "to_port": 3389, "cidr": "0.0.0.0/0",
                                 "control": "security-group", "targets": []}

    assert smb["ruleId"] == "WPL003"
    assert smb["ruleIndex"] == 0
    assert smb["level"] == "warning"
    physical = smb["locations"][0]["physicalLocation"]
    assert physical["region"] == {"startLine": 1, "startColumn": 1}
    assert smb["partialFingerprints"] == {"winportlintFingerprint/v1": report.findings[1].fingerprint}
    assert smb["partialFingerprints"] != rdp["partialFingerprints"]
    assert smb["properties"] == {"severity": "low", "resource_type": "AWS::EC2::SecurityGroup",
                                 "protocol": "all", "from_port": None, "to_port": None, "cidr": "::/0",
                                 "control": "security-group", "targets": []}


def test_path_with_space_is_percent_encoded(report: Report) -> None:
    smb = render(report)["runs"][0]["results"][1]
    assert smb["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "my%20templates/file%20server.yaml"


@pytest.mark.parametrize(("path", "uri"), [
    ("a.yaml", "a.yaml"),
    ("dir/sub dir/a#1.yaml", "dir/sub%20dir/a%231.yaml"),
    ("100%.yaml", "100%25.yaml"),
    ("dir\\win file.yaml", "dir/win%20file.yaml"),
    ("/abs/my dir/a.yaml", "file:///abs/my%20dir/a.yaml"),
    ("C:\\work\\my dir\\a.yaml", "file:///C:/work/my%20dir/a.yaml"),
])
def test_artifact_uri(path: str, uri: str) -> None:
    assert artifact_uri(path) == uri


def test_levels_per_severity() -> None:
    perm = permission("a.yaml", 1, 1, "SG", "tcp", PortRange(445, 445), "0.0.0.0/0")
    levels = {}
    for severity in Severity:
        report = Report(findings=[finding("WPL003", severity, "m", perm)], errors=[], checks=[SMB], files_checked=1)
        levels[severity.value] = render(report)["runs"][0]["results"][0]["level"]
    assert levels == {"info": "note", "low": "warning", "medium": "warning", "high": "error", "critical": "error"}


def test_input_error_and_warning_notifications(report: Report) -> None:
    invocations = render(report)["runs"][0]["invocations"]
    assert len(invocations) == 1
    invocation = invocations[0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "error",
            "message": {"text": "mapping values are not allowed here"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "broken%20dir/bad.yaml"},
                                                "region": {"startLine": 7}}}],
        },
        {"level": "warning", "message": {"text": "plugin 'broken' failed to load: ImportError: nope"}},
    ]


def test_error_line_zero_becomes_one() -> None:
    report = Report(findings=[], errors=[InputError("x.yaml", 0, "empty")], checks=[], files_checked=1)
    log = render(report)
    validate(log)
    notification = log["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["locations"][0]["physicalLocation"]["region"] == {"startLine": 1}


def test_output_is_deterministic(report: Report) -> None:
    first = SarifReporter().render(report)
    assert SarifReporter().render(report) == first
    assert first.startswith('{\n  "$schema": ')  # indent=2


def test_module_imports_nothing_at_import_time() -> None:
    """Plugin modules must be cheap to import: only ``__future__`` at the top level."""
    import ast

    import winportlint.plugins.reporters.sarif as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [getattr(node, "module", None) for node in top_level] == ["__future__"]
