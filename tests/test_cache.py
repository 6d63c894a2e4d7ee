"""The result cache: a second run gives the same report from stored results, and any change is seen."""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import pickle
import shutil
import stat
from pathlib import Path

import pytest

from winportlint import cache as result_cache
from winportlint import engine
from winportlint.catalog import load_catalog
from winportlint.cli import main
from winportlint.plugin_manager import load_plugins

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
KEY = b"k" * 32


@pytest.fixture(autouse=True)
def _settled(monkeypatch):
    """Files a test wrote a moment before a run count as settled (the tests of writes during a
    reading set the margin back: see ``racing``)."""
    monkeypatch.setattr(result_cache, "SETTLE_SECONDS", 0.0)


@pytest.fixture
def racing(monkeypatch):
    monkeypatch.setattr(result_cache, "SETTLE_SECONDS", 2.0)


def new_cache(directory, run_key="run", key=KEY):
    return result_cache.Cache(str(directory), run_key, key)


def lint(paths, cache, settings=None):
    plugins = load_plugins()
    checks = [c for c in plugins.checks if c.enabled_by_default]
    return engine.run([str(p) for p in paths], plugins.formats, checks, load_catalog(()), settings, cache=cache)


def report_of(result):
    return [(f.rule_id, str(f.location), f.message, f.fingerprint) for f in result.findings], \
        [str(e) for e in result.errors], result.files_checked


@pytest.fixture
def project(tmp_path):
    """A repository: the examples, plus a broken template and a Terraform module calling a local module."""
    (tmp_path / ".git").mkdir()
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
    first_cache = new_cache(directory)
    first = lint(paths, first_cache)
    second_cache = new_cache(directory)
    second = lint(paths, second_cache)
    uncached = lint(paths, None)
    assert report_of(first) == report_of(second) == report_of(uncached)
    assert first.errors and first.findings  # the broken file's error is cached like findings
    assert first_cache.hits == 0
    assert second_cache.misses == 0 and second_cache.hits == first_cache.misses > 0


def test_a_changed_file_is_read_again_and_the_others_are_not(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    lint([project / "vulnerable"], new_cache(directory))
    template = project / "vulnerable" / "rdp-jump-host.yaml"
    template.write_text(template.read_text().replace("0.0.0.0/0", "10.1.0.0/16").replace("::/0", "fd00::/8"))
    again = new_cache(directory)
    result = lint([project / "vulnerable"], again)
    assert again.misses == 1
    assert not any(f.location.file == str(template) for f in result.findings)
    assert report_of(result) == report_of(lint([project / "vulnerable"], None))


def test_a_called_terraform_module_that_changes_invalidates_its_caller(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    root = project / "tf" / "root"
    before = lint([root], new_cache(directory))
    assert before.findings == []
    (root / "terraform.tfvars").write_text('cidr = "0.0.0.0/0"\n')
    with_vars = lint([root], new_cache(directory))
    assert [f.rule_id for f in with_vars.findings] == ["WPL101"]
    shared = project / "tf" / "shared" / "main.tf"
    shared.write_text(shared.read_text().replace("3389", "22"))
    changed = new_cache(directory)
    after = lint([root], changed)
    assert changed.hits == 0 and after.findings == []


def test_a_changed_variable_file_outside_the_module_invalidates_it(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    var_file = project / "prod.tfvars"
    var_file.write_text('cidr = "0.0.0.0/0"\n')
    settings = {"var_files": [str(var_file)], "vars": {}}
    assert [f.rule_id for f in lint([project / "tf" / "root"], new_cache(directory),
                                    settings).findings] == ["WPL101"]
    var_file.write_text('cidr = "10.0.0.0/8"\n')
    assert lint([project / "tf" / "root"], new_cache(directory), settings).findings == []


def test_another_run_key_does_not_see_the_entries(project, tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("cache"))
    lint([project / "vulnerable"], new_cache(directory))
    other = new_cache(directory, "other catalog")
    lint([project / "vulnerable"], other)
    assert other.hits == 0 and other.misses > 0


def test_a_damaged_or_foreign_entry_is_a_miss_and_never_runs_code(tmp_path, project):
    cache = new_cache(tmp_path)
    cache.put("ab" * 20, ([], [], []))
    assert cache.get("ab" * 20) == ([], [], [])
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
    cache = new_cache(blocker)
    assert report_of(lint([project / "vulnerable"], cache)) == report_of(lint([project / "vulnerable"], None))
    assert cache.hits == 0


def test_entries_unused_for_a_month_are_pruned(tmp_path):
    cache = new_cache(tmp_path)
    cache.put("aa" * 20, ([], [], []))
    cache.put("bb" * 20, ([], [], []))
    old = Path(cache.directory) / "aa" / ("aa" * 20)
    month_ago = old.stat().st_mtime - result_cache.MAX_AGE_SECONDS - 60
    os.utime(old, (month_ago, month_ago))
    cache.prune()
    assert not old.exists()
    assert cache.get("bb" * 20) == ([], [], [])


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


# What goes into a result is in its key or its recorded inputs: after a cached run and a change,
# a cached run gives exactly what a run without the cache gives.

def check(capsys, *args: str) -> tuple[int, str]:
    code = main(["check", "--format", "json", *args])
    return code, capsys.readouterr().out


def cached_and_uncached(capsys, *args: str) -> tuple[int, str]:
    cached = check(capsys, *args)
    assert cached == check(capsys, "--no-cache", *args)
    return cached


def rdp_group(cidr: str, name: str = "edge") -> str:
    return (f'resource "aws_security_group" "{name}" {{\n  ingress {{\n    from_port   = 3389\n    to_port     = 3389\n'
            f'    protocol    = "tcp"\n    cidr_blocks = ["{cidr}"]\n  }}\n}}\n')


def downloaded_module(root: Path) -> Path:
    """A root module calling a registry module that ``terraform init`` downloaded (at ``?ref=main``)."""
    edge = root / ".terraform" / "modules" / "edge"
    edge.mkdir(parents=True)
    (root / "main.tf").write_text('module "edge" {\n  source = "git::https://example.com/edge.git?ref=main"\n}\n')
    (root / ".terraform" / "modules" / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "edge", "Source": "git::https://example.com/edge.git?ref=main", "Dir": ".terraform/modules/edge"}]}))
    (edge / "main.tf").write_text(rdp_group("10.0.0.0/8"))
    return edge


