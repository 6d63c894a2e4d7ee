"""Environments: the variable files of a root module that terraform does not load by itself.

A root module often keeps one ``.tfvars`` file per environment (``envs/prod.tfvars``)
that the deployment names with ``-var-file``. Each such file in or below the root's
folder is a *scenario*: the root is evaluated once more with it, after the files
terraform loads by itself and those given with ``--var-file``. A file below a folder
that holds a module of its own (``.tf`` files) belongs to that nearer module, not to
this root. The configuration's ``var_files`` chooses: ``"auto"`` (these files),
a list of files, or ``false`` (none).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Collection, Sequence

from .evaluate import AUTO_VAR_FILES

#: Folders never searched for variable files.
_SKIPPED = frozenset({".terraform", ".terragrunt-cache", ".git", "node_modules"})
#: At most this many scenarios for one root module (each is an evaluation of its own).
MAX_SCENARIOS = 32


def scenario_files(root: str, modules: Collection[str], given: Sequence[str], choice: object) -> list[str]:
    """The variable files that are scenarios of ``root``: ``modules`` are the absolute folders of
    the run that hold a module (the nearer owners; made once for all roots: a run of 500 modules
    made 250,000 absolute paths), ``given`` the files every module already reads
    (``--var-file``), ``choice`` the configuration's ``var_files``."""
    if choice is False or choice is None:
        return []
    owners = set(modules) - {os.path.abspath(root)}
    taken = {os.path.abspath(f) for f in given}
    if isinstance(choice, (list, tuple)):
        found = [_shown(f) for f in choice if _belongs(os.path.abspath(f), os.path.abspath(root), owners)]
    else:
        found = _variable_files(root, owners)
    return [f for f in dict.fromkeys(found) if os.path.abspath(f) not in taken][:MAX_SCENARIOS]


def _variable_files(root: str, owners: set[str]) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(root or "."):
        folder = os.path.normpath(folder)
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED and d[:1] != "."
                         and os.path.abspath(os.path.join(folder, d)) not in owners)
        at_root = folder == os.path.normpath(root or ".")
        for name in sorted(names):
            if name[:1] == "." or not _is_variable_file(name) or (at_root and _loaded_by_terraform(name)):
                continue
            found.append(os.path.join(folder, name))
    return found


def _belongs(path: str, root: str, owners: set[str]) -> bool:
    """Whether a configured variable file (absolute) is in or below ``root`` (absolute) and no
    nearer module's."""
    folder = os.path.dirname(path)
    while True:
        if folder == root:
            return True
        if folder in owners or folder == os.path.dirname(folder):
            return False
        folder = os.path.dirname(folder)


def _shown(path: str) -> str:
    """A configured file as messages name it: relative to the working folder, unless above it."""
    shown = os.path.relpath(path)
    return os.path.normpath(path) if shown.startswith("..") else shown


def _is_variable_file(name: str) -> bool:
    return name.endswith((".tfvars", ".tfvars.json"))


def _loaded_by_terraform(name: str) -> bool:
    """``terraform.tfvars`` and ``*.auto.tfvars``: terraform loads them in the root's folder."""
    return name in AUTO_VAR_FILES or fnmatch.fnmatch(name, "*.auto.tfvars") or \
        fnmatch.fnmatch(name, "*.auto.tfvars.json")
