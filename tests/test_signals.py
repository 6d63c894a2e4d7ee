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


def _processes() -> dict[int, tuple[int, int]]:
    """Every process, its parent and its session."""
    processes = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if fields[0] != "Z":  # a zombie has ended: only its exit status is left
                processes[int(entry)] = int(fields[1]), int(fields[3])
    return processes


def _parents() -> dict[int, int]:
    return {pid: parent for pid, (parent, _) in _processes().items()}


def descendants(pid: int) -> set[int]:
    parents, found, frontier = _parents(), set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def session(leader: int) -> set[int]:
    """The processes of a run started as the leader of a session of its own: its workers and
    helpers too, even those a run that ended left behind (no longer its descendants)."""
    return {pid for pid, (_, member_of) in _processes().items() if member_of == leader}


def wait_until(condition, what: str):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")


def _slow_format(tmp_path: Path, signal_at_fork: int = 0, in_callback: bool = False) -> dict[str, str]:
    """A format plugin (an installed distribution on PYTHONPATH) that never finishes reading its files:
    workers are certainly busy when the signal comes. Each process that reads one first writes the
    signals it blocks to ``masks/<its pid>``. With ``signal_at_fork``, the run's fork of that number
    sends it SIGTERM as it returns in the run, before the run can note the process it made; or, with
    ``in_callback``, in Python's callbacks after a fork (where an exception is not raised but swallowed)."""
    site = tmp_path / "site"
    (tmp_path / "masks").mkdir()
    (site / "slowformat-1.0.dist-info").mkdir(parents=True)
    (site / "slowformat-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: slowformat\nVersion: 1.0\n")
    (site / "slowformat-1.0.dist-info" / "entry_points.txt").write_text("[winportlint]\nslow = slow_format\n")
    (site / "slow_format.py").write_text(textwrap.dedent(f"""
        import os
        import signal
        import time
        from winportlint.hookspecs import hookimpl

        fork, forks = os.fork, 0

        def count_fork():
            global forks
            forks += 1
            if forks == {signal_at_fork}:
                os.kill(os.getpid(), signal.SIGTERM)

        def fork_then_count():
            pid = fork()
            if pid:
                count_fork()
            return pid

        if {in_callback}:
            os.register_at_fork(after_in_parent=count_fork)
        else:
            os.fork = fork_then_count

        class Slow:
            name = "slow"
            suffixes = (".slow",)

            def parse(self, path, data):
                mask = " ".join(sorted(blocked.name for blocked in signal.pthread_sigmask(signal.SIG_BLOCK, [])))
                written = os.path.join({str(tmp_path / "masks")!r}, f"{{os.getpid()}}.part")
                with open(written, "w") as file:
                    file.write(mask)
                os.replace(written, written.removesuffix(".part"))
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


def _assert_ended_by(process: subprocess.Popen, number: int, report: Path) -> None:
    try:
        out, err = process.communicate(timeout=TIMEOUT)  # reads both pipes to their end
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"the run did not end on the signal (its processes: {sorted(session(process.pid))})")
    assert (process.returncode, out, err) == (128 + number, b"", b"")
    wait_until(lambda: not session(process.pid), "the workers and helpers to end")
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
    wait_until(lambda: descendants(process.pid), "worker processes")
    if number == signal.SIGINT:
        os.killpg(process.pid, number)  # as a terminal's Ctrl-C: every process of the group gets it
    else:
        os.kill(process.pid, number)
    _assert_ended_by(process, number, tmp_path / "report.json")


def test_the_file_workers_take_the_signals(tmp_path):
    # The run starts its workers with the signals blocked (none may come before it knows them all):
    # workers that kept them blocked could not end their own helpers, and were killed after a grace.
    _templates(tmp_path)
    process = _start(["--output", "report.json", "--format", "json", "."], tmp_path, _slow_format(tmp_path))

    def masks() -> dict[int, set[str]]:
        written = {int(mask.name): set(mask.read_text().split()) for mask in (tmp_path / "masks").glob("*[0-9]")}
        return written if len(written) == 2 else {}

    blocked = wait_until(masks, "both workers reading")
    assert set(blocked) <= descendants(process.pid)
    assert [mask & {"SIGINT", "SIGTERM", "SIGHUP"} for mask in blocked.values()] == [set(), set()]
    os.kill(process.pid, signal.SIGTERM)
    _assert_ended_by(process, signal.SIGTERM, tmp_path / "report.json")


@pytest.mark.parametrize(("fork", "in_callback"), [(1, False), (2, False), (1, True)])
def test_a_signal_as_a_file_worker_is_forked_ends_that_worker_too(tmp_path, fork, in_callback):
    # The signal came between the first (or second) worker's fork and the run's noting it: the other
    # worker was ended, and that one was left waiting for work, holding standard output open. Handled
    # in a callback after the first fork, it ended no worker, and the run waited for them.
    _templates(tmp_path)
    process = _start(["--output", "report.json", "--format", "json", "."], tmp_path,
                     _slow_format(tmp_path, signal_at_fork=fork, in_callback=in_callback))
    _assert_ended_by(process, signal.SIGTERM, tmp_path / "report.json")


def _terraform_roots(folder: Path) -> None:
    """Enough root modules to be read in a forked worker."""
    for index in range(24):
        root = folder / f"m{index:02d}"
        root.mkdir()
        for source in (CASES / "WPL101/bad/tf-inline").glob("*.tf"):
            (root / source.name).write_text(source.read_text())


def test_sigterm_ends_the_terraform_workers_and_their_evaluator_helpers(tmp_path):
    # The last root (the worker's) slow to evaluate: the worker and its helper are busy when the signal comes.
    _terraform_roots(tmp_path)
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

    wait_until(helpers_of_a_worker, "a worker with an evaluator helper")
    os.kill(process.pid, signal.SIGTERM)
    _assert_ended_by(process, signal.SIGTERM, tmp_path / "report.json")


@pytest.mark.parametrize("in_callback", [False, True])
def test_a_signal_as_a_terraform_worker_is_forked_ends_that_worker_too(tmp_path, in_callback):
    # As above, in the Terraform format's own pool (the run has no other).
    _terraform_roots(tmp_path)
    process = _start(["--output", "report.json", "."], tmp_path,
                     _slow_format(tmp_path, signal_at_fork=1, in_callback=in_callback))
    _assert_ended_by(process, signal.SIGTERM, tmp_path / "report.json")


def test_a_thread_that_fails_while_the_workers_end_prints_nothing(tmp_path):
    """A pool's management thread that fails as the workers are being ended (it set an exception
    on a future the run had cancelled: ``InvalidStateError``) printed its traceback, because the
    tracebacks were silenced only once the workers had ended: a SIGTERM under load wrote it."""
    script = textwrap.dedent("""
        import os, signal, sys, threading
        from winportlint import interrupt

        def fail_in_a_thread():
            thread = threading.Thread(target=lambda: 1 / 0)
            thread.start()
            thread.join()

        interrupt.on_interrupt(fail_in_a_thread)
        try:
            with interrupt.handled():
                os.kill(os.getpid(), signal.SIGTERM)
        except interrupt.Interrupted as exc:
            sys.exit(128 + exc.signum)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=TIMEOUT)
    assert (done.returncode, done.stdout, done.stderr) == (128 + signal.SIGTERM, b"", b"")
