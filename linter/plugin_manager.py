"""The plugin manager: built-in and third-party plugins, loaded the same way."""

from __future__ import annotations

import importlib
import os
import re
import sys
from dataclasses import dataclass, field
from typing import NamedTuple

import pluggy

from . import hookspecs

GROUP = "winportlint"


@dataclass
class Plugins:
    """Everything the installed plugins provide, plus what failed to load."""

    formats: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    reporters: dict = field(default_factory=dict)
    catalog_files: list = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: The entry points that loaded, for telling one installed set of plugins from another.
    entry_points: list[EntryPoint] = field(default_factory=list)

    def identity(self) -> list[str]:
        """Each loaded plugin with the name and version of the distribution that ships it."""
        return [f"{ep.name}={ep.value} ({ep.distribution} {ep.version})" for ep in self.entry_points]


class EntryPoint(NamedTuple):
    """One ``name = module:attribute`` line of an installed distribution's ``entry_points.txt``."""

    name: str
    value: str
    distribution: str
    version: str

    def load(self):
        module, _, attributes = self.value.split("[")[0].strip().partition(":")
        target = importlib.import_module(module.strip())
        for attribute in filter(None, attributes.strip().split(".")):
            target = getattr(target, attribute)
        return target


_METADATA_FOLDER = re.compile(r"(?P<name>[^-]+)(?:-(?P<version>[^-]+))?(?:-.*)?\.(?:dist|egg)-info$")


def entry_points(group: str) -> list[EntryPoint]:
    """The group's entry points of the distributions on ``sys.path``, first distribution of a name wins.

    What ``importlib.metadata.entry_points(group=...)`` returns for distributions
    installed as folders (the packaging specs' ``*.dist-info``, and ``*.egg-info``),
    without importing it and the email parser it needs (a sixth of the start-up
    time). A zip file on ``sys.path`` (a zip application) is left to importlib.metadata.
    """
    if any(os.path.isfile(folder) for folder in sys.path):
        from importlib.metadata import entry_points as metadata_entry_points

        return [EntryPoint(ep.name, ep.value, ep.dist.name if ep.dist else "?", ep.dist.version if ep.dist else "?")
                for ep in metadata_entry_points(group=group)]
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for folder in sys.path:
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            continue
        for name in names:
            match = _METADATA_FOLDER.match(name)
            if not match:
                continue
            distribution = re.sub(r"[-_.]+", "_", match["name"]).lower()
            if distribution in seen:
                continue
            seen.add(distribution)
            try:
                with open(os.path.join(folder or ".", name, "entry_points.txt"), encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            found += _group_lines(text, group, match["name"], match["version"] or "?")
    return found


def _group_lines(text: str, group: str, distribution: str, version: str) -> list[EntryPoint]:
    """The ``name = value`` lines of one section of an ``entry_points.txt`` (an INI file)."""
    found, section = [], None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == group and "=" in line:
            name, _, value = line.partition("=")
            found.append(EntryPoint(name.strip(), value.strip(), distribution, version))
    return found


def load_plugins() -> Plugins:
    """Load every plugin of the ``winportlint`` entry-point group.

    A plugin that fails to import, or whose hook raises, is reported in
    ``warnings`` and skipped: one broken plugin must not stop a lint run.
    """
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    plugins = Plugins()
    # Built-in bundles first, so that their ids and format names take precedence.
    for entry_point in sorted(entry_points(group=GROUP),
                              key=lambda ep: (not ep.value.startswith("winportlint."), ep.name)):
        try:
            manager.register(entry_point.load(), name=entry_point.name)
            plugins.entry_points.append(entry_point)
        except Exception as exc:  # any failure of third-party code
            plugins.warnings.append(f"plugin '{entry_point.name}' ({entry_point.value}) not loaded: {exc}")
    for hook_name, target in (
        ("winportlint_formats", plugins.formats),
        ("winportlint_checks", plugins.checks),
        ("winportlint_catalog_files", plugins.catalog_files),
        ("winportlint_reporters", None),
    ):
        for implementation in getattr(manager.hook, hook_name).get_hookimpls():
            try:
                provided = list(implementation.function() or ())
            except Exception as exc:  # any failure of third-party code
                plugins.warnings.append(f"plugin '{implementation.plugin_name}': {hook_name} failed: {exc}")
                continue
            if target is None:
                plugins.reporters.update((reporter.name, reporter) for reporter in provided)
            else:
                target.extend(provided)
    plugins.checks = _unique_ids(plugins.checks, plugins.warnings)
    return plugins


def _unique_ids(checks: list, warnings: list[str]) -> list:
    """Check ids are how users select, ignore and suppress: a second check with a taken id is skipped."""
    by_id: dict[str, object] = {}
    for check in checks:
        if check.id in by_id:
            warnings.append(f"check {check.id} is defined twice; the second definition ({check.name}) is skipped")
        else:
            by_id[check.id] = check
    return list(by_id.values())
