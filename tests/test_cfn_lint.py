"""The cfn-lint extension (``cfn-lint --append-rules winportlint.cfn_lint``), run through the real cfn-lint."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cfnlint", reason="cfn-lint is not installed")

import cfnlint.helpers
import winportlint.cfn_lint as extension
from cfnlint.config import ConfigMixIn
from cfnlint.runner import Runner
from winportlint.model import Severity
from winportlint.plugin_manager import load_plugins

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
SMB = REPO / "tests" / "cases" / "WPL102" / "bad" / "smb-netbios.yaml"
MODULE = "winportlint.cfn_lint"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
{metadata}Resources:
  Rdp:
    Type: AWS::EC2::SecurityGroup
{rdp_metadata}    Properties:
      GroupDescription: fixture
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: "0.0.0.0/0"{rdp_comment}
  Smb:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: fixture
      SecurityGroupIngress:
        - {{IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: '0.0.0.0/0'}}
        - IpProtocol: icmp
          FromPort: -1
          ToPort: -1
          CidrIp: 0.0.0.0/0
        - IpProtocol: tcp
          FromPort: 443
          ToPort: 443
          CidrIp: 0.0.0.0/0
"""
#: (rule, line, column) of each finding in TEMPLATE without metadata.
RDP, SMB_445, ICMP, HTTPS = ("E9101", 11, 19), ("E9102", 17, 65), ("W9302", 21, 19), ("I9401", 25, 19)


def template(metadata: str = "", rdp_metadata: str = "", rdp_comment: str = "") -> str:
    return TEMPLATE.format(metadata=metadata, rdp_metadata=rdp_metadata, rdp_comment=rdp_comment)


def cfn_lint_command() -> list[str]:
    """The cfn-lint of this Python: ``python -m cfnlint`` does not exist (no ``__main__``),
    so the console script installed beside the interpreter, else its entry function."""
    script = Path(sys.executable).with_name("cfn-lint.exe" if os.name == "nt" else "cfn-lint")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())"]


def run_cfn_lint(*args: str, cwd: Path | None = None, stdin: str | None = None, home: Path | None = None):
    env = dict(os.environ)
    if home is not None:  # no ~/.cfnlintrc of the user running the tests
        env["HOME"] = str(home)
        env["USERPROFILE"] = str(home)
    return subprocess.run([*cfn_lint_command(), *args], cwd=cwd, input=stdin if stdin is not None else "",
                          capture_output=True, text=True, env=env, timeout=600, check=False)


def json_matches(completed) -> list[dict]:
    assert completed.stdout.strip(), f"no output (exit {completed.returncode}): {completed.stderr[-2000:]}"
    return json.loads(completed.stdout)


def ours(matches: list[dict]) -> list[tuple[str, int, int]]:
    """(rule, line, column) of this extension's matches."""
    return sorted((m["Rule"]["Id"], m["Location"]["Start"]["LineNumber"], m["Location"]["Start"]["ColumnNumber"])
                  for m in matches if re.fullmatch(r"[EWI]9\d{3}", m["Rule"]["Id"]))


