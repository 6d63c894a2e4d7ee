"""Plugins load through the ``winportlint`` entry-point group; a broken one is reported and skipped."""

from __future__ import annotations

import sys
import textwrap

import pytest

from winportlint.cli import main
from winportlint.plugin_manager import load_plugins


def _install(tmp_path, monkeypatch, entry_points: str, modules: dict[str, str]) -> None:
    """A fake installed distribution on sys.path, as pip would leave it."""
    dist = tmp_path / "thirdparty-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[winportlint]\n" + entry_points)
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_builtin_bundles_come_from_entry_points():
    plugins = load_plugins()
    assert plugins.warnings == []
    assert [f.name for f in plugins.formats] == ["cloudformation", "terraform"]
    assert sorted(plugins.reporters) == ["github", "gitlab", "json", "junit", "markdown", "rdjson", "sarif", "text"]
    assert sorted(c.id for c in plugins.checks) == [
        "WPL001", "WPL101", "WPL102", "WPL103", "WPL104", "WPL201", "WPL202", "WPL301", "WPL302", "WPL401",
        "WPL501", "WPL601", "WPL602", "WPL701", "WPL901"]


def test_broken_plugins_are_reported_and_skipped(tmp_path, monkeypatch, capsys):
    _install(tmp_path, monkeypatch, "missing = no_such_module_xyz\nraising = raising_plugin\n", {
        "raising_plugin": """
            from winportlint.hookspecs import hookimpl

            @hookimpl
            def winportlint_checks():
                raise RuntimeError("boom")
        """,
    })
    plugins = load_plugins()
    assert plugins.warnings == [
        "plugin 'missing' (no_such_module_xyz) not loaded: No module named 'no_such_module_xyz'",
        "plugin 'raising': winportlint_checks failed: boom",
    ]
    assert "WPL101" in {c.id for c in plugins.checks}
    code = main(["check", "tests/cases/WPL102/bad/smb-netbios.yaml"])
    out, err = capsys.readouterr()
    assert code == 1 and out.endswith("3 findings (3 critical) in 1 file\nsee: winportlint explain WPL102\n")
    assert err.splitlines() == [
        "winportlint: warning: plugin 'missing' (no_such_module_xyz) not loaded: No module named 'no_such_module_xyz'",
        "winportlint: warning: plugin 'raising': winportlint_checks failed: boom",
    ]


def test_third_party_check_and_reporter_run_like_builtins(tmp_path, monkeypatch, capsys):
    _install(tmp_path, monkeypatch, "acme = acme_plugin\n", {
        "acme_plugin": """
            from winportlint.checks import ExposureCheck
            from winportlint.hookspecs import hookimpl
            from winportlint.model import Severity

            class CountReporter:
                name = "count"

                def render(self, report):
                    return f"{len(report.findings)}\\n"

            @hookimpl
            def winportlint_checks():
                return [ExposureCheck(id="ACME1", name="acme-rdp", summary="RDP, the ACME way",
                                      severity=Severity.HIGH, exposure_class="remote-desktop", explanation="")]

            @hookimpl
            def winportlint_reporters():
                return [CountReporter()]
        """,
    })
    code = main(["check", "--select", "ACME", "--format", "count", "tests/cases/WPL101/bad/inline-forms.yaml"])
    assert (code, capsys.readouterr().out) == (1, "5\n")


def test_a_check_id_defined_twice_is_skipped_with_a_warning(tmp_path, monkeypatch):
    _install(tmp_path, monkeypatch, "aaa_copycat = copycat_plugin\n", {
        "copycat_plugin": """
            from winportlint.checks import ExposureCheck
            from winportlint.hookspecs import hookimpl
            from winportlint.model import Severity

            @hookimpl
            def winportlint_checks():
                return [ExposureCheck(id="WPL101", name="copycat", summary="", severity=Severity.LOW,
                                      exposure_class="remote-desktop", explanation="")]
        """,
    })
    plugins = load_plugins()
    assert [c.name for c in plugins.checks if c.id == "WPL101"] == ["remote-desktop-open-to-world"]
    assert plugins.warnings == ["check WPL101 is defined twice; the second definition (copycat) is skipped"]


def test_a_check_that_raises_is_an_error_of_the_file_not_a_crash(tmp_path, monkeypatch, capsys):
    _install(tmp_path, monkeypatch, "flaky = flaky_plugin\n", {
        "flaky_plugin": """
            from winportlint.hookspecs import hookimpl
            from winportlint.model import Severity

            class Flaky:
                id, name, summary, severity = "FLAKY1", "flaky", "raises", Severity.HIGH
                enabled_by_default, explanation, docs_url = True, "", "https://example.invalid"

                def run(self, permissions, catalog):
                    raise KeyError("oops")

            @hookimpl
            def winportlint_checks():
                return [Flaky()]
        """,
    })
    code = main(["check", "tests/cases/WPL102/bad/smb-netbios.yaml"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 2
    assert lines[-3:] == [
        "tests/cases/WPL102/bad/smb-netbios.yaml: error: check FLAKY1 failed: KeyError: 'oops'",
        "3 findings (3 critical) in 1 file; 1 input error",
        "see: winportlint explain WPL102",
    ]


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])


def test_entry_points_are_read_as_importlib_metadata_reads_them(tmp_path, monkeypatch):
    import importlib.metadata
    import re

    from winportlint.plugin_manager import entry_points

    _install(tmp_path, monkeypatch, "acme = acme_plugin:Bundle.hooks [extra]\n", {})
    older = tmp_path / "older"
    (older / "Thirdparty-0.9.dist-info").mkdir(parents=True)  # the same distribution later on the path: hidden
    (older / "Thirdparty-0.9.dist-info" / "entry_points.txt").write_text("[winportlint]\nold = old_plugin\n")
    monkeypatch.setattr(sys, "path", [*sys.path, str(older)])

    def normalized(name):
        return re.sub(r"[-_.]+", "_", name).lower()

    everything = importlib.metadata.entry_points()
    groups = sorted(everything.groups) if hasattr(everything, "groups") else sorted(everything)  # 3.12+ / 3.10
    assert "winportlint" in groups and len(groups) > 1
    for group in groups:
        ours = sorted((ep.name, ep.value, normalized(ep.distribution)) for ep in entry_points(group))
        theirs = sorted((ep.name, ep.value, normalized(ep.dist.name)) for ep in importlib.metadata.entry_points(group=group))
        assert ours == theirs, group
    assert ("acme", "acme_plugin:Bundle.hooks [extra]", "thirdparty") in [
        (ep.name, ep.value, ep.distribution) for ep in entry_points("winportlint")]


def test_a_plugin_in_a_zip_application_is_found(tmp_path, monkeypatch):
    import zipfile

    from winportlint.plugin_manager import entry_points

    archive = tmp_path / "app.pyz"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("zipped-2.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: zipped\nVersion: 2.0\n")
        zipped.writestr("zipped-2.0.dist-info/entry_points.txt", "[winportlint]\nzipped = zipped_plugin\n")
        zipped.writestr("zipped_plugin.py", "VALUE = 1\n")
    monkeypatch.syspath_prepend(str(archive))
    (zipped_entry,) = [ep for ep in entry_points("winportlint") if ep.name == "zipped"]
    assert (zipped_entry.distribution, zipped_entry.version) == ("zipped", "2.0")
    assert zipped_entry.load().VALUE == 1
