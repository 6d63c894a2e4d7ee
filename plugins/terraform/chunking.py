"""Evaluate a large module in independent slices.

tfparse expands each ``dynamic`` block by re-walking the whole module, so its
time grows with (dynamic blocks) x (blocks): a 200-file module of security
groups with dynamic ingress blocks takes ~80 s where 50 files take ~4 s
(measured; see the closing notes). Blocks that do not reference each other
can be evaluated apart: the module's blocks are split into connected groups
by their references (``aws_x.y``, ``data.x.y``, ``module.x``, ``local.x``),
packed into slices of a bounded size, and each slice is evaluated in a
scratch folder holding copies of the files in which every other block is
blanked out line for line, so that files, lines and addresses stay those of
the real module. Variables, providers, ``terraform`` blocks and locals that
read no resource (nor a local that does) go into every slice.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, wait
from functools import lru_cache

from winportlint.textfile import read_bytes

from .hcl_positions import index_file, is_json

#: Slice when (dynamic blocks) x (top-level blocks) exceeds this (a 40-file module of 20 dynamic groups).
WORK_LIMIT = 800 * 800
SLICE_BLOCKS = 20
_REFERENCE = re.compile(
    r"\b(data\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|module\.[A-Za-z0-9_-]+|local\.[A-Za-z0-9_]+"
    r"|[a-z][a-z0-9]*_[A-Za-z0-9_]+\.[A-Za-z_][A-Za-z0-9_-]*)")
_DYNAMIC = re.compile(rb'\bdynamic\s+"')
_OUTSIDE_SOURCE = re.compile(r'\bsource\s*=\s*"\.\./')
_EVERYWHERE = ("variable", "provider", "terraform")


class _Block:
    __slots__ = ("file", "first", "last", "kind", "names", "references", "outside_source")

    def __init__(self, file: str, first: int, last: int, kind: str, names: list[str], references: set[str],
                 outside_source: bool):
        self.file, self.first, self.last, self.kind = file, first, last, kind
        self.names, self.references, self.outside_source = names, references, outside_source


def needs_slicing(files: list[str]) -> bool:
    """True for a module whose dynamic blocks would make one evaluation quadratic."""
    if any(is_json(path) for path in files):
        return False  # .tf.json: no slicing (rare at this size)
    # Each ``dynamic "`` takes 9 bytes and each block end (a newline and ``}``) 2, so their
    # product is at most bytes² / 72: most modules are too small to need reading here.
    if sum(os.path.getsize(path) for path in files) ** 2 / 72 <= WORK_LIMIT:
        return False
    dynamic = blocks = 0
    for path in files:
        source = read_bytes(path)
        dynamic += len(_DYNAMIC.findall(source))
        blocks += source.count(b"\n}")
    return dynamic * blocks > WORK_LIMIT


def evaluate_in_slices(folder: str, files: list[str], load: Callable[[str], dict]) -> dict | None:
    """The evaluator's output for the module, merged from its slices; ``load(folder)``
    evaluates one. ``None`` when the module cannot be sliced: a module source outside
    the folder (``../``) would not resolve from the scratch folder."""
    finish = start_slices(folder, files, load, run_now)
    return None if finish is None else finish()


def start_slices(folder: str, files: list[str], load: Callable[[str], dict], submit: Callable[..., Future]
                 ) -> Callable[[], dict] | None:
    """As :func:`evaluate_in_slices`, with each slice's ``load`` given to ``submit``
    (which may run it on another thread); the function returned waits for them and
    merges their output in slice order, so the result does not depend on which
    slice finished first. The files' indexes are kept for the reading (``index_file``)."""
    blocks = [block for path in files for block in _blocks(path)]
    if any(block.kind == "module" and block.outside_source for block in blocks):
        return None
    everywhere = [b for b in blocks if b.kind in _EVERYWHERE]
    free_locals = _free_locals(blocks)
    free = {id(block) for block in free_locals}
    groups = _connected([b for b in blocks if b.kind not in _EVERYWHERE and id(b) not in free and b.kind != "output"])
    folders = [entry for entry in os.listdir(folder) if os.path.isdir(os.path.join(folder, entry))]
    scratch = tempfile.TemporaryDirectory(prefix="winportlint-slices-")
    futures: list[Future] = []
    try:
        for number, members in enumerate(_pack(groups)):
            slice_folder = os.path.join(scratch.name, f"{number:05d}")
            os.mkdir(slice_folder)
            _write_slice(folder, slice_folder, everywhere + _locals_for(members, free_locals) + members, folders)
            futures.append(submit(load, slice_folder))
    except BaseException:
        _close(futures, scratch)
        raise
    finally:
        _lines.cache_clear()

    def merge() -> dict:
        try:
            merged: dict[str, list] = {}
            seen: set[tuple] = set()
            for future in futures:
                # A block in several slices (a variable) is kept from the first; blocks of one
                # slice are all kept (the locals blocks of a module share one path).
                found = set()
                for kind, entries in future.result().items():
                    for entry in entries if isinstance(entries, list) else ():
                        key = _merge_key(kind, entry)
                        if key not in seen:
                            found.add(key)
                            merged.setdefault(kind, []).append(entry)
                seen |= found
            return merged
        finally:
            _close(futures, scratch)

    return merge


