"""A new user's first runs: the catalog fits the terminal, a run that checks nothing says so, a
configuration's mistakes name the file and key, and the help says what each option takes (issue #18)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from winportlint.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMB = (ROOT / "tests/cases/WPL102/bad/smb-netbios.yaml").read_text()
SKIPPED = "skipped: holds no CloudFormation, Terraform or Serverless security group, network ACL or load balancer"
NOTHING = "no CloudFormation, Terraform or Serverless files found under"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def places(out: str) -> list[tuple[str, str, int]]:
    """A JSON report's findings and errors, as (check or "error", file, line)."""
    document = json.loads(out)
    return [(f["rule_id"], f["file"], f["line"]) for f in document["findings"]] + \
        [("error", e["file"], e["line"]) for e in document["errors"]]


#: The findings of SMB, as places gives them.
SMB_PLACES = [("WPL102", "smb.yaml", 11), ("WPL102", "smb.yaml", 15), ("WPL102", "smb.yaml", 19)]


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


# --- point 6: `winportlint catalog` fits the terminal, and keeps every character when piped -------

def _table(width):
    from winportlint.catalog import Catalog, CatalogRule, format_catalog_table
    from winportlint.model import Direction, PortRange, Severity

    rules = (CatalogRule("Windows Remote Management", "Windows Remote Management (HTTP-In)", Direction.INGRESS,
                         "tcp", (PortRange(5985, 5985),), None, ("2012", "2012 R2", "2016", "2019", "2022"),
                         "remote-management", Severity.CRITICAL, "t", None),
             CatalogRule("Remote Desktop", "Remote Desktop - User Mode (UDP-In)", Direction.INGRESS, "udp",
                         (PortRange(3389, 3389),), None, ("2022",), "remote-desktop", Severity.CRITICAL, "t", None))
    return format_catalog_table(Catalog(rules), width)


def test_the_catalog_table_is_cut_to_a_width_with_an_ellipsis():
    # The names go first, down to 20 characters; then the versions and classes too.
    assert _table(None) == (
        "WORKLOAD                   RULE                                 DIR  PROTO  PORTS  OS"
        "                               CLASS              SEVERITY\n"
        "Windows Remote Management  Windows Remote Management (HTTP-In)  in   tcp    5985   2012, 2012 R2, 2016, 2019, "
        "2022  remote-management  critical\n"
        "Remote Desktop             Remote Desktop - User Mode (UDP-In)  in   udp    3389   2022"
        "                             remote-desktop     critical\n")
    assert _table(120) == (
        "WORKLOAD              RULE                  DIR  PROTO  PORTS  OS                            CLASS"
        "              SEVERITY\n"
        "Windows Remote Mana…  Windows Remote Mana…  in   tcp    5985   2012, 2012 R2, 2016, 2019, …  "
        "remote-management  critical\n"
        "Remote Desktop        Remote Desktop - Us…  in   udp    3389   2022                          "
        "remote-desktop     critical\n")
    assert _table(80) == (
        "WORKLOAD     RULE         DIR  PROTO  PORTS  OS           CLASS         SEVERITY\n"
        "Windows Re…  Windows Re…  in   tcp    5985   2012, 2012…  remote-mana…  critical\n"
        "Remote Des…  Remote Des…  in   udp    3389   2022         remote-desk…  critical\n")
    assert {len(line) for line in _table(120).splitlines()[1:]} == {120}
    assert {len(line) for line in _table(80).splitlines()} == {80}


def test_the_catalog_fits_the_terminal_and_is_whole_when_piped(capsys, monkeypatch):
    code, piped, _ = run(capsys, "catalog")  # capsys's stdout is no terminal
    assert code == 0 and "…" not in piped and max(map(len, piped.splitlines())) > 150
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    for columns in ("100", "132"):
        monkeypatch.setenv("COLUMNS", columns)  # what shutil.get_terminal_size reads first
        code, shown, _ = run(capsys, "catalog")
        lines = shown.splitlines()
        assert code == 0 and max(map(len, lines)) == int(columns) and "…" in shown
        assert len(lines) == len(piped.splitlines())
        assert [line.split()[-1] for line in lines] == [line.split()[-1] for line in piped.splitlines()]


