"""Terraform: every module's evaluation has a time and a memory budget (issue #6).

tfparse's Go code cannot be stopped and takes what memory it wants: ``count = 100000``
is quadratic in it, locals that double a string 30 times want 16 GB. Over either
budget, the module is one input error at its first file's line 1; the other modules
and files are still checked and the run exits 2. The budgets are lowered here so that
each case takes seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import check_folder, write_files
from winportlint import engine
from winportlint.plugins.terraform import isolated

RDP_GROUP = """resource "aws_security_group" "rdp" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""
RDP_TEMPLATE = ('Resources:\n  Rdp:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: d\n'
                '      SecurityGroupIngress:\n        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}\n')
GOOD_FINDINGS = ["c-good/main.tf:6:20: WPL101", "good.yaml:7:67: WPL101"]
#: The evaluator's time grows with the square of count: 100,000 takes hours.
COUNT_BOMB = RDP_GROUP.replace("  ingress {", "  count = 100000\n  ingress {", 1)


def doubling_locals(levels: int) -> str:
    """Locals that double a 16-byte string ``levels`` times (2**levels * 16 bytes)."""
    lines = ["locals {", '  l0 = "xxxxxxxxxxxxxxxx"']
    lines += [f'  l{i} = "${{local.l{i - 1}}}${{local.l{i - 1}}}"' for i in range(1, levels + 1)]
    return "\n".join([*lines, "}", 'resource "aws_security_group" "a" {', f"  description = local.l{levels}", "}", ""])


@pytest.fixture(autouse=True)
def fresh_helpers():
    """Helpers start with the memory budget of their start: none kept from other tests."""
    isolated.close_helpers()
    yield
    isolated.close_helpers()


def run(folder: Path, capsys, *extra: str) -> tuple[int, list[str], list[str]]:
    """Exit code, finding lines (up to the check id) and error lines of a run over the folder."""
    (folder / "good.yaml").write_text(RDP_TEMPLATE)
    write_files(folder / "c-good", {"main.tf": RDP_GROUP})
    code, findings, errors = check_folder(folder, capsys, *extra)
    return code, [line.split(" critical")[0] for line in findings], errors


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_module_over_the_time_budget_is_an_error_and_the_run_goes_on(tmp_path, capsys, monkeypatch, jobs):
    monkeypatch.setattr(isolated, "TIME_LIMIT", 3)
    write_files(tmp_path / "a-bomb", {"main.tf": COUNT_BOMB, "z.tf": "variable \"x\" {}\n"})
    write_files(tmp_path / "b-bomb", {"main.tf": COUNT_BOMB.replace("100000", "50000 + 50000")})
    started = time.monotonic()
    code, findings, errors = run(tmp_path, capsys, "--jobs", jobs)
    assert time.monotonic() - started < 30
    assert errors == [
        "a-bomb/main.tf:1: error: evaluating this module (a-bomb) took longer than 3 s (time budget); it was not checked",
        "b-bomb/main.tf:1: error: evaluating this module (b-bomb) took longer than 3 s (time budget); it was not checked",
    ]
    assert findings == GOOD_FINDINGS
    assert code == 2


