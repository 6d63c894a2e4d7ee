"""Hypothesis strategies that make fuzz inputs: raw bytes, and seed files mutated
byte by byte (flips, truncation, splicing, metacharacters) or tree by tree (JSON,
plan JSON and YAML templates: values of the wrong type, intrinsic functions in
odd places, renamed and deleted keys), then byte by byte again.

Seeds are read where they are (the project's fixtures, ``../shared/corpus``),
never copied into the project.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from pathlib import Path

from hypothesis import strategies as st

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
CORPUS = REPO.parent / "shared" / "corpus"
OWN_SEEDS = Path(__file__).resolve().parent / "seeds"

TARGET_NAMES = ("yaml", "json", "hcl", "plan")

# --- seeds ------------------------------------------------------------------------------------


def _fixture_files(target: str) -> list[Path]:
    roots = [REPO / "examples", TESTS / "cases"]
    found: list[Path] = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            name = path.name.lower()
            if not path.is_file() or name.endswith(".expected.json"):
                continue
            if target == "yaml" and name.endswith((".yaml", ".yml")):
                found.append(path)
            elif target == "json" and name.endswith(".json") and not name.endswith(".tf.json"):
                found.append(path)
            elif target == "hcl" and name.endswith(".tf"):
                found.append(path)
    if target == "plan":
        found = sorted((OWN_SEEDS / "plan").glob("*.json"))
    return found


def _corpus_files(target: str) -> list[Path]:
    labels = CORPUS / "labels.jsonl"
    if not labels.is_file():
        return []
    found = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        path = CORPUS / entry["file"]
        kind, name = entry.get("format"), path.name.lower()
        if kind == "cloudformation":
            is_json = path.read_bytes().lstrip()[:1] in (b"{", b"[")
            if target == "yaml" and not is_json or target == "json" and is_json:
                found.append(path)
        elif kind == "terraform" and target == "hcl" and name.endswith(".tf"):
            found.append(path)
        elif kind == "terraform-plan" and target == "plan":
            found.append(path)
    return found


def seeds(target: str, sources: Sequence[str] = ("fixtures", "corpus")) -> list[bytes]:
    """The seed inputs of a target, smallest first (Hypothesis shrinks towards the first)."""
    paths: list[Path] = []
    if "fixtures" in sources:
        paths += _fixture_files(target)
    if "corpus" in sources:
        paths += _corpus_files(target)
    datas = {path.read_bytes() for path in paths}
    return sorted(datas, key=lambda data: (len(data), data))


# --- byte-level mutations ---------------------------------------------------------------------

_GENERIC_TOKENS = [
    b"\x00", b"\xff", b"\xfe\xff", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3", b"\xe2\x80\xa8", b"\xc2\x85", b"\x80",
    b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\r", b"\r\n", b"\n", b"\t", b" ", b"\\", b"\\u0000", b"\\ud800",
    b"\\x", b"\x1b[31m", b"\x0b", b"\x0c", b"%", b"\"", b"'", b"`", b"${", b"}", b"{", b"[", b"]", b"#",
    b"0", b"-1", b"65535", b"65536", b"4294967296", b"99999999999999999999", b"1e309", b"-0", b"0x1f", b"NaN",
    b"0.0.0.0/0", b"::/0", b"0000::/0", b"10.0.0.1/0", b"128.0.0.0/1", b"/0", b"/129", b"::ffff:0.0.0.0/0",
]

TOKENS = {
    "yaml": _GENERIC_TOKENS + [
        b": ", b"- ", b"? ", b"&a ", b"*a", b"&a", b"*b", b"<<: *a\n", b"<<: ", b"!Ref ", b"!GetAtt ", b"!Sub ",
        b"!If ", b"!Join ", b"!Select ", b"!Split ", b"!FindInMap ", b"!ImportValue ", b"!Condition ", b"!Not ",
        b"!Equals ", b"!And ", b"!Or ", b"!Base64 ", b"!Cidr ", b"!GetAZs ", b"!Transform ", b"!!binary ",
        b"!!str ", b"!!int ", b"!!map ", b"!!seq ", b"!!python/object:os.system ", b"!Unknown ", b"!<tag:x> ",
        b"!", b"|", b"|-\n", b">", b">+\n", b"---\n", b"...\n", b"%YAML 1.1\n", b"%TAG ! tag:x,2000:\n",
        b"{}", b"[]", b"{", b"[", b",", b"~", b"null", b"Null", b"true", b"yes", b"no", b"on", b"0o17",
        b"1_000", b".inf", b".nan", b"2001-01-01", b"'0.0.0.0/0'", b"\"::/0\"", b"AWS::NoValue", b"AWS::Region",
        b"AWS::EC2::SecurityGroup", b"AWS::EC2::SecurityGroupIngress", b"AWS::EC2::SecurityGroupEgress",
        b"Ref: ", b"Fn::If: ", b"Fn::Sub: ", b"Fn::Join: ", b"Fn::Select: ", b"Fn::FindInMap: ", b"Fn::GetAtt: ",
        b"Fn::Split: ", b"Condition: ", b"Type: ", b"Properties:\n", b"SecurityGroupIngress:\n",
        b"SecurityGroupEgress:\n", b"CidrIp: ", b"CidrIpv6: ", b"IpProtocol: ", b"FromPort: ", b"ToPort: ",
        b"GroupId: ", b"Metadata:\n", b"winportlint:\n", b"ignore: ", b"  # winportlint: ignore[WPL101] why\n",
        b"# winportlint: ignore[WPL9999]\n", b"Parameters:\n", b"Default: ", b"AllowedValues: ", b"Conditions:\n",
        b"Mappings:\n", b"Resources:\n", b"Transform: AWS::Serverless-2016-10-31\n",
        b"        - IpProtocol: tcp\n          FromPort: 3389\n          ToPort: 3389\n          CidrIp: 0.0.0.0/0\n",
        b"  X:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n      IpProtocol: -1\n"
        b"      CidrIpv6: ::/0\n",
        b"[&a [*a, *a, *a], &b [*a, *a, *a], &c [*b, *b, *b]]", b"[[[[[[[[[[[[[[[[[[[[", b"{a: {a: {a: {a: ",
    ],
    "json": _GENERIC_TOKENS + [
        b",", b":", b"{}", b"[]", b"{", b"[", b",]", b",}", b"null", b"true", b"false", b"1.5", b"1E400", b"-",
        b"\"\"", b"\"\\ud83d\\ude00\"", b"\"\\uDFFF\"", b"\"\\u0041\"", b"\"a\":1,", b"\"a\":", b"/* */", b"// x\n",
        b"\"Ref\": ", b"{\"Ref\": \"AWS::NoValue\"}", b"{\"Fn::If\": [\"C\", \"0.0.0.0/0\", {\"Ref\": \"AWS::NoValue\"}]}",
        b"{\"Fn::Sub\": \"${AWS::Region}\"}", b"{\"Fn::Select\": [9, []]}", b"{\"Fn::Split\": [\",\", 1]}",
        b"{\"Fn::Join\": [\",\", [1, {}]]}", b"{\"Fn::FindInMap\": [\"M\", {\"Ref\": \"P\"}, \"k\"]}",
        b"{\"Fn::GetAtt\": [\"X\", \"Y\"]}", b"\"Type\": \"AWS::EC2::SecurityGroupIngress\", ",
        b"\"CidrIp\": \"0.0.0.0/0\", ", b"\"IpProtocol\": -1, ", b"\"FromPort\": \"x\", ", b"\"ToPort\": 3389, ",
        b"\"Properties\": {}, ", b"\"Metadata\": {\"winportlint\": {\"ignore\": [{\"id\": \"WPL101\"}]}}, ",
        b"\"Parameters\": {\"P\": {\"Default\": \"0.0.0.0/0\", \"AllowedValues\": [1, []]}}, ",
        b"[[[[[[[[[[[[[[[[[[[[", b"{\"a\":{\"a\":{\"a\":",
    ],
    "plan": _GENERIC_TOKENS + [
        b",", b":", b"{}", b"[]", b"null", b"true", b"false", b"1.5", b"\"\"", b"\"after_unknown\": true, ",
        b"\"after\": [], ", b"\"after\": {\"ingress\": {}}, ", b"\"resource_changes\": {}, ", b"\"planned_values\": [], ",
        b"\"child_modules\": [{}], ", b"\"child_modules\": {}, ", b"\"resources\": [null], ", b"\"mode\": \"data\", ",
        b"\"type\": \"aws_security_group\", ", b"\"type\": \"aws_security_group_rule\", ",
        b"\"type\": \"aws_vpc_security_group_ingress_rule\", ", b"\"type\": \"aws_default_security_group\", ",
        b"\"address\": \"module.m.aws_security_group.x\", ", b"\"address\": null, ", b"\"address\": \"[\", ",
        b"\"cidr_blocks\": [\"0.0.0.0/0\", 1, null, []], ", b"\"from_port\": -1, ", b"\"to_port\": 65536, ",
        b"\"protocol\": null, ", b"\"protocol\": 6, ", b"\"cidr_ipv4\": \"0.0.0.0/0\", ", b"\"ip_protocol\": \"-1\", ",
        b"\"configuration\": {\"root_module\": {\"module_calls\": {\"m\": {\"source\": \"./m\"}}}}, ",
        b"\"source\": \"../../..\", ", b"\"format_version\": \"1.2\", ", b"\"values\": null, ",
    ],
    "hcl": _GENERIC_TOKENS + [
        b"=", b" = ", b"{", b"}", b"{\n", b"}\n", b"(", b")", b"[", b"]", b",", b".", b"..", b"...", b":", b"?",
        b"=>", b"\"", b"\"\"", b"${", b"%{", b"%{ if true }", b"%{ endif }", b"%{ for x in [1] }${x}%{ endfor }",
        b"$${", b"<<EOF\n", b"<<-EOF\n", b"EOF\n", b"#", b"//", b"/*", b"*/", b"\\n", b"\\u0041", b"\\U0001F600",
        b"null", b"true", b"false", b"-1", b"0", b"1/0", b"0/0", b"-1/0", b"1e308*10", b"1e400", b"0x10",
        b"var.", b"local.", b"module.", b"data.", b"each.value", b"each.key", b"count.index", b"self",
        b"var.missing", b"aws_security_group.a.id", b"resource ", b"ingress ", b"egress ", b"dynamic ",
        b"content ", b"for_each = ", b"count = ", b"count = 3\n", b"for_each = toset([\"a\", \"b\"])\n",
        b"for_each = {}\n", b"for_each = null\n", b"count = null\n", b"count = -1\n",
        b"cidr_blocks = [\"0.0.0.0/0\"]\n", b"ipv6_cidr_blocks = [\"::/0\"]\n", b"cidr_blocks = \"0.0.0.0/0\"\n",
        b"cidr_blocks = null\n", b"cidr_blocks = [null]\n", b"cidr_blocks = [1]\n", b"cidr_blocks = [[]]\n",
        b"cidr_blocks = {}\n", b"from_port = 3389\n", b"to_port = 3389\n", b"from_port = \"x\"\n",
        b"to_port = null\n", b"protocol = \"-1\"\n", b"protocol = -1\n", b"protocol = {}\n", b"protocol = [\"tcp\"]\n",
        b"type = \"ingress\"\n", b"type = \"egress\"\n", b"type = 1\n", b"ip_protocol = \"tcp\"\n",
        b"cidr_ipv4 = \"0.0.0.0/0\"\n", b"cidr_ipv6 = \"::/0\"\n", b"self = true\n",
        b"security_group_id = aws_security_group.a.id\n", b"ingress = []\n", b"ingress = [{}]\n",
        b"ingress = [{ from_port = 3389, to_port = 3389, protocol = \"tcp\", cidr_blocks = [\"0.0.0.0/0\"] }]\n",
        b"ingress = \"x\"\n", b"ingress = null\n", b"source = \"./modules/m\"\n", b"source = \"../\"\n",
        b"source = \"./missing\"\n", b"source = \"terraform-aws-modules/security-group/aws\"\n",
        b"source = \"terraform-aws-modules/security-group/aws//modules/rdp\"\n", b"version = \"6.0.0\"\n",
        b"ingress_cidr_blocks = [\"0.0.0.0/0\"]\n", b"ingress_rules = [\"rdp-tcp\", \"nope\"]\n",
        b"ingress_rules = { a = { cidr_ipv4 = \"0.0.0.0/0\", from_port = 3389 } }\n",
        b"ingress_with_cidr_blocks = [{ rule = \"winrm-http-tcp\", cidr_blocks = \"0.0.0.0/0,,\" }]\n",
        b"ingress_with_cidr_blocks = [{ from_port = 1, cidr_blocks = [\"0.0.0.0/0\"] }, null, 1]\n",
        b"number_of_computed_ingress_rules = 99\n", b"computed_ingress_rules = [\"all-all\"]\n",
        b"create = false\n", b"ingress_cidr_ipv4 = { a = \"0.0.0.0/0\" }\n",
        b"resource \"aws_security_group\" \"a\" {\n  ingress {\n    from_port = 3389\n    to_port = 3389\n"
        b"    protocol = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n",
        b"resource \"aws_security_group_rule\" \"r\" {\n  type = \"ingress\"\n  from_port = 445\n  to_port = 445\n"
        b"  protocol = \"tcp\"\n  cidr_blocks = [var.c]\n  security_group_id = aws_security_group.a.id\n}\n",
        b"resource \"aws_vpc_security_group_ingress_rule\" \"v\" {\n  ip_protocol = \"-1\"\n  cidr_ipv6 = \"::/0\"\n}\n",
        b"resource \"aws_default_security_group\" \"d\" {\n  ingress {\n    protocol = -1\n    self = true\n  }\n}\n",
        b"dynamic \"ingress\" {\n  for_each = [3389, 445]\n  content {\n    from_port = ingress.value\n"
        b"    to_port = ingress.value\n    protocol = \"tcp\"\n    cidr_blocks = [\"0.0.0.0/0\"]\n  }\n}\n",
        b"variable \"c\" {\n  default = \"0.0.0.0/0\"\n}\n", b"variable \"c\" {}\n", b"locals {\n  c = \"::/0\"\n}\n",
        b"module \"m\" {\n  source = \"./modules/m\"\n  c = \"0.0.0.0/0\"\n}\n",
        b"module \"loop\" {\n  source = \"./\"\n}\n", b"data \"aws_vpc\" \"v\" {}\n",
        b"  # winportlint: ignore[WPL101] reason\n", b"# winportlint: ignore[]\n",
        b"resource \"aws_security_group\" \"\\u005f\" {}\n", b"terraform {\n  required_version = \">= 1\"\n}\n",
    ],
}

#: Numbers and scalars that a value may be replaced with.
_INTERESTING_SCALARS = [
    b"0", b"-1", b"1", b"3389", b"445", b"5985", b"65535", b"65536", b"-65536", b"99999999999999999999999",
    b"1.5", b"1e309", b"\"\"", b"\"0.0.0.0/0\"", b"\"::/0\"", b"\"-1\"", b"null", b"true", b"[]", b"{}",
]

_NUMBER = re.compile(rb"-?\b\d+(?:\.\d+)?\b")
_QUOTED = re.compile(rb'"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')
_HCL_VALUE = re.compile(rb"(=[ \t]*)([^\n]*)")


def _position(draw, data: bytes) -> int:
    return draw(st.integers(0, len(data)))


def _pick(draw, items: Sequence):
    """One of the items (a fresh ``sampled_from`` for every draw costs more than the input's reading)."""
    return items[draw(st.integers(0, len(items) - 1))]


def _line_starts(data: bytes) -> list[int]:
    return [0] + [m.end() for m in re.finditer(rb"\n", data)]


def _span(draw, data: bytes) -> tuple[int, int]:
    start = _position(draw, data)
    length = draw(st.one_of(st.integers(0, 8), st.integers(0, max(0, len(data) - start))))
    return start, min(len(data), start + length)


def _flip(draw, data, target, others):
    if not data:
        return data
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + bytes([data[i] ^ _pick(draw, (1, 2, 4, 8, 16, 32, 64, 128, 255))]) + data[i + 1:]


def _set_byte(draw, data, target, others):
    if not data:
        return data
    i = draw(st.integers(0, len(data) - 1))
    return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1:]


