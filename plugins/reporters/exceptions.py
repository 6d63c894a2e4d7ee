"""The ``winportlint exceptions`` listing, in text, JSON or Markdown: every exception (inline
comment, CloudFormation Metadata, allow entry) with where it is written, what it covers, its
reason, owner, expiry and status, so that a scheduled job can tell which have run out.

Each row is ``(waiver, status)`` (see :class:`winportlint.suppress.Waiver`); what an inline
exception covers is the checks it names and the resources and ports of the findings it matched.
"""

from __future__ import annotations

from collections.abc import Sequence

#: ``--format`` of the listing.
FORMATS = ("text", "json", "markdown")
STATUSES = ("active", "expiring soon", "expired", "unused")
COLUMNS = ("Status", "Where", "Covers", "Owner", "Expires", "Reason")


def coverage(waiver) -> dict:
    """What the exception covers: ``checks`` (none: every check), ``resource`` and ``ports``
    (None when it names none and matched nothing), and an allow entry's ``files`` (its ``file`` glob),
    ``tags`` (the group's tags it selects on) and ``from`` (the ranges the sources must lie in)."""
    from winportlint.exposure import ports_text

    entry = waiver.entry
    if entry is not None:
        ports = None if entry.ports is None else str(entry.ports[0]) if entry.ports[0] == entry.ports[1] \
            else f"{entry.ports[0]}-{entry.ports[1]}"
        return {"checks": list(waiver.ids), "resource": entry.resource, "ports": ports, "files": entry.file,
                "tags": dict(entry.tags) or None, "from": [str(network) for network in entry.sources] or None}
    matched = waiver.matched
    resources = ", ".join(dict.fromkeys(finding.permission.resource for finding in matched)) or None
    ports = ", ".join(dict.fromkeys(ports_text(finding.permission) for finding in matched)) or None
    return {"checks": list(waiver.ids), "resource": resources, "ports": ports, "files": None, "tags": None,
            "from": None}


def _covers_text(waiver) -> str:
    """``WPL101 on Bastion, 3389/tcp`` or ``every check on Bast*, ports 3389, in infra/*.yaml``."""
    covered = coverage(waiver)
    text = ",".join(covered["checks"]) or "every check"
    if covered["resource"]:
        text += f" on {covered['resource']}"
    if covered["ports"]:
        text += f", {'ports ' if waiver.entry is not None else ''}{covered['ports']}"
    if covered["files"]:
        text += f", in {covered['files']}"
    if covered["tags"]:
        text += ", tagged " + ", ".join(f"{key}={value}" for key, value in covered["tags"].items())
    if covered["from"]:
        text += f", from {', '.join(covered['from'])}"
    return text


def summary(rows: Sequence[tuple], errors: Sequence) -> str:
    """``3 exceptions: 1 active, 1 expiring soon, 1 expired; 1 input error``."""
    counts = {status: sum(1 for _, s in rows if s == status) for status in STATUSES}
    text = f"{len(rows)} exception{'' if len(rows) == 1 else 's'}"
    detail = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
    if detail:
        text += f": {detail}"
    if errors:
        text += f"; {len(errors)} input error{'' if len(errors) == 1 else 's'}"
    return text


def render(fmt: str, rows: Sequence[tuple], errors: Sequence, today) -> str:
    """The listing in ``fmt`` (one of :data:`FORMATS`)."""
    return {"text": _text, "json": _json, "markdown": _markdown}[fmt](rows, errors, today)


def _text(rows: Sequence[tuple], errors: Sequence, today) -> str:
    from winportlint.excerpt import printable

    lines = [printable(f"{waiver.where}: {status}: {_covers_text(waiver)}; owner {waiver.owner or '-'}; "
                       f"expires {waiver.expires or 'never'}; {waiver.reason}") for waiver, status in rows]
    lines += [printable(f"{error.file}:{error.line}: error: {error.message}" if error.line else
                        f"{error.file}: error: {error.message}") for error in errors]
    lines.append(summary(rows, errors))
    return "\n".join(lines) + "\n"


def _json(rows: Sequence[tuple], errors: Sequence, today) -> str:
    import json

    records = []
    for waiver, status in rows:
        location = waiver.location
        records.append({
            "where": waiver.where, "kind": waiver.kind,
            "file": location.file if location else None, "line": location.line if location else None,
            **coverage(waiver),
            "reason": waiver.reason, "owner": waiver.owner or None,
            "expires": waiver.expires.isoformat() if waiver.expires else None,
            "status": status, "findings": len(waiver.matched),
        })
    document = {"version": 1, "today": today.isoformat(), "exceptions": records,
                "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in errors]}
    return json.dumps(document, indent=2) + "\n"


def _markdown(rows: Sequence[tuple], errors: Sequence, today) -> str:
    from .markdown import escape

    lines = ["## winportlint exceptions", "", escape(summary(rows, errors)), ""]
    if rows:
        lines += ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
        for waiver, status in rows:
            cells = (status, waiver.where, _covers_text(waiver), waiver.owner or "-",
                     waiver.expires or "never", waiver.reason)
            lines.append("| " + " | ".join(escape(cell) for cell in cells) + " |")
    else:
        lines.append("No exceptions.")
    if errors:
        lines += ["", "### Input errors", ""]
        lines += [f"- {escape(f'{e.file}:{e.line}' if e.line else e.file)}: {escape(e.message)}" for e in errors]
    return "\n".join(lines) + "\n"
