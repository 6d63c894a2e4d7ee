"""A large module is evaluated in slices (plugins/terraform/chunking.py) for its size alone,
and slicing changes no finding, no input error and no block of the evaluator's output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import lint, write_files
from winportlint.plugins.terraform import chunking, evaluate, isolated


def _large_module(folder: Path, files: int = 12, groups: int = 6) -> Path:
    """A module of ``files`` files of ``groups`` security groups each: every file has a locals
    block that a for_each and a dynamic block read, some groups open 3389 to the world through
    a variable, a counted rule of each odd file opens 3389 on a group of the file before it (a
    reference across files); a local module called with for_each and, last, a count known
    only at apply (read from a list local of the last file) make the evaluation work."""
    write_files(folder, {
        "variables.tf": 'variable "world" {\n  default = "0.0.0.0/0"\n}\nvariable "ports" {\n'
                        '  default = [3389, 5985]\n}\nvariable "read_by_nothing" {\n  default = "x"\n}\n'
                        'variable "region" {\n  default = "eu-west-1"\n}\nprovider "aws" {\n  region = var.region\n}\n',
        "calls.tf": 'module "m" {\n  source   = "./modules/m"\n  for_each = toset(["a", "b"])\n'
                    '  cidr     = var.world\n  name     = each.key\n}\n',
        "zz.tf": 'data "aws_vpc" "main" {\n  default = true\n}\n'
                 'resource "aws_security_group_rule" "counted" {\n'
                 '  count             = data.aws_vpc.main.id == "" ? 0 : length(local.rules)\n'
                 '  type              = "ingress"\n  from_port         = 3389\n  to_port           = 3389\n'
                 '  protocol          = "tcp"\n  cidr_blocks       = [local.rules[count.index]]\n'
                 '  security_group_id = "sg-1"\n}\n',
        "modules/m/main.tf": 'variable "cidr" {}\nvariable "name" {}\nresource "aws_security_group" "m" {\n'
                             '  name = var.name\n  ingress {\n    from_port   = 5985\n    to_port     = 5985\n'
                             '    protocol    = "tcp"\n    cidr_blocks = [var.cidr]\n  }\n}\n',
    })
    for index in range(files):
        text = [f'locals {{\n  f{index}_ports = {{ rdp = 3389, smb = 445 }}\n'
                + ('  rules = ["10.0.0.0/8", "0.0.0.0/0"]\n' if index == files - 1 else "") + "}\n"]
        for group in range(groups):
            cidr = "var.world" if (index + group) % 4 == 0 else '"10.0.0.0/8"'
            text.append(f'resource "aws_security_group" "f{index}_g{group}" {{\n  name = "f{index}-g{group}"\n'
                        f'  ingress {{\n    from_port   = 3389\n    to_port     = 3389\n    protocol    = "tcp"\n'
                        f'    cidr_blocks = [{cidr}]\n  }}\n}}\n')
        text.append(f'resource "aws_security_group" "f{index}_each" {{\n  for_each = local.f{index}_ports\n'
                    f'  name     = "f{index}-${{each.key}}"\n  ingress {{\n    from_port   = each.value\n'
                    f'    to_port     = each.value\n    protocol    = "tcp"\n    cidr_blocks = [var.world]\n  }}\n}}\n')
        text.append(f'resource "aws_security_group" "f{index}_dynamic" {{\n  dynamic "ingress" {{\n'
                    f'    for_each = local.f{index}_ports\n    content {{\n      from_port   = ingress.value\n'
                    f'      to_port     = ingress.value\n      protocol    = "tcp"\n'
                    f'      cidr_blocks = ["10.0.0.0/8"]\n'
                    f'    }}\n  }}\n}}\n')
        text.append(f'resource "aws_security_group_rule" "f{index}_counted" {{\n'
                    f'  count             = length(var.ports)\n'
                    f'  type              = "ingress"\n  from_port         = var.ports[count.index]\n'
                    f'  to_port           = var.ports[count.index]\n  protocol          = "tcp"\n'
                    f'  cidr_blocks       = ["0.0.0.0/0"]\n'
                    f'  security_group_id = aws_security_group.f{index - index % 2}_g1.id\n}}\n')
        (folder / f"f{index:02d}.tf").write_text("\n".join(text))
    return folder


def _whole(monkeypatch) -> None:
    monkeypatch.setattr(chunking, "SIZE_LIMIT", 10**12)
    monkeypatch.setattr(chunking, "WORK_LIMIT", 10**12)


def _sliced(monkeypatch, slice_bytes: int = 2000) -> None:
    monkeypatch.setattr(chunking, "SIZE_LIMIT", 0)
    monkeypatch.setattr(chunking, "WORK_LIMIT", 10**12)
    monkeypatch.setattr(chunking, "SLICE_BYTES", slice_bytes)


def _evaluated_folders(monkeypatch) -> list[str]:
    """The folders the evaluator is called on from now on."""
    folders = []
    load = isolated.load_from_path
    monkeypatch.setattr(isolated, "load_from_path", lambda folder, *args: folders.append(folder) or load(folder, *args))
    return folders


def _rows(result) -> tuple[list, list]:
    return ([(f.rule_id, f.severity, f.permission.resource, f.permission.peer.text, f.location.file,
              f.location.line, f.location.column, f.message) for f in result.findings],
            [(e.file, e.line, e.message) for e in result.errors])


def test_a_large_module_sliced_for_its_size_gives_every_finding_one_evaluation_gives(tmp_path, monkeypatch):
    module = _large_module(tmp_path / "big")
    (module / "broken.tf").write_text('resource "aws_security_group" "broken" {\n  name = \n}\n')  # left out
    _whole(monkeypatch)
    folders = _evaluated_folders(monkeypatch)
    whole = _rows(lint([module], select=["WPL"]))
    assert len(folders) == 1
    _sliced(monkeypatch)
    folders.clear()
    sliced = _rows(lint([module], select=["WPL"]))
    assert len(folders) > 10  # in slices indeed
    assert sliced == whole
    findings, errors = whole
    assert [(os.path.basename(file), line, message) for file, line, message in errors] == [
        ("broken.tf", 2, "invalid HCL: no value after '='; the module is read without this file")]
    rows = {(rule, resource, peer, os.path.basename(file), line)
            for rule, _, resource, peer, file, line, *_ in findings}
    assert len(findings) == 69 and {
        ("WPL101", "aws_security_group.f0_g0", "0.0.0.0/0", "f00.tf", 11),  # through var.world
        ("WPL101", "aws_security_group_rule.f1_counted[0]", "0.0.0.0/0", "f01.tf", 94),  # on a group of f00.tf
        ("WPL103", "aws_security_group_rule.f1_counted[1]", "0.0.0.0/0", "f01.tf", 94),
        ("WPL101", "aws_security_group_rule.counted[1]", "0.0.0.0/0", "zz.tf", 10),  # element 1 of local.rules
        ("WPL101", 'aws_security_group.f3_each["rdp"]', "0.0.0.0/0", "f03.tf", 72),  # for_each over a local
        ("WPL103", 'module.m["b"].aws_security_group.m', "0.0.0.0/0", "main.tf", 9)} <= rows
    assert not [row for row in findings if row[0] == "WPL001"]  # every local is known


def test_the_locals_blocks_of_every_slice_are_kept(tmp_path, monkeypatch):
    """A module's locals blocks all have the address ``locals``: merging slices by address
    kept the first slice's only, and the others' for_each were unknown (WPL001, 'known only
    at apply') and a count over a later file's list was read as its first element."""
    module = _large_module(tmp_path / "big", files=4, groups=2)
    _sliced(monkeypatch, slice_bytes=1)  # one group a slice
    findings = lint([module], select=["WPL"]).findings
    assert not [f for f in findings if f.rule_id == "WPL001"]
    assert {f.permission.resource for f in findings
            if f.permission.resource.startswith("aws_security_group_rule.counted[")} == {
        "aws_security_group_rule.counted[1]"}
    evaluation = evaluate.evaluate(str(module), {})
    assert evaluation.errors == []
    assert sorted(entry["__tfmeta"]["filename"] for entry in evaluation.blocks["locals"]) == [
        "f00.tf", "f01.tf", "f02.tf", "f03.tf"]


def _normalized(blocks: dict) -> dict:
    """The evaluator's output with its random ids left out where they are given and replaced
    by the addresses they stand for where a value is one (``aws_security_group.x.id``); without
    outputs (a slice holds no output block: nothing reads them)."""
    paths = {entry["id"]: entry["__tfmeta"]["path"] for entries in blocks.values() for entry in entries
             if isinstance(entry, dict) and "id" in entry}

    def same(value):
        if isinstance(value, dict):
            return {key: same(item) for key, item in value.items() if key not in ("id", "references")}
        if isinstance(value, list):
            return [same(item) for item in value]
        return f"<{paths[value]}>" if isinstance(value, str) and value in paths else value

    return {kind: sorted((json.dumps(same(entry), sort_keys=True) for entry in entries))
            for kind, entries in blocks.items() if kind != "output"}


def test_slices_give_the_evaluators_output_block_for_block(tmp_path, monkeypatch):
    module = _large_module(tmp_path / "big", files=4, groups=3)
    write_files(module, {  # and the same errors: counts the evaluator gives as no whole number
        "outputs.tf": 'output "first" {\n  value = aws_security_group.f0_g0.id\n}\n',
        "f02.tf": (module / "f02.tf").read_text() + '\nvariable "half" {\n  default = 1.5\n}\n'
                                                     'resource "aws_instance" "half" {\n  count = var.half\n}\n',
        "a.tf": 'variable "two" {\n  default = "two"\n}\nresource "aws_instance" "text" {\n  count = var.two\n}\n'})
    _whole(monkeypatch)
    whole = evaluate.evaluate(str(module), {})
    _sliced(monkeypatch, slice_bytes=1)
    sliced = evaluate.evaluate(str(module), {})
    assert sorted(sliced.errors) == sorted(whole.errors)  # the run sorts them
    assert sorted((os.path.basename(e.file), e.line, e.message) for e in whole.errors) == [
        ("a.tf", 5, 'aws_instance.text: count must be a whole number, 0 or more, got "two"'),
        ("f02.tf", 72, "aws_instance.half: count must be a whole number, 0 or more, got 1.5")]
    assert _normalized(sliced.blocks) == _normalized(whole.blocks)
    # The variable no block reads is in the output too (the first slice holds it).
    assert "variable.read_by_nothing" in {entry["__tfmeta"]["path"] for entry in sliced.blocks["variable"]}


def test_a_slice_holds_the_variables_it_reads_not_every_variable(tmp_path, monkeypatch):
    files = {f"f{index}.tf": f'variable "v{index}" {{\n  default = "0.0.0.0/0"\n}}\n'
                             f'resource "aws_security_group" "g{index}" {{\n  ingress {{\n    from_port   = 3389\n'
                             f'    to_port     = 3389\n    protocol    = "tcp"\n    cidr_blocks = [var.v{index}]\n'
                             f'  }}\n}}\n' for index in range(3)}
    module = write_files(tmp_path / "m", files)
    _sliced(monkeypatch, slice_bytes=1)
    held = []
    load = isolated.load_from_path

    def record(folder, *args):
        held.append(sorted(line for name in os.listdir(folder) for line in Path(folder, name).read_text().splitlines()
                           if line.startswith(("variable", "resource"))))
        return load(folder, *args)

    monkeypatch.setattr(isolated, "load_from_path", record)
    result = lint([module], select=["WPL101"])
    # The slices may be evaluated in any order (on the helpers at once): what each holds is the point.
    assert sorted(held) == [[f'resource "aws_security_group" "g{index}" {{', f'variable "v{index}" {{']
                            for index in range(3)]
    assert [(f.permission.resource, f.location.file.rsplit("/", 1)[1], f.location.line) for f in result.findings] == [
        (f"aws_security_group.g{index}", f"f{index}.tf", 9) for index in range(3)]


def test_the_slicing_decision_takes_the_size_path(tmp_path, monkeypatch):
    """No dynamic block, and still sliced: for its bytes alone."""
    group = ('resource "aws_security_group" "g{}" {{\n  ingress {{\n    from_port   = 3389\n    to_port     = 3389\n'
             '    protocol    = "tcp"\n    cidr_blocks = ["0.0.0.0/0"]\n  }}\n}}\n')
    module = write_files(tmp_path / "plain", {f"f{index}.tf": group.format(index) for index in range(3)})
    files = evaluate.module_files(str(module))
    size = sum(os.path.getsize(path) for path in files)
    monkeypatch.setattr(chunking, "WORK_LIMIT", 0)  # dynamic blocks: none, whatever the limit
    monkeypatch.setattr(chunking, "SIZE_LIMIT", size)
    assert not chunking.needs_slicing(files)
    monkeypatch.setattr(chunking, "SIZE_LIMIT", size - 1)
    assert chunking.needs_slicing(files)


def test_a_module_over_the_size_limit_is_evaluated_in_slices_of_bounded_size(tmp_path, monkeypatch):
    module = _large_module(tmp_path / "big", files=60, groups=70)  # as written, with the limits as they are
    files = evaluate.module_files(str(module))
    assert sum(os.path.getsize(path) for path in files) > chunking.SIZE_LIMIT
    assert chunking.needs_slicing(files)
    sizes = []
    load = isolated.load_from_path

    def record(folder, *args):
        sizes.append(sum(len(line) + 1 for name in os.listdir(folder) if name.endswith(".tf")
                         for line in Path(folder, name).read_text().splitlines() if line))
        return load(folder, *args)

    monkeypatch.setattr(isolated, "load_from_path", record)
    sliced = evaluate.evaluate(str(module), {})
    assert sliced.errors == []
    assert len(sizes) > 1 and max(sizes) < chunking.SLICE_BYTES + 2000  # a slice's blocks, its variables and locals
    groups = {entry["__tfmeta"]["path"]: entry for entry in sliced.blocks["aws_security_group"]}
    assert len(groups) == 60 * 73 + 2  # 70 groups, 2 of a for_each and one with a dynamic block a file; the module's 2
    assert groups["aws_security_group.f59_g1"]["ingress"]["cidr_blocks"] == ["0.0.0.0/0"]


@pytest.mark.parametrize("case", ["json", "outside"])
def test_a_large_module_that_cannot_be_sliced_is_evaluated_whole(tmp_path, monkeypatch, case):
    """A ``.tf.json`` file, or a module source outside the folder (``../``, which would not
    resolve from a scratch folder), keeps the module whole, large or not."""
    module = _large_module(tmp_path / "big", files=3, groups=2)
    if case == "json":
        (module / "extra.tf.json").write_text(json.dumps({"resource": {"aws_security_group": {"j": {
            "ingress": [{"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}}}}))
    else:
        write_files(tmp_path, {"shared/main.tf": 'resource "aws_security_group" "j" {\n  ingress {\n'
                                                '    from_port   = 3389\n    to_port     = 3389\n'
                                                '    protocol    = "tcp"\n'
                                                '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'})
        (module / "outside.tf").write_text('module "shared" {\n  source = "../shared"\n}\n')
    _sliced(monkeypatch)
    folders = _evaluated_folders(monkeypatch)
    result = lint([tmp_path], select=["WPL101"])
    assert result.errors == []
    assert [os.path.realpath(folder) for folder in folders] == [os.path.realpath(module)]
    assert any(f.permission.resource.endswith("aws_security_group.j") for f in result.findings)


def test_a_local_read_through_another_local_goes_with_the_resource_it_reads(tmp_path, monkeypatch):
    """``local.b`` reads only ``local.a``, which reads a resource: a slice that took the first
    locals block without the second read the CIDR as unknown (WPL001) instead of 0.0.0.0/0."""
    module = write_files(tmp_path / "m", {
        "a.tf": 'resource "aws_security_group" "source" {\n  name = "0.0.0.0/0"\n}\n'
                'locals {\n  a = aws_security_group.source.name\n}\n',
        "b.tf": 'locals {\n  b = local.a\n}\n',
        "c.tf": 'resource "aws_security_group" "g" {\n  ingress {\n    from_port   = 3389\n    to_port     = 3389\n'
                '    protocol    = "tcp"\n    cidr_blocks = [local.b]\n  }\n}\n',
    })
    rows = {}
    for name, forced in (("whole", _whole), ("sliced", lambda patch: _sliced(patch, slice_bytes=1))):
        forced(monkeypatch)
        rows[name] = _rows(lint([module], select=["WPL"]))
    assert rows["sliced"] == rows["whole"]
    assert [(rule, resource, peer, os.path.basename(file), line) for rule, _, resource, peer, file, line, *_ in
            rows["whole"][0]] == [("WPL101", "aws_security_group.g", "0.0.0.0/0", "c.tf", 6)]


def test_a_module_of_variables_and_locals_only_is_one_slice(tmp_path, monkeypatch):
    module = write_files(tmp_path / "m", {
        "main.tf": 'variable "a" {\n  default = "x"\n}\nlocals {\n  b = "${var.a}y"\n}\n'
                   'output "c" {\n  value = local.b\n}\n'})
    _whole(monkeypatch)
    whole = evaluate.evaluate(str(module), {})
    _sliced(monkeypatch, slice_bytes=1)
    folders = _evaluated_folders(monkeypatch)
    sliced = evaluate.evaluate(str(module), {})
    assert len(folders) == 1 and "winportlint-slices-" in folders[0]
    assert whole.errors == sliced.errors == []
    assert _normalized(sliced.blocks) == _normalized(whole.blocks)
    assert sliced.blocks["locals"][0]["b"] == "xy"
