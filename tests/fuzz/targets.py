"""One fuzz target per loader, through the real entry points.

- ``yaml``: a CloudFormation YAML template, ``engine.read_file(path, formats)``.
- ``json``: a CloudFormation JSON template (any ``.json``), ``engine.read_file``.
- ``plan``: ``terraform show -json`` output, ``engine.read_file``.
- ``hcl``: a Terraform module (``main.tf`` in a folder of its own), the terraform
  format's ``parse_folders``.

Each target writes the input where the loader expects it, reads it, runs the
checks on what was read (as ``engine.check_file`` does), and returns an
:class:`Outcome`. :func:`problems` says what is wrong with an outcome; the only
acceptable ones are "not this format" (``None``), or permissions and input errors
that name the file and a line in it. An exception escaping the plugin, a
"plugin failed" or "check failed" error, an error or finding without a line in
the file, or (see ``harness``) an input that runs too long is a failure.
"""

from __future__ import annotations

import os
import shutil
import traceback
from dataclasses import dataclass, field

from .mutators import TARGET_NAMES

#: Where each target writes its input, relative to the input's own folder.
INPUT_FILES = {"yaml": "template.yaml", "json": "template.json", "plan": "plan.json",
               "hcl": os.path.join("a", "b", "c", "module", "main.tf")}

#: A small local module beside every fuzzed HCL module, for ``source = "./modules/m"``.
_LOCAL_MODULE = """variable "c" {
  default = "10.0.0.0/8"
}
resource "aws_security_group" "m" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.c]
  }
}
"""


@dataclass
class Outcome:
    """What a loader made of one input, with paths relative to the input's folder.

    ``kind`` is ``none`` (not this format), ``result`` (a FileResult) or ``exception``
    (something escaped the entry point; ``detail`` is the traceback).
    """

    kind: str
    errors: list[tuple[str, int, str]] = field(default_factory=list)
    #: (rule id or "-" for a permission no check reported, file, line, column, resource, peer)
    findings: list[tuple] = field(default_factory=list)
    detail: str = ""
    lines: int = 0

    def summary(self) -> dict:
        """The outcome as regression fixtures record it."""
        if self.kind != "result":
            return {"kind": self.kind}
        return {"kind": self.kind, "errors": [list(e) for e in self.errors],
                "findings": [list(f) for f in self.findings]}


_TOOLS = None


def tools():
    """The installed formats and every check (on by default or not), loaded once."""
    global _TOOLS
    if _TOOLS is None:
        from winportlint.catalog import load_catalog
        from winportlint.plugin_manager import load_plugins

        plugins = load_plugins()
        formats = {fmt.name: fmt for fmt in plugins.formats}
        _TOOLS = (plugins.formats, formats["terraform"], list(plugins.checks), load_catalog(()))
    return _TOOLS


def line_count(data: bytes) -> int:
    """How many lines the input has, counting every line break any loader might count
    (so that a loader's line can be checked against it)."""
    from winportlint.textfile import NotText, decode

    try:
        return len(decode(data).splitlines()) or 1
    except NotText:
        return data.count(b"\n") + data.count(b"\r") + 1


def run(target: str, data: bytes, folder: str, jobs: int = 1) -> Outcome:
    """Read one input of a target in ``folder`` (which must be new and empty) and
    return the outcome; the folder is removed afterwards."""
    if target not in TARGET_NAMES:
        raise ValueError(f"unknown target {target}")
    path = os.path.join(folder, INPUT_FILES[target])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    if target == "hcl":
        local = os.path.join(os.path.dirname(path), "modules", "m")
        os.makedirs(local)
        with open(os.path.join(local, "main.tf"), "w", encoding="utf-8") as handle:
            handle.write(_LOCAL_MODULE)
    try:
        return _read(target, path, folder, jobs, line_count(data))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read(target: str, path: str, folder: str, jobs: int, lines: int) -> Outcome:
    from winportlint import engine

    formats, terraform, checks, catalog = tools()
    try:
        if target == "hcl":
            result = terraform.parse_folders([os.path.dirname(path)], {"jobs": jobs})
        else:
            result = engine.read_file(path, formats)
    except Exception:  # noqa: BLE001 (that is what is looked for)
        return Outcome("exception", detail=_relative(traceback.format_exc(), folder), lines=lines)
    if result is None:
        return Outcome("none", lines=lines)
    outcome = Outcome("result", lines=lines)
    try:
        findings = engine.check_file(path, result, checks, catalog)
    except Exception:  # noqa: BLE001
        return Outcome("exception", detail=_relative(traceback.format_exc(), folder), lines=lines)
    reported = set()
    for finding in findings:
        p = finding.permission
        reported.add(id(p))
        outcome.findings.append((finding.rule_id, _relative(p.location.file, folder), p.location.line,
                                 p.location.column, p.resource, p.peer.text))
    for p in result.permissions:
        if id(p) not in reported:
            outcome.findings.append(("-", _relative(p.location.file, folder), p.location.line, p.location.column,
                                     p.resource, p.peer.text))
    outcome.findings.sort(key=repr)
    outcome.errors = sorted((_relative(e.file, folder), e.line, _relative(e.message, folder)) for e in result.errors)
    if any("plugin failed" in e[2] for e in outcome.errors):
        # The engine caught an exception of the plugin: keep its traceback for the report.
        outcome.detail = _plugin_traceback(path, folder, formats)
    return outcome


