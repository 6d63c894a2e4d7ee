"""Module calls the evaluator left out, evaluated in further passes.

tfparse evaluates a module's calls in rounds, at most 32, and each round evaluates at most
one call whose inputs changed (its loop stops at the first change). A root with about 30
calls or more, or with fewer whose inputs come from calls written after them, leaves calls
unevaluated, and says nothing: their resources are missing from its output (measured: a
root of 40 calls, 17 evaluated).

Each call left out is found (an instance of a call with no block of its own in the output),
and the root is evaluated again in a scratch copy where the calls already evaluated are not
loaded: their blocks are blanked line for line and stand-ins with the same labels hold
their outputs as attributes (the evaluator resolves ``module.x.y`` of a call it did not
load to the call block's attribute ``y``), so the calls left out see the values they would
have seen. What the pass gives for those calls joins the first output; the ids of the
root's own blocks are mapped to the first output's, so references between them still
resolve. Passes go on while calls are left out and each pass evaluates some. A value that
was unknown is passed on as the evaluator wrote it (a reference object), which a string
template cannot use: the calls of a later pass may know less there than terraform would.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable

from winportlint.textfile import read_bytes

from .hcl_positions import index_file, is_json

#: A pass evaluates at most about 30 calls; more passes than this evaluate nothing more.
MAX_PASSES = 8
#: The source of a stand-in call: nothing is there, so the evaluator does not load it.
_NOT_LOADED = "./.winportlint-not-loaded"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LOCAL_SOURCE = re.compile(r"(?:\.\./)+|\./")


def instance_of(path: str) -> tuple[str, str] | None:
    """For a block's address inside or of a root call (``module.x["a"].aws_y.z``): the call's
    label and the instance's address (``module.x["a"]``); None for the root's own blocks."""
    if not path.startswith("module."):
        return None
    rest = path[len("module."):]
    label = re.match(r"[^.\[]*", rest)[0]
    end = len("module.") + len(label)
    if path[end:end + 1] == "[":
        closing = _closing_bracket(path, end)
        if closing < 0:
            return None
        end = closing + 1
    return label, path[:end]


def _closing_bracket(path: str, start: int) -> int:
    """The ``]`` that closes the index at ``start``; a quoted key may hold brackets and dots."""
    position = start + 1
    if path[position:position + 1] == '"':
        position += 1
        while position < len(path) and path[position] != '"':
            position += 2 if path[position] == "\\" else 1
        position += 1
    return path.find("]", position)


def left_out(blocks: dict) -> tuple[set[str], set[str]]:
    """The labels of root calls with an instance the evaluator did not evaluate, and of those
    it evaluated whole; a call that was not loaded at all (a source with no files) counts as
    left out, so callers choose the calls they can evaluate."""
    instances: dict[str, str] = {}
    evaluated: set[str] = set()
    for kind, entries in blocks.items():
        for entry in entries if isinstance(entries, list) else ():
            path = str(((entry or {}).get("__tfmeta") or {}).get("path", ""))
            found = instance_of(path)
            if found is None:
                continue
            if kind == "module" and path == found[1]:
                instances[path] = found[0]
            else:
                evaluated.add(found[1])
    missing = {label for path, label in instances.items() if path not in evaluated}
    return missing, set(instances.values()) - missing


def complete(folder: str, files: list[str], blocks: dict, load: Callable[[str], dict],
             may_load: Callable[[str], bool]) -> tuple[dict, list[tuple[str, int, str]]]:
    """The evaluator's output with the calls it left out evaluated in further passes, and
    those still left out (file, line, label). ``may_load(source)`` says whether a call's source
    can be evaluated here (a local folder with files); ``load(folder)`` evaluates a root."""
    missing = left_out(blocks)[0]
    if not missing:
        return blocks, []
    calls = _calls(files)
    for _ in range(MAX_PASSES):
        missing = {label for label in left_out(blocks)[0] if label in calls and may_load(calls[label][2])}
        if not missing or any(is_json(path) for path in files):
            break
        scratch = tempfile.TemporaryDirectory(prefix="winportlint-calls-")
        try:
            more = load(_write_pass(folder, files, calls, blocks, left_out(blocks)[1], scratch.name))
        except Exception:  # noqa: BLE001 - a pass the evaluator fails on evaluates nothing more
            break
        finally:
            scratch.cleanup()
        merged = _merge(blocks, more, missing)
        if not left_out(merged)[1] & missing:
            break  # this pass evaluated none of them: no further pass would
        blocks = merged
    missing = {label for label in left_out(blocks)[0] if label in calls and may_load(calls[label][2])}
    return blocks, [(calls[label][0], calls[label][1][0] + 1, label) for label in sorted(missing)]


def _calls(files: list[str]) -> dict[str, tuple[str, tuple[int, int], str]]:
    """The root's module blocks by label: file, rows, source as written."""
    calls = {}
    for path in files:
        if is_json(path):
            continue
        index = index_file(path)
        for block in index.top_level:
            if block.kind == "module" and block.labels and block.rows is not None:
                source = block.attributes.get("source")
                text = ""
                if source is not None and source.strings:
                    text = source.strings[0][0]
                calls[block.labels[0]] = (path, block.rows, text)
    return calls


