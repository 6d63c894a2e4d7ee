"""The scanner of ``.tf`` files: where blocks, attributes and string literals are written."""

from __future__ import annotations

import pytest

from winportlint.plugins.terraform.hcl_positions import MAX_DEPTH, HclIndex


def outline(source: str) -> list:
    """Every block as (type, labels, line, column, rows, attributes, nested blocks); every
    attribute as (line, column, strings, objects)."""
    def attribute(a):
        return a.line, a.column, a.strings, [{name: attribute(e) for name, e in o.items()} for o in a.objects]

    def block(b):
        return (b.kind, b.labels, b.line, b.column, b.rows, {name: attribute(a) for name, a in b.attributes.items()},
                [block(child) for child in b.children])

    index = HclIndex(source.encode())
    assert index.error is None
    return [block(b) for b in index.top_level]


def test_blocks_labels_rows_and_the_strings_of_attributes():
    assert outline('resource "aws_security_group" "rdp" {\n'
                   '  name = "rdp"\n'
                   '  ingress {\n'
                   '    cidr_blocks = ["0.0.0.0/0", var.x, "10.0.0.0/8"]\n'
                   '  }\n'
                   '}\n') == [
        ("resource", ["aws_security_group", "rdp"], 1, 1, (0, 5),
         {"name": (2, 3, [("rdp", 2, 10)], [])},
         [("ingress", [], 3, 3, (2, 4),
           {"cidr_blocks": (4, 5, [("0.0.0.0/0", 4, 20), ("10.0.0.0/8", 4, 40)], [])}, [])]),
    ]


def test_one_line_blocks_bare_labels_and_empty_bodies():
    assert outline('variable "v" { default = "x" }\nresource aws_instance web {}\n'
                   'resource "a" "b" { ingress { cidr_blocks = ["0.0.0.0/0"] } }\n') == [
        ("variable", ["v"], 1, 1, (0, 0), {"default": (1, 16, [("x", 1, 26)], [])}, []),
        ("resource", ["aws_instance", "web"], 2, 1, (1, 1), {}, []),
        ("resource", ["a", "b"], 3, 1, (2, 2), {},
         [("ingress", [], 3, 20, (2, 2), {"cidr_blocks": (3, 30, [("0.0.0.0/0", 3, 45)], [])}, [])]),
    ]


def test_only_strings_without_interpolation_are_literals_and_blanks_at_their_ends_are_left_out():
    [(_, _, _, _, _, attributes, _)] = outline(
        'b {\n'
        '  a = "pre-${var.env == "prod" ? "p" : "d"}-post"\n'   # the strings inside ${} are literals
        '  b = "%{ if var.x }yes%{ endif }"\n'
        '  c = "$${not} %%{interpolated}"\n'                    # escaped: a literal
        '  d = " 0.0.0.0/0 "\n'
        '  e = ""\n'
        '  f = "a\\"b"\n'                                         # escapes are kept as written
        '}\n')
    assert {name: a[2] for name, a in attributes.items()} == {
        "a": [("prod", 2, 25), ("p", 2, 34), ("d", 2, 40)], "b": [], "c": [("$${not} %%{interpolated}", 4, 7)],
        "d": [("0.0.0.0/0", 5, 7)], "e": [], "f": [('a\\"b', 7, 7)]}


def test_heredocs_and_comments_hide_their_brackets_and_quotes():
    [(_, _, _, _, rows, attributes, children)] = outline(
        '# {\n'
        '/* resource "x" "y" { */\n'
        'resource "a" "b" { # {\n'
        '  user_data = <<EOF\n'
        'echo "${var.x}" { [ "not a literal"\n'
        'EOF\n'
        '  policy = <<-EOT\n'
        '    {"a": "${jsonencode({x = "in"})}"}\n'
        '    EOT\n'
        '  // }\n'
        '  list = [ # ]\n'
        '    "a", /* "hidden" */ "b",\n'
        '  ]\n'
        '  ingress { from_port = 1 }\n'
        '}\n')
    assert rows == (2, 14)
    assert attributes == {"user_data": (4, 3, [], []), "policy": (7, 3, [("in", 8, 30)], []),
                          "list": (11, 3, [("a", 12, 5), ("b", 12, 25)], [])}
    assert [(child[0], child[2], child[4]) for child in children] == [("ingress", 14, (13, 13))]


