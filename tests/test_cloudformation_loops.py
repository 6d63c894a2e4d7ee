"""Fn::ForEach loops (AWS::LanguageExtensions) expanded as CloudFormation expands them (issue #15).

They were read as one unknown rule at the loop's line: a loop of world-open RDP groups was a
WPL001 at info level, and exit 0. The fixtures are tests/cases/*/*/for-each-* (valid templates,
exact findings) and tests/loops/rejected/ (loops CloudFormation refuses: input errors).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winportlint.plugins.cloudformation import CloudFormationFormat, loops

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "tests" / "cases"
LOOPS = CASES / "WPL101" / "bad" / "for-each-loops.yaml"
VALID = [LOOPS, CASES / "WPL101" / "good" / "for-each-loops.yaml",
         CASES / "WPL001" / "bad" / "for-each-unknown-collection.yaml"]
REJECTED = REPO / "tests" / "loops" / "rejected"

HEAD = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::LanguageExtensions\n"
RDP_GROUP = ("        Type: AWS::EC2::SecurityGroup\n        Properties:\n          GroupDescription: loop\n"
             "          SecurityGroupIngress:\n"
             "            - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}\n")


def _parse(text: str, name: str = "t.yaml"):
    return CloudFormationFormat().parse(name, text.encode())


def _rows(result):
    """(resource, protocol, ports, peer, line, column) of each permission."""
    return [(p.resource, p.protocol, (p.ports.low, p.ports.high) if p.ports else None, p.peer.text,
             p.location.line, p.location.column) for p in result.permissions]


def test_every_copy_of_a_loop_is_read_at_the_line_in_the_loop_body_under_its_own_logical_id():
    result = CloudFormationFormat().parse(str(LOOPS), LOOPS.read_bytes())
    assert result.errors == []
    rows = _rows(result)
    # a CommaDelimitedList parameter: the items of its default and of its allowed values; &{} drops the '-'
    assert [row for row in rows if row[0].startswith("Rdp")] == [
        ("RdpParis", "tcp", (3389, 3389), "0.0.0.0/0", 41, 23),
        ("RdpNewYork", "tcp", (3389, 3389), "10.20.0.0/16", 41, 23),
        ("RdpTokyo", "tcp", (3389, 3389), "0.0.0.0/0", 41, 23),
    ]
    # a resource made for some values of the parameter only says which
    details = {p.resource: [(q.field, q.detail, q.location.line) for q in p.provenance if q.kind == "parameter"]
               for p in result.permissions if p.resource.startswith("Rdp")}
    assert details == {"RdpParis": [("Office", "parameter Offices default", 7)],
                       "RdpNewYork": [("Office", "parameter Offices default", 7)],
                       "RdpTokyo": [("Office", "parameter Offices allowed value", 8)]}
    # nested loops over a mapping's list and a literal list; Ref to the identifiers in FromPort, ToPort
    # and in CidrIp, a key made by an inner loop in the rule's Properties
    assert [row for row in rows if row[0].startswith("Admin")] == [
        (f"Admin{port}From{source}", "tcp", (int(port), int(port)), cidr, 64, 29)
        for port in ("3389", "5985") for source, cidr in (("00000", "0.0.0.0/0"), ("19202024", "192.0.2.0/24"))]
    # FromPort and ToPort made by a loop; the resource condition made by Fn::Sub of the identifier
    smb = [p for p in result.permissions if p.resource.endswith("Smb")]
    assert [(p.resource, p.ports.low, p.ports.high, p.location.line) for p in smb] == [
        ("ProdSmb", 445, 445, 78), ("TestSmb", 445, 445, 78)]
    assert [p.provenance[0].detail for p in smb] == [
        "resource condition IsProd is true (pseudo parameter AWS::StackName)",
        "resource condition IsTest is true (pseudo parameter AWS::StackName)"]
    # a generated resource starts at its output key in the loop body
    assert {p.resource_location.line for p in smb} == {68}


def test_a_loop_in_a_json_template_and_refs_to_generated_resources():
    template = {
        "AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::LanguageExtensions",
        "Resources": {
            "Fn::ForEach::Groups": ["Name", ["Web", "Admin"], {"${Name}Sg": {
                "Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": {"Fn::Sub": "${Name} group"}}}}],
            "Fn::ForEach::Rules": ["Port", ["3389", "5986"], {"AdminRdp${Port}": {
                "Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
                    "GroupId": {"Ref": "AdminSg"}, "IpProtocol": "tcp", "FromPort": {"Ref": "Port"},
                    "ToPort": {"Ref": "Port"}, "CidrIp": "0.0.0.0/0"}}}]}}
    result = _parse(json.dumps(template, indent=1), "t.json")
    assert result.errors == []
    assert [(p.resource, p.group, p.ports.low) for p in result.permissions] == [
        ("AdminRdp3389", "AdminSg", 3389), ("AdminRdp5986", "AdminSg", 5986)]


def test_plain_strings_keep_the_identifier_as_cloudformation_does():
    """Only keys, Fn::Sub strings and Ref are substituted: a plain CidrIp '${Source}' is
    deployed as written, and AWS refuses it (cfn-lint too)."""
    text = HEAD + ("Resources:\n  Fn::ForEach::Sources:\n    - Source\n    - [0.0.0.0/0]\n    - Rdp${Source}:\n"
                   "        Type: AWS::EC2::SecurityGroupIngress\n        Properties:\n"
                   "          GroupId: sg-12345678\n          IpProtocol: tcp\n          FromPort: 3389\n"
                   "          ToPort: 3389\n          CidrIp: ${Source}\n")
    result = _parse(text.replace("Rdp${Source}", "Rdp&{Source}"))
    assert [(e.line, e.message) for e in result.errors] == [
        (14, "Rdp00000: CidrIp '${Source}' is not a valid IPv4 CIDR: AWS rejects it")]


def test_a_loop_whose_collection_is_not_known_is_an_unknown_rule_where_it_makes_groups_or_rules():
    """Never silence, never an error: a collection from a parameter without a default, in Resources
    or in a group's Properties; a loop of other resources (topics) opens nothing."""
    text = HEAD + ("Parameters:\n  Names: {Type: CommaDelimitedList}\nResources:\n"
                   "  Fn::ForEach::Groups:\n    - Name\n    - !Ref Names\n    - ${Name}Sg:\n" + RDP_GROUP +
                   "  Fn::ForEach::Topics:\n    - Name\n    - !Ref Names\n    - ${Name}Topic: {Type: AWS::SNS::Topic}\n"
                   "  Web:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: web\n"
                   "      Fn::ForEach::Rules:\n        - Name\n        - !Ref Names\n"
                   "        - SecurityGroup${Name}: [{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}]\n")
    result = _parse(text)
    assert result.errors == []
    assert sorted(_rows(result)) == [("Fn::ForEach::Groups", "unknown", None, "Fn::ForEach::Groups is not expanded: "
                              "the collection parameter Names has no default", 6, 3),
                             ("Fn::ForEach::Rules", "unknown", None, "Fn::ForEach::Rules is not expanded: "
                              "the collection parameter Names has no default", 23, 7)]


