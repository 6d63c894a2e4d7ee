"""Configuration and baseline files of any shape: a one-line error naming the file, never an
internal error; allow entries' file globs relative to the configuration's folder; many
exclude patterns compiled once (issue #14)."""

from __future__ import annotations

import fnmatch
import json
import random
from pathlib import Path

import pytest

from winportlint import config as configuration
from winportlint.cli import main

SMB = (Path(__file__).parent / "cases" / "WPL102" / "bad" / "smb-netbios.yaml").read_text()


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("text", "error"), [
    ('tool = "winportlint"\n', "pyproject.toml: tool must be a table (write [tool.winportlint]), not a string"),
    ("tool = 5\n", "pyproject.toml: tool must be a table (write [tool.winportlint]), not an integer"),
    ("[tool]\nwinportlint = true\n",
     "pyproject.toml: tool.winportlint must be a table (write [tool.winportlint]), not a boolean"),
    ("[tool]\nwinportlint = [1]\n",
     "pyproject.toml: tool.winportlint must be a table (write [tool.winportlint]), not an array"),
    ("[tool.winportlint]\nos = " + "[" * 1000 + "]" * 1000 + "\n",
     "pyproject.toml: invalid TOML: arrays or tables nested too deep"),
    ("[tool.winportlint]\nx = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n",
     "pyproject.toml: invalid TOML: arrays or tables nested too deep"),
    ("[tool.winportlint]\nselect = 5\n", "pyproject.toml [tool.winportlint]: select must be a list, not an integer"),
    ("[tool.winportlint]\nselect = [5]\n", "pyproject.toml [tool.winportlint]: select must be a list of strings"),
    ("[tool.winportlint]\nignore = {a = 1}\n", "pyproject.toml [tool.winportlint]: ignore must be a list, not a table"),
    ("[tool.winportlint]\nseverity = 5\n",
     "pyproject.toml [tool.winportlint]: severity must be one of info, low, medium, high, critical, not 5"),
    ("[tool.winportlint]\ncatalog = true\n", "pyproject.toml [tool.winportlint]: catalog must be a list, not a boolean"),
    ("[tool.winportlint]\nos = [2019]\n", "pyproject.toml [tool.winportlint]: os must be a list of strings"),
    ("[tool.winportlint]\nexclude = [\"\"]\n", "pyproject.toml [tool.winportlint]: exclude must be a list of strings"),
    ("[tool.winportlint]\ninline_ignores = \"no\"\n",
     "pyproject.toml [tool.winportlint]: inline_ignores must be true or false, not a string"),
    ("[tool.winportlint]\nallow = 5\n", "pyproject.toml [tool.winportlint]: allow must be a list, not an integer"),
    ("[tool.winportlint]\nallow = [5]\n",
     "pyproject.toml [tool.winportlint]: allow[0] must be a table with resource, ports and reason"),
    ("[[tool.winportlint.allow]]\nresource = 5\nreason = \"r\"\n",
     "pyproject.toml [tool.winportlint]: allow[0] needs a resource (a logical id or address; * and ? match) or tags"),
    ("[[tool.winportlint.allow]]\nresource = \"S\"\nreason = [\"r\"]\n",
     "pyproject.toml [tool.winportlint]: allow[0] (S) needs a reason"),
    ("[[tool.winportlint.allow]]\nresource = \"S\"\nreason = \"r\"\nports = [445]\n",
     "pyproject.toml [tool.winportlint]: allow[0]: ports must be a port or a range such as \"3389\" or \"49152-65535\""),
    ("[[tool.winportlint.allow]]\nresource = \"S\"\nreason = \"r\"\nrule = 101\n",
     "pyproject.toml [tool.winportlint]: allow[0]: rule must be a check id or a family prefix, such as WPL101 or WPL1"),
    ("[[tool.winportlint.allow]]\nresource = \"S\"\nreason = \"r\"\nfile = 1\n",
     "pyproject.toml [tool.winportlint]: allow[0]: file must be a glob (relative to this file's folder)"),
    ("[tool.winportlint]\nos = [\"Vista\"]\n",
     "pyproject.toml [tool.winportlint]: os: no catalog rule is for Windows Server 'Vista' "
     "(known: 2012, 2012 R2, 2016, 2019, 2022; 2025 means 2022's rules)"),
])
def test_every_wrong_shape_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch, text, error):
    (tmp_path / "pyproject.toml").write_text(text)
    (tmp_path / "t.yaml").write_text(SMB)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "check", "t.yaml") == (2, "", f"winportlint: error: {error}\n")