def run_winportlint(*args: str, cwd: Path | None = None) -> dict:
    completed = subprocess.run([sys.executable, "-m", "winportlint.cli", "check", *args, "--format", "json"],
                               cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    # 1: findings, 2: input errors (the corpus has some); the report is written either way.
    assert completed.returncode in (0, 1, 2) and completed.stdout.strip(), completed.stderr
    return json.loads(completed.stdout)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def lint_text(tmp_path: Path, home: Path):
    """Write a template to t.yaml and run cfn-lint on it with the rules: (rule, line, column) of ours."""
    def run(text: str, *args: str, name: str = "t.yaml") -> list[tuple[str, int, int]]:
        (tmp_path / name).write_text(text)
        completed = run_cfn_lint("--format", "json", "--append-rules", MODULE, *args, "--", name,
                                 cwd=tmp_path, home=home)
        return ours(json_matches(completed))
    return run


# --- rule generation -------------------------------------------------------------------------


class FakeCheck:
    def __init__(self, id, severity, name="fake", enabled_by_default=True):
        self.id, self.severity, self.name, self.enabled_by_default = id, severity, name, enabled_by_default
        self.summary = f"{name} summary"
        self.docs_url = f"https://example.com/{id}"


@pytest.mark.parametrize(("check_id", "severity", "rule_id"), [
    ("WPL101", Severity.CRITICAL, "E9101"),
    ("WPL201", Severity.HIGH, "E9201"),
    ("ACME555", Severity.MEDIUM, "W9555"),
    ("WPL301", Severity.LOW, "W9301"),
    ("WPL401", Severity.INFO, "I9401"),
    ("WPL001", Severity.INFO, "I9001"),
    ("WPL901", Severity.HIGH, "E9901"),
    ("WPL901", "high", "E9901"),  # a third-party check may give a plain string
    ("WPL1001", Severity.HIGH, None),  # four digits: no E9xxx id
    ("101", Severity.HIGH, None),
    ("WPL10", Severity.HIGH, None),
    ("WPL101", "severe", None),
])
def test_rule_id_for(check_id, severity, rule_id):
    assert extension.rule_id_for(FakeCheck(check_id, severity)) == rule_id


def test_unusable_and_taken_ids_are_skipped_with_a_warning():
    classes, problems = extension.build_rule_classes([
        FakeCheck("WPL101", Severity.CRITICAL), FakeCheck("ACME101", Severity.LOW),
        FakeCheck("ACME1234", Severity.LOW), FakeCheck("ACME000", Severity.HIGH),
    ])
    assert sorted(cls.id for cls in classes.values()) == ["E9101", "W9000"]
    assert len(problems) == 3
    assert "ACME101" in problems[0] and "WPL101" in problems[0]
    assert "ACME1234" in problems[1]
    assert "ACME000" in problems[2] and "input errors" in problems[2]


def test_generated_class_carries_the_check_metadata():
    classes, _ = extension.build_rule_classes([FakeCheck("ACME777", Severity.MEDIUM, "acme-port", False)])
    rule = classes["WinportlintW9777"]()
    assert (rule.id, rule.shortdesc, rule.description, rule.source_url) == (
        "W9777", "acme-port", "acme-port summary", "https://example.com/ACME777")
    assert rule.tags == ["security", "windows", "winportlint"]
    assert rule.experimental and rule.severity == "warning"


def test_every_builtin_check_has_a_rule_and_nothing_else_is_loaded():
    """cfn-lint instantiates every rule class of the module namespace: ours only, one per check
    (a re-exported built-in cfn-lint rule would be loaded twice: DuplicateRuleError)."""
    checks = load_plugins().checks
    rules = cfnlint.helpers.create_rules(extension)
    ids = sorted(rule.id for rule in rules if rule.id)
    assert ids == sorted([extension.rule_id_for(check) for check in checks] + ["W9000"])
    assert all(type(rule).__module__ == MODULE for rule in rules)
    by_id = {rule.id: rule for rule in rules}
    for check in checks:
        rule = by_id[extension.rule_id_for(check)]
        assert (rule.shortdesc, rule.description, rule.source_url) == (check.name, check.summary, check.docs_url)
        assert rule.experimental == (not check.enabled_by_default)


def test_docs_table_matches_the_checks():
    """docs/cfn-lint.md lists every check's rule id, as generated."""
    text = (REPO / "docs" / "cfn-lint.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([EWI]9\d{3})` \| `?(WPL\d{3}|[^|`]+?)`? \|", text, flags=re.MULTILINE))
    expected = {extension.rule_id_for(check): check.id for check in load_plugins().checks}
    expected["W9000"] = "winportlint input errors"
    assert {rule: rows.get(rule) for rule in expected} == expected
    assert set(rows) == set(expected)


# --- cfn-lint's command line ----------------------------------------------------------------


