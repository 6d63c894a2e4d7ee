"""Baselines: accept today's findings, report only new ones.

An entry is what a finding is, not where it is: the file (relative to the
baseline file's folder), resource, check, direction, protocol, ports and
source. A moved line is not new; a new port on the same resource is.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence

from .excerpt import excerpt, excerpts_in
from .model import Finding

VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names it."""


def _entry(finding: Finding, base: str) -> dict:
    permission = finding.permission
    return {
        "rule_id": finding.rule_id,
        "file": os.path.relpath(os.path.abspath(permission.location.file), base).replace(os.sep, "/"),
        "resource": permission.resource,
        "direction": permission.direction.value,
        "protocol": permission.protocol,
        "ports": str(permission.ports) if permission.ports else "all",
        "cidr": permission.peer.text,
    }


#: What an entry is; its key is their digest.
_FIELDS = ("rule_id", "file", "resource", "direction", "protocol", "ports", "cidr")


def _key(entry: dict) -> str:
    key = "\x1f".join(str(entry[f]) for f in _FIELDS)
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]  # a file name may not be UTF-8


def render(path: str, findings: Iterable[Finding]) -> tuple[str, int]:
    """The text of a baseline to be written at ``path``, and how many entries it holds."""
    base = os.path.dirname(os.path.abspath(path))
    entries = {}
    for finding in findings:
        entry = _entry(finding, base)
        entries[_key(entry)] = entry
    document = {"version": VERSION, "findings": [dict(entries[k], key=k) for k in sorted(entries)]}
    return json.dumps(document, indent=2) + "\n", len(entries)


def new_findings(path: str, findings: Sequence[Finding]) -> tuple[list[Finding], int]:
    """Findings not in the baseline, and how many were in it."""
    from .textfile import read_text

    try:
        document = json.loads(read_text(path))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise BaselineError(f"{path} is not a winportlint baseline ({excerpts_in(str(exc))})") from None
    except RecursionError:  # the decoder recurses once per nested array or object
        raise BaselineError(f"{path} is not a winportlint baseline (arrays or objects nested too deep)") from None
    if not isinstance(document, dict) or not isinstance(document.get("findings"), list):
        raise BaselineError(f"{path} is not a winportlint baseline (an object with version and findings)")
    version = document.get("version")
    if type(version) is not int or version != VERSION:
        raise BaselineError(f"{path}: baseline version {excerpt(version)} is not {VERSION}")
    if not all(isinstance(entry, dict) and all(name in entry for name in _FIELDS) for entry in document["findings"]):
        raise BaselineError(f"{path} is not a winportlint baseline (each finding needs {', '.join(_FIELDS)})")
    known = {_key(entry) for entry in document["findings"]}
    base = os.path.dirname(os.path.abspath(path))
    fresh = [f for f in findings if _key(_entry(f, base)) not in known]
    return fresh, len(findings) - len(fresh)