def _write_pass(folder: str, files: list[str], calls: dict, blocks: dict, done: set[str], scratch: str) -> str:
    """A copy of the root in ``scratch`` (at the depth its ``../`` sources need), with the calls
    in ``done`` replaced by stand-ins that hold their outputs; returns the copy's folder."""
    ups = max((len(_LOCAL_SOURCE.match(source)[0]) // 3 for _, _, source in calls.values()
               if source.startswith("../")), default=0)
    root = os.path.join(scratch, *[f"up{depth}" for depth in range(ups)], "root")
    os.makedirs(root)
    real = os.path.abspath(folder)
    for depth in range(1, ups + 1):  # what ``../``-sources name, linked at the same height
        above, copy = real, root
        for _ in range(depth):
            above, copy = os.path.dirname(above), os.path.dirname(copy)
        needed = {source[3 * depth:].split("/")[0] for _, _, source in calls.values()
                  if len(_LOCAL_SOURCE.match(source)[0]) // 3 == depth}
        for name in needed - {""}:
            if not os.path.exists(os.path.join(copy, name)):
                os.symlink(os.path.join(above, name), os.path.join(copy, name))
    blanked: dict[str, list[tuple[int, int]]] = {}
    for label in done:
        if label in calls:
            path, rows, _ = calls[label]
            blanked.setdefault(path, []).append(rows)
    for path in files:
        lines = read_bytes(path).decode("utf-8", errors="replace").split("\n")
        for first, last in blanked.get(path, ()):
            lines[first:last + 1] = [""] * (last + 1 - first)
        with open(os.path.join(root, os.path.basename(path)), "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines))
    for entry in os.listdir(folder):
        if os.path.isdir(os.path.join(folder, entry)):
            os.symlink(os.path.join(real, entry), os.path.join(root, entry))
    names = {os.path.basename(path) for path in files}
    stand_ins = next(f"winportlint-outputs{n or ''}.tf" for n in range(len(names) + 1)
                     if f"winportlint-outputs{n or ''}.tf" not in names)
    with open(os.path.join(root, stand_ins), "w", encoding="utf-8") as handle:
        handle.write(_stand_ins(blocks, done & set(calls)))
    return root


def _stand_ins(blocks: dict, labels: set[str]) -> str:
    """A module block for each call in ``labels``, not loaded, holding each instance's outputs."""
    outputs: dict[str, dict[str, dict[str, object]]] = {}  # label -> instance -> output -> value
    for label in labels:
        outputs[label] = {}
    for entry in blocks.get("module", []):
        path = str(((entry or {}).get("__tfmeta") or {}).get("path", ""))
        found = instance_of(path)
        if found is not None and found[0] in outputs and path == found[1]:
            outputs[found[0]].setdefault(path, {})
    for entry in blocks.get("output", []):
        path = str(((entry or {}).get("__tfmeta") or {}).get("path", ""))
        found = instance_of(path)
        if found is None or found[0] not in outputs or not path.startswith(found[1] + ".output."):
            continue
        name = path[len(found[1] + ".output."):]
        if "." not in name:
            outputs[found[0]].setdefault(found[1], {})[name] = entry.get("value")
    text = []
    for label, instances in sorted(outputs.items()):
        lines = [f'module "{label}" {{', f'  source = "{_NOT_LOADED}"']
        keys = [path[len(f"module.{label}"):] for path in instances]
        names = sorted({name for values in instances.values() for name in values})
        if keys and keys != [""]:
            indexes = [key[1:-1] for key in keys]
            if all(index.isdigit() for index in indexes):  # count: one value per index
                order = sorted(range(len(keys)), key=lambda i: int(indexes[i]))
                lines.append(f"  count = {len(keys)}")
                for name in names:
                    values = [instances[list(instances)[i]].get(name) for i in order]
                    lines.append(f"  {name} = {_literal(values)}[count.index]")
            else:  # for_each: one value per key
                each = {json.loads(index): path for index, path in zip(indexes, instances)}
                lines.append(f"  for_each = {_literal(dict.fromkeys(each, True))}")
                for name in names:
                    lines.append(f"  {name} = {_literal({key: instances[path].get(name) for key, path in each.items()})}"
                                 "[each.key]")
        else:
            for name in names:
                lines.append(f"  {name} = {_literal(instances.get(f'module.{label}', {}).get(name))}")
        text.append("\n".join(lines) + "\n}\n")
    return "\n".join(text)


def _literal(value: object) -> str:
    """An HCL expression of a JSON value (templates in strings escaped)."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def _merge(first: dict, more: dict, labels: set[str]) -> dict:
    """``first`` with what ``more`` gives for the calls in ``labels``; ids of the root's own
    blocks in those entries are mapped to the ids of ``first``."""
    ids: dict[str, str] = {}
    own = {(kind, _path(entry)): entry.get("id") for kind, entries in first.items()
           for entry in entries if isinstance(entries, list) and instance_of(_path(entry)) is None}
    for kind, entries in more.items():
        for entry in entries if isinstance(entries, list) else ():
            if instance_of(_path(entry)) is None and isinstance(entry.get("id"), str):
                earlier = own.get((kind, _path(entry)))
                if isinstance(earlier, str):
                    ids[entry["id"]] = earlier
    merged: dict[str, list] = {}
    for kind, entries in first.items():
        if not isinstance(entries, list):
            merged[kind] = entries
            continue
        merged[kind] = [entry for entry in entries if (instance_of(_path(entry)) or ("",))[0] not in labels]
    for kind, entries in more.items():
        for entry in entries if isinstance(entries, list) else ():
            if (instance_of(_path(entry)) or ("",))[0] in labels:
                if ids:
                    entry = json.loads(_UUID.sub(lambda match: ids.get(match[0], match[0]), json.dumps(entry)))
                merged.setdefault(kind, []).append(entry)
    return merged


def _path(entry: object) -> str:
    return str(((entry if isinstance(entry, dict) else {}).get("__tfmeta") or {}).get("path", ""))
