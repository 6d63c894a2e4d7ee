"""The protocol wiring of ``winportlint lsp`` (pygls over stdio).

CloudFormation and Serverless files are linted from the editor's buffer on open, on save and,
debounced, on change: a newer change cancels the lint pending for an older one, and diagnostics
carry the version they were computed from, published only while it is the document's latest.
A Terraform file is linted with its whole module, from the disk, on open and on save.
"""

from __future__ import annotations

import asyncio
import os
from typing import NamedTuple

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path

from .. import __version__, engine
from ..config import ConfigError, find
from ..excerpt import excerpt
from ..model import Finding
from ..textfile import UnreadableFile, read_bytes
from . import convert
from .documents import Linted, Setup, SetupError, editor_selection, fixes_for, lint, setup, terraform_diagnostics

#: Seconds a change waits for the next before it is linted, unless the client's
#: ``initializationOptions`` say ``{"debounceMilliseconds": N}``.
DEBOUNCE = 0.2
#: The settings the server reads from the client's ``initializationOptions`` and from the
#: ``winportlint`` section of ``workspace/didChangeConfiguration``: the debounce, and the checks to
#: select and ignore in place of the configuration file's. The VS Code extension has one for each.
OPTIONS = ("debounceMilliseconds", "select", "ignore")
#: The configuration files whose change re-lints every open document.
CONFIG_NAMES = ("pyproject.toml", ".winportlint.toml")


class Shown(NamedTuple):
    """What a document's diagnostics were made of, for its code actions and hovers."""

    version: int | None
    findings: list[Finding]
    diagnostics: list[types.Diagnostic]
    setup: Setup


class Configurations:
    """Each file's :class:`Setup`, from the configuration the command line would find for it
    (each workspace folder its own) and the checks the editor's settings select or ignore, kept
    until a configuration file or those settings change."""

    def __init__(self, plugins) -> None:
        self.plugins = plugins
        self.given: engine.Selection | SetupError = engine.Selection()
        self.found: dict[str, str | None] = {}
        self.setups: dict[str | None, Setup | SetupError] = {}

    def choose(self, settings: object) -> None:
        """Take the editor's ``select`` and ``ignore`` settings (a bad one is every file's error)."""
        try:
            self.given = editor_selection(settings)
        except SetupError as exc:
            self.given = exc
        self.clear()

    def get(self, path: str) -> Setup | SetupError:
        if isinstance(self.given, SetupError):
            return self.given
        folder = os.path.dirname(path)
        try:
            if folder not in self.found:
                self.found[folder] = find(folder)
        except ConfigError as exc:  # a pyproject.toml on the way up that cannot be read
            return SetupError(str(exc))
        config_path = self.found[folder]
        if config_path not in self.setups:
            try:
                self.setups[config_path] = setup(config_path, self.plugins, self.given)
            except SetupError as exc:
                self.setups[config_path] = exc
        return self.setups[config_path]

    def clear(self) -> None:
        self.found.clear()
        self.setups.clear()


