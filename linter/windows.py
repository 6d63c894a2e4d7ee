"""What a format's operating-system evidence means: Windows (which Server version), Linux, or unknown.

Formats report what is written (an image id, an SSM parameter path, an image
name filter, ``get_password_data``, user data); this module is the one place
that reads it, the same way for every format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from .catalog import version_order
from .model import Evidence

#: ``Windows_Server-2022-English-Full-Base``, ``Windows_Server-2012-R2_RTM-English-64Bit-Base``,
#: ``WINDOWS_2019_BASE``, ``Windows Server 2016``; a release the catalog does not list yet
#: (``Windows_Server-2025-English-Full-Base``) is read as what it is: the catalog decides
#: whose rules it has (``catalog.ASSUMED_RULES``).
_WINDOWS_VERSION = re.compile(r"windows[_\- ]*(?:server[_\- ]*)?(\d{4})(?:[_\- ]*(r2))?", re.IGNORECASE)
_WINDOWS = re.compile(r"windows", re.IGNORECASE)
#: Image names and SSM paths of the common Linux images.
_LINUX = re.compile(r"amzn|amazon[_\- ]?linux|al2023|ubuntu|debian|rhel|red[_\- ]?hat|suse|sles|centos|fedora"
                    r"|rocky|alma|bottlerocket|linux", re.IGNORECASE)
#: Windows user data runs ``<powershell>`` or ``<script>`` (batch) blocks; Linux user data starts with ``#!`` or ``#cloud-config``.
_WINDOWS_USER_DATA = re.compile(r"<(?:powershell|script|persist)>", re.IGNORECASE)
_LINUX_USER_DATA = re.compile(r"\A\s*#(?:!|cloud-config)")


class Reading(NamedTuple):
    """``os``: ``windows``, ``linux`` or ``unknown``; ``version``: a Windows Server version or None."""

    os: str
    version: str | None = None


UNKNOWN = Reading("unknown")


def read(evidence: Evidence) -> Reading:
    """What one piece of evidence says."""
    value = evidence.value
    if evidence.kind == "image":
        match = _WINDOWS_VERSION.search(value)
        if match:
            return Reading("windows", f"{match.group(1)} R2" if match.group(2) else match.group(1))
        if _WINDOWS.search(value):
            return Reading("windows")
        return Reading("linux") if _LINUX.search(value) else UNKNOWN
    if evidence.kind == "platform":
        if _WINDOWS.search(value):
            return Reading("windows")
        return Reading("linux") if _LINUX.search(value) else UNKNOWN
    if evidence.kind == "password-data":
        return Reading("windows") if value.strip().lower() == "true" else UNKNOWN
    if evidence.kind == "user-data":
        if _WINDOWS_USER_DATA.search(value):
            return Reading("windows")
        return Reading("linux") if _LINUX_USER_DATA.match(value) else UNKNOWN
    return UNKNOWN


class Verdict(NamedTuple):
    """What all the evidence of one target says, and which pieces say it."""

    os: str
    versions: tuple[str, ...]
    evidence: tuple[Evidence, ...]


def decide(evidence: Iterable[Evidence]) -> Verdict:
    """Windows when any evidence says so (a condition may choose a Windows image: it may be
    Windows), with the versions named; else Linux when some evidence says so; else unknown.
    ``versions`` is empty when some Windows evidence names no version (it may be any)."""
    readings = [(item, read(item)) for item in evidence]
    windows = [(item, reading) for item, reading in readings if reading.os == "windows"]
    if windows:
        images = [reading for item, reading in windows if item.kind == "image"]
        known = images and all(reading.version for reading in images)
        versions = tuple(sorted({r.version for r in images}, key=version_order)) if known else ()
        return Verdict("windows", versions, tuple(item for item, _ in windows))
    linux = tuple(item for item, reading in readings if reading.os == "linux")
    if linux:
        return Verdict("linux", (), linux)
    return Verdict("unknown", (), ())


def describe(item: Evidence) -> str:
    """``ImageId /aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base at line 12``."""
    value = item.value if item.kind != "user-data" else _user_data_excerpt(item.value)
    return f"{item.field} {value} at line {item.location.line}"


def _user_data_excerpt(text: str) -> str:
    match = _WINDOWS_USER_DATA.search(text)
    return match.group(0) if match else "user data"
