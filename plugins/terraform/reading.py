"""One evaluation read: the security groups' permissions (``extract``) and, in the same pass,
what they protect and the network ACLs and load balancers in front of them (``context``)."""

from __future__ import annotations

from winportlint.model import FileResult

from .context import ContextReader
from .evaluate import Evaluation
from .extract import ModuleReader
from .unexpanded import UnexpandedRules


def read_module(evaluation: Evaluation) -> FileResult:
    """Permissions, errors, targets and subnet ACLs of one evaluation; the context reader is made
    only for a module that has a resource it reads."""
    reader = ModuleReader(evaluation)
    unexpanded = UnexpandedRules(evaluation, reader.group_prefix)
    reader.positions.on_leave = unexpanded.check  # each file while its syntax index is at hand
    context: ContextReader | None = None

    def read_context(entry: dict, kind: str) -> None:
        nonlocal context
        if context is None:
            context = ContextReader(reader)
        context.read(entry, kind)

    permissions, errors = reader.read(read_context)
    permissions += unexpanded.rest()
    if context is None:
        return FileResult(permissions, errors)
    return FileResult(permissions, errors, targets=context.targets, subnet_acls=context.subnet_acls)