def _plugin_traceback(path: str, folder: str, formats) -> str:
    with open(path, "rb") as handle:
        data = handle.read()
    for fmt in formats:
        if not path.lower().endswith(fmt.suffixes):
            continue
        try:
            if fmt.parse(path, data) is not None:
                return ""
        except Exception:  # noqa: BLE001
            return _relative(traceback.format_exc(), folder)
    return ""


def _relative(text: str, folder: str) -> str:
    return text.replace(folder.rstrip(os.sep) + os.sep, "").replace(folder, ".")


def problems(target: str, outcome: Outcome) -> list[str]:
    """What is unacceptable in an outcome (empty when it is acceptable)."""
    if outcome.kind == "none":
        return [] if target != "hcl" else ["parse_folders returned None"]
    if outcome.kind != "result":
        return [f"{outcome.kind}: {outcome.detail.strip().splitlines()[-1] if outcome.detail else ''}"]
    found = []
    own = INPUT_FILES[target]
    own_folder = os.path.dirname(own)
    for file, line, message in outcome.errors:
        if "plugin failed" in message or "check " in message and " failed: " in message:
            found.append(f"error: {message}")
        elif target == "hcl" and file == own_folder and line == 0 and message.startswith("invalid Terraform: "):
            continue  # the evaluator failed without naming a place (e.g. a number that is infinite): the module's error
        elif not file or not isinstance(line, int) or line < 1:
            found.append(f"error without a file and line: {file}:{line}: {message}")
        elif file == own and line > outcome.lines + 1:
            found.append(f"error past the end of the file ({outcome.lines} lines): {file}:{line}: {message}")
        elif target == "hcl" and not file.startswith(own_folder):
            found.append(f"error outside the module: {file}:{line}: {message}")
        elif target != "hcl" and file != own:
            found.append(f"error in another file: {file}:{line}: {message}")
    for rule, file, line, column, resource, peer in outcome.findings:
        if not file or line < 1 or column < 1:
            found.append(f"finding without a place: {rule} {file}:{line}:{column} {resource} {peer}")
        elif file == own and line > outcome.lines + 1:
            found.append(f"finding past the end of the file ({outcome.lines} lines): {rule} {file}:{line}")
        elif file != own and (target != "hcl" or not file.startswith(own_folder + os.sep)):
            found.append(f"finding in a file that was not read: {rule} {file}:{line}")
    return found


def signature(target: str, outcome: Outcome, found: list[str]) -> str:
    """What makes two failures the same bug: the kind of problem and where it was raised."""
    frame = _innermost_project_frame(outcome.detail)
    first = found[0] if found else outcome.kind
    kind = first.split(":")[0]
    if outcome.detail:
        last = outcome.detail.strip().splitlines()[-1].split(":")[0]
        return f"{target}: {kind}: {last} at {frame}"
    return f"{target}: {kind}"


def _innermost_project_frame(detail: str) -> str:
    place = "?"
    for line in detail.splitlines():
        line = line.strip()
        if line.startswith("File ") and ("/linter/" in line or "/plugins/" in line):
            parts = line.split('"')
            name = parts[1].split("/main/")[-1] if len(parts) > 1 else line
            place = f"{name}:{line.split('line ')[-1]}"
    return place
