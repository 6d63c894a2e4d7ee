"""``--diff-base REF``: judge only the findings a change adds to the files at a git revision.

The revision's files are read from git objects (``ls-tree``, ``cat-file --batch``) into a
temporary folder outside the repository, linted there with the run's settings and removed: the
work tree and ``.git`` are never written, nothing is checked out. Everything under the paths is
linted at both revisions, so a Terraform module whose called modules or variable files changed,
and a template whose nested stack changed, are compared whole.

A finding is new unless the revision has one with the same fingerprint (its file taken relative to
the repository's top) at the same or a graver severity: a moved line is not new, a new port on the
same resource is. A file moved unchanged keeps its findings; one renamed and edited has new ones
(the file is part of what a finding is).

The repository is untrusted: git runs only plumbing commands, with fsmonitor and hooks off, never
a filter, textconv or diff driver (blobs are written as stored), and never the network.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import NamedTuple

from .excerpt import excerpt, excerpts_in
from .model import Finding, fingerprint

#: The options every git command runs with: no fsmonitor daemon or hook of the repository's.
GIT = ("git", "--no-pager", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null")


class DiffBaseError(Exception):
    """The revision cannot be read; the message starts with ``--diff-base REF:``."""


class Base(NamedTuple):
    """The revision compared with: as named, its commit, and the repository's top as the paths name it."""

    ref: str
    commit: str
    top: str


def _environment() -> dict[str, str]:
    """The process environment without git's own variables (a ``GIT_DIR`` would point git
    elsewhere), and with lazy fetches and every transport refused: nothing reaches the network."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    environment.update(GIT_NO_LAZY_FETCH="1", GIT_ALLOW_PROTOCOL="none", GIT_TERMINAL_PROMPT="0",
                       GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    return environment


def _git(top: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*GIT, "-C", top, *args], stdin=subprocess.DEVNULL, capture_output=True,
                          env=_environment(), check=False)


def _top(path: str) -> str | None:
    """The nearest folder at or above the path with a ``.git`` (absolute, symlinks kept as named)."""
    folder = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
    while not os.path.lexists(os.path.join(folder, ".git")):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return folder


def _fetch_hint(ref: str) -> str:
    remote, slash, branch = excerpt(ref, quote=False).partition("/")
    return f"git fetch --depth=1 {remote} {branch}" if slash and branch else f"git fetch --depth=1 origin {remote}"


def resolve(ref: str, paths: Sequence[str]) -> Base:
    """The revision ``ref`` of the repository holding every path, or :class:`DiffBaseError`."""
    named = f"--diff-base {excerpt(ref, quote=False)}"
    top = _top(paths[0])
    if top is None:
        raise DiffBaseError(f"{named}: {paths[0]} is not in a git repository")
    for path in paths[1:]:
        if _top(path) != top:
            raise DiffBaseError(f"{named}: {path} is not in the repository of {paths[0]} ({top})")
    missing = DiffBaseError(f"{named}: no such revision in this repository (in a shallow clone, fetch it first: "
                            f"{_fetch_hint(ref)})")
    if not ref or ref.startswith("-") or "\0" in ref:
        raise missing
    try:
        done = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except FileNotFoundError:
        raise DiffBaseError(f"{named}: git is not installed") from None
    if done.returncode != 0:
        reason = os.fsdecode(done.stderr).strip().splitlines()
        if reason and reason[0].startswith("fatal:"):  # not a repository git can read (ownership, corruption)
            reason = excerpts_in(reason[0].removeprefix("fatal:").strip())
            raise DiffBaseError(f"{named}: git cannot read the repository at {top}: {reason}")
        raise missing
    return Base(ref, done.stdout.decode("ascii").strip(), top)


class TreeFile(NamedTuple):
    """A file of the revision's tree: git mode, object id and path (relative, as a file name)."""

    mode: str
    oid: str
    path: str