def test_an_inner_loop_whose_collection_is_not_known_is_one_unknown_rule_not_a_collision():
    text = HEAD + ("Parameters:\n  Names: {Type: CommaDelimitedList}\nResources:\n"
                   "  Fn::ForEach::Tiers:\n    - Tier\n    - [Web, Admin]\n"
                   "    - Fn::ForEach::Groups:\n        - Name\n        - !Ref Names\n"
                   "        - ${Tier}${Name}Sg:\n" + RDP_GROUP.replace("\n", "\n    ").replace("  ", "      ", 1))
    result = _parse(text)
    assert result.errors == []
    assert _rows(result) == [("Fn::ForEach::Groups", "unknown", None, "Fn::ForEach::Groups is not expanded: "
                              "the collection parameter Names has no default", 9, 7)]


def test_a_ref_to_a_resource_a_loop_not_expanded_may_make_is_unknown_not_an_error():
    """Was "Ref to 'WebSg', which is neither a parameter nor a resource": CloudFormation accepts
    it when the collection holds Web."""
    text = HEAD + ("Parameters:\n  Names: {Type: CommaDelimitedList}\nResources:\n"
                   "  Fn::ForEach::Groups:\n    - Name\n    - !Ref Names\n    - ${Name}Sg:\n"
                   "        Type: AWS::EC2::SecurityGroup\n        Properties: {GroupDescription: x}\n"
                   "  Rdp:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n      GroupId: !Ref WebSg\n"
                   "      IpProtocol: tcp\n      FromPort: 3389\n      ToPort: 3389\n      CidrIp: 0.0.0.0/0\n")
    result = _parse(text)
    assert result.errors == []
    assert [row for row in _rows(result) if row[0] == "Rdp"] == [("Rdp", "tcp", (3389, 3389), "0.0.0.0/0", 19, 15)]


