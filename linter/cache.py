"""A content-hash cache of lint results, so that a second run over unchanged files costs little.

An entry holds one file's (or one folder unit's) findings and input errors,
keyed by a hash of the run (tool code and version, plugins, enabled checks,
catalog, format settings, configuration file) and of the input bytes. A
result that also depends on files outside its key (a Terraform module's
called modules, variable files) records their hashes, and is used only while
they still match.

Entries are pickles of winportlint's own record types, read back with an
unpickler that may build nothing else; an entry that does not load is a miss.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import time
from collections.abc import Iterable, Sequence

#: Raised with each change of the entry layout.
LAYOUT = "2"
#: Entries unused for this long are removed (checked at most once a day).
MAX_AGE_SECONDS = 30 * 24 * 3600
_ALLOWED_GLOBALS = {
    ("winportlint.model", name) for name in (
        "Location", "Provenance", "PortRange", "Peer", "Ignore", "Permission", "CatalogHit", "Finding",
        "InputError", "Direction", "Severity", "TargetContext")
} | {("ipaddress", "IPv4Network"), ("ipaddress", "IPv6Network")}


def default_directory() -> str:
    """``$WINPORTLINT_CACHE_DIR``, else the platform's user cache folder."""
    if os.environ.get("WINPORTLINT_CACHE_DIR"):
        return os.environ["WINPORTLINT_CACHE_DIR"]
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
        return os.path.join(base, "winportlint", "Cache")
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/winportlint")
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "winportlint")


def digest(*parts: bytes | str) -> str:
    """A hash of the parts, each length-prefixed so that no two sequences collide by concatenation."""
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


def file_digest(path: str) -> str:
    """The hash of a file's bytes; ``missing`` when it cannot be read (so that its appearance is a change)."""
    from .textfile import read_bytes

    try:
        return digest(read_bytes(path))
    except OSError:
        return "missing"


def code_identity(packages: Iterable[object]) -> str:
    """What the running code is: the version, the Python, and every source and data file's
    size and time in the packages' folders (an edited editable install is a new tool)."""
    from . import __version__

    files: set[str] = set()
    for package in packages:
        for folder in getattr(package, "__path__", ()):
            for root, dirs, names in os.walk(folder):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                files.update(os.path.join(root, n) for n in names if n.endswith((".py", ".yaml", ".json")))
    parts = [__version__, sys.version]
    for path in sorted(files):
        stat = os.stat(path)
        parts.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return digest(*parts)


class _RecordUnpickler(pickle.Unpickler):
    """Builds winportlint records and IP networks; anything else in an entry makes it unreadable."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"{module}.{name} is not a winportlint record")
        return super().find_class(module, name)


class Cache:
    """Entries below ``directory``; every failure to read or write is a miss, never an error."""

    def __init__(self, directory: str, run_key: str) -> None:
        self.directory = os.path.join(directory, f"v{LAYOUT}")
        self.run_key = run_key
        self.hits = 0
        self.misses = 0

    def key(self, *parts: bytes | str) -> str:
        return digest(self.run_key, *parts)

    def get(self, key: str) -> object | None:
        """The stored value, or ``None``; a value with recorded inputs only while their hashes match."""
        try:
            with open(self._path(key), "rb") as handle:
                inputs, value = _RecordUnpickler(io.BytesIO(handle.read())).load()
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError):
            self.misses += 1
            return None
        if any(file_digest(path) != expected for path, expected in inputs):
            self.misses += 1
            return None
        self.hits += 1
        try:
            os.utime(self._path(key))  # in use: not pruned
        except OSError:
            pass
        return value

    def put(self, key: str, value: object, inputs: Sequence[str] = ()) -> None:
        """Store a value, with the hashes of the other files it was computed from."""
        path = self._path(key)
        import tempfile

        recorded = tuple((name, file_digest(name)) for name in inputs)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            with os.fdopen(handle, "wb") as stream:
                pickle.dump((recorded, value), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except OSError:
            return

    def prune(self, now: float | None = None) -> None:
        """Remove entries older than :data:`MAX_AGE_SECONDS`, at most once a day."""
        now = time.time() if now is None else now
        marker = os.path.join(self.directory, "last-pruned")
        try:
            if now - os.stat(marker).st_mtime < 24 * 3600:
                return
        except OSError:
            pass
        try:
            os.makedirs(self.directory, exist_ok=True)
            with open(marker, "w"):
                pass
            for shard in os.scandir(self.directory):
                if shard.is_dir():
                    for entry in os.scandir(shard.path):
                        if now - entry.stat().st_mtime > MAX_AGE_SECONDS:
                            os.unlink(entry.path)
        except OSError:
            return

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, key[:2], key)
