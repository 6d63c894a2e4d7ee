"""Suppressions: inline comments, CloudFormation Metadata and the configuration's allow-list.

One grammar for the comments of YAML and HCL (``#``, ``//``, ``/* */``), on the
resource's line, the rule's line or the CIDR's line::

    # winportlint: ignore[WPL101,WPL103] partner bastion, ticket SEC-42

Only real comments count: the format that owns a file says where its comments
are (``Format.comments``), so text in a string is never a suppression, nor is
anything in JSON. Ids are check ids or family prefixes (see :func:`unknown_ids`),
here as in Metadata ignores and allow entries. A reason is required. Suppressed
findings are kept (counted, and listed with ``--show-suppressed``), never dropped
silently.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from .allow_selectors import Network, selects
from .model import Finding, InputError, Location

if TYPE_CHECKING:
    from .cache import Cache

#: The grammar, searched in a comment's text (without its ``#``, ``//``, ``/* */``): at the start
#: of the comment (of a line of a ``/* */`` one) or after a ``#`` in it (``# noqa # winportlint: ...``).
SUPPRESSION = re.compile(r"(?:^|#)[ \t]*winportlint:[ \t]*ignore\[(?P<ids>[^\]\n]*)\](?P<reason>[^\n]*)", re.M)
#: Only a file whose bytes hold this (UTF-8, or UTF-16 or -32, which hold NUL bytes) can hold one.
_MARKER = b"winportlint:"
_WIDE_MARKERS = tuple("winportlint:".encode(e) for e in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
#: A check id (WPL101) or a family prefix (WPL1, WPL10): letters, then at least one digit.
_ID = re.compile(r"[A-Z]+[0-9]+")
_ACCEPTED_IDS = "a check id such as WPL101 or a family prefix such as WPL1 (see 'winportlint rules')"


def unknown_ids(ids: Iterable[str], known_ids: Collection[str]) -> list[str]:
    """The ids (upper case) that are neither a check id nor a family prefix that starts one.
    Letters alone (``W``, ``WPL``) would name every check, those of plugins added later too."""
    return [i for i in ids if not (_ID.fullmatch(i) and any(known.startswith(i) for known in known_ids))]


def _unknown_ids_message(what: str, ids: Sequence[str]) -> str:
    return f"{what} names unknown check id {', '.join(ids)}: write {_ACCEPTED_IDS}"


def allow_problems(allow: Sequence[AllowEntry], known_ids: Collection[str]) -> list[str]:
    """A message for each allow entry whose ``rule`` is not an id :func:`unknown_ids` accepts."""
    return [_unknown_ids_message(f"{entry.origin}: rule", [entry.rule]) for entry in allow
            if entry.rule and unknown_ids([entry.rule], known_ids)]


class Suppressed(NamedTuple):
    finding: Finding
    reason: str
    #: Where the suppression is written: a comment, a Metadata entry or the configuration file.
    source: str


class AllowEntry(NamedTuple):
    """A configuration allow-list entry: a resource (glob) and ports, optionally a check, a file,
    the group's tags and the ranges the sources lie in."""

    resource: str
    ports: tuple[int, int] | None
    reason: str
    rule: str | None = None
    #: A glob of the finding's file, relative to ``folder`` (the configuration file's).
    file: str | None = None
    origin: str = ""
    folder: str = "."
    #: Tags the finding's security group must carry, and ranges its sources must lie in.
    tags: tuple[tuple[str, str], ...] = ()
    sources: tuple[Network, ...] = ()

    def matches(self, finding: Finding) -> bool:
        permission = finding.permission
        if not fnmatch.fnmatchcase(permission.resource, self.resource):
            return False
        if not selects(self.tags, self.sources, finding):
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


def apply(findings: Sequence[Finding], files: Iterable[str], formats: Sequence, known_ids: Collection[str],
          allow: Sequence[AllowEntry], inline_allowed: bool = True, cache: Cache | None = None) -> Outcome:
    """Split findings into kept and suppressed; malformed suppressions are input errors.

    The comments of ``files`` and of the files findings point at are asked of ``formats``
    (see ``Format.comments``), or of the ``cache`` for bytes seen before (reading a YAML
    file's comments costs a parse, which a cached result saved); the Metadata ignores are
    those of the findings' permissions.
    """
    outcome = Outcome()
    comments: dict[tuple[str, int], _Comment] = {}
    locations = (l for f in findings for l in (f.location, f.permission.rule_location, f.permission.resource_location))
    for path in dict.fromkeys([*files, *(l.file for l in locations if l is not None)]):
        found, errors = _comments(path, formats, known_ids, cache)
        outcome.errors.extend(errors)
        for comment in found:
            if not inline_allowed:
                outcome.errors.append(InputError(path, comment.location.line,
                                                 "inline suppressions are disabled by the configuration"))
            else:
                comments[(path, comment.location.line)] = comment
    ignores = {(ignore.location, ignore.ids): ignore for f in findings for ignore in f.permission.ignores}
    refused: set[tuple] = set()
    for key, ignore in ignores.items():
        unknown = unknown_ids(ignore.ids, known_ids)
        if unknown:
            problem = _unknown_ids_message("Metadata ignore", unknown)
        elif not inline_allowed:
            problem = "Metadata suppressions are disabled by the configuration"
        else:
            continue
        refused.add(key)
        outcome.errors.append(InputError(ignore.location.file, ignore.location.line, problem))
    metadata_used = set(refused)
    for finding in findings:
        reason = _suppression(finding, comments, metadata_used, refused, allow)
        if reason is None:
            outcome.kept.append(finding)
        else:
            outcome.suppressed.append(Suppressed(finding, *reason))
    for comment in comments.values():
        if not comment.used:
            outcome.unused.append(InputError(comment.location.file, comment.location.line,
                                             f"unused suppression: ignore[{','.join(comment.ids)}] matches no finding"))
    for key, ignore in ignores.items():
        if key not in metadata_used:
            outcome.unused.append(InputError(ignore.location.file, ignore.location.line,
                                             f"unused suppression: Metadata ignore of {','.join(ignore.ids)}"))
    return outcome


