"""The whole plugin API of winportlint.

A plugin is a module (or object) with functions named like the hooks below,
marked with :data:`hookimpl`, registered through the ``winportlint`` entry
point group::

    [project.entry-points.winportlint]
    my_bundle = "my_package.winportlint_plugin"

Each hook returns plugin objects; winportlint calls them. A plugin that
fails to import or to answer a hook is reported on stderr and skipped.
Plugin modules must be cheap to import: load heavy libraries inside the
methods that need them (the CLI runs on every commit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from .catalog import Catalog
    from .model import FileResult, Finding, Fix, FixRequest, Permission, Severity
    from .report import Report

hookspec = pluggy.HookspecMarker("winportlint")
#: Decorator for a plugin's hook implementations.
hookimpl = pluggy.HookimplMarker("winportlint")


class Format(Protocol):
    """Reads one kind of file into Permission records. Never decides exposure."""

    #: Short name, e.g. ``cloudformation``.
    name: str
    #: File name endings offered to this format during discovery, e.g. ``(".yaml", ".json")``.
    suffixes: tuple[str, ...]

    #: Optional: endings of files whose unit is their whole folder (a Terraform
    #: module), e.g. ``(".tf", ".tfvars")``. The folders of all such files that
    #: were named or found go to :meth:`parse_folders` in one call.
    folder_suffixes: tuple[str, ...]

    def parse(self, path: str, data: bytes) -> FileResult | None:
        """Permissions and input errors of one file; ``None`` when the content is
        not this format's (a ``package.json`` is not a template). Must not raise
        for bad input: return an InputError with file and line instead. Other files
        read (a plan's configuration) go in the result's ``inputs``, as below; files
        evaluated with this file's values (a nested stack's template) also in its
        ``children``, whose findings on their own the run then leaves out."""

    def comments(self, path: str, data: bytes) -> Sequence[tuple[int, int, str]] | None:
        """Optional: ``(line, column, text)`` of each comment of the file, or ``None`` when
        the file is not of this format. ``text`` is the comment without its delimiters (``#``,
        ``//``, ``/* */``); lines (1-based) are counted as the positions of this format's
        findings are. Only comments count for ``# winportlint: ignore[...]`` suppressions,
        never text that a string holds; a format without comments (JSON) returns ``[]``.

        Asked after the run (the result may come from the cache, without a parse), only
        for files whose bytes hold ``winportlint:``: of the formats that have it, the one
        with the longest matching file name ending (``.tf.json`` before ``.json``), the
        first in plugin order on a tie; for a name no format claims, each in plugin order
        until one answers. Must not raise for bad input: return what can be known."""

    def parse_folders(self, folders: Sequence[str], settings: Mapping[str, object],
                      contents: Mapping[str, bytes] | None = None) -> FileResult:
        """Permissions and input errors of the folders (only for ``folder_suffixes``);
        the format decides which are roots (a module called by another is read
        through its caller). ``settings`` carries command-line options such as
        ``var_files`` and ``vars``, ``jobs`` (how many processes or threads it may use) and
        ``scanned_trees`` (real paths of the folders the run may read files in: the repositories
        holding the paths named, else those paths' folders). Group keys must be unique across folders.
        List in the result's ``inputs`` every other file read (a called module,
        a variable file), and folders whose list of files matters: a cached
        result is reused only while they are unchanged.

        ``contents`` (an editor's unsaved buffers, a fix being verified) gives the bytes
        that files of the run stand for, whatever the disk holds: then only what reads one
        of them is read (the root modules whose evaluation does), with those bytes, and
        every path in the result is the file's path as the run names it. A file outside
        ``scanned_trees`` keeps the disk's bytes. Such a result is never cached."""

    def fixes(self, finding: Finding, request: FixRequest, read: Callable[[str], bytes | None]) -> Sequence[Fix]:
        """Optional: ways to do what ``request`` asks for ``finding``. Only the format knows
        where a value is written: the rule's literal, a parameter's default, a variable's
        default in another file, a ``.tfvars`` entry, a module call's argument. ``read(path)``
        gives the bytes of a file of the run as they are now (an editor's unsaved buffer, or
        the disk), ``None`` for one that cannot be read or lies outside the folders the run
        may read; read files only through it. Edits are byte offsets into those bytes (BOM
        and line endings included) and change nothing else: quoting, comments, layout; edits
        in a file ``read`` does not give are dropped with their fix. A value no edit can
        change (a shared parameter, a data source, a remote module) is a ``display-only``
        fix whose title says why; a request the format cannot serve gives no fix.
        Applicability: ``accept`` is ``safe``, ``restrict`` and ``remove`` are ``unsafe``
        (they change who can connect). winportlint verifies every fix (the patched files are
        read and checked again) before writing it. Must not raise for bad input: return no
        fix. A format without this method offers none."""

    def environment(self) -> Mapping[str, str]:
        """Optional: the environment variables that :meth:`parse_folders` results depend on
        (Terraform's ``TF_VAR_*``); a cached result is reused only while they are unchanged."""


class Check(Protocol):
    """Turns Permission records into Findings using the catalog. Never reads files."""

    #: Stable id matching ``[A-Z]+[0-9]+``.
    id: str
    #: Short kebab-case name.
    name: str
    #: One line saying what the check finds.
    summary: str
    #: The highest severity this check reports.
    severity: Severity
    #: Whether the check runs without ``--select``.
    enabled_by_default: bool
    #: Longer documentation (Markdown): why it matters, how to fix.
    explanation: str
    #: Where the generated documentation for this check lives.
    docs_url: str
    #: Optional: the kinds of fix request (``restrict``, ``accept``, ``remove``) that may end this
    #: check's findings; the formats are asked only for those (absent or ``None``: all). A check
    #: whose findings have no CIDR to replace or no rule whose removal is a fix (an unknown
    #: source, a load balancer's scheme) names only those that make sense.
    fix_kinds: tuple[str, ...] | None

    def run(self, permissions: Sequence[Permission], catalog: Catalog) -> Iterable[Finding]:
        """Findings for the permissions of one file (all its resources, so that
        rules of one group can be considered together)."""


class Reporter(Protocol):
    """Renders a finished run; chosen with ``--format NAME``."""

    #: The ``--format`` value.
    name: str

    #: Optional: ``True`` when the output shows findings' fixes (``Finding.fixes``), which
    #: are then asked of the formats before rendering; a run that shows none skips that work.
    shows_fixes: bool

    def render(self, report: Report) -> str:
        """The whole output for the run, ending with a newline."""


@hookspec
def winportlint_formats() -> Sequence[Format]:
    """File formats this plugin reads."""


@hookspec
def winportlint_checks() -> Sequence[Check]:
    """Checks this plugin provides."""


@hookspec
def winportlint_reporters() -> Sequence[Reporter]:
    """Output formats this plugin provides."""


@hookspec
def winportlint_catalog_files() -> Sequence[Path]:
    """Extra catalog files (same shape as ``rules_catalog/windows-extra.yaml``)
    whose rules are added to the built-in Windows catalog."""


__all__ = ["Check", "Format", "Reporter", "hookimpl", "hookspec"]
