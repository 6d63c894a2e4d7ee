"""Intrinsic functions: every value they can take, and malformed ones as errors, never crashes."""

from __future__ import annotations

import json

from winportlint.plugins.cloudformation import CloudFormationFormat


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
