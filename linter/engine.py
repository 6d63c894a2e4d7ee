"""One lint run: discover files, read them with format plugins, run checks, filter."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from .excerpt import excerpts_in
from .interrupt import deferred
from .model import FileResult, Finding, InputError
from .textfile import UnreadableFile, read_bytes

if TYPE_CHECKING:
    from .cache import Cache
    from .catalog import Catalog

#: Folders that never hold a user's templates.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", ".terraform", ".terragrunt-cache", "node_modules", "__pycache__",
                          ".venv", "venv", ".tox", ".nox", ".mypy_cache", ".pytest_cache"})


class Selection(NamedTuple):
    """Which checks run and which findings count: ids or id prefixes."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def enabled(self, check) -> bool:
        if any(check.id.startswith(prefix) for prefix in self.ignore):
            return False
        if self.select:
            return any(check.id.startswith(prefix) for prefix in self.select)
        return check.enabled_by_default


def split_ids(values: Sequence[str] | None) -> tuple[str, ...]:
    """Check ids or prefixes as ``--select``/``--ignore`` take them: each value a comma-separated
    list, upper-cased, blanks dropped (the command line and the editors' settings alike)."""
    return tuple(part.strip().upper() for value in values or () for part in value.split(",") if part.strip())


def chosen_checks(checks: Sequence, config, given: Selection, given_origin: str) -> list:
    """The checks that run, by id: ``given`` (the command line's or the editor's ``select`` and
    ``ignore``) in place of the configuration's where it names any; a ValueError naming where an
    id no check starts with is written (``given_origin`` followed by the key, or the file's key)."""
    from .excerpt import excerpt

    known_ids = {check.id for check in checks}
    chosen = {}
    for key in ("select", "ignore"):
        named = getattr(given, key)
        chosen[key] = named or getattr(config, key)
        for prefix in chosen[key]:
            if not any(check_id.startswith(prefix) for check_id in known_ids):
                origin = f"{given_origin}{key}" if named else f"{config.where}: {key}"
                raise ValueError(f"{origin}: no check id starts with {excerpt(prefix)} (see 'winportlint rules')")
    selection = Selection(chosen["select"], chosen["ignore"])
    return sorted((check for check in checks if selection.enabled(check)), key=lambda check: check.id)


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files_checked: int = 0
    #: Every file read, for suppression comments.
    files: list[str] = field(default_factory=list)
    #: The files a format took as its input (the others were found but are not templates).
    inputs: list[str] = field(default_factory=list)
    #: The files found or named that no format read, without an error: no template, module or plan.
    skipped: list[str] = field(default_factory=list)


def discover(paths: Sequence[str], suffixes: tuple[str, ...],
             excluded: Callable[[str], bool] = lambda path: False) -> tuple[list[tuple[str, bool]], list[InputError]]:
    """``(file, named explicitly)`` below the paths, sorted by file.

    In folders only names ending in one of the suffixes are taken; a file
    named explicitly is offered to every format, whatever its name. Skips
    VCS, dependency and virtualenv folders; symlinked folders are not followed.
    """
    files: dict[str, bool] = {}
    errors: list[InputError] = []
    for path in paths:
        if not os.path.isdir(path):
            if os.path.lexists(path):
                files[os.path.normpath(path)] = True
            else:
                errors.append(InputError(path, 0, "no such file or folder"))
            continue
        for root, dirs, names in os.walk(path, onerror=lambda exc: errors.append(
                InputError(exc.filename or path, 0, f"cannot read folder: {exc.strerror}"))):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not _is_virtualenv(root, d)
                             and not excluded(os.path.join(root, d)))
            for name in names:
                if name.lower().endswith(suffixes) and not excluded(os.path.join(root, name)):
                    files.setdefault(os.path.normpath(os.path.join(root, name)), False)
    return sorted(files.items()), errors


def _is_virtualenv(root: str, name: str) -> bool:
    return os.path.exists(os.path.join(root, name, "pyvenv.cfg"))


#: Seconds one file may take to read; longer is an input error for that file (where timers exist).
FILE_TIME_LIMIT = 60