def test_list_rules_shows_each_rule_with_its_docs(home):
    completed = run_cfn_lint("--list-rules", "--append-rules", MODULE, home=home)
    assert completed.returncode == 0, completed.stderr
    for check in load_plugins().checks:
        rule_id = extension.rule_id_for(check)
        assert re.search(rf"^{rule_id}: {re.escape(check.name)}\n{re.escape(check.summary)}.*\n"
                         rf"{re.escape(check.docs_url)}$", completed.stdout, flags=re.MULTILINE), rule_id
    assert "W9000: winportlint-input-error" in completed.stdout


def test_smb_netbios_lines_and_columns_match_winportlint(home):
    completed = run_cfn_lint("--format", "json", "--append-rules", MODULE, "--", str(SMB), home=home)
    matches = json_matches(completed)
    assert completed.returncode == 2  # cfn-lint: errors found
    assert ours(matches) == [("E9102", 11, 19), ("E9102", 15, 21), ("E9102", 19, 19)]
    report = run_winportlint(str(SMB))
    rule_ids = {check.id: extension.rule_id_for(check) for check in load_plugins().checks}
    assert ours(matches) == sorted((rule_ids[f["rule_id"]], f["line"], f["column"]) for f in report["findings"])
    assert [m["Message"] for m in matches if m["Rule"]["Id"] == "E9102"] == [f["message"] for f in report["findings"]]
    first = next(m for m in matches if m["Rule"]["Id"] == "E9102")
    assert first["Location"]["Path"] == ["Resources", "Smb", "Properties", "SecurityGroupIngress", 0, "CidrIp"]
    assert first["Location"]["End"] == {"LineNumber": 11, "ColumnNumber": 28}
    assert first["Level"] == "Error"
    assert first["Rule"]["Source"].endswith("#wpl102")


def test_standard_input_gets_the_same_positions(home):
    """From standard input winportlint reads cfn-lint's parsed template; positions come from cfn-lint."""
    completed = run_cfn_lint("--format", "json", "--append-rules", MODULE, stdin=SMB.read_text(), home=home)
    matches = json_matches(completed)
    assert ours(matches) == [("E9102", 11, 19), ("E9102", 15, 21), ("E9102", 19, 19)]
    assert {m["Filename"] for m in matches} == {None}


TEMPLATE_METADATA = "Metadata:\n  cfn-lint:\n    config:\n      ignore_checks: [{}]\n"
RESOURCE_METADATA = "    Metadata:\n      cfn-lint:\n        config:\n          ignore_checks: [{}]\n"
#: Templates checked in one cfn-lint run with default options (each run costs a second or two).
DEFAULT_RUN = {
    "plain.yaml": template(),
    "template-ignore.yaml": template(TEMPLATE_METADATA.format("E9102")),
    "template-ignore-prefix.yaml": template(TEMPLATE_METADATA.format("E91")),
    "resource-ignore.yaml": template(rdp_metadata=RESOURCE_METADATA.format("E9101")),
    "resource-ignore-other.yaml": template(rdp_metadata=RESOURCE_METADATA.format("E9102")),
    "resource-ignore-prefix.yaml": template(rdp_metadata=RESOURCE_METADATA.format("E91")),
    "winportlint-ignore.yaml": template(rdp_comment="  # winportlint: ignore[WPL101] bastion behind a VPN, SEC-42"),
    "input-error.yaml": template().replace("FromPort: 3389", "FromPort: 3390"),  # 3390-3389: no such range
    # Suppressions count only in comments, and name check ids or family prefixes (not W, which is all).
    "string-not-comment.json": json.dumps({"Resources": {"Rdp": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "# winportlint: ignore[WPL101] x", "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"}]}}}}, separators=(",", ":")),
    "flow-string.yaml": template().replace("CidrIp: '0.0.0.0/0'}", "CidrIp: '0.0.0.0/0', Description: \"x "
                                           "# winportlint: ignore[WPL102] y\"}"),
    "unknown-id.yaml": template(rdp_comment="  # winportlint: ignore[W] every check"),
}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> dict[str, list[tuple[str, int, int]]]:
    """(rule, line, column) of our matches in each DEFAULT_RUN template."""
    folder = tmp_path_factory.mktemp("default-run")
    home = folder / "home"
    home.mkdir()
    for name, text in DEFAULT_RUN.items():
        (folder / name).write_text(text)
    completed = run_cfn_lint("--format", "json", "--append-rules", MODULE, "--", *DEFAULT_RUN, cwd=folder, home=home)
    matches = json_matches(completed)
    return {name: ours([m for m in matches if m["Filename"] == name]) for name in DEFAULT_RUN}


