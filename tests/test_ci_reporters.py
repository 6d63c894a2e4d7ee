"""The CI reporters (github, junit, gitlab, markdown): exact output from hand-built reports."""

from __future__ import annotations

import ast
import importlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from winportlint.checks import ExposureCheck
from winportlint.model import (
    Finding,
    InputError,
    PortRange,
    Severity,
    fingerprint,
)
from conftest import make_finding, make_permission
from winportlint.plugins.reporters.github import GithubReporter, escape_data, escape_property
from winportlint.plugins.reporters.gitlab import GitlabReporter
from winportlint.plugins.reporters.junit import JunitReporter
from winportlint.plugins.reporters.markdown import MarkdownReporter
from winportlint.plugins.reporters.text import summary
from winportlint.report import Report

RDP = ExposureCheck(
    id="WPL101",
    name="remote-desktop-open-to-world",
    summary="Remote Desktop is open to the whole internet",
    severity=Severity.CRITICAL,
    exposure_class="remote-desktop",
    explanation="RDP is brute-forced within **minutes**.",
)

#: A message with every character that needs care somewhere: | % : , CR LF.
TRICKY = "100% open | see: a, b\r\nnext line"
TRICKY_ERROR = "bad | value: 100%\nat line 7"


permission = make_permission
finding = make_finding


def make_report(findings=(), errors=(), **kwargs) -> Report:
    return Report(findings=sorted(findings, key=Finding.sort_key), errors=list(errors), checks=[RDP],
                  files_checked=kwargs.pop("files_checked", 3), **kwargs)


@pytest.fixture()
def report() -> Report:
    return make_report(
        findings=[
            finding("WPL101", Severity.CRITICAL, "3389/tcp open from 0.0.0.0/0 on WebSG",
                    permission("templates/web.yaml", 12, 19, "WebSG", "tcp", PortRange(3389, 3389), "0.0.0.0/0")),
            finding("WPL101", Severity.CRITICAL, "3389/tcp open from ::/0 on WebSG",
                    permission("templates/web.yaml", 14, 19, "WebSG", "tcp", PortRange(3389, 3389), "::/0")),
            finding("WPL003", Severity.MEDIUM, TRICKY,
                    permission("odd dir/a,b:c.yaml", 3, 7, "Odd|SG", "tcp", PortRange(445, 445), "0.0.0.0/0")),
            # line and column 0: unknown
            finding("WPL901", Severity.INFO, "all traffic open from ::/0 on AllSG",
                    permission("z.yaml", 0, 0, "AllSG", "all", None, "::/0")),
        ],
        errors=[InputError("broken dir/bad.yaml", 7, TRICKY_ERROR), InputError("empty.yaml", 0, "file is empty")],
    )


@pytest.fixture()
def clean() -> Report:
    return make_report(files_checked=2)


@pytest.fixture()
def only_errors() -> Report:
    return make_report(errors=[InputError("a.yaml", 3, "mapping values are not allowed here"),
                               InputError("b.json", 0, "not JSON")], files_checked=2)


SUMMARY = "4 findings (2 critical, 1 medium, 1 info) in 3 files; 2 input errors"
REPORTERS = [GithubReporter, JunitReporter, GitlabReporter, MarkdownReporter]


def test_summary_is_the_text_reporters(report: Report) -> None:
    assert summary(report) == SUMMARY


# --- common ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", REPORTERS)
def test_names(cls) -> None:
    assert {GithubReporter: "github", JunitReporter: "junit", GitlabReporter: "gitlab",
            MarkdownReporter: "markdown"}[cls] == cls.name == cls().name


@pytest.mark.parametrize("cls", REPORTERS)
@pytest.mark.parametrize("fixture", ["report", "clean", "only_errors"])
def test_deterministic_with_trailing_newline(cls, fixture, request) -> None:
    report = request.getfixturevalue(fixture)
    first = cls().render(report)
    assert first.endswith("\n") and not first.endswith("\n\n")
    assert cls().render(report) == first


