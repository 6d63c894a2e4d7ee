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
    assert module_passes.root_calls([str(tmp_path / "main.tf")], lambda source: True) is not None

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

    left_out = {entry["__tfmeta"]["path"] for entry in module_passes.left_out(tfparse.load_from_path(str(tmp_path)))}
    assert {"module.late_counted", "module.late_each"} <= left_out

    evaluation = evaluate(str(tmp_path), {})
    groups = {entry["__tfmeta"]["path"]: entry["ingress"]["cidr_blocks"]
              for entry in evaluation.blocks["aws_security_group"]}
    assert groups == {"module.late_counted.aws_security_group.this": ["0.0.0.0/0"],
                      "module.late_each.aws_security_group.this": ["0.0.0.0/0"]}


def test_a_nested_call_the_evaluator_left_out_is_an_unknown_at_its_block(tmp_path, capsys):
    """Inside a called module, calls are evaluated as the evaluator evaluates them: those it
    leaves out are unknown, never nothing."""
    import tfparse

    chain(tmp_path / "hub", 40)
    write_files(tmp_path, {"main.tf": 'module "hub" {\n  source = "./hub"\n}\n'})
    missing = module_passes.left_out(tfparse.load_from_path(str(tmp_path)))
    assert missing
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info", "--select", "WPL001")
    assert (code, errors) == (1, [])
    assert sorted(line.split(" may be open")[0] for line in findings if "left this module call out" in line) \
        == sorted(f"hub/main.tf:{entry['__tfmeta']['line_start']}:1: WPL001 info {entry['__tfmeta']['path']}"
                  for entry in missing)


def test_calls_in_passes_find_what_one_evaluation_finds_where_it_leaves_nothing_out(tmp_path, capsys, monkeypatch):
    """Three calls that take each other's outputs, each calling two modules that do too: small
    enough for one evaluation, which the passes (forced here) must agree with finding for finding."""
    files = {}
    for outer in range(3):
        for inner in range(2):
            files[f"m{outer}/l{inner}/main.tf"] = GROUP.format(name=f"m{outer}l{inner}")
        files[f"m{outer}/main.tf"] = (
            'variable "cidr" {\n  default = "10.0.0.0/8"\n}\nvariable "peer" {\n  default = ""\n}\n'
            'module "l0" {\n  source = "./l0"\n  cidr   = var.cidr\n  peer   = module.l1.id\n}\n'
            'module "l1" {\n  source = "./l1"\n  cidr   = module.l0.cidr\n  peer   = var.peer\n}\n'
            'output "id" {\n  value = module.l0.id\n}\noutput "cidr" {\n  value = module.l1.cidr\n}\n')
    files["main.tf"] = ('module "m0" {\n  source = "./m0"\n  cidr   = "0.0.0.0/0"\n  peer   = module.m2.id\n}\n'
                        'module "m1" {\n  source = "./m1"\n  cidr   = module.m0.cidr\n}\n'
                        'module "m2" {\n  source = "./m2"\n  peer   = module.m1.id\n}\n')
    write_files(tmp_path, files)
    monkeypatch.setattr(module_passes, "MESH_CALLS", 3)
    assert module_passes.root_calls([str(tmp_path / "main.tf")], lambda source: True) is not None
    passes = check_folder(tmp_path, capsys, "--severity", "info")
    monkeypatch.setattr("winportlint.plugins.terraform.evaluate.root_calls", lambda files, loadable: None)
    whole = check_folder(tmp_path, capsys, "--severity", "info")
    assert passes == whole
    assert passes[0] == 1 and len([line for line in passes[1] if "WPL101" in line]) == 4


@pytest.mark.parametrize("path, expected", [
    ("module.a.aws_security_group.b", ["module.a", "aws_security_group.b"]),
    ("module.a[3].module.b.aws_x.y", ["module.a[3]", "module.b", "aws_x.y"]),
    ('module.a["x.y]"].aws_x.y', ['module.a["x.y]"]', "aws_x.y"]),
    ('module.a["q\\"].z"].output.o', ['module.a["q\\"].z"]', "output.o"]),
    ("module.a", ["module.a"]),
    ("aws_security_group.module", ["aws_security_group.module"]),
])
def test_the_calls_on_the_way_to_a_block(path, expected):
    assert module_passes.instance_parts(path) == expected


def test_a_call_with_no_block_below_it_was_left_out():
    blocks = {"module": [{"__tfmeta": {"path": "module.a"}}, {"__tfmeta": {"path": "module.a.module.b"}},
                         {"__tfmeta": {"path": 'module.c["k.1"]'}}],
              "aws_security_group": [{"__tfmeta": {"path": 'module.c["k.1"].aws_security_group.g'}}]}
    assert [entry["__tfmeta"]["path"] for entry in module_passes.left_out(blocks)] == ["module.a.module.b"]


def test_a_mesh_of_ten_calls_gives_the_same_findings_in_passes_as_whole(tmp_path, capsys, monkeypatch):
    import tfparse

    files = {f"modules/m{index}/main.tf": GROUP.format(name=f"m{index}") for index in range(10)}
    files["main.tf"] = "\n".join(
        f'module "m{index}" {{\n  source = "./modules/m{index}"\n'
        + ('  cidr   = "0.0.0.0/0"\n' if index == 0 else f"  cidr   = module.m{index - 1}.cidr\n")
        + (f"  peer   = module.m{index + 1}.id\n" if index < 9 else "") + "}\n" for index in range(10))
    write_files(tmp_path, files)
    assert module_passes.left_out(tfparse.load_from_path(str(tmp_path))) == []  # whole leaves nothing out
    assert module_passes.root_calls([str(tmp_path / "main.tf")], lambda source: True) is not None
    passes = check_folder(tmp_path, capsys, "--severity", "info")
    monkeypatch.setattr("winportlint.plugins.terraform.evaluate.root_calls", lambda files, loadable: None)
    assert check_folder(tmp_path, capsys, "--severity", "info") == passes
    assert len([line for line in passes[1] if "WPL101" in line]) == 10