def shifted(*findings, lines: int = 4):
    return [(rule, line + lines, column) for rule, line, column in findings]


def test_default_rules(default_run):
    """E and W rules run by default; the off-by-default W9302 and the I rules do not."""
    assert default_run["plain.yaml"] == [RDP, SMB_445]


SELECTIONS = [
    (["--ignore-checks", "E9101"], [SMB_445]),
    (["--ignore-checks", "E91"], []),  # a prefix
    (["--include-checks", "I"], [RDP, SMB_445, HTTPS]),
    # W9302 is off by default (winportlint: --select WPL302): named, or with --include-experimental.
    (["--include-checks", "W"], [RDP, SMB_445]),
    (["--include-checks", "W9302"], [RDP, SMB_445, ICMP]),
    (["--include-checks", "W93"], [RDP, SMB_445, ICMP]),
    (["--include-experimental"], [RDP, SMB_445, ICMP]),
    (["--include-checks", "W9302", "--ignore-checks", "W93"], [RDP, SMB_445]),
]


@pytest.mark.parametrize(("args", "expected"), SELECTIONS, ids=[" ".join(args) for args, _ in SELECTIONS])
def test_ignore_and_include_checks(lint_text, args, expected):
    assert lint_text(template(), *args) == expected


def test_allow_all_network_acl_entries_are_the_informational_i9602(lint_text):
    """WPL602 (info: the AWS default network ACL's allow-all entry) runs with -c I only; an entry
    that names a Windows port is E9601."""
    allow_all = (REPO / "tests" / "cases" / "WPL602" / "bad" / "allow-all.yaml").read_text()
    assert lint_text(allow_all) == []
    assert lint_text(allow_all, "--include-checks", "I") == [("I9602", 14, 18), ("I9602", 22, 22), ("I9602", 31, 18)]
    ephemeral = (REPO / "tests" / "cases" / "WPL601" / "bad" / "ephemeral-range.yaml").read_text()
    assert lint_text(ephemeral) == [("E9601", 14, 18)]


def test_template_metadata_ignore_checks(default_run):
    assert default_run["template-ignore.yaml"] == shifted(RDP)
    assert default_run["template-ignore-prefix.yaml"] == []  # the template's configuration takes prefixes


def test_resource_metadata_ignore_checks(default_run):
    """A resource's own ignore_checks applies to findings in it (exact ids only, a cfn-lint rule)."""
    assert default_run["resource-ignore.yaml"] == shifted(SMB_445)
    assert default_run["resource-ignore-other.yaml"] == shifted(RDP, SMB_445)
    assert default_run["resource-ignore-prefix.yaml"] == shifted(RDP, SMB_445)


def test_winportlint_suppressions_apply(default_run):
    assert default_run["winportlint-ignore.yaml"] == [SMB_445]


def test_an_expired_winportlint_exception_no_longer_applies(lint_text, monkeypatch):
    text = template(rdp_comment="  # winportlint: ignore[WPL101] until=2026-11-30 owner=platform bastion, SEC-42")
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-30")
    assert lint_text(text) == [SMB_445]
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-12-01")
    assert lint_text(text) == [RDP, SMB_445]


def test_suppressions_only_in_comments_and_of_check_ids(default_run):
    assert default_run["string-not-comment.json"] == [("E9101", 1, 205)]
    assert default_run["flow-string.yaml"] == [RDP, SMB_445]
    assert default_run["unknown-id.yaml"] == [RDP, SMB_445, ("W9000", 11, 19)]


