"""The result cache: a second run gives the same report from stored results, and any change is seen."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from winportlint import cache as result_cache
from winportlint import engine
from winportlint.catalog import load_catalog
from winportlint.cli import main
from winportlint.plugin_manager import load_plugins

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def lint(paths, cache, settings=None):
    plugins = load_plugins()
    checks = [c for c in plugins.checks if c.enabled_by_default]
    return engine.run([str(p) for p in paths], plugins.formats, checks, load_catalog(()), settings, cache=cache)


def report_of(result):
    return [(f.rule_id, str(f.location), f.message, f.fingerprint) for f in result.findings], \
        [str(e) for e in result.errors], result.files_checked


@pytest.fixture
def project(tmp_path):
    """The examples, plus a broken template and a Terraform module calling a local module."""
    shutil.copytree(EXAMPLES / "vulnerable", tmp_path / "vulnerable")
    (tmp_path / "broken.yaml").write_text("Resources:\n  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties: [\n")
    root = tmp_path / "tf" / "root"
    shared = tmp_path / "tf" / "shared"
    root.mkdir(parents=True)
    shared.mkdir()
    (root / "main.tf").write_text('module "edge" {\n  source = "../shared"\n  cidr = var.cidr\n}\n'
                                  'variable "cidr" {\n  default = "10.0.0.0/8"\n}\n')
    (shared / "main.tf").write_text('variable "cidr" {}\nresource "aws_security_group" "edge" {\n'
                                    '  ingress {\n    from_port = 3389\n    to_port = 3389\n    protocol = "tcp"\n'
                                    '    cidr_blocks = [var.cidr]\n  }\n}\n')
    return tmp_path


def test_a_second_run_reads_everything_from_the_cache_and_reports_the_same(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    paths = [project / "vulnerable", project / "broken.yaml", project / "tf" / "root"]
    first_cache = result_cache.Cache(directory, "run")
    first = lint(paths, first_cache)
    second_cache = result_cache.Cache(directory, "run")
    second = lint(paths, second_cache)
    uncached = lint(paths, None)
    assert report_of(first) == report_of(second) == report_of(uncached)
    assert first.errors and first.findings  # the broken file's error is cached like findings
    assert first_cache.hits == 0
    assert second_cache.misses == 0 and second_cache.hits == first_cache.misses > 0


def test_a_changed_file_is_read_again_and_the_others_are_not(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    lint([project / "vulnerable"], result_cache.Cache(directory, "run"))
    template = project / "vulnerable" / "rdp-jump-host.yaml"
    template.write_text(template.read_text().replace("0.0.0.0/0", "10.1.0.0/16").replace("::/0", "fd00::/8"))
    again = result_cache.Cache(directory, "run")
    result = lint([project / "vulnerable"], again)
    assert again.misses == 1
    assert not any(f.location.file == str(template) for f in result.findings)
    assert report_of(result) == report_of(lint([project / "vulnerable"], None))


def test_a_called_terraform_module_that_changes_invalidates_its_caller(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    root = project / "tf" / "root"
    before = lint([root], result_cache.Cache(directory, "run"))
    assert before.findings == []
    (root / "terraform.tfvars").write_text('cidr = "0.0.0.0/0"\n')
    with_vars = lint([root], result_cache.Cache(directory, "run"))
    assert [f.rule_id for f in with_vars.findings] == ["WPL101"]
    shared = project / "tf" / "shared" / "main.tf"
    shared.write_text(shared.read_text().replace("3389", "22"))
    changed = result_cache.Cache(directory, "run")
    after = lint([root], changed)
    assert changed.hits == 0 and after.findings == []


def test_a_changed_variable_file_outside_the_module_invalidates_it(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    var_file = project / "prod.tfvars"
    var_file.write_text('cidr = "0.0.0.0/0"\n')
    settings = {"var_files": [str(var_file)], "vars": {}}
    assert [f.rule_id for f in lint([project / "tf" / "root"], result_cache.Cache(directory, "run"),
                                    settings).findings] == ["WPL101"]
    var_file.write_text('cidr = "10.0.0.0/8"\n')
    assert lint([project / "tf" / "root"], result_cache.Cache(directory, "run"), settings).findings == []


def test_another_run_key_does_not_see_the_entries(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    lint([project / "vulnerable"], result_cache.Cache(directory, "run"))
    other = result_cache.Cache(directory, "other catalog")
    lint([project / "vulnerable"], other)
    assert other.hits == 0 and other.misses > 0


def test_a_damaged_or_foreign_entry_is_a_miss_and_never_runs_code(tmp_path, project):
    cache = result_cache.Cache(str(tmp_path), "run")
    cache.put("ab" * 20, ([], []))
    assert cache.get("ab" * 20) == ([], [])
    entry = Path(cache.directory) / "ab" / ("ab" * 20)
    entry.write_bytes(b"\x80\x05garbage")
    assert cache.get("ab" * 20) is None
    marker = tmp_path / "ran"
    entry.write_bytes(pickle.dumps(((), _Exploit(str(marker)))))
    assert cache.get("ab" * 20) is None
    assert not marker.exists()


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


def test_an_unwritable_cache_folder_only_costs_the_cache(project, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    cache = result_cache.Cache(str(blocker), "run")
    assert report_of(lint([project / "vulnerable"], cache)) == report_of(lint([project / "vulnerable"], None))
    assert cache.hits == 0


def test_entries_unused_for_a_month_are_pruned(tmp_path):
    cache = result_cache.Cache(str(tmp_path), "run")
    cache.put("aa" * 20, ([], []))
    cache.put("bb" * 20, ([], []))
    old = Path(cache.directory) / "aa" / ("aa" * 20)
    month_ago = old.stat().st_mtime - result_cache.MAX_AGE_SECONDS - 60
    os.utime(old, (month_ago, month_ago))
    cache.prune()
    assert not old.exists()
    assert cache.get("bb" * 20) == ([], [])


def test_the_cache_folder_is_the_users_unless_set(monkeypatch, tmp_path):
    monkeypatch.setenv("WINPORTLINT_CACHE_DIR", str(tmp_path / "mine"))
    assert result_cache.default_directory() == str(tmp_path / "mine")
    monkeypatch.delenv("WINPORTLINT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert result_cache.default_directory() == str(tmp_path / "xdg" / "winportlint")


def test_the_cli_caches_by_default_and_not_with_no_cache(project, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(project)
    folder = tmp_path / "cli-cache"
    monkeypatch.setenv("WINPORTLINT_CACHE_DIR", str(folder))
    assert main(["check", "--no-cache", "vulnerable"]) == 1
    uncached = capsys.readouterr().out
    assert not folder.exists()
    assert main(["check", "vulnerable"]) == 1
    first = capsys.readouterr().out
    entries = sorted(p.name for p in folder.rglob("*") if p.is_file() and len(p.name) == 40)
    assert len(entries) == len(_templates(project)) + 1  # and the Terraform module
    assert main(["check", "vulnerable"]) == 1
    assert uncached == first == capsys.readouterr().out
    assert sorted(p.name for p in folder.rglob("*") if p.is_file() and len(p.name) == 40) == entries


def test_changing_the_configuration_or_the_catalog_changes_the_run_key(project, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(project)
    folder = tmp_path / "cli-cache"
    monkeypatch.setenv("WINPORTLINT_CACHE_DIR", str(folder))
    main(["check", "vulnerable"])
    (project / ".winportlint.toml").write_text('os = ["2019"]\n')
    main(["check", "vulnerable"])
    main(["check", "vulnerable", "--select", "WPL101"])
    capsys.readouterr()
    entries_per_run = len(_templates(project)) + 1
    assert len([p for p in folder.rglob("*") if p.is_file() and len(p.name) == 40]) == 3 * entries_per_run


def _templates(project: Path) -> list[Path]:
    return [p for p in (project / "vulnerable").iterdir() if p.suffix in (".yaml", ".json")]
