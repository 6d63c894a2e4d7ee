#!/usr/bin/env bash
# Any CI: fail the build on findings (exit 1) or unreadable input (exit 2); keep a SARIF report.
set -euo pipefail
pip install --quiet winportlint
winportlint check "${@:-.}" --output winportlint.sarif --output-format sarif