def _delete(draw, data, target, others):
    start, end = _span(draw, data)
    return data[:start] + data[end:]


def _truncate(draw, data, target, others):
    return data[:_position(draw, data)]


def _insert_token(draw, data, target, others):
    i = _position(draw, data)
    token = _pick(draw, TOKENS[target])
    return data[:i] + token * _pick(draw, (1, 1, 1, 2, 3, 50)) + data[i:]


def _insert_line(draw, data, target, others):
    starts = _line_starts(data)
    i = _pick(draw, starts)
    indent = b" " * _pick(draw, (0, 0, 2, 4, 6, 8, 10, 1, 3))
    token = _pick(draw, TOKENS[target])
    return data[:i] + indent + token + (b"" if token.endswith(b"\n") else b"\n") + data[i:]


def _insert_bytes(draw, data, target, others):
    i = _position(draw, data)
    return data[:i] + draw(st.binary(min_size=1, max_size=16)) + data[i:]


def _splice(draw, data, target, others):
    other = _pick(draw, others) if others else data
    start, end = _span(draw, other)
    i = _position(draw, data)
    if draw(st.booleans()):
        return data[:i] + other[start:end] + data[i:]
    return data[:i] + other[start:]


def _duplicate(draw, data, target, others):
    start, end = _span(draw, data)
    i = _position(draw, data)
    return data[:i] + data[start:end] * _pick(draw, (1, 2, 10)) + data[i:]