def _files(base: Base) -> list[TreeFile]:
    """The revision's files that are written: blobs and symlinks of at most the size any file is
    read at, outside the folders no template is read from (downloaded modules are read through
    their callers), on paths that stay inside the tree."""
    from .engine import SKIPPED_DIRS
    from .textfile import MAX_FILE_BYTES

    unwritten = {os.fsencode(name) for name in SKIPPED_DIRS - {".terraform", ".terragrunt-cache"}}
    done = _git(base.top, "ls-tree", "-r", "-l", "-z", "--full-tree", base.commit)
    if done.returncode != 0:  # objects a partial clone did not fetch, say
        reason = (os.fsdecode(done.stderr).strip().splitlines() or ["git ls-tree failed"])[-1].removeprefix("fatal: ")
        raise DiffBaseError(f"--diff-base {excerpt(base.ref, quote=False)}: cannot read its files "
                            f"({excerpts_in(reason)}); winportlint reads only what the clone holds, it never fetches")
    files = []
    for record in done.stdout.split(b"\0"):
        if not record:
            continue
        header, _, name = record.partition(b"\t")
        mode, kind, oid, size = header.split()
        parts = name.split(b"/")
        if kind != b"blob" or not size.isdigit() or int(size) > MAX_FILE_BYTES:
            continue
        if any(part in (b"", b".", b"..") or part in unwritten for part in parts):
            continue
        files.append(TreeFile(mode.decode(), oid.decode(), os.fsdecode(name)))
    return files


def _blobs(base: Base, oids: list[str]) -> Iterator[tuple[str, bytes]]:
    """Each object's bytes as stored (no filter), streamed from one ``cat-file --batch``."""
    import tempfile

    with tempfile.TemporaryFile() as requests:
        requests.write("".join(f"{oid}\n" for oid in oids).encode())
        requests.seek(0)
        process = subprocess.Popen([*GIT, "-C", base.top, "cat-file", "--batch"], stdin=requests,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_environment())
        try:
            for oid in oids:
                header = process.stdout.readline().split()
                if len(header) != 3:
                    raise DiffBaseError(f"--diff-base {excerpt(base.ref, quote=False)}: object {oid} is missing "
                                        f"(in a shallow clone, fetch it first: {_fetch_hint(base.ref)})")
                data = process.stdout.read(int(header[2]) + 1)[:-1]
                yield oid, data
        finally:
            process.stdout.close()
            process.kill()
            process.wait()


