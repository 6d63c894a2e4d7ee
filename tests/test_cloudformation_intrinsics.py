"""Intrinsic functions: every value they can take, and malformed ones as errors, never crashes."""

from __future__ import annotations

import json

import pytest

from winportlint.nodes import LoadError, load
from winportlint.plugins.cloudformation import CloudFormationFormat
from winportlint.plugins.cloudformation.intrinsics import SHORT_TAGS, ResourceRef, Resolver, Unknown


def _template(cidr, **parameters) -> bytes:
    return json.dumps({
        "Parameters": parameters,
        "Mappings": {"Net": {"dev": {"Admin": "0.0.0.0/0"}, "prod": {"Admin": "10.0.0.0/8"}}},
        "Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": cidr}]}}},
    }).encode()


def _peers(data: bytes):
    result = CloudFormationFormat().parse("t.json", data)
    return sorted((p.peer.kind, p.peer.text) for p in result.permissions), [e.message for e in result.errors]


def test_ref_gives_default_and_allowed_values():
    data = _template({"Ref": "Cidr"}, Cidr={"Type": "String", "Default": "10.0.0.0/8",
                                            "AllowedValues": ["10.0.0.0/8", "0.0.0.0/0"]})
    assert _peers(data) == ([("cidr", "0.0.0.0/0"), ("cidr", "10.0.0.0/8")], [])


def test_unknowns_are_unknown_not_the_world():
    assert _peers(_template({"Ref": "Cidr"}, Cidr={"Type": "String"})) == (
        [("unknown", "parameter Cidr has no default")], [])
    assert _peers(_template({"Fn::ImportValue": "x"})) == (
        [("unknown", "Fn::ImportValue is not known before deployment")], [])
    assert _peers(_template({"Ref": "AWS::Region"})) == ([("unknown", "pseudo parameter AWS::Region")], [])
    assert _peers(_template({"Fn::GetAtt": ["Sg", "GroupId"]})) == ([("unknown", "Sg.GroupId")], [])


def test_findinmap_with_an_unknown_key_gives_every_entry():
    data = _template({"Fn::FindInMap": ["Net", {"Ref": "Env"}, "Admin"]}, Env={"Type": "String"})
    assert _peers(data) == ([("cidr", "0.0.0.0/0"), ("cidr", "10.0.0.0/8")], [])


def test_sub_join_select_split():
    assert _peers(_template({"Fn::Sub": ["${A}/${B}", {"A": "0.0.0.0", "B": "0"}]})) == ([("cidr", "0.0.0.0/0")], [])
    assert _peers(_template({"Fn::Sub": "${!Literal}"})) == (
        [], ["Sg: CidrIp '${Literal}' is not a valid IPv4 CIDR: AWS rejects it"])
    assert _peers(_template({"Fn::Select": ["1", {"Fn::Split": [",", "a,10.0.0.0/8"]}]})) == ([("cidr", "10.0.0.0/8")], [])
    assert _peers(_template({"Fn::Select": [0, {"Ref": "List"}]}, List={
        "Type": "CommaDelimitedList", "Default": "0.0.0.0/0, 10.0.0.0/8"})) == ([("cidr", "0.0.0.0/0")], [])


def test_malformed_intrinsics_are_errors_with_lines():
    assert _peers(_template({"Fn::If": ["C", "0.0.0.0/0"]})) == ([], ["Sg: Fn::If needs a list of 3 items"])
    assert _peers(_template({"Ref": "Nowhere"})) == (
        [], ["Sg: Ref to 'Nowhere', which is neither a parameter nor a resource"])
    assert _peers(_template({"Fn::Select": [5, ["a"]]})) == ([], ["Sg: Fn::Select index 5 is outside the list"])


def test_select_of_a_resource_attribute_is_unknown_not_an_error():
    """``!Select [0, !GetAtt Broker.OpenWireEndpoints]``: a list known at deployment (found in
    serverless-patterns' ActiveMQ and RabbitMQ templates, reported as "index 0 is outside the list")."""
    assert _peers(_template({"Fn::Select": [0, {"Fn::GetAtt": ["Sg", "OpenWireEndpoints"]}]})) == (
        [("unknown", "Fn::Select of Sg.OpenWireEndpoints, not known before deployment")], [])


def test_getatt_with_a_mapping_as_resource_name_is_unknown_not_a_crash():
    # Found by fuzzing: an unhashable resource name raised TypeError.
    assert _peers(_template({"Fn::GetAtt": [{"a": 1}, "GroupId"]})) == (
        [("unknown", "Fn::GetAtt is not known before deployment")], [])