def _line_op(draw, data, target, others):
    lines = data.split(b"\n")
    if len(lines) < 2:
        return data
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    op = _pick(draw, ("swap", "delete", "copy", "indent", "dedent", "tab"))
    if op == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "delete":
        del lines[i]
    elif op == "copy":
        lines.insert(j, lines[i])
    elif op == "indent":
        lines[i] = b"  " + lines[i]
    elif op == "dedent":
        lines[i] = lines[i][2:] if lines[i].startswith(b"  ") else lines[i].lstrip()
    else:
        lines[i] = b"\t" + lines[i].lstrip(b" ")
    return b"\n".join(lines)


def _replace_match(draw, data, pattern, replacement_group=0):
    matches = list(pattern.finditer(data))
    if not matches:
        return None
    match = _pick(draw, matches)
    return match.start(replacement_group), match.end(replacement_group)


def _replace_number(draw, data, target, others):
    span = _replace_match(draw, data, _NUMBER)
    if span is None:
        return data
    if draw(st.booleans()):
        value = _pick(draw, _INTERESTING_SCALARS[:12])
    else:
        value = str(draw(st.integers(-(2 ** 70), 2 ** 70))).encode()
    return data[:span[0]] + value + data[span[1]:]


def _replace_string(draw, data, target, others):
    span = _replace_match(draw, data, _QUOTED)
    if span is None:
        return data
    value = _pick(draw, _STRING_REPLACEMENTS[target])
    return data[:span[0]] + value + data[span[1]:]


