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


def _key(entry: dict) -> str:
    fields = ("rule_id", "file", "resource", "direction", "protocol", "ports", "cidr")
    key = "\x1f".join(str(entry[f]) for f in fields)
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]  # a file name may not be UTF-8


def write(path: str, findings: Iterable[Finding]) -> int:
    """Write the baseline; returns how many entries it holds."""
    base = os.path.dirname(os.path.abspath(path))
    entries = {}
    for finding in findings:
        entry = _entry(finding, base)
        entries[_key(entry)] = entry
    document = {"version": VERSION, "findings": [dict(entries[k], key=k) for k in sorted(entries)]}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
    return len(entries)


def new_findings(path: str, findings: Sequence[Finding]) -> tuple[list[Finding], int]:
    """Findings not in the baseline, and how many were in it."""
    from .textfile import read_text

    try:
        document = json.loads(read_text(path))
        known = {_key(entry) for entry in document["findings"]}
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BaselineError(f"{path} is not a winportlint baseline ({excerpts_in(str(exc))})") from None
    if document.get("version") != VERSION:
        raise BaselineError(f"{path}: baseline version {excerpt(document.get('version'))} is not {VERSION}")
    base = os.path.dirname(os.path.abspath(path))
    fresh = [f for f in findings if _key(_entry(f, base)) not in known]
    return fresh, len(findings) - len(fresh)