class _TimeLimit:
    """Raise :class:`FileTimeout` in this thread after ``seconds``, where the platform has interval
    timers and this is the main thread (single-file reads always run there)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = False

    def __enter__(self):
        import signal
        import threading

        if self.seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, _raise_timeout)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self.armed:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)


class FileTimeout(BaseException):
    """Not an Exception: a plugin's ``except Exception`` must not swallow it."""


def _raise_timeout(signum, frame):
    raise FileTimeout


def read_file(path: str, formats: Sequence, explicit: bool = False, data: bytes | None = None) -> FileResult | None:
    """The first format that recognises the file reads it; ``None`` if none does.

    ``data`` is the file's bytes when the caller has read them (a cached result
    is keyed on the bytes that were parsed, never on a second read). A file
    that cannot be read, is not a regular file, is too large, takes longer than
    :data:`FILE_TIME_LIMIT` or exhausts memory is an input error.
    """
    if data is None:
        try:
            data = read_bytes(path)
        except UnreadableFile as exc:  # a FIFO found in a folder is no template; one named explicitly is an error
            return FileResult(errors=[InputError(path, 0, str(exc))]) if explicit or exc.regular else None
        except OSError as exc:
            return FileResult(errors=[InputError(path, 0, f"cannot read file: {exc.strerror or exc}")])
    lower = path.lower()
    for fmt in formats:
        if not explicit and not lower.endswith(fmt.suffixes):
            continue
        try:
            with _TimeLimit(FILE_TIME_LIMIT):
                result = fmt.parse(path, data)
        except FileTimeout:
            return FileResult(errors=[InputError(path, 0, f"took longer than {FILE_TIME_LIMIT} s to read; "
                                                          f"not checked")])
        except MemoryError:
            return FileResult(errors=[InputError(path, 0, "ran out of memory reading it; not checked")])
        except Exception as exc:  # a format plugin must not take the run down
            return FileResult(errors=[InputError(path, 0, f"{fmt.name} plugin failed: {type(exc).__name__}: "
                                                          f"{excerpts_in(str(exc))}")])
        if result is not None:
            return result
    return None


def check_file(path: str, result: FileResult, checks: Sequence, catalog: Catalog) -> list[Finding]:
    """Findings of every check, in the context of what their groups protect; a check
    that raises becomes an input error of the file."""
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(check.run(result.permissions, catalog))
        except Exception as exc:  # a check plugin must not take the run down
            result.errors.append(InputError(path, 0, f"check {check.id} failed: {type(exc).__name__}: "
                                                     f"{excerpts_in(str(exc))}"))
    return with_context(findings, result, catalog)


def with_context(findings: list[Finding], result: FileResult, catalog: Catalog) -> list[Finding]:
    """The findings told what their groups protect (see :mod:`winportlint.context`)."""
    if not findings or not result.targets:
        return findings
    from .context import add_context

    return add_context(findings, result, catalog)


#: Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 48

#: What forked workers read files with (set before the pool starts; fork copies it).
_worker_tools: tuple = ()


