"""The part of the environment a Terraform result depends on (a module of its own: the result
cache asks for it on every run, and the helper processes' module is costly to import)."""

from __future__ import annotations

import os


def tf_var_environment() -> list[tuple[str, str]]:
    """The ``TF_VAR_*`` variables of this process's environment, sorted: the only ones an
    evaluator helper is given besides its own (the evaluator takes them as input variables,
    as terraform does), so the only part of the environment a result depends on."""
    return sorted((name, value) for name, value in os.environ.items() if name.startswith("TF_VAR_"))
