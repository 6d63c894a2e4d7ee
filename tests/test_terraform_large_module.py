"""Slicing a module (plugins/terraform/chunking.py) changes no finding, no input error and no
block of the evaluator's output."""

from __future__ import annotations

import json
import os
from pathlib import Path

from conftest import lint, write_files
from winportlint.plugins.terraform import chunking, evaluate


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
    monkeypatch.setattr(evaluate, "needs_slicing", lambda files: False)


def _sliced(monkeypatch) -> None:
    """One group a slice."""
    monkeypatch.setattr(evaluate, "needs_slicing", lambda files: True)
    monkeypatch.setattr(chunking, "SLICE_BLOCKS", 1)


def _rows(result) -> tuple[list, list]:
    return ([(f.rule_id, f.severity, f.permission.resource, f.permission.peer.text, f.location.file,
              f.location.line, f.location.column, f.message) for f in result.findings],
            [(e.file, e.line, e.message) for e in result.errors])


def test_the_locals_blocks_of_every_slice_are_kept(tmp_path, monkeypatch):
    """A module's locals blocks all have the address ``locals``: merging slices by address
    kept the first slice's only, and the others' for_each were unknown (WPL001, 'known only
    at apply') and a count over a later file's list was read as its first element."""
    module = _large_module(tmp_path / "big", files=4, groups=2)
    _sliced(monkeypatch)
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
    _sliced(monkeypatch)
    sliced = evaluate.evaluate(str(module), {})
    assert sorted(sliced.errors) == sorted(whole.errors)  # the run sorts them
    assert sorted((os.path.basename(e.file), e.line, e.message) for e in whole.errors) == [
        ("a.tf", 5, 'aws_instance.text: count must be a whole number, 0 or more, got "two"'),
        ("f02.tf", 72, "aws_instance.half: count must be a whole number, 0 or more, got 1.5")]
    assert _normalized(sliced.blocks) == _normalized(whole.blocks)
    # The variable no block reads is in the output too.
    assert "variable.read_by_nothing" in {entry["__tfmeta"]["path"] for entry in sliced.blocks["variable"]}


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
    for name, forced in (("whole", _whole), ("sliced", _sliced)):
        forced(monkeypatch)
        rows[name] = _rows(lint([module], select=["WPL"]))
    assert rows["sliced"] == rows["whole"]
    assert [(rule, resource, peer, os.path.basename(file), line) for rule, _, resource, peer, file, line, *_ in
            rows["whole"][0]] == [("WPL101", "aws_security_group.g", "0.0.0.0/0", "c.tf", 6)]