def test_objects_written_as_list_elements_are_read_element_by_element():
    [(_, _, _, _, _, attributes, _)] = outline(
        'b {\n'
        '  ingress = [\n'
        '    {\n'
        '      "cidr_blocks" = ["10.0.0.0/8"]\n'
        '      from_port: 1,\n'
        '      nested = [{ a = "x" }]\n'
        '    },\n'
        '    { cidr_blocks = ["0.0.0.0/0"], protocol = "tcp" },\n'
        '    ({ in_parentheses = "p" }),\n'
        '    { for k, v in var.m : k => v },\n'
        '  ]\n'
        '  egress = [for r in var.rules : { cidr = r }]\n'
        '}\n')
    line, column, strings, objects = attributes["ingress"]
    assert (line, column, [text for text, _, _ in strings]) == (  # a quoted key is a literal too
        2, 3, ["cidr_blocks", "10.0.0.0/8", "x", "0.0.0.0/0", "tcp", "p"])
    assert objects == [
        {"cidr_blocks": (4, 7, [("10.0.0.0/8", 4, 24)], []), "from_port": (5, 7, [], []),
         "nested": (6, 7, [("x", 6, 23)], [{"a": (6, 19, [("x", 6, 23)], [])}])},
        {"a": (6, 19, [("x", 6, 23)], [])},
        {"cidr_blocks": (8, 7, [("0.0.0.0/0", 8, 22)], []), "protocol": (8, 36, [("tcp", 8, 47)], [])},
    ]
    assert attributes["egress"][3] == []  # a `for` expression's objects are not written rules


def test_columns_count_characters_and_windows_line_ends_change_nothing():
    assert outline('b {\n  d = "ünï ✓" # ✓\n  cidr = "0.0.0.0/0"\n}\n')[0][5] == {
        "d": (2, 3, [("ünï ✓", 2, 7)], []), "cidr": (3, 3, [("0.0.0.0/0", 3, 10)], [])}
    unix = 'resource "a" "b" {\n  ingress {\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n'
    assert outline(unix.replace("\n", "\r\n")) == outline(unix)


def test_the_value_span_leaves_out_trailing_blanks_and_comments():
    index = HclIndex(b'b {\n  type = string # a comment \x00\n  list = [1,\n    2] // c\n  map = { a = 1 } /* c */  # d\n}\n')
    attributes = index.top_level[0].attributes
    assert {name: index.text[slice(*a.span)] for name, a in attributes.items()} == {
        "type": "string", "list": "[1,\n    2]", "map": "{ a = 1 }"}


def test_block_at_finds_the_innermost_block_starting_on_a_line():
    index = HclIndex(b'resource "a" "b" {\n  ingress {\n    x = 1\n  }\n  egress { y = 2 }\n}\nlocals {\n}\n')
    assert [(line, block.kind if block else None) for line in range(1, 9)
            for block in [index.block_at(line)]] == [
        (1, "resource"), (2, "ingress"), (3, None), (4, None), (5, "egress"), (6, None), (7, "locals"), (8, None)]
    assert index.block_at(5, "ingress") is None


@pytest.mark.parametrize("source", [
    'resource "a" "b" {\n  x = "abc\n  y = "d"\n}\n',          # a string without its end
    'resource "a" "b" {\n  x = [1, 2\n  y = "d"\n}\n',         # a list without its end
    '}\n]\nresource "a" "b" {\n  x = ")"\n  y = (1))\n}\n',     # brackets without their opening
    'resource "a" "b" {\n  x = <<EOF\nabc\n',                   # a heredoc without its end
    '!!! @@@\nresource "a" "b" {\n  = 1\n  "q" = 2\n}\n',
    '/* no end', 'x = "${', "b {\n  x = [{ a = \n",
])
def test_broken_input_is_read_as_far_as_it_goes_without_failing(source):
    index = HclIndex(source.encode())
    assert index.error is None
    assert all(block.rows[0] <= block.rows[1] for block in index.top_level)


@pytest.mark.parametrize("source, line", [
    ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", 1),
    ("a {\n" * 100_000 + "}\n" * 100_000, MAX_DEPTH + 1),
    ('x = "' + '${"' * 50_000 + "\n", 1),
])
def test_nesting_too_deep_is_an_error_at_its_line(source, line):
    index = HclIndex(source.encode())
    assert index.error == (line, f"nesting deeper than {MAX_DEPTH} levels")