def _replace_hcl_value(draw, data, target, others):
    span = _replace_match(draw, data, _HCL_VALUE, 2)
    if span is None:
        return data
    value = _pick(draw, HCL_EXPRESSIONS)
    return data[:span[0]] + value + data[span[1]:]


HCL_EXPRESSIONS = [
    b"\"0.0.0.0/0\"", b"[\"0.0.0.0/0\"]", b"[\"::/0\", \"0000::/0\"]", b"null", b"-1", b"65536", b"\"abc\"", b"[]",
    b"{}", b"[{}]", b"[1]", b"[null]", b"true", b"var.c", b"var.missing", b"local.c", b"local.missing",
    b"aws_security_group.a.id", b"data.aws_vpc.v.cidr_block", b"module.m.id", b"1/0", b"-1/0", b"0/0",
    b"\"${var.c}\"", b"\"${\"", b"tolist([\"::/0\"])", b"toset([3389])", b"range(3)", b"range(-1)",
    b"{ a = 1 }", b"jsonencode({})", b"cidrsubnet(\"0.0.0.0/0\", 1, 1)", b"[for p in [3389, 445] : \"${p}\"]",
    b"true ? \"0.0.0.0/0\" : null", b"try(var.nope, \"0.0.0.0/0\")", b"<<EOF\n0.0.0.0/0\nEOF",
    b"\"%{ if true }0.0.0.0/0%{ endif }\"", b"split(\",\", \"0.0.0.0/0,10.0.0.0/8\")", b"1e308 * 10",
    b"\"\\u0030.0.0.0/0\"", b"each.value", b"count.index", b"self.id", b"[\"0.0.0.0/0\"][5]", b"{}.x",
    b"concat([\"0.0.0.0/0\"], var.c)", b"lookup({}, \"x\")", b"file(\"/etc/passwd\")", b"templatefile(\"x\", {})",
    b"sensitive(\"0.0.0.0/0\")", b"nonsensitive(\"x\")", b"[for k, v in {a = 1} : v if v > 0]",
    b"{ for k in [\"a\", \"a\"] : k => k }", b"[1, 2, 3][*]", b"var.c[*].x", b"!true", b"-\"x\"", b"\"a\" + 1",
]

