"""A signal ends the whole run: workers and evaluator helpers end with it, no traceback,
exit 128 + the signal, standard output closed, no report file (issue #14).

The process tree is read from /proc (Linux); elsewhere these tests are skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from winportlint.engine import PARALLEL_MIN_FILES, workers

pytestmark = [
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc"),
    pytest.mark.skipif(workers(2, 2) < 2, reason="one core: --jobs 2 starts no worker"),
]

CASES = Path(__file__).parent / "cases"
#: How long anything here may take: a timeout that fails the test, never a measured time.
TIMEOUT = 60


def _parents() -> dict[int, int]:
    """Every process and its parent."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if fields[0] != "Z":  # a zombie has ended: only its exit status is left
                parents[int(entry)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    parents, found, frontier = _parents(), set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    return pids & set(_parents())


def wait_until(condition, what: str):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def _slow_format(tmp_path: Path) -> dict[str, str]:
    """A format plugin (an installed distribution on PYTHONPATH) that never finishes reading its files:
    workers are certainly busy when the signal comes."""
    site = tmp_path / "site"
    (site / "slowformat-1.0.dist-info").mkdir(parents=True)
    (site / "slowformat-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: slowformat\nVersion: 1.0\n")
    (site / "slowformat-1.0.dist-info" / "entry_points.txt").write_text("[winportlint]\nslow = slow_format\n")
    (site / "slow_format.py").write_text(textwrap.dedent("""
        import time
        from winportlint.hookspecs import hookimpl

        class Slow:
            name = "slow"
            suffixes = (".slow",)

            def parse(self, path, data):
                time.sleep(3600)

        @hookimpl
        def winportlint_formats():
            return [Slow()]
    """))
    return {**os.environ, "PYTHONPATH": str(site)}


def _start(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "winportlint.cli", "check", "--no-cache", "--jobs", "2", *argv],
                            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _assert_ended_by(process: subprocess.Popen, number: int, tree: set[int], report: Path) -> None:
    try:
        out, err = process.communicate(timeout=TIMEOUT)  # reads both pipes to their end
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the run did not end on the signal")
    assert (process.returncode, out, err) == (128 + number, b"", b"")
    wait_until(lambda: not alive(tree), "the workers and helpers to end")
    assert not report.exists()


def _templates(folder: Path) -> None:
    template = (CASES / "WPL101/bad/inline-forms.yaml").read_text()
    for index in range(PARALLEL_MIN_FILES):
        (folder / f"t{index:02d}.yaml").write_text(template.replace("Rdp:", f"Rdp{index}:"))
        (folder / f"t{index:02d}.slow").write_text("")


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_ends_the_file_workers_with_the_run(tmp_path, name):
    number = getattr(signal, name)
    _templates(tmp_path)
    process = _start(["--output", "report.json", "--format", "json", "."], tmp_path, _slow_format(tmp_path))
    tree = wait_until(lambda: descendants(process.pid), "worker processes")
    if number == signal.SIGINT:
        os.killpg(process.pid, number)  # as a terminal's Ctrl-C: every process of the group gets it
    else:
        os.kill(process.pid, number)
    _assert_ended_by(process, number, tree, tmp_path / "report.json")


def test_sigterm_ends_the_terraform_workers_and_their_evaluator_helpers(tmp_path):
    # Enough root modules to be read in a forked worker, the last (the worker's) one slow to evaluate:
    # the worker and its helper are busy when the signal comes.
    for index in range(24):
        folder = tmp_path / f"m{index:02d}"
        folder.mkdir()
        for source in (CASES / "WPL101/bad/tf-inline").glob("*.tf"):
            (folder / source.name).write_text(source.read_text())
    (tmp_path / "m23" / "slow.tf").write_text(textwrap.dedent("""
        resource "aws_security_group" "many" {
          count = 5000
          ingress {
            from_port   = 3389
            to_port     = 3389
            protocol    = "tcp"
            cidr_blocks = ["0.0.0.0/0"]
          }
        }
    """))
    process = _start(["--output", "report.json", "."], tmp_path)

    def helpers_of_a_worker() -> set[int]:
        tree = descendants(process.pid)
        children = {pid for pid, parent in _parents().items() if parent == process.pid}
        return tree if any(tree & descendants(child) for child in children) else set()

    tree = wait_until(helpers_of_a_worker, "a worker with an evaluator helper")
    os.kill(process.pid, signal.SIGTERM)
    _assert_ended_by(process, signal.SIGTERM, tree | descendants(process.pid), tmp_path / "report.json")
