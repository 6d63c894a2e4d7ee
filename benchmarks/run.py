"""winportlint beside checkov and cfn-lint on the same generated files, in one run.

    python benchmarks/run.py [--work DIR] [--venvs DIR] [--only NAME ...] [--repeat N]

Generates the seeded corpora (benchmarks/generate.py) into --work, installs
checkov and cfn-lint into one virtualenv and this checkout of winportlint
(a regular, non-editable install, with cfn-lint for its cfn-lint rules) into
another, both below --venvs (default ~/.cache/winportlint-bench; never the
project's environment). Runs every tool on every case and prints wall time,
CPU time, peak memory, files per second and each tool's time as a multiple
of winportlint's. Each cell is the median of --repeat runs (runs over ten
seconds are measured once).

winportlint's rows start from an empty result cache; the "second run" row
runs again over the same, unchanged files, and the "one changed file" row
(the pre-commit case) after one module file was edited, the cache warm for
the rest. The last lines compare sizes: half the CloudFormation files with
all of them, and each real-world shape with twice as many module calls
(linear growth is 2.00).
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


#: A run this long is measured once whatever --repeat says: its noise is small next to it.
LONG_RUN_SECONDS = 10
#: The result cache of winportlint's runs; emptied before each run that is not a "second run".
CACHE_ENV = "WINPORTLINT_CACHE_DIR"


def measure(command: list[str]) -> dict:
    """Run a command; wall and CPU seconds and peak RSS of it and its children."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "exit": done.returncode, "stderr": done.stderr[-400:]}


def measured(command: list[str], warm_cache: bool = False) -> dict:
    """Measure in a fresh process, so that RUSAGE_CHILDREN holds this command alone."""
    if not warm_cache:
        shutil.rmtree(os.environ[CACHE_ENV], ignore_errors=True)
    output = subprocess.run([sys.executable, __file__, "--measure", json.dumps(command)],
                            capture_output=True, text=True, check=True).stdout
    return json.loads(output)


def machine() -> str:
    """The CPU, cores, memory, OS and Python of this run, in one line."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 if hasattr(os, "sysconf") else 0
    return (f"Machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GB; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def _version(command: list[str]) -> str:
    output = subprocess.run(command, capture_output=True, text=True).stdout.strip().split()
    return output[-1] if output else "?"


def ensure_venv(venv: Path, packages: list[str], marker: str, reinstall: list[str] = ()) -> Path:
    """A virtualenv with the packages; ``reinstall`` ones are installed again on every run."""
    bin_dir = venv / "bin"
    if not (bin_dir / marker).exists():
        print(f"installing {', '.join(packages)} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "--quiet", *packages], check=True)
    elif reinstall:
        subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "--force-reinstall", "--no-deps", *reinstall],
                       check=True)
    return bin_dir


def yaml_load_only(files_dir: Path) -> list[str]:
    """The floor: a C YAML loader reading the same files, without positions or checks."""
    code = ("import sys, glob, yaml\n"
            "class L(yaml.CSafeLoader): pass\n"
            "L.add_multi_constructor('!', lambda loader, suffix, node: None)\n"
            "for f in sorted(glob.glob(sys.argv[1] + '/*.yaml')): yaml.load(open(f), Loader=L)\n")
    return [sys.executable, "-c", code, str(files_dir)]


#: The file the "one changed file" rows edit before each run (a comment is added to it).
CHANGED_FILE = "terraform-mesh/modules/k001/main.tf"


def edit(path: Path) -> None:
    """Change a file as a user would: one more comment line."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"# edited {time.time()}\n")


def cases(work: Path, peers: Path, tool: Path) -> list[tuple[str, int, list[tuple[str, list[str]]]]]:
    winportlint = [str(tool / "winportlint"), "check"]
    checkov = [str(peers / "checkov"), "--quiet", "--compact", "--skip-download", "-o", "json"]
    cfn_lint = [str(peers / "cfn-lint")]
    cfn_lint_with_rules = [str(tool / "cfn-lint"), "--append-rules", "winportlint.cfn_lint"]
    cfn = work / "cloudformation"
    small = work / "small" / "t0000.yaml"
    cfn_files = sorted(str(p) for p in cfn.glob("*.yaml"))
    half = cfn_files[:len(cfn_files) // 2]
    return [
        ("cfn: 300 templates x 20 groups", len(cfn_files), [
            ("winportlint", [*winportlint, str(cfn)]),
            ("winportlint, second run", [*winportlint, str(cfn)]),
            ("C YAML load only", yaml_load_only(cfn)),
            ("checkov", [*checkov, "--framework", "cloudformation", "-d", str(cfn)]),
            ("cfn-lint", [*cfn_lint, "--", *cfn_files]),
            ("cfn-lint + winportlint rules", [*cfn_lint_with_rules, "--", *cfn_files]),
        ]),
        ("cfn: the first 150 of those templates", len(half), [
            ("winportlint", [*winportlint, *half]),
        ]),
        ("cfn: one small template (cold start)", 1, [
            ("winportlint", [*winportlint, str(small)]),
            ("Python startup only", [str(tool / "python"), "-c", "pass"]),
            ("checkov", [*checkov, "--framework", "cloudformation", "-f", str(small)]),
            ("cfn-lint", [*cfn_lint, "--", str(small)]),
        ]),
        ("terraform: 500 small modules", 500, [
            ("winportlint", [*winportlint, str(work / "terraform-modules")]),
            ("winportlint, second run", [*winportlint, str(work / "terraform-modules")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "terraform-modules")]),
        ]),
        ("terraform: one module of 300 files x 20 groups", 300, [
            ("winportlint", [*winportlint, str(work / "terraform-flat")]),
            ("winportlint, second run", [*winportlint, str(work / "terraform-flat")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "terraform-flat")]),
        ]),
        ("terraform: one module of 300 files x 20 dynamic-block groups", 300, [
            ("winportlint", [*winportlint, str(work / "terraform-dynamic")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "terraform-dynamic")]),
        ]),
        (MESH, _tf_files(work / "terraform-mesh"), [
            ("winportlint", [*winportlint, str(work / "terraform-mesh")]),
            ("winportlint, one changed file", [*winportlint, str(work / "terraform-mesh")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "terraform-mesh")]),
        ]),
        (MESH_DOUBLE, _tf_files(work / "double" / "terraform-mesh"), [
            ("winportlint", [*winportlint, str(work / "double" / "terraform-mesh")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "double" / "terraform-mesh")]),
        ]),
        (REGISTRY, _tf_files(work / "terraform-registry"), [
            ("winportlint", [*winportlint, str(work / "terraform-registry")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "terraform-registry")]),
        ]),
        (REGISTRY_DOUBLE, _tf_files(work / "double" / "terraform-registry"), [
            ("winportlint", [*winportlint, str(work / "double" / "terraform-registry")]),
            ("checkov", [*checkov, "--framework", "terraform", "-d", str(work / "double" / "terraform-registry")]),
        ]),
    ]