def _write_file(root: str, file: TreeFile, data: bytes) -> None:
    """One file below ``root`` (a real path), never through a symlink: a crafted tree cannot
    write outside it. What cannot be written as the tree names it is left out."""
    target = os.path.join(root, file.path)
    parent = os.path.dirname(target)
    try:
        os.makedirs(parent, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # below a file the tree names
        return
    if os.path.realpath(parent) != parent:  # below a symlink the tree names
        return
    if file.mode == "120000":
        with suppress(OSError):  # named twice, or a link the system refuses
            os.symlink(os.fsdecode(data), target)
        return
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except FileExistsError:  # named twice
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


class Tree(NamedTuple):
    """The revision's files, written below ``root``, and how paths map between the two trees."""

    base: Base
    root: str
    #: The object id of each file written, by its path relative to the top (``/``-separated).
    objects: dict[str, str]

    def at(self, path: str) -> str:
        """The revision's copy of a work-tree path (a path outside the repository is kept)."""
        relative = os.path.relpath(os.path.abspath(path), self.base.top)
        if relative == ".." or relative.startswith(".." + os.sep):
            return path
        return os.path.normpath(os.path.join(self.root, relative))

    def back(self, path: str) -> str:
        """The work-tree path of a file of the revision's copy."""
        return os.path.normpath(os.path.join(self.base.top, os.path.relpath(os.path.abspath(path), self.root)))


@contextmanager
def revision(base: Base) -> Iterator[Tree]:
    """The revision's files in a temporary folder outside the repository, removed afterwards.
    The folder has a ``.git`` of its own, so that what a format may read stays inside it."""
    import shutil
    import tempfile

    from .engine import within_trees

    named = f"--diff-base {excerpt(base.ref, quote=False)}"
    try:
        root = os.path.realpath(tempfile.mkdtemp(prefix="winportlint-base-"))
    except OSError as exc:
        raise DiffBaseError(f"{named}: cannot make a temporary folder: {exc.strerror}") from None
    try:
        if within_trees(root, [os.path.realpath(base.top)]):
            raise DiffBaseError(f"{named}: the temporary folder {root} is inside the repository; set TMPDIR to a "
                                f"folder outside it")
        by_object: dict[str, list[TreeFile]] = {}
        for file in _files(base):
            by_object.setdefault(file.oid, []).append(file)
        try:
            os.mkdir(os.path.join(root, ".git"))
            for oid, data in _blobs(base, list(by_object)):
                for file in by_object[oid]:
                    _write_file(root, file, data)
        except OSError as exc:  # a full disk, say
            raise DiffBaseError(f"{named}: cannot write its files to {root}: {exc.strerror}") from None
        yield Tree(base, root, {file.path: file.oid for files in by_object.values() for file in files})
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _relative(file: str, top: str) -> str:
    """The file relative to the top, ``/``-separated, as git names it."""
    relative = os.path.relpath(os.path.abspath(file), top)
    if relative.startswith(".."):  # named through a symlinked folder
        relative = os.path.relpath(os.path.realpath(file), os.path.realpath(top))
    return relative.replace(os.sep, "/")


def _key(finding: Finding, file: str) -> str:
    """The finding's fingerprint with its file as given (relative to the repository's top)."""
    permission = finding.permission
    return fingerprint(finding.rule_id, permission._replace(location=permission.location._replace(file=file)))


def _object_id(path: str, length: int) -> str | None:
    """The id git gives the file's bytes (a symlink's target) as a blob; None if it cannot be read."""
    import hashlib

    from .textfile import UnreadableFile, read_bytes

    try:
        data = os.fsencode(os.readlink(path)) if os.path.islink(path) else read_bytes(path)
    except (OSError, UnreadableFile):
        return None
    digest = hashlib.sha1 if length == 40 else hashlib.sha256  # repositories of either object format
    return digest(b"blob %d\0" % len(data) + data).hexdigest()


def _renames(tree: Tree, files: set[str]) -> dict[str, str]:
    """The revision's files moved unchanged to one of ``files`` (the work tree's, relative): old
    path to new. A file renamed and edited is not followed: its findings are new."""
    gone: dict[str, list[str]] = {}
    for path, oid in tree.objects.items():
        if not os.path.lexists(os.path.join(tree.base.top, path)):
            gone.setdefault(oid, []).append(path)
    if not gone:
        return {}
    renamed = {}
    for file in files - tree.objects.keys():
        oid = _object_id(os.path.join(tree.base.top, file), len(tree.base.commit))
        renamed.update((old, file) for old in gone.get(oid, ()))
    return renamed


def split(findings: Sequence[Finding], tree: Tree, at_base: Sequence[Finding]) -> tuple[list[Finding], list[Finding]]:
    """The findings the change adds, and those the revision has too (same fingerprint, at the same
    or a graver severity: a finding a change makes graver is new), a file moved unchanged
    taken at its new path."""
    files = [_relative(finding.location.file, tree.base.top) for finding in findings]
    renamed = _renames(tree, set(files))
    gravest: dict[str, int] = {}
    for finding in at_base:
        file = _relative(finding.location.file, tree.root)
        key = _key(finding, renamed.get(file, file))
        gravest[key] = max(gravest.get(key, -1), finding.severity.rank)
    new, old = [], []
    for finding, file in zip(findings, files):
        (old if gravest.get(_key(finding, file), -1) >= finding.severity.rank else new).append(finding)
    return new, old
