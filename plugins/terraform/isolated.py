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
:class:`OverBudget` (a helper that dies having used half its memory budget or
more is over it, however it dies), a crash :class:`Crashed`; the caller makes
them input errors of the module. A helper serves one evaluation at a time and is kept for
the next (starting one costs ~0.1 s of CPU: Python and the evaluator's
library); when one dies or is killed, the next evaluation gets a new helper.
Many small modules' evaluations are sent to a helper ahead of time (:class:`Ahead`),
each with its own budgets.
"""

from __future__ import annotations

import atexit
import collections
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from multiprocessing.connection import Connection

from winportlint.interrupt import on_interrupt

from .environment import tf_var_environment

#: Seconds one evaluation may take; None: the engine's ``FILE_TIME_LIMIT``.
TIME_LIMIT: float | None = None
#: Bytes of memory a helper may write to (the evaluator's heap, its output and Python's);
#: 0: no limit. The largest benchmark evaluation (a 300-file module in one go) needs ~0.5 GB.
MEMORY_LIMIT = 4 << 30

#: What a helper runs: evaluate each (module folder, var paths) it is sent (an absolute folder,
#: the var paths relative to it, as the evaluator reads them); the reply is the evaluator's JSON
#: (it starts with "{"), or "E" and its error message, or "M" when Python ran out of memory (the
#: Go runtime aborts the process instead). It runs isolated (``-I -S``: no working folder, user
#: site, ``site`` or ``PYTHON*`` variable decides what it imports), with only the folders of
#: tfparse and its compiled dependency on ``sys.path`` after the standard library.
SERVE = """
import os, pickle, sys
limit = int(sys.argv[3])
if limit:
    import resource
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
sys.path += {path!r}
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
        folder, vars_paths = pickle.loads(requests.recv_bytes())
    except EOFError:  # the caller is done: exit without Python's finalization (~15 ms)
        os._exit(0)
    reply = None
    try:
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


def import_folders() -> list[str]:
    """The folders a helper imports tfparse and its compiled cffi backend from (found
    without importing them here: this process never loads the evaluator)."""
    global _import_folders
    if _import_folders is None:
        folders = []
        for name in ("tfparse", "_cffi_backend"):
            spec = importlib.util.find_spec(name)
            if spec is None or not spec.origin:
                continue  # the helper's import fails, reported as its crash
            folder = os.path.dirname(spec.origin)
            if spec.submodule_search_locations is not None:  # a package: its parent folder
                folder = os.path.dirname(folder)
            if folder not in folders:
                folders.append(folder)
        _import_folders = folders
    return _import_folders


_import_folders: list[str] | None = None
#: Variables of the evaluator's runtime that this process sets on purpose (see ``evaluate.choose_go_gc``).
_GO_VARIABLES = ("GOGC",)


def helper_environment(home: str) -> dict[str, str]:
    """A helper's whole environment: ``TF_VAR_*``, the Go runtime's settings chosen here, and its
    private folder as home (a ``~`` in a path expands to it, never to the user's; an empty
    HOME would make the evaluator run ``getent`` and ``sh`` to find one)."""
    environment = dict(tf_var_environment())
    environment.update((name, os.environ[name]) for name in _GO_VARIABLES if name in os.environ)
    environment["HOME"] = home
    if sys.platform == "win32":  # Python and Go need the system folder to start on Windows
        environment["USERPROFILE"] = home
        if "SYSTEMROOT" in os.environ:
            environment["SYSTEMROOT"] = os.environ["SYSTEMROOT"]
    return environment


