"""Evaluate a large module in independent slices.

tfparse expands each ``dynamic`` block by re-walking the whole module, so its
time grows with (dynamic blocks) x (blocks): a 200-file module of security
groups with dynamic ingress blocks takes ~80 s where 50 files take ~4 s
(measured; see the closing notes). Its memory grows with the module's source
even without them: the 300-file benchmark module (3.6 MB, 6,000 groups) took
440 MB in one evaluation. Blocks that do not reference each other
can be evaluated apart: the module's blocks are split into connected groups
by their references (``aws_x.y``, ``data.x.y``, ``module.x``, ``local.x``, ``var.x``),
packed into slices of a bounded size, and each slice is evaluated in a
scratch folder holding copies of the files in which every other block is
blanked out line for line, so that files, lines and addresses stay those of
the real module. Providers and ``terraform`` blocks go into every slice;
variables, and locals that read only variables and such locals, into each
slice that reads them (and those no slice reads into the first, so that the
evaluator still sees every block it would have seen in one evaluation).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, wait
from functools import lru_cache

from winportlint.textfile import read_bytes

from .hcl_positions import Block, index_file, is_json

#: Slice when (dynamic blocks) x (top-level blocks) exceeds this (a 40-file module of 20 dynamic groups).
WORK_LIMIT = 800 * 800
#: The most blocks holding dynamic blocks in one slice.
SLICE_BLOCKS = 20
#: Slice a module of more bytes of source than this, dynamic blocks or not: the evaluator's helper
#: takes ~60 MB and ~165 more a MB of source (measured on the flat benchmark module's files: 0.44 MB
#: 125-140 MB, 0.77 MB 187-192 MB, 3.6 MB 430-465 MB); below it, slices take longer than one
#: evaluation (0.44 MB: 0.69 s against 0.60 s; 0.77 MB: 1.0 s against 0.95 s).
SIZE_LIMIT = 768 << 10
#: The most bytes of blocks in one slice (a helper's peak: 64 KB 86-88 MB, 128 KB 95-97 MB,
#: 256 KB 115-122 MB, 1 MB 205-265 MB; the 300-file module took as long with each of the first three).
SLICE_BYTES = 128 << 10
_REFERENCE = re.compile(
    r"\b(data\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+|module\.[A-Za-z0-9_-]+|local\.[A-Za-z0-9_-]+|var\.[A-Za-z0-9_-]+"
    r"|[a-z][a-z0-9]*_[A-Za-z0-9_]+\.[A-Za-z_][A-Za-z0-9_-]*)")
_DYNAMIC = re.compile(rb'\bdynamic\s+"')
_OUTSIDE_SOURCE = re.compile(r'\bsource\s*=\s*"\.\./')
_EVERYWHERE = ("provider", "terraform")


class _Block:
    __slots__ = ("file", "first", "last", "kind", "names", "references", "outside_source", "size", "dynamic")

    def __init__(self, file: str, first: int, last: int, kind: str, names: list[str], references: set[str],
                 outside_source: bool, size: int, dynamic: bool):
        self.file, self.first, self.last, self.kind = file, first, last, kind
        self.names, self.references, self.outside_source = names, references, outside_source
        self.size, self.dynamic = size, dynamic


def needs_slicing(files: list[str]) -> bool:
    """True for a module too large to evaluate in one go: of more than :data:`SIZE_LIMIT`
    bytes, or whose dynamic blocks would make one evaluation quadratic."""
    if any(is_json(path) for path in files):
        return False  # .tf.json: no slicing (rare at this size)
    size = sum(os.path.getsize(path) for path in files)
    if size > SIZE_LIMIT:
        return True
    # Each ``dynamic "`` takes 9 bytes and each block end (a newline and ``}``) 2, so their
    # product is at most bytes² / 72: most modules are too small to need reading here.
    if size ** 2 / 72 <= WORK_LIMIT:
        return False
    dynamic = blocks = 0
    for path in files:
        source = read_bytes(path)
        dynamic += len(_DYNAMIC.findall(source))
        blocks += source.count(b"\n}")
    return dynamic * blocks > WORK_LIMIT


def start_slices(folder: str, files: list[str], load: Callable[[str], dict], submit: Callable[..., Future]
                 ) -> Callable[[], dict] | None:
    """Start evaluating the module in slices, each slice's ``load(slice_folder)`` given to
    ``submit`` (which may run it on another thread); the function returned waits for them
    and gives the evaluator's output for the module, merged in slice order, so the result
    does not depend on which slice finished first. ``None`` when the module cannot be
    sliced: a module source outside the folder (``../``) would not resolve from the
    scratch folder. The files' indexes are kept for the reading (``index_file``)."""
    blocks = [block for path in files for block in _blocks(path)]
    if any(block.kind == "module" and block.outside_source for block in blocks):
        return None
    everywhere = [b for b in blocks if b.kind in _EVERYWHERE]
    shared = _shared(blocks)
    owner = {name: block for block in shared for name in block.names}
    apart = {id(block) for block in everywhere + shared}
    groups = _connected([b for b in blocks if id(b) not in apart and b.kind != "output"])
    slices = [everywhere + _read_by(everywhere + members, owner) + members for members in _pack(groups) or [[]]]
    read = {id(block) for members in slices for block in members}
    slices[0] += [block for block in shared if id(block) not in read]  # what no slice reads, the first holds
    folders = [entry for entry in os.listdir(folder) if os.path.isdir(os.path.join(folder, entry))]
    scratch = tempfile.TemporaryDirectory(prefix="winportlint-slices-")
    futures: list[Future] = []
    try:
        for number, members in enumerate(slices):
            slice_folder = os.path.join(scratch.name, f"{number:05d}")
            os.mkdir(slice_folder)
            _write_slice(folder, slice_folder, members, folders)
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
        elif kind == "variable" and labels:
            names = ["var." + labels[0]]
        elif kind == "locals":
            names = ["local." + name for name in block.attributes]
        else:
            names = []
        references = set(_REFERENCE.findall(body)) - set(names)
        found.append(_Block(path, first, last, kind, names, references, bool(_OUTSIDE_SOURCE.search(body)),
                            len(body) + 1, _holds_dynamic(block)))
    return found


