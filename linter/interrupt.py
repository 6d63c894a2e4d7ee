"""Ending a run on SIGINT, SIGTERM or SIGHUP: the processes it started end with it.

Left alone, a forked worker outlives its parent holding the parent's standard
output open (a CI step that reads it waits forever), and SIGINT prints a
traceback. Under :func:`handled`, a signal ends this process's worker processes
and whatever helpers were registered with :func:`on_interrupt`, then raises
:class:`Interrupted` in the main process, which exits 128 + the signal's number.
A forked worker inherits the handler: on SIGTERM or SIGHUP it ends its own
helpers and exits at once; SIGINT (the whole foreground process group gets it
from the terminal) it leaves to its parent, which ends it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

#: The signals that end a run, where the platform has them.
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
#: Seconds a worker has to end on SIGTERM before it is killed.
GRACE = 2.0

_cleanups: list[Callable[[], None]] = []
_main_pid = 0


class Interrupted(BaseException):
    """A signal ended the run. Not an Exception: no ``except Exception`` may swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def on_interrupt(cleanup: Callable[[], None]) -> None:
    """Run ``cleanup`` in any process of the run that a signal ends (it must end only the
    processes of the process it runs in, must not take locks, and must not raise)."""
    _cleanups.append(cleanup)


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """The signals end the run as said above while in this block (in the main thread only:
    elsewhere Python cannot set handlers); the previous handlers come back after it."""
    global _main_pid
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _handle) for number in SIGNALS}
    _main_pid = os.getpid()
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _handle(signum: int, frame) -> None:
    worker = os.getpid() != _main_pid
    if worker and signum == getattr(signal, "SIGINT", None):
        return
    end_children()
    if worker:
        os._exit(128 + signum)
    raise Interrupted(signum)


def end_children() -> None:
    """End the worker processes and registered helpers of this process: SIGTERM, then
    SIGKILL for a worker that has not ended within :data:`GRACE` seconds."""
    for cleanup in _cleanups:
        cleanup()
    if "multiprocessing" not in sys.modules:  # no worker was started
        return
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(GRACE)
        if child.is_alive():
            child.kill()
            child.join()
