"""A value read from the scanned files never reaches a report whole (issue #14).

Reports are uploaded to code scanning, posted as pull-request comments and kept
in CI logs. A secret is planted in every place a value can reach a message or a
finding; every output format, on the console and in an ``--output`` file, shows
at most the first 60 characters of it.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest

from winportlint.cli import main
from winportlint.excerpt import excerpt, excerpts_in, printable

FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit", "markdown", "rdjson")
#: The most characters of a value a report may show (the issue's bound; not read from the code).
SHOWN = 60


def secret(name: str) -> str:
    """``WPLSECRET`` and the place's name, then 200 letters and digits (the same every run)."""
    rng = random.Random(name)
    return f"WPLSECRET{name.upper()}" + "".join(rng.choices(string.ascii_letters + string.digits, k=200))


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Pieces of a secret beyond its first :data:`SHOWN` characters found in ``text`` (in any case:
    some messages upper-case what they quote)."""
    lowered = text.lower()
    return [value[:20] for value in secrets
            if any(value[start:start + 12].lower() in lowered for start in range(SHOWN, len(value) - 12))]


# --- a tree with a secret in every place a template, module, plan or variable holds a value ---------

CFN_HEAD = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Admin:
    Type: String
    Default: {default}
Resources:
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: {description}
      SecurityGroupIngress:
"""

TF_GROUP = """resource "aws_security_group" "g" {{
  ingress {{
    from_port   = {from_port}
    to_port     = 3389
    protocol    = {protocol}
    cidr_blocks = [{cidr}]
  }}
}}
"""


def cfn(rule: str, **values: str) -> str:
    return CFN_HEAD.format(default=values.get("default", "10.0.0.0/8"),
                           description=values.get("description", "admin")) + f"        - {rule}\n"


def tf_group(from_port: str = "3389", protocol: str = '"tcp"', cidr: str = '"0.0.0.0/0"') -> str:
    return TF_GROUP.format(from_port=from_port, protocol=protocol, cidr=cidr)


