"""How many findings have a fix, of which applicability, for each kind of request.

    python benchmarks/fix_coverage.py PATH... [--cidr 203.0.113.0/24 --cidr 2001:db8::/32]

Lints the paths as ``winportlint check --severity info`` does (the checks on by default,
no configuration, no exceptions), then asks the formats for each kind of fix separately
(``restrict`` to the CIDRs given, ``accept`` with a reason, ``remove``), as far as each
finding's check allows the kind, and for all three together, as ``winportlint fix`` does. A finding counts once per row, under the best it
gets: a ``safe`` fix with edits, else an ``unsafe`` one, else a ``display-only`` one (shown,
never applied), else none. Nothing is written.
"""

from __future__ import annotations

import argparse
from collections import Counter

from winportlint import engine, fixes
from winportlint.catalog import load_catalog
from winportlint.model import FixRequest
from winportlint.plugin_manager import load_plugins

COLUMNS = ("safe", "unsafe", "display-only", "none")


def best(finding) -> str:
    """The most a finding's fixes can do, in the order of :data:`COLUMNS`."""
    for applicability in ("safe", "unsafe"):
        if any(fix.applicability == applicability and fix.edits for fix in finding.fixes):
            return applicability
    return "display-only" if finding.fixes else "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--cidr", action="append", default=None,
                        help="an admin source to restrict to (default: 203.0.113.0/24 and 2001:db8::/32)")
    args = parser.parse_args()
    cidrs = tuple(args.cidr or ("203.0.113.0/24", "2001:db8::/32"))
    plugins = load_plugins()
    checks = [check for check in plugins.checks if check.enabled_by_default]
    result = engine.run(args.paths, plugins.formats, checks, load_catalog(()))
    trees = engine.scanned_trees(args.paths)
    kinds = {
        "restrict": [FixRequest("restrict", cidrs)],
        "accept": [FixRequest("accept", reason="reviewed")],
        "remove": [FixRequest("remove")],
    }
    kinds["all three"] = [request for asked in kinds.values() for request in asked]
    contents: dict = {}
    print(f"{len(result.findings)} findings, {len(result.errors)} input errors in {len(args.paths)} path(s)")
    print(f"| request | {' | '.join(COLUMNS)} |")
    print(f"|---|{'---:|' * len(COLUMNS)}")
    for kind, asked in kinds.items():
        counts = Counter(best(finding) for finding in fixes.attach(result.findings, plugins.formats, asked,
                                                                    contents, trees, checks))
        print(f"| {kind} | {' | '.join(str(counts[column]) for column in COLUMNS)} |")


if __name__ == "__main__":
    main()