class Debouncer:
    """Actions that wait for a quiet moment: scheduling one for a key cancels the one pending."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.pending: dict[str, asyncio.Task] = {}

    def schedule(self, key: str, action) -> None:
        """Call ``action()`` after :attr:`delay` seconds unless another is scheduled for ``key`` meanwhile."""
        self.cancel(key)
        self.pending[key] = asyncio.ensure_future(self._later(key, action))

    async def _later(self, key: str, action) -> None:
        await asyncio.sleep(self.delay)
        del self.pending[key]
        action()

    def cancel(self, key: str) -> None:
        task = self.pending.pop(key, None)
        if task is not None:
            task.cancel()


class WinportlintServer(LanguageServer):
    """The server's state: the configurations and what each document shows, linted and published."""

    def __init__(self, plugins) -> None:
        super().__init__("winportlint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.configurations = Configurations(plugins)
        self.docs = {check.id: check.docs_url for check in plugins.checks}
        self.checks = {check.id: check for check in plugins.checks}
        self.changes = Debouncer(DEBOUNCE)
        self.shown: dict[str, Shown] = {}
        #: The files each Terraform module's diagnostics were published for, by the module's folder.
        self.module_files: dict[str, set[str]] = {}
        self.folder_suffixes = tuple(suffix for fmt in plugins.formats
                                     for suffix in getattr(fmt, "folder_suffixes", ()))

    def configure(self, settings: object) -> None:
        """Take the editor's settings (:data:`OPTIONS`); a name the server does not know is logged."""
        if isinstance(settings, dict):
            unknown = sorted(set(settings) - set(OPTIONS))
            if unknown:
                names = ", ".join(excerpt(str(name)) for name in unknown)
                self.window_log_message(types.LogMessageParams(
                    types.MessageType.Warning, f"winportlint: unknown settings ignored: {names} (known: "
                                               f"{', '.join(OPTIONS)})"))
            if isinstance(settings.get("debounceMilliseconds"), (int, float)):
                self.changes.delay = max(0.0, settings["debounceMilliseconds"] / 1000)
        self.configurations.choose(settings)

    # Linting and publishing

    def buffers(self) -> dict[str, bytes]:
        """The open documents' bytes, by path."""
        return {doc.path: doc.source.encode("utf-8", "surrogatepass")
                for doc in self.workspace.text_documents.values() if doc.path}

    def relint(self, uri: str) -> None:
        """Lint a document now and publish its diagnostics (and its module's files' for Terraform)."""
        self.changes.cancel(uri)
        doc = self.workspace.get_text_document(uri)
        path = doc.path
        if not path:
            return
        text = convert.Text(doc.source, doc.position_codec)
        chosen = self.configurations.get(path)
        if isinstance(chosen, SetupError):
            self.shown.pop(uri, None)
            self.publish(uri, [types.Diagnostic(text.line_range(0), str(chosen), types.DiagnosticSeverity.Error,
                                                code=convert.INPUT_ERROR, source=convert.SOURCE)], doc.version)
            return
        if path.lower().endswith(self.folder_suffixes):
            self.relint_module(path, chosen)
            return
        try:
            linted = lint(path, text.data, chosen)
        except Exception as exc:  # a bug must not end the session: say so where the user looks
            linted = Linted([], [_failure(path, exc)])
        self.show(uri, path, text, doc.version, linted or Linted([], []), chosen)

    def relint_module(self, path: str, chosen: Setup) -> None:
        """Lint the Terraform module holding ``path`` and publish for each of its files that has
        diagnostics, or had some."""
        folder = os.path.dirname(path)
        try:
            linted = terraform_diagnostics(path, self.buffers(), chosen)
        except Exception as exc:
            linted = Linted([], [_failure(path, exc)])
        files = {finding.location.file for finding in linted.findings} | {error.file for error in linted.errors}
        files = {os.path.abspath(file) for file in files if os.path.isfile(file)} | {path}
        elsewhere = [error for error in linted.errors if os.path.abspath(error.file) not in files]
        for file in sorted(files | self.module_files.get(folder, set())):
            uri = from_fs_path(file)
            doc = self.workspace.text_documents.get(uri)
            if doc is not None:
                text, version = convert.Text(doc.source, doc.position_codec), doc.version
            else:
                try:
                    source = read_bytes(file).decode("utf-8", "replace")
                except (OSError, UnreadableFile):
                    source = ""
                text, version = convert.Text(source, self.workspace.position_codec), None
            mine = Linted([f for f in linted.findings if os.path.abspath(f.location.file) == file],
                          [e for e in linted.errors if os.path.abspath(e.file) == file]
                          + (elsewhere if file == path else []),  # a folder's error: shown on the file opened
                          linted.targets)
            self.show(uri, file, text, version, mine, chosen)
        self.module_files[folder] = files

    def show(self, uri: str, path: str, text: convert.Text, version: int | None, linted: Linted,
             chosen: Setup) -> None:
        diagnostics = [convert.diagnostic(finding, text, index, self.docs.get(finding.rule_id, ""), from_fs_path,
                                          linted.targets) for index, finding in enumerate(linted.findings)]
        diagnostics += [convert.error_diagnostic(error, path, text) for error in linted.errors]
        self.shown[uri] = Shown(version, linted.findings, diagnostics, chosen)
        self.publish(uri, diagnostics, version)

    def publish(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None) -> None:
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics, version))

    def relint_changed(self, uri: str, version: int) -> None:
        """Lint a changed document if ``version`` is still its latest (a newer one has its own lint)."""
        doc = self.workspace.text_documents.get(uri)
        if doc is not None and doc.version == version:
            self.relint(uri)

    def relint_all(self) -> None:
        """A configuration changed: every open document is linted again with the new one."""
        self.configurations.clear()
        for uri in list(self.workspace.text_documents):
            self.relint(uri)