_STRING_REPLACEMENTS = {target: _INTERESTING_SCALARS + [t for t in tokens if t[:1] in b"\"{["]
                        for target, tokens in TOKENS.items()}

_OPS = [_flip, _set_byte, _delete, _truncate, _insert_token, _insert_token, _insert_line, _insert_line,
        _insert_bytes, _splice, _duplicate, _line_op, _replace_number, _replace_string]
_HCL_OPS = _OPS + [_replace_hcl_value, _replace_hcl_value, _replace_hcl_value]


@st.composite
def byte_mutations(draw, data: bytes, target: str, others: Sequence[bytes], max_mutations: int = 6) -> bytes:
    ops = _HCL_OPS if target == "hcl" else _OPS
    for _ in range(draw(st.integers(1, max_mutations))):
        data = _pick(draw, ops)(draw, data, target, others)
    return data


# --- tree-level mutations (JSON, plan JSON, YAML) ---------------------------------------------


class Tagged:
    """A YAML node with a local tag (``!Ref x``), kept through load and dump."""

    def __init__(self, tag: str, value):
        self.tag, self.value = tag, value

    def __repr__(self) -> str:
        """A tag wrapped in another is dumped as this text: the same every run (not an address)."""
        return f"{self.tag} {self.value!r}"


@functools.lru_cache(maxsize=None)
def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader, suffix, node):
        if isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_scalar(node)
        return Tagged("!" + suffix, value)

    Loader.add_multi_constructor("!", tagged)
    # Timestamps and the like stay text: the tree is dumped again.
    for tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"):
        Loader.add_constructor(tag, lambda loader, node: loader.construct_scalar(node))
    return Loader