#: Place name -> (relative path, content); the secret of the place is ``{s}`` in it.
PLACES = {
    "cidr": ("cfn/cidr.yaml", lambda s: cfn(f"{{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: {s}}}")),
    "fromport": ("cfn/port.yaml", lambda s: cfn(f"{{IpProtocol: tcp, FromPort: {s}, ToPort: 3389, CidrIp: 0.0.0.0/0}}")),
    "protocol": ("cfn/protocol.yaml", lambda s: cfn(f"{{IpProtocol: {s}, FromPort: 1, ToPort: 2, CidrIp: 0.0.0.0/0}}")),
    "description": ("cfn/description.yaml", lambda s: cfn(
        f"{{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0, Description: {s}}}", description=s)),
    "default": ("cfn/default.yaml", lambda s: cfn(
        "{IpProtocol: tcp, FromPort: !Ref Admin, ToPort: 3389, CidrIp: !Ref Admin}", default=s)),
    "tag": ("cfn/tag.yaml", lambda s: cfn(f"{{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !{s} x}}")),
    "tagvalue": ("cfn/tagvalue.yaml", lambda s: cfn(
        f"{{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !Unknown {s}}}")),
    "yamlsyntax": ("cfn/syntax.yaml", lambda s: cfn(f'{{IpProtocol: tcp, CidrIp: "{s}\n  {s}: [{s}')),
    "jsonsyntax": ("cfn/syntax.json", lambda s: '{"Resources": {"G": {"Type": "AWS::EC2::SecurityGroup", '
                                                 f'"Properties": {{"GroupDescription": {s}}}}}}}}}'),
    "jsonstring": ("cfn/string.json", lambda s: '{"Resources": {"G": {"Type": "AWS::EC2::SecurityGroup", '
                                                 f'"Properties": {{"GroupDescription": "{s}\u0001"}}}}}}}}'),
    "duplicate": ("cfn/duplicate.yaml", lambda s: cfn(f"{{IpProtocol: tcp, {s}: 1, {s}: 2, CidrIp: 0.0.0.0/0}}")),
    "tftype": ("tf/type/main.tf", lambda s: f'resource "aws_security_group_rule" "r" {{\n  type = "{s}"\n'
                                             '  from_port = 3389\n  to_port = 3389\n  protocol = "tcp"\n'
                                             '  cidr_blocks = ["0.0.0.0/0"]\n  security_group_id = "sg-1"\n}\n'),
    "tfcidr": ("tf/cidr/main.tf", lambda s: tf_group(cidr=f'"{s}"')),
    "tfport": ("tf/port/main.tf", lambda s: tf_group(from_port=f'"{s}"')),
    "tfvars": ("tf/tfvars/terraform.tfvars", lambda s: f'port = "{s}"\n'),
    "count": ("tf/count/main.tf", lambda s: tf_group().replace("{\n", f'{{\n  count = "{s}"\n', 1)),
    "countvar": ("tf/countvar/main.tf", lambda s: f'variable "c" {{\n  default = "{s}"\n}}\n'
                                                   + tf_group().replace("{\n", "{\n  count = var.c\n", 1)),
    "hclsyntax": ("tf/syntax/main.tf", lambda s: tf_group(from_port=f"{s} {s}")),
    "hclblock": ("tf/block/main.tf", lambda s: f'{s} "x" {{\n}}\n' + tf_group()),
    "hcltype": ("tf/vartype/main.tf", lambda s: f'variable "v" {{\n  type = {s}\n}}\n' + tf_group()),
    "knownmodule": ("tf/known/main.tf", lambda s: 'module "sg" {\n  source = "terraform-aws-modules/security-group/aws"\n'
                                                   f'  ingress_rules = ["{s}"]\n  ingress_cidr_blocks = ["0.0.0.0/0"]\n}}\n'),
    "plantype": ("plans/type.json", lambda s: json.dumps({"format_version": "1.2", "planned_values": {"root_module": {
        "resources": [{"address": "aws_security_group_rule.r", "mode": "managed", "type": "aws_security_group_rule",
                       "name": "r", "values": {"type": s, "from_port": 3389, "to_port": 3389, "protocol": "tcp",
                                               "cidr_blocks": ["0.0.0.0/0"], "security_group_id": "sg-1"}}]}}})),
    "planport": ("plans/port.json", lambda s: json.dumps({"format_version": "1.2", "planned_values": {"root_module": {
        "resources": [{"address": "aws_security_group.g", "mode": "managed", "type": "aws_security_group",
                       "name": "g", "values": {"ingress": [{"from_port": s, "to_port": 3389, "protocol": "tcp",
                                                            "cidr_blocks": [s]}]}}]}}})),
}
#: Places whose value is not a message's business (a valid template around it): nothing is quoted.
#: (A CIDR AWS rejects is an input error that quotes it, issue #15.)
SILENT = {"description"}
#: Places whose message says what is wrong without quoting the value (a syntax error, a tag's name).
UNQUOTED = {"yamlsyntax", "jsonsyntax", "jsonstring", "hclsyntax", "tagvalue"}
CLI_VAR = "clivar"  # --var proto=SECRET, for the module tf/clivar


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("leaks")
    for name, (path, content) in PLACES.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content(secret(name)), encoding="utf-8")
    (root / "tf/tfvars/main.tf").write_text('variable "port" {}\n' + tf_group(from_port="var.port"))
    (root / "tf/clivar").mkdir()
    (root / "tf/clivar/main.tf").write_text('variable "proto" {}\n' + tf_group(protocol="var.proto"))
    return root


