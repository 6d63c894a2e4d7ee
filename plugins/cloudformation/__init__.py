"""CloudFormation templates (YAML or JSON, SAM and CDK output included)."""

from __future__ import annotations

from winportlint.hookspecs import hookimpl
from winportlint.model import FileResult, InputError

#: Every security-group resource type contains this text; a file without it
#: (in any Unicode encoding, and without escapes that could spell it) holds none.
_MARKER = "AWS::EC2::SecurityGroup"


class CloudFormationFormat:
    name = "cloudformation"
    suffixes = (".yaml", ".yml", ".json", ".template")

    def parse(self, path: str, data: bytes) -> FileResult | None:
        from winportlint.textfile import NotText, decode

        if not data.strip():
            return FileResult(errors=[InputError(path, 1, "empty file")])
        if _MARKER.encode() not in data and not _may_hide_marker(data):
            return None
        try:
            text = decode(data)
        except NotText as exc:
            return FileResult(errors=[InputError(path, exc.line, str(exc))])
        if _MARKER not in text and "\\" not in text:
            return None
        from winportlint.nodes import LoadError, load

        from .extract import extract, is_template
        from .intrinsics import SHORT_TAGS

        json_syntax = not path.endswith((".yaml", ".yml")) and text.lstrip()[:1] in ("{", "[")
        result = FileResult()
        try:
            documents = load(text, json_syntax, SHORT_TAGS)
        except LoadError as exc:
            if _MARKER not in text:  # unreadable, and no sign of a security group: not ours
                return None
            result.errors.append(InputError(path, exc.line, str(exc)))
            return result
        templates = [document for document in documents if is_template(document)]
        if not templates:
            return None
        for document in templates:
            permissions, errors = extract(path, document)
            result.permissions.extend(permissions)
            result.errors.extend(errors)
        return result


def _may_hide_marker(data: bytes) -> bool:
    """Text that is not plain UTF-8, or that has escapes, is decoded before deciding."""
    return b"\\" in data or b"\x00" in data or data[:2] in (b"\xff\xfe", b"\xfe\xff") or _not_utf8(data)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@hookimpl
def winportlint_formats():
    return [CloudFormationFormat()]
