"""Ending a run on SIGINT, SIGTERM or SIGHUP: the processes it started end with it.

Left alone, a forked worker outlives its parent holding the parent's standard
output open (a CI step that reads it waits forever), and SIGINT prints a
traceback. Under :func:`handled`, a signal ends this process's worker processes
and whatever helpers were registered with :func:`on_interrupt`, then raises
:class:`Interrupted` in the main process, which exits 128 + the signal's number.
A forked worker inherits the handler: on SIGTERM or SIGHUP it ends its own
helpers and exits at once; SIGINT (the whole foreground process group gets it
from the terminal) it leaves to its parent, which ends it. Workers are started
under :func:`deferred`, so that a signal never finds a worker its run does not know.
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
#: The signal that ended the run, if one did.
_received = 0
#: The signal mask a process forked under :func:`deferred` gets back (None elsewhere).
_forked_mask: set[signal.Signals] | None = None


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
    elsewhere Python cannot set handlers); the previous handlers come back after it.

    Python swallows an exception raised by a handler that runs inside some callbacks (a
    finalizer, say): a block that ends anyway after a signal raises :class:`Interrupted`
    then, and one that fails (its workers gone) can tell why from :func:`received`."""
    global _main_pid, _received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _handle) for number in SIGNALS}
    _main_pid, _received = os.getpid(), 0
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if _received:
        raise Interrupted(_received)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """The signals wait while a pool starts its workers in this block, and come at its end.

    A signal handled between a worker's fork and its pool's noting it ended the other
    workers and left that one running, holding standard output open, and waiting for work
    no one would send. The signals are blocked in this thread, enough where it runs alone
    (the pools start so; threads started here keep them blocked). A process forked here
    gets its mask back as it starts: a signal sent to it meanwhile waits till then."""
    global _forked_mask
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    _forked_mask = previous
    try:
        yield
    finally:
        _forked_mask = None
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _unblock_forked() -> None:
    global _forked_mask
    if _forked_mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, _forked_mask)
        _forked_mask = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_unblock_forked)


def received() -> int:
    """The signal that ended the run, 0 if none did."""
    return _received


def _handle(signum: int, frame) -> None:
    global _received
    worker = os.getpid() != _main_pid
    if worker and signum == getattr(signal, "SIGINT", None):
        return
    if worker:  # its helpers only: it starts no worker, and may not have forgotten its parent's yet
        _run_cleanups()
        os._exit(128 + signum)
    _received = _received or signum
    # No traceback from here on: of a worker pool's thread that finds its workers gone (as they
    # are being ended: its management thread then fails a future the run had cancelled, and
    # printed that while the workers ended), or of this exception where Python swallows it (then
    # ``handled`` raises it again).
    threading.excepthook = sys.unraisablehook = _quiet
    _end_children()
    raise Interrupted(signum)


def _quiet(arguments) -> None:
    """Nothing to say: the run is being ended."""


def _run_cleanups() -> None:
    for cleanup in _cleanups:
        cleanup()


def _end_children() -> None:
    """End the worker processes and registered helpers of this process: SIGTERM, then
    SIGKILL for a worker that has not ended within :data:`GRACE` seconds."""
    _run_cleanups()
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