@pytest.mark.parametrize("download", ["rewrites a file", "adds a file"])
def test_a_module_downloaded_again_is_read_again(tmp_path, monkeypatch, capsys, download):
    monkeypatch.chdir(tmp_path)
    edge = downloaded_module(tmp_path / "root")
    assert cached_and_uncached(capsys, "root")[0] == 0
    modules_json = (tmp_path / "root" / ".terraform" / "modules" / "modules.json").read_bytes()
    if download == "rewrites a file":
        (edge / "main.tf").write_text(rdp_group("0.0.0.0/0"))
    else:
        (edge / "rdp.tf").write_text(rdp_group("0.0.0.0/0", "rdp"))
    assert (tmp_path / "root" / ".terraform" / "modules" / "modules.json").read_bytes() == modules_json
    code, output = cached_and_uncached(capsys, "root")
    assert code == 1 and '"WPL101"' in output


def test_tf_var_environment_variables_are_part_of_the_key(tmp_path, monkeypatch, capsys):
    from winportlint.plugins.terraform.isolated import close_helpers

    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text('variable "cidr" {\n  default = "10.0.0.0/8"\n}\n'
                                      + rdp_group("${var.cidr}"))
    assert cached_and_uncached(capsys, ".")[0] == 0
    monkeypatch.setenv("TF_VAR_cidr", "0.0.0.0/0")
    close_helpers()  # each run is a process of its own, whose evaluator sees the environment of then
    code, output = cached_and_uncached(capsys, ".")
    assert code == 1 and '"WPL101"' in output
    monkeypatch.delenv("TF_VAR_cidr")
    close_helpers()
    assert cached_and_uncached(capsys, ".")[0] == 0


@pytest.mark.parametrize("read", ["file", "yamldecode(file())"])
def test_a_file_read_by_a_file_function_is_an_input(tmp_path, monkeypatch, capsys, read):
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(
        'locals {\n  direct  = trimspace(file("${path.module}/cidr.txt"))\n'
        '  decoded = yamldecode(file("${path.module}/rules.yaml"))\n}\n'
        + rdp_group("${" + ("local.direct" if read == "file" else "local.decoded.cidr") + "}"))
    (module / "cidr.txt").write_text("10.0.0.0/8\n")
    (module / "rules.yaml").write_text("cidr: 10.0.0.0/8\n")
    assert cached_and_uncached(capsys, "module")[0] == 0
    if read == "file":
        (module / "cidr.txt").write_text("0.0.0.0/0\n")
    else:
        (module / "rules.yaml").write_text("cidr: 0.0.0.0/0\n")
    code, output = cached_and_uncached(capsys, "module")
    assert code == 1 and '"WPL101"' in output