def test_a_mapping_value_that_finds_itself_is_an_error_not_a_recursion():
    """Found by fuzzing: a FindInMap in a mapping value that names the same entry (directly or
    through another entry) recursed until Python gave up."""
    for mappings in ({"M": {"a": {"b": {"Fn::FindInMap": ["M", "a", "b"]}}}},
                     {"M": {"a": {"b": {"Fn::FindInMap": ["M", "a", "c"]}, "c": {"Fn::FindInMap": ["M", "a", "b"]}}}}):
        data = json.dumps({"Mappings": mappings, "Resources": {"Sg": {
            "Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389,
                 "CidrIp": {"Fn::FindInMap": ["M", "a", "b"]}}]}}}}).encode()
        peers, errors = _peers(data)
        assert peers == []
        assert len(errors) == 1 and errors[0].startswith("Sg: mapping M/a/") and \
            errors[0].endswith("refers to itself through Fn::FindInMap")


def _values(expression: str, parameters: str = "", mappings: str = "", rules: str = ""):
    """The values the Resolver gives ``Value`` in a YAML template with a parameter, a mapping, a
    condition and a resource, and the parameters, mappings and Rules given (indented lines)."""
    text = ("Parameters:\n  Name: {Type: String, Default: web}\n" + parameters +
            "Mappings:\n  Net:\n    dev: {Admin: 0.0.0.0/0}\n    prod: {Admin: 10.0.0.0/8}\n" + mappings +
            "Conditions:\n  IsProd: !Equals [!Ref AWS::Region, us-east-1]\n"
            "Resources:\n  Sg: {Type: AWS::EC2::SecurityGroup}\n" + ("Rules:\n" + rules if rules else "") + expression)
    (document,) = load(text, False, SHORT_TAGS)
    resolver = Resolver("t.yaml", document.value)
    return [alternative.value for alternative in resolver.resolve(document.value["Value"], "Value")]


def _condition(function: str) -> list[Unknown]:
    return [Unknown(f"{function} is true or false (a condition)")]


def _rules(function: str) -> list[Unknown]:
    return [Unknown(f"{function} belongs to the Rules section")]


#: CloudFormation's template reference, pages "Intrinsic function reference" (with the condition
#: functions) and "Rules" (the functions of the Rules section): each function, an argument, and
#: the values it gives. Written from the documentation, not from the reader's own list.
REFERENCE = [
    ("Ref", "Name", ["web"]),
    ("Condition", "IsProd", _condition("Condition")),
    ("Fn::Base64", "0.0.0.0/0", ["MC4wLjAuMC8w"]),
    ("Fn::Cidr", "[10.0.0.0/16, 2, 8]", [["10.0.0.0/24", "10.0.1.0/24"]]),
    ("Fn::FindInMap", "[Net, dev, Admin]", ["0.0.0.0/0"]),
    ("Fn::GetAtt", "[Sg, GroupId]", [ResourceRef("Sg", "GroupId")]),
    ("Fn::GetAZs", "''", [Unknown("Fn::GetAZs depends on the region and account")]),
    ("Fn::ImportValue", "Shared", [Unknown("Fn::ImportValue is not known before deployment")]),
    ("Fn::Join", "['/', [0.0.0.0, '0']]", ["0.0.0.0/0"]),
    ("Fn::Length", "[a, b, c]", ["3"]),
    ("Fn::Select", "[1, [a, b]]", ["b"]),
    ("Fn::Split", "[',', 'a,b']", [["a", "b"]]),
    ("Fn::Sub", "'${Name}-sg'", ["web-sg"]),
    ("Fn::ToJsonString", "{a: [b, c], d: e}", ['{"a":["b","c"],"d":"e"}']),
    ("Fn::Transform", "{Name: Macro, Parameters: {}}", [Unknown("Fn::Transform is the output of a macro")]),
    ("Fn::And", "[{Condition: IsProd}, {Condition: IsProd}]", _condition("Fn::And")),
    ("Fn::Equals", "[a, b]", _condition("Fn::Equals")),
    ("Fn::If", "[IsProd, a, b]", ["a", "b"]),  # IsProd depends on the region: either may hold
    ("Fn::Not", "[{Condition: IsProd}]", _condition("Fn::Not")),
    ("Fn::Or", "[{Condition: IsProd}, {Fn::Equals: [a, a]}]", _condition("Fn::Or")),
    ("Fn::Contains", "[[a, b], a]", _rules("Fn::Contains")),
    ("Fn::EachMemberEquals", "[[a, a], a]", _rules("Fn::EachMemberEquals")),
    ("Fn::EachMemberIn", "[[a], [a, b]]", _rules("Fn::EachMemberIn")),
    ("Fn::RefAll", "AWS::EC2::VPC::Id", _rules("Fn::RefAll")),
    ("Fn::ValueOf", "[Name, Tags.Owner]", _rules("Fn::ValueOf")),
    ("Fn::ValueOfAll", "[AWS::EC2::VPC::Id, Tags.Owner]", _rules("Fn::ValueOfAll")),
]


