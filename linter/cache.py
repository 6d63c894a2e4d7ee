"""A content-hash cache of lint results, so that a second run over unchanged files costs little.

An entry holds one file's (or one folder unit's) findings and input errors,
keyed by a hash of the run (tool code and version, plugins, enabled checks,
catalog, format settings, configuration file) and of the input bytes that
were parsed. A result that also depends on files outside its key (a
Terraform module's called and downloaded modules, variable files) records
their hashes, and is used only while they still match.

Nothing in the cache folder is trusted: it may be restored from a CI cache
that anyone who can open a pull request could write. An entry is JSON,
decoded into winportlint's own records against a strict schema (loading it
runs no code), and carries an HMAC under a key kept outside the cache folder
(see :func:`secret`). An entry that does not verify, does not decode or has
the wrong shape is a miss.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from operator import itemgetter
from ipaddress import IPv4Network, IPv6Network, ip_network

from .model import (CatalogHit, Direction, Finding, Fix, Ignore, InputError, Location, Peer, Permission, PortRange,
                    Provenance, Severity, TargetContext, TextEdit)
from .textfile import MAX_FILE_BYTES, UnreadableFile, read_bytes

#: Raised with each change of the entry layout.
LAYOUT = "5"
#: Entries unused for this long are removed (checked at most once a day).
MAX_AGE_SECONDS = 30 * 24 * 3600
#: An input whose change time is this close to the start of its reading (or later) may have been
#: read before the change: the result is not stored (file systems keep times in steps of up to 2 s).
SETTLE_SECONDS = 2.0
#: The digest of an input that exists but cannot be read whole (not a regular file, too large):
#: a result that depends on one is not stored.
UNREADABLE = "unreadable"

#: One unit's result: its findings, its input errors and the files it evaluated as children
#: (see ``FileResult.children``).
Outcome = tuple[list[Finding], list[InputError], list[str]]


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


def key_file() -> str:
    """Where the cache key lives: the user's configuration folder, never the cache folder."""
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~\\AppData\\Roaming")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return os.path.join(base, "winportlint", "cache-key")


class NoKey(Exception):
    """No key to authenticate entries with: the run goes without the cache."""


#: Fewer characters in ``$WINPORTLINT_CACHE_KEY`` could be guessed from an entry.
MIN_KEY_CHARACTERS = 32