@pytest.mark.parametrize("call", ['fileexists("${path.module}/open")',
                                  'length(fileset(path.module, "*.open")) > 0',
                                  'length(fileset(path.module, "**/*.open")) > 0'])
def test_a_file_that_appears_where_a_file_function_looks_is_an_input(tmp_path, monkeypatch, capsys, call):
    monkeypatch.chdir(tmp_path)
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text(f'locals {{\n  cidr = {call} ? "0.0.0.0/0" : "10.0.0.0/8"\n}}\n'
                                    + rdp_group("${local.cidr}"))
    assert cached_and_uncached(capsys, "module")[0] == 0
    (module / "deep" / "er").mkdir(parents=True)
    assert cached_and_uncached(capsys, "module")[0] == 0
    created = "open" if "fileexists" in call else "deep/er/x.open" if "**" in call else "x.open"
    (module / created).write_text("")
    code, output = cached_and_uncached(capsys, "module")
    assert code == 1 and '"WPL101"' in output


def test_a_file_added_to_a_called_module_is_read(project, monkeypatch, capsys):
    monkeypatch.chdir(project / "tf")
    assert cached_and_uncached(capsys, "root")[0] == 0
    (project / "tf" / "shared" / "rdp.tf").write_text(rdp_group("0.0.0.0/0", "rdp"))
    code, output = cached_and_uncached(capsys, "root")
    assert code == 1 and '"WPL101"' in output


