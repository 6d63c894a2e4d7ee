"""Suppressions: inline comments, CloudFormation Metadata and the configuration's allow-list.

One grammar for the comments of YAML and HCL (``#``, ``//``, ``/* */``), on the
resource's line, the rule's line or the CIDR's line::

    # winportlint: ignore[WPL101,WPL103] partner bastion, ticket SEC-42
    # winportlint: ignore[WPL101] until=2027-03-31 owner=platform partner bastion, SEC-42

Only real comments count: the format that owns a file says where its comments
are (``Format.comments``), so text in a string is never a suppression, nor is
anything in JSON. Ids are check ids or family prefixes (see :func:`unknown_ids`),
here as in Metadata ignores and allow entries. A reason is required. Suppressed
findings are kept (counted, and listed with ``--show-suppressed``), never dropped
silently.

Each way of accepting a finding is an exception (:class:`Waiver`) that may name an
owner and an expiry date (through that day): an expired one no longer applies and
its finding comes back saying so; the configuration may require both and cap the
expiry (:class:`Policy`). Every date is judged against :func:`today`.
"""

from __future__ import annotations

import datetime
import fnmatch
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from .allow_selectors import Network, selects
from .excerpt import excerpt
from .model import Finding, InputError, Location

if TYPE_CHECKING:
    from .cache import Cache

#: The grammar, searched in a comment's text (without its ``#``, ``//``, ``/* */``): at the start
#: of the comment (of a line of a ``/* */`` one) or after a ``#`` in it (``# noqa # winportlint: ...``).
#: ``until=`` and ``owner=`` come after the brackets, in either order, before the reason.
SUPPRESSION = re.compile(r"(?:^|#)[ \t]*winportlint:[ \t]*ignore\[(?P<ids>[^\]\n]*)\]"
                         r"(?P<terms>(?:[ \t]+(?:until|owner)=[^ \t\n]*)*)(?P<reason>[^\n]*)", re.M)