ALL_SECRETS = [secret(name) for name in [*PLACES, CLI_VAR, "catalog", "config", "baseline"]]


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("console, to_file", list(zip(FORMATS, FORMATS[1:] + FORMATS[:1])))
def test_no_format_shows_more_than_an_excerpt_of_a_planted_secret(tree, tmp_path, capsys, monkeypatch,
                                                                   console, to_file):
    monkeypatch.chdir(tree)
    output = tmp_path / f"report.{to_file}"
    code, shown = run(capsys, "check", "--no-cache", "--var", f"proto={secret(CLI_VAR)}", "--format", console,
                      "--output", str(output), "--output-format", to_file, "cfn", "tf", "plans")
    written = output.read_text(encoding="utf-8")
    assert code == 2  # input errors
    assert leaks(shown, ALL_SECRETS) == [] and leaks(written, ALL_SECRETS) == []
    if "json" in (console, to_file):  # the values did reach the messages, as excerpts
        document = json.loads(shown if console == "json" else written)
        messages = " ".join(error["message"] for error in document["errors"])
        quoted = {name for name in [*PLACES, CLI_VAR] if secret(name)[:SHOWN - 1] in messages}
        assert quoted == set(PLACES) - SILENT - UNQUOTED | {CLI_VAR}
        assert {f["file"] for f in document["findings"]} == {"cfn/description.yaml"}  # the secret is around it


def test_messages_name_the_value_they_could_not_read(tree, capsys, monkeypatch):
    monkeypatch.chdir(tree)
    _, shown = run(capsys, "check", "--no-cache", "cfn/port.yaml", "tf/type", "cfn/syntax.json", "cfn/string.json")
    port, kind = secret("fromport"), secret("tftype")
    assert shown.splitlines()[:-1] == [
        f"cfn/port.yaml:12: error: Group: FromPort '{port[:60]}…' ({len(port)} characters) is not a port number",
        "cfn/string.json:1: error: invalid JSON: unexpected '\"' at column 92",
        "cfn/syntax.json:1: error: invalid JSON: unexpected 'W' at column 92",
        f"tf/type/main.tf:1: error: aws_security_group_rule.r: type must be ingress or egress, not "
        f"'{kind[:60]}…' ({len(kind)} characters)",
    ]


# --- values the command line reads before any file: catalog, configuration, baseline ----------------

