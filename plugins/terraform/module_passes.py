"""A root's module calls evaluated one by one, and the calls the evaluator left out.

tfparse evaluates a module's calls in rounds, at most 32, each round evaluating at most one
call whose inputs changed (its loop stops at the first change), and it gives a module's
blocks new ids each time it evaluates the module. Calls that take each other's outputs
(``module.a`` takes ``module.b.id``) therefore change each other's inputs round after round,
and calls beyond about 30 are left out without a word (measured: a root of 40 calls, 17
evaluated; the benchmark's root of 30 such calls, 17 of 30 modules).

Calls with unknown inputs starve the others too: the evaluator finds their inputs changed
every round (measured: terraform-aws-ec2-instance's ``examples/complete``, 10 of its 12 local
calls left out). Such a root (:data:`MESH_CALLS` calls or more that read each other's outputs,
more calls than one evaluation evaluates, or calls one evaluation left out) is evaluated in
passes instead, each in scratch copies (calls of registry modules are left to the evaluator):

- **the root**, its calls' modules not loaded (the blocks only collect their inputs), and its
  references to a call (``module.x``) read from a local that holds the call's outputs so far
  (a list for a counted call, an object for ``for_each``);
- **the call instances ready**, in wrapper roots that call their modules with those inputs as
  values, spread over the evaluator's helpers. An instance is ready once the calls it reads
  were evaluated (those in a cycle with it aside), and evaluated again only when its inputs
  change, until none does (at most one pass a call, and :data:`MAX_PASSES` more).

A block evaluated again keeps the id its first evaluation gave it (the root's blocks too), so
values taken from the stand-ins name the blocks reported. A value that was unknown stays
unknown on its way (see :class:`Unknowns`).

Whatever the evaluation, a call instance with no block below it in the output was left out
(nested calls too): each is reported (WPL001), not passed over.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from winportlint.textfile import read_bytes

from .hcl_positions import CONFIG_SUFFIXES, index_file, is_json

#: Passes of the root and its calls at most, besides one a call (outputs that feed other calls
#: settle in as many passes as the longest chain of calls that feed each other).
MAX_PASSES = 4
#: More calls than this in one evaluation: some may be left out (32 rounds, and the root's own).
MAX_CALLS = 28
#: From this many calls that read each other's outputs, a root is evaluated in passes (below,
#: the evaluator's rounds are fewer than the passes' evaluations: measured on three calls whose
#: modules' calls read each other's too, 0.4 s whole and 1.4 s in passes).
MESH_CALLS = 8
#: The file of a wrapper root.
_WRAPPER = "winportlint-wrapper.tf"
#: The source of a call block that only collects inputs: nothing is there, nothing is loaded.
_NOT_LOADED = "./.winportlint-not-loaded"
#: The locals that stand in for the calls (``module.x``: ``local.winportlint_module_x``), and the
#: label of an instance of a counted call in a wrapper.
_STAND_IN = "winportlint_module_"
_INSTANCE = "winportlint_instance_"
#: The locals, never declared, that stand for unknown values in scratch files (see ``Unknowns``).
_UNKNOWN = "winportlint_unknown_"
_UNKNOWN_REFERENCE = re.compile(rf"local\.{_UNKNOWN}(\d+)")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
#: What differs between evaluations of the same inputs: ids, and the helper's folder (``path.cwd``).
_VARYING = re.compile(rf"{_UUID.pattern}|winportlint-helper-\w+")
_MODULE_REFERENCE = re.compile(r"\bmodule\.([A-Za-z_][\w-]*)")
#: The start of a module block (a block's header at the start of a line).
_MODULE_BLOCK = re.compile(rb'(?m)^\s*module\s+["A-Za-z_]')
#: Attributes of a call that are not inputs of its module.
_META = frozenset(("__tfmeta", "id", "source", "version", "count", "for_each", "depends_on", "providers"))

Load = Callable[[str], dict]


class Call:
    """A module block of the root: its label, file, rows, source as written and text."""

    __slots__ = ("file", "label", "rows", "source", "text")

    def __init__(self, label: str, file: str, rows: tuple[int, int], source: str, text: str):
        self.label, self.file, self.rows, self.source, self.text = label, file, rows, source, text


def root_calls(files: list[str], loadable: Callable[[str], bool], left_out_labels: set[str] = frozenset()
               ) -> list[Call] | None:
    """The root's calls of local modules when the root must be evaluated in passes, else None:
    when it has :data:`MESH_CALLS` calls or more that read each other's outputs, more than
    :data:`MAX_CALLS` calls, or calls one evaluation left out (``left_out_labels``). Calls of
    other sources are left to the evaluator (it reads them where ``terraform init`` put them);
    a root written in JSON is evaluated as it is."""
    if any(is_json(path) for path in files):
        return None
    headers = sum(len(_MODULE_BLOCK.findall(read_bytes(path))) for path in files)
    if headers < (1 if left_out_labels else min(MESH_CALLS, MAX_CALLS + 1)):
        return None  # too few calls: no need to index the files before the evaluation starts
    calls = []
    for path in files:
        index = index_file(path)
        lines = index.text.split("\n")
        for block in index.top_level:
            if block.kind != "module" or not block.labels or block.rows is None:
                continue
            source = block.attributes.get("source")
            written = source.strings[0][0] if source is not None and source.strings else ""
            first, last = block.rows
            calls.append(Call(block.labels[0], path, block.rows, written, "\n".join(lines[first:last + 1])))
    labels = {call.label for call in calls}
    reading = any(set(_MODULE_REFERENCE.findall(call.text)) & (labels - {call.label}) for call in calls)
    local = [call for call in calls if loadable(call.source)]
    if not local or not (left_out_labels & {call.label for call in local} or len(calls) > MAX_CALLS
                         or len(calls) >= MESH_CALLS and reading):
        return None
    return local


def evaluate_in_passes(folder: str, files: list[str], calls: list[Call], load: Load, jobs: int) -> dict:
    """The evaluator's output for the root, its calls evaluated one by one (see the module's text)."""
    texts = {path: index_file(path).text for path in files}  # indexed by root_calls: not read again
    reads_outputs = any(_MODULE_REFERENCE.search(text) for text in texts.values())
    outputs: dict[str, dict[str, object]] = {}  # instance address -> output name -> value
    done: dict[str, tuple[dict, dict]] = {}  # instance address -> (its inputs, its blocks)
    first: dict = {}
    # A call is evaluated once the calls it reads were (those in a cycle with it aside, which
    # are evaluated again as their inputs change): its inputs are then final.
    labels = {call.label for call in calls}
    sources = {call.label: call.source for call in calls}
    needs = {call.label: set(_MODULE_REFERENCE.findall(call.text)) & labels - {call.label} for call in calls}
    cycles = _cycles(needs)
    with ThreadPoolExecutor(max(1, jobs), thread_name_prefix="winportlint-calls") as pool:
        for _ in range(len(calls) + MAX_PASSES):
            root = _same_ids(_in_scratch(partial(_write_root, folder, texts, calls, outputs), load)[0], first)
            first = first or root
            instances = _instances(root, calls)
            made = {item[0] for item in instances}
            evaluated = made - {item[0] for item in instances if item[1] not in done}
            todo = [item for item in instances if (item[1] not in done or _masked(done[item[1]][0]) != _masked(item[2]))
                    and all(label in evaluated or label not in made or label in cycles[item[0]]
                            for label in needs[item[0]])]
            if not todo:
                break
            size = min(MAX_CALLS, -(-len(todo) // max(1, jobs)))
            batches = [todo[start:start + size] for start in range(0, len(todo), size)]
            wrapped = pool.map(lambda batch: _in_scratch(partial(_write_wrapper, folder, calls, batch), load),
                               batches)
            for batch, (blocks, wrapper_root) in zip(batches, wrapped):
                for number, item in enumerate(batch):
                    source = sources[item[0]]
                    called = _rehome(item, _wrapper_label(item, number), blocks, source,
                                     _source_from(folder, source, wrapper_root))
                    done[item[1]] = (item[2], _same_ids(called, done[item[1]][1]) if item[1] in done else called)
            current = {item[1] for item in instances}
            done = {address: value for address, value in done.items() if address in current}
            outputs = _outputs(done)
            if not reads_outputs:
                break
    called: dict[str, list] = {}
    for _, blocks in done.values():
        for kind, entries in blocks.items():
            called.setdefault(kind, []).extend(entries)
    return _restore(root, calls, called)


def _cycles(needs: dict[str, set[str]]) -> dict[str, set[str]]:
    """For each call, the calls in a cycle with it (each reads the other, maybe through others)."""
    reach = {}
    for start, direct in needs.items():
        seen, todo = set(), list(direct)
        while todo:
            label = todo.pop()
            if label not in seen:
                seen.add(label)
                todo.extend(needs.get(label, ()))
        reach[start] = seen
    return {label: {other for other in reach[label] if label in reach[other]} for label in needs}


def _in_scratch(write: Callable[[str, Unknowns], str], load: Load) -> tuple[dict, str]:
    """The evaluation of the folder ``write`` makes in a scratch folder (its unknown values as
    the evaluator wrote them), and that folder's path."""
    scratch = tempfile.TemporaryDirectory(prefix="winportlint-calls-")
    unknowns = Unknowns()
    try:
        root = write(scratch.name, unknowns)
        return unknowns.restore(load(root)), root
    finally:
        scratch.cleanup()


