"""Suppressions: inline comments, CloudFormation Metadata and the configuration's allow-list.

One grammar for YAML and HCL comments, on the resource's line, the rule's
line or the CIDR's line::

    # winportlint: ignore[WPL101,WPL103] partner bastion, ticket SEC-42

A reason is required. Suppressed findings are kept (counted, and listed with
``--show-suppressed``), never dropped silently.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from .model import Finding, InputError, Location

SUPPRESSION = re.compile(r"#\s*winportlint:\s*ignore\[(?P<ids>[^\]]*)\](?P<reason>[^\n]*)")


class Suppressed(NamedTuple):
    finding: Finding
    reason: str
    #: Where the suppression is written: a comment, a Metadata entry or the configuration file.
    source: str


class AllowEntry(NamedTuple):
    """A configuration allow-list entry: a resource (glob) and ports, optionally a check and a file."""

    resource: str
    ports: tuple[int, int] | None
    reason: str
    rule: str | None = None
    #: A glob of the finding's file, relative to ``folder`` (the configuration file's).
    file: str | None = None
    origin: str = ""
    folder: str = "."

    def matches(self, finding: Finding) -> bool:
        permission = finding.permission
        if not fnmatch.fnmatchcase(permission.resource, self.resource):
            return False
        if self.rule and not finding.rule_id.startswith(self.rule):
            return False
        if self.file and not fnmatch.fnmatch(
                os.path.relpath(os.path.abspath(permission.location.file), self.folder).replace(os.sep, "/"),
                self.file):
            return False
        if self.ports is None:
            return True
        low, high = (permission.ports.low, permission.ports.high) if permission.ports else (0, 65535)
        return self.ports[0] <= low and high <= self.ports[1]


@dataclass
class _Comment:
    ids: tuple[str, ...]
    reason: str
    location: Location
    used: bool = False


@dataclass
class Outcome:
    kept: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    unused: list[InputError] = field(default_factory=list)


def apply(findings: Sequence[Finding], files: Iterable[str], known_ids: set[str], allow: Sequence[AllowEntry],
          inline_allowed: bool = True) -> Outcome:
    """Split findings into kept and suppressed; malformed suppressions are input errors."""
    outcome = Outcome()
    comments: dict[tuple[str, int], _Comment] = {}
    locations = (l for f in findings for l in (f.location, f.permission.rule_location, f.permission.resource_location))
    for path in dict.fromkeys([*files, *(l.file for l in locations if l is not None)]):
        for comment, problem in _comments(path, known_ids):
            if problem:
                outcome.errors.append(InputError(path, comment.location.line, problem))
            elif not inline_allowed:
                outcome.errors.append(InputError(path, comment.location.line,
                                                 "inline suppressions are disabled by the configuration"))
            else:
                comments[(path, comment.location.line)] = comment
    metadata_used: set[tuple] = set()
    for finding in findings:
        reason = _suppression(finding, comments, metadata_used, allow)
        if reason is None:
            outcome.kept.append(finding)
        else:
            outcome.suppressed.append(Suppressed(finding, *reason))
    for comment in comments.values():
        if not comment.used:
            outcome.unused.append(InputError(comment.location.file, comment.location.line,
                                             f"unused suppression: ignore[{','.join(comment.ids)}] matches no finding"))
    for finding in findings:
        for ignore in finding.permission.ignores:
            key = (ignore.location, ignore.ids)
            if key not in metadata_used:
                metadata_used.add(key)
                outcome.unused.append(InputError(ignore.location.file, ignore.location.line,
                                                 f"unused suppression: Metadata ignore of {','.join(ignore.ids)}"))
    return outcome


def _suppression(finding: Finding, comments: dict, metadata_used: set, allow: Sequence[AllowEntry]):
    permission = finding.permission
    for location in (permission.location, permission.rule_location, permission.resource_location):
        comment = comments.get((location.file, location.line)) if location else None
        if comment is not None and _covers(comment.ids, finding.rule_id):
            comment.used = True
            return comment.reason, f"{location.file}:{location.line}"
    for ignore in permission.ignores:
        if _covers(ignore.ids, finding.rule_id):
            metadata_used.add((ignore.location, ignore.ids))
            return ignore.reason, f"{ignore.location.file}:{ignore.location.line} (Metadata)"
    for entry in allow:
        if entry.matches(finding):
            return entry.reason, entry.origin
    return None


def _covers(ids: tuple[str, ...], rule_id: str) -> bool:
    return any(rule_id.startswith(identifier) for identifier in ids)


def _comments(path: str, known_ids: set[str]):
    """``(comment, problem)`` for each suppression comment of a file; problem is None when valid."""
    from .textfile import UnreadableFile, read_bytes

    try:
        text = read_bytes(path).decode("utf-8", errors="replace")
    except (OSError, UnreadableFile):  # the engine reports the file
        return
    if "winportlint:" not in text:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        match = SUPPRESSION.search(line)
        if not match:
            continue
        ids = tuple(part.strip().upper() for part in match["ids"].split(",") if part.strip())
        reason = match["reason"].strip()
        comment = _Comment(ids, reason, Location(path, number, match.start() + 1))
        unknown = [i for i in ids if not any(known.startswith(i) for known in known_ids)]
        if not ids:
            yield comment, "suppression names no check id: write ignore[WPL101] reason"
        elif unknown:
            yield comment, f"suppression names unknown check id {', '.join(unknown)}"
        elif not reason:
            yield comment, f"suppression of {','.join(ids)} needs a reason after the brackets"
        else:
            yield comment, None