#: The longest owner an exception may name (the repository writes it; every report prints it).
MAX_OWNER = 100
#: Only a file whose bytes hold this (UTF-8, or UTF-16 or -32, which hold NUL bytes) can hold one.
_MARKER = b"winportlint:"
_WIDE_MARKERS = tuple("winportlint:".encode(e) for e in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"))
#: A check id (WPL101) or a family prefix (WPL1, WPL10): letters, then at least one digit.
_ID = re.compile(r"[A-Z]+[0-9]+")
_ACCEPTED_IDS = "a check id such as WPL101 or a family prefix such as WPL1 (see 'winportlint rules')"
#: How every exception's expiry is written (``datetime.date.fromisoformat`` takes more forms).
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: Days before its expiry from which an exception in use is a warning, unless configured.
WARNING_DAYS = 14


def parse_date(text: str) -> datetime.date:
    """A ``YYYY-MM-DD`` date; a ValueError for anything else (``2027-02-30``, ``20270331``)."""
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return datetime.date.fromisoformat(text)


def today() -> datetime.date:
    """The date every expiry is judged against: ``WINPORTLINT_TODAY`` (YYYY-MM-DD) when set, so
    that tests and a CI job can fix it, else the machine's date."""
    given = os.environ.get("WINPORTLINT_TODAY")
    if not given:
        return datetime.date.today()
    try:
        return parse_date(given)
    except ValueError:
        raise ValueError(f"WINPORTLINT_TODAY: {excerpt(given)} is not a date (write YYYY-MM-DD)") from None


def judged_on(allow: Sequence[AllowEntry], known_ids: Collection[str], policy: Policy) -> datetime.date:
    """The day exceptions are judged on (:func:`today`), once every allow entry is found valid on
    it; a ValueError saying what is wrong with the first that is not (or with ``WINPORTLINT_TODAY``)."""
    on = today()
    problems = allow_problems(allow, known_ids, policy, on)
    if problems:
        raise ValueError(problems[0])
    return on


def unknown_ids(ids: Iterable[str], known_ids: Collection[str]) -> list[str]:
    """The ids (upper case) that are neither a check id nor a family prefix that starts one.
    Letters alone (``W``, ``WPL``) would name every check, those of plugins added later too."""
    return [i for i in ids if not (_ID.fullmatch(i) and any(known.startswith(i) for known in known_ids))]


def _unknown_ids_message(what: str, ids: Sequence[str]) -> str:
    return f"{what} names unknown check id {', '.join(ids)}: write {_ACCEPTED_IDS}"


class Policy(NamedTuple):
    """What the configuration asks of every exception (``require_expiry``, ``require_owner``,
    ``max_exception_days``), and how many days before its expiry one in use is a warning
    (``exception_warning_days``)."""

    require_expiry: bool = False
    require_owner: bool = False
    max_days: int | None = None
    warning_days: int = WARNING_DAYS

    def problems(self, label: str, owner: str, expires: datetime.date | None, on: datetime.date) -> list[str]:
        """Why the exception ``label`` names is not accepted, one message each. An owner is a
        name, and every report prints it: one longer than :data:`MAX_OWNER` is refused here, once."""
        found = []
        if len(owner) > MAX_OWNER:
            found.append(f"{label}: owner {excerpt(owner)} is longer than {MAX_OWNER} characters (a team's or "
                         f"a person's name)")
        if self.require_owner and not owner:
            found.append(f"{label} needs an owner (the configuration sets require_owner)")
        if self.require_expiry and expires is None:
            found.append(f"{label} needs an expiry date (the configuration sets require_expiry)")
        if expires is not None and self.max_days is not None and (expires - on).days > self.max_days:
            found.append(f"{label} expires on {expires}, more than max_exception_days ({self.max_days}) "
                         f"after {on}")
        return found


def allow_problems(allow: Sequence[AllowEntry], known_ids: Collection[str], policy: Policy = Policy(),
                   on: datetime.date | None = None) -> list[str]:
    """A message for each allow entry whose ``rule`` is not an id :func:`unknown_ids` accepts,
    or that lacks what the ``policy`` requires."""
    on = on or today()
    found = []
    for entry in allow:
        if entry.rule and unknown_ids([entry.rule], known_ids):
            found.append(_unknown_ids_message(f"{entry.origin}: rule", [entry.rule]))
        found += policy.problems(entry.origin, entry.owner, entry.expires, on)
    return found


class Suppressed(NamedTuple):
    finding: Finding
    reason: str
    #: Where the suppression is written: a comment, a Metadata entry or the configuration file.
    source: str
    owner: str = ""
    expires: datetime.date | None = None
    #: ``comment``, ``metadata`` (both in the file) or ``allow`` (the configuration's).
    kind: str = "comment"


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
    owner: str = ""
    expires: datetime.date | None = None
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


@dataclass(eq=False)
class Waiver:
    """One exception to the policy, wherever it is written (what ``winportlint exceptions`` lists),
    with the findings it matched in this run."""

    #: ``comment``, ``metadata`` or ``allow``.
    kind: str
    #: ``t.yaml:8``, ``t.yaml:8 (Metadata)`` or ``pyproject.toml [tool.winportlint] allow[0]``.
    where: str
    ids: tuple[str, ...]
    reason: str
    owner: str = ""
    expires: datetime.date | None = None
    #: Where a comment or Metadata entry is written (none for an allow entry).
    location: Location | None = None
    entry: AllowEntry | None = None
    matched: list[Finding] = field(default_factory=list)

    def expired(self, on: datetime.date) -> bool:
        return self.expires is not None and self.expires < on

    def status(self, on: datetime.date, warning_days: int) -> str:
        """``expired``, ``unused`` (it matched no finding), ``expiring soon`` or ``active``."""
        if self.expired(on):
            return "expired"
        if not self.matched:
            return "unused"
        if self.expires is not None and (self.expires - on).days <= warning_days:
            return "expiring soon"
        return "active"

    def accepted(self) -> str:
        """``accepted until 2026-11-30 by platform (partner bastion, SEC-42)``."""
        until = f" until {self.expires}" if self.expires else ""
        by = f" by {self.owner}" if self.owner else ""
        return f"accepted{until}{by} ({self.reason})"


@dataclass
class Outcome:
    kept: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    unused: list[InputError] = field(default_factory=list)
    #: Exceptions in use that expire within the policy's warning window, one line each.
    warnings: list[str] = field(default_factory=list)
    #: Every valid exception seen, in the order of the files and the configuration.
    waivers: list[Waiver] = field(default_factory=list)


def apply(findings: Sequence[Finding], files: Iterable[str], formats: Sequence, known_ids: Collection[str],
          allow: Sequence[AllowEntry], inline_allowed: bool = True, cache: Cache | None = None,
          policy: Policy = Policy(), on: datetime.date | None = None,
          contents: Mapping[str, bytes] | None = None) -> Outcome:
    """Split findings into kept and suppressed; malformed suppressions are input errors.

    ``contents`` gives the bytes of files as they would be, read instead of the files (a fix is
    verified before it is written).
    The comments of ``files`` and of the files findings point at are asked of ``formats``
    (see ``Format.comments``), or of the ``cache`` for bytes seen before (reading a YAML
    file's comments costs a parse, which a cached result saved); the Metadata ignores are
    those of the findings' permissions. An exception expired by ``on`` (default: :func:`today`)
    does not apply: its finding is kept, its message saying what was accepted.
    """
    on = on or today()
    outcome = Outcome()
    comments: dict[tuple[str, int], Waiver] = {}
    locations = (l for f in findings for l in (f.location, f.permission.rule_location, f.permission.resource_location))
    for path in dict.fromkeys([*files, *(l.file for l in locations if l is not None)]):
        found, errors = _comments(path, formats, known_ids, cache, (contents or {}).get(path))
        outcome.errors.extend(errors)
        for comment in found:
            location = comment.location
            problems = policy.problems(f"suppression of {','.join(comment.ids)}", comment.owner, comment.expires, on)
            if not inline_allowed:
                problems = ["inline suppressions are disabled by the configuration"]
            outcome.errors.extend(InputError(path, location.line, problem) for problem in problems)
            if not problems:
                comments[(path, location.line)] = comment
    metadata: dict[tuple, Waiver] = {}
    for ignore in dict.fromkeys(ignore for f in findings for ignore in f.permission.ignores):
        waiver, problems = _metadata_waiver(ignore, known_ids, policy, on)
        if waiver is not None and not inline_allowed:
            problems = ["Metadata suppressions are disabled by the configuration"]
        outcome.errors.extend(InputError(ignore.location.file, ignore.location.line, p) for p in problems)
        if not problems:
            metadata[(ignore.location, ignore.ids)] = waiver
    entries = [Waiver("allow", entry.origin, (entry.rule,) if entry.rule else (), entry.reason, entry.owner,
                      entry.expires, entry=entry) for entry in allow]
    for finding in findings:
        waiver = _waiver(finding, comments, metadata, entries, on)
        if waiver is None:
            outcome.kept.append(finding)
        elif waiver.expired(on):
            outcome.kept.append(finding._replace(message=f"{finding.message}; {waiver.accepted()}; expired"))
        else:
            outcome.suppressed.append(Suppressed(finding, waiver.reason, waiver.where, waiver.owner,
                                                 waiver.expires, waiver.kind))
    outcome.waivers = [*comments.values(), *metadata.values(), *entries]
    for waiver in comments.values():
        if not waiver.matched:
            outcome.unused.append(InputError(waiver.location.file, waiver.location.line,
                                             f"unused suppression: ignore[{','.join(waiver.ids)}] matches no finding"))
    for waiver in metadata.values():
        if not waiver.matched:
            outcome.unused.append(InputError(waiver.location.file, waiver.location.line,
                                             f"unused suppression: Metadata ignore of {','.join(waiver.ids)}"))
    for waiver in outcome.waivers:
        if waiver.status(on, policy.warning_days) == "expiring soon":
            days = (waiver.expires - on).days
            when = "today" if days == 0 else f"on {waiver.expires}, in {days} day{'' if days == 1 else 's'}"
            by = f" by {waiver.owner}" if waiver.owner else ""
            outcome.warnings.append(f"{waiver.where}: the exception of {_covered(waiver)}{by} ({waiver.reason}) "
                                    f"expires {when}")
    return outcome


def _covered(waiver: Waiver) -> str:
    """``WPL101`` or ``WPL101,WPL103`` (the ids written), or every check."""
    return ",".join(waiver.ids) or "every check"


def _metadata_waiver(ignore, known_ids: Collection[str], policy: Policy,
                     on: datetime.date) -> tuple[Waiver | None, list[str]]:
    """The exception a Metadata ignore writes, or why it is none."""
    unknown = unknown_ids(ignore.ids, known_ids)
    if unknown:
        return None, [_unknown_ids_message("Metadata ignore", unknown)]
    label = f"Metadata ignore of {','.join(ignore.ids)}"
    expires = None
    if ignore.expires:
        try:
            expires = parse_date(ignore.expires)
        except ValueError:
            return None, [f"{label}: expires {excerpt(ignore.expires)} is not a date (write YYYY-MM-DD)"]
    location = ignore.location
    waiver = Waiver("metadata", f"{location.file}:{location.line} (Metadata)", ignore.ids, ignore.reason,
                    ignore.owner, expires, location)
    return waiver, policy.problems(label, ignore.owner, expires, on)


def _candidates(finding: Finding, comments: dict, metadata: dict, allow: Sequence[Waiver]) -> Iterator[Waiver]:
    """The exceptions that cover the finding: comments on its lines, its Metadata, allow entries."""
    permission = finding.permission
    for location in (permission.location, permission.rule_location, permission.resource_location):
        comment = comments.get((location.file, location.line)) if location else None
        if comment is not None and _covers(comment.ids, finding.rule_id):
            yield comment
    for ignore in permission.ignores:
        waiver = metadata.get((ignore.location, ignore.ids))
        if waiver is not None and _covers(ignore.ids, finding.rule_id):
            yield waiver
    yield from (waiver for waiver in allow if waiver.entry.matches(finding))


def _waiver(finding: Finding, comments: dict, metadata: dict, allow: Sequence[Waiver],
            on: datetime.date) -> Waiver | None:
    """The first exception in force that covers the finding, else the first expired one, else None;
    the one returned counts the finding as matched."""
    expired = None
    for waiver in _candidates(finding, comments, metadata, allow):
        if not waiver.expired(on):
            waiver.matched.append(finding)
            return waiver
        expired = expired or waiver
    if expired is not None:
        expired.matched.append(finding)
    return expired


def _covers(ids: tuple[str, ...], rule_id: str) -> bool:
    return any(rule_id.startswith(identifier) for identifier in ids)


def _comments(path: str, formats: Sequence, known_ids: Collection[str],
              cache: Cache | None, data: bytes | None = None) -> tuple[list[Waiver], list[InputError]]:
    """The valid suppression comments of a file (of ``data`` when given), and an error for each malformed one."""
    from .textfile import UnreadableFile, read_bytes

    try:
        data = read_bytes(path) if data is None else data
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
        line += text.count("\n", 0, match.start())
        comment, problem = _comment(match, known_ids, Location(path, line, column))
        if problem:
            errors.append(InputError(path, line, problem))
        else:
            comments.append(comment)
    return comments, errors


def _comment(match: re.Match, known_ids: Collection[str], location: Location) -> tuple[Waiver | None, str | None]:
    """The exception a suppression comment writes, or what is wrong with it."""
    ids = tuple(part.strip().upper() for part in match["ids"].split(",") if part.strip())
    reason = match["reason"].strip()
    unknown = unknown_ids(ids, known_ids)
    if not ids:
        return None, "suppression names no check id: write ignore[WPL101] reason"
    if unknown:
        return None, _unknown_ids_message("suppression", unknown)
    label = f"suppression of {','.join(ids)}"
    terms: dict[str, str] = {}
    for term in match["terms"].split():
        name, _, value = term.partition("=")
        if name in terms:
            return None, f"{label} gives {name}= twice"
        if not value:
            return None, f"{label}: {name}= needs a value"
        terms[name] = value
    expires = None
    if "until" in terms:
        try:
            expires = parse_date(terms["until"])
        except ValueError:
            return None, f"{label}: until={excerpt(terms['until'], quote=False)} is not a date (write YYYY-MM-DD)"
    if not reason:
        return None, f"{label} needs a reason after the brackets"
    return Waiver("comment", f"{location.file}:{location.line}", ids, reason, terms.get("owner", ""), expires,
                  location), None


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
