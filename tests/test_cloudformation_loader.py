"""The positioned YAML/JSON loader, including hostile input."""

import json
import sys

import pytest

from winportlint.nodes import MAX_DEPTH, LoadError
from winportlint.nodes import load as load_any
from winportlint.plugins.cloudformation.intrinsics import SHORT_TAGS


def load(text, json_syntax):
    return load_any(text, json_syntax, SHORT_TAGS)


def plain(node):
    value = node.value
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def test_yaml_positions_and_short_tags():
    (document,) = load("a:\n  b: !Ref X\n  c: [1, !GetAtt R.GroupId]\n", json_syntax=False)
    b = document.value["a"].value["b"]
    assert (b.value, b.tag, b.line, b.column) == ("X", "!Ref", 2, 6)
    assert document.value["a"].key_pos["c"] == (3, 3)
    assert document.value["a"].value["c"].value[1].tag == "!GetAtt"


def test_json_positions_and_values_match_the_json_module():
    text = '{\n  "a": [1, "x\\u00e9\\ud83d\\ude00", null, true],\n\t"b": {"c": -2.5e3}\n}'
    (document,) = load(text, json_syntax=True)
    assert plain(document) == {"a": ["1", "x\u00e9\U0001F600", None, "true"], "b": {"c": "-2.5e3"}}
    assert json.loads(text)["a"][1] == plain(document)["a"][1]
    c = document.value["b"].value["c"]
    assert (c.line, c.column) == (3, 13)


def test_yaml_merge_keys_and_aliases():
    (document,) = load("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n", json_syntax=False)
    assert plain(document)["thing"] == {"x": "1", "y": "3"}


@pytest.mark.parametrize("text, json_syntax, line, message", [
    ("a: 1\na: 2\n", False, 2, "duplicate key 'a' (first at line 1)"),
    ('{"a": 1,\n "a": 2}', True, 2, "duplicate key 'a' (first at line 1)"),
    ("a: !Foo x\n", False, 1, "unknown tag !Foo"),
    ("a: [1, 2\nb: 3\n", False, 2, "invalid YAML"),
    ('{"a": 1,}', True, 1, "invalid JSON: unexpected '}' at column 9"),
    ('{"a": 1}\n{', True, 2, "invalid JSON: extra data"),
    ("", True, 1, "invalid JSON: unexpected end of file"),
    ("a: *nope\n", False, 1, "unknown alias *nope"),
])
def test_malformed_input_is_one_error_with_a_line(text, json_syntax, line, message):
    with pytest.raises(LoadError) as caught:
        load(text, json_syntax)
    assert caught.value.line == line
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("text, json_syntax", [
    ("[" * 100_000 + "]" * 100_000, True),
    ("[" * 100_000 + "]" * 100_000, False),
    ("- " * 100_000 + "x\n", False),
])
def test_deep_nesting_is_refused_not_a_crash(text, json_syntax):
    # Our own limit, or libyaml's when its scanner reads that far ahead first.
    with pytest.raises(LoadError, match=f"nesting deeper than {MAX_DEPTH} levels|exceeded maximum nesting depth"):
        load(text, json_syntax)


def test_alias_bomb_is_refused():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    with pytest.raises(LoadError, match="alias bomb"):
        load("\n".join(lines) + "\n", json_syntax=False)


def test_colons_in_plain_scalars_of_flow_collections():
    # Found through cfn-lint parity: ruamel.yaml's C parser rejected this everyday form.
    (document,) = load('a: !Join ["", [!Ref AWS::StackName, "-x"]]\nb: [x AWS::Region, b]\n', json_syntax=False)
    assert plain(document) == {"a": ["", ["AWS::StackName", "-x"]], "b": ["x AWS::Region", "b"]}


def test_without_libyaml_the_pure_parser_gives_the_same_nodes_and_error_lines(monkeypatch):
    text = 'a: !Join ["", [!Ref AWS::StackName, "-x"]]\nb:\n  - 1\n  - 06475\n  - "06475"\n  - 56:29\n  - null\n  -\n'
    expected = plain(load(text, json_syntax=False)[0])
    assert expected["b"] == ["1", "3389", "06475", "3389", None, None]
    monkeypatch.setitem(sys.modules, "yaml.cyaml", None)  # as if PyYAML were built without libyaml
    assert plain(load(text, json_syntax=False)[0]) == expected
    with pytest.raises(LoadError) as error:
        load("a: 1\nb: [1, 2\nc: 3\n", json_syntax=False)
    assert error.value.line == 3


def test_libyaml_parses_when_pyyaml_has_it(monkeypatch):
    """The C parser, not the pure-Python fallback (five times slower), reads YAML."""
    yaml_c = pytest.importorskip("yaml.cyaml", reason="PyYAML was built without libyaml")
    used = []

    class Spy(yaml_c.CParser):
        def __init__(self, text):
            used.append(text)
            super().__init__(text)

    monkeypatch.setattr(yaml_c, "CParser", Spy)
    load("a: 1\n", json_syntax=False)
    assert used == ["a: 1\n"]


@pytest.mark.parametrize("spelling", [
    "06475", "06_475", "0x0D3D", "0x0d3d", "0b110100111101", "0b1101_0011_1101", "56:29", "+3389", "3_389", "+0x0D3D",
])
def test_plain_scalars_are_yaml_1_1_integers_as_cloudformation_reads_them(spelling):
    """An unquoted ``06475`` is octal 3389 to CloudFormation (and PyYAML, and cfn-lint): read as 6475,
    an RDP rule went unseen. Hexadecimal, binary and base 60 were not port numbers at all."""
    import yaml

    (document,) = load(f"port: {spelling}\n", json_syntax=False)
    assert document.value["port"].value == "3389"
    assert yaml.safe_load(f"port: {spelling}\n") == {"port": 3389}


@pytest.mark.parametrize("text, value", [
    ("port: '06475'\n", "06475"),  # quoted: a string, whatever it spells
    ('port: "0x0D3D"\n', "0x0D3D"),
    ("port: !!str 06475\n", "06475"),
    ("port: !!int '06475'\n", "3389"),  # an explicit int tag reads the quoted text as an integer
    ("port: 08\n", "08"),  # not octal, not decimal: a string in YAML 1.1
    ("port: 0o6475\n", "0o6475"),  # YAML 1.2's octal: a string in YAML 1.1
    ("port: -0\n", "0"),
    ("port: -56:29\n", "-3389"),
    ("port: 0b_\n", "0b_"),  # no digits: not an integer (PyYAML fails on it)
])
def test_what_is_and_is_not_a_yaml_1_1_integer(text, value):
    (document,) = load(text, json_syntax=False)
    assert document.value["port"].value == value


def test_plain_nulls_are_none_and_quoted_ones_text():
    (document,) = load("a: null\nb:\nc: ~\nd: 'null'\ne: ! null\n", json_syntax=False)
    assert plain(document) == {"a": None, "b": None, "c": None, "d": "null", "e": "null"}


def test_an_int_tag_on_text_that_is_no_integer_is_an_error():
    with pytest.raises(LoadError) as error:
        load("a: 1\nport: !!int rdp\n", json_syntax=False)
    assert (error.value.line, str(error.value)) == (2, "!!int 'rdp' is not an integer")