class _Helper:
    def __init__(self) -> None:
        # A private empty folder is its working folder and home: nothing there to import or read.
        self.home = tempfile.mkdtemp(prefix="winportlint-helper-")
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        self.stderr = tempfile.TemporaryFile()
        self.limit = int(MEMORY_LIMIT)  # the helper's own, for as long as it lives
        #: The system counts this process's peak memory so far in the helper's (kept across exec).
        self.inherited_peak = _peak_so_far()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", SERVE.format(path=import_folders()), str(request_read),
             str(reply_write), str(self.limit)],
            pass_fds=(request_read, reply_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr, cwd=self.home, env=helper_environment(self.home))
        _running[self.process] = os.getpid()
        os.close(request_read)
        os.close(reply_write)
        self.requests = Connection(request_write, readable=False)
        self.replies = Connection(reply_read, writable=False)

    def load(self, folder: str, vars_paths: list[str], seconds: float) -> bytes | None:
        """The helper's reply, None when there is none after ``seconds``."""
        self.requests.send_bytes(_request(folder, vars_paths))
        if not self.replies.poll(seconds):
            return None
        return self.replies.recv_bytes()

    def death(self) -> tuple[str, bool]:
        """Why the helper died (the evaluator's panic or fatal error, else its exit status), and
        whether it was for want of memory. Under its budget the Go runtime dies in more ways
        than one, depending on which allocation fails first: a fatal error that names memory,
        an abort with only ``runtime/cgo: pthread_create failed`` (a thread's stack no longer
        fits), or the system's kill; so the runtime's words count, and so does the helper's
        own peak memory when it reached half the budget."""
        peak = _reap(self.process)
        self.stderr.seek(0)
        lines = self.stderr.read(65536).decode("utf-8", "replace").splitlines()
        said = next((line for line in lines if line.startswith(("panic:", "fatal error:"))), None)
        message = said or f"exit status {self.process.returncode}"
        if message.startswith("panic:"):
            return message, False
        own_peak = peak if peak > self.inherited_peak else 0  # else it may be this process's
        return message, any(words in line for line in lines for words in _OUT_OF_MEMORY) or \
            bool(self.limit) and own_peak >= self.limit // 2

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
        _running.pop(self.process, None)
        self.stderr.close()
        try:
            os.rmdir(self.home)
        except OSError:
            pass


#: Every helper not closed yet, and the process that started it (a forked worker inherits its parent's).
_running: dict[subprocess.Popen, int] = {}


def _kill_running() -> None:
    """Kill the helpers this process started, busy or idle: the run is being ended by a signal."""
    for process, owner in list(_running.items()):
        if owner == os.getpid():
            try:
                process.kill()
            except OSError:
                pass


on_interrupt(_kill_running)
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


def _take_helper() -> _Helper:
    """An idle helper, else a new one."""
    with _lock:
        _adopt()
        helper = _idle.pop() if _idle else None
    return helper if helper is not None else _Helper()


def _keep_helper(helper: _Helper) -> None:
    with _lock:
        _adopt()
        _idle.append(helper)


def load_from_path(folder: str, vars_paths: list[str]) -> dict:
    """``tfparse.load_from_path(folder, stop_on_hcl_error=True, vars_paths=...)`` in a helper.
    The evaluator's errors raise ``tfparse.ParseError``'s message as :class:`EvaluatorError`;
    a helper that dies raises :class:`Crashed`, one over a budget :class:`OverBudget`."""
    helper = _take_helper()
    seconds = time_limit()
    try:
        reply = helper.load(folder, vars_paths, seconds)
    except (EOFError, OSError):
        reply = b""
    if reply is None:
        helper.kill()
        raise OverBudget(f"took longer than {seconds:g} s (time budget)")
    if not reply:  # the helper died
        _raise_death(helper)
    _keep_helper(helper)
    return _decode(reply)


def _request(folder: str, vars_paths: list[str]) -> bytes:
    """An evaluation's request: the folder made absolute (the helper works in a folder of its
    own); the var paths stay relative to it (the evaluator joins them to it)."""
    return pickle.dumps((os.path.abspath(folder), vars_paths))


def _raise_death(helper: _Helper) -> None:
    """Raise why the helper died (it is closed)."""
    message, for_memory = helper.death()
    helper.close()
    if for_memory:
        raise OverBudget(f"needed more than {_size(helper.limit)} of memory (memory budget)")
    raise Crashed(f"the evaluator (tfparse) crashed on this module: {message}")


#: What the Go runtime, the C library or Python write when memory runs out (a thread that cannot
#: be made: its stack does not fit under the helper's data limit).
_OUT_OF_MEMORY = ("out of memory", "cannot allocate memory", "MemoryError", "pthread_create failed",
                  "failed to create new OS thread")


def _peak_so_far() -> int:
    """This process's peak resident memory in bytes, 0 where the system does not say."""
    try:
        import resource
    except ImportError:
        return 0
    return _bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _bytes(maxrss: int) -> int:
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # bytes on macOS, KiB elsewhere