def _failure(path: str, exc: Exception):
    from ..excerpt import excerpts_in
    from ..model import InputError

    return InputError(path, 0, f"winportlint failed: {type(exc).__name__}: {excerpts_in(str(exc))} (please report it)")


def _is_config(uri: str) -> bool:
    return uri.rsplit("/", 1)[-1] in CONFIG_NAMES


def build(plugins) -> WinportlintServer:
    """The server, its features registered."""
    server = WinportlintServer(plugins)

    @server.feature(types.INITIALIZE)
    def initialize(ls: WinportlintServer, params: types.InitializeParams) -> None:
        ls.configure(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: WinportlintServer, params: types.InitializedParams) -> None:
        watched = ls.client_capabilities.workspace and ls.client_capabilities.workspace.did_change_watched_files
        if watched and watched.dynamic_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_NAMES]
            ls.client_register_capability(types.RegistrationParams([types.Registration(
                "winportlint-configuration", types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                types.DidChangeWatchedFilesRegistrationOptions(watchers))]))
        for warning in plugins.warnings:
            ls.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"winportlint: {warning}"))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: WinportlintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.relint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: WinportlintServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        version = params.text_document.version
        ls.changes.schedule(uri, lambda: ls.relint_changed(uri, version))

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: WinportlintServer, params: types.DidSaveTextDocumentParams) -> None:
        if _is_config(params.text_document.uri):
            ls.relint_all()
        else:
            ls.relint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: WinportlintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.changes.cancel(uri)
        ls.shown.pop(uri, None)
        ls.publish(uri, [], None)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: WinportlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        if any(_is_config(change.uri) for change in params.changes):
            ls.relint_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: WinportlintServer, params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        if isinstance(settings, dict) and "winportlint" in settings:  # pushed by clients that keep settings
            ls.configure(settings["winportlint"])
            ls.relint_all()

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(ls: WinportlintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        shown = ls.shown.get(uri)
        doc = ls.workspace.text_documents.get(uri)
        if shown is None or doc is None or shown.version != doc.version:
            return []
        actions = []
        for given in params.context.diagnostics:
            index = given.data.get("finding") if isinstance(given.data, dict) else None
            if given.source != convert.SOURCE or not isinstance(index, int) or not 0 <= index < len(shown.findings):
                continue
            fixes, contents = fixes_for(shown.findings[index], shown.setup, ls.buffers())
            texts = {path: convert.Text(data.decode("utf-8", "replace"), doc.position_codec)
                     for path, data in contents.items()}
            versions = {d.path: d.version for d in ls.workspace.text_documents.values() if d.path}
            actions += convert.code_actions(fixes, given, texts, from_fs_path, versions)
        return actions

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: WinportlintServer, params: types.HoverParams) -> types.Hover | None:
        shown = ls.shown.get(params.text_document.uri)
        if shown is None:
            return None
        ids = dict.fromkeys(d.code for d in shown.diagnostics if d.code in ls.checks
                            and _within(params.position, d.range))
        if not ids:
            return None
        from ..checks import documentation

        text = "\n---\n\n".join(documentation(ls.checks[check_id]) for check_id in ids)
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, text))

    return server


def _within(position: types.Position, span: types.Range) -> bool:
    at = (position.line, position.character)
    return (span.start.line, span.start.character) <= at <= (span.end.line, span.end.character)


def serve() -> int:
    """Serve one client over standard input and output until it exits."""
    from ..plugin_manager import load_plugins

    build(load_plugins()).start_io()
    return 0
