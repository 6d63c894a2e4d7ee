"""Terraform: a resource's count or for_each that terraform rejects is an input error at its
line, never a silent pass; numbers with an exponent and no fraction (``1e3``) are read."""

from __future__ import annotations

import pytest

from conftest import lint, write_files

GROUP = """resource "aws_security_group" "rdp" {
  {argument}
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
locals {
  text     = "x"
  fraction = 1.5
  flag     = true
  list     = [1]
  digits   = "2"
}
"""


def check(tmp_path, argument: str):
    write_files(tmp_path / "m", {"main.tf": GROUP.replace("{argument}", argument)})
    result = lint([tmp_path / "m"])
    return ([(e.file, e.line, e.message) for e in result.errors],
            [(f.permission.resource, f.location.line, f.location.column) for f in result.findings])


@pytest.mark.parametrize("argument, got", [
    ('count = "x"', '"x"'), ("count = true", "true"), ("count = 1.5", "1.5"), ("count = -1", "-1"),
    ("count = null", "null"), ("count = [1]", "[1]"), ("count = {}", "{}"),
])
def test_a_constant_count_that_is_not_a_whole_number_is_an_error_at_its_line(tmp_path, argument, got):
    errors, findings = check(tmp_path, argument)
    assert errors == [(str(tmp_path / "m" / "main.tf"), 2, 'resource "aws_security_group" "rdp": '
                       f"count must be a whole number, 0 or more, got {got}")]
    assert findings == []


@pytest.mark.parametrize("argument, got", [
    ("for_each = 1", "1"), ('for_each = "x"', '"x"'), ("for_each = true", "true"), ("for_each = -1", "-1"),
    ("for_each = null", "null"), ('for_each = ["a"]', '["a"]'), ("for_each = 1e3", "1e3"),
    ('for_each = "${local.text}"', '"${local.text}"'), ("for_each = 1 + 1", "1 + 1"),
])
def test_a_constant_for_each_that_is_not_a_map_or_set_is_an_error_at_its_line(tmp_path, argument, got):
    errors, findings = check(tmp_path, argument)
    assert errors == [(str(tmp_path / "m" / "main.tf"), 2, 'resource "aws_security_group" "rdp": '
                       f"for_each must be a map or a set of strings, got {got}")]
    assert findings == []


@pytest.mark.parametrize("argument, got", [
    ("count = local.text", '"x"'), ("count = local.fraction", "1.5"), ("count = local.flag", "true"),
    ("count = local.list", "[1]"),
])
def test_an_evaluated_count_that_is_not_a_whole_number_is_an_error_at_its_line(tmp_path, argument, got):
    errors, findings = check(tmp_path, argument)
    assert errors == [(str(tmp_path / "m" / "main.tf"), 2,
                       f"aws_security_group.rdp: count must be a whole number, 0 or more, got {got}")]
    assert findings == []


@pytest.mark.parametrize("argument, instances", [
    ("count = 2", ["[0]", "[1]"]), ('count = "2"', ["[0]"]), ("count = local.digits", ["[0]"]),
    ("count = 0", []), ("count = 2e0", ["[0]", "[1]"]), ("count = 20E-1", ["[0]", "[1]"]),
    ('for_each = {a = 1}', ['["a"]']), ('for_each = toset(["a", "b"])', ['["a"]', '["b"]']),
    ('for_each = {for k in ["a"] : k => k}', ['["a"]']), ("for_each = {}", []),
])
def test_a_count_or_for_each_terraform_takes_is_read(tmp_path, argument, instances):
    """(tfparse makes one instance of ``count = "2"``, where terraform converts it to 2.)"""
    errors, findings = check(tmp_path, argument)
    assert errors == []
    assert findings == [(f"aws_security_group.rdp{i}", 7, 20) for i in instances]


def test_a_number_with_an_exponent_and_no_fraction_is_read_with_its_positions(tmp_path):
    """tree-sitter's HCL grammar cannot read ``1e3``: positions once came out wrong (line 3, column 1)."""
    write_files(tmp_path / "m", {"main.tf": GROUP.replace("{argument}", "count = 1e1").replace(
        "from_port   = 3389", "from_port   = 3.389e3").replace("to_port     = 3389", "to_port     = 3389E+0")})
    result = lint([tmp_path / "m"])
    assert result.errors == []
    assert [(f.permission.resource, f.permission.ports.low, f.permission.ports.high, f.location.line,
             f.location.column) for f in result.findings] == [
        (f"aws_security_group.rdp[{i}]", 3389, 3389, 7, 20) for i in range(10)]


def test_an_exponent_keeps_a_variable_type_default_readable(tmp_path):
    write_files(tmp_path / "m", {"main.tf": 'variable "n" {\n  type    = number\n  default = 2e0\n}\n'
                                 + GROUP.replace("{argument}", "count = var.n")})
    errors, findings = check_folder(tmp_path / "m")
    assert errors == []
    assert findings == [("aws_security_group.rdp[0]", 11, 20), ("aws_security_group.rdp[1]", 11, 20)]


def check_folder(folder):
    result = lint([folder])
    return ([(e.file, e.line, e.message) for e in result.errors],
            [(f.permission.resource, f.location.line, f.location.column) for f in result.findings])


def test_nesting_too_deep_to_read_is_an_error_and_the_findings_keep_the_evaluators_lines(tmp_path):
    deep = GROUP.replace("{argument}", "description = " + "[" * 300 + "]" * 300)
    write_files(tmp_path, {"deep/main.tf": deep, "plain/main.tf": GROUP.replace("{argument}", "")})
    errors, findings = check_folder(tmp_path)
    assert errors == [(str(tmp_path / "deep" / "main.tf"), 2, "nesting deeper than 200 levels")]
    assert findings == [("aws_security_group.rdp", 3, 1), ("aws_security_group.rdp", 7, 20)]