def workers(jobs: int | None, units: int | None = None) -> int:
    """How many processes (or evaluator threads) for ``units`` pieces of work (None: the caller
    does not know; a folder format shares out its own): ``jobs`` (default: one per core), never
    more than the cores this process may run on, nor than the work: ``--jobs 1000`` once
    started 1,000 workers, 5 GB and five times the time for nothing."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(jobs or cores, cores, cores if units is None else units))


#: One file's findings and errors, the other files its format read (see ``FileResult.inputs``)
#: and those it evaluated as children (``FileResult.children``).
Linted = tuple[list[Finding], list[InputError], list[str], list[str]]


def _lint_file(item: tuple[str, bool, bytes | None]) -> Linted | None:
    path, explicit, data = item
    formats, checks, catalog = _worker_tools
    file_result = read_file(path, formats, explicit, data)
    if file_result is None:
        return None
    return check_file(path, file_result, checks, catalog), file_result.errors, file_result.inputs, \
        file_result.children


def _lint_files(items: list[tuple[str, bool]], formats, checks, catalog, jobs: int | None,
                cache: Cache | None) -> list:
    """Each file's findings, errors and children (``None`` for a file no format reads), in the
    order given: from the cache, else in worker processes for large runs where the
    platform can fork, in this process otherwise. With a cache, each file is read
    once: the bytes its key is made of are the bytes its format parses. What a format
    read has an entry of its own; the files no format reads are named in one entry."""
    outcomes: list = [None] * len(items)
    todo: list[tuple[int, str | None, tuple[str, bool, bytes | None]]] = []
    if cache is not None:
        from .cache import UnreadFiles

        unread = UnreadFiles(cache)
    for index, (path, explicit) in enumerate(items):
        data = key = None
        if cache is not None:
            try:
                data = read_bytes(path)
            except (OSError, UnreadableFile):  # read_file reports it
                pass
            if data is not None:
                key = cache.key("file", path, "explicit" if explicit else "found", data)
                if key in unread:
                    continue
                stored = cache.get(key)
                if stored is not None:
                    outcomes[index] = stored
                    continue
        todo.append((index, key, (path, explicit, data)))
    started = time.time()
    for (index, key, _), linted in zip(todo, _lint_uncached([item for _, _, item in todo], formats, checks,
                                                            catalog, jobs)):
        if linted is not None:
            findings, errors, inputs, children = linted
            outcomes[index] = findings, errors, children
            if key is not None:
                cache.put(key, outcomes[index], inputs, since=started)
        elif key is not None:
            unread.add(key)
    if cache is not None:
        unread.save()
    return outcomes


def _lint_uncached(items: list[tuple[str, bool, bytes | None]], formats, checks, catalog, jobs: int | None
                   ) -> list:
    global _worker_tools
    _worker_tools = (formats, checks, catalog)
    jobs = workers(jobs, len(items))
    if jobs > 1 and len(items) >= PARALLEL_MIN_FILES:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if "fork" not in multiprocessing.get_all_start_methods():
            return [_lint_file(item) for item in items]

        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            with deferred():  # the workers start in ``map``
                results = pool.map(_lint_file, items, chunksize=max(1, len(items) // (jobs * 4)))
            return list(results)
    return [_lint_file(item) for item in items]


def _lint_folders(fmt, folders: list[str], checks, catalog, settings: Mapping[str, object],
                  cache: Cache | None, jobs: int) -> tuple[list[Finding], list[InputError], list[str]]:
    """Findings and errors of a folder format's folders, read in one call; cached on the
    bytes of every file of theirs the format reads, the environment it depends on, and
    the other inputs it reports. The folders' files are hashed before the reading and
    after it: a file rewritten meanwhile may have been read either way, and nothing is stored."""
    key = members = None
    if cache is not None:
        members = _member_digests(fmt, folders)
        environment = fmt.environment() if hasattr(fmt, "environment") else {}
        key = cache.key("folders", fmt.name, repr(sorted(settings.items())), repr(sorted(environment.items())),
                        *members)
        stored = cache.get(key)
        if stored is not None:
            return stored
    started = time.time()
    try:
        folder_result = fmt.parse_folders(folders, {**settings, "jobs": jobs})
    except Exception as exc:  # a format plugin must not take the run down
        folder_result = FileResult(errors=[InputError(folders[0], 0, f"{fmt.name} plugin failed: "
                                                                    f"{type(exc).__name__}: {excerpts_in(str(exc))}")])
    outcome = check_file(folders[0], folder_result, checks, catalog), folder_result.errors, folder_result.children
    if key is not None and _member_digests(fmt, folders) == members:
        cache.put(key, outcome, folder_result.inputs, since=started)
    return outcome


#: Why a symlink found in the scanned folders is not read.
OUTSIDE_TREES = "a symlink to a file outside the scanned folders; not read"


def within_trees(path: str, trees: Sequence[str]) -> bool:
    """Whether the path, symlinks resolved, is in one of the folders (real paths, as
    :func:`scanned_trees` gives them); any path is when there are none."""
    if not trees:
        return True
    real = os.path.realpath(path)
    return any(real == tree or real.startswith(tree.rstrip(os.sep) + os.sep) for tree in trees)


def scanned_trees(paths: Sequence[str]) -> tuple[str, ...]:
    """The folders whose files a format may read for the paths named (real paths, sorted):
    for each, the top of the repository holding it (the nearest folder at or above it with
    a ``.git``), else the folder named (a file's folder). A Terraform ``file()`` reads no
    file outside them."""
    trees = set()
    for path in paths:
        named = os.path.realpath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
        folder = named
        while not os.path.lexists(os.path.join(folder, ".git")):
            parent = os.path.dirname(folder)
            if parent == folder:
                folder = named
                break
            folder = parent
        trees.add(folder)
    return tuple(sorted(trees))


def _member_digests(fmt, folders: list[str]) -> list[str]:
    """Each file of the format's in the folders, and the hash of its bytes."""
    from .cache import file_digest

    parts: list[str] = []
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            if name.lower().endswith(fmt.folder_suffixes):
                parts += [os.path.join(folder, name), file_digest(os.path.join(folder, name))]
    return parts


def run(paths: Sequence[str], formats: Sequence, checks: Sequence, catalog: Catalog,
        settings: Mapping[str, object] | None = None,
        excluded: Callable[[str], bool] = lambda path: False, jobs: int | None = None,
        cache: Cache | None = None) -> RunResult:
    """Lint the paths: every finding of the given checks, and every input error.

    Files of a format's ``folder_suffixes`` are read as their whole folder
    (a Terraform module): the format gets every such folder at once, with
    ``settings``, through ``parse_folders``. Single files are read on ``jobs``
    processes (default: every core) when there are many. With a ``cache``,
    unchanged inputs are not read again.
    """
    settings = {**(settings or {}), "scanned_trees": scanned_trees(paths)}
    suffixes = tuple(s for fmt in formats for s in (*fmt.suffixes, *getattr(fmt, "folder_suffixes", ())))
    files, errors = discover(paths, suffixes, excluded)
    trees = settings["scanned_trees"]
    result = RunResult(errors=list(errors), files=[path for path, _ in files])
    folders: dict[tuple[int, str], int] = {}
    single: list[tuple[str, bool]] = []
    for path, explicit in files:
        folder_format = next((i for i, fmt in enumerate(formats)
                              if path.lower().endswith(getattr(fmt, "folder_suffixes", ()))), None)
        if folder_format is not None:
            key = (folder_format, os.path.dirname(path) or ".")
            folders[key] = folders.get(key, 0) + 1
        elif os.path.islink(path) and not within_trees(path, trees):
            # Not the repository's (what it holds could reach a message): one named is an error,
            # one found is passed over like any file that is no template (a .json link, say).
            if explicit:
                result.errors.append(InputError(path, 0, OUTSIDE_TREES))
            else:
                result.skipped.append(path)
        else:
            single.append((path, explicit))
    outcomes = _lint_files(single, formats, checks, catalog, jobs, cache)
    called = _called_files([(path, outcome[2]) for (path, _), outcome in zip(single, outcomes) if outcome is not None])
    for (path, _), outcome in zip(single, outcomes):
        if outcome is not None:
            result.inputs += [path, *outcome[2]]
            result.files_checked += 1
            if os.path.realpath(path) not in called:
                result.findings.extend(outcome[0])
            result.errors.extend(outcome[1])
        else:
            result.skipped.append(path)
    for index, fmt in enumerate(formats):
        chosen = []
        for folder in sorted(folder for (i, folder) in folders if i == index):
            problems = _unreadable_members(folder, fmt.folder_suffixes, trees)
            result.errors.extend(problems)
            if not problems:
                chosen.append(folder)
        if chosen:
            findings, errors, _ = _lint_folders(fmt, chosen, checks, catalog, settings, cache, workers(jobs))
            read = set(chosen)
            result.inputs += [path for path, _ in files if (os.path.dirname(path) or ".") in read
                              and path.lower().endswith(fmt.folder_suffixes)]
            result.files_checked += sum(count for (i, _), count in folders.items() if i == index)
            result.findings.extend(findings)
            result.errors.extend(errors)
    result.findings = unique_findings(sorted(result.findings, key=Finding.sort_key))
    # One line per error: a file a format reads both as a member and through another
    # folder (a called Terraform module) is reported once.
    result.errors = sorted(set(result.errors), key=lambda e: (e.file, e.line, e.message))
    return result


def read_contents(contents: Mapping[str, bytes], formats: Sequence, settings: Mapping[str, object],
                  folders: Sequence[str] = ()) -> dict[str, FileResult | None]:
    """What the files would read as if they held ``contents`` (an editor's unsaved buffers, a fix
    being verified), never from the cache. A single file's result is under its path (``None``
    when no format reads it). A folder format reads the folders holding files of ``contents``
    and, so that a called module is read through its callers, those of ``folders`` (the run's)
    that hold its files, but only what reads one of those files (see ``Format.parse_folders``):
    its result is under the first folder. ``settings`` are the run's (``scanned_trees``
    included; else those of the files)."""
    settings = {**settings, "scanned_trees": settings.get("scanned_trees") or scanned_trees(list(contents))}
    trees = settings["scanned_trees"]
    results: dict[str, FileResult | None] = {}
    held: dict[int, dict[str, bytes]] = {}
    for path, data in contents.items():
        index = next((i for i, fmt in enumerate(formats) if path.lower().endswith(getattr(fmt, "folder_suffixes", ()))),
                     None)
        if index is not None:
            held.setdefault(index, {})[path] = data
        elif os.path.islink(path) and not within_trees(path, trees):
            results[path] = FileResult(errors=[InputError(path, 0, OUTSIDE_TREES)])
        else:
            results[path] = read_file(path, formats, explicit=True, data=data)
    for index, files in held.items():
        fmt = formats[index]
        chosen = sorted({os.path.dirname(path) or "." for path in files}
                        | {folder for folder in folders if _holds(folder, fmt.folder_suffixes)})
        problems = {folder: _unreadable_members(folder, fmt.folder_suffixes, trees) for folder in chosen}
        readable = [folder for folder in chosen if not problems[folder]]
        try:
            result = fmt.parse_folders(readable, {**settings, "jobs": workers(settings.get("jobs"))}, contents=files) \
                if readable else FileResult()
        except Exception as exc:  # a format plugin must not take the run down
            result = FileResult(errors=[InputError(chosen[0], 0, f"{fmt.name} plugin failed: {type(exc).__name__}: "
                                                                 f"{excerpts_in(str(exc))}")])
        result.errors[:0] = [error for folder in chosen for error in problems[folder]]
        results[chosen[0]] = result
    return results


def _holds(folder: str, suffixes: tuple[str, ...]) -> bool:
    """Whether the folder has a file with one of the endings."""
    try:
        return any(name.lower().endswith(suffixes) for name in os.listdir(folder))
    except OSError:
        return False


def _called_files(children: list[tuple[str, list[str]]]) -> set[str]:
    """Real paths of the files whose findings on their own are dropped: those evaluated as children
    by a file of the run that no other file evaluates (in a cycle with no such caller, each file
    keeps its own findings: none is reported through another)."""
    evaluated = {path: {os.path.realpath(child) for child in files} for path, files in children}
    every = set().union(*evaluated.values())
    return set().union(*(files for path, files in evaluated.items() if os.path.realpath(path) not in every))


def _unreadable_members(folder: str, suffixes: tuple[str, ...], trees: Sequence[str]) -> list[InputError]:
    """Errors for the folder's files of the format that must not be handed to it: not regular
    (a FIFO would block the reader forever), too large, or a symlink out of the scanned
    folders (the format would read it whole). Such a folder is not read."""
    from .textfile import check_status

    problems = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.lower().endswith(suffixes)]
    except OSError as exc:
        return [InputError(folder, 0, f"cannot read folder: {exc.strerror}")]
    for entry in sorted(entries, key=lambda e: e.name):
        try:
            check_status(entry.stat())
            if entry.is_symlink() and not within_trees(entry.path, trees):
                problems.append(InputError(os.path.normpath(entry.path), 0, f"{OUTSIDE_TREES}; its folder is not read"))
        except UnreadableFile as exc:
            problems.append(InputError(os.path.normpath(entry.path), 0, f"{exc}; its folder is not read"))
        except OSError as exc:
            problems.append(InputError(os.path.normpath(entry.path), 0, f"cannot read file: {exc.strerror}"))
    return problems


def unique_findings(findings: list[Finding]) -> list[Finding]:
    """One finding per check, place and permission: a parameter's default and an
    allowed value that are equal, say, make one exposure, not two."""
    seen: set[tuple] = set()
    unique = []
    for finding in findings:
        key = (finding.rule_id, finding.location, finding.fingerprint)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
