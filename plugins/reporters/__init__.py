"""Built-in output formats."""

from __future__ import annotations

from winportlint.hookspecs import hookimpl


@hookimpl
def winportlint_reporters():
    from .json_document import JsonReporter
    from .sarif import SarifReporter
    from .text import TextReporter

    return [TextReporter(), JsonReporter(), SarifReporter()]