@pytest.mark.parametrize("module", ["github", "junit", "gitlab", "markdown"])
def test_module_imports_nothing_at_import_time(module: str) -> None:
    """Plugin modules must be cheap to import: only ``__future__`` at the top level."""
    mod = importlib.import_module(f"winportlint.plugins.reporters.{module}")
    tree = ast.parse(Path(mod.__file__).read_text(encoding="utf-8"))
    top_level = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [getattr(node, "module", None) for node in top_level] == ["__future__"]


# --- github ------------------------------------------------------------------------------------------------

def test_github_exact(report: Report) -> None:
    assert GithubReporter().render(report) == (
        "::warning file=odd dir/a%2Cb%3Ac.yaml,line=3,col=7,title=WPL003 medium::"
        "100%25 open | see: a, b%0D%0Anext line\n"
        "::error file=templates/web.yaml,line=12,col=19,title=WPL101 critical::3389/tcp open from 0.0.0.0/0 on WebSG\n"
        "::error file=templates/web.yaml,line=14,col=19,title=WPL101 critical::3389/tcp open from ::/0 on WebSG\n"
        "::notice file=z.yaml,title=WPL901 info::all traffic open from ::/0 on AllSG\n"
        "::error file=broken dir/bad.yaml,line=7::bad | value: 100%25%0Aat line 7\n"
        "::error file=empty.yaml::file is empty\n"
        f"{SUMMARY}\n"
    )


def test_github_every_command_is_one_line(report: Report) -> None:
    lines = GithubReporter().render(report).splitlines()
    assert len(lines) == len(report.findings) + len(report.errors) + 1
    assert all(line.startswith("::") for line in lines[:-1])
    assert not lines[-1].startswith("::")


def test_github_escaping() -> None:
    assert escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    # %25 first, so that an escape sequence in the input is not decoded by GitHub
    assert escape_data("%0A") == "%250A"


def test_github_commands_per_severity() -> None:
    perm = permission("a.yaml", 1, 2, "SG", "tcp", PortRange(445, 445), "0.0.0.0/0")
    commands = {}
    for severity in Severity:
        out = GithubReporter().render(make_report([finding("WPL003", severity, "m", perm)]))
        commands[severity.value] = out.split(" ", 1)[0]
    assert commands == {"critical": "::error", "high": "::error", "medium": "::warning", "low": "::warning",
                        "info": "::notice"}


def test_github_clean(clean: Report) -> None:
    assert GithubReporter().render(clean) == "0 findings in 2 files\n"


def test_github_only_errors(only_errors: Report) -> None:
    assert GithubReporter().render(only_errors) == (
        "::error file=a.yaml,line=3::mapping values are not allowed here\n"
        "::error file=b.json::not JSON\n"
        "0 findings in 2 files; 2 input errors\n"
    )


def test_github_plugin_warnings_and_hidden() -> None:
    report = make_report(warnings=["plugin 'x' failed: a, b\nc"], hidden=2, threshold=Severity.HIGH,
                         files_checked=1)
    assert GithubReporter().render(report) == (
        "::warning title=winportlint::plugin 'x' failed: a, b%0Ac\n"
        "0 findings in 1 file; 2 below --severity high\n"
    )


# --- junit -------------------------------------------------------------------------------------------------

