"""Fixes: the formats' text edits that end a finding, chosen, verified and written.

A check's finding is format-neutral; what may end it is a :class:`FixRequest` (restrict the
source to the configured one, or accept it with a reason). The format that read the file
turns a request into edits (``Format.fixes``), since only it knows where a value is written.
Nothing is written unless the patched file, read and checked again, has lost the findings
fixed and gained no finding and no error.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from .model import Finding, Fix, FixRequest, InputError, TextEdit
from .textfile import UnreadableFile, read_bytes


class Overlap(ValueError):
    """Two edits change the same bytes: applying both would lose one."""


def requests(sources: Sequence[str] = (), reason: str = "", owner: str = "", expires: str = "") -> list[FixRequest]:
    """What to ask for every finding, in the order a fix is chosen: restriction to the configured
    sources when there are some (CIDRs, a prefix list, a security group), acceptance when a reason
    is given, and removal of the rule, always (unsafe, so applied only when asked for)."""
    asked = []
    if sources:
        asked.append(FixRequest("restrict", tuple(sources)))
    if reason:
        asked.append(FixRequest("accept", reason=reason, owner=owner, expires=expires))
    asked.append(FixRequest("remove"))
    return asked


def allowed_requests(asked: Sequence[FixRequest], kinds: Collection[str] | None) -> list[FixRequest]:
    """The requests of the ``kinds`` a check declares, all of them when it declares none."""
    return list(asked) if kinds is None else [request for request in asked if request.kind in kinds]


def format_for(path: str, formats: Sequence):
    """The format that offers fixes for the file: the one with the longest matching name ending
    (``.tf.json`` before ``.json``; ``None`` when it offers none), else, for a name no format
    claims, the first that offers fixes (a fix of another format's value fails verification)."""
    lower = path.lower()

    def ending(fmt) -> int:
        endings = (*fmt.suffixes, *getattr(fmt, "folder_suffixes", ()))
        return max((len(suffix) for suffix in endings if lower.endswith(suffix)), default=0)

    claimed = sorted((fmt for fmt in formats if ending(fmt)), key=ending, reverse=True)
    candidates = claimed[:1] or formats
    return next((fmt for fmt in candidates if callable(getattr(fmt, "fixes", None))), None)


def attach(findings: Iterable[Finding], formats: Sequence, asked: Sequence[FixRequest],
           contents: dict[str, bytes | None] | None = None, trees: Sequence[str] = (),
           checks: Iterable = ()) -> list[Finding]:
    """The findings with the fixes their file's format offers for each request their check
    allows (``Check.fix_kinds`` of ``checks``: an unknown source cannot be restricted, a load
    balancer's scheme is no CIDR; every request for a check not given or declaring none), those whose
    edits are all in files the format could read (``contents``: the bytes of files already
    read, or ``None`` for those that cannot be; filled as files are read). A file outside
    ``trees`` (the real paths of the folders the run may read; any when there are none) cannot
    be: a fix never writes outside them. A file that cannot be read, or a format that raises,
    gives none (the run reports the file)."""
    from .engine import within_trees

    contents = {} if contents is None else contents
    kinds = {check.id: getattr(check, "fix_kinds", None) for check in checks}

    def read(path: str) -> bytes | None:
        if path not in contents:
            try:
                contents[path] = read_bytes(path) if within_trees(path, trees) else None
            except (OSError, UnreadableFile):
                contents[path] = None
        return contents[path]

    fixed = []
    for finding in findings:
        path = finding.location.file
        fmt, offered = format_for(path, formats), []
        if read(path) is not None and fmt is not None:
            for request in allowed_requests(asked, kinds.get(finding.rule_id)):
                try:
                    offered.extend(fix for fix in fmt.fixes(finding, request, read)
                                   if all(contents.get(edit.file) is not None for edit in fix.edits))
                except Exception:  # a format plugin must not take the run down: no fix
                    continue
        fixed.append(finding._replace(fixes=tuple(offered)))
    return fixed


def applied(data: bytes, edits: Iterable[TextEdit]) -> bytes:
    """``data`` with the edits made; :class:`Overlap` when two touch the same bytes (two
    insertions at one place included)."""
    ordered = sorted(edits, key=lambda edit: (edit.start, edit.end))
    for before, after in zip(ordered, ordered[1:]):
        if after.start < before.end or after.start == before.start:
            raise Overlap(f"edits at bytes {before.start}-{before.end} and {after.start}-{after.end} overlap")
    parts, at = [], 0
    for edit in ordered:
        if not 0 <= edit.start <= edit.end <= len(data):
            raise Overlap(f"edit at bytes {edit.start}-{edit.end} is outside the file")
        parts += [data[at:edit.start], edit.text.encode("utf-8")]
        at = edit.end
    parts.append(data[at:])
    return b"".join(parts)


class Choice(NamedTuple):
    """The fix chosen for a finding (``None``: none may be applied), and why not when none."""

    finding: Finding
    fix: Fix | None
    reason: str = ""


def choose(finding: Finding, allowed: Collection) -> Choice:
    """The first fix of an allowed applicability that has edits, in the order offered (requests
    ask to restrict before they ask to accept); else none, and why: ``unsafe`` when only an unsafe
    fix has edits, the title of a display-only fix, or "" when there is no fix at all."""
    for fix in finding.fixes:
        if fix.applicability in allowed and fix.edits:
            return Choice(finding, fix)
    if any(fix.applicability == "unsafe" and fix.edits for fix in finding.fixes):
        return Choice(finding, None, "unsafe")
    shown = [fix.title for fix in finding.fixes if fix.applicability == "display-only"]
    return Choice(finding, None, shown[0] if shown else "")


def key(finding: Finding) -> tuple:
    """What a finding is, not where: a fix may move its line (an inserted comment does not)."""
    p = finding.permission
    return (finding.rule_id, p.resource, p.direction, p.protocol, p.ports, p.peer.text)


#: The findings and input errors of the run as if some files (path -> bytes) held those bytes.
Relint = Callable[[Mapping[str, bytes]], tuple[list[Finding], list[InputError]]]


def verify(original: Mapping[str, bytes], patched: Mapping[str, bytes], fixed: Sequence[Finding],
           relint: Relint) -> str:
    """Why the patched files must not be written ("" when they may): read with the files they
    are verified with (a Terraform module's), they must lose the findings ``fixed`` and gain no
    finding and no input error. Findings are counted by what they are (two branches of a
    condition may make two equal ones), not by where."""
    findings_before, errors_before = relint(original)
    findings_after, errors_after = relint(patched)
    known = {error.message for error in errors_before}
    new_errors = [error for error in errors_after if error.message not in known]
    if new_errors:
        error = new_errors[0]
        where = f"line {error.line}" if [error.file] == list(patched) else f"{error.file}:{error.line}"
        return f"the fixed file would have an error: {where}: {error.message}"
    before = Counter(map(key, findings_before))
    foreign = [finding for finding in fixed if not before[key(finding)]]
    if foreign:
        return (f"{foreign[0].rule_id} on {foreign[0].permission.resource} comes from a file that reads this one "
                f"(a parent stack, a service), which cannot be checked again before writing")
    after = Counter(map(key, findings_after))
    ended = Counter(map(key, fixed))
    kept = [finding for finding in fixed if after[key(finding)] > before[key(finding)] - ended[key(finding)]]
    if kept:
        return f"the fixed file would still have {kept[0].rule_id} on {kept[0].permission.resource}"
    new = [finding for finding in findings_after if after[key(finding)] > before[key(finding)]]
    if new:
        return f"the fixed file would have a new finding: {new[0].rule_id} {new[0].message}"
    return ""


def units(chosen: Iterable[Choice], formats: Sequence) -> list[list[Choice]]:
    """The chosen fixes in groups whose files are verified and written together: the files a
    fix edits, and the files a folder format reads as one (a Terraform module's folder)."""
    parent: dict[str, str] = {}

    def top(item: str) -> str:
        while parent.setdefault(item, item) != item:
            item = parent[item]
        return item

    def joined(path: str) -> str:
        folder = any(path.lower().endswith(getattr(fmt, "folder_suffixes", ())) for fmt in formats)
        return f"folder:{os.path.dirname(path)}" if folder else f"file:{path}"

    choices = list(chosen)
    for choice in choices:
        items = [joined(edit.file) for edit in choice.fix.edits]
        for item in items[1:]:
            parent[top(item)] = top(items[0])
    grouped: dict[str, list[Choice]] = {}
    for choice in choices:
        grouped.setdefault(top(joined(choice.fix.edits[0].file)), []).append(choice)
    return list(grouped.values())


def files_of(choices: Iterable[Choice]) -> list[str]:
    """The files the fixes edit, each once, in the order met."""
    return list(dict.fromkeys(edit.file for choice in choices for edit in choice.fix.edits))


class UnitFix(NamedTuple):
    """What fixing a unit of files came to: each file's bytes fixed, the findings fixed, why
    nothing may be written ("" when it may), and the findings left alone because the unit's
    files, read again, do not make them (a parent stack or a service that reads a file makes
    them): their fixes cannot be checked before writing."""

    patched: dict[str, bytes]
    fixed: list[Finding]
    refused: str = ""
    unchecked: tuple[Finding, ...] = ()


def patch(contents: Mapping[str, bytes], edits: Iterable[TextEdit]) -> dict[str, bytes]:
    """The files with the edits made (each file's as :func:`applied` makes them)."""
    by_file: dict[str, list[TextEdit]] = {}
    for edit in edits:
        by_file.setdefault(edit.file, []).append(edit)
    return {path: applied(data, by_file.get(path, ())) for path, data in contents.items()}


def fix_unit(contents: Mapping[str, bytes], chosen: Sequence[Choice], relint: Relint, formats: Sequence,
             asked: Sequence[FixRequest], allowed: Collection, trees: Sequence[str] = (),
             checks: Iterable = ()) -> UnitFix:
    """The chosen fixes of a unit (``contents``: its files' bytes) made in rounds (an edit that
    fixes make alike made once): a fix whose edits overlap one made is asked for again of the patched bytes (a check's id added to the
    exception just written on its line; only what edits the unit's files, in ``trees``, of the
    kinds the ``checks`` allow, see :func:`attach`), until every finding is fixed (by its own
    fix, or gone with another's edits: two rules that make the internet together, removed in
    turn) or none more can be. Each round is verified; one refused refuses the unit. Files are
    read again once for each content they are given (a Terraform module is evaluated each time)."""
    readings: dict[tuple, tuple[list[Finding], list[InputError]]] = {}

    def reread(files: Mapping[str, bytes]) -> tuple[list[Finding], list[InputError]]:
        known = tuple(sorted(files.items()))
        if known not in readings:
            readings[known] = relint(files)
        return readings[known]

    made = {key(finding) for finding in reread(contents)[0]}
    unchecked = tuple(choice.finding for choice in chosen if key(choice.finding) not in made)
    fixed: list[Finding] = []
    current, pending = dict(contents), [choice for choice in chosen if key(choice.finding) in made]
    while pending:
        edits: list[TextEdit] = []
        taken, later = [], []
        for choice in pending:
            made = [edit for edit in choice.fix.edits if edit not in edits]  # one default that two rules read
            try:
                patch(current, [*edits, *made])
            except Overlap:
                later.append(choice.finding)
                continue
            edits += made
            taken.append(choice.finding)
        patched = patch(current, edits)
        refused = verify(current, patched, taken, reread)
        if refused:
            return UnitFix(dict(contents), [], refused, unchecked)
        fixed += taken
        current = patched
        keys = {key(finding) for finding in later}
        again = [finding for finding in reread(current)[0] if key(finding) in keys] if keys else []
        left = {key(finding) for finding in again}
        fixed += [finding for finding in later if key(finding) not in left]
        offered = (choose(finding, allowed)
                   for finding in attach(again, formats, asked, dict(current), trees, checks))
        pending = [choice for choice in offered
                   if choice.fix is not None and all(edit.file in current for edit in choice.fix.edits)]
    return UnitFix(current, fixed, "", unchecked)


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    """A unified diff of the file's change, line endings shown as they are; a relative path gets
    git's ``a/`` and ``b/`` (``git apply`` takes it), an absolute one is named as it is."""
    import difflib

    old = before.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    new = after.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    names = (path, path) if os.path.isabs(path) else (f"a/{path}", f"b/{path}")
    lines = difflib.unified_diff(old, new, *names)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def write_unit(patched: Mapping[str, bytes], expected: Mapping[str, bytes]) -> None:
    """Write each file of a unit (:func:`write_atomic`), none unless every one still holds the
    bytes it was fixed from; an OSError naming the file that changed."""
    for path in patched:
        if read_bytes(os.path.realpath(path)) != expected[path]:
            raise OSError(f"{path} changed while it was being fixed" if len(patched) > 1
                          else "it changed while it was being fixed")
    for path, data in patched.items():
        if data != expected[path]:
            write_atomic(path, data, expected[path])


def write_atomic(path: str, data: bytes, expected: bytes) -> None:
    """Write ``data`` over ``path`` whole or not at all (a new file beside it, with its mode,
    renamed over it); an OSError when the file is no longer ``expected`` (changed meanwhile)."""
    import contextlib
    import stat
    import tempfile

    target = os.path.realpath(path)
    if read_bytes(target) != expected:
        raise OSError("it changed while it was being fixed")
    mode = stat.S_IMODE(os.stat(target).st_mode)
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".winportlint-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def relinter(formats: Sequence, checks: Sequence, catalog, threshold, known_ids: Collection,
             config, today, settings: Mapping[str, object] | None = None, folders: Sequence[str] = ()) -> Relint:
    """A :data:`Relint` with the run's formats, checks, catalog, threshold and exceptions, its
    settings and the folders its folder formats read (see ``engine.read_contents``)."""
    from . import engine, suppress

    def relint(contents: Mapping[str, bytes]) -> tuple[list[Finding], list[InputError]]:
        findings: list[Finding] = []
        errors: list[InputError] = []
        for path, result in engine.read_contents(contents, formats, settings or {}, folders).items():
            if result is None:
                errors.append(InputError(path, 0, "is no longer read as a template"))
                continue
            findings += engine.unique_findings(engine.check_file(path, result, checks, catalog))
            errors += result.errors
        shown = [f for f in findings if f.severity.rank >= threshold.rank]
        outcome = suppress.apply(shown, list(contents), formats, known_ids, config.allow, config.inline_ignores, None,
                                 config.policy, today, contents=contents)
        return outcome.kept, [*errors, *outcome.errors]
    return relint