def _suppression(finding: Finding, comments: dict, metadata_used: set, refused: set, allow: Sequence[AllowEntry]):
    permission = finding.permission
    for location in (permission.location, permission.rule_location, permission.resource_location):
        comment = comments.get((location.file, location.line)) if location else None
        if comment is not None and _covers(comment.ids, finding.rule_id):
            comment.used = True
            return comment.reason, f"{location.file}:{location.line}"
    for ignore in permission.ignores:
        key = (ignore.location, ignore.ids)
        if key not in refused and _covers(ignore.ids, finding.rule_id):
            metadata_used.add(key)
            return ignore.reason, f"{ignore.location.file}:{ignore.location.line} (Metadata)"
    for entry in allow:
        if entry.matches(finding):
            return entry.reason, entry.origin
    return None


def _covers(ids: tuple[str, ...], rule_id: str) -> bool:
    return any(rule_id.startswith(identifier) for identifier in ids)


def _comments(path: str, formats: Sequence, known_ids: Collection[str],
              cache: Cache | None) -> tuple[list[_Comment], list[InputError]]:
    """The valid suppression comments of a file, and an error for each malformed one."""
    from .textfile import UnreadableFile, read_bytes

    try:
        data = read_bytes(path)
    except (OSError, UnreadableFile):  # the engine reports the file
        return [], []
    if _MARKER not in data and not (b"\x00" in data and any(marker in data for marker in _WIDE_MARKERS)):
        return [], []
    key = None
    if cache is not None:
        from .cache import COMMENTS

        key = cache.key("comments", path, data)
    found, problem = (cache.get(key, COMMENTS) if key else None), None
    if found is None:
        found, problem = _file_comments(path, data, formats)
        if key and not problem:  # those that may hold a suppression
            cache.put(key, [comment for comment in found if "winportlint:" in comment[2]])
    comments, errors = [], [InputError(path, 0, problem)] if problem else []
    for line, column, text in found:
        match = SUPPRESSION.search(text)
        if not match:
            continue
        ids = tuple(part.strip().upper() for part in match["ids"].split(",") if part.strip())
        reason = match["reason"].strip()
        line += text.count("\n", 0, match.start())
        unknown = unknown_ids(ids, known_ids)
        if not ids:
            errors.append(InputError(path, line, "suppression names no check id: write ignore[WPL101] reason"))
        elif unknown:
            errors.append(InputError(path, line, _unknown_ids_message("suppression", unknown)))
        elif not reason:
            errors.append(InputError(path, line, f"suppression of {','.join(ids)} needs a reason after the brackets"))
        else:
            comments.append(_Comment(ids, reason, Location(path, line, column)))
    return comments, errors


def _file_comments(path: str, data: bytes, formats: Sequence) -> tuple[Sequence[tuple[int, int, str]], str | None]:
    """The file's comments as its format reports them (see ``Format.comments``), and what went
    wrong asking it: of the formats that read comments, the one with the longest file name
    ending the path has (the first on a tie), else each in turn until one answers."""
    lower = path.lower()
    readers = [fmt for fmt in formats if callable(getattr(fmt, "comments", None))]

    def ending(fmt) -> int:
        endings = (*fmt.suffixes, *getattr(fmt, "folder_suffixes", ()))
        return max((len(suffix) for suffix in endings if lower.endswith(suffix)), default=0)

    claimed = sorted((fmt for fmt in readers if ending(fmt)), key=ending, reverse=True)
    for fmt in claimed[:1] or readers:
        try:
            found = fmt.comments(path, data)
            if found is not None:
                return [(int(line), int(column), str(text)) for line, column, text in found], None
        except Exception as exc:  # a format plugin must not take the run down
            return (), f"{fmt.name} plugin failed reading comments: {type(exc).__name__}: {exc}"
    return (), None
