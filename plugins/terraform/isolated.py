"""The evaluator in helper processes, for modules that may make it panic.

tfparse's Go code panics on a ``dynamic`` block whose ``for_each`` is a string,
number or bool, which is known only once evaluated (``for_each = local.ports``
where the local is ``-1``; found by fuzzing), and a Go panic aborts the whole
process. Modules with ``dynamic`` blocks or module calls are therefore evaluated
in a helper process: the same ``tfparse.load_from_path`` call, its output sent
back pickled. A helper serves one evaluation at a time and is kept for the next
(starting one costs ~0.1 s: Python and the evaluator's library); when one dies,
the module gets an input error and the next evaluation a new helper.
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
import tempfile
import threading
from multiprocessing.connection import Connection

#: What a helper runs: evaluate each (working folder, module folder, var paths) it is sent.
_SERVE = """
import os, pickle, sys
sys.path[:0] = {path!r}
from multiprocessing.connection import Connection
import tfparse
requests, replies = Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False)
while True:
    try:
        cwd, folder, vars_paths = pickle.loads(requests.recv_bytes())
    except EOFError:
        break
    try:
        os.chdir(cwd)  # paths are relative to the caller's folder, which may have changed
        reply = ("ok", tfparse.load_from_path(folder, stop_on_hcl_error=True, vars_paths=vars_paths))
    except tfparse.ParseError as exc:
        reply = ("error", str(exc))
    replies.send_bytes(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
"""


class _Helper:
    def __init__(self) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _SERVE.format(path=[p for p in sys.path if p]), str(request_read), str(reply_write)],
            pass_fds=(request_read, reply_write), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr)
        os.close(request_read)
        os.close(reply_write)
        self.requests = Connection(request_write, readable=False)
        self.replies = Connection(reply_read, writable=False)

    def load(self, cwd: str, folder: str, vars_paths: list[str]) -> tuple[str, object]:
        self.requests.send_bytes(pickle.dumps((cwd, folder, vars_paths)))
        return pickle.loads(self.replies.recv_bytes())

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


def load_from_path(folder: str, vars_paths: list[str]) -> dict:
    """``tfparse.load_from_path(folder, stop_on_hcl_error=True, vars_paths=...)`` in a helper;
    a helper that dies raises ``tfparse.ParseError`` saying how."""
    import tfparse

    global _owner
    cwd = os.getcwd()
    with _lock:
        if _owner != os.getpid():  # a forked worker: the helpers are its parent's
            _idle.clear()
            _owner = os.getpid()
        helper = _idle.pop() if _idle else None
    if helper is None:
        helper = _Helper()
    try:
        kind, value = helper.load(cwd, folder, vars_paths)
    except (EOFError, OSError):
        message = helper.death()
        helper.close()
        raise tfparse.ParseError(f"the evaluator (tfparse) crashed on this module: {message}") from None
    with _lock:
        _idle.append(helper)
    if kind == "error":
        raise tfparse.ParseError(value)
    return value


@atexit.register
def _close_helpers() -> None:
    with _lock:
        helpers = _idle[:] if _owner == os.getpid() else []
        _idle.clear()
    for helper in helpers:
        helper.close()