def test_a_catalog_file_value_is_quoted_as_an_excerpt(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    value = secret("catalog")
    Path("ports.yaml").write_text(f"rules:\n  - workload: W\n    rule: R\n    direction: in\n    protocol: tcp\n"
                                  f"    local_ports: [\"{value}\"]\n    os: [\"2019\"]\n")
    for fmt in FORMATS:
        code, shown = run(capsys, "check", "--no-cache", "--format", fmt, "--catalog", "ports.yaml", ".")
        assert code == 2 and leaks(shown, [value]) == []
        assert shown == (f"winportlint: error: ports.yaml:2: not a port or port range: '{value[:60]}…' "
                         f"({len(value)} characters)\n")


@pytest.mark.parametrize("toml, place", [
    ('severity = "{s}"', "severity must be one of info, low, medium, high, critical, not '{e}…' ({n} characters)"),
    ('select = ["{s}"]', "select has '{u}…' ({n} characters), which are not check ids or prefixes"),
    ('[[allow]]\nresource = "{s}"\nports = "3389"\nreason = ""', "allow[0] ({e}… ({n} characters)) needs a reason"),
    ('{s} = 1', "unknown key {e}… ({n} characters) (known: allow, catalog, exception_warning_days, exclude, "
                "fail_on_empty, fix, ignore, inline_ignores, max_exception_days, os, require_expiry, require_owner, "
                "select, severity, var_files)"),
], ids=["severity", "select", "allow", "key"])
def test_a_configuration_value_is_quoted_as_an_excerpt(tmp_path, capsys, monkeypatch, toml, place):
    monkeypatch.chdir(tmp_path)
    value = secret("config")
    Path(".winportlint.toml").write_text(toml.format(s=value) + "\n")
    for fmt in FORMATS:
        code, shown = run(capsys, "check", "--no-cache", "--format", fmt, ".")
        assert code == 2 and leaks(shown, [value]) == []
        assert shown == "winportlint: error: .winportlint.toml: " + place.format(e=value[:60], u=value[:60].upper(), n=len(value)) \
            + "\n"


def test_a_baseline_value_is_quoted_as_an_excerpt(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    value = secret("baseline")
    Path("baseline.json").write_text(json.dumps({"version": value, "findings": []}))
    Path("broken.json").write_text('{"version": 1, "findings": [' + value + "]}")
    for fmt in FORMATS:
        code, shown = run(capsys, "check", "--no-cache", "--format", fmt, "--baseline", "baseline.json", ".")
        assert code == 2 and leaks(shown, [value]) == []
        assert shown == (f"winportlint: error: baseline.json: baseline version '{value[:60]}…' ({len(value)} characters) "
                         "is not 1\n")
        code, shown = run(capsys, "check", "--no-cache", "--format", fmt, "--baseline", "broken.json", ".")
        assert code == 2 and leaks(shown, [value]) == []


# --- the excerpt itself ------------------------------------------------------------------------------

def test_an_excerpt_is_short_escaped_and_says_how_long_the_value_is():
    assert excerpt("rdp") == "'rdp'"
    assert excerpt("a" * 61) == f"'{'a' * 60}…' (61 characters)"
    assert excerpt("a" * 60) == f"'{'a' * 60}'"
    assert excerpt("it's \\ \x1b[2J\r\n\u2028\u202e\x00") == "'it\\'s \\\\ \\x1b[2J\\r\\n\\u2028\\u202e\\x00'"
    assert excerpt(70000) == "70000" and excerpt([1, "x"]) == "[1, 'x']" and excerpt(None) == "None"
    assert excerpt('"x"', quote=False) == '"x"'
    assert excerpt("b" * 100, quote=False) == f"{'b' * 60}… (100 characters)"


def test_a_name_is_escaped_never_cut_short():
    name = "dir/\x1b[31mred\x1b[0m\n" + "x" * 100 + "\u202e.yaml"
    assert printable(name) == "dir/\\x1b[31mred\\x1b[0m\\n" + "x" * 100 + "\\u202e.yaml"
    assert printable("C:\\templates\\é.yaml") == "C:\\templates\\é.yaml"


def test_messages_of_other_programs_have_their_quoted_values_cut():
    value = "W" * 100
    assert excerpts_in(f'Unsupported block type; Blocks of type "{value}" are not expected here.') == \
        f"Unsupported block type; Blocks of type '{'W' * 60}…' (100 characters) are not expected here."
    assert excerpts_in("invalid literal for int() with base 10: 'abc'") == \
        "invalid literal for int() with base 10: 'abc'"
    assert excerpts_in("line one\nline two\x1b") == "line one\\nline two\\x1b"


def test_the_cfn_lint_rules_quote_excerpts_too(tmp_path):
    pytest.importorskip("cfnlint", reason="cfn-lint is not installed")
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner import Runner

    value = secret("cfnlint")
    template = tmp_path / "t.yaml"
    template.write_text(cfn(f"{{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}}\n"
                            f"        - {{IpProtocol: {value}, FromPort: 1, ToPort: 2, CidrIp: 0.0.0.0/0}}"))
    matches = Runner(ConfigMixIn(["--template", str(template)], append_rules=["winportlint.cfn_lint"])).run()
    ours = sorted((m.rule.id, m.message) for m in matches if m.rule.id.startswith(("W9", "E9")))
    assert ours == [("E9101", "3389/tcp open from 0.0.0.0/0 (the whole internet) on Group: 3389/tcp RDP (open "
                              "by default in the Windows Server 2012 R2 to 2022 AMIs)"),
                    ("W9000", f"winportlint could not check this: Group: IpProtocol '{value[:SHOWN]}…' "
                              f"({len(value)} characters) is not a protocol")]