def test_a_configuration_above_the_working_folder_is_named_by_its_path(tmp_path, capsys, monkeypatch):
    (tmp_path / ".winportlint.toml").write_text("severity = 5\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "t.yaml").write_text(SMB)
    monkeypatch.chdir(tmp_path / "sub")
    assert run(capsys, "check", "t.yaml") == (
        2, "", f"winportlint: error: {tmp_path / '.winportlint.toml'}: severity must be one of info, low, medium, "
               "high, critical, not 5\n")


@pytest.mark.parametrize(("document", "error"), [
    ('{"version": 1, "findings": ' + "[" * 100000 + "]" * 100000 + "}", "(arrays or objects nested too deep)"),
    ("[1, 2]", "(an object with version and findings)"),
    ('{"version": 1, "findings": {}}', "(an object with version and findings)"),
    ('{"version": 1, "findings": ["x"]}',
     "(each finding needs rule_id, file, resource, direction, protocol, ports, cidr)"),
    ('{"version": 1, "findings": [{"rule_id": "WPL101"}]}',
     "(each finding needs rule_id, file, resource, direction, protocol, ports, cidr)"),
    ("{", "(Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
])
def test_a_baseline_of_any_shape_is_a_usage_error_naming_it(tmp_path, capsys, monkeypatch, document, error):
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(SMB)
    Path("b.json").write_text(document)
    assert run(capsys, "check", "--baseline", "b.json", "t.yaml") == (
        2, "", f"winportlint: error: b.json is not a winportlint baseline {error}\n")


def test_a_baseline_of_another_version_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text(SMB)
    Path("b.json").write_text('{"version": true, "findings": []}')
    assert run(capsys, "check", "--baseline", "b.json", "t.yaml") == (
        2, "", "winportlint: error: b.json: baseline version True is not 1\n")


# --- allow entries: the file glob is relative to the configuration's folder ------------------------

@pytest.mark.parametrize(("cwd", "path"), [
    (".", "infra/net/smb.yaml"),
    (".", "./infra/net/smb.yaml"),
    (".", "infra"),
    (".", "ABSOLUTE"),
    ("infra", "net/smb.yaml"),
    ("infra/net", "smb.yaml"),
    ("infra/net", "."),
    ("elsewhere", "../infra/net/smb.yaml"),
])
def test_an_allowed_file_is_allowed_however_it_is_named_and_wherever_winportlint_runs(tmp_path, capsys, monkeypatch,
                                                                                       cwd, path):
    # It used to match only when winportlint ran from the configuration's folder.
    root = tmp_path / "repo"
    (root / "infra" / "net").mkdir(parents=True)
    (root / "elsewhere").mkdir()
    (root / "infra" / "net" / "smb.yaml").write_text(SMB)
    (root / ".winportlint.toml").write_text(
        '[[allow]]\nresource = "Smb"\nfile = "./infra/*/smb.yaml"\nreason = "the file server, SEC-7"\n')
    monkeypatch.chdir(root / cwd)
    argument = str(root / "infra" / "net" / "smb.yaml") if path == "ABSOLUTE" else path
    assert run(capsys, "check", argument) == (0, "0 findings in 1 file; 3 suppressed\n", "")


def test_an_allow_entry_for_another_file_does_not_allow(tmp_path, capsys, monkeypatch):
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "smb.yaml").write_text(SMB)
    (tmp_path / ".winportlint.toml").write_text(
        '[[allow]]\nresource = "Smb"\nfile = "smb.yaml"\nreason = "the file server, SEC-7"\n')
    monkeypatch.chdir(tmp_path / "infra")
    code, out, _ = run(capsys, "check", "smb.yaml")  # infra/smb.yaml, not the smb.yaml beside the configuration
    assert code == 1 and out.endswith("3 findings (3 critical) in 1 file\nsee: winportlint explain WPL102\n")


# --- exclude: many patterns, compiled once -------------------------------------------------------

def test_exclude_matches_as_fnmatch_of_the_path_or_a_folder_it_is_in(tmp_path):
    names = ["a", "b", "legacy", "vendor", "x.yaml", "y.json", "deep", "A"]
    rng = random.Random(14)
    paths = ["/".join(rng.choice(names) for _ in range(rng.randint(1, 4))) for _ in range(400)]
    patterns = ["legacy", "vendor/", "*.json", "deep/*/x.yaml", "a/b", "*/A", "b?", "[ab]/legacy/*", "x*",
                "vendor/*.yaml", "a/*/deep", "*deep*/b", "nothing/*", "A/b/legacy"]
    config = configuration.Config(exclude=tuple(patterns), folder=str(tmp_path))
    for path in paths:  # "vendor/" names the folder: it is excluded with everything in it
        expected = any(fnmatch.fnmatch(path, p.rstrip("/")) or fnmatch.fnmatch(path, p.rstrip("/") + "/*")
                       for p in patterns)
        assert config.excluded(str(tmp_path / path)) == expected, path


def test_many_exclude_patterns_are_compiled_once(tmp_path, monkeypatch):
    # 200,000 patterns took 40 s: fnmatch compiled each one again for every path (its cache holds 32,768).
    patterns = [f"dir{i}/gen{i}.yaml" for i in range(50000)] + [f"dir{i}/*.bak" for i in range(30000)] \
        + [f"*/old{i}.yaml" for i in range(30000)] + ["*.tmp", "dir7/*"]
    config = configuration.Config(exclude=tuple(patterns), folder=str(tmp_path))
    translated = []
    real_translate = fnmatch.translate
    monkeypatch.setattr(fnmatch, "translate", lambda p: translated.append(p) or real_translate(p))
    paths = ["dir3/gen3.yaml", "dir3/gen4.yaml", "dir3/a.bak", "x/old5.yaml", "x/new.yaml", "a.tmp", "dir7/x",
             "dir9/x.yaml", "dir3/x/y.yaml"] * 50
    assert [config.excluded(str(tmp_path / p)) for p in paths[:9]] == [True, False, True, True, False, True, True,
                                                                       False, False]
    assert [config.excluded(str(tmp_path / p)) for p in paths] == [True, False, True, True, False, True, True,
                                                                   False, False] * 50
    # Of 110,002 patterns, only those filed under these paths' first or last names, and the rest (*.tmp), each once.
    assert sorted(translated) == ["*.tmp", "*/old5.yaml", "dir3/*.bak", "dir7/*", "dir7/*.bak", "dir9/*.bak"]


def test_exclude_of_a_configuration_skips_its_files(tmp_path, capsys, monkeypatch):
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "smb.yaml").write_text(SMB)
    (tmp_path / "smb.json").write_text(json.dumps({"Resources": {}}))
    (tmp_path / ".winportlint.toml").write_text(
        "exclude = [" + ", ".join(f'"gen/{i}.yaml"' for i in range(40000)) + ', "legacy/"]\n')
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "check", ".") == (0, "0 findings in 0 files\n", (
        "winportlint: note: no CloudFormation, Terraform or Serverless files found under . (1 file there holds "
        "no security group, network ACL or load balancer)\n"))
