"""Rules the evaluator left out: a module call it did not evaluate (see ``module_passes``), and a rule resource whose ``for_each`` (or ``count``) is known only at
apply (it depends on a data source or another resource's attribute) has no
instance at all in the evaluation, and a ``dynamic "ingress"`` block over such a collection gives
no rule, so nothing they open would be read. Each is one unknown rule at its block (WPL001 at
``--severity info``): any port, from any source. A collection that is known, empty or not (a
variable whose default is ``{}``, a count that is off), leaves nothing out and is not reported; so
is one where any value it refers to is known (it may decide alone: ``local.on && var.off``).

Files are looked at while the reading has their syntax index (see ``extract.BlockPositions``),
and the values of ``local.x`` and ``var.x`` are those of the module the file belongs to.
"""

from __future__ import annotations

import os
import re

from winportlint.excerpt import excerpt
from winportlint.model import Direction, Location, Peer, Permission, Provenance
from winportlint.textfile import read_bytes

from .evaluate import Evaluation, module_files
from .extract import block_meta
from .hcl_positions import forget_index, index_file

#: Rule resources that open ports on their own, and how each says it is egress.
_RULES = {"aws_security_group_rule": ("type", "egress"), "aws_vpc_security_group_ingress_rule": None,
          "aws_network_acl_rule": ("egress", "true")}
#: Resources whose ``dynamic "ingress"`` blocks open ports.
_HOLDERS = ("aws_security_group", "aws_default_security_group", "aws_network_acl", "aws_default_network_acl")
_DECLARED = re.compile(r'resource\s+"(' + "|".join(_RULES) + r')"|dynamic\s+"ingress"')
#: What an expression refers to that cannot be known before apply: a data source, a resource's attribute.
_AT_APPLY = re.compile(r"\bdata\.|\b[a-z]+_[a-z0-9_]+\.[A-Za-z_][\w-]*\.")
_REFERENCE = re.compile(r"\b(local|var)\.([A-Za-z_][\w-]*)")


class UnexpandedRules:
    """The unknown rules of one evaluation's files; ``prefix`` keys the groups (see extract)."""

    def __init__(self, evaluation: Evaluation, prefix: str):
        self.evaluation = evaluation
        self.prefix = prefix
        self.permissions: list[Permission] = []
        self.evaluated: set[tuple[str, int]] = set()  # (real path, line) of each resource evaluated
        self.folders: dict[str, None] = {os.path.normpath(evaluation.folder): None}  # its modules' folders
        self._checked: set[str] = set()
        #: Per module folder: ``local.x`` / ``var.x`` as evaluated, None where not known (any instance).
        self.values: dict[str, dict[str, object]] = {}
        for kind, entries in evaluation.blocks.items():
            for entry in entries if isinstance(entries, list) else ():
                meta = block_meta(entry)
                written = os.path.normpath(os.path.join(evaluation.folder, str(meta.get("filename", ""))))
                path = os.path.abspath(written)
                if meta.get("type") == "resource":
                    self.evaluated.add((path, int(meta.get("line_start") or 0)))
                    self.folders[os.path.dirname(written)] = None
                elif kind in ("locals", "variable"):
                    self._values(os.path.dirname(path), kind, entry, meta)

    def _values(self, folder: str, kind: str, entry: dict, meta: dict) -> None:
        values = self.values.setdefault(folder, {})
        if kind == "locals":
            pairs = [(f"local.{key}", value) for key, value in entry.items() if not key.startswith("__") and key != "id"]
        else:
            pairs = [(f"var.{str(meta.get('path', '')).rpartition('.')[2]}", entry.get("value", entry.get("default")))]
        for name, value in pairs:  # a module called twice: unknown if unknown in either
            values[name] = None if name in values and values[name] is None else value

    def check(self, path: str, index: object) -> None:
        """The unknown rules of one file, from its syntax index (while the reading has it)."""
        text, blocks = getattr(index, "text", ""), getattr(index, "top_level", ())
        if not path.endswith((".tf", ".tofu")) or not _DECLARED.search(text):
            return
        full = os.path.abspath(path)
        if full in self._checked:
            return
        self._checked.add(full)
        values = self.values.get(os.path.dirname(full), {})
        for block in blocks:
            if block.kind != "resource" or len(block.labels) != 2:
                continue
            if block.labels[0] in _HOLDERS:
                for child in block.children:
                    if child.kind == "dynamic" and child.labels == ["ingress"]:
                        why = _at_apply(child, text, values)
                        if why is not None:
                            self.permissions.append(self._unknown(path, block, why, child))
            if block.labels[0] in _RULES and (full, block.line) not in self.evaluated:
                why = _at_apply(block, text, values)
                if why is not None and not _egress(block, text):
                    self.permissions.append(self._unknown(path, block, why, block))

    def rest(self) -> list[Permission]:
        """Also the files of the evaluated modules that the reading never looked at (none of their
        resources was evaluated); then every unknown rule found."""
        for folder in self.folders:
            for path in module_files(folder):
                if os.path.abspath(path) in self._checked:
                    continue
                try:
                    if not _DECLARED.search(read_bytes(path).decode("utf-8", "replace")):
                        continue
                    self.check(path, index_file(path))
                except OSError:
                    continue
                finally:
                    forget_index(path)
        for path, line, address in self.evaluation.left_out:
            location = Location(path, line, 1)
            why = "the evaluator left this module call out (it evaluates about 30 calls of one module, fewer " \
                  "when they take each other's outputs): its resources are not read"
            self.permissions.append(Permission(
                resource=address, resource_type="module", group=f"{self.prefix}{address}",
                direction=Direction.INGRESS, protocol="unknown", ports=None, peer=Peer("unknown", why),
                location=location, rule_location=location, resource_location=location,
                provenance=(Provenance("module", "unknown", why, location),)))
        return self.permissions

    def _unknown(self, path: str, block, why: str, written) -> Permission:
        address = ".".join(block.labels)
        location = Location(os.path.normpath(path), written.line, written.column)
        return Permission(resource=address, resource_type=block.labels[0], group=self.prefix + address,
                          direction=Direction.INGRESS, protocol="unknown", ports=None, peer=Peer("unknown", why),
                          location=location, rule_location=location, resource_location=location,
                          provenance=(Provenance(block.labels[0], "unknown", why, location),))


def _text(block, name: str, text: str) -> str | None:
    attribute = block.attributes.get(name)
    if attribute is None or attribute.span is None:
        return None
    return text[attribute.span[0]:attribute.span[1]].strip()


def _at_apply(block, text: str, values: dict[str, object]) -> str | None:
    """Why the block's instances are known only at apply, or None (no for_each/count, or known)."""
    for meta_argument in ("for_each", "count"):
        expression = _text(block, meta_argument, text)
        if expression is None:
            continue
        references = [values.get(match[0]) for match in _REFERENCE.finditer(expression)]
        # Only where nothing it refers to is known: ``local.on && var.off`` is off whatever ``local.on`` is.
        if _AT_APPLY.search(expression) and not any(value is not None for value in references) \
                or references and all(value is None for value in references):
            return f"its {meta_argument} ({excerpt(expression, quote=False)}) is known only at apply: " \
                   "its rules are not read"
    return None


def _egress(block, text: str) -> bool:
    rule = _RULES[block.labels[0]]
    if rule is None:
        return False
    written = _text(block, rule[0], text)
    return written is not None and written.strip('"') == rule[1]
