"""``winportlint-cfn-lint``: cfn-lint with the winportlint rules, on the CloudFormation templates among
the files it is given (the pre-commit hook's entry).

pre-commit hands a hook every file its pattern matches: ``.pre-commit-config.yaml``, workflows and
``package.json`` too, which cfn-lint reports as invalid templates (E1001). Only files winportlint
itself reads as templates are passed on; with none left, nothing runs and the exit is 0.

Usage: ``winportlint-cfn-lint [CFN-LINT OPTION ...] -- FILE ...``; without ``--`` every argument is a
file (an option there would be ambiguous: cfn-lint's ``-a`` and ``-i`` take several values).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from winportlint.plugins.cloudformation import is_template_file
from winportlint.textfile import read_bytes

USAGE = "usage: winportlint-cfn-lint [CFN-LINT OPTION ...] -- FILE ..."


def split_arguments(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """cfn-lint's options and the files; raises ValueError for an option given without ``--``."""
    if "--" in argv:
        at = list(argv).index("--")
        return list(argv[:at]), list(argv[at + 1:])
    options = [argument for argument in argv if argument.startswith("-")]
    if options:
        raise ValueError(f"{options[0]}: cfn-lint options go before '--' ({USAGE})")
    return [], list(argv)


def templates(files: Sequence[str]) -> tuple[list[str], list[str]]:
    """The files that are CloudFormation templates, and a one-line error for each file that cannot
    be read (a FIFO or a device is not opened for cfn-lint to block on)."""
    kept, errors = [], []
    for path in files:
        try:
            data = read_bytes(path)
        except OSError as exc:
            errors.append(f"{path}: {exc.strerror or exc}")
            continue
        if is_template_file(path, data):
            kept.append(path)
    return kept, errors


def main(argv: Sequence[str] | None = None) -> int:
    """cfn-lint's exit code; 2 for a usage error or a file that cannot be read."""
    try:
        options, files = split_arguments(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        print(f"winportlint-cfn-lint: {exc}", file=sys.stderr)
        return 2
    kept, errors = templates(files)
    for error in errors:
        print(f"winportlint-cfn-lint: {error}", file=sys.stderr)
    code = _run_cfn_lint(options, kept) if kept else 0
    return code or (2 if errors else 0)


def _run_cfn_lint(options: list[str], files: list[str]) -> int:
    from cfnlint.runner import main as cfn_lint

    sys.argv = ["cfn-lint", "--append-rules=winportlint.cfn_lint", *options, "--", *files]
    try:
        cfn_lint()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return 0
