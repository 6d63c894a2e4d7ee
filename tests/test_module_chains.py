"""Chains of local modules: walked without recursion, each module folder read once, no
deeper than MAX_MODULE_DEPTH (an input error at the call that goes deeper), and named in
messages by their first and last calls, whatever their length."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from conftest import RDP_GROUP_TF, check_folder, rdp_group_finding, write_files
from winportlint.plugins.terraform import evaluate
from winportlint.plugins.terraform.evaluate import MAX_MODULE_DEPTH

SG = RDP_GROUP_TF
GOOD_FINDING = rdp_group_finding("good/main.tf")


def call(number: int, source: str | None = None) -> str:
    return f'module "m{number}" {{\n  source = "{source or f"../m{number}"}"\n}}\n'


def chain(folder: Path, depth: int) -> Path:
    """``root`` calls ``mods/m1``, which calls ``mods/m2``, ... ``mods/m<depth>`` holds a security group."""
    files = {"good/main.tf": SG, "root/main.tf": call(1, "../mods/m1")}
    for number in range(1, depth + 1):
        files[f"mods/m{number}/main.tf"] = call(number + 1) if number < depth else SG
    return write_files(folder, files)


def too_deep(at: int = MAX_MODULE_DEPTH) -> str:
    return (f'mods/m{at}/main.tf:1: error: module "m{at + 1}": module calls nested deeper than {MAX_MODULE_DEPTH} '
            f"(root -> mods/m1 -> ({MAX_MODULE_DEPTH - 2} more) -> mods/m{at} -> mods/m{at + 1})")


def test_a_chain_of_1000_modules_is_an_error_at_the_call_past_the_limit(tmp_path, capsys):
    code, findings, errors = check_folder(chain(tmp_path, 1000), capsys)
    assert (code, findings, errors) == (2, [GOOD_FINDING], [too_deep()])


def test_a_chain_one_past_the_limit_is_an_error(tmp_path, capsys):
    code, findings, errors = check_folder(chain(tmp_path, MAX_MODULE_DEPTH + 1), capsys)
    assert (code, findings, errors) == (2, [GOOD_FINDING], [too_deep()])


def test_a_chain_at_the_limit_is_evaluated_and_its_message_names_the_first_and_last_calls(tmp_path, capsys):
    code, findings, errors = check_folder(chain(tmp_path, MAX_MODULE_DEPTH), capsys)
    address = ".".join(f"module.m{n}" for n in range(1, MAX_MODULE_DEPTH + 1)) + ".aws_security_group.rdp"
    assert (code, errors) == (1, [])
    assert findings == [
        GOOD_FINDING,
        f"mods/m{MAX_MODULE_DEPTH}/main.tf:6:20: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) "
        f"on {address}: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs) "
        f"[via module.m1 (root/main.tf:1); via module.m{MAX_MODULE_DEPTH} (mods/m{MAX_MODULE_DEPTH - 1}/main.tf:1), "
        f"{MAX_MODULE_DEPTH} calls deep]"]


def test_a_short_chain_names_every_call(tmp_path, capsys):
    code, findings, errors = check_folder(chain(tmp_path, 3), capsys)
    assert (code, errors) == (1, [])
    assert findings[1].endswith("[via module.m1 (root/main.tf:1); via module.m1.module.m2 (mods/m1/main.tf:1); "
                                "via module.m1.module.m2.module.m3 (mods/m2/main.tf:1)]")


def test_the_longest_chain_counts_whichever_call_is_read_first(tmp_path, capsys):
    """The root calls the middle of the chain first: that path is short, the one through m1 too deep."""
    chain(tmp_path, MAX_MODULE_DEPTH + 1)
    (tmp_path / "root/main.tf").write_text(call(50, "../mods/m50").replace('"m50"', '"middle"')
                                           + call(1, "../mods/m1"))
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, findings, errors) == (2, [GOOD_FINDING], [too_deep()])


def test_a_long_cycle_is_an_error_at_each_of_its_calls_with_a_bounded_message(tmp_path, capsys):
    size = 40
    files = {"good/main.tf": SG, "root/main.tf": call(1, "../mods/m1")}
    for number in range(1, size + 1):
        files[f"mods/m{number}/main.tf"] = call(number % size + 1)
    code, findings, errors = check_folder(write_files(tmp_path, files), capsys)

    def cycle_from(number: int) -> str:
        return (f"mods/m{number} -> mods/m{number % size + 1} -> ({size - 3} more) -> "
                f"mods/m{(number - 2) % size + 1} -> mods/m{number}")

    assert (code, findings) == (2, [GOOD_FINDING])
    assert errors == sorted(f'mods/m{(number - 2) % size + 1}/main.tf:1: error: module "m{number}": '
                            f"module cycle ({cycle_from(number)})" for number in range(1, size + 1))


def test_each_module_file_is_read_once_whatever_the_depth(tmp_path, capsys, monkeypatch):
    """The walk reads a chain's files once each: twice the depth, twice the reads (it re-read
    the rest of the chain from every module, and worked out every caller's real path at each step)."""
    reads: Counter[str] = Counter()
    real = evaluate.read_bytes

    def counting(path: str) -> bytes:
        if path.endswith(".tf"):  # not each root's .terraform/modules/modules.json, looked for once
            reads[Path(path).as_posix()] += 1
        return real(path)

    monkeypatch.setattr(evaluate, "read_bytes", counting)
    for depth in (50, 100):
        reads.clear()
        code, findings, errors = check_folder(chain(tmp_path / str(depth), depth), capsys)
        assert (code, errors, len(findings)) == (1, [], 2)
        assert reads == Counter(["good/main.tf", "root/main.tf",
                                 *(f"mods/m{n}/main.tf" for n in range(1, depth + 1))])


def test_a_plan_of_a_chain_of_1000_modules_is_an_error_of_that_file(tmp_path, capsys):
    """The plan's configuration nests three objects a call: too deep for the JSON decoder, which recurses."""
    depth = 1000
    calls = "".join(f'{{"module_calls": {{"m{n}": {{"source": "../m{n}", "module": ' for n in range(1, depth + 1))
    address = ".".join(f"module.m{n}" for n in range(1, depth + 1)) + ".aws_security_group.rdp"
    change = {"address": address, "mode": "managed", "type": "aws_security_group",
              "change": {"actions": ["create"], "after": {"ingress": [
                  {"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}}}
    configuration = f'{{"root_module": {calls}{{}}{"}}}" * depth}}}'
    write_files(tmp_path, {"good/main.tf": SG, "plan.json": '{"format_version": "1.2", "configuration": '
                           f'{configuration}, "resource_changes": [{json.dumps(change)}]}}'})
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, findings, errors) == (2, [GOOD_FINDING],
                                        ["plan.json:1: error: invalid plan JSON: nested too deeply to read"])
