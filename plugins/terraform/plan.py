"""``terraform show -json`` output: the planned security-group rules.

Resources come from ``resource_changes`` (whose ``after_unknown`` marks values
known only after apply) or, without it, from ``planned_values`` and its
nested ``child_modules``. Each becomes an entry shaped like the evaluator's
output so that one reader serves both.
"""

from __future__ import annotations

import json
import os
import re

from winportlint.model import FileResult, InputError
from winportlint.textfile import NotText, decode

from .evaluate import Evaluation, module_files
from .extract import UNKNOWN_KEY
from .reading import read_module
from .hcl_positions import index_file


def read_plan(path: str, data: bytes) -> FileResult | None:
    try:
        text = decode(data)
        plan = json.loads(text)
    except (NotText, ValueError) as exc:
        line = getattr(exc, "lineno", None) or getattr(exc, "line", 1)
        return FileResult(errors=[InputError(path, line, f"invalid plan JSON: {str(exc).split(':')[0]}")])
    except RecursionError:  # the JSON decoder recurses: a chain of a thousand module calls is too deep for it
        return FileResult(errors=[InputError(path, 1, "invalid plan JSON: nested too deeply to read")])
    if not isinstance(plan, dict) or "format_version" not in plan or not (
            "planned_values" in plan or "resource_changes" in plan):
        return None
    problems: list[str] = []
    entries = _changed_resources(plan, problems) if plan.get("resource_changes") else \
        _planned_resources(plan, problems)
    folder = os.path.dirname(path) or "."
    configuration = _mapping(_mapping(plan.get("configuration")).get("root_module"))
    blocks: dict[str, list] = {}
    inputs: dict[str, None] = {}  # the configuration files lines were looked for in
    for address, kind, values, unknown in entries:
        if not isinstance(values, dict):
            continue
        entry = _with_unknowns(values, unknown)
        source = _source_block(folder, configuration, address, inputs)
        if source:
            filename, line = os.path.relpath(source[0], folder), source[1]
        else:
            filename, line = os.path.basename(path), _line_of(text, address)
        entry["__tfmeta"] = {"type": "resource", "label": kind, "path": address, "filename": filename,
                             "line_start": line, "plan": True}
        blocks.setdefault(kind, []).append(entry)
    evaluation = Evaluation(folder, blocks)
    reading = read_module(evaluation)
    reading.errors.extend(InputError(path, 1, f"malformed plan: {problem}") for problem in problems)
    reading.inputs = list(inputs)
    return reading


def _changed_resources(plan: dict, errors: list[str]):
    for number, change in enumerate(_list(plan.get("resource_changes"))):
        if not isinstance(change, dict):
            errors.append(f"resource_changes[{number}] is not an object")
            continue
        if change.get("mode", "managed") != "managed":
            continue
        details = _mapping(change.get("change"))
        after = details.get("after")
        if after is None:  # deleted
            continue
        yield str(change.get("address", "?")), str(change.get("type", "")), after, details.get("after_unknown") or {}


def _planned_resources(plan: dict, errors: list[str]):
    stack = [_mapping(_mapping(plan.get("planned_values")).get("root_module"))]
    while stack:
        module = stack.pop()
        for number, resource in enumerate(_list(module.get("resources"))):
            if not isinstance(resource, dict):
                errors.append(f"planned_values resource {number} is not an object")
            elif resource.get("mode", "managed") == "managed":
                yield str(resource.get("address", "?")), str(resource.get("type", "")), resource.get("values"), {}
        stack.extend(reversed([_mapping(child) for child in _list(module.get("child_modules"))]))


def _mapping(value) -> dict:
    """Plans are machine-written, but a hand-edited one must not crash the reader."""
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


_READER_KEYS = ("__tfmeta", UNKNOWN_KEY)


def _with_unknowns(values, unknown):
    """Values with every unknown attribute set to ``None`` and named in UNKNOWN_KEY."""
    if isinstance(values, dict):
        merged = {}
        unknown = unknown if isinstance(unknown, dict) else {}
        for key, value in values.items():
            if key not in _READER_KEYS:  # the reader's own markers: a plan cannot set them
                merged[key] = _with_unknowns(value, unknown.get(key))
        names = [key for key, flag in unknown.items() if flag is True]
        for key in names:
            merged[key] = None
        if names:
            merged[UNKNOWN_KEY] = names
        return merged
    if isinstance(values, list):
        flags = unknown if isinstance(unknown, list) else []
        return [None if i < len(flags) and flags[i] is True else
                _with_unknowns(v, flags[i] if i < len(flags) else None) for i, v in enumerate(values)]
    return values


def _source_block(folder: str, configuration: dict, address: str, inputs: dict[str, None]
                  ) -> tuple[str, int] | None:
    """The ``.tf`` file and line of the resource block, when the plan sits in its
    configuration folder (local module calls are followed through the plan's
    ``configuration``). The folder looked in and its files are added to ``inputs``."""
    parts = re.sub(r"\[[^\]]*\]", "", address).split(".")
    while len(parts) > 2 and parts[0] == "module":
        call = _mapping(_mapping(configuration.get("module_calls")).get(parts[1]))
        source = call.get("source")
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            return None
        folder = os.path.normpath(os.path.join(folder, source))
        configuration = _mapping(call.get("module"))
        parts = parts[2:]
    if len(parts) != 2:
        return None
    kind, name = parts
    files = module_files(folder)
    inputs.update(dict.fromkeys([folder, *files]))
    for tf_file in files:
        try:
            index = index_file(tf_file)
        except OSError:
            return None
        for block in index.top_level:
            if block.kind == "resource" and block.labels == [kind, name]:
                return tf_file, block.line
    return None


def _line_of(text: str, address: str) -> int:
    """The line where the plan names the resource (plans carry no source lines)."""
    position = text.find(f'"address": {json.dumps(address)}')
    if position < 0:
        position = text.find(json.dumps(address))
    return text.count("\n", 0, position) + 1 if position >= 0 else 1
