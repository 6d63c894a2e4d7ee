"""winportlint beside checkov and cfn-lint on the same generated files, in one run.

    python benchmarks/run.py [--work DIR] [--peers VENV] [--only NAME ...] [--repeat N]

Generates the seeded corpora (benchmarks/generate.py) into --work, installs
checkov and cfn-lint into their own virtualenv (--peers, default
~/.cache/winportlint-bench/peers; never the project's environment), runs
every tool on every case and prints wall time, CPU time, peak memory, files
per second and each tool's time as a multiple of winportlint's. The best of
--repeat runs is kept for each cell.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER_PACKAGES = ["checkov", "cfn-lint"]


def measure(command: list[str]) -> dict:
    """Run a command; wall and CPU seconds and peak RSS of it and its children."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "exit": done.returncode, "stderr": done.stderr[-400:]}


def measured(command: list[str]) -> dict:
    """Measure in a fresh process, so that RUSAGE_CHILDREN holds this command alone."""
    output = subprocess.run([sys.executable, __file__, "--measure", json.dumps(command)],
                            capture_output=True, text=True, check=True).stdout
    return json.loads(output)


def ensure_peers(venv: Path) -> Path:
    bin_dir = venv / "bin"
    if not (bin_dir / "checkov").exists() or not (bin_dir / "cfn-lint").exists():
        print(f"installing {', '.join(PEER_PACKAGES)} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "--quiet", *PEER_PACKAGES], check=True)
    return bin_dir


def yaml_load_only(files_dir: Path) -> list[str]:
    """The floor: a C YAML loader reading the same files, without positions or checks."""
    code = ("import sys, glob, yaml\n"
            "class L(yaml.CSafeLoader): pass\n"
            "L.add_multi_constructor('!', lambda loader, suffix, node: None)\n"
            "for f in sorted(glob.glob(sys.argv[1] + '/*.yaml')): yaml.load(open(f), Loader=L)\n")
    return [sys.executable, "-c", code, str(files_dir)]


def cases(work: Path, peers: Path) -> list[tuple[str, int, list[tuple[str, list[str]]]]]:
    winportlint = [sys.executable, "-m", "winportlint.cli", "check", "--no-cache"] if _has_cache_flag() else \
        [sys.executable, "-m", "winportlint.cli", "check"]
    checkov = [str(peers / "checkov"), "--quiet", "--compact", "--skip-download", "-o", "json"]
    cfn_lint = [str(peers / "cfn-lint")]
    cfn = work / "cloudformation"
    small = work / "small" / "t0000.yaml"
    cfn_files = sorted(str(p) for p in cfn.glob("*.yaml"))
    return [
        ("cfn: 300 templates x 20 groups", len(cfn_files), [
            ("winportlint", [*winportlint, str(cfn)]),
            ("C YAML load only", yaml_load_only(cfn)),
            ("checkov", [*checkov, "--framework", "cloudformation", "-d", str(cfn)]),
            ("cfn-lint", [*cfn_lint, "--", *cfn_files]),
        ]),
        ("cfn: one small template (cold start)", 1, [
            ("winportlint", [*winportlint, str(small)]),
            ("checkov", [*checkov, "--framework", "cloudformation", "-f", str(small)]),
            ("cfn-lint", [*cfn_lint, "--", str(small)]),
        ]),
        ("terraform: 500 small modules", 500, [
            ("winportlint", [*winportlint, str(work / "terraform-modules")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "terraform-modules")]),
        ]),
        ("terraform: one module of 300 files x 20 groups", 300, [
            ("winportlint", [*winportlint, str(work / "terraform-flat")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "terraform-flat")]),
        ]),
        ("terraform: one module of 300 files x 20 dynamic-block groups", 300, [
            ("winportlint", [*winportlint, str(work / "terraform-dynamic")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "terraform-dynamic")]),
        ]),
    ]


def _has_cache_flag() -> bool:
    done = subprocess.run([sys.executable, "-m", "winportlint.cli", "check", "--help"], capture_output=True, text=True)
    return "--no-cache" in done.stdout


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure(json.loads(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/winportlint-bench"))
    parser.add_argument("--peers", type=Path, default=Path.home() / ".cache" / "winportlint-bench" / "peers")
    parser.add_argument("--only", nargs="*", help="run only cases whose name contains one of these words")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not (args.work / "cloudformation").is_dir():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(args.work)], check=True)
        (args.work / "small").mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(args.work / "small-gen"), "--cfn", "1",
                        "--tf-modules", "0", "--tf-flat", "0", "--tf-dynamic", "0", "--groups", "2"], check=True)
        shutil.copy(args.work / "small-gen" / "cloudformation" / "t0000.yaml", args.work / "small" / "t0000.yaml")
    peers = ensure_peers(args.peers)
    env_note = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    print(f"# winportlint benchmark ({env_note}); best of {args.repeat}\n")
    print(f"| case | tool | wall s | cpu s | peak MB | files/s | x winportlint | exit |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, file_count, tools in cases(args.work, peers):
        if args.only and not any(word in name for word in args.only):
            continue
        baseline = None
        for tool, command in tools:
            best = min((measured(command) for _ in range(args.repeat)), key=lambda m: m["wall"])
            baseline = baseline or best["wall"]
            ratio = best["wall"] / baseline
            print(f"| {name} | {tool} | {best['wall']:.2f} | {best['cpu']:.2f} | {best['peak_mb']:.0f} | "
                  f"{file_count / best['wall']:.0f} | {ratio:.1f} | {best['exit']} |", flush=True)


if __name__ == "__main__":
    main()