@functools.lru_cache(maxsize=None)
def _yaml_dumper():
    import yaml

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
        pass

    def represent(dumper, value: Tagged):
        if isinstance(value.value, dict):
            return dumper.represent_mapping(value.tag, value.value)
        if isinstance(value.value, list):
            return dumper.represent_sequence(value.tag, value.value)
        return dumper.represent_scalar(value.tag, "" if value.value is None else str(value.value))

    Dumper.add_representer(Tagged, represent)
    Dumper.ignore_aliases = lambda self, data: True
    return Dumper


def parse_tree(data: bytes, target: str):
    """The seed as a tree, or None when it is not one (a seed may be broken on purpose)."""
    try:
        if target == "yaml":
            import yaml

            return yaml.load(data.decode("utf-8"), Loader=_yaml_loader())  # noqa: S506 (SafeLoader subclass)
        return json.loads(data)
    except Exception:
        return None


def dump_tree(tree, target: str, style: int) -> bytes:
    if target == "yaml":
        import yaml

        return yaml.dump(tree, Dumper=_yaml_dumper(), sort_keys=False, allow_unicode=bool(style & 1),
                         default_flow_style=None if style & 2 else False, width=10 ** 6).encode("utf-8")
    return json.dumps(tree, indent=[None, 1, 2, "\t"][style % 4], ensure_ascii=bool(style & 4)).encode("utf-8")


