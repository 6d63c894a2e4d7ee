"""Same input, byte-identical output: in every format, whatever the file-system order,
the number of worker processes and the state of the result cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from winportlint import engine
from winportlint.cli import main

REPO = Path(__file__).resolve().parents[1]
FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab", "markdown", "rdjson")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """More files than the parallel threshold: the examples (Terraform included), many times over."""
    root = tmp_path_factory.mktemp("tree")
    for index in range(engine.PARALLEL_MIN_FILES // 3 + 2):
        shutil.copytree(REPO / "examples" / "vulnerable", root / f"copy{index:02d}")
    (root / "broken.yaml").write_text("Resources: [\n  AWS::EC2::SecurityGroup\n")
    return root


def output(capsys, tree: Path, fmt: str, *extra: str) -> tuple[int, str]:
    cwd = os.getcwd()
    os.chdir(tree)
    try:
        code = main(["check", ".", "--format", fmt, *extra])
    finally:
        os.chdir(cwd)
    return code, capsys.readouterr().out


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_byte_identical_whatever_the_jobs_order_and_cache(fmt, tree, capsys, monkeypatch, tmp_path):
    reference = output(capsys, tree, fmt, "--jobs", "1", "--no-cache")
    assert reference[0] == 2 and reference[1]
    assert output(capsys, tree, fmt, "--jobs", "2", "--no-cache") == reference
    monkeypatch.setenv("WINPORTLINT_CACHE_DIR", str(tmp_path / "cache"))
    assert output(capsys, tree, fmt, "--jobs", "2") == reference  # filling the cache
    assert output(capsys, tree, fmt, "--jobs", "2") == reference  # from the cache
    real_walk, real_scandir = os.walk, os.scandir

    def reversed_walk(top, *args, **kwargs):
        for root, dirs, names in real_walk(top, *args, **kwargs):
            dirs.reverse()
            yield root, dirs, names[::-1]

    class ReversedScandir:
        """os.scandir's iterator, in reverse name order."""

        def __init__(self, path):
            with real_scandir(path) as entries:
                self.entries = iter(sorted(entries, key=lambda entry: entry.name, reverse=True))

        def __iter__(self):
            return self

        def __next__(self):
            return next(self.entries)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return None

        def close(self):
            return None

    def reversed_scandir(path="."):
        return ReversedScandir(path)

    monkeypatch.setattr(os, "walk", reversed_walk)
    monkeypatch.setattr(os, "scandir", reversed_scandir)
    assert output(capsys, tree, fmt, "--jobs", "1", "--no-cache") == reference
