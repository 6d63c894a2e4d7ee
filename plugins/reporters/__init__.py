"""Built-in output formats."""

from __future__ import annotations

from winportlint.hookspecs import hookimpl


@hookimpl
def winportlint_reporters():
    from .github import GithubReporter
    from .gitlab import GitlabReporter
    from .json_document import JsonReporter
    from .junit import JunitReporter
    from .markdown import MarkdownReporter
    from .sarif import SarifReporter
    from .text import TextReporter

    return [TextReporter(), JsonReporter(), SarifReporter(), GithubReporter(), JunitReporter(), GitlabReporter(),
            MarkdownReporter()]
