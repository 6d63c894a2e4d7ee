"""Fuzzing in CI, and every crash fuzzing found as a regression.

Each loader (YAML and JSON templates, HCL modules, plan JSON) is fuzzed for a
bounded, deterministic run: the same inputs every time (Hypothesis derandomized,
a fixed number of inputs, about 15 s a target in all), seeded from the project's
fixtures and, when it is beside the checkout, ``../shared/corpus``. Longer runs
are by hand: ``python tests/fuzz/run.py --target yaml --seconds 600``.

Inputs are read in a worker process (``tests/fuzz/harness.py``), so that a hang or
a crash of the evaluator (a Go panic aborts the process) is a failure here, not
the end of the test run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import requires_corpus
from fuzz import harness, mutators, targets

REGRESSIONS = Path(__file__).parent / "fuzz" / "regressions"

#: Inputs per target and seed set: about 5 s from the fixtures and 10 s from the corpus
#: on a 2-core machine (derandomized runs read ~250 YAML, JSON or plan inputs a second, ~150 HCL).
EXAMPLES = {
    ("yaml", "fixtures"): 1200, ("yaml", "corpus"): 2700,
    ("json", "fixtures"): 1500, ("json", "corpus"): 2800,
    ("hcl", "fixtures"): 1100, ("hcl", "corpus"): 1900,
    ("plan", "fixtures"): 1200, ("plan", "corpus"): 2400,
}
#: A slower machine stops early rather than run long (the inputs are the same, fewer of them).
SECONDS_LIMIT = {"fixtures": 15, "corpus": 30}


@pytest.fixture(scope="module")
def worker():
    with harness.Worker() as worker:
        yield worker


def _fuzz(target: str, sources: tuple[str, ...], budget: str, worker, tmp_path) -> harness.Stats:
    seeds = mutators.seeds(target, sources)
    assert seeds, f"no seeds for {target}"
    stats = harness.Stats(target)
    try:
        harness.fuzz(target, seeds, worker, stats, seconds=SECONDS_LIMIT[budget],
                     max_examples=EXAMPLES[target, budget], derandomize=True, stop_on_failure=True)
    except AssertionError:
        failure = next(iter(stats.failures.values()))
        saved = tmp_path / f"{target}-failure.input"
        saved.write_bytes(failure.data)
        pytest.fail(f"{failure.signature}\n  " + "\n  ".join(failure.problems) + f"\n{failure.outcome.detail}\n"
                    f"input ({len(failure.data)} bytes) saved as {saved}; shrink it with "
                    f"`python tests/fuzz/run.py --target {target}` or by hand, then add it to {REGRESSIONS / target}",
                    pytrace=False)
    assert stats.inputs > 0
    # Most inputs must get past the first checks, or the fuzzing finds nothing.
    assert stats.kinds.get("read", 0) + stats.kinds.get("errors", 0) > stats.inputs // 2, stats.kinds
    print(f"{target}: {stats.inputs} inputs in {stats.seconds:.1f} s: {stats.kinds}")
    return stats


@pytest.mark.parametrize("target", mutators.TARGET_NAMES)
def test_fuzz_seeded_from_the_fixtures(target, worker, tmp_path):
    _fuzz(target, ("fixtures",), "fixtures", worker, tmp_path)


@requires_corpus
@pytest.mark.parametrize("target", mutators.TARGET_NAMES)
def test_fuzz_seeded_from_the_corpus(target, worker, tmp_path):
    _fuzz(target, ("fixtures", "corpus"), "corpus", worker, tmp_path)


def test_the_fuzz_inputs_are_the_same_every_run():
    """Derandomized Hypothesis: the CI run is reproducible."""
    from hypothesis import given, settings

    def inputs():
        found = []

        @settings(database=None, derandomize=True, max_examples=30)
        @given(mutators.inputs("yaml", mutators.seeds("yaml", ("fixtures",))))
        def collect(data):
            found.append(data)

        collect()
        return found

    assert inputs() == inputs()


def test_a_hang_and_a_crash_are_failures_and_the_worker_goes_on():
    """The harness itself: an input over the time limit, and a worker that dies."""
    slow = b"Resources:\n" + b"".join(b"  G%d:\n    Type: AWS::EC2::SecurityGroup\n" % i for i in range(100_000))
    with harness.Worker(time_limit=0.05) as worker:
        assert worker.run("yaml", b"a: 1\n").kind == "none"
        hung = worker.run("yaml", slow)
        assert hung.kind == "hang" and targets.problems("yaml", hung)[0].startswith("hang: no outcome after")
        assert worker.run("yaml", b"a: 1\n").kind == "none"
        worker.connection.send(("sleep", b"", 1))  # an unknown target: the worker raises and dies
        worker.connection.poll(5)
        crashed = worker.run("yaml", b"a: 1\n")
        assert crashed.kind == "crash" and targets.problems("yaml", crashed) == ["crash: worker died"]
        assert worker.run("yaml", b"a: 1\n").kind == "none"


# --- Regressions --------------------------------------------------------------------------------

_FIXTURES = sorted(REGRESSIONS.glob("*/*.input"))


@pytest.mark.parametrize("path", _FIXTURES, ids=[f"{p.parent.name}/{p.stem}" for p in _FIXTURES])
def test_a_crash_fuzzing_found_stays_fixed(path, worker):
    """Each input under ``tests/fuzz/regressions/<target>/`` once crashed its loader; now it
    has exactly the outcome recorded beside it (``python tests/fuzz/run.py --record``)."""
    target = path.parent.name
    expected = json.loads(Path(f"{path}.expected.json").read_text(encoding="utf-8"))
    outcome = worker.run(target, path.read_bytes())
    assert targets.problems(target, outcome) == []
    assert outcome.summary() == expected


def test_every_target_has_regressions_or_none_were_found():
    assert {p.parent.name for p in _FIXTURES} <= set(mutators.TARGET_NAMES)
    for path in _FIXTURES:
        assert Path(f"{path}.expected.json").is_file(), f"{path} has no expected outcome"


# Found by fuzzing: a variable type tfparse cannot take made its Go code panic (the process
# aborted). Such a type is an input error now; a valid one must never be (checked against
# tfparse by hand: each of these evaluates, and each invalid one panicked).
VALID_TYPES = [
    "string", "number", "bool", "any", "list", "map", '"string"', '"list(string)"', "list(string)", "set(any)",
    "map(list(string))", "tuple([])", "tuple([string, number, bool])", "object({})", "object({a:string})",
    "list(object({ from_port = number, to_port = number, protocol = string, cidr_blocks = list(string) }))",
    "map(object({ cidr_ipv4 = optional(string), ip_protocol = optional(string, \"tcp\"), "
    "tags = optional(map(string), {}) }))",
    "object({ enabled = optional(bool, true), rules = optional(list(object({ port = number })), []) })",
    "object({\n  # comment\n  a = string // c\n  b = optional(number, 5) /* x */\n})",
    "object({ type = string, default = number, count = bool })",
    "object({ a = optional(object({ x = optional(string) }), {}) })", "object({ a = optional(number, null) })",
    "object({ a = optional(number, \"1e3\") })", "object({ a = optional(number, 1e3) })",
    "object({ a = optional(bool, \"1\") })", "object({ a = optional(string, 1 + 1) })",
    "object({ a = optional(list(string), [for s in [\"a\"] : s]) })", "object({ a = optional(any, {}) })",
    "object({ a = optional(string, <<EOF\nhello\nEOF\n) })", "object({ a = optional(object({}), { x = 1 }) })",
    "string # a comment with a NUL \x00",
]
INVALID_TYPES = [
    ("{}", "not a type: {}"), ("strin", "unknown type strin"), ("list(foo)", "unknown type foo"),
    ('"set"', "unknown type set"), ("(string)", "not a type: (string)"), ("var.x", "not a type: var.x"),
    ("list()", "list() takes one type"), ("optional(string)", "optional() only as an object attribute's type"),
    ('object({"a" = string})', "an object attribute name must be a bare name"),
    ("object({a = string, a = number})", "attribute a given twice"),
    ("object({a = optional(string, var.x)})", "the default var.x is not a constant"),
    ("object({a = optional(string, upper(\"x\"))})", 'the default upper("x") is not a constant'),
    ("object({a = optional(number, \" 5\")})", 'the default " 5" does not fit the type number'),
    ("object({a = optional(object({b = string}), {})})", "the default {} does not fit the type object"),
    ("object({a = optional(tuple([string]), [])})", "the default [] does not fit the type tuple"),
    ("object({a = optional(string, -\"x\")})", '-"x" is not a number'),
    ("list(\x00string)", "a NUL byte in the type"), ("\udcd1)", "not a type: \ufffd)"),
]


@pytest.mark.parametrize("constraint", VALID_TYPES)
def test_a_valid_variable_type_is_no_error(constraint):
    from winportlint.plugins.terraform.guards import panic_errors

    source = f'variable "v" {{\n  type = {constraint}\n}}\n'.encode("utf-8", "surrogateescape")
    assert panic_errors("main.tf", source) == []


@pytest.mark.parametrize("constraint, problem", INVALID_TYPES)
def test_a_variable_type_tfparse_cannot_take_is_an_input_error_at_its_line(constraint, problem):
    from winportlint.model import InputError
    from winportlint.plugins.terraform.guards import panic_errors

    source = f'# a comment\nvariable "v" {{\n  type = {constraint}\n}}\n'.encode("utf-8", "surrogateescape")
    assert panic_errors("main.tf", source) == [
        InputError("main.tf", 3, f'variable "v": invalid type constraint ({problem})')]


def test_a_tf_json_variable_type_is_checked_too():
    from winportlint.plugins.terraform.guards import panic_errors

    source = json.dumps({"variable": {"a": {"type": "list(string)"}, "b": {"type": "set"},
                                      "c": {"type": {}}}}, indent=1).encode()
    assert [(e.line, e.message) for e in panic_errors("main.tf.json", source)] == [
        (7, 'variable "b": invalid type constraint (unknown type set)'),
        (10, 'variable "c": invalid type constraint (a type is written as a string in JSON)'),
    ]


# Found by fuzzing: a dynamic block's for_each that is a string, number or bool made tfparse's
# Go code panic. A constant one is an input error now (one from a variable still reaches it).
@pytest.mark.parametrize("for_each, problem", [
    ('""', "a string"), ("3389", "a number"), ("true", "a bool"), ("1 + 1", "a number or bool"),
    ('"${1}"', "a string"), ("(1)", "a number"),
    ("[3389, 445]", None), ("{ rdp = 3389 }", None), ("null", None), ("var.ports", None), ('"${var.x}"', None),
    ("[for p in [1] : p]", None), ("toset([\"a\"])", None), ("local.ports == null ? [] : local.ports", None),
])
def test_a_constant_for_each_that_is_no_collection_is_an_input_error(for_each, problem):
    from winportlint.model import InputError
    from winportlint.plugins.terraform.guards import panic_errors

    source = (f'resource "aws_security_group" "a" {{\n  dynamic "egress" {{\n    for_each = [1]\n    content {{\n'
              f'      dynamic "ingress" {{\n        for_each = {for_each}\n        content {{}}\n      }}\n    }}\n  }}\n}}\n')
    expected = [InputError("main.tf", 6, f'dynamic "ingress": for_each is {problem}, not a map or a set')]
    assert panic_errors("main.tf", source.encode()) == (expected if problem else [])
