"""Runs fuzz inputs in a worker process with a time limit per input, drives the
workers with Hypothesis, and shrinks a failing input to a small one.

The loaders run in a separate process so that nothing can take the fuzzer down
with it: an input that runs longer than the time limit (in Python, in libyaml or
in the Terraform evaluator's Go code, which no signal interrupts) is killed with
its worker and reported as a hang, and a worker that dies (a Go panic, a
segfault) is reported as a crash. A new worker takes over either way.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from . import mutators, targets
from .targets import Outcome

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Seconds one input may take (the slowest seed, a 450-line Terraform module, takes ~0.3 s).
TIME_LIMIT = 10.0


class Worker:
    """A process that reads inputs with :func:`targets.run`, one at a time."""

    def __init__(self, time_limit: float = TIME_LIMIT):
        self.time_limit = time_limit
        self.process: subprocess.Popen | None = None
        self.connection: Connection | None = None
        self.stderr = None
        self.starts = 0

    def _start(self) -> None:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([TESTS, *filter(None, [os.environ.get("PYTHONPATH")])]))
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from fuzz.harness import _serve; _serve(int(sys.argv[1]), int(sys.argv[2]))",
             str(child_read), str(child_write)],
            pass_fds=(child_read, child_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr, env=env)
        os.close(child_read)
        os.close(child_write)
        self.connection = _Duplex(parent_read, parent_write)
        self.starts += 1

    def run(self, target: str, data: bytes, jobs: int = 1) -> Outcome:
        if self.process is None:
            self._start()
        started = time.monotonic()
        try:
            self.connection.send((target, data, jobs))
            # The first input of a worker also loads the plugins (and, for HCL, the evaluator).
            if not self.connection.poll(self.time_limit + (5 if self.fresh else 0)):
                self.stop()
                return Outcome("hang", detail=f"no outcome after {time.monotonic() - started:.1f} s "
                                              f"(time limit {self.time_limit} s)")
            reply = self.connection.recv()
        except (EOFError, OSError):
            detail = self._death()
            self.stop()
            return Outcome("crash", detail=detail)
        self.fresh = False
        return reply

    fresh = True

    def _death(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.stderr.seek(0)
        tail = self.stderr.read()[-2000:].decode("utf-8", "replace")
        return f"worker died (exit code {code})\n{tail}\nworker died"

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.connection.close()
            self.stderr.close()
        self.process = None
        self.fresh = True

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


class _Duplex:
    """Two one-way pipes as one connection (the worker's stdout stays free for the
    evaluator, which may print)."""

    def __init__(self, read_fd: int, write_fd: int):
        self._read = Connection(read_fd, writable=False)
        self._write = Connection(write_fd, readable=False)

    def send(self, obj) -> None:
        self._write.send_bytes(pickle.dumps(obj))

    def recv(self):
        return pickle.loads(self._read.recv_bytes())

    def poll(self, timeout: float) -> bool:
        return self._read.poll(timeout)

    def close(self) -> None:
        self._read.close()
        self._write.close()


def _serve(read_fd: int, write_fd: int) -> None:
    """The worker's loop: read an input, send back its outcome."""
    connection = _Duplex(read_fd, write_fd)
    root = tempfile.mkdtemp(prefix="winportlint-fuzz-")
    number = 0
    try:
        targets.tools()
        while True:
            try:
                target, data, jobs = connection.recv()
            except EOFError:
                return
            number += 1
            # A folder of its own for every input: the syntax-index cache is keyed by
            # path and modification time, and two writes can share a time stamp.
            outcome = targets.run(target, data, os.path.join(root, str(number)), jobs)
            connection.send(outcome)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- fuzzing ----------------------------------------------------------------------------------


@dataclass
class Failure:
    signature: str
    problems: list[str]
    data: bytes
    outcome: Outcome
    count: int = 1


@dataclass
class Stats:
    target: str
    inputs: int = 0
    seconds: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)

    def record(self, data: bytes, outcome: Outcome) -> list[str]:
        self.inputs += 1
        kind = outcome.kind if outcome.kind != "result" else ("errors" if outcome.errors else "read")
        if any("crashed on this module" in message for _, _, message in outcome.errors):
            kind = "evaluator crashed (an input error)"  # isolated: handled, but worth knowing
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        found = targets.problems(self.target, outcome)
        if found:
            key = targets.signature(self.target, outcome, found)
            known = self.failures.get(key)
            if known is None:
                self.failures[key] = Failure(key, found, data, outcome)
            else:
                known.count += 1
                if len(data) < len(known.data):
                    known.data, known.problems, known.outcome = data, found, outcome
        return found


def fuzz(target: str, seeds: Sequence[bytes], worker: Worker, stats: Stats, *, seconds: float,
         max_examples: int, seed: int | None = None, derandomize: bool = False,
         stop_on_failure: bool = False, shrink: bool = False) -> None:
    """Run up to ``max_examples`` Hypothesis inputs (never beyond ``seconds``) through the
    worker. With ``stop_on_failure`` the first failure is raised (shrunk by Hypothesis
    when ``shrink``); otherwise failures are collected in ``stats`` and fuzzing goes on."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    deadline = time.monotonic() + seconds
    jobs_choices = (1, 2) if target == "hcl" else (1,)
    strategy = mutators.inputs(target, seeds)

    from hypothesis import strategies as st

    @settings(database=None, deadline=None, max_examples=max_examples, derandomize=derandomize,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              phases=[Phase.generate, Phase.shrink] if shrink else [Phase.generate], print_blob=False)
    @given(strategy, st.sampled_from(jobs_choices))
    def body(data: bytes, jobs: int) -> None:
        if time.monotonic() > deadline:
            return
        outcome = worker.run(target, data, jobs)
        found = stats.record(data, outcome)
        if found and stop_on_failure:
            raise AssertionError(f"{target} input {data!r}:\n  " + "\n  ".join(found) + "\n" + outcome.detail)

    if seed is not None and not derandomize:
        body = hypothesis_seed(seed)(body)
    started = time.monotonic()
    try:
        body()
    finally:
        stats.seconds += time.monotonic() - started


# --- shrinking --------------------------------------------------------------------------------


def minimize(target: str, data: bytes, key: str, worker: Worker, seconds: float = 120.0,
             log: Callable[[str], None] = lambda message: None) -> bytes:
    """A smaller input with the same failure signature: chunks of lines, then of bytes, are
    removed while the failure stays (delta debugging), within ``seconds``."""
    deadline = time.monotonic() + seconds

    def fails(candidate: bytes) -> bool:
        outcome = worker.run(target, candidate)
        found = targets.problems(target, outcome)
        return bool(found) and targets.signature(target, outcome, found) == key

    def reduce(units: list[bytes]) -> list[bytes]:
        chunk = max(1, len(units) // 2)
        while chunk >= 1 and time.monotonic() < deadline:
            index, progress = 0, False
            while index < len(units) and time.monotonic() < deadline:
                candidate = units[:index] + units[index + chunk:]
                if fails(b"".join(candidate)):
                    units, progress = candidate, True
                else:
                    index += chunk
            if not progress:
                chunk //= 2
        return units

    if not fails(data):
        log("the failure does not reproduce alone; not minimised")
        return data
    previous = None
    while previous != data and time.monotonic() < deadline:
        previous = data
        data = b"".join(reduce(data.splitlines(keepends=True)))
        data = b"".join(reduce([bytes([b]) for b in data]))
    log(f"minimised to {len(data)} bytes")
    return data
