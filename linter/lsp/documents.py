"""Buffers to findings: what ``winportlint check`` would report for a file as the editor holds it.

The configuration is the one the command line finds for the file (the nearest ``.winportlint.toml``
or ``pyproject.toml`` with ``[tool.winportlint]``), so each folder of a multi-root workspace uses its
own. No result cache is used, and nothing is written: the server must not touch the workspace.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from .. import config as configuration
from .. import engine, fixes, suppress
from ..excerpt import excerpt
from ..model import Finding, Fix, InputError, Location, Severity
from ..textfile import read_bytes

#: The days an "accept with a reason" exception lasts, unless the policy allows fewer.
ACCEPT_DAYS = 90
#: The reason an "accept" code action writes, for the user to replace.
ACCEPT_REASON = "TODO: reason"


class SetupError(Exception):
    """A configuration or catalog that cannot be used; the message names the file and key."""


class Setup(NamedTuple):
    """What a file is linted with: its configuration, the formats, the checks and catalog it
    selects, the severity threshold and the date exceptions are judged on."""

    config: configuration.Config
    formats: Sequence
    checks: Sequence
    catalog: object
    threshold: Severity
    known_ids: frozenset[str]
    today: datetime.date


class Linted(NamedTuple):
    """The findings a file shows (exceptions applied, at or above the threshold) and its input errors,
    and where the resources the findings' groups protect are written (for related information)."""

    findings: list[Finding]
    errors: list[InputError]
    targets: Mapping[str, Location] = {}


def editor_selection(settings: object) -> engine.Selection:
    """The ``select`` and ``ignore`` of the editor's settings (``initializationOptions`` or the
    ``winportlint`` section of its configuration): lists of check ids or prefixes, or comma-separated
    strings, as ``--select``/``--ignore`` take them; :class:`SetupError` for anything else."""
    if settings is None:
        return engine.Selection()
    if not isinstance(settings, dict):
        raise SetupError(f"the editor's winportlint settings must be an object, not {excerpt(json.dumps(settings))}")
    chosen = {}
    for key in ("select", "ignore"):
        value = settings.get(key)
        values = [] if value is None else [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
            raise SetupError(f"editor setting winportlint.{key} must be a list of check ids, not "
                             f"{excerpt(json.dumps(value))}")
        chosen[key] = engine.split_ids(values)
    return engine.Selection(**chosen)


def setup(config_path: str | None, plugins, given: engine.Selection = engine.Selection()) -> Setup:
    """The :class:`Setup` of a configuration file (``None``: the defaults) with the checks the
    editor's settings select or ignore in place of the file's (as ``--select``/``--ignore`` do),
    checked as the command line checks them; :class:`SetupError` when it cannot be used."""
    from ..catalog import CatalogError, load_catalog

    try:
        config = configuration.load(config_path)
    except configuration.ConfigError as exc:
        raise SetupError(str(exc)) from None
    known_ids = frozenset(check.id for check in plugins.checks)
    try:
        checks = engine.chosen_checks(plugins.checks, config, given, "editor setting winportlint.")
        today = suppress.judged_on(config.allow, known_ids, config.policy)
    except ValueError as exc:
        raise SetupError(str(exc)) from None
    try:
        catalog = load_catalog((*plugins.catalog_files, *config.catalog))
        if config.os:
            catalog = catalog.select(os=config.os)
    except (CatalogError, ValueError) as exc:
        raise SetupError(f"{config.where}: {exc}") from None
    return Setup(config, plugins.formats, checks, catalog, Severity(config.severity or "low"), known_ids, today)


def lint(path: str, data: bytes, chosen: Setup) -> Linted | None:
    """The findings and errors of one file's bytes (an editor's buffer), read by the format that
    claims its name; ``None`` when none does or the file is no template (a workflow's YAML)."""
    if chosen.config.excluded(path):
        return None
    result = engine.read_file(path, chosen.formats, data=data)
    if result is None:
        return None
    found = engine.unique_findings(engine.check_file(path, result, chosen.checks, chosen.catalog))
    judged = _judged(found, [path], result.errors, chosen, {path: data})
    return judged._replace(targets={target.resource: target.location for target in result.targets})


def terraform_diagnostics(path: str, buffers: Mapping[str, bytes], chosen: Setup) -> Linted:
    """The findings and errors of the Terraform module holding ``path`` (and of the modules it
    calls), with the open buffers of that module's folder and the folders below it read as the
    editor holds them (unsaved bytes) and every other file from the disk. Only the root modules
    that read those files are evaluated again."""
    folder = os.path.dirname(os.path.abspath(path))
    suffixes = tuple(suffix for fmt in chosen.formats for suffix in getattr(fmt, "folder_suffixes", ()))
    contents = {name: data for name, data in buffers.items()
                if name.lower().endswith(suffixes) and os.path.abspath(name).startswith(folder + os.sep)}
    if path not in contents:
        contents[path] = read_bytes(path)
    settings = {"var_files": [], "vars": {}, "scenarios": chosen.config.var_files, "jobs": 1}
    found: list[Finding] = []
    errors: list[InputError] = []
    targets: dict[str, Location] = {}
    for key, result in engine.read_contents(contents, chosen.formats, settings, (folder,)).items():
        if result is None:
            continue
        found += engine.unique_findings(engine.check_file(key, result, chosen.checks, chosen.catalog))
        errors += result.errors
        targets.update((target.resource, target.location) for target in result.targets)
    files = sorted({finding.location.file for finding in found} | set(contents))
    return _judged(found, files, errors, chosen, buffers)._replace(targets=targets)


def _judged(found: Sequence[Finding], files: Sequence[str], errors: Sequence[InputError], chosen: Setup,
            contents: Mapping[str, bytes]) -> Linted:
    """The findings at or above the threshold that no exception in force accepts, and the errors."""
    config = chosen.config
    shown = [finding for finding in found if finding.severity.rank >= chosen.threshold.rank]
    outcome = suppress.apply(shown, files, chosen.formats, chosen.known_ids, config.allow, config.inline_ignores,
                             None, config.policy, chosen.today, contents=contents)
    return Linted(outcome.kept, [*errors, *outcome.errors])


def accept_expiry(chosen: Setup) -> str:
    """The end of an "accept with a reason" exception: :data:`ACCEPT_DAYS` out, fewer when
    ``max_exception_days`` allows fewer, for the user to complete with the reason."""
    days = min(ACCEPT_DAYS, chosen.config.policy.max_days or ACCEPT_DAYS)
    return (chosen.today + datetime.timedelta(days=days)).isoformat()


def fixes_for(finding: Finding, chosen: Setup, buffers: Mapping[str, bytes]) -> tuple[list[Fix], dict[str, bytes]]:
    """The fixes the finding's format offers for what ``winportlint fix`` asks (restrict to the
    configured admin sources, accept with a placeholder reason, remove), as far as the finding's
    check allows, read from the open buffers and else the disk, never outside the repository
    holding the file; and the bytes each edited file was read as, which the edits' offsets
    point into."""
    contents: dict[str, bytes | None] = {os.path.normpath(path): data for path, data in buffers.items()}
    asked = fixes.requests(chosen.config.fix_sources, ACCEPT_REASON, expires=accept_expiry(chosen))
    [fixed] = fixes.attach([finding], chosen.formats, asked, contents, engine.scanned_trees([finding.location.file]),
                           chosen.checks)
    return list(fixed.fixes), {path: data for path, data in contents.items() if data is not None}
