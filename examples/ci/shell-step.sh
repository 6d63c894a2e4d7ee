#!/usr/bin/env bash
# Any CI: fail the build on findings (exit 1) or unreadable input (exit 2); keep a SARIF report.
# winportlint goes into a virtual environment of its own (a system Python may refuse pip installs);
# WINPORTLINT_REF is a commit or tag of the repository (no release is on PyPI yet).
set -euo pipefail
venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/winportlint-venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "https://github.com/winportlint/winportlint/archive/${WINPORTLINT_REF:-main}.tar.gz"
"$venv/bin/winportlint" check "${@:-.}" --output winportlint.sarif --output-format sarif
