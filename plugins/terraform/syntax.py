"""Whether one configuration file is valid syntax, on its own.

The evaluator reads a module's files together, and one file it cannot parse
either fails the whole module (hiding the findings of every other file) or,
alone in its folder, is passed over in silence. Each file is checked here
first: HCL native syntax (``.tf``, ``.tofu``) with tree-sitter's HCL grammar,
JSON syntax (``.tf.json``, ``.tofu.json``) with the standard library. An
invalid file is an input error at its line, and its module is evaluated
without it. Terraform takes only blocks at the top level of a file: an
argument there (``us-east-1 = "ami-1"``, a map's entries outside any block)
is an error too, as terraform reports it.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from winportlint.excerpt import excerpt
from winportlint.model import InputError

from .hcl_positions import is_json

#: What the error says of the module: it is read, without the file.
WITHOUT = "the module is read without this file"


def syntax_error(path: str, source: bytes) -> InputError | None:
    """The first syntax error of a configuration file, or None when it is valid."""
    found = _json_error(source) if is_json(path) else _hcl_error(source)
    if found is None:
        return None
    line, message = found
    return InputError(path, line, f"{message}; {WITHOUT}")


def _json_error(source: bytes) -> tuple[int, str] | None:
    try:
        document = json.loads(source.decode("utf-8"))
    except UnicodeDecodeError:
        return 1, "invalid JSON: not UTF-8 text"
    except json.JSONDecodeError as exc:
        return exc.lineno, f"invalid JSON: {exc.msg}"
    except RecursionError:
        return 1, "invalid JSON: nested too deeply"
    if not isinstance(document, dict):
        return 1, "invalid Terraform JSON: the top level must be an object"
    return None


def _hcl_error(source: bytes) -> tuple[int, str] | None:
    # tree-sitter stops at a NUL byte, which HCL takes in a comment: parse with blanks there.
    tree = hcl_parser().parse(readable(source.replace(b"\x00", b" ")))
    root = tree.root_node
    if root.has_error:
        return _first_error(source, root)
    for top in root.named_children:
        if top.type == "comment":
            continue
        if top.type != "body":  # the grammar takes a JSON-like object too; native syntax does not
            return top.start_point[0] + 1, "invalid HCL: an argument or block is required here, not an object"
        for item in top.named_children:
            if item.type == "attribute":
                name = item.named_children[0].text.decode("utf-8", "replace") if item.named_children else "?"
                return item.start_point[0] + 1, (f"invalid Terraform: argument {excerpt(name)} outside any block "
                                                 f"(only blocks are taken at the top level of a file)")
            label = next((child for child in item.named_children if child.type == "string_lit"
                          and _templated(child.text)), None)
            if label is not None:
                return label.start_point[0] + 1, (f"invalid HCL: block label {excerpt(label.text.decode('utf-8', 'replace'), quote=False)}"
                                                  f" holds a template (labels are plain strings)")
    return None


def _templated(label: bytes) -> bool:
    """Whether a quoted label holds an interpolation or directive (``$${`` and ``%%{`` are escapes)."""
    return re.search(rb"[$%]\{", re.sub(rb"\$\$\{|%%\{", b"", label)) is not None


def _first_error(source: bytes, root) -> tuple[int, str]:
    """The line and description of the first syntax error below ``root`` (a tree with errors),
    found without recursion: a file may nest deeper than Python's stack."""
    pending = [root]
    while pending:
        node = pending.pop()
        if node.is_missing:
            block = node.parent
            while block is not None and block.type != "block":
                block = block.parent
            if node.type == "}" and block is not None:  # as terraform says it: at the block's start
                return block.start_point[0] + 1, "invalid HCL: unclosed block, no closing '}'"
            return _unexpected(source, node)
        if node.type == "ERROR":
            return _unexpected(source, node)
        pending.extend(reversed([child for child in node.children if child.has_error or child.is_missing]))
    return 1, "invalid HCL"


def _unexpected(source: bytes, error) -> tuple[int, str]:
    """Where a span the grammar could not read (or a token it found missing) goes wrong: an
    ``=`` with no value on its line, else its first token."""
    tokens = error.children
    for token, following in zip(tokens, [*tokens[1:], None]):
        if token.type == "=" and (following is None or following.start_point[0] > token.start_point[0]):
            return token.start_point[0] + 1, "invalid HCL: no value after '='"
    row, column = error.start_point
    text = source.split(b"\n", row + 1)[row] if row <= source.count(b"\n") else b""
    shown = text[column:].decode("utf-8", "replace").strip() or text.decode("utf-8", "replace").strip()
    return row + 1, f"invalid HCL: unexpected {excerpt(shown)}"


#: A number with an exponent and no fraction (``1e3``): HCL takes it, tree-sitter's grammar does not.
_BARE_EXPONENT = re.compile(rb"(?<![\w.])(\d+)[eE]([+-]?)(?=\d)")
#: What every bare exponent contains.
_EXPONENT = re.compile(rb"\d[eE][+-]?\d")


def readable(source: bytes) -> bytes:
    """The source as tree-sitter's HCL grammar can read it: ``1e3`` as ``1.3``, ``1e-3`` as
    ``1.03``; the same length, so every position holds (text is read from the source itself)."""
    if not _EXPONENT.search(source) or not _BARE_EXPONENT.search(source):  # the first ~4 times faster
        return source
    return _BARE_EXPONENT.sub(lambda match: match[1] + (b".0" if match[2] else b"."), source)


@lru_cache(maxsize=1)
def hcl_parser():
    """tree-sitter's HCL parser (its grammar is HCL native syntax): of each file on its own, the
    values the guards check, and Terragrunt's configuration (see ``terragrunt``)."""
    import tree_sitter
    import tree_sitter_hcl

    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
