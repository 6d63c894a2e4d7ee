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


class UnreadableFile(OSError):
    """A path that is not read: too large, or (``regular`` false) not a regular file.

    An ``OSError``, so that every reader's ``except OSError`` handles it; ``strerror``
    is the one-line reason, as for the system's errors."""

    def __init__(self, message: str, regular: bool = True) -> None:
        super().__init__(message)
        self.strerror = message
        self.regular = regular


def check_status(status: os.stat_result) -> None:
    """Raise :class:`UnreadableFile` unless ``status`` is a regular file within the size limit:
    a FIFO would block its reader forever, ``/dev/zero`` fill its memory."""
    if not stat.S_ISREG(status.st_mode):
        raise UnreadableFile("not a regular file (a FIFO, socket or device)", regular=False)
    if status.st_size > MAX_FILE_BYTES:
        raise UnreadableFile(f"file too large ({status.st_size:,} bytes; the limit is {MAX_FILE_BYTES:,})")


def read_bytes(path: str) -> bytes:
    """The file's bytes: the one way winportlint reads a file it was given or found. Never
    blocks on a FIFO or device, never reads more than :data:`MAX_FILE_BYTES` (a file that
    grows while it is read included). Raises ``OSError`` (:class:`UnreadableFile` for a
    file that is not read)."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(descriptor, "rb") as handle:
        status = os.fstat(descriptor)
        check_status(status)
        # A buffer of the file's size (one of the limit's size costs a 100 MB allocation a file:
        # twice the time of a run over small files), then whatever it grew by, up to the limit.
        data = handle.read(status.st_size + 1)
        if len(data) > status.st_size:
            data += handle.read(MAX_FILE_BYTES + 1 - len(data))
        if len(data) > MAX_FILE_BYTES:
            raise UnreadableFile(f"file too large (more than {MAX_FILE_BYTES:,} bytes, the limit)")
        return data


def read_text(path: str) -> str:
    """The file's text (see :func:`read_bytes` and :func:`decode`); raises ``OSError`` or :class:`NotText`."""
    return decode(read_bytes(path))