def test_a_module_over_the_memory_budget_is_an_error_and_the_run_goes_on(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(isolated, "MEMORY_LIMIT", 512 << 20)
    write_files(tmp_path / "a-bomb", {"main.tf": doubling_locals(30)})  # 16 GB of string
    code, findings, errors = run(tmp_path, capsys)
    assert errors == [("a-bomb/main.tf:1: error: evaluating this module (a-bomb) needed more than 512 MB of memory "
                       "(memory budget); it was not checked")]
    assert findings == GOOD_FINDINGS
    assert code == 2


def test_a_module_within_the_budgets_is_read(tmp_path, capsys, monkeypatch):
    """The same shapes, small: read as usual (the budgets hold the helper, not the module's kind)."""
    monkeypatch.setattr(isolated, "TIME_LIMIT", 20)
    monkeypatch.setattr(isolated, "MEMORY_LIMIT", 512 << 20)
    write_files(tmp_path / "a-small", {"main.tf": COUNT_BOMB.replace("100000", "3") + doubling_locals(10)})
    code, findings, errors = run(tmp_path, capsys)
    assert errors == []
    assert findings == ["a-small/main.tf:7:20: WPL101"] * 3 + GOOD_FINDINGS
    assert code == 1


def test_the_time_budget_is_the_engines_limit_for_one_file(monkeypatch):
    assert isolated.TIME_LIMIT is None
    assert isolated.time_limit() == engine.FILE_TIME_LIMIT == 60
    monkeypatch.setattr(engine, "FILE_TIME_LIMIT", 7)
    assert isolated.time_limit() == 7
    monkeypatch.setattr(isolated, "TIME_LIMIT", 2.5)
    assert isolated.time_limit() == 2.5


def test_a_killed_helper_is_replaced_and_the_next_evaluation_is_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(isolated, "TIME_LIMIT", 2)
    write_files(tmp_path / "bomb", {"main.tf": COUNT_BOMB})
    write_files(tmp_path / "good", {"main.tf": RDP_GROUP})
    with pytest.raises(isolated.OverBudget, match=r"^took longer than 2 s \(time budget\)$"):
        isolated.load_from_path(str(tmp_path / "bomb"), [])
    assert isolated._idle == []  # killed, not kept
    blocks = isolated.load_from_path(str(tmp_path / "good"), [])
    assert [group["__tfmeta"]["path"] for group in blocks["aws_security_group"]] == ["aws_security_group.rdp"]
    assert len(isolated._idle) == 1


def test_evaluations_sent_ahead_have_each_their_budget_and_the_next_ones_are_sent_again(tmp_path, monkeypatch):
    """Many small modules' evaluations are sent ahead to one helper (``isolated.Ahead``): the one over
    the budget is the error, those sent after it are answered by a new helper."""
    monkeypatch.setattr(isolated, "TIME_LIMIT", 2)
    write_files(tmp_path / "bomb", {"main.tf": COUNT_BOMB})
    write_files(tmp_path / "bad", {"main.tf": "resource {\n"})
    for name in ("a", "b", "c"):
        write_files(tmp_path / name, {"main.tf": RDP_GROUP.replace('"rdp"', f'"{name}"')})
    ahead = isolated.Ahead()
    answers = [ahead.submit(str(tmp_path / name), []) for name in ("a", "bomb", "bad", "b", "c")]
    paths = [group["__tfmeta"]["path"] for group in answers[0].result()["aws_security_group"]]
    assert paths == ["aws_security_group.a"]
    started = time.monotonic()
    with pytest.raises(isolated.OverBudget, match=r"^took longer than 2 s \(time budget\)$"):
        answers[1].result()
    assert time.monotonic() - started < 10
    with pytest.raises(isolated.EvaluatorError):
        answers[2].result()
    for name, answer in zip("bc", answers[3:]):
        assert [group["__tfmeta"]["path"] for group in answer.result()["aws_security_group"]] == \
               [f"aws_security_group.{name}"]
    ahead.close()
    assert len(isolated._idle) == 1  # the new helper, kept


def test_a_helper_that_dies_fails_the_evaluation_it_was_on_only(tmp_path):
    for name in ("a", "b", "c"):
        write_files(tmp_path / name, {"main.tf": RDP_GROUP.replace('"rdp"', f'"{name}"')})
    ahead = isolated.Ahead()
    first = ahead.submit(str(tmp_path / "a"), [])
    assert first.result()["aws_security_group"]
    ahead._helper.process.kill()
    ahead._helper.process.wait()
    second, third = ahead.submit(str(tmp_path / "b"), []), ahead.submit(str(tmp_path / "c"), [])
    with pytest.raises(isolated.Crashed, match=r"^the evaluator \(tfparse\) crashed on this module: exit status -9$"):
        second.result()
    assert [group["__tfmeta"]["path"] for group in third.result()["aws_security_group"]] == ["aws_security_group.c"]
    unanswered = ahead.submit(str(tmp_path / "a"), [])
    ahead.close()  # with an evaluation under way: its helper is stopped, not kept
    assert unanswered.cancelled() and isolated._idle == []


_FORKED_BUDGETS = """
import os, sys
from winportlint.cli import main
from winportlint.plugins import terraform
from winportlint.plugins.terraform import isolated
terraform.FORK_MIN_ROOTS, terraform.ROOTS_PER_PART, isolated.TIME_LIMIT = 4, 2, 3
os.chdir(sys.argv[1])
sys.exit(main(["check", "--no-cache", "--jobs", "2", "."]))
"""


def test_modules_over_the_budget_among_many_read_in_forked_workers(tmp_path):
    import subprocess
    import sys

    names = [f"m{index}" for index in range(8)]
    for name in names:
        write_files(tmp_path / name, {"main.tf": RDP_GROUP.replace('"rdp"', f'"{name}"')})
    for name in ("m1", "m6"):  # one in each part
        write_files(tmp_path / name, {"main.tf": COUNT_BOMB})
    done = subprocess.run([sys.executable, "-c", _FORKED_BUDGETS, str(tmp_path)], capture_output=True, timeout=60)
    lines = done.stdout.decode().splitlines()
    assert done.returncode == 2
    assert [line for line in lines if ": error: " in line] == [
        f"{name}/main.tf:1: error: evaluating this module ({name}) took longer than 3 s (time budget); it was not checked"
        for name in ("m1", "m6")]
    assert [line.split(":")[0] for line in lines if ": WPL" in line] == \
           [f"{name}/main.tf" for name in names if name not in ("m1", "m6")]


#: A helper that writes ``sys.argv[4]`` MB of memory, then dies as ``sys.argv[5]`` says: the ways
#: the Go runtime dies under its memory limit (which allocation fails first depends on the load).
_DYING_HELPER = """
import os, signal, sys
data = bytearray(int(sys.argv[4]) << 20)
for at in range(0, len(data), 4096):
    data[at] = 1
how = sys.argv[5]
if how == "thread":
    sys.stderr.write("runtime/cgo: pthread_create failed: Resource temporarily unavailable\\n")
    sys.stderr.flush()
    os.abort()
if how == "panic":
    sys.stderr.write("panic: runtime error: invalid memory address or nil pointer dereference\\n")
    sys.exit(2)
if how == "python":
    raise MemoryError
os.kill(os.getpid(), signal.SIGKILL)
"""


def _dying_helper(monkeypatch, megabytes: int, how: str) -> int:
    """Helpers run ``_DYING_HELPER``; their budget in MB, set above twice this process's peak memory
    (which the system counts in a helper's own)."""
    budget = max(96, (isolated._peak_so_far() >> 20) * 2 + 32)
    monkeypatch.setattr(isolated, "MEMORY_LIMIT", budget << 20)
    monkeypatch.setattr(isolated, "SERVE", _DYING_HELPER)
    real = isolated.subprocess.Popen

    def popen(args, **kwargs):
        return real([*args, str(megabytes or budget * 3 // 4), how], **kwargs)

    monkeypatch.setattr(isolated.subprocess, "Popen", popen)
    return budget


@pytest.mark.parametrize("how", ["thread", "kill", "python"])
def test_a_helper_that_dies_at_its_memory_budget_is_over_the_budget_however_it_dies(tmp_path, monkeypatch, how):
    """Under load the evaluator at its budget sometimes aborts with only ``pthread_create failed``
    (exit status -6, no word of memory): it was reported as a crash of the evaluator. The helper
    here uses three quarters of its budget, then dies."""
    budget = _dying_helper(monkeypatch, 0, how)
    with pytest.raises(isolated.OverBudget, match=rf"^needed more than {budget} MB of memory \(memory budget\)$"):
        isolated.load_from_path(str(tmp_path), [])


def test_a_helper_killed_far_below_its_memory_budget_crashed(tmp_path, monkeypatch):
    _dying_helper(monkeypatch, 1, "kill")
    with pytest.raises(isolated.Crashed, match=r"^the evaluator \(tfparse\) crashed on this module: exit status -9$"):
        isolated.load_from_path(str(tmp_path), [])


def test_a_panic_is_a_crash_whatever_memory_the_helper_used(tmp_path, monkeypatch):
    _dying_helper(monkeypatch, 0, "panic")
    with pytest.raises(isolated.Crashed, match=r"^the evaluator \(tfparse\) crashed on this module: panic: runtime "
                                               r"error: invalid memory address or nil pointer dereference$"):
        isolated.load_from_path(str(tmp_path), [])