def test_a_plan_takes_its_lines_from_the_configuration_beside_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text('variable "cidr" {}\n' + rdp_group("${var.cidr}", "rdp"))
    (tmp_path / "plan.json").write_text(json.dumps({"format_version": "1.2", "resource_changes": [
        {"address": "aws_security_group.rdp", "mode": "managed", "type": "aws_security_group",
         "change": {"actions": ["create"], "after": {"ingress": [
             {"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}}}]}))
    code, before = cached_and_uncached(capsys, "plan.json")
    assert code == 1 and [(f["file"], f["line"]) for f in json.loads(before)["findings"]] == [("main.tf", 7)]
    (tmp_path / "main.tf").write_text('variable "cidr" {}\n\n\n' + rdp_group("${var.cidr}", "rdp"))
    code, after = cached_and_uncached(capsys, "plan.json")
    assert code == 1 and [(f["file"], f["line"]) for f in json.loads(after)["findings"]] == [("main.tf", 9)]


# A file rewritten while it is read: what is stored is what was read, or nothing.

VULNERABLE_TEMPLATE = (EXAMPLES / "vulnerable" / "rdp-jump-host.yaml").read_bytes()
FIXED_TEMPLATE = (EXAMPLES / "fixed" / "rdp-jump-host.yaml").read_bytes()


def test_a_template_rewritten_between_the_key_and_the_parse_is_cached_as_parsed(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    template = tmp_path / "host.yaml"
    template.write_bytes(VULNERABLE_TEMPLATE)
    real_read = engine.read_bytes
    rewrites = []

    def read_then_rewrite(path):
        data = real_read(path)
        if not rewrites:  # the user saves the fixed template just after this read
            rewrites.append(path)
            template.write_bytes(FIXED_TEMPLATE)
        return data

    monkeypatch.setattr(engine, "read_bytes", read_then_rewrite)
    first = check(capsys, "host.yaml")
    assert rewrites == ["host.yaml"] and first[0] == 1  # what was read: the vulnerable bytes
    monkeypatch.setattr(engine, "read_bytes", real_read)
    assert cached_and_uncached(capsys, "host.yaml")[0] == 0
    template.write_bytes(VULNERABLE_TEMPLATE)
    assert cached_and_uncached(capsys, "host.yaml") == first


def _rewriting_parse(monkeypatch, before: bool, path: Path, content: str) -> None:
    """The Terraform format's folder reading, with ``path`` rewritten just before or just after it."""
    from winportlint.plugins.terraform import TerraformFormat

    real_parse = TerraformFormat.parse_folders

    def parse_folders(self, folders, settings):
        if before:
            path.write_text(content)
        result = real_parse(self, folders, settings)
        if not before:
            path.write_text(content)
        monkeypatch.setattr(TerraformFormat, "parse_folders", real_parse)
        return result

    monkeypatch.setattr(TerraformFormat, "parse_folders", parse_folders)


def test_a_module_rewritten_between_the_key_and_the_evaluation_is_not_stored(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "main.tf").write_text(rdp_group("0.0.0.0/0"))
    _rewriting_parse(monkeypatch, True, tmp_path / "main.tf", rdp_group("10.0.0.0/8"))
    assert check(capsys, ".")[0] == 0  # the evaluation read the rewritten file
    (tmp_path / "main.tf").write_text(rdp_group("0.0.0.0/0"))
    assert cached_and_uncached(capsys, ".")[0] == 1


def test_a_called_module_rewritten_during_the_evaluation_is_not_stored(project, monkeypatch, capsys, racing):
    monkeypatch.chdir(project / "tf")
    (project / "tf" / "root" / "terraform.tfvars").write_text('cidr = "0.0.0.0/0"\n')
    shared = project / "tf" / "shared" / "main.tf"
    _rewriting_parse(monkeypatch, False, shared, shared.read_text().replace("3389", "22"))
    assert check(capsys, "root")[0] == 1  # the evaluation read the module before it changed
    assert cached_and_uncached(capsys, "root")[0] == 0


# Entries are authenticated JSON of winportlint's records: anything else is a miss.

def _signed(key: bytes, name: str, body: bytes) -> bytes:
    return hmac.new(key, name.encode() + b"\n" + body, hashlib.sha256).hexdigest().encode() + b"\n" + body


def _entry(cache) -> Path:
    return Path(cache.directory) / "ab" / ("ab" * 20)


@pytest.mark.parametrize("body", [
    pickle.dumps([1, 2]), pickle.dumps((None, None)), b"[1, 2]", b"[null, null]", b"null", b"{}",
    b'[[], [], [], []]', b'[[], [["WPL101"]], []]', b'[[["a"]], [], []]', b"[" * 200_000 + b"]" * 200_000,
    b'[[], [], [["f", 1.5, "m"]]]', b'[[], [], [["f", true, "m"]]]', b"\xff\xfe", b"",
    b'[[], [[], []]]', b'[[], [[], [], [], []]]', b'[[], [[], [], [1]]]', b'[[], [[["WPL101"]], [], []]]',
    b'[[], [[], [["f", 1.5, "m"]], []]]', b'[[], [[1, 1, "c"]]]'])
def test_an_entry_of_the_wrong_shape_is_a_miss(tmp_path, body):
    cache = new_cache(tmp_path)
    cache.put("ab" * 20, ([], [], []))
    for data in (_signed(KEY, "ab" * 20, body), body):
        _entry(cache).write_bytes(data)
        assert cache.get("ab" * 20) is None


def test_comments_and_outcomes_are_entries_of_their_own_shape(tmp_path):
    cache = new_cache(tmp_path)
    cache.put("ab" * 20, [(3, 5, "# winportlint: ignore[WPL101] bastion")])
    assert cache.get("ab" * 20, result_cache.COMMENTS) == [(3, 5, "# winportlint: ignore[WPL101] bastion")]
    assert cache.get("ab" * 20) is None
    cache.put("cd" * 20, FULL_OUTCOME)
    assert cache.get("cd" * 20, result_cache.COMMENTS) is None
    assert cache.get("cd" * 20) == FULL_OUTCOME


def test_a_truncated_entry_a_folder_a_fifo_or_a_huge_file_is_a_miss(tmp_path):
    from winportlint.textfile import MAX_FILE_BYTES

    cache = new_cache(tmp_path)
    cache.put("ab" * 20, FULL_OUTCOME)
    entry = _entry(cache).read_bytes()
    assert cache.get("ab" * 20) == FULL_OUTCOME
    for size in (0, 10, 64, 65, 66, len(entry) // 2, len(entry) - 1):
        _entry(cache).write_bytes(entry[:size])
        assert cache.get("ab" * 20) is None
    _entry(cache).unlink()
    _entry(cache).mkdir()
    assert cache.get("ab" * 20) is None
    _entry(cache).rmdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(_entry(cache))
        assert cache.get("ab" * 20) is None  # and does not wait for a writer
        _entry(cache).unlink()
    with open(_entry(cache), "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space
    assert cache.get("ab" * 20) is None
    assert cache.hits == 1


def _full_outcome():
    from ipaddress import ip_network

    from winportlint.model import (CatalogHit, Direction, Finding, Ignore, InputError, Location, Peer, Permission,
                                   PortRange, Provenance, Severity, TargetContext)

    where = Location("a.tf", 3, 5)
    permission = Permission(
        "aws_security_group.a", "aws_security_group", "sg", Direction.INGRESS, "tcp", PortRange(3389, 3390),
        Peer("cidr", "0.0.0.0/0", ip_network("0.0.0.0/0")), where, Location("a.tf", 2, 3),
        (Provenance("cidr_blocks", "parameter", "var.cidr", where), Provenance("ports", "literal")),
        Location("a.tf", 1, 1), (Ignore(("WPL1",), "reviewed", where),), "network-acl", 100, "allow",
        ("aws_lb.a",), (PortRange(80, 80),))
    finding = Finding("WPL101", Severity.CRITICAL, "open", permission,
                      (CatalogHit("Remote Desktop", "rule", "tcp", "3389", ("2019", "2022")),), "f" * 32,
                      (TargetContext("aws_instance.a", "aws_instance", "windows", ("2022",), ("ami",)),))
    v6 = finding._replace(permission=permission._replace(peer=Peer("cidr", "::/0", ip_network("::/0")),
                                                         ports=None, rule_number=None, resource_location=None))
    return [finding, v6], [InputError("b.yaml", 4, "bad")], ["child.yaml"]


FULL_OUTCOME = _full_outcome()


def _positions(value, path=()):
    """Every position in a JSON value: each list and each scalar, by its path."""
    yield path, value
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _positions(item, (*path, index))


def _replaced(value, path, new):
    if not path:
        return new
    copy = list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def test_a_wrong_type_in_any_position_of_an_entry_is_a_miss(tmp_path):
    cache = new_cache(tmp_path / "cache")
    (tmp_path / "input.tf").write_text("")
    cache.put("ab" * 20, FULL_OUTCOME, [str(tmp_path / "input.tf")])
    assert cache.get("ab" * 20) == FULL_OUTCOME
    got = cache.get("ab" * 20)
    assert type(got[0][0].permission.peer.network).__name__ == "IPv4Network"
    assert type(got[0][1].permission.peer.network).__name__ == "IPv6Network"
    body = json.loads(_entry(cache).read_bytes()[65:])
    positions = [path for path, _ in _positions(body) if path]
    assert len(positions) > 100
    for path, value in _positions(body):
        if not path:
            continue
        wrong = 5 if isinstance(value, str) else "5" if isinstance(value, int) else {"a": 1}
        _entry(cache).write_bytes(_signed(KEY, "ab" * 20, json.dumps(_replaced(body, path, wrong)).encode()))
        assert cache.get("ab" * 20) is None, path


# A cache folder anyone could write cannot change a result.

def _forge(folder: Path, key: bytes, edit) -> int:
    """Rewrite every entry below ``folder`` with ``edit`` applied to its JSON, signed with ``key``."""
    count = 0
    for entry in folder.rglob("*"):
        if entry.is_file() and len(entry.name) == 40:
            body = json.loads(entry.read_bytes()[65:])
            entry.write_bytes(_signed(key, entry.name, json.dumps(edit(body)).encode()))
            count += 1
    return count


def _without_findings(body):
    return [body[0], [[], *body[1][1:]]]


def test_an_entry_signed_with_another_key_is_a_miss(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    attacker = "a pull request's own cache key, " + "x" * 10
    monkeypatch.setenv("WINPORTLINT_CACHE_KEY", attacker)
    real = check(capsys, "--no-cache", "vulnerable")
    assert real[0] == 1
    check(capsys, "vulnerable")
    assert _forge(Path(os.environ["WINPORTLINT_CACHE_DIR"]), attacker.encode(), _without_findings) > 0
    assert check(capsys, "vulnerable")[0] == 0  # under the key that signed them, the forged entries are taken
    monkeypatch.setenv("WINPORTLINT_CACHE_KEY", "test key " + "k" * 32)
    assert check(capsys, "vulnerable") == real


def test_an_entry_edited_to_drop_a_finding_is_a_miss(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    real = check(capsys, "vulnerable")
    assert real[0] == 1
    for entry in Path(os.environ["WINPORTLINT_CACHE_DIR"]).rglob("*"):
        if entry.is_file() and len(entry.name) == 40:
            mac, body = entry.read_bytes().split(b"\n", 1)
            entry.write_bytes(mac + b"\n" + json.dumps(_without_findings(json.loads(body))).encode())
    assert check(capsys, "vulnerable") == real


def test_the_key_file_is_the_users_alone_and_outside_the_cache_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("WINPORTLINT_CACHE_KEY")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "config"))
    key = result_cache.secret()
    assert len(key) == 32 and result_cache.secret() == key
    path = Path(result_cache.key_file())
    assert path.is_file() and not path.is_relative_to(result_cache.default_directory())
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        path.chmod(0o644)
        with pytest.raises(result_cache.NoKey, match="others may read or write it"):
            result_cache.secret()


def test_without_a_usable_key_the_run_goes_without_the_cache(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    monkeypatch.setenv("WINPORTLINT_CACHE_KEY", "short")
    assert main(["check", "vulnerable"]) == 1
    captured = capsys.readouterr()
    assert captured.err == ("winportlint: warning: WINPORTLINT_CACHE_KEY is shorter than 32 characters; "
                            "running without the result cache\n")
    assert not any(p.is_file() for p in Path(os.environ["WINPORTLINT_CACHE_DIR"]).rglob("*"))


def test_pruning_follows_no_symlink_planted_in_the_cache_folder(tmp_path):
    cache = new_cache(tmp_path / "cache")
    cache.put("aa" * 20, ([], [], []))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("")
    month_ago = (outside / "keep").stat().st_mtime - result_cache.MAX_AGE_SECONDS - 60
    os.utime(outside / "keep", (month_ago, month_ago))
    (Path(cache.directory) / "bb").symlink_to(outside)
    cache.prune()
    assert (outside / "keep").exists()
    cache.put("bb" * 20, ([], [], []))
    assert list(outside.iterdir()) == [outside / "keep"]  # no entry is written through it either


# Resource use: entries only for what a format read, each file read once, no temporary file left.

def test_only_files_a_format_read_get_an_entry_and_each_file_is_read_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for number in range(5):
        (tmp_path / f"package{number}.json").write_text(json.dumps({"name": f"p{number}"}))
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    (tmp_path / "host.yaml").write_bytes(VULNERABLE_TEMPLATE)
    real_read = engine.read_bytes
    reads = []
    monkeypatch.setattr(engine, "read_bytes", lambda path: reads.append(path) or real_read(path))
    cold = cached_and_uncached(capsys, ".", "--jobs", "1")
    entries = [p for p in Path(os.environ["WINPORTLINT_CACHE_DIR"]).rglob("*") if p.is_file() and len(p.name) == 40]
    assert len(entries) == 2  # the template's, and one naming the six files no format reads
    assert sorted(reads) == sorted(2 * [p.name for p in tmp_path.iterdir()])  # once cached, once uncached
    real_lint_file = engine.read_file
    handed = []
    monkeypatch.setattr(engine, "read_file", lambda path, *args, **kwargs: handed.append(path) or
                        real_lint_file(path, *args, **kwargs))
    assert check(capsys, ".", "--jobs", "1") == cold
    assert handed == []  # the warm run gives no format a file, template or not
    assert cached_and_uncached(capsys, ".", "--jobs", "1") == cold


@pytest.mark.parametrize("failing", ["write", "rename"])
def test_a_failed_cache_write_leaves_no_temporary_file(project, monkeypatch, capsys, failing):
    monkeypatch.chdir(project)
    real = check(capsys, "--no-cache", "vulnerable")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    class FullDisk:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.stream.close()

        write = staticmethod(full)

    real_fdopen = os.fdopen
    if failing == "write":
        monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *args, **kwargs: FullDisk(real_fdopen(fd, mode))
                            if mode == "wb" else real_fdopen(fd, mode, *args, **kwargs))
    else:
        monkeypatch.setattr(os, "replace", full)
    assert check(capsys, "vulnerable") == real
    folder = Path(os.environ["WINPORTLINT_CACHE_DIR"])
    assert folder.is_dir() and not [p for p in folder.rglob("*") if p.name.startswith(".tmp-")]
    assert not [p for p in folder.rglob("*") if p.is_file() and len(p.name) == 40]
