"""Fuzz a loader for a while, by hand:

    python tests/fuzz/run.py --target yaml --seconds 600
    python tests/fuzz/run.py --target all --seconds 180 --out /tmp/fuzz-found

Seeds are the project's fixtures and, when it is beside the checkout,
``../shared/corpus``. Prints how many inputs ran, what their outcomes were and
every distinct failure; each failing input is shrunk and written to ``--out``
(``<target>/<n>.bin``, with a ``.txt`` saying what failed). A failure worth
keeping becomes a regression fixture in ``tests/fuzz/regressions/<target>/``.
Exit status 1 when something failed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz import harness, mutators  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=[*mutators.TARGET_NAMES, "all"], required=True)
    parser.add_argument("--seconds", type=float, default=600, help="for each target (default 600)")
    parser.add_argument("--seed", type=int, help="Hypothesis seed of the first batch (default: random)")
    parser.add_argument("--time-limit", type=float, default=harness.TIME_LIMIT, help="seconds per input")
    parser.add_argument("--seeds", choices=["fixtures", "corpus", "both"], default="both")
    parser.add_argument("--out", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "winportlint-fuzz"),
                        help="where shrunk failing inputs are written")
    parser.add_argument("--minimize-seconds", type=float, default=120, help="per failure (0: do not shrink)")
    parser.add_argument("--record", metavar="INPUT", nargs="+",
                        help="no fuzzing: write each input's outcome beside it as INPUT.expected.json "
                             "(a regression fixture's expectation; check it by eye)")
    args = parser.parse_args(argv)
    if args.record:
        return record(args.target, args.record, args.time_limit)

    sources = ("fixtures", "corpus") if args.seeds == "both" else (args.seeds,)
    if "corpus" in sources and not mutators.CORPUS.is_dir():
        print(f"note: {mutators.CORPUS} is absent; seeds are the project's fixtures only")
    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    failed = False
    for target in mutators.TARGET_NAMES if args.target == "all" else (args.target,):
        failed |= fuzz_target(target, sources, seed, args)
    return 1 if failed else 0


def record(target: str, paths: list[str], time_limit: float) -> int:
    import json

    if target == "all":
        raise SystemExit("--record needs one --target")
    with harness.Worker(time_limit) as worker:
        for path in paths:
            with open(path, "rb") as handle:
                outcome = worker.run(target, handle.read())
            problems = harness.targets.problems(target, outcome)
            with open(path + ".expected.json", "w", encoding="utf-8") as handle:
                json.dump(outcome.summary(), handle, indent=1, ensure_ascii=False)
                handle.write("\n")
            print(f"{path}: {outcome.summary()}" + (f"\n  STILL FAILING: {problems}" if problems else ""))
    return 0


def fuzz_target(target: str, sources, seed: int, args) -> bool:
    seeds = mutators.seeds(target, sources)
    print(f"[{target}] {len(seeds)} seeds, {args.seconds:.0f} s, first Hypothesis seed {seed}", flush=True)
    stats = harness.Stats(target)
    started = time.monotonic()
    deadline = started + args.seconds
    batch = seed
    last_report = time.monotonic()
    with harness.Worker(args.time_limit) as worker:
        while time.monotonic() < deadline:
            harness.fuzz(target, seeds, worker, stats, seconds=deadline - time.monotonic(), max_examples=200,
                         seed=batch)
            batch = (batch * 6364136223846793005 + 1442695040888963407) % 2 ** 64
            if time.monotonic() - last_report > 30:
                last_report = time.monotonic()
                print(f"[{target}]   {stats.inputs} inputs, {stats.inputs / max(stats.seconds, 1e-9):.0f}/s, "
                      f"{len(stats.failures)} distinct failures", flush=True)
        wall = time.monotonic() - started
        print(f"[{target}] {stats.inputs} inputs in {wall:.0f} s ({stats.inputs / max(wall, 1e-9):.0f}/s); "
              f"outcomes: {dict(sorted(stats.kinds.items()))}; worker restarts: {worker.starts - 1}", flush=True)
        for number, failure in enumerate(stats.failures.values(), 1):
            data = failure.data
            if args.minimize_seconds > 0:
                data = harness.minimize(target, data, failure.signature, worker, args.minimize_seconds)
            folder = os.path.join(args.out, target)
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, f"{number}.bin")
            with open(path, "wb") as handle:
                handle.write(data)
            outcome = worker.run(target, data)
            with open(path[:-4] + ".txt", "w", encoding="utf-8") as handle:
                handle.write(f"{failure.signature}\n{failure.count} inputs\n" + "\n".join(failure.problems) +
                             f"\n\n{outcome.detail}\n")
            print(f"[{target}] FAILURE {failure.signature} ({failure.count} inputs)\n    "
                  + "\n    ".join(failure.problems[:3]) + f"\n    shrunk input ({len(data)} bytes): {path}\n"
                  f"    {data[:300]!r}", flush=True)
    if not stats.failures:
        print(f"[{target}] no failures", flush=True)
    return bool(stats.failures)


if __name__ == "__main__":
    sys.exit(main())