_CFN_KEYS = ["Type", "Properties", "Resources", "Parameters", "Default", "AllowedValues", "Conditions", "Condition",
             "Mappings", "Metadata", "winportlint", "ignore", "id", "reason", "SecurityGroupIngress",
             "SecurityGroupEgress", "IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6", "SourcePrefixListId",
             "SourceSecurityGroupId", "DestinationSecurityGroupId", "GroupId", "GroupName", "Ref", "Fn::If",
             "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::FindInMap", "Fn::GetAtt", "Fn::ImportValue",
             "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Base64", "Fn::Cidr", "Fn::GetAZs", "Fn::Transform",
             "Fn::ForEach::X", "", "0", "<<"]
_PLAN_KEYS = ["format_version", "planned_values", "resource_changes", "root_module", "child_modules", "resources",
              "address", "mode", "type", "name", "index", "values", "change", "after", "after_unknown", "actions",
              "configuration", "module_calls", "source", "module", "ingress", "egress", "cidr_blocks",
              "ipv6_cidr_blocks", "from_port", "to_port", "protocol", "cidr_ipv4", "cidr_ipv6", "ip_protocol",
              "security_group_id", "self", "prefix_list_ids", "security_groups", "__unknown", "", "__tfmeta"]
_CFN_STRINGS = ["0.0.0.0/0", "::/0", "0000::/0", "10.0.0.1/0", "0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1",
                "-1", "tcp", "udp", "icmp", "icmpv6", "58", "6", "17", "all", "TCP", "3389", "0", "65535", "65536",
                "-2", "1e3", "0x10", "3389.0", " 3389", "", " ", "AWS::EC2::SecurityGroup",
                "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress", "AWS::NoValue", "AWS::Region",
                "AWS::StackName", "${AWS::Region}", "${P}", "${!Literal}", "${", "${}", "$", "a,b", ",", "pl-1",
                "sg-1", "WPL101", "WPL", "P", "C", "M", "X", "Y", "X.Y", "a.b.c", "\u2028", "\x00"]
_PLAN_STRINGS = ["aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule",
                 "aws_vpc_security_group_egress_rule", "aws_default_security_group", "managed", "data", "ingress",
                 "egress", "module.m.aws_security_group.x", "module.", "module.edge.module.x.aws_security_group.y",
                 "aws_security_group.x[\"a\"]", "[", "./modules/edge", "../..", "./", "1.2", "0.1"]


def _json_leaves(strings: list[str]):
    return st.one_of(
        st.none(), st.booleans(),
        st.sampled_from([0, -1, 1, 3389, 445, 65535, 65536, -65536, 2 ** 64, 1.5, -0.0, 1e300]),
        st.integers(), st.sampled_from(strings), st.text(max_size=8),
    )