def test_input_error_is_w9000(default_run):
    """What cfn-lint parses but winportlint cannot read is W9000, at the line winportlint names."""
    assert default_run["input-error.yaml"] == [SMB_445, ("W9000", 8, 9)]  # the rule, from its dash


def test_syntax_errors_are_cfn_lints_alone(tmp_path, home):
    (tmp_path / "t.yaml").write_text(template().replace("GroupDescription: fixture\n      Security",
                                                        "GroupDescription: [fixture\n      Security", 1))
    completed = run_cfn_lint("--format", "json", "--append-rules", MODULE, "--", "t.yaml", cwd=tmp_path, home=home)
    assert [m["Rule"]["Id"] for m in json_matches(completed)] == ["E0000"]


def test_sarif(tmp_path, home):
    pytest.importorskip("sarif_om", reason="needs cfn-lint[sarif]")
    (tmp_path / "t.yaml").write_text(template())
    completed = run_cfn_lint("--format", "sarif", "--append-rules", MODULE, "--", "t.yaml", cwd=tmp_path, home=home)
    log = json.loads(completed.stdout)
    run = log["runs"][0]
    results = sorted((r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
                      r["locations"][0]["physicalLocation"]["region"]["startColumn"], r.get("level", "warning"))
                     for r in run["results"] if r["ruleId"][1] == "9")
    assert results == [(*RDP, "error"), (*SMB_445, "error")]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["E9101"]["helpUri"].endswith("#wpl101")
    assert rules["E9101"]["shortDescription"]["text"] == "remote-desktop-open-to-world"


def test_cfnlintrc_append_rules(tmp_path, home):
    (tmp_path / "t.yaml").write_text(template())
    (tmp_path / ".cfnlintrc").write_text(f"append_rules:\n  - {MODULE}\n")
    completed = run_cfn_lint("--format", "json", "t.yaml", cwd=tmp_path, home=home)
    assert ours(json_matches(completed)) == [RDP, SMB_445]


@pytest.mark.parametrize("args", [
    ["--append-rules", MODULE, "--", "t.yaml"],
    [f"--append-rules={MODULE}", "t.yaml"],
    ["t.yaml", "-a", MODULE],
])
def test_spellings_that_keep_the_template(tmp_path, home, args):
    (tmp_path / "t.yaml").write_text(template())
    completed = run_cfn_lint("--format", "json", *args, cwd=tmp_path, home=home)
    assert ours(json_matches(completed)) == [RDP, SMB_445]


def test_append_rules_swallows_the_template_without_double_dash(tmp_path, home):
    """``-a`` takes several values: ``cfn-lint -a winportlint.cfn_lint t.yaml`` imports ``t.yaml`` as a module."""
    (tmp_path / "t.yaml").write_text(template())
    completed = run_cfn_lint("--format", "json", "-a", MODULE, "t.yaml", cwd=tmp_path, home=home)
    assert completed.returncode != 0
    assert "No module named 't'" in completed.stderr
    assert not completed.stdout.strip()


# --- inside cfn-lint -------------------------------------------------------------------------


def lint_in_process(path: Path, **config) -> list:
    """cfn-lint's matches for a template file, in this process (``cfnlint.api.lint_file`` of 1.5x)."""
    return list(Runner(ConfigMixIn(["--template", str(path)], **config)).run())


def test_winportlint_runs_once_per_template(monkeypatch, tmp_path):
    calls = []
    original = extension._run

    def counting(path, *args, **kwargs):
        calls.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(extension, "_run", counting)
    monkeypatch.setattr(extension, "_cache", type(extension._cache)())
    (tmp_path / "t.yaml").write_text(template())
    config = {"append_rules": [MODULE], "include_checks": ["I"], "include_experimental": True,
              "regions": ["us-east-1", "eu-west-1"]}
    matches = lint_in_process(tmp_path / "t.yaml", **config)
    assert sorted((m.rule.id, m.linenumber, m.columnnumber) for m in matches if m.rule.id[1] == "9") == \
        sorted([RDP, SMB_445, ICMP, HTTPS])
    assert calls == [str(tmp_path / "t.yaml")]
    lint_in_process(tmp_path / "t.yaml", **config)
    assert len(calls) == 1  # unchanged content: cached
    (tmp_path / "t.yaml").write_text(template() + "# changed\n")
    lint_in_process(tmp_path / "t.yaml", **config)
    assert len(calls) == 2  # new content: run again