def _holds_dynamic(block: Block) -> bool:
    """Whether a block holds a ``dynamic`` block, at any depth."""
    todo = list(block.children)
    while todo:
        child = todo.pop()
        if child.kind == "dynamic":
            return True
        todo.extend(child.children)
    return False


def _shared(blocks: list[_Block]) -> list[_Block]:
    """The variables, and the locals blocks that read only variables and such locals
    (a slice takes those it reads; a locals block that reads a resource is in its group)."""
    shared = [block for block in blocks if block.kind in ("variable", "locals")]
    while True:
        names = {name for block in shared for name in block.names}
        kept = [block for block in shared if block.kind == "variable" or all(
            reference.startswith("var.") or reference in names for reference in block.references)]
        if len(kept) == len(shared):
            return kept
        shared = kept


def _read_by(members: list[_Block], owner: dict[str, _Block]) -> list[_Block]:
    """The shared blocks (by the names they own) the members read, directly or through each other."""
    wanted = [reference for block in members for reference in block.references if reference in owner]
    chosen: dict[int, _Block] = {}
    while wanted:
        block = owner[wanted.pop()]
        if id(block) not in chosen:
            chosen[id(block)] = block
            wanted.extend(reference for reference in block.references if reference in owner)
    return list(chosen.values())


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
    """The groups in slices of at most SLICE_BLOCKS blocks holding dynamic blocks and
    SLICE_BYTES bytes (a larger group is a slice of its own)."""
    slices: list[list[_Block]] = [[]]
    dynamic = size = 0
    for group in groups:
        group_dynamic, group_size = sum(block.dynamic for block in group), sum(block.size for block in group)
        if slices[-1] and (dynamic + group_dynamic > SLICE_BLOCKS or size + group_size > SLICE_BYTES):
            slices.append([])
            dynamic = size = 0
        slices[-1].extend(group)
        dynamic, size = dynamic + group_dynamic, size + group_size
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
