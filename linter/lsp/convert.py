"""Findings, input errors and fixes as Language Server Protocol types.

Positions are sent in the encoding the client and server agreed on (UTF-16 unless the client
prefers UTF-8 or UTF-32, as Neovim does), counted in the text the editor holds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from lsprotocol import types

from ..model import Finding, Fix, InputError, Location, Severity

SOURCE = "winportlint"
#: The code of a diagnostic that is an input error (a file that cannot be read, a bad exception).
INPUT_ERROR = "input-error"

#: Error for what must not ship, Warning for what should be looked at, Information for the rest
#: (unknown values, shown at ``severity = "info"``).
SEVERITIES = {
    Severity.CRITICAL: types.DiagnosticSeverity.Error,
    Severity.HIGH: types.DiagnosticSeverity.Error,
    Severity.MEDIUM: types.DiagnosticSeverity.Warning,
    Severity.LOW: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: What ends a value written without quotes: blanks, flow punctuation, a comment, a key's colon.
_PLAIN_END = re.compile(r"[\s,\]}#]|:(?=\s|$)")


class Text:
    """A file's text as the editor holds it, with positions in the client's units."""

    def __init__(self, text: str, codec) -> None:
        self.text = text
        self.codec = codec
        self.data = text.encode("utf-8", "surrogatepass")
        self.starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]

    def line(self, number: int) -> str:
        """The 0-based line's text, without its line break."""
        if number >= len(self.starts):
            return ""
        start = self.starts[number]
        match = _LINE_BREAK.search(self.text, start)
        return self.text[start:match.start() if match else len(self.text)]

    def position(self, line: int, character: int) -> types.Position:
        """The client's position of a 0-based line and code point."""
        line = min(max(line, 0), len(self.starts) - 1)
        return types.Position(line, self.codec.client_num_units(self.line(line)[:max(character, 0)]))

    def value_range(self, location: Location) -> types.Range:
        """The range of the value written at a 1-based line and column: a quoted string to its
        closing quote, else to the first blank, comma, bracket or comment; the line when the
        position is past its end."""
        line, column = location.line - 1, location.column - 1
        text = self.line(line)
        if line == 0 and text.startswith("\ufeff"):  # the formats count after a byte order mark
            column += 1
        if not 0 <= column < len(text):
            return self.line_range(location.line)
        start = column
        if text[column] == "!":  # a tag (!Ref AdminCidr): the value is the tag and what it is given
            blank = _PLAIN_END.search(text, column + 1)
            if blank and text[blank.start()] == " " and blank.end() < len(text):
                column = blank.end()
        if text[column] in "\"'":
            close = text.find(text[column], column + 1)
            end = close + 1 if close > column else len(text)
        else:
            match = _PLAIN_END.search(text, column + 1)
            end = match.start() if match else len(text)
        return types.Range(self.position(line, start), self.position(line, end))

    def line_range(self, line: int) -> types.Range:
        """The whole of a 1-based line (the first line for 0: no line is known)."""
        number = max(line - 1, 0)
        text = self.line(number)
        start = len(text) - len(text.lstrip())
        return types.Range(self.position(number, start), self.position(number, len(text)))

    def byte_position(self, offset: int) -> types.Position:
        """The client's position of a byte offset into the UTF-8 text."""
        before = self.data[:offset].decode("utf-8", "replace")
        line = len(_LINE_BREAK.findall(before))
        if before.endswith("\r") and self.data[offset:offset + 1] == b"\n":
            line -= 1  # inside a CRLF: the same line
        start = max(before.rfind("\n"), before.rfind("\r")) + 1
        return types.Position(line, self.codec.client_num_units(before[start:]))


def diagnostic(finding: Finding, text: Text, index: int, docs_url: str, uri_of,
               targets: Mapping[str, Location]) -> types.Diagnostic:
    """The diagnostic of a finding: the check's id and documentation, the range of the offending
    value, and the places the finding names (its resource, rule, the parameter or module call its
    value comes through, the instances its group protects, where ``targets`` says they are) as
    related information. ``index`` finds the finding again for code actions; ``uri_of`` turns a
    file's path into a URI."""
    p = finding.permission
    related = []
    seen = {p.location}
    places = [(p.resource_location, f"{p.resource_type} {p.resource}"), (p.rule_location, "the rule"),
              *((step.location, step.describe()) for step in p.provenance),
              *((targets.get(target.resource), f"protects {target.resource_type} {target.resource} "
                                               f"({target.os})") for target in finding.targets)]
    for location, message in places:
        if location is None or location in seen:
            continue
        seen.add(location)
        related.append(types.DiagnosticRelatedInformation(
            types.Location(uri_of(location.file), _point(location, text if location.file == p.location.file else None)),
            message))
    return types.Diagnostic(
        range=text.value_range(p.location),
        message=finding.message,
        severity=SEVERITIES[finding.severity],
        code=finding.rule_id,
        code_description=types.CodeDescription(href=docs_url) if docs_url else None,
        source=SOURCE,
        related_information=related or None,
        data={"finding": index},
    )


def _point(location: Location, text: Text | None) -> types.Range:
    """A range at a location: its value's in the document shown, else an empty one at its line
    and column (the file is not open: its units cannot be counted)."""
    if text is not None:
        return text.value_range(location)
    start = types.Position(max(location.line - 1, 0), max(location.column - 1, 0))
    return types.Range(start, start)


def error_diagnostic(error: InputError, path: str, text: Text) -> types.Diagnostic:
    """An input error, at its line when it is this file's, else at the top naming its file."""
    mine = error.file == path
    message = error.message if mine else f"{error.file}: {error.message}"
    return types.Diagnostic(range=text.line_range(error.line if mine else 0), message=message,
                            severity=types.DiagnosticSeverity.Error, code=INPUT_ERROR, source=SOURCE)


def code_actions(fixes: Sequence[Fix], diagnostic_: types.Diagnostic, texts: dict[str, Text], uri_of,
                 versions: dict[str, int]) -> list[types.CodeAction]:
    """Quick fixes: one per fix with edits, its safety in the title; a display-only fix is a
    disabled action whose reason says what to change by hand. ``texts`` holds each edited
    file's text, ``versions`` the open documents' versions (an edit to another version is refused
    by the editor)."""
    actions = []
    for fix in fixes:
        title = f"{fix.title} ({fix.applicability})"
        if fix.applicability == "display-only" or not fix.edits:
            actions.append(types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix,
                                            diagnostics=[diagnostic_],
                                            disabled=types.CodeActionDisabled(reason=fix.title)))
            continue
        by_file: dict[str, list[types.TextEdit]] = {}
        for edit in fix.edits:
            text = texts[edit.file]
            by_file.setdefault(edit.file, []).append(types.TextEdit(
                types.Range(text.byte_position(edit.start), text.byte_position(edit.end)), edit.text))
        changes = [types.TextDocumentEdit(
            types.OptionalVersionedTextDocumentIdentifier(uri_of(path), versions.get(path)), edits)
            for path, edits in by_file.items()]
        actions.append(types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic_],
                                        edit=types.WorkspaceEdit(document_changes=changes)))
    return actions
