"""Built-in output formats, each imported only when a run renders with it."""

from __future__ import annotations

import importlib

from winportlint.hookspecs import hookimpl

#: ``--format`` name: (module, class).
_REPORTERS = {
    "text": ("text", "TextReporter"),
    "json": ("json_document", "JsonReporter"),
    "sarif": ("sarif", "SarifReporter"),
    "github": ("github", "GithubReporter"),
    "junit": ("junit", "JunitReporter"),
    "gitlab": ("gitlab", "GitlabReporter"),
    "markdown": ("markdown", "MarkdownReporter"),
    "rdjson": ("rdjson", "RdjsonReporter"),
}
#: Formats that show findings' fixes (see ``Reporter.shows_fixes``).
_SHOWING_FIXES = frozenset(("json", "sarif"))


class DeferredReporter:
    """A built-in reporter by name; its module loads on first render (a text run loads no SARIF code)."""

    def __init__(self, name: str, module: str, class_name: str) -> None:
        self.name, self._module, self._class_name = name, module, class_name
        self.shows_fixes = name in _SHOWING_FIXES

    def render(self, report) -> str:
        reporter_class = getattr(importlib.import_module(f"{__name__}.{self._module}"), self._class_name)
        return reporter_class().render(report)


@hookimpl
def winportlint_reporters():
    return [DeferredReporter(name, module, class_name) for name, (module, class_name) in _REPORTERS.items()]