# --- point 8: a run that checks nothing says so ---------------------------------------------------

def test_a_folder_without_templates_says_so_and_passes_unless_told_to_fail(tmp_path, capsys, monkeypatch):
    # A CI step pointed at the wrong folder printed "0 findings in 0 files" and passed.
    write(tmp_path, {"docs/README.md": "# docs\n", "docs/mkdocs.yml": "site_name: x\n", "infra/smb.yaml": SMB})
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "check", "--no-cache", "docs") == (
        0, "0 findings in 0 files\n",
        f"winportlint: note: {NOTHING} docs (1 file there holds no security group, network ACL or load balancer)\n")
    # Told to fail, it is an input error, in every format.
    code, out, err = run(capsys, "check", "--no-cache", "--fail-on-empty", "infra", "docs")
    assert (code, err) == (2, "") and f"docs: error: {NOTHING} docs (1 file there holds no security group, network " \
        f"ACL or load balancer) (--fail-on-empty)" in out.splitlines()
    (tmp_path / "empty").mkdir()
    assert run(capsys, "check", "--no-cache", "--format", "json", "empty")[::2] == (
        0, f"winportlint: note: {NOTHING} empty\n")
    code, out, err = run(capsys, "check", "--no-cache", "--format", "json", "--fail-on-empty", "empty")
    assert (code, json.loads(out)["errors"], err) == (
        2, [{"file": "empty", "line": 0, "message": f"{NOTHING} empty (--fail-on-empty)"}], "")
    # The configuration can ask for it too, and is named.
    (tmp_path / ".winportlint.toml").write_text("fail_on_empty = true\n")
    assert run(capsys, "check", "--no-cache", "empty") == (
        2, f"empty: error: {NOTHING} empty (.winportlint.toml: fail_on_empty)\n0 findings in 0 files; 1 input error\n",
        "")
    assert run(capsys, "check", "--no-cache", "infra")[::2] == (1, "")
    # A usage error is the one line said: no note before it.
    assert run(capsys, "check", "--no-cache", "--baseline", "missing.json", "empty") == (
        2, "", "winportlint: error: cannot read baseline missing.json: No such file or directory\n")
    assert run(capsys, "check", "--no-cache", "--output", "empty", "empty") == (
        2, "", "winportlint: error: --output empty: refusing to write over empty, which this run reads\n")


def test_a_file_named_that_is_not_iac_is_skipped_with_a_line_and_never_fails_the_run(tmp_path, capsys, monkeypatch):
    # pre-commit passes every staged file its pattern matches, .pre-commit-config.yaml and workflows included;
    # with fail_on_empty set, such a commit must still pass: only folders named can be empty.
    write(tmp_path, {".winportlint.toml": "fail_on_empty = true\n", "README.md": "# x\n",
                     ".pre-commit-config.yaml": "repos: []\n", ".github/workflows/ci.yml": "on: push\n",
                     "smb.yaml": SMB, "empty.json": ""})
    monkeypatch.chdir(tmp_path)
    names = ["README.md", ".pre-commit-config.yaml", ".github/workflows/ci.yml", "empty.json"]
    assert run(capsys, "check", "--no-cache", *names) == (
        0, "0 findings in 0 files\n", "".join(f"{name}: {SKIPPED}\n" for name in names))
    code, out, err = run(capsys, "check", "--no-cache", "--format", "json", "README.md", "smb.yaml")
    assert (code, places(out), err) == (1, SMB_PLACES, f"README.md: {SKIPPED}\n")
    # A file that is an input error is reported as one, not as skipped.
    (tmp_path / "bad.yaml").write_text("Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n  Sg: {}\n")
    code, out, err = run(capsys, "check", "--no-cache", "--format", "json", "bad.yaml")
    assert (code, places(out), err) == (2, [("error", "bad.yaml", 4)], "")


