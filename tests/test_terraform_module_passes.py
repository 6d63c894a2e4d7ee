"""A root with many module calls (issue #17): the evaluator evaluates at most about 30 calls of one
module, fewer when their inputs come from calls written after them, and leaves the rest out
without a word. Those calls are evaluated in further passes (``module_passes``) with the outputs
of the others; a call still left out is an unknown (WPL001), never nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_folder, write_files
from winportlint.plugins.terraform import module_passes
from winportlint.plugins.terraform.evaluate import evaluate

GROUP = '''variable "cidr" {{
  default = "10.0.0.0/8"
}}
variable "peer" {{
  default = ""
}}
resource "aws_security_group" "this" {{
  name = "{name}"
  ingress {{
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }}
}}
resource "aws_security_group_rule" "from_peer" {{
  count                    = var.peer == "" ? 0 : 1
  type                     = "ingress"
  security_group_id        = aws_security_group.this.id
  source_security_group_id = var.peer
  protocol                 = "tcp"
  from_port                = 445
  to_port                  = 445
}}
output "id" {{
  value = aws_security_group.this.id
}}
output "cidr" {{
  value = var.cidr
}}
'''


def chain(folder: Path, calls: int) -> Path:
    """A root of ``calls`` calls of local modules; the first opens RDP to the world and each
    passes the CIDR on to the next; each also lets the previous one's group in."""
    files = {}
    blocks = []
    for index in range(calls):
        files[f"modules/m{index:02d}/main.tf"] = GROUP.format(name=f"m{index:02d}")
        inputs = [f'  source = "./modules/m{index:02d}"']
        inputs.append('  cidr   = "0.0.0.0/0"' if index == 0 else f"  cidr   = module.m{index - 1:02d}.cidr")
        if index:
            inputs.append(f"  peer   = module.m{index - 1:02d}.id")
        blocks.append(f'module "m{index:02d}" {{\n' + "\n".join(inputs) + "\n}\n")
    files["main.tf"] = "\n".join(blocks)
    return write_files(folder, files)


def test_every_call_of_a_root_of_40_calls_is_evaluated(tmp_path, capsys):
    import tfparse

    chain(tmp_path, 40)
    alone = tfparse.load_from_path(str(tmp_path))
    assert len(alone["aws_security_group"]) < 40  # what the evaluator gives on its own

    code, findings, errors = check_folder(tmp_path, capsys, "--select", "WPL101")
    assert (code, errors) == (1, [])
    assert sorted(line.split(": WPL101")[0] for line in findings) == [
        f"modules/m{index:02d}/main.tf:13:5" for index in range(40)]
    assert {line.split(" on ")[1].split(":")[0] for line in findings} == {
        f"module.m{index:02d}.aws_security_group.this" for index in range(40)}


def test_a_call_of_a_later_pass_gets_the_outputs_of_earlier_calls_and_the_root_s_ids(tmp_path):
    chain(tmp_path, 40)
    with open(tmp_path / "main.tf", "a") as handle:
        handle.write('\nresource "aws_security_group" "root" {\n  name = "root"\n}\n\n'
                     'module "zz" {\n  source = "./modules/m00"\n  cidr   = module.m38.cidr\n'
                     '  peer   = aws_security_group.root.id\n}\n')
    evaluation = evaluate(str(tmp_path), {})
    groups = {entry["__tfmeta"]["path"]: entry for entry in evaluation.blocks["aws_security_group"]}
    rules = {entry["__tfmeta"]["path"]: entry for entry in evaluation.blocks["aws_security_group_rule"]}
    assert len(groups) == 42 and evaluation.left_out == []
    assert {path for path, group in groups.items() if group.get("ingress", {}).get("cidr_blocks")
            == ["0.0.0.0/0"]} == {path for path in groups if path != "aws_security_group.root"}
    assert rules["module.zz.aws_security_group_rule.from_peer[0]"]["source_security_group_id"] \
        == groups["aws_security_group.root"]["id"]


def test_counted_and_for_each_calls_stand_in_with_each_instance_s_outputs(tmp_path):
    files = {"out/main.tf": 'variable "v" {}\noutput "cidr" {\n  value = var.v\n}\n',
             "group/main.tf": GROUP.format(name="late")}
    blocks = [('module "a_counted" {\n  source = "./out"\n  count  = 2\n'
               '  v      = ["10.0.0.0/8", "0.0.0.0/0"][count.index]\n}\n'),
              ('module "b_each" {\n  source   = "./out"\n  for_each = {"x.y" = "0.0.0.0/0", "z" = "10.0.0.0/8"}\n'
               "  v        = each.value\n}\n")]
    blocks += [f'module "c{index:02d}" {{\n  source = "./out"\n  v      = "10.{index}.0.0/16"\n}}\n'
               for index in range(35)]
    blocks += ['module "late_counted" {\n  source = "./group"\n  cidr   = module.a_counted[1].cidr\n}\n',
               'module "late_each" {\n  source = "./group"\n  cidr   = module.b_each["x.y"].cidr\n}\n']
    files["main.tf"] = "\n".join(blocks)
    write_files(tmp_path, files)
    import tfparse

    assert {"late_counted", "late_each"} <= module_passes.left_out(tfparse.load_from_path(str(tmp_path)))[0]

    evaluation = evaluate(str(tmp_path), {})
    groups = {entry["__tfmeta"]["path"]: entry["ingress"]["cidr_blocks"]
              for entry in evaluation.blocks["aws_security_group"]}
    assert groups == {"module.late_counted.aws_security_group.this": ["0.0.0.0/0"],
                      "module.late_each.aws_security_group.this": ["0.0.0.0/0"]}


def test_a_call_still_left_out_is_an_unknown_at_its_block(tmp_path, capsys, monkeypatch):
    import tfparse

    chain(tmp_path, 40)
    missing = module_passes.left_out(tfparse.load_from_path(str(tmp_path)))[0]
    assert missing
    monkeypatch.setattr(module_passes, "MAX_PASSES", 0)
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info", "--select", "WPL001")
    assert (code, errors) == (1, [])
    assert sorted(line.split(" may be open")[0] for line in findings if "left this module call out" in line) \
        == sorted(f"main.tf:{6 * int(label[1:])}:1: WPL001 info module.{label}" for label in missing)


def test_a_pass_that_evaluates_nothing_ends_the_passes(tmp_path):
    chain(tmp_path, 3)
    files = [str(tmp_path / "main.tf")]
    first = {"module": [{"__tfmeta": {"path": "module.m01"}, "source": "./modules/m01"}]}
    loads = []

    def load(folder):
        loads.append(folder)
        return {}

    blocks, left = module_passes.complete(str(tmp_path), files, first, load, lambda source: True)
    assert (blocks, len(loads)) == (first, 1)
    assert left == [(files[0], 6, "m01")]


@pytest.mark.parametrize("path, expected", [
    ("module.a.aws_security_group.b", ("a", "module.a")),
    ("module.a[3].module.b.aws_x.y", ("a", "module.a[3]")),
    ('module.a["x.y]"].aws_x.y', ("a", 'module.a["x.y]"]')),
    ('module.a["q\\"].z"].output.o', ("a", 'module.a["q\\"].z"]')),
    ("aws_security_group.module", None),
])
def test_the_call_of_an_address(path, expected):
    assert module_passes.instance_of(path) == expected