@pytest.mark.parametrize("function, argument, values", REFERENCE, ids=[row[0] for row in REFERENCE])
def test_every_function_of_the_reference_is_read_in_short_and_long_form(function, argument, values):
    """The Rules functions were "unknown tag" errors that rejected whole Quick Start templates."""
    assert _values(f"Value: !{function.removeprefix('Fn::')} {argument}\n") == values
    if function != "Condition":  # {Condition: X} is the long form only inside condition functions
        assert _values(f"Value:\n  {function}: {argument}\n") == values


def test_for_each_is_read_and_unknown_not_an_error():
    """Fn::ForEach is written as a key with the loop's name; a loop the template's reader has
    not expanded (see test_cloudformation_loops) is an unknown value."""
    assert _values("Value:\n  Fn::ForEach::Ports:\n    - Port\n    - ['3389', '5985']\n"
                   "    - Rule${Port}: {FromPort: !Ref Port}\n") == [Unknown("Fn::ForEach loops are not expanded")]


def test_a_function_cloudformation_does_not_have_is_an_error_with_its_line():
    with pytest.raises(LoadError) as error:
        _values("Value:\n  Fn::Fly: [a]\n")
    assert (str(error.value), error.value.line) == ("unknown function 'Fn::Fly'", 12)


def test_rules_section_functions_load_in_a_template():
    """Rules decides no security-group rule: its functions are accepted and never resolved."""
    rules = ("  Subnets:\n    Assertions:\n"
             "      - Assert: !EachMemberIn [!ValueOfAll ['AWS::EC2::Subnet::Id', VpcId], !RefAll 'AWS::EC2::VPC::Id']\n"
             "      - Assert: !Not [!Contains [[a], !ValueOf [Name, Tags.Owner]]]\n"
             "      - Assert: !EachMemberEquals [!RefAll 'AWS::EC2::VPC::Id', vpc-1]\n")
    assert _values("Value: !Ref Name\n", rules=rules) == ["web"]


@pytest.mark.parametrize("argument, values", [
    ("[10.0.0.0/16, 1, 16]", [["10.0.0.0/16"]]),
    ("[10.0.7.1/16, 1, 8]", [["10.0.0.0/24"]]),  # the block's network, its host bits aside
    ("['2001:db8::/56', 2, 64]", [["2001:db8::/64", "2001:db8:0:1::/64"]]),
    ("[10.0.0.0/16, 300, 8]", [Unknown("Fn::Cidr with a count CloudFormation refuses")]),
    ("[10.0.0.0/24, 2, 8]", [Unknown("Fn::Cidr with a count CloudFormation refuses")]),
    ("[!Ref AWS::Region, 2, 8]", [Unknown("pseudo parameter AWS::Region")]),
    ("[not-a-block, 2, 8]", [Unknown("Fn::Cidr of values that are not a block, a count and a size")]),
])
def test_cidr_as_cloudformation_computes_it_or_unknown_never_an_error(argument, values):
    assert _values(f"Value: !Cidr {argument}\n") == values


def test_length_and_to_json_string_of_values_known_only_in_part():
    assert _values("Value:\n  Fn::Length: !Split [',', 'a,b,c,d']\n") == ["4"]
    assert _values("Value: !Length [a, !Ref AWS::NoValue]\n") == ["1"]
    assert _values("Value:\n  Fn::Length: !GetAZs ''\n") == [Unknown("Fn::GetAZs depends on the region and account")]
    assert _values("Value: !ToJsonString {a: !Ref Name, b: !Ref AWS::NoValue}\n") == ['{"a":"web"}']
    assert _values("Value: !ToJsonString [!If [IsProd, a, b]]\n") == ['["a"]', '["b"]']
    assert _values("Value: !ToJsonString {a: !GetAtt Sg.GroupId}\n") == [Unknown("Fn::ToJsonString of Sg.GroupId")]
    assert _values("Value: !ToJsonString {a: !ImportValue x}\n") == [
        Unknown("Fn::ImportValue is not known before deployment")]


_MAPS = ("  Tiers:\n    dev: {Networks: Dev}\n    prod: {Networks: Prod}\n"
         "  Dev:\n    Admin: {Cidr: 0.0.0.0/0}\n  Prod:\n    Admin: {Cidr: 10.0.0.0/8}\n")


def _map_values(expression: str, parameter: str = "{Type: String, Default: dev, AllowedValues: [dev, prod]}"):
    return _values(f"Value: {expression}\n", f"  Env: {parameter}\n", _MAPS)