def _reap(process: subprocess.Popen) -> int:
    """Wait for a helper that died (killed if it has not exited within 10 s); its peak
    resident memory in bytes, 0 where the system does not say."""
    deadline = time.monotonic() + 10
    while process.returncode is None and hasattr(os, "wait4"):
        late = time.monotonic() >= deadline
        if late:
            process.kill()
        try:
            pid, status, usage = os.wait4(process.pid, 0 if late else os.WNOHANG)
        except ChildProcessError:  # already waited for (its status is the Popen's)
            break
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return _bytes(usage.ru_maxrss)
        time.sleep(0.01)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return 0


def _decode(reply: bytes) -> dict:
    """The evaluator's output, or its error raised."""
    if reply[:1] == b"{":
        return json.loads(reply)
    if reply[:1] == b"M":
        raise OverBudget(f"needed more than {_size(MEMORY_LIMIT)} of memory (memory budget)")
    raise EvaluatorError(reply[1:].decode("utf-8", "replace"))


class Ahead:
    """Evaluations sent ahead to one helper, which works on the next while this process
    reads the last one's output (one helper for a part of many small modules: each
    wait for a reply is a switch between processes, ~0.5 ms on two cores).

    The helper answers in the order sent. Each evaluation has the same budgets as
    :func:`load_from_path`'s: its time runs from when the helper can have started it
    at the earliest (when it was sent, or when the previous reply was read: later
    than the helper's start, so never a shorter budget). One over a budget, or one
    that kills the helper, is that evaluation's error; those sent after it are sent
    again to a new helper. Use one instance from one thread.
    """

    def __init__(self) -> None:
        self._helper: _Helper | None = None
        #: Sent and not answered yet: the future and its request, in order.
        self._sent: collections.deque[tuple[_Answer, bytes]] = collections.deque()
        #: When the helper can have started on the first request of ``_sent``, at the earliest.
        self._since = 0.0

    def submit(self, folder: str, vars_paths: list[str]) -> Future:
        """Send the evaluation of ``folder``; the future's result is what :func:`load_from_path` gives."""
        answer = _Answer(self)
        self._send(answer, _request(folder, vars_paths))
        return answer

    def _send(self, answer: _Answer, request: bytes) -> None:
        if self._helper is None:
            self._helper = _take_helper()
        if not self._sent:
            self._since = time.monotonic()
        self._sent.append((answer, request))
        try:
            self._helper.requests.send_bytes(request)
        except OSError:  # the helper died: found out when its reply is awaited
            pass

    def wait_for(self, answer: _Answer) -> None:
        while not answer.done() and self._sent:
            self._receive()

    def _receive(self) -> None:
        """The first reply awaited, or that evaluation's failure."""
        answer, _ = self._sent[0]
        helper = self._helper
        seconds = time_limit()
        try:
            reply = helper.replies.recv_bytes() if helper.replies.poll(
                max(0.0, self._since + seconds - time.monotonic())) else None
        except (EOFError, OSError):
            reply = b""
        self._sent.popleft()
        self._since = time.monotonic()
        if reply:
            try:
                _settle(answer, _decode(reply))
            except Exception as exc:
                _settle(answer, exc)
            return
        self._helper = None
        try:
            if reply is None:
                helper.kill()
                raise OverBudget(f"took longer than {seconds:g} s (time budget)")
            _raise_death(helper)
        except (OverBudget, Crashed) as exc:
            _settle(answer, exc)
        finally:
            rest = list(self._sent)
            self._sent.clear()
            for later, request in rest:  # the next ones on a new helper
                self._send(later, request)

    def close(self) -> None:
        """Keep the helper for later evaluations, or stop it if it still has work."""
        helper, self._helper = self._helper, None
        if helper is None:
            return
        if self._sent:
            for answer, _ in self._sent:
                answer.cancel()
            self._sent.clear()
            helper.kill()
        else:
            _keep_helper(helper)


def _settle(answer: Future, outcome) -> None:
    if not answer.cancelled():
        if isinstance(outcome, BaseException):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)


class _Answer(Future):
    """A future that an :class:`Ahead` settles when its result is asked for."""

    def __init__(self, ahead: Ahead):
        super().__init__()
        self._ahead = ahead

    def result(self, timeout: float | None = None):
        self._ahead.wait_for(self)
        return super().result(timeout)

    def exception(self, timeout: float | None = None):
        self._ahead.wait_for(self)
        return super().exception(timeout)


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