def secret() -> bytes:
    """The key entries are authenticated with: ``$WINPORTLINT_CACHE_KEY`` (CI runners that share a
    cache hold it as a secret), else the key file, created with 32 random bytes, readable by the user only."""
    configured = os.environ.get("WINPORTLINT_CACHE_KEY")
    if configured is not None:
        if len(configured) < MIN_KEY_CHARACTERS:
            raise NoKey(f"WINPORTLINT_CACHE_KEY is shorter than {MIN_KEY_CHARACTERS} characters")
        return configured.encode("utf-8", "surrogateescape")
    path = key_file()
    if not os.path.lexists(path):
        _create_key(path)
    try:
        status = os.lstat(path)
        if os.name == "posix" and (status.st_uid != os.getuid() or status.st_mode & 0o077):
            raise NoKey(f"{path} is not the user's own, or others may read or write it")
        text = read_bytes(path).strip()
    except (OSError, UnreadableFile) as exc:
        raise NoKey(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if len(text) != 64 or not all(c in b"0123456789abcdef" for c in text):
        raise NoKey(f"{path} is not a key (64 hexadecimal digits); remove it to make a new one")
    return bytes.fromhex(text.decode("ascii"))


def _create_key(path: str) -> None:
    """Write a new key beside ``path`` and link it into place (a run starting at the same time
    keeps the key it linked first)."""
    import tempfile

    temporary = None
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(handle, "w") as stream:
            stream.write(os.urandom(32).hex() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    except OSError as exc:
        raise NoKey(f"cannot create {path}: {exc.strerror or exc}") from None
    finally:
        if temporary is not None:
            _remove(temporary)


def digest(*parts: bytes | str) -> str:
    """A hash of the parts, each length-prefixed so that no two sequences collide by concatenation."""
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8", "surrogateescape") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


def file_digest(path: str) -> str:
    """What an input is: the hash of a file's bytes, or of a folder's names (a file added or removed
    is a change); ``missing`` when it does not exist (so that its appearance is a change), else
    :data:`UNREADABLE`. Read with the one size-limited reader: a FIFO never blocks it."""
    try:
        if os.path.isdir(path):
            return "folder " + digest(*sorted(os.listdir(path)))
        return digest(read_bytes(path))
    except UnreadableFile:
        return UNREADABLE
    except FileNotFoundError:
        return "missing"
    except OSError:
        return UNREADABLE


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
        status = os.stat(path)
        parts.append(f"{path}:{status.st_size}:{status.st_mtime_ns}")
    return digest(*parts)


class _Invalid(ValueError):
    """An entry whose JSON is not the shape of an outcome."""


Decoder = Callable[[object], object]
#: A field's type in the schema: ``str`` or ``int`` (checked in place), else its decoder.
Field = type | Decoder


def _check(kind: type, value: object):
    if type(value) is not kind:
        raise _Invalid(f"not a {kind.__name__}")
    return value


@lru_cache(maxsize=4096)
def _parsed_network(text: str) -> IPv4Network | IPv6Network:
    return ip_network(text)


def _network(value: object) -> IPv4Network | IPv6Network:
    """Networks are few and immutable: each text is parsed once."""
    return _parsed_network(_check(str, value))


def _optional(field: Field) -> Decoder:
    decode = _decoder(field)
    return lambda value: None if value is None else decode(value)


def _tuple_of(field: Field) -> Decoder:
    def decoded(value: object) -> tuple:
        if type(value) is not list:
            raise _Invalid("not a list")
        if isinstance(field, type):
            if any(type(item) is not field for item in value):
                raise _Invalid(f"not a list of {field.__name__}")
            return tuple(value)
        return tuple([field(item) for item in value])
    return decoded


def _record(kind: type, *fields: Field) -> Decoder:
    """A NamedTuple from the list of its fields in order (decoded in place: the list is
    fresh from the JSON decoder). The plain fields' types are compared in one go."""
    if len(fields) != len(kind._fields):
        raise TypeError(f"the schema of {kind.__name__} does not name every field")
    size = len(fields)
    plain = tuple(index for index, field in enumerate(fields) if isinstance(field, type))
    plain_types = tuple(fields[index] for index in plain)
    pick = itemgetter(*plain, 0) if plain else None  # always a tuple (the extra item is not compared)
    nested = [(index, field) for index, field in enumerate(fields) if not isinstance(field, type)]

    def decoded(value: object):
        if type(value) is not list or len(value) != size or \
                pick is not None and tuple(map(type, pick(value)))[:-1] != plain_types:
            raise _Invalid(f"not a {kind.__name__}")
        for index, decode in nested:
            value[index] = decode(value[index])
        return kind(*value)
    return decoded


def _decoder(field: Field) -> Decoder:
    return (lambda value: _check(field, value)) if isinstance(field, type) else field


def _enum(kind: type) -> Decoder:
    members = {member.value: member for member in kind}

    def decoded(value: object):
        if type(value) is not str or value not in members:
            raise _Invalid(f"not a {kind.__name__}")
        return members[value]
    return decoded


def _string_pair(value: object) -> tuple[str, str]:
    """Two strings: a recorded input's path and digest, a tag's key and value."""
    if type(value) is not list or len(value) != 2:
        raise _Invalid("not a pair of strings")
    return _check(str, value[0]), _check(str, value[1])


_location = _record(Location, str, int, int)
_ports = _record(PortRange, int, int)
_strings = _tuple_of(str)
_peer = _record(Peer, str, str, _optional(_network))
_permission = _record(
    Permission, str, str, str, _enum(Direction), str, _optional(_ports),
    _peer, _location, _location,
    _tuple_of(_record(Provenance, str, str, str, _optional(_location))), _optional(_location),
    _tuple_of(_record(Ignore, _strings, str, _location, str, str)), str, _optional(int), str, _strings,
    _tuple_of(_ports), _tuple_of(_string_pair))
_finding = _record(Finding, str, _enum(Severity), str, _permission,
                   _tuple_of(_record(CatalogHit, str, str, str, str, _strings)), str,
                   _tuple_of(_record(TargetContext, str, str, str, _strings, _strings)), _tuple_of(_peer),
                   _tuple_of(_record(Fix, str, str, _tuple_of(_record(TextEdit, str, int, int, str)))))
_findings = _tuple_of(_finding)
_errors = _tuple_of(_record(InputError, str, int, str))
_inputs = _tuple_of(_string_pair)


def _outcome(value: object) -> Outcome:
    """A file's or folder unit's findings, input errors and the files it evaluated as children."""
    if type(value) is not list or len(value) != 3:
        raise _Invalid("not an outcome")
    return list(_findings(value[0])), list(_errors(value[1])), list(_strings(value[2]))


def _comment(value: object) -> tuple[int, int, str]:
    if type(value) is not list or len(value) != 3:
        raise _Invalid("not a comment")
    return _check(int, value[0]), _check(int, value[1]), _check(str, value[2])


#: What an entry may hold, each with its decoder: a lint outcome, or a file's comments
#: (``(line, column, text)``, for suppressions).
OUTCOME: Decoder = _outcome
COMMENTS: Decoder = lambda value: list(_tuple_of(_comment)(value))
#: Entry names (see :class:`UnreadFiles`).
NAMES: Decoder = lambda value: frozenset(_strings(value))
#: At most this many names of files no format reads are kept (a few MB of JSON).
MAX_UNREAD = 100_000


def _decode(body: bytes, payload: Decoder) -> tuple[tuple[tuple[str, str], ...], object]:
    """The recorded inputs and the payload of an entry's body; :class:`_Invalid` (or another
    ``ValueError``) when it has any other shape."""
    entry = json.loads(body)
    if type(entry) is not list or len(entry) != 2:
        raise _Invalid("not an entry")
    return _inputs(entry[0]), payload(entry[1])


def _encoded(value: object) -> str:
    """IP networks as their text; records are tuples, enums strings, both native to JSON."""
    if isinstance(value, (IPv4Network, IPv6Network)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a winportlint record")


class Cache:
    """Entries below ``directory``, authenticated with ``key`` (see :func:`secret`); every failure
    to read or write is a miss, never an error."""

    def __init__(self, directory: str, run_key: str, key: bytes) -> None:
        self.directory = os.path.join(directory, f"v{LAYOUT}")
        self.run_key = run_key
        self._secret = key
        self.hits = 0
        self.misses = 0

    def key(self, *parts: bytes | str) -> str:
        """An entry's name: keyed with the secret too, so that a name tells nothing of what it hashes
        (a ``TF_VAR_`` password, say) to whoever can read the cache folder."""
        return hmac.new(self._secret, digest(self.run_key, *parts).encode("ascii"), hashlib.sha256).hexdigest()[:40]

    def get(self, key: str, payload: Decoder = OUTCOME) -> object | None:
        """The stored value, decoded by ``payload`` (:data:`OUTCOME` or :data:`COMMENTS`), or ``None``;
        one with recorded inputs only while their hashes match."""
        path = self._path(key)
        try:
            data = read_bytes(path)
            mac, separator, body = data[:64], data[64:65], data[65:]
            if separator != b"\n" or not hmac.compare_digest(mac, self._mac(key, body).encode("ascii")):
                raise _Invalid("not authentic")
            inputs, value = _decode(body, payload)
        except (OSError, UnreadableFile, ValueError, RecursionError):
            self.misses += 1
            return None
        if any(file_digest(name) != expected for name, expected in inputs):
            self.misses += 1
            return None
        self.hits += 1
        try:
            os.utime(path)  # in use: not pruned
        except OSError:
            pass
        return value

    def put(self, key: str, value: Outcome | list[tuple[int, int, str]], inputs: Sequence[str] = (),
            since: float | None = None) -> None:
        """Store an outcome (or a file's comments), with the hashes of the other files it was
        computed from; nothing when one of them cannot be read whole, or changed after ``since``
        (when their reading began: the outcome may be of their earlier content)."""
        import tempfile

        recorded = [(name, file_digest(name)) for name in dict.fromkeys(inputs)]
        if any(value == UNREADABLE for _, value in recorded) or since is not None and _changed_since(
                [name for name, _ in recorded], since):
            return
        try:
            body = json.dumps([recorded, value], default=_encoded,
                              separators=(",", ":")).encode("ascii")
        except (TypeError, ValueError):
            return
        if len(body) + 65 > MAX_FILE_BYTES:  # it would never be read
            return
        path = self._path(key)
        temporary = None
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not all(_is_folder(folder) for folder in (self.directory, os.path.dirname(path))):
                return  # a symlink planted in the cache folder: entries would be written elsewhere
            handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            with os.fdopen(handle, "wb") as stream:
                stream.write(self._mac(key, body).encode("ascii") + b"\n" + body)
            os.replace(temporary, path)
            temporary = None
        except OSError:
            return
        finally:
            if temporary is not None:
                _remove(temporary)

    def prune(self, now: float | None = None) -> None:
        """Remove entries older than :data:`MAX_AGE_SECONDS`, at most once a day (only files
        in the shard folders: a symlink planted there is removed, never followed)."""
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
            shards = [shard.path for shard in os.scandir(self.directory) if shard.is_dir(follow_symlinks=False)]
        except OSError:
            return
        for shard in shards:
            try:
                entries = list(os.scandir(shard))
            except OSError:
                continue
            for entry in entries:
                try:
                    if not entry.is_dir(follow_symlinks=False) and \
                            now - entry.stat(follow_symlinks=False).st_mtime > MAX_AGE_SECONDS:
                        os.unlink(entry.path)
                except OSError:
                    continue

    def _mac(self, key: str, body: bytes) -> str:
        """The entry's tag: its body bound to its key, so that an authentic entry moved under
        another key does not verify."""
        return hmac.new(self._secret, key.encode("ascii") + b"\n" + body, hashlib.sha256).hexdigest()

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, key[:2], key)


def _changed_since(paths: Iterable[str], since: float) -> bool:
    """Whether a file's content or status changed within :data:`SETTLE_SECONDS` of ``since`` or later."""
    for path in paths:
        try:
            status = os.stat(path)
        except OSError:
            continue  # missing: recorded as such, and its appearance is a change
        if max(status.st_mtime, status.st_ctime) >= since - SETTLE_SECONDS:
            return True
    return False


def _is_folder(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class UnreadFiles:
    """The entry names of files that no format reads (in most folders, most ``.json`` and
    ``.yaml`` files are no template): all in one entry, so that a run over them writes one
    file, not one for each, and the next run does not send their bytes to a format again."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache
        self._key = cache.key("files no format reads")
        counts = cache.hits, cache.misses  # the entry of no file: files are counted, not it
        self._known = cache.get(self._key, NAMES) or frozenset()
        cache.hits, cache.misses = counts
        self._seen: set[str] = set()
        self._new: set[str] = set()

    def __contains__(self, key: str) -> bool:
        """Whether no format read the file of that entry name (a hit of the cache)."""
        if key in self._known:
            self._seen.add(key)
            self._cache.hits += 1
            return True
        return False

    def add(self, key: str) -> None:
        self._new.add(key)

    def save(self) -> None:
        """Store the names known, the new ones added (only those of this run, past
        :data:`MAX_UNREAD`)."""
        if not self._new:
            return
        names = self._known | self._new
        if len(names) > MAX_UNREAD:
            names = self._seen | self._new
        self._cache.put(self._key, sorted(names))