def test_a_failing_check_is_a_cfn_lint_rule_error(monkeypatch, tmp_path):
    class Broken:
        id = "WPL101"

        def run(self, permissions, catalog):
            raise ValueError("boom")

    checks = [Broken() if check.id == "WPL101" else check for check in extension._engine["checks"]]
    monkeypatch.setitem(extension._engine, "checks", checks)
    monkeypatch.setattr(extension, "_cache", type(extension._cache)())
    (tmp_path / "t.yaml").write_text(template())
    matches = lint_in_process(tmp_path / "t.yaml", append_rules=[MODULE])
    rows = sorted((m.rule.id, m.message) for m in matches if m.rule.id in ("E0002", "E9101", "E9102"))
    assert [rule for rule, _ in rows] == ["E0002", "E9102"]
    assert "E9101" in rows[0][1] and "check WPL101 failed: ValueError: boom" in rows[0][1]


# --- the corpus ------------------------------------------------------------------------------


def _assert_parity(files: list[str], cwd, home, minimum: int) -> None:
    """cfn-lint with these rules reports exactly what ``winportlint check`` reports by default
    (checks on by default, severity low and above, as E/W rules), at the same places; and
    winportlint's input errors as W9000 at the same lines."""
    completed = run_cfn_lint("--format", "json", "--append-rules", MODULE, "--", *files, cwd=cwd, home=home)
    matches = json_matches(completed)
    unparsable = sorted({m["Filename"] for m in matches if m["Rule"]["Id"] == "E0000"})
    report = run_winportlint(*files, cwd=cwd)

    rule_ids = {check.id: extension.rule_id_for(check) for check in load_plugins().checks}
    got = {(m["Filename"], m["Location"]["Path"][1], m["Location"]["Start"]["LineNumber"],
            m["Location"]["Start"]["ColumnNumber"], m["Rule"]["Id"])
           for m in matches if m["Rule"]["Id"] in rule_ids.values()}
    expected = {(f["file"], f["resource"], f["line"], f["column"], rule_ids[f["rule_id"]])
                for f in report["findings"]
                if rule_ids[f["rule_id"]][0] in "EW" and Severity(f["severity"]).rank >= Severity.LOW.rank
                and f["file"] not in unparsable}
    note = f"excluded, cfn-lint cannot parse them (E0000): {unparsable}"
    assert sorted(got - expected) == [], note
    assert sorted(expected - got) == [], note
    assert len(got) >= minimum, note

    got_errors = {(m["Filename"], m["Location"]["Start"]["LineNumber"]) for m in matches
                  if m["Rule"]["Id"] == "W9000"}
    expected_errors = {(e["file"], e["line"]) for e in report["errors"] if e["file"] not in unparsable}
    assert got_errors == expected_errors, note


@pytest.mark.skipif(not (CORPUS / "labels.jsonl").is_file(), reason=f"the shared corpus is absent ({CORPUS})")
def test_corpus_parity(home):
    labels = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text().splitlines() if line.strip()]
    files = [row["file"] for row in labels if row["format"] == "cloudformation"]
    assert files
    _assert_parity(files, CORPUS, home, minimum=21)


def test_case_fixture_parity(home):
    """The same on the project's CloudFormation case fixtures (conditions, mappings, loops ...)."""
    cases = Path(__file__).parent / "cases"
    files = sorted(str(path.relative_to(cases)) for path in cases.glob("*/*/*")
                   if path.suffix in (".yaml", ".json", ".template") and not path.name.endswith(".expected.json")
                   and b"AWS::" in path.read_bytes() and not path.name.startswith("serverless"))
    assert len(files) > 20
    _assert_parity(files, cases, home, minimum=20)