def test_findinmap_whose_map_name_is_an_expression_gives_every_value_it_can_take():
    """Was "names unknown mapping 'None'": the map name was read only as written text."""
    assert _map_values("!FindInMap [!FindInMap [Tiers, !Ref Env, Networks], Admin, Cidr]") == [
        "0.0.0.0/0", "10.0.0.0/8"]
    assert _map_values("!FindInMap [!Ref Env, Admin, Cidr]", "{Type: String, AllowedValues: [Dev, Prod]}") == [
        "0.0.0.0/0", "10.0.0.0/8"]
    # A name known only at deployment may be any map that has the keys.
    assert _map_values("!FindInMap [!ImportValue maps, Admin, Cidr]") == ["0.0.0.0/0", "10.0.0.0/8"]


def test_findinmap_default_value_where_the_names_may_miss_the_map():
    """Was "needs a list of 3 items": the LanguageExtensions DefaultValue."""
    assert _map_values("!FindInMap [Dev, Admin, Cidr, {DefaultValue: 10.9.0.0/16}]") == ["0.0.0.0/0"]
    assert _map_values("!FindInMap [Dev, Guest, Cidr, {DefaultValue: 10.9.0.0/16}]") == ["10.9.0.0/16"]
    assert _map_values("!FindInMap [Tiers, !Ref Env, Networks, {DefaultValue: !Ref Env}]") == ["Dev", "Prod"]
    # A key known only at deployment selects any entry, or none: then the default.
    assert _map_values("!FindInMap [Tiers, !Ref Env, Networks, {DefaultValue: None}]", "{Type: String}") == [
        "Dev", "Prod", "None"]
    assert _map_values("!FindInMap [Missing, a, b, {DefaultValue: 0.0.0.0/0}]") == ["0.0.0.0/0"]


def test_malformed_findinmap_is_an_error_at_its_line():
    for expression, message in (
        ("!FindInMap [Dev, Admin]", "Fn::FindInMap needs a list of 3 items (and an optional {DefaultValue: x})"),
        ("!FindInMap [Dev, Admin, Cidr, x]", "Fn::FindInMap's fourth item must be {DefaultValue: x}"),
        ("!FindInMap [Dev, Admin, Cidr, {Default: x}]", "Fn::FindInMap's fourth item must be {DefaultValue: x}"),
        ("!FindInMap [Missing, a, b]", "Fn::FindInMap names unknown mapping 'Missing'"),
    ):
        with pytest.raises(LoadError) as error:
            _map_values(expression)
        assert (str(error.value), error.value.line) == (message, 19)


@pytest.mark.parametrize("name, from_port, to_port", [
    ("t.yaml", "3389.0", "3.389e+3"),
    ("t.json", "3389.0", "3.389e3"),
    ("t.yaml", "03389.0", "'3389'"),  # a float's leading zero is no octal
])
def test_a_whole_number_written_as_a_float_is_a_port(name, from_port, to_port):
    """cfn-lint accepts 3389.0 as an integer (JSON Schema does): it was an input error."""
    rule = f'{{"IpProtocol": "tcp", "FromPort": {from_port}, "ToPort": {to_port}, "CidrIp": "0.0.0.0/0"}}'
    data = ('{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": '
            f'[{rule}]}}}}}}}}')
    result = CloudFormationFormat().parse(name, data.encode())
    assert result.errors == []
    assert [(p.ports.low, p.ports.high) for p in result.permissions] == [(3389, 3389)]


def test_a_fractional_or_endless_port_is_still_an_error():
    for port in ("3389.5", ".inf"):
        data = ("Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      SecurityGroupIngress:\n"
                f"        - {{IpProtocol: tcp, FromPort: {port}, ToPort: 3389, CidrIp: 0.0.0.0/0}}\n")
        result = CloudFormationFormat().parse("t.yaml", data.encode())
        assert [(e.line, e.message) for e in result.errors] == [(6, f"Sg: FromPort '{port}' is not a port number")]


def test_a_port_written_as_a_string_is_decimal_whatever_its_zeros():
    """Only YAML's plain scalars are octal: the string "06475" (JSON, or quoted YAML) is 6475 to
    CloudFormation, which converts a string property to an integer in base 10 (cfn-lint too)."""
    for name, data in (("t.json", '{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": '
                                  '{"SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": "06475", '
                                  '"ToPort": "06475", "CidrIp": "0.0.0.0/0"}]}}}}'),
                       ("t.yaml", "Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
                                  "      SecurityGroupIngress:\n        - {IpProtocol: tcp, FromPort: '06475', "
                                  "ToPort: \"06475\", CidrIp: 0.0.0.0/0}\n")):
        result = CloudFormationFormat().parse(name, data.encode())
        assert result.errors == []
        assert [(p.ports.low, p.ports.high) for p in result.permissions] == [(6475, 6475)]