@pytest.mark.parametrize("calls, reads, expected", [(7, True, False), (8, True, True), (8, False, False),
                                                    (28, False, False), (29, False, True)])
def test_which_roots_are_evaluated_in_passes(tmp_path, calls, reads, expected):
    text = "\n".join(f'module "m{index}" {{\n  source = "./m"\n'
                     + (f"  cidr   = module.m{index - 1}.cidr\n" if reads and index else "") + "}\n"
                     for index in range(calls))
    write_files(tmp_path, {"main.tf": text})
    found = module_passes.root_calls([str(tmp_path / "main.tf")], lambda source: True)
    assert (found is not None) == expected


@pytest.mark.parametrize("random", ['resource "random_id" "r" {\n  byte_length = 4\n}\n',
                                    'resource "aws_launch_template" "r" {\n}\n'])
def test_calls_that_take_a_random_value_are_all_evaluated(tmp_path, capsys, random):
    """The evaluator makes a random value anew each time it reads it, so the first call's inputs
    change every round and the other calls were left out without a word (11 of 12)."""
    import tfparse

    attribute = "hex" if "random_id" in random else "name"
    kind = "random_id" if "random_id" in random else "aws_launch_template"
    files = {"m/main.tf": GROUP.format(name="m")}
    files["main.tf"] = random + "\n".join(
        f'module "e{index:02d}" {{\n  source = "./m"\n  cidr   = "0.0.0.0/0"\n  peer   = {kind}.r.{attribute}\n}}\n'
        for index in range(12))
    write_files(tmp_path, files)
    assert len(module_passes.left_out_calls(tfparse.load_from_path(str(tmp_path)))) == 11
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info")
    assert (code, errors) == (1, [])
    assert sorted(line.split(" on ")[1].split(":")[0] for line in findings if "WPL101" in line) == [
        f"module.e{index:02d}.aws_security_group.this" for index in range(12)]
    assert not [line for line in findings if "left this module call out" in line]


def test_a_module_whose_every_line_is_a_comment_is_not_a_call_left_out(tmp_path, capsys):
    write_files(tmp_path, {"main.tf": 'module "vpn" {\n  source = "./vpn"\n}\n',
                           "vpn/main.tf": '# resource "aws_security_group" "x" {\n# }\n'})
    assert check_folder(tmp_path, capsys, "--severity", "info") == (0, [], [])


def test_an_unknown_input_stays_unknown_in_passes(tmp_path, capsys, monkeypatch):
    """A call's input known only at apply (a data source's map) reaches its module unknown: as a
    value it would be a map of the reference's texts, iterated by for_each as CIDRs."""
    module = ('variable "rules" {\n  type = map(string)\n}\nvariable "peer" {\n  default = ""\n}\n'
              'resource "aws_security_group" "g" {\n  name = "g"\n  dynamic "ingress" {\n'
              '    for_each = var.rules\n    content {\n      from_port   = 3389\n      to_port     = 3389\n'
              '      protocol    = "tcp"\n      cidr_blocks = [ingress.value]\n    }\n  }\n}\n'
              'output "id" {\n  value = aws_security_group.g.id\n}\n')
    calls = [f'module "m{index}" {{\n  source = "./m"\n  rules  = data.external.rules.result\n'
             + (f"  peer   = module.m{index - 1}.id\n" if index else "") + "}\n" for index in range(8)]
    write_files(tmp_path, {"m/main.tf": module,
                           "main.tf": 'data "external" "rules" {\n  program = ["rules"]\n}\n\n' + "\n".join(calls)})
    assert module_passes.root_calls([str(tmp_path / "main.tf")], lambda source: True) is not None
    passes = check_folder(tmp_path, capsys, "--severity", "info")
    monkeypatch.setattr("winportlint.plugins.terraform.evaluate.root_calls", lambda files, loadable: None)
    assert check_folder(tmp_path, capsys, "--severity", "info") == passes
    code, findings, errors = passes
    assert (code, errors) == (1, [])
    assert [line.split(" may be open")[0] for line in findings] == ["m/main.tf:9:3: WPL001 info aws_security_group.g"]


def test_a_file_the_passes_write_that_the_evaluator_refuses_falls_back_to_one_evaluation(tmp_path, capsys,
                                                                                       monkeypatch):
    chain(tmp_path, 8)
    monkeypatch.setattr("winportlint.plugins.terraform.evaluate.root_calls", lambda files, loadable: None)
    whole = check_folder(tmp_path, capsys, "--severity", "info")
    monkeypatch.undo()
    monkeypatch.setattr(module_passes.Unknowns, "expression", lambda self, value: "{{ not hcl")
    assert module_passes.root_calls([str(tmp_path / "main.tf")], lambda source: True) is not None
    assert check_folder(tmp_path, capsys, "--severity", "info") == whole
    assert whole[0] == 1 and whole[2] == []
