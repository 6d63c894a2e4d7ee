"""Modules evaluated as if some files held other bytes: a fix being verified, an editor's buffer.

The evaluator reads a module folder from the disk, so the bytes are put in a shadow tree: a
temporary folder holding, below it, each folder on the way to the replaced files at its real
path (``/tmp/x`` + ``/repo/infra``), and the folders of the root modules read, whole. In those
folders the replaced files are files of the shadow and every other entry is a symbolic link to
the real one: relative module sources and file functions resolve as from the real folder, and a
link out of the scanned folders is still one (the plugin's rules see the same real paths). Only
the root modules whose evaluation reads a replaced file are evaluated; every path in the result
is mapped back to the path the run gives the real file, and the shadow tree is removed. Such a
result is never the result cache's: the cache keys on the bytes on disk.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence

from winportlint.engine import within_trees
from winportlint.model import FileResult
from winportlint.textfile import read_bytes

from .evaluate import may_call_modules, module_calls, module_files, scanned_folders

#: Folders below a root module the shadow links to (hidden ones too): nothing there is walked.
_LINKED = frozenset({"node_modules"})
_VARIABLE_FILES = (".tfvars", ".tfvars.json")


def parse_with(parse: Callable[[Sequence[str], Mapping[str, object]], FileResult], folders: Sequence[str],
               settings: Mapping[str, object], contents: Mapping[str, bytes]) -> FileResult:
    """``parse`` (the format's reading of folders) over the root modules among ``folders`` that
    read a file of ``contents``, evaluated with those bytes; a file outside the scanned
    folders is left as it is on disk."""
    trees = scanned_folders(folders, settings)
    contents = {path: data for path, data in contents.items() if within_trees(path, trees)}
    roots = roots_reading(folders, settings, contents)
    if not roots:
        return FileResult()
    shadow = Shadow(trees, contents, roots)
    try:
        shadowed = {**settings, "scanned_trees": (*trees, *shadow.trees)}
        shadowed["var_files"] = [shadow.at(path) for path in settings.get("var_files") or ()]
        if isinstance(settings.get("scenarios"), (list, tuple)):
            shadowed["scenarios"] = tuple(map(shadow.at, settings["scenarios"]))
        return shadow.back(parse([shadow.folder(root) for root in roots], shadowed), roots)
    finally:
        shadow.close()


def roots_reading(folders: Sequence[str], settings: Mapping[str, object], paths: Mapping[str, bytes]) -> list[str]:
    """The root modules among ``folders`` (those no other of them calls, as the files on disk
    call them) whose evaluation reads one of ``paths``: a file of their folder, of a module they
    call, a variable file below them or one given for every module."""
    wanted = {os.path.realpath(path) for path in paths}
    if not wanted:
        return []
    given = {os.path.realpath(path) for path in settings.get("var_files") or ()}
    files = {folder: module_files(folder) for folder in folders}
    if not given & wanted:  # only a module that holds a file or variable file, or calls one, may read it
        files = {folder: found for folder, found in files.items() if _may_read(folder, found, wanted)}
    calls, _ = module_calls({folder: found for folder, found in files.items() if found},
                            scanned_folders(folders, settings))
    return [folder for folder, call in calls.items() if call.root and (
        _holds(folder, wanted) or wanted & ({os.path.realpath(path) for path in call.files} | given))]


def _holds(folder: str, wanted: set[str]) -> bool:
    """Whether one of the ``wanted`` files (real paths) is the folder's, or a variable file below it."""
    real = os.path.realpath(folder)
    return any(os.path.dirname(path) == real or path.endswith(_VARIABLE_FILES) and path.startswith(real + os.sep)
               for path in wanted)


def _may_read(folder: str, files: list[str], wanted: set[str]) -> bool:
    """Whether a module folder holds one of the ``wanted`` files, is above a variable file of
    them, or calls a module (cheap: its bytes, not its syntax, are looked at)."""
    if _holds(folder, wanted):
        return True
    for path in files:
        try:
            if may_call_modules(read_bytes(path)):
                return True
        except OSError:
            return True  # the evaluation says why it cannot be read
    return False


class Shadow:
    """The shadow tree of one evaluation (see the module's text)."""

    def __init__(self, trees: Sequence[str], contents: Mapping[str, bytes], roots: Sequence[str]):
        self._real_trees = tuple(trees)
        self._placed = {self._real_folder(path): data for path, data in contents.items()}
        self._folders: set[str] = set()
        for path in self._placed:
            self._with_parents(os.path.dirname(path))
        for root in roots:
            self._with_subtree(os.path.realpath(root))
        for tree in trees:  # a way down to each scanned folder: a module may call one beside its own
            self._with_parents(os.path.dirname(tree))
        self.base = os.path.realpath(tempfile.mkdtemp(prefix="winportlint-overlay-"))
        #: The scanned folders as the shadow holds them.
        self.trees = tuple(self.base + tree for tree in trees)
        self._pattern = re.compile(re.escape(self.base) + r"(?:/[^\s\"'`:,;()\[\]{}<>|]*)?")
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _real_folder(path: str) -> str:
        """Where a file is in the shadow's layout: its real folder and its own name (a symbolic
        link's bytes stand for its target's as the folder reads it)."""
        return os.path.join(os.path.realpath(os.path.dirname(path) or "."), os.path.basename(path))

    def _with_parents(self, folder: str) -> None:
        while folder not in self._folders:
            self._folders.add(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent

    def _with_subtree(self, folder: str) -> None:
        """The folder, its parents and every real folder below it (a variable file is looked
        for there; a folder linked is not walked, by the plugin either)."""
        self._with_parents(folder)
        for top, dirs, _ in os.walk(folder):
            dirs[:] = [d for d in dirs if d not in _LINKED and d[:1] != "."
                       and not os.path.islink(os.path.join(top, d))]
            self._folders.update(os.path.join(top, d) for d in dirs)

    def _inside(self, folder: str) -> bool:
        return any(folder == tree or folder.startswith(tree.rstrip(os.sep) + os.sep) for tree in self._real_trees)

    def _build(self) -> None:
        """Real folders for those noted, the replaced files' bytes, links to everything else (in
        the scanned folders only: above them, just the way down to each)."""
        for folder in sorted(self._folders):
            os.makedirs(self.base + folder, exist_ok=True)
        for folder in sorted(self._folders):
            try:
                names = os.listdir(folder) if self._inside(folder) else ()
            except OSError:
                continue
            for name in names:
                real = os.path.join(folder, name)
                if real not in self._folders and real not in self._placed:
                    os.symlink(real, self.base + real)
        for tree in self._real_trees:
            if not os.path.lexists(self.base + tree):
                os.symlink(tree, self.base + tree)
        for path, data in self._placed.items():
            with open(self.base + path, "wb") as handle:
                handle.write(data)

    def at(self, path: str) -> str:
        """The shadow's path of a path of the run (a path outside the scanned folders is kept)."""
        real = self._real_folder(path)
        return self.base + real if self._inside(os.path.dirname(real)) else str(path)

    def folder(self, folder: str) -> str:
        """The shadow's path of a root module's folder."""
        return self.base + os.path.realpath(folder)

    def back(self, result: FileResult, roots: Sequence[str]) -> FileResult:
        """The result with every shadow path in it (a location, an input, a path in a message or
        a group's key) the run's path of the real file: relative to the root it is found from, as
        the plugin joins a root's folder and a file's name."""
        shadows = sorted(((self.folder(root), root) for root in roots), key=lambda pair: len(pair[0]), reverse=True)

        def path(match: re.Match) -> str:
            found = match[0]
            shadow, root = next(((s, r) for s, r in shadows if found == s or found.startswith(s + os.sep)),
                                shadows[-1])
            return os.path.normpath(os.path.join(root, os.path.relpath(found, shadow)))

        def mapped(value):
            kind = type(value)
            if kind is str:
                return self._pattern.sub(path, value) if self.base in value else value
            if kind is list:
                return [mapped(item) for item in value]
            if isinstance(value, tuple):
                items = [mapped(item) for item in value]
                if all(new is old for new, old in zip(items, value)):
                    return value
                return kind(*items) if hasattr(value, "_fields") else kind(items)
            return value  # a number, an enumeration's member, a network: no path

        return FileResult(*(mapped(getattr(result, name)) for name in result.__dataclass_fields__))

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