def test_output_format_without_output_is_a_usage_error(tmp_path, capsys, monkeypatch):
    # It was ignored: the console printed text and nothing said that the SARIF file was never written.
    write(tmp_path, {"smb.yaml": SMB})
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "check", "--output-format", "sarif", "smb.yaml") == (
        2, "", "winportlint: error: --output-format needs --output FILE (the console's format is --format)\n")
    assert sorted(os.listdir(tmp_path)) == ["smb.yaml"]


@pytest.mark.parametrize("target, reason", [
    ("a-folder", "Is a directory"), ("missing/report.sarif", "No such file or directory"),
    ("locked/report.sarif", "Permission denied")])
def test_a_report_that_cannot_be_written_still_shows_the_console_report(tmp_path, capsys, monkeypatch, target,
                                                                          reason):
    write(tmp_path, {"smb.yaml": SMB})
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "locked").mkdir(mode=0o500)
    monkeypatch.chdir(tmp_path)
    if reason == "Permission denied" and os.access(tmp_path / "locked", os.W_OK):
        pytest.skip("running as a user whom permissions do not stop (root)")
    for console in (["--format", "json"], ["--format", "json", "--output-format", "sarif"]):
        code, out, err = run(capsys, "check", "--no-cache", "--output", target, *console, "smb.yaml")
        assert (code, places(out), err) == (2, SMB_PLACES, f"winportlint: error: cannot write {target}: {reason}\n")
    assert sorted(os.listdir(tmp_path / "a-folder")) == []


# --- point 9: a configuration's mistakes name the file and the key --------------------------------

@pytest.mark.parametrize("name, text, error", [
    (".winportlint.toml", 'ignore = ["WPL999"]\n',
     ".winportlint.toml: ignore: no check id starts with 'WPL999' (see 'winportlint rules')"),
    ("pyproject.toml", '[tool.winportlint]\nselect = ["XYZ"]\n',
     "pyproject.toml [tool.winportlint]: select: no check id starts with 'XYZ' (see 'winportlint rules')"),
    (".winportlint.toml", '[tool.winportlint]\nignore = ["WPL999"]\n',
     ".winportlint.toml [tool.winportlint]: ignore: no check id starts with 'WPL999' (see 'winportlint rules')"),
    (".winportlint.toml", '[tool.winportlint]\ncolour = 1\n',
     ".winportlint.toml [tool.winportlint]: unknown key colour (known: allow, catalog, exception_warning_days, "
     "exclude, fail_on_empty, fix, ignore, inline_ignores, max_exception_days, os, require_expiry, require_owner, "
     "select, severity, var_files)"),
    (".winportlint.toml", 'severity = "low"\n[tool.winportlint]\nignore = ["WPL101"]\n',
     ".winportlint.toml: unknown key tool (write winportlint's keys at the top of the file, or all of them "
     "under [tool.winportlint], not both)"),
    (".winportlint.toml", '[tool.black]\nline-length = 80\n',
     ".winportlint.toml [tool.winportlint]: unknown key tool.black (a .winportlint.toml holds only winportlint's "
     "keys: at its top, or under [tool.winportlint])"),
    (".winportlint.toml", 'catalog = ["ports/missing.yaml"]\n',
     ".winportlint.toml: catalog: {folder}/ports/missing.yaml: cannot read catalog file: No such file or directory"),
    (".winportlint.toml", 'var_files = ["envs/prod.tfvars"]\n',
     ".winportlint.toml: var_files: {folder}/envs/prod.tfvars: no such file"),
    (".winportlint.toml", "fail_on_empty = 1\n", ".winportlint.toml: fail_on_empty must be true or false, not an integer"),
    (".winportlint.toml", 'inline_ignores = "no"\n',
     ".winportlint.toml: inline_ignores must be true or false, not a string"),
    (".winportlint.toml", 'os = "2019"\n', ".winportlint.toml: os must be a list, not a string"),
    (".winportlint.toml", "[[allow]]\nresource = 'S'\nreason = 'r'\nrule = 'WPL999'\n",
     ".winportlint.toml allow[0]: rule names unknown check id WPL999: write a check id such as WPL101 or a family "
     "prefix such as WPL1 (see 'winportlint rules')"),
])
def test_a_configuration_error_names_the_file_and_the_key(tmp_path, capsys, monkeypatch, name, text, error):
    write(tmp_path, {name: text, "smb.yaml": SMB})
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "check", "--no-cache", "smb.yaml") == (
        2, "", f"winportlint: error: {error.format(folder=tmp_path)}\n")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_configured_variable_file_that_is_a_fifo_is_named_and_never_read(tmp_path):
    # A listed variable file that was missing was passed over in silence; a FIFO would stop the evaluator.
    write(tmp_path, {".winportlint.toml": 'var_files = ["prod.tfvars"]\n',
                     "main.tf": (ROOT / "tests/cases/WPL101/bad/tf-inline/main.tf").read_text()})
    os.mkfifo(tmp_path / "prod.tfvars")
    done = subprocess.run([sys.executable, "-m", "winportlint.cli", "check", "--no-cache", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", f"winportlint: error: .winportlint.toml: var_files: {tmp_path / 'prod.tfvars'}: not a regular file "
               f"(a FIFO, socket or device)\n")


def test_the_command_line_names_its_options_in_the_same_errors(tmp_path, capsys, monkeypatch):
    write(tmp_path, {".winportlint.toml": 'ignore = ["WPL999"]\n', "smb.yaml": SMB})
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "check", "--ignore", "WPL9999", "smb.yaml") == (
        2, "", "winportlint: error: --ignore: no check id starts with 'WPL9999' (see 'winportlint rules')\n")
    # The command line wins over the configuration, whose mistake is then never read.
    assert run(capsys, "check", "--no-cache", "--ignore", "WPL1", "smb.yaml") == (0, "0 findings in 1 file\n", "")


