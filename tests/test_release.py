"""The release procedure (.ci/release): sdist and wheel built offline, twine's checks, the wheel installed
in a fresh virtual environment reporting on examples/ what the README documents."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # builds the sdist and the wheel and installs the wheel (about 5 s idle, 60 s at most)
def test_the_release_script_builds_checks_installs_and_runs_the_wheel(tmp_path):
    dist = tmp_path / "dist"
    done = subprocess.run(["bash", str(REPO / ".ci" / "release"), str(dist)], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHON": sys.executable})
    assert done.returncode == 0, done.stdout + done.stderr
    # the script compared the report with the checkout's, line for line
    assert re.fullmatch(f"release: {dist}/winportlint-0.1.0.tar.gz and {dist}/winportlint-0.1.0-py3-none-any.whl "
                        r"pass; the wheel reports \d+ findings on examples/", done.stdout.splitlines()[-1])
    names = zipfile.ZipFile(dist / "winportlint-0.1.0-py3-none-any.whl").namelist()
    assert "winportlint/rules_catalog/windows-ami.yaml" in names
    assert "winportlint/cfn_lint/__init__.py" in names
    assert not (REPO / "dist").exists()


def test_build_leftovers_in_the_checkout_are_ignored_by_git():
    done = subprocess.run(["git", "check-ignore", "build/lib/x.py", "winportlint.egg-info/PKG-INFO", "dist/x.whl"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.stdout.split() == ["build/lib/x.py", "winportlint.egg-info/PKG-INFO", "dist/x.whl"]
