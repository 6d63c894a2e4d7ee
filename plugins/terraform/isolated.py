"""The evaluator in helper processes, with a time and a memory budget.

tfparse's Go code cannot be stopped once it runs, and it can run for hours or
take all the memory of the machine on a few lines (``count = 100000`` on a
resource is quadratic in it; locals that double a string 30 times want 16 GB),
and it panics on some input (a ``dynamic`` block whose ``for_each`` is known
only once evaluated to be a number, found by fuzzing), which aborts the whole
process. No look at the bytes tells such a module from a harmless one, so every
evaluation runs in a helper process: the same ``tfparse.load_from_path`` call,
its JSON output sent back as it is and decoded here (as tfparse decodes it).

A helper lives under a memory limit (``RLIMIT_DATA``: the memory it writes to,
not the address space Go reserves) of :data:`MEMORY_LIMIT`; an evaluation that
does not answer within :data:`TIME_LIMIT` seconds (the engine's limit for one
file, ``FILE_TIME_LIMIT``, by default) has its helper killed. Either is
:class:`OverBudget`, a crash :class:`Crashed`; the caller makes them input
errors of the module. A helper serves one evaluation at a time and is kept for
the next (starting one costs ~0.1 s of CPU: Python and the evaluator's
library); when one dies or is killed, the next evaluation gets a new helper.
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from multiprocessing.connection import Connection

#: Seconds one evaluation may take; None: the engine's ``FILE_TIME_LIMIT``.
TIME_LIMIT: float | None = None
#: Bytes of memory a helper may write to (the evaluator's heap, its output and Python's);
#: 0: no limit. The largest benchmark evaluation (a 300-file module in one go) needs ~0.5 GB.
MEMORY_LIMIT = 4 << 30

#: What a helper runs: evaluate each (working folder, module folder, var paths) it is sent;
#: the reply is the evaluator's JSON (it starts with "{"), or "E" and its error message,
#: or "M" when Python ran out of memory (the Go runtime aborts the process instead).
_SERVE = """
import os, pickle, sys
limit = int(sys.argv[3])
if limit:
    import resource
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
sys.path[:0] = {path!r}
from multiprocessing.connection import Connection
import tfparse

class _AsIs:  # tfparse decodes its JSON with json.loads: the caller does it instead
    @staticmethod
    def loads(data):
        return data

tfparse.json = _AsIs
requests, replies = Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
while True:
    try:
        cwd, folder, vars_paths = pickle.loads(requests.recv_bytes())
    except EOFError:
        break
    reply = None
    try:
        os.chdir(cwd)  # paths are relative to the caller's folder, which may have changed
        reply = tfparse.load_from_path(folder, stop_on_hcl_error=True, vars_paths=vars_paths)
        if not isinstance(reply, bytes):  # a tfparse that does not decode with json.loads
            import json
            reply = json.dumps(reply).encode()
    except tfparse.ParseError as exc:
        reply = b"E" + str(exc).encode("utf-8", "replace")
    except MemoryError:
        reply = None
    replies.send_bytes(reply if reply is not None else b"M")
    reply = None
"""


class Crashed(Exception):
    """The helper died: the evaluator's panic, or an exit status."""


class OverBudget(Exception):
    """The evaluation took longer than the time budget, or more memory than the memory budget."""


class _Helper:
    def __init__(self) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVE.format(path=[p for p in sys.path if p]), str(request_read), str(reply_write),
             str(int(MEMORY_LIMIT))],
            pass_fds=(request_read, reply_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr)
        os.close(request_read)
        os.close(reply_write)
        self.requests = Connection(request_write, readable=False)
        self.replies = Connection(reply_read, writable=False)

    def load(self, cwd: str, folder: str, vars_paths: list[str], seconds: float) -> bytes | None:
        """The helper's reply, None when there is none after ``seconds``."""
        self.requests.send_bytes(pickle.dumps((cwd, folder, vars_paths)))
        if not self.replies.poll(seconds):
            return None
        return self.replies.recv_bytes()

    def death(self) -> str:
        """Why the helper died: the evaluator's panic message, or its exit status."""
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.stderr.seek(0)
        lines = self.stderr.read(65536).decode("utf-8", "replace").splitlines()
        panic = next((line for line in lines if line.startswith(("panic:", "fatal error:"))), None)
        return panic or f"exit status {code}"

    def kill(self) -> None:
        self.process.kill()
        self.close()

    def close(self) -> None:
        self.requests.close()
        self.replies.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.stderr.close()


_idle: list[_Helper] = []
_lock = threading.Lock()
_owner = os.getpid()


def time_limit() -> float:
    if TIME_LIMIT is not None:
        return TIME_LIMIT
    from winportlint.engine import FILE_TIME_LIMIT

    return FILE_TIME_LIMIT


def start_helpers(count: int) -> None:
    """Have ``count`` idle helpers (they start while this process goes on)."""
    with _lock:
        _adopt()
        missing = count - len(_idle)
    for _ in range(missing):
        helper = _Helper()
        with _lock:
            _idle.append(helper)


def _adopt() -> None:
    """In a forked worker, the helpers are its parent's (under the lock)."""
    global _owner
    if _owner != os.getpid():
        _idle.clear()
        _owner = os.getpid()


def load_from_path(folder: str, vars_paths: list[str]) -> dict:
    """``tfparse.load_from_path(folder, stop_on_hcl_error=True, vars_paths=...)`` in a helper.
    The evaluator's errors raise ``tfparse.ParseError``'s message as :class:`EvaluatorError`;
    a helper that dies raises :class:`Crashed`, one over a budget :class:`OverBudget`."""
    cwd = os.getcwd()
    with _lock:
        _adopt()
        helper = _idle.pop() if _idle else None
    if helper is None:
        helper = _Helper()
    seconds = time_limit()
    try:
        reply = helper.load(cwd, folder, vars_paths, seconds)
    except (EOFError, OSError):
        reply = b""
    if reply is None:
        helper.kill()
        raise OverBudget(f"took longer than {seconds:g} s (time budget)")
    if not reply:  # the helper died
        message = helper.death()
        helper.close()
        if "out of memory" in message or "cannot allocate memory" in message:
            raise OverBudget(f"needed more than {_size(MEMORY_LIMIT)} of memory (memory budget)")
        raise Crashed(f"the evaluator (tfparse) crashed on this module: {message}")
    with _lock:
        _idle.append(helper)
    if reply[:1] == b"{":
        return json.loads(reply)
    if reply[:1] == b"M":
        raise OverBudget(f"needed more than {_size(MEMORY_LIMIT)} of memory (memory budget)")
    raise EvaluatorError(reply[1:].decode("utf-8", "replace"))


class EvaluatorError(Exception):
    """The evaluator's own error (``tfparse.ParseError``): its message."""


def _size(limit: int) -> str:
    return f"{limit / (1 << 30):g} GB" if limit >= 1 << 30 else f"{limit / (1 << 20):g} MB"


@atexit.register
def close_helpers() -> None:
    """Close this process's idle helpers (they exit)."""
    with _lock:
        helpers = _idle[:] if _owner == os.getpid() else []
        _idle.clear()
    for helper in helpers:
        helper.close()