def test_a_winportlint_toml_copied_from_the_pyproject_example_is_read(tmp_path, capsys, monkeypatch):
    # `[tool.winportlint]` at the top of a .winportlint.toml was "unknown key tool".
    write(tmp_path, {".winportlint.toml": '[tool.winportlint]\nignore = ["WPL102"]\n\n[[tool.winportlint.allow]]\n'
                                          'resource = "X"\nreason = "r"\n', "smb.yaml": SMB})
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "check", "--no-cache", "smb.yaml") == (0, "0 findings in 1 file\n", "")
    (tmp_path / ".winportlint.toml").write_text('[tool.winportlint]\nselect = ["WPL102"]\n')
    code, out, _ = run(capsys, "check", "--no-cache", "--format", "json", "smb.yaml")
    assert (code, places(out)) == (1, SMB_PLACES)



# --- point 10: help ---------------------------------------------------------------------------------

def _help(capsys, monkeypatch, *argv) -> str:
    monkeypatch.setenv("COLUMNS", "1000")  # one line an option
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_check_help_says_what_path_defaults_to_and_which_options_repeat(capsys, monkeypatch):
    shown = _help(capsys, monkeypatch, "check")
    assert ("  PATH                  a file or folder to check (default: the current folder); folders are searched "
            "for templates, Terraform and Serverless files, a file named is read whatever its name\n") in shown
    lines = {line.split()[0]: line for line in shown.splitlines() if line.startswith("  --")}
    repeated = {name for name, line in lines.items() if "repeatable" in line}
    assert repeated == {"--select", "--ignore", "--os", "--catalog", "--var-file", "--var"}
    assert {name for name, line in lines.items() if "comma-separated" in line} == {"--select", "--ignore"}
    assert "--fail-on-empty" in lines