MESH = "terraform (real-world shape): a root calling 30 modules that read each other's outputs"
MESH_DOUBLE = "terraform (real-world shape): the same with 60 calls"
REGISTRY = "terraform (real-world shape): a module and 8 examples calling it"
REGISTRY_DOUBLE = "terraform (real-world shape): the same with 16 examples"


def _tf_files(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.tf"))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--measure":
        print(json.dumps(measure(json.loads(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/winportlint-bench"))
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "winportlint-bench")
    parser.add_argument("--only", nargs="*", help="run only cases whose name contains one of these words")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not all((args.work / sub).is_dir() for sub in ("cloudformation", "double/terraform-mesh")):
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(args.work)], check=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(args.work / "double"), "--cfn", "0",
                        "--tf-modules", "0", "--tf-flat", "0", "--tf-dynamic", "0", "--tf-mesh", "60",
                        "--tf-registry", "16"], check=True)
        (args.work / "small").mkdir(exist_ok=True)
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(args.work / "small-gen"), "--cfn", "1",
                        "--tf-modules", "0", "--tf-flat", "0", "--tf-dynamic", "0", "--tf-mesh", "0",
                        "--tf-registry", "0", "--groups", "2"], check=True)
        shutil.copy(args.work / "small-gen" / "cloudformation" / "t0000.yaml", args.work / "small" / "t0000.yaml")
    peers = ensure_venv(args.venvs / "peers", PEER_PACKAGES, "checkov")
    project = str(HERE.parent)
    tool = ensure_venv(args.venvs / "winportlint", [f"{project}[cfn-lint]"], "winportlint", reinstall=[project])
    os.environ[CACHE_ENV] = str(args.work / "winportlint-cache")
    versions = ", ".join(f"{name} {_version([str(where / name), '--version'])}"
                         for name, where in (("winportlint", tool), ("checkov", peers), ("cfn-lint", peers)))
    print(f"# winportlint benchmark; median of {args.repeat}\n\n{machine()}\nTools: {versions}\n")
    print("| case | tool | wall s | cpu s | peak MB | files/s | x winportlint | exit |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    walls: dict[tuple[str, str], float] = {}
    for name, file_count, tools in cases(args.work, peers, tool):
        if args.only and not any(word in name for word in args.only):
            continue
        baseline = None
        for label, command in tools:
            changed = label.endswith("one changed file")
            warm = label.endswith("second run") or changed
            if changed:
                measured(command)  # the cache holds every file once
            runs = []
            while not runs or len(runs) < args.repeat and runs[0]["wall"] < LONG_RUN_SECONDS:
                if changed:
                    edit(args.work / CHANGED_FILE)
                runs.append(measured(command, warm))
            middle = sorted(runs, key=lambda m: m["wall"])[len(runs) // 2]
            baseline = baseline or middle["wall"]
            walls[name, label] = middle["wall"]
            print(f"| {name} | {label} | {middle['wall']:.2f} | {middle['cpu']:.2f} | {middle['peak_mb']:.0f} | "
                  f"{file_count / middle['wall']:.0f} | {middle['wall'] / baseline:.1f} | {middle['exit']} |",
                  flush=True)
    print()
    for (name, label), wall in walls.items():
        if label == "winportlint, second run" and walls.get((name, "winportlint")):
            print(f"Second run over unchanged files, {name}: {walls[name, 'winportlint'] / wall:.1f}x faster.")
    full, half = walls.get(("cfn: 300 templates x 20 groups", "winportlint")), \
        walls.get(("cfn: the first 150 of those templates", "winportlint"))
    if full and half:
        print(f"Linear growth: 300 templates take {full / half:.2f}x the time of 150 (2.00 is linear).")
    for single, double, what in ((MESH, MESH_DOUBLE, "60 module calls take"), (REGISTRY, REGISTRY_DOUBLE,
                                                                            "16 examples take")):
        if walls.get((single, "winportlint")) and walls.get((double, "winportlint")):
            print(f"Linear growth: {what} {walls[double, 'winportlint'] / walls[single, 'winportlint']:.2f}x the time "
                  "of half as many (2.00 is linear).")
    both = [name for (name, label) in walls if label == "checkov" and (name, "winportlint") in walls]
    ours, theirs = sum(walls[name, "winportlint"] for name in both), sum(walls[name, "checkov"] for name in both)
    if both:
        print(f"All cases that checkov runs: checkov {theirs:.1f} s, winportlint {ours:.1f} s ({theirs / ours:.1f}x).")


if __name__ == "__main__":
    main()