def test_a_loop_that_would_make_too_much_is_an_unknown_rule_not_a_hang(monkeypatch):
    monkeypatch.setattr(loops, "MAX_NODES", 40)
    items = ", ".join(f"G{i}" for i in range(20))
    text = HEAD + f"Resources:\n  Fn::ForEach::Groups:\n    - Name\n    - [{items}]\n    - ${{Name}}Sg:\n" + RDP_GROUP
    result = _parse(text)
    assert result.errors == []
    assert _rows(result) == [("Fn::ForEach::Groups", "unknown", None,
                              "Fn::ForEach::Groups is not expanded: it makes more than 40 values", 4, 3)]


def test_loops_in_outputs_are_not_read_and_templates_without_loops_are_not_copied(monkeypatch):
    text = HEAD + ("Resources:\n  Rdp:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
                   "      GroupDescription: rdp\n      SecurityGroupIngress:\n"
                   "        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}\n"
                   "Outputs:\n  Fn::ForEach::Ids:\n    - [not, a, name]\n")
    assert [e.message for e in _parse(text).errors] == []
    monkeypatch.setattr(loops, "expand", None)  # a call would fail
    assert len(_parse(text).permissions) == 1


def test_a_deep_loop_body_is_read_without_crashing():
    depth = 400
    body = "".join(" " * (8 + 2 * level) + f"K{level}:\n" for level in range(depth)) + " " * (8 + 2 * depth) + "x\n"
    text = HEAD + ("Resources:\n  Fn::ForEach::Groups:\n    - Name\n    - [Web]\n    - ${Name}Sg:\n"
                   + RDP_GROUP + "        Metadata:\n" + body.replace(" " * 8, " " * 10, 1))
    result = _parse(text)
    assert result.errors == []
    assert [p.resource for p in result.permissions] == ["WebSg"]


def test_loops_nested_as_deep_as_a_template_may_be_are_read_without_crashing():
    lines, indent = [], 2
    for level in range(240):  # the loader refuses a template nested deeper than 500 levels
        lines += [f"{' ' * indent}Fn::ForEach::Loop{level}:", f"{' ' * indent}  - Item{level}",
                  f"{' ' * indent}  - [a{level}]", f"{' ' * indent}  -"]
        indent += 4
    lines[-1] += " Sg${Item0}&{Item239}:"
    lines += [f"{' ' * indent}  Type: AWS::EC2::SecurityGroup", f"{' ' * indent}  Properties:",
              f"{' ' * indent}    SecurityGroupIngress: [{{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, "
              "CidrIp: 0.0.0.0/0}]"]
    result = _parse(HEAD + "Resources:\n" + "\n".join(lines) + "\n")
    assert result.errors == []
    assert [(p.resource, p.location.line) for p in result.permissions] == [("Sga0a239", 966)]