def check_junit_shape(text: str) -> ET.Element:
    """The documented JUnit shape (Jenkins junit-10.xsd, as GitLab and Azure read it), asserted by hand:
    one testsuites with one testsuite whose counts match its testcases; each testcase with a classname,
    a name unique in its class, and at most one failure or error with type and message."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert list(root.attrib) == ["name", "tests", "failures", "errors"]
    assert len(root) == 1
    suite = root[0]
    assert suite.tag == "testsuite"
    assert list(suite.attrib) == ["name", "tests", "failures", "errors"]
    assert suite.get("name") == root.get("name") == "winportlint"
    cases = list(suite)
    assert cases and all(case.tag == "testcase" for case in cases)
    failures = errors = 0
    for case in cases:
        assert list(case.attrib) == ["classname", "name"]
        assert len(case) <= 1
        for child in case:
            assert child.tag in ("failure", "error")
            assert list(child.attrib) == ["type", "message"]
            failures += child.tag == "failure"
            errors += child.tag == "error"
    keys = [(case.get("classname"), case.get("name")) for case in cases]
    assert len(set(keys)) == len(keys), keys
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(failures)
        assert element.get("errors") == str(errors)
    return suite


def test_junit_findings_and_errors(report: Report) -> None:
    text = JunitReporter().render(report)
    suite = check_junit_shape(text)
    rows = [(case.get("classname"), case.get("name"), case[0].tag, case[0].get("type"), case[0].get("message"),
             case[0].text) for case in suite]
    assert rows == [
        ("odd dir/a,b:c.yaml", "WPL003 Odd|SG 445/tcp", "failure", "WPL003", TRICKY,
         "odd dir/a,b:c.yaml:3:7: WPL003 medium 100% open | see: a, b\nnext line"),
        # same rule, resource and ports: the peer tells them apart
        ("templates/web.yaml", "WPL101 WebSG 3389/tcp 0.0.0.0/0", "failure", "WPL101",
         "3389/tcp open from 0.0.0.0/0 on WebSG",
         "templates/web.yaml:12:19: WPL101 critical 3389/tcp open from 0.0.0.0/0 on WebSG"),
        ("templates/web.yaml", "WPL101 WebSG 3389/tcp ::/0", "failure", "WPL101", "3389/tcp open from ::/0 on WebSG",
         "templates/web.yaml:14:19: WPL101 critical 3389/tcp open from ::/0 on WebSG"),
        ("z.yaml", "WPL901 AllSG all traffic", "failure", "WPL901", "all traffic open from ::/0 on AllSG",
         "z.yaml:0:0: WPL901 info all traffic open from ::/0 on AllSG"),
        ("broken dir/bad.yaml", "input error line 7", "error", "input-error", TRICKY_ERROR,
         f"broken dir/bad.yaml:7: error: {TRICKY_ERROR}"),
        ("empty.yaml", "input error", "error", "input-error", "file is empty", "empty.yaml: error: file is empty"),
    ]
    assert suite.attrib == {"name": "winportlint", "tests": "6", "failures": "4", "errors": "2"}
    # the CR LF of the message survives in the attribute, as character references
    assert 'message="100% open | see: a, b&#13;&#10;next line"' in text


def test_junit_clean_is_one_passing_testcase(clean: Report) -> None:
    assert JunitReporter().render(clean) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="winportlint" tests="1" failures="0" errors="0">\n'
        '  <testsuite name="winportlint" tests="1" failures="0" errors="0">\n'
        '    <testcase classname="winportlint" name="winportlint" />\n'
        '  </testsuite>\n'
        '</testsuites>\n'
    )
    check_junit_shape(JunitReporter().render(clean))


def test_junit_only_errors(only_errors: Report) -> None:
    assert JunitReporter().render(only_errors) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="winportlint" tests="2" failures="0" errors="2">\n'
        '  <testsuite name="winportlint" tests="2" failures="0" errors="2">\n'
        '    <testcase classname="a.yaml" name="input error line 3">\n'
        '      <error type="input-error" message="mapping values are not allowed here">'
        'a.yaml:3: error: mapping values are not allowed here</error>\n'
        '    </testcase>\n'
        '    <testcase classname="b.json" name="input error">\n'
        '      <error type="input-error" message="not JSON">b.json: error: not JSON</error>\n'
        '    </testcase>\n'
        '  </testsuite>\n'
        '</testsuites>\n'
    )
    check_junit_shape(JunitReporter().render(only_errors))


def test_junit_duplicate_names_are_numbered() -> None:
    """Two forms of one rule (a condition's branches) with the same peer: ``#2``."""
    perms = [permission("a.yaml", line, 5, "SG", "tcp", PortRange(3389, 3389), "0.0.0.0/0") for line in (4, 9)]
    report = make_report([finding("WPL101", Severity.HIGH, "m", p) for p in perms])
    suite = check_junit_shape(JunitReporter().render(report))
    assert [case.get("name") for case in suite] == ["WPL101 SG 3389/tcp 0.0.0.0/0", "WPL101 SG 3389/tcp 0.0.0.0/0 #2"]


def test_junit_control_characters_keep_the_xml_valid() -> None:
    perm = permission("a.yaml", 1, 1, "S\x01G", "tcp", PortRange(445, 445), "0.0.0.0/0")
    report = make_report([finding("WPL003", Severity.HIGH, "bad\x00\x1b byte", perm)])
    suite = check_junit_shape(JunitReporter().render(report))
    assert suite[0].get("name") == "WPL003 S\\x01G 445/tcp"  # a resource name is escaped, as in text output
    assert suite[0][0].get("message") == "bad\ufffd\ufffd byte"


def test_junit_read_by_junitparser(report: Report, clean: Report, only_errors: Report) -> None:
    """A JUnit consumer library reads the same results."""
    junitparser = pytest.importorskip("junitparser")

    def results(r: Report):
        xml = junitparser.JUnitXml.fromstring(JunitReporter().render(r))
        (suite,) = list(xml)
        cases = [(c.classname, c.name, [(type(x).__name__, x.type, x.message) for x in c.result]) for c in suite]
        return (suite.name, suite.tests, suite.failures, suite.errors), cases

    counts, cases = results(report)
    assert counts == ("winportlint", 6, 4, 2)
    assert cases[0] == ("odd dir/a,b:c.yaml", "WPL003 Odd|SG 445/tcp", [("Failure", "WPL003", TRICKY)])
    assert cases[4] == ("broken dir/bad.yaml", "input error line 7", [("Error", "input-error", TRICKY_ERROR)])
    assert results(clean) == (("winportlint", 1, 0, 0), [("winportlint", "winportlint", [])])
    assert results(only_errors)[0] == ("winportlint", 2, 0, 2)


# --- gitlab ------------------------------------------------------------------------------------------------

GITLAB_SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def check_gitlab(text: str) -> list[dict]:
    """GitLab's documented Code Quality fields: all required ones, severity in the allowed set,
    fingerprints unique."""
    issues = json.loads(text)
    assert isinstance(issues, list)
    for issue in issues:
        assert isinstance(issue["description"], str) and issue["description"]
        assert isinstance(issue["check_name"], str) and issue["check_name"]
        assert isinstance(issue["fingerprint"], str) and issue["fingerprint"]
        assert issue["severity"] in GITLAB_SEVERITIES
        assert isinstance(issue["location"]["path"], str) and issue["location"]["path"]
        begin = issue["location"]["lines"]["begin"]
        assert isinstance(begin, int) and begin >= 1
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    return issues


def test_gitlab_exact(report: Report) -> None:
    text = GitlabReporter().render(report)
    issues = check_gitlab(text)
    f = report.findings

    def issue(description, check, fp, severity, path, line):
        return {"description": description, "check_name": check, "fingerprint": fp, "severity": severity,
                "location": {"path": path, "lines": {"begin": line}}}

    assert issues[:4] == [
        issue(TRICKY, "WPL003", f[0].fingerprint, "minor", "odd dir/a,b:c.yaml", 3),
        issue("3389/tcp open from 0.0.0.0/0 on WebSG", "WPL101", f[1].fingerprint, "critical",
              "templates/web.yaml", 12),
        issue("3389/tcp open from ::/0 on WebSG", "WPL101", f[2].fingerprint, "critical", "templates/web.yaml", 14),
        issue("all traffic open from ::/0 on AllSG", "WPL901", f[3].fingerprint, "info", "z.yaml", 1),  # line 0 -> 1
    ]
    assert [{k: v for k, v in i.items() if k != "fingerprint"} for i in issues[4:]] == [
        {"description": TRICKY_ERROR, "check_name": "input-error", "severity": "blocker",
         "location": {"path": "broken dir/bad.yaml", "lines": {"begin": 7}}},
        {"description": "file is empty", "check_name": "input-error", "severity": "blocker",
         "location": {"path": "empty.yaml", "lines": {"begin": 1}}},
    ]
    assert all(re.fullmatch("[0-9a-f]{32}", i["fingerprint"]) for i in issues)
    assert list(issues[0]) == ["description", "check_name", "fingerprint", "severity", "location"]
    assert text.startswith('[\n  {\n    "description": "100% open | see: a, b\\r\\nnext line",\n')


def test_gitlab_severities() -> None:
    perm = permission("a.yaml", 1, 2, "SG", "tcp", PortRange(445, 445), "0.0.0.0/0")
    mapped = {}
    for severity in Severity:
        (issue,) = check_gitlab(GitlabReporter().render(make_report([finding("WPL003", severity, "m", perm)])))
        mapped[severity.value] = issue["severity"]
    assert mapped == {"critical": "critical", "high": "major", "medium": "minor", "low": "minor", "info": "info"}


def test_gitlab_shared_fingerprints_get_a_stable_suffix() -> None:
    perm = permission("a.yaml", 1, 2, "SG", "tcp", PortRange(445, 445), "0.0.0.0/0")
    other = permission("a.yaml", 5, 2, "SG", "tcp", PortRange(445, 445), "0.0.0.0/0")  # same what, other line
    findings = [finding("WPL003", Severity.HIGH, "m", perm), finding("WPL003", Severity.HIGH, "m", other),
                finding("WPL003", Severity.HIGH, "m", other)]
    assert len({f.fingerprint for f in findings}) == 1
    issues = check_gitlab(GitlabReporter().render(make_report(findings)))
    base = findings[0].fingerprint
    assert [i["fingerprint"] for i in issues] == [base, f"{base}-2", f"{base}-3"]
    # the same two errors twice: unique too, and stable from run to run
    errors = [InputError("a.yaml", 1, "x"), InputError("a.yaml", 1, "x")]
    first = check_gitlab(GitlabReporter().render(make_report(errors=errors)))
    assert first[1]["fingerprint"] == first[0]["fingerprint"] + "-2"
    assert check_gitlab(GitlabReporter().render(make_report(errors=errors))) == first


def test_gitlab_missing_fingerprint_is_computed() -> None:
    perm = permission("a.yaml", 1, 2, "SG", "tcp", PortRange(445, 445), "0.0.0.0/0")
    (issue,) = check_gitlab(GitlabReporter().render(make_report([Finding("WPL003", Severity.HIGH, "m", perm)])))
    assert issue["fingerprint"] == fingerprint("WPL003", perm)


def test_gitlab_clean(clean: Report) -> None:
    assert GitlabReporter().render(clean) == "[]\n"


def test_gitlab_only_errors(only_errors: Report) -> None:
    issues = check_gitlab(GitlabReporter().render(only_errors))
    assert [(i["check_name"], i["severity"], i["description"], i["location"]) for i in issues] == [
        ("input-error", "blocker", "mapping values are not allowed here", {"path": "a.yaml", "lines": {"begin": 3}}),
        ("input-error", "blocker", "not JSON", {"path": "b.json", "lines": {"begin": 1}}),
    ]


# --- markdown ----------------------------------------------------------------------------------------------

MARKDOWN_HEADER = (
    "| Severity | Rule | Resource | Ports | Source | Message | Location |\n"
    "| --- | --- | --- | --- | --- | --- | --- |\n"
)


def test_markdown_exact(report: Report) -> None:
    assert MarkdownReporter().render(report) == (
        "## winportlint\n"
        "\n"
        f"{SUMMARY}\n"
        "\n"
        f"{MARKDOWN_HEADER}"
        "| medium | WPL003 | Odd\\|SG | 445/tcp | 0.0.0.0/0 | 100% open \\| see: a, b next line "
        "| odd dir/a,b:c.yaml:3:7 |\n"
        "| critical | WPL101 | WebSG | 3389/tcp | 0.0.0.0/0 | 3389/tcp open from 0.0.0.0/0 on WebSG "
        "| templates/web.yaml:12:19 |\n"
        "| critical | WPL101 | WebSG | 3389/tcp | ::/0 | 3389/tcp open from ::/0 on WebSG | templates/web.yaml:14:19 |\n"
        "| info | WPL901 | AllSG | all traffic | ::/0 | all traffic open from ::/0 on AllSG | z.yaml:0:0 |\n"
        "\n"
        "### Input errors\n"
        "\n"
        "- broken dir/bad.yaml:7: bad \\| value: 100% at line 7\n"
        "- empty.yaml: file is empty\n"
    )


def test_markdown_table_rows_have_seven_cells(report: Report) -> None:
    rows = [line for line in MarkdownReporter().render(report).splitlines() if line.startswith("|")]
    for row in rows:
        # split on pipes that are not escaped
        assert len(re.split(r"(?<!\\)\|", row)) == 9, row


def test_markdown_clean(clean: Report) -> None:
    assert MarkdownReporter().render(clean) == "## winportlint\n\n0 findings in 2 files\n\nNo findings.\n"


def test_markdown_only_errors(only_errors: Report) -> None:
    assert MarkdownReporter().render(only_errors) == (
        "## winportlint\n"
        "\n"
        "0 findings in 2 files; 2 input errors\n"
        "\n"
        "No findings.\n"
        "\n"
        "### Input errors\n"
        "\n"
        "- a.yaml:3: mapping values are not allowed here\n"
        "- b.json: not JSON\n"
    )


def test_markdown_escapes_markup() -> None:
    perm = permission("- dir/a_b.yaml", 2, 3, "aws_security_group.web[\"x\"]", "tcp", PortRange(22, 22),
                      "0.0.0.0/0")
    report = make_report([finding("WPL003", Severity.HIGH, "m", perm)],
                         errors=[InputError("- dir/a_b.yaml", 0, "<b>*bold*</b> `code` [link](x) #1 &amp;")],
                         files_checked=1)
    lines = MarkdownReporter().render(report).splitlines()
    assert lines[6] == ('| high | WPL003 | aws\\_security\\_group.web\\["x"\\] | 22/tcp | 0.0.0.0/0 | m '
                        '| - dir/a\\_b.yaml:2:3 |')
    # a leading "- " would open a nested list
    assert lines[-1] == "- \\- dir/a\\_b.yaml: \\<b\\>\\*bold\\*\\</b\\> \\`code\\` \\[link\\](x) \\#1 \\&amp;"


@pytest.mark.parametrize(("count", "more"),
                         [(100, None), (101, "…and 1 more finding."), (105, "…and 5 more findings.")])
def test_markdown_caps_rows_at_100(count: int, more: str | None) -> None:
    findings = [finding("WPL101", Severity.CRITICAL, "m",
                        permission("a.yaml", line, 1, "SG", "tcp", PortRange(3389, 3389), "0.0.0.0/0"))
                for line in range(1, count + 1)]
    lines = MarkdownReporter().render(make_report(findings, files_checked=1)).splitlines()
    rows = [line for line in lines if line.startswith("| critical |")]
    assert len(rows) == 100
    assert rows[-1].endswith("| a.yaml:100:1 |")
    if more is None:
        assert lines[-1] == rows[-1]
    else:
        assert lines[-2:] == ["", more]


def test_summary_counts_suppressed_and_baselined(clean: Report) -> None:
    """The CI reporters end with the text reporter's summary, whatever it counts."""
    clean.suppressed = [object()]
    clean.baselined = 2
    assert GithubReporter().render(clean).splitlines()[-1] == "0 findings in 2 files; 1 suppressed; 2 in the baseline"
    assert MarkdownReporter().render(clean).splitlines()[2] == "0 findings in 2 files; 1 suppressed; 2 in the baseline"
