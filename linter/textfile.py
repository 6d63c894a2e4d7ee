"""Bytes to text, refusing what is not text with a one-line reason."""

from __future__ import annotations

import codecs
import os
import stat

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class NotText(ValueError):
    """The bytes are not text a template can be written in; ``line`` is 1-based."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


def decode(data: bytes) -> str:
    """Decode UTF-8 (or any Unicode encoding announced by a BOM); CRLF becomes LF."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise NotText(f"invalid {encoding} text: {exc.reason}") from None
            break
    else:
        if b"\x00" in data:
            raise NotText("binary file (contains NUL bytes)", data.count(b"\n", 0, data.index(b"\x00")) + 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise NotText(f"not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be decoded)", line) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


#: Larger files are an input error, not read: a CloudFormation template is at most 1 MB.
MAX_FILE_BYTES = 100 * 2**20


class UnreadableFile(Exception):
    """A path that is not read: too large, or (``regular`` false) not a regular file."""

    def __init__(self, message: str, regular: bool = True) -> None:
        super().__init__(message)
        self.regular = regular


def read_bytes(path: str) -> bytes:
    """The file's bytes; never blocks on a FIFO or device."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableFile("not a regular file (a FIFO, socket or device)", regular=False)
        if status.st_size > MAX_FILE_BYTES:
            raise UnreadableFile(f"file too large ({status.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,})")
        return handle.read()