#: Each rejected fixture's input errors (line, message); the other resources are still read.
REJECTIONS = {
    "not-a-list.yaml": [(4, "Fn::ForEach::Groups: needs a list of 3 items: an identifier, a collection and a "
                            "mapping of output keys to values")],
    "two-items.yaml": [(4, "Fn::ForEach::Groups: needs a list of 3 items: an identifier, a collection and a "
                           "mapping of output keys to values")],
    "identifier-not-a-string.yaml": [(4, "Fn::ForEach::Groups: the identifier (first item) must be a name")],
    "body-not-a-mapping.yaml": [(4, "Fn::ForEach::Groups: the third item must be a mapping of output keys to "
                                    "values")],
    "collection-a-string.yaml": [(4, "Fn::ForEach::Groups: the collection (second item) must be a list or a "
                                     "function that gives one")],
    "collection-a-string-parameter.yaml": [(6, "Fn::ForEach::Groups: the collection (second item) is not a list")],
    "collection-item-a-list.yaml": [(4, "Fn::ForEach::Groups: each item of the collection must be a string")],
    "same-item-twice.yaml": [(4, "Fn::ForEach::Groups: the collection holds 'Web' more than once")],
    "key-without-identifier.yaml": [(4, "Fn::ForEach::Groups: it makes 'Sg' more than once")],
    "collides-with-a-resource.yaml": [(6, "Fn::ForEach::Groups: it makes 'WebSg', which the mapping already has")],
}


def test_every_rejected_fixture_has_its_errors():
    assert sorted(REJECTIONS) == sorted(path.name for path in REJECTED.glob("*.yaml"))


@pytest.mark.parametrize("name", sorted(REJECTIONS))
def test_a_loop_cloudformation_refuses_is_an_input_error_at_its_line(name):
    path = REJECTED / name
    result = CloudFormationFormat().parse(str(path), path.read_bytes())
    assert [(e.line, e.message) for e in result.errors] == REJECTIONS[name]
    # the loop's other copies are still read where they are well formed
    expected = ["AdminSg"] if name == "collides-with-a-resource.yaml" else []
    assert [p.resource for p in result.permissions] == expected


def _cfn_lint(*args: str, cwd: Path, home: Path) -> list[dict]:
    home.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())",
                           "--format", "json", *args], capture_output=True, text=True, timeout=600, cwd=cwd,
                          env={**os.environ, "HOME": str(home), "USERPROFILE": str(home)})
    assert done.stdout.startswith("["), done.stderr[-2000:]
    return json.loads(done.stdout)


def test_cfn_lint_rejects_each_rejected_loop_and_accepts_each_valid_template(tmp_path):
    """cfn-lint is the oracle: an input error here is a template it rejects (E0, E1, E3)."""
    paths = [*VALID, *sorted(REJECTED.glob("*.yaml"))]
    matches = _cfn_lint("--", *map(str, paths), cwd=REPO, home=tmp_path / "home")
    rejected = {Path(m["Filename"]).resolve() for m in matches if m["Rule"]["Id"].startswith(("E0", "E1", "E3"))}
    assert rejected == set(REJECTED.glob("*.yaml"))


def test_the_cfn_lint_extension_reports_the_loops_as_winportlint_does(tmp_path):
    """cfn-lint expands the loops itself; the extension reads the file and gets the same
    rules, lines and columns, under the expanded logical ids."""
    from winportlint.cfn_lint import rule_id_for
    from winportlint.plugin_manager import load_plugins

    paths = [str(path) for path in VALID]
    matches = _cfn_lint("--append-rules", "winportlint.cfn_lint", "--", *paths, cwd=REPO, home=tmp_path / "home")
    got = sorted((m["Rule"]["Id"], m["Location"]["Path"][1], m["Location"]["Start"]["LineNumber"],
                  m["Location"]["Start"]["ColumnNumber"]) for m in matches if m["Rule"]["Id"][1:2] == "9")
    done = subprocess.run([sys.executable, "-m", "winportlint.cli", "check", "--no-cache", "--format", "json",
                           *paths], capture_output=True, text=True, timeout=600, cwd=REPO)
    report = json.loads(done.stdout)
    ids = {check.id: rule_id_for(check) for check in load_plugins().checks}
    expected = sorted((ids[f["rule_id"]], f["resource"], f["line"], f["column"]) for f in report["findings"]
                      if ids[f["rule_id"]][0] in "EW")
    assert report["errors"] == []
    assert got == expected
    assert ("E9101", "RdpTokyo", 41, 23) in got


# --- property: a loop reads as the template written out by hand --------------------------------

PORTS = ["22", "135", "445", "3389", "5985", "5986"]
#: Sources whose letters and digits differ, so that &{Source} makes distinct ids.
SOURCES = ["0.0.0.0/0", "10.0.0.0/8", "192.0.2.0/24", "0.0.0.0/1", "128.0.0.0/1"]