def _merge_key(kind: str, entry: object) -> tuple:
    """What is one block in the output of two slices: its kind, address, file and line."""
    meta = entry.get("__tfmeta") if isinstance(entry, dict) else None
    if not isinstance(meta, dict):
        return (kind, id(entry))
    return (kind, str(meta.get("path")), str(meta.get("filename")), str(meta.get("line_start")))


def run_now(function, *args) -> Future:
    """Run now, in this thread: a Future that is already done."""
    future: Future = Future()
    try:
        future.set_result(function(*args))
    except Exception as exc:
        future.set_exception(exc)
    return future


def _close(futures: list[Future], scratch: tempfile.TemporaryDirectory) -> None:
    """Remove the slices once no evaluation reads them any more."""
    for future in futures:
        future.cancel()
    wait(futures)
    scratch.cleanup()


def _blocks(path: str) -> list[_Block]:
    index = index_file(path)
    text = index.text.split("\n")
    found = []
    for block in index.top_level:
        kind, labels = block.kind, block.labels
        first, last = block.rows
        body = "\n".join(text[first:last + 1])
        if kind == "resource" and len(labels) == 2:
            names = [".".join(labels)]
        elif kind == "data" and len(labels) == 2:
            names = ["data." + ".".join(labels)]
        elif kind == "module" and labels:
            names = ["module." + labels[0]]
        elif kind == "locals":
            names = ["local." + name for name in block.attributes]
        else:
            names = []
        references = set(_REFERENCE.findall(body)) - set(names)
        found.append(_Block(path, first, last, kind, names, references, bool(_OUTSIDE_SOURCE.search(body))))
    return found


def _locals_for(members: list[_Block], free_locals: list[_Block]) -> list[_Block]:
    """The locals blocks the members read, directly or through other locals."""
    owner = {name: block for block in free_locals for name in block.names}
    wanted = [reference for block in members for reference in block.references if reference in owner]
    chosen: dict[int, _Block] = {}
    while wanted:
        block = owner[wanted.pop()]
        if id(block) not in chosen:
            chosen[id(block)] = block
            wanted.extend(reference for reference in block.references if reference in owner)
    return list(chosen.values())


def _free_locals(blocks: list[_Block]) -> list[_Block]:
    """The locals blocks that read only such locals (a locals block that reads a resource,
    or a local that does, is in that resource's group)."""
    free = [block for block in blocks if block.kind == "locals"]
    while True:
        names = {name for block in free for name in block.names}
        kept = [block for block in free if all(reference in names for reference in block.references)]
        if len(kept) == len(free):
            return kept
        free = kept


def _connected(blocks: list[_Block]) -> list[list[_Block]]:
    """Groups of blocks linked by references, in file order."""
    parent = list(range(len(blocks)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner = {name: i for i, block in enumerate(blocks) for name in block.names}
    for i, block in enumerate(blocks):
        for reference in block.references:
            j = owner.get(reference)
            if j is not None:
                parent[root(i)] = root(j)
    groups: dict[int, list[_Block]] = {}
    for i, block in enumerate(blocks):
        groups.setdefault(root(i), []).append(block)
    return list(groups.values())


def _pack(groups: list[list[_Block]]) -> list[list[_Block]]:
    slices: list[list[_Block]] = [[]]
    for group in groups:
        if slices[-1] and len(slices[-1]) + len(group) > SLICE_BLOCKS:
            slices.append([])
        slices[-1].extend(group)
    return [members for members in slices if members]


def _write_slice(folder: str, scratch: str, members: list[_Block], folders: list[str]) -> None:
    """Copies of the files holding members, other lines blanked; the folder's folders are linked."""
    keep: dict[str, list[tuple[int, int]]] = {}
    for block in members:
        keep.setdefault(block.file, []).append((block.first, block.last))
    for path, ranges in keep.items():
        lines = _lines(path)
        kept = [""] * len(lines)
        for first, last in ranges:
            kept[first:last + 1] = lines[first:last + 1]
        with open(os.path.join(scratch, os.path.basename(path)), "w", encoding="utf-8") as handle:
            handle.write("\n".join(kept))
    for entry in folders:
        os.symlink(os.path.abspath(os.path.join(folder, entry)), os.path.join(scratch, entry))


@lru_cache(maxsize=None)
def _lines(path: str) -> list[str]:
    return read_bytes(path).decode("utf-8", errors="replace").split("\n")  # lines as the scanner counts them