def test_what_the_help_calls_repeatable_and_comma_separated_is(tmp_path, capsys, monkeypatch):
    write(tmp_path, {"smb.yaml": SMB})
    monkeypatch.chdir(tmp_path)
    for selection in (["--select", "WPL102", "--select", "WPL101"], ["--select", "WPL101,WPL102"]):
        code, out, _ = run(capsys, "check", "--no-cache", "--format", "json", *selection, "smb.yaml")
        assert (code, places(out)) == (1, SMB_PLACES)
    for ignored in (["--ignore", "WPL102", "--ignore", "WPL101"], ["--ignore", "WPL101,WPL102"]):
        code, out, _ = run(capsys, "check", "--no-cache", "--format", "json", *ignored, "smb.yaml")
        assert (code, places(out)) == (0, [])
    code, out, _ = run(capsys, "check", "--no-cache", "--format", "json", "--os", "2012", "--os", "2019", "smb.yaml")
    assert (code, places(out)) == (1, SMB_PLACES)  # SMB's rules are 2012's, not 2019's


def test_catalog_help_names_import_once(capsys, monkeypatch):
    shown = _help(capsys, monkeypatch, "catalog")
    assert [line.split()[0] for line in shown.splitlines() if line.strip().startswith("import")] == ["import"]
    assert ("  import                compile the AWS page text into the catalog YAML (see 'winportlint catalog import "
            "--help')\n") in shown


@pytest.mark.parametrize("name", ["remote-desktop-open-to-world", "Remote-Desktop-Open-To-World", "wpl101", " WPL101"])
def test_explain_takes_a_check_id_or_name(capsys, name):
    code, out, err = run(capsys, "explain", name)
    assert (code, out.splitlines()[0], err) == (0, "WPL101 remote-desktop-open-to-world", "")


def test_explain_of_an_unknown_check_says_where_the_ids_are(capsys):
    assert run(capsys, "explain", "rdp") == (
        2, "", "winportlint: error: no check with id or name 'rdp' (see 'winportlint rules' for both)\n")


SEED = ROOT.parent / "shared" / "seed" / "aws-windows-ami-ports.txt"


@pytest.mark.skipif(not SEED.exists(), reason=f"the seed page is not beside this checkout ({SEED} is absent)")
def test_catalog_import_without_output_writes_to_standard_output_and_never_into_the_package(tmp_path, capsys,
                                                                                            monkeypatch):
    # It wrote rules_catalog/windows-ami.yaml and builtin.json of the installed package (site-packages).
    from winportlint.catalog import builtin_file

    package = Path(builtin_file("windows-ami.yaml")).parent

    def state():
        return {path.name: (path.stat().st_mtime_ns, path.read_bytes()) for path in sorted(package.iterdir())
                if path.is_file()}

    before = state()
    code, out, err = run(capsys, "catalog", "import", str(SEED))
    assert (code, err) == (0, "") and state() == before
    assert out == (package / "windows-ami.yaml").read_text()
    # Named, the built-in file is written and its snapshot refreshed (how the maintainers recompile it).
    copy = tmp_path / "catalog"
    shutil.copytree(package, copy)
    refreshed = []
    monkeypatch.setattr("winportlint.catalog.builtin_file", lambda name: str(copy / name))
    monkeypatch.setattr("winportlint.catalog.write_snapshot", lambda: refreshed.append(1) or copy / "builtin.json")
    code, out, _ = run(capsys, "catalog", "import", str(SEED), "--output", str(copy / "windows-ami.yaml"))
    assert (code, out, refreshed) == (0, f"wrote {copy / 'windows-ami.yaml'}\nwrote {copy / 'builtin.json'}\n", [1])
    code, out, _ = run(capsys, "catalog", "import", str(SEED), "--output", str(tmp_path / "elsewhere.yaml"))
    assert (code, out, refreshed) == (0, f"wrote {tmp_path / 'elsewhere.yaml'}\n", [1])
    assert state() == before