def _written_out(ports: list[str], sources: list[str]) -> str:
    """The template a loop over ``ports`` and ``sources`` stands for, written out by hand."""
    resources = "".join(
        f"  Rule{port}From{''.join(c for c in source if c.isalnum())}:\n"
        "    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n      GroupId: sg-12345678\n"
        f"      IpProtocol: tcp\n      FromPort: {port}\n      ToPort: {port}\n      CidrIp: {source}\n"
        for port in ports for source in sources)
    return HEAD + "Resources:\n" + resources


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(st.data())
def test_a_loop_gives_the_permissions_of_the_template_written_out_by_hand(data):
    default = data.draw(st.lists(st.sampled_from(PORTS), min_size=1, max_size=3, unique=True))
    allowed = data.draw(st.lists(st.lists(st.sampled_from(PORTS), min_size=1, max_size=3, unique=True), max_size=2))
    sources = data.draw(st.lists(st.sampled_from(SOURCES), min_size=1, max_size=3, unique=True))
    collection = data.draw(st.sampled_from(["literal", "parameter", "mapping"]))
    from_port = data.draw(st.sampled_from(["!Ref Port", "!Sub '${Port}'", "{Ref: Port}"]))
    parameters = mappings = ""
    if collection == "literal":
        allowed, ports_node = [], "[" + ", ".join(default) + "]"
    elif collection == "parameter":
        values = ", ".join(f"'{','.join(value)}'" for value in [default, *allowed])
        parameters = (f"Parameters:\n  Ports:\n    Type: CommaDelimitedList\n    Default: '{','.join(default)}'\n"
                      + (f"    AllowedValues: [{values}]\n" if allowed else ""))
        ports_node = "!Ref Ports"
    else:
        allowed, ports_node = [], "!FindInMap [Windows, Admin, Ports]"
        mappings = f"Mappings:\n  Windows:\n    Admin:\n      Ports: [{', '.join(default)}]\n"
    text = HEAD + parameters + mappings + (
        f"Resources:\n  Fn::ForEach::Ports:\n    - Port\n    - {ports_node}\n"
        f"    - Fn::ForEach::Sources:\n        - Source\n        - [{', '.join(sources)}]\n"
        "        - Rule${Port}From&{Source}:\n            Type: AWS::EC2::SecurityGroupIngress\n"
        "            Properties:\n              GroupId: sg-12345678\n              IpProtocol: tcp\n"
        f"              FromPort: {from_port}\n              ToPort: !Ref Port\n              CidrIp: !Ref Source\n")
    ports = list(dict.fromkeys(port for value in [default, *allowed] for port in value))

    def permissions(result):
        assert result.errors == []
        return sorted((p.resource, p.group, p.protocol, p.ports, p.peer) for p in result.permissions)

    assert permissions(_parse(text)) == permissions(_parse(_written_out(ports, sources)))


def test_a_loop_in_a_serverless_fragment_is_expanded(tmp_path, capsys):
    """The service's own text does not spell Fn::ForEach: its fragments are looked at all the same."""
    from conftest import check_folder, write_files

    write_files(tmp_path, {
        "serverless.yml": ("service: jump\nprovider:\n  name: aws\ncustom:\n  adminCidr: 0.0.0.0/0\n"
                           "resources:\n  - ${file(./loops.yml)}\n"),
        # read on its own, the fragment's CidrIp is unknown (WPL001, info): these findings are the service's
        "loops.yml": "Resources:\n  Fn::ForEach::Groups:\n    - Name\n    - [Web, Admin]\n    - ${Name}Sg:\n"
                     + RDP_GROUP.replace("CidrIp: 0.0.0.0/0", "CidrIp: '${self:custom.adminCidr}'"),
    })
    code, findings, errors = check_folder(tmp_path, capsys)
    assert (code, errors) == (1, [])
    assert [line.split(": WPL")[0] + " " + line.split(" on ")[1].split(":")[0] for line in findings] == [
        "loops.yml:10:71 AdminSg", "loops.yml:10:71 WebSg"]
