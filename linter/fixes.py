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
from collections.abc import Callable, Collection, Iterable, Sequence
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


def attach_allowed(findings: Iterable[Finding], formats: Sequence, asked: Sequence[FixRequest], checks: Iterable,
                   contents: dict[str, bytes | None] | None = None) -> list[Finding]:
    """:func:`attach`, each finding asked only the requests its check allows (``Check.fix_kinds``:
    an unknown source cannot be restricted, a load balancer's scheme is no CIDR); all of them
    when its check declares no kinds."""
    contents = {} if contents is None else contents
    kinds = {check.id: getattr(check, "fix_kinds", None) for check in checks}
    return [fixed for finding in findings
            for fixed in attach([finding], formats, allowed_requests(asked, kinds.get(finding.rule_id)), contents)]


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
           contents: dict[str, bytes | None] | None = None) -> list[Finding]:
    """The findings with the fixes their file's format offers for each request, those whose
    edits are all in files the format could read (``contents``: the bytes of files already
    read, or ``None`` for those that cannot be; filled as files are read). A file that cannot
    be read, or a format that raises, gives none (the run reports the file)."""
    contents = {} if contents is None else contents

    def read(path: str) -> bytes | None:
        if path not in contents:
            try:
                contents[path] = read_bytes(path)
            except (OSError, UnreadableFile):
                contents[path] = None
        return contents[path]

    fixed = []
    for finding in findings:
        path = finding.location.file
        fmt, offered = format_for(path, formats), []
        if read(path) is not None and fmt is not None:
            for request in asked:
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


#: The findings and input errors of one file's bytes, as the run would report them.
Relint = Callable[[str, bytes], tuple[list[Finding], list[InputError]]]


def verify(path: str, original: bytes, patched: bytes, fixed: Sequence[Finding], relint: Relint) -> str:
    """Why the patched bytes must not be written ("" when they may): they must read, lose the
    findings ``fixed`` and gain no finding and no input error. Findings are counted by what they
    are (two branches of a condition may make two equal ones), not by where."""
    findings_before, errors_before = relint(path, original)
    findings_after, errors_after = relint(path, patched)
    known = {error.message for error in errors_before}
    new_errors = [error for error in errors_after if error.message not in known]
    if new_errors:
        return f"the fixed file would have an error: line {new_errors[0].line}: {new_errors[0].message}"
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


class FileFix(NamedTuple):
    """What fixing one file came to: its bytes fixed, the findings fixed, and why nothing may be
    written ("" when it may)."""

    patched: bytes
    fixed: list[Finding]
    refused: str = ""


def fix_file(path: str, data: bytes, chosen: Sequence[Choice], relint: Relint, formats: Sequence,
             asked: Sequence[FixRequest], allowed: Collection) -> FileFix:
    """The chosen fixes of one file made in rounds: a fix whose edits overlap one made is asked
    for again of the patched bytes (a check's id added to the exception just written on its
    line), until every finding is fixed or none more can be. Each round is verified; one
    refused refuses the file."""
    fixed: list[Finding] = []
    current, pending = data, list(chosen)
    while pending:
        edits: list[TextEdit] = []
        taken, later = [], []
        for choice in pending:
            try:
                applied(current, [*edits, *choice.fix.edits])
            except Overlap:
                later.append(choice.finding)
                continue
            edits += choice.fix.edits
            taken.append(choice.finding)
        patched = applied(current, edits)
        refused = verify(path, current, patched, taken, relint)
        if refused:
            return FileFix(data, [], refused)
        fixed += taken
        current = patched
        keys = {key(finding) for finding in later}
        again = [finding for finding in relint(path, current)[0] if key(finding) in keys] if keys else []
        pending = [choice for choice in map(lambda f: choose(f, allowed), attach(again, formats, asked,
                                                                                 {path: current}))
                   if choice.fix is not None]
    return FileFix(current, fixed)


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    """A unified diff of the file's change, line endings shown as they are."""
    import difflib

    old = before.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    new = after.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, f"a/{path}", f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


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
             config, today) -> Relint:
    """A :data:`Relint` with the run's formats, checks, catalog, threshold and exceptions."""
    from . import engine, suppress

    def relint(path: str, data: bytes) -> tuple[list[Finding], list[InputError]]:
        result = engine.read_file(path, formats, explicit=True, data=data)
        if result is None:
            return [], [InputError(path, 0, "is no longer read as a template")]
        findings = engine.unique_findings(engine.check_file(path, result, checks, catalog))
        shown = [f for f in findings if f.severity.rank >= threshold.rank]
        outcome = suppress.apply(shown, [path], formats, known_ids, config.allow, config.inline_ignores, None,
                                 config.policy, today, contents={path: data})
        return outcome.kept, [*result.errors, *outcome.errors]
    return relint