class Unknowns:
    """Values written into a scratch file as HCL: an unknown value (the evaluator's reference
    object, ``{"__attribute__": "var.x", ...}``) becomes a reference to a local that does not
    exist, so that it is unknown there too: written as an object, a ``for_each`` would iterate its
    keys and a list would hold its texts as CIDRs. What the evaluator then says of those
    references is given back as the reference objects they stand for."""

    def __init__(self) -> None:
        self.values: list[dict] = []

    def expression(self, value: object) -> str:
        if isinstance(value, dict) and "__attribute__" in value:
            self.values.append(value)
            return f"local.{_UNKNOWN}{len(self.values) - 1}"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{_string(str(key))} = {self.expression(item)}"
                                   for key, item in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.expression(item) for item in value) + "]"
        return _string(value) if isinstance(value, str) else json.dumps(value)

    def restore(self, value: object) -> object:
        if not self.values:
            return value
        if isinstance(value, dict):
            match = _UNKNOWN_REFERENCE.match(str(value.get("__attribute__", "")))
            if match is not None and int(match[1]) < len(self.values):
                return self.values[int(match[1])]
            return {key: self.restore(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.restore(item) for item in value]
        return value


def _string(text: str) -> str:
    """An HCL string of a text (templates escaped)."""
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def _layout(folder: str, scratch: str) -> str:
    """A folder in ``scratch`` in which everything of ``folder`` but its configuration and variable
    files is linked (modules called by ``./`` paths, files that file functions read, ``.terraform``)."""
    root = os.path.join(scratch, "root")
    os.makedirs(root)
    real = os.path.abspath(folder)
    for entry in os.listdir(folder):
        if not entry.endswith((*CONFIG_SUFFIXES, ".tfvars", ".tfvars.json")):
            os.symlink(os.path.join(real, entry), os.path.join(root, entry))
    return root


def _write_root(folder: str, texts: dict[str, str], calls: list[Call], outputs: dict, scratch: str,
                unknowns: Unknowns) -> str:
    """The root with its calls' modules not loaded and its references to them read from stand-ins."""
    names = {os.path.basename(path) for path in texts}
    stand_ins = _stand_in_file(names)
    root = _layout(folder, scratch)
    reference = re.compile(r"\bmodule\.(" + "|".join(re.escape(call.label) for call in calls) + r")(?![\w-])")
    blocks: dict[str, list[Call]] = {}
    for call in calls:
        blocks.setdefault(call.file, []).append(call)
    for path, text in texts.items():
        lines = reference.sub(rf"local.{_STAND_IN}\1", text).split("\n")
        for call in blocks.get(path, ()):
            for row in range(call.rows[0], call.rows[1] + 1):  # the source line: nothing to load
                lines[row] = re.sub(r'^(\s*source\s*=\s*)".*"', rf'\1"{_NOT_LOADED}"', lines[row])
        with open(os.path.join(root, os.path.basename(path)), "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines))
    with open(os.path.join(root, stand_ins), "w", encoding="utf-8") as handle:
        handle.write(_stand_ins(calls, outputs, unknowns))
    return root


def _stand_in_file(names: set[str]) -> str:
    return next(f"winportlint-outputs{n or ''}.tf" for n in range(len(names) + 1)
                if f"winportlint-outputs{n or ''}.tf" not in names)


def _stand_ins(calls: list[Call], outputs: dict, unknowns: Unknowns) -> str:
    """A local for each call evaluated: its outputs, one object for each instance."""
    by_call: dict[str, dict[str, dict]] = {}  # label -> instance key ("", "[0]", '["k"]') -> outputs
    for address, values in outputs.items():
        label = _label(address)
        by_call.setdefault(label, {})[address[len(f"module.{label}"):]] = values
    lines = ["locals {"]
    for call in calls:
        instances = by_call.get(call.label)
        if not instances:
            continue
        keys = [key[1:-1] for key in instances if key]
        if not keys:
            value: object = instances[""]
        elif all(key.isdigit() for key in keys):  # count: a list
            value = [instances[key] for key in sorted(instances, key=lambda key: int(key[1:-1]))]
        else:  # for_each: an object by key
            value = {json.loads(key[1:-1]): instances[key] for key in instances}
        lines.append(f"  {_STAND_IN}{call.label} = {unknowns.expression(value)}")
    return "\n".join(lines) + "\n}\n"


def _instances(root: dict, calls: list[Call]) -> list[tuple[str, str, dict]]:
    """Each call instance the root's evaluation made: (label, address, inputs)."""
    labels = {call.label for call in calls}
    found = []
    for entry in root.get("module", []) if isinstance(root.get("module"), list) else ():
        path = _path(entry)
        if _label(path) in labels and len(instance_parts(path)) == 1:
            found.append((_label(path), path, {key: value for key, value in entry.items() if key not in _META}))
    return found


def _wrapper_label(instance: tuple[str, str, dict], number: int) -> str:
    """The label an instance's call has in a wrapper: its own, or for an instance of a counted
    call (``module.x[0]``) one made unique in the wrapper."""
    label, address, _ = instance
    return label if address == f"module.{label}" else f"{_INSTANCE}{number}"


def _write_wrapper(folder: str, calls: list[Call], batch: list[tuple[str, str, dict]], scratch: str,
                   unknowns: Unknowns) -> str:
    """A root that calls each instance's module with its inputs (they read nothing of each other)."""
    root = _layout(folder, scratch)
    sources = {call.label: _source_from(folder, call.source, root) for call in calls}
    text = []
    for number, (label, address, inputs) in enumerate(batch):
        lines = [f'module "{_wrapper_label((label, address, inputs), number)}" {{',
                 f"  source = {_string(sources[label])}"]
        lines += [f"  {name} = {unknowns.expression(value)}" for name, value in sorted(inputs.items())]
        text.append("\n".join(lines) + "\n}\n")
    with open(os.path.join(root, _WRAPPER), "w", encoding="utf-8") as handle:
        handle.write("\n".join(text))
    return root


def _source_from(folder: str, source: str, root: str) -> str:
    """A ``../`` source as a path from ``root`` to the same folder (a ``./`` one is linked there)."""
    if not source.startswith("../"):
        return source
    return os.path.relpath(os.path.join(os.path.abspath(folder), source), root).replace(os.sep, "/")


def _rehome(instance: tuple[str, str, dict], label: str, blocks: dict, source: str, written: str) -> dict:
    """The blocks below the wrapper's call ``label``, at the instance's address, their files named
    from the root (``written``: the call's source in the wrapper, ``source``: in the root)."""
    address = instance[1]
    plain = f"module.{label}"
    moved = os.path.normpath(written) + "/" if written != source else None
    called: dict[str, list] = {}
    for kind, entries in blocks.items():
        for entry in entries if isinstance(entries, list) else ():
            path = _path(entry)
            if not path.startswith(plain + "."):
                continue
            meta = entry["__tfmeta"]
            if address != plain:
                meta["path"] = address + path[len(plain):]
            _rename(meta, moved, os.path.normpath(source) + "/")
            called.setdefault(kind, []).append(entry)
    return called


def _rename(meta: dict, moved: str | None, source: str) -> None:
    """A block's (and its nested blocks') file named from the root rather than the wrapper."""
    if moved is None:
        return
    filename = os.path.normpath(str(meta.get("filename", "")))
    if filename.startswith(moved):
        meta["filename"] = source + filename[len(moved):]


def _outputs(done: dict[str, tuple[dict, dict]]) -> dict[str, dict[str, object]]:
    """Each call instance's outputs: address -> name -> value."""
    outputs: dict[str, dict[str, object]] = {}
    for address, (_, blocks) in done.items():
        for entry in blocks.get("output", []):
            name = _path(entry)[len(address + ".output."):]
            if _path(entry).startswith(address + ".output.") and "." not in name:
                outputs.setdefault(address, {})[name] = entry.get("value")
    return outputs


def _masked(value: object) -> str:
    """A value without what differs between two evaluations of the same inputs: besides blocks'
    ids (kept the same, see ``_same_ids``), the evaluator makes a new id for each random attribute
    (``random_id``, a launch template's name) at each evaluation, and ``path.cwd`` is the folder of
    the helper that evaluates (``basename(path.cwd)`` names resources in many examples)."""
    return _VARYING.sub("", json.dumps(value, sort_keys=True))


def _same_ids(called: dict, earlier: dict) -> dict:
    """``called`` with each block's id replaced by the id the earlier pass gave that block."""
    if not earlier:
        return called
    before = {(kind, _path(entry)): entry.get("id") for kind, entries in earlier.items()
              if isinstance(entries, list) for entry in entries}
    ids: dict[str, str] = {}
    for kind, entries in called.items():
        for entry in entries if isinstance(entries, list) else ():
            old = before.get((kind, _path(entry)))
            if isinstance(old, str) and isinstance(entry.get("id"), str):
                ids[entry["id"]] = old
    if not ids:
        return called
    return json.loads(_UUID.sub(lambda match: ids.get(match[0], match[0]), json.dumps(called)))


def _restore(root: dict, calls: list[Call], called: dict) -> dict:
    """The root's blocks as a whole evaluation gives them (the calls' sources, references to the
    calls, no stand-ins), with the calls' blocks."""
    sources = {call.label: call.source for call in calls}
    merged: dict[str, list] = {}
    for kind, entries in root.items():
        if not isinstance(entries, list):
            continue
        for entry in entries:
            meta = entry.get("__tfmeta") or {}
            if os.path.basename(str(meta.get("filename", ""))).startswith("winportlint-outputs"):
                continue
            if kind == "module" and _label(_path(entry)) in sources:
                entry["source"] = sources[_label(_path(entry))]
            merged.setdefault(kind, []).append(entry)
    merged = json.loads(json.dumps(merged).replace(f"local.{_STAND_IN}", "module."))
    for kind, entries in called.items():
        merged.setdefault(kind, []).extend(entries)
    return merged


def left_out(blocks: dict) -> list[dict]:
    """The call instances (module entries, at any depth) with no block below them: the
    evaluator did not evaluate them, or their module has no block at all."""
    below: set[str] = set()
    calls = []
    for kind, entries in blocks.items():
        for entry in entries if isinstance(entries, list) else ():
            path = _path(entry)
            if kind == "module":
                calls.append(entry)
            parts = instance_parts(path)
            below.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return [entry for entry in calls if _path(entry) not in below]


def left_out_calls(blocks: dict) -> set[str]:
    """The labels of the root's calls with an instance left out (see :func:`left_out`)."""
    return {_label(_path(entry)) for entry in left_out(blocks) if len(instance_parts(_path(entry))) == 1}


def instance_parts(path: str) -> list[str]:
    """``module.a["x.y"].module.b.aws_c.d`` -> ``['module.a["x.y"]', 'module.b', 'aws_c.d']``:
    the call instances on the way to a block, then the block."""
    parts = []
    rest = path
    while rest.startswith("module."):
        label = re.match(r"[^.\[]*", rest[len("module."):])[0]
        end = len("module.") + len(label)
        while rest[end:end + 1] == "[":
            end = _closing_bracket(rest, end) + 1
            if end == 0:
                return parts + [rest]
        parts.append(rest[:end])
        rest = rest[end + 1:]
    return parts + [rest] if rest else parts


def _closing_bracket(path: str, start: int) -> int:
    """The ``]`` that closes the index at ``start``; a quoted key may hold brackets and dots."""
    position = start + 1
    if path[position:position + 1] == '"':
        position += 1
        while position < len(path) and path[position] != '"':
            position += 2 if path[position] == "\\" else 1
        position += 1
    return path.find("]", position)


def _label(address: str) -> str:
    """The label of the first call of an address (``module.x[0].aws_y.z``: ``x``), else ''."""
    parts = instance_parts(address)
    if not parts or not parts[0].startswith("module."):
        return ""
    return re.match(r"[^.\[]*", parts[0][len("module."):])[0]


def _path(entry: object) -> str:
    return str(((entry if isinstance(entry, dict) else {}).get("__tfmeta") or {}).get("path", ""))
