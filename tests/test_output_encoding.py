"""Every report reaches the console whole, whatever its encoding and whatever a file is named (issue #14).

A console that cannot encode a character of a file name (``PYTHONIOENCODING=ascii``,
a Windows console in cp1252) used to lose the whole report to an internal error,
and the text format printed the control characters of file names (a terminal
escape sequence, a new line that forges a finding) as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import pytest

from winportlint.excerpt import printable

pytestmark = pytest.mark.skipif(os.name == "nt", reason="file names with control characters are POSIX only")

FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit", "markdown", "rdjson")
ENCODINGS = ("ascii", "cp1252")
#: Latin (cp1252 has it), CJK (it has not), a screen-clearing escape, CR, LF, a right-to-left override.
TEMPLATE = "r\u00e9seau \u7aef\x1b[2J\n\r\u202e.yaml"
BROKEN = "broken \x1b\u00e9.yaml"
RDP = """Resources:
  "Rdp\\e[31m\\nX":
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: rdp
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}
"""
MESSAGE = ("3389/tcp open from 0.0.0.0/0 (the whole internet) on Rdp\\x1b[31m\\nX: "
           "3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)")
SUMMARY = "1 finding (1 critical) in 2 files; 1 input error"
HINT = "see: winportlint explain WPL101"
ERROR = "invalid YAML: did not find expected node content"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / TEMPLATE).write_text(RDP, encoding="utf-8")
    (tmp_path / BROKEN).write_text("Resources:\n  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties: {A: [\n",
                                   encoding="utf-8")
    return tmp_path


def console(text: str, encoding: str) -> str:
    """``text`` as a console in ``encoding`` shows it: what it cannot encode as an escape."""
    return text.encode(encoding, "backslashreplace").decode(encoding)


def winportlint(folder: Path, encoding: str, *argv: str) -> tuple[int, bytes, str]:
    """Run the command in a fresh interpreter whose standard streams use ``encoding``."""
    code = "import sys\nfrom winportlint.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    env = {**os.environ, "PYTHONIOENCODING": encoding, "WINPORTLINT_CACHE_DIR": str(folder / ".cache")}
    done = subprocess.run([sys.executable, "-c", code, "check", *argv, "."], cwd=folder, env=env,
                          capture_output=True, timeout=120)
    return done.returncode, done.stdout, done.stderr.decode(encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_text_escapes_control_characters_and_what_the_console_cannot_encode(folder, encoding):
    code, out, err = winportlint(folder, encoding)
    shown, broken = console(printable(TEMPLATE), encoding), console(printable(BROKEN), encoding)
    assert (code, err) == (2, "")
    assert out.decode(encoding).splitlines() == [f"{shown}:7:67: WPL101 critical {MESSAGE}",
                                                 f"{broken}:5: error: {ERROR}", SUMMARY, HINT]
    if encoding == "ascii":
        assert out.decode("ascii").startswith("r\\xe9seau \\u7aef\\x1b[2J\\n\\r\\u202e.yaml:7:67: WPL101 ")
    else:
        assert out.decode("cp1252").startswith("r\u00e9seau \\u7aef\\x1b[2J\\n\\r\\u202e.yaml:7:67: WPL101 ")


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_prints_the_whole_report(folder, encoding, fmt):
    code, out, err = winportlint(folder, encoding, "--format", fmt)
    assert (code, err) == (2, "")
    text = out.decode(encoding)
    assert not [char for char in text if not char.isprintable() and char != "\n"]  # no raw control character
    if fmt == "json":
        document = json.loads(text)
        assert [(f["file"], f["message"]) for f in document["findings"]] == [(TEMPLATE, MESSAGE)]
        assert [(e["file"], e["message"]) for e in document["errors"]] == [(BROKEN, ERROR)]
    elif fmt == "sarif":
        run = json.loads(text)["runs"][0]
        location = run["results"][0]["locations"][0]["physicalLocation"]
        assert unquote(location["artifactLocation"]["uri"]) == TEMPLATE
        assert run["results"][0]["message"]["text"] == MESSAGE
    elif fmt == "gitlab":
        assert [(i["location"]["path"], i["description"]) for i in json.loads(text)] == [(TEMPLATE, MESSAGE),
                                                                                         (BROKEN, ERROR)]
    elif fmt == "rdjson":
        assert [(d["location"]["path"], d["message"]) for d in json.loads(text)["diagnostics"]] == [
            (TEMPLATE, MESSAGE), (BROKEN, ERROR)]
    elif fmt == "junit":
        cases = ET.fromstring(text.encode(encoding))[0]
        assert [case.get("classname") for case in cases] == [printable(TEMPLATE), printable(BROKEN)]
        assert cases[0][0].text == f"{printable(TEMPLATE)}:7:67: WPL101 critical {MESSAGE}"
    elif fmt == "github":
        assert text.splitlines() == [
            f"::error file={console(printable(TEMPLATE), encoding)},line=7,col=67,title=WPL101 critical::{MESSAGE}",
            f"::error file={console(printable(BROKEN), encoding)},line=5::{ERROR}", SUMMARY]
    elif fmt == "markdown":  # line breaks are spaces in a table cell
        assert text.splitlines()[6:] == [
            "| critical | WPL101 | Rdp\\\\x1b\\[31m X | 3389/tcp | 0.0.0.0/0 | 3389/tcp open from 0.0.0.0/0 (the whole "
            "internet) on Rdp\\\\x1b\\[31m\\\\nX: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs) | "
            + console("r\u00e9seau \u7aef\\\\x1b\\[2J  \\\\u202e.yaml:7:67 |", encoding),
            "", "### Input errors", "",
            console(f"- broken \\\\x1b\u00e9.yaml:5: {ERROR}", encoding)]
    else:
        assert text.splitlines() == [f"{console(printable(TEMPLATE), encoding)}:7:67: WPL101 critical {MESSAGE}",
                                     f"{console(printable(BROKEN), encoding)}:5: error: {ERROR}", SUMMARY, HINT]


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_an_output_file_is_utf8_with_the_real_or_escaped_name(folder, fmt):
    code, out, err = winportlint(folder, "ascii", "--output", "report.out", "--output-format", fmt)
    assert (code, err) == (2, "")
    assert out.decode("ascii").splitlines()[-2:] == [SUMMARY, HINT]  # the console keeps the text format
    written = (folder / "report.out").read_text(encoding="utf-8")
    if fmt == "json":
        assert json.loads(written)["findings"][0]["file"] == TEMPLATE
    else:
        assert written.splitlines()[0] == f"{printable(TEMPLATE)}:7:67: WPL101 critical {MESSAGE}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_name_that_is_not_utf8_loses_no_finding(tmp_path, fmt):
    """The name's byte 0xff reaches Python as the lone surrogate U+DCFF: fingerprints, SARIF
    URIs and every output hash or write it (it used to fail the check, or the whole run)."""
    (tmp_path / os.fsdecode(b"bad\xff name.yaml")).write_text(RDP, encoding="utf-8")
    code, out, err = winportlint(tmp_path, "ascii", "--format", fmt, "--output", "report.md",
                                 "--output-format", "markdown")
    assert (code, err) == (1, "")
    text = out.decode("ascii")
    if fmt == "json":
        assert json.loads(text)["findings"][0]["file"] == "bad\udcff name.yaml"
    elif fmt == "sarif":
        result = json.loads(text)["runs"][0]["results"][0]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad%FF%20name.yaml"
    elif fmt == "gitlab":
        assert json.loads(text)[0]["location"]["path"] == "bad\udcff name.yaml"
    elif fmt == "rdjson":
        assert json.loads(text)["diagnostics"][0]["location"]["path"] == "bad\udcff name.yaml"
    elif fmt == "markdown":
        assert "| bad\\\\udcff name.yaml:7:67 |" in text
    else:
        assert "bad\\udcff name.yaml" in text and "WPL101" in text
    assert "| bad\\\\udcff name.yaml:7:67 |" in (tmp_path / "report.md").read_text(encoding="utf-8")