@functools.lru_cache(maxsize=None)
def _values(target: str):
    strings = _CFN_STRINGS + (_PLAN_STRINGS if target == "plan" else [])
    keys = _PLAN_KEYS if target == "plan" else _CFN_KEYS
    leaves = _json_leaves(strings)

    def extend(children):
        containers = [st.lists(children, max_size=4),
                      st.dictionaries(st.sampled_from(keys), children, max_size=3)]
        if target != "plan":
            containers.append(st.builds(lambda name, arg: {name: arg},
                                        st.sampled_from([k for k in _CFN_KEYS if k == "Ref" or k.startswith("Fn::")]),
                                        children))
        if target == "yaml":
            containers.append(st.builds(Tagged, st.sampled_from(
                ["!Ref", "!If", "!Sub", "!Join", "!Select", "!Split", "!FindInMap", "!GetAtt", "!ImportValue",
                 "!Condition", "!Equals", "!Not", "!Base64", "!Cidr", "!GetAZs"]), children))
        return st.one_of(*containers)

    return st.recursive(leaves, extend, max_leaves=8)


def _slots(tree) -> list[tuple[object, object]]:
    """Every (container, key or index) in the tree, containers first (iteratively)."""
    found = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Tagged):
            node = node.value
            if not isinstance(node, (dict, list)):
                continue
        if isinstance(node, dict):
            for key in list(node):
                found.append((node, key))
                stack.append(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                found.append((node, index))
                stack.append(node[index])
    return found


@st.composite
def tree_mutations(draw, tree, target: str, max_mutations: int = 4):
    import copy

    tree = copy.deepcopy(tree)
    keys = _PLAN_KEYS if target == "plan" else _CFN_KEYS
    for _ in range(draw(st.integers(1, max_mutations))):
        slots = _slots(tree)
        if not slots:
            tree = draw(_values(target))
            continue
        container, key = _pick(draw, slots)
        op = _pick(draw, ("replace", "replace", "replace", "delete", "rename", "copy", "wrap", "tag"))
        if op == "replace":
            container[key] = draw(_values(target))
        elif op == "delete":
            del container[key]
        elif op == "rename" and isinstance(container, dict):
            new = _pick(draw, keys)
            container[new] = container.pop(key)
        elif op == "copy":
            other_container, other_key = _pick(draw, slots)
            container[key] = copy.deepcopy(other_container[other_key])
        elif op == "wrap":
            container[key] = _pick(draw, [
                lambda v: [v], lambda v: {"Ref": v}, lambda v: {"Fn::If": ["C", v, {"Ref": "AWS::NoValue"}]},
                lambda v: {"Fn::Select": [0, [v]]}, lambda v: {"Fn::Join": ["", [v]]}, lambda v: {"a": v},
            ])(container[key])
        elif op == "tag" and target == "yaml":
            container[key] = Tagged(_pick(draw, ("!Ref", "!If", "!Sub", "!Select", "!Join", "!Split",
                                                    "!FindInMap", "!GetAtt", "!Unknown")), container[key])
    return tree


# --- the inputs of a target -------------------------------------------------------------------


def inputs(target: str, seed_list: Sequence[bytes]):
    """Every input a target is fuzzed with: raw bytes, seeds mutated byte by byte, and
    (for tree formats) seeds mutated as trees, dumped and then maybe mutated byte by byte."""
    return _inputs(target, tuple(seed_list))


@functools.lru_cache(maxsize=8)
def _inputs(target: str, seed_list: tuple[bytes, ...]):
    seed_list = list(seed_list) or [b""]
    seed_choice = st.sampled_from(seed_list)
    mutated = seed_choice.flatmap(lambda seed: byte_mutations(seed, target, seed_list))
    strategies = [st.binary(max_size=512), mutated, mutated]
    if target in ("yaml", "json", "plan"):
        trees = [tree for tree in (parse_tree(seed, target) for seed in seed_list) if tree is not None]
        if trees:
            tree_inputs = st.tuples(st.sampled_from(range(len(trees))), st.integers(0, 7)).flatmap(
                lambda pick: tree_mutations(trees[pick[0]], target).map(
                    lambda tree, style=pick[1]: dump_tree(tree, target, style)))
            strategies += [tree_inputs, tree_inputs,
                           tree_inputs.flatmap(lambda data: byte_mutations(data, target, seed_list, 2))]
    return st.one_of(*strategies)
