"""cfn-lint as the oracle of validity (issue #15): an input error means CloudFormation would reject
the template. Over every CloudFormation file of the shared corpus, the project's fixtures and the
examples, each file winportlint reports an input error for must be one cfn-lint rejects too (an
E0xxx, E1xxx or E3xxx error). cfn-lint runs only on those files: the property is one-way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
#: cfn-lint's errors that mean CloudFormation rejects the template (template, syntax, schema).
REJECTING = ("E0", "E1", "E3")


def cloudformation_files() -> list[Path]:
    """Every file that says it is a CloudFormation template."""
    roots = [REPO / "tests", REPO / "examples", *([CORPUS] if CORPUS.is_dir() else [])]
    found = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".yaml", ".yml", ".json", ".template") and path.is_file() and \
                    b"Resources" in path.read_bytes()[:1_000_000]:
                found.append(path)
    return found


def rejected_by_cfn_lint(paths: list[Path]) -> dict[str, list[str]]:
    """The rejecting cfn-lint rule ids of each file, from one cfn-lint run (none for no file:
    cfn-lint would read standard input)."""
    if not paths:
        return {}
    done = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
                           "--format", "json", "--", *map(str, paths)], capture_output=True, text=True, timeout=600)
    assert done.stdout.startswith("["), done.stderr[-2000:]
    rejected: dict[str, list[str]] = {os.path.realpath(p): [] for p in paths}
    for match in json.loads(done.stdout or "[]"):
        if match["Rule"]["Id"].startswith(REJECTING):
            rejected.setdefault(os.path.realpath(match["Filename"]), []).append(match["Rule"]["Id"])
    return rejected


def test_every_input_error_is_on_a_template_cfn_lint_rejects(tmp_path):
    files = cloudformation_files()
    assert len(files) > (100 if CORPUS.is_dir() else 20)  # the corpus (where present) and the fixtures were found
    done = subprocess.run([str(Path(sys.executable).with_name("winportlint")), "check", "--no-cache",
                           "--severity", "info", "--format", "json", *map(str, files)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    errors: dict[str, list[str]] = {}
    for error in json.loads(done.stdout)["errors"]:
        errors.setdefault(os.path.realpath(os.path.join(tmp_path, error["file"])), []).append(error["message"])
    assert errors or not CORPUS.is_dir()  # the corpus holds rejected templates: the property is not vacuous
    rejected = rejected_by_cfn_lint([Path(path) for path in errors])
    false_errors = {path: messages for path, messages in errors.items() if not rejected.get(path)}
    assert false_errors == {}


def test_templates_using_every_construct_are_valid_and_read_without_an_error(tmp_path):
    """The other way round, on templates written to use the constructs of the template language
    (tests/valid): cfn-lint accepts each, and winportlint reads each without an input error."""
    files = sorted((REPO / "tests" / "valid").glob("*.yaml"))
    assert len(files) >= 3
    done = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
                           "--format", "json", "--", *map(str, files)], capture_output=True, text=True, timeout=600)
    rejecting = [(m["Filename"], m["Rule"]["Id"], m["Message"]) for m in json.loads(done.stdout)
                 if m["Rule"]["Id"].startswith(REJECTING)]
    assert rejecting == []
    done = subprocess.run([str(Path(sys.executable).with_name("winportlint")), "check", "--no-cache",
                           "--severity", "info", "--format", "json", *map(str, files)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    report = json.loads(done.stdout)
    assert report["errors"] == []
    assert report["findings"]  # they are read, not passed over
