"""CloudFormation conditions evaluated as CloudFormation does (issue #15): a rule is read in the
worlds of parameter values and condition outcomes where its resource exists, and in one world a
condition takes the same branch everywhere (FromPort, ToPort, CidrIp, the resource's existence).

The property test builds random templates whose fields share conditions and compares what the
format reads with a brute-force enumeration of every deployment, written here from the template
language's meaning (no code shared with the reader)."""

from __future__ import annotations

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DETERMINISTIC
from winportlint.plugins.cloudformation import CloudFormationFormat

FORMAT = CloudFormationFormat()


def read(text: str):
    result = FORMAT.parse("t.yaml", text.encode())
    assert result is not None
    return result


def rows(result):
    return sorted((p.resource, p.protocol, p.ports and (p.ports.low, p.ports.high), p.peer.kind, p.peer.text,
                   p.location.line) for p in result.permissions)


def test_from_and_to_port_of_one_condition_take_the_same_branch():
    """Both ends ``!If [HasProxy, !Ref ProxyPort, !Ref AppPort]`` were paired across branches:
    "invalid port range 8000-80", an input error on a valid template."""
    result = read("""\
Parameters:
  UseProxy: {Type: String, Default: "no", AllowedValues: ["yes", "no"]}
  ProxyPort: {Type: Number, Default: 8000}
  AppPort: {Type: Number, Default: 80}
Conditions:
  HasProxy: !Equals [!Ref UseProxy, "yes"]
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: proxy or application
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: !If [HasProxy, !Ref ProxyPort, !Ref AppPort]
          ToPort: !If [HasProxy, !Ref ProxyPort, !Ref AppPort]
          CidrIp: 0.0.0.0/0
""")
    assert result.errors == []
    assert rows(result) == [("Sg", "tcp", (80, 80), "cidr", "0.0.0.0/0", 16),
                            ("Sg", "tcp", (8000, 8000), "cidr", "0.0.0.0/0", 16)]
    details = {p.ports.low: [s.detail for s in p.provenance] for p in result.permissions}
    assert details[80][0] == "condition HasProxy is false (UseProxy = 'no')"
    assert details[8000][0] == "condition HasProxy is true (UseProxy = 'yes')"


def test_the_same_find_in_map_key_selects_one_entry_for_both_ends():
    result = read("""\
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
Mappings:
  Ports:
    dev: {From: 3389, To: 3389}
    prod: {From: 443, To: 443}
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: one port per stage
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: !FindInMap [Ports, !Ref Stage, From], ToPort: !FindInMap [Ports, !Ref Stage, To],
           CidrIp: 0.0.0.0/0}
""")
    assert result.errors == []
    assert rows(result) == [("Sg", "tcp", (443, 443), "cidr", "0.0.0.0/0", 14),
                            ("Sg", "tcp", (3389, 3389), "cidr", "0.0.0.0/0", 14)]


def test_a_resource_exists_only_where_its_condition_is_true():
    """A port parameter whose default is '' on a resource that exists only when a port is given was
    "FromPort '' is not a port number". Where it exists, its port is whatever is passed: unknown."""
    result = read("""\
Parameters:
  Port: {Type: String, Default: ""}
Conditions:
  HasPort: !Not [!Equals [!Ref Port, ""]]
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Condition: HasPort
    Properties:
      GroupDescription: only with a port
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: !Ref Port, ToPort: !Ref Port, CidrIp: 0.0.0.0/0}
""")
    assert result.errors == []
    assert rows(result) == [("Sg", "unknown", None, "cidr", "0.0.0.0/0", 12)]
    assert [s.detail for s in result.permissions[0].provenance][:2] == [
        "resource condition HasPort is true (parameter Port is passed another value at deployment)",
        "parameter Port, another value passed at deployment"]


def test_a_resource_whose_condition_is_never_true_holds_nothing():
    result = read("""\
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, test]}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  Never: !And [!Condition IsProd, !Not [!Condition IsProd]]
Resources:
  ProdSg:
    Type: AWS::EC2::SecurityGroup
    Condition: IsProd
    Properties:
      GroupDescription: never created
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}]
  NeverSg:
    Type: AWS::EC2::SecurityGroup
    Condition: Never
    Properties:
      GroupDescription: never created
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}]
  Rule:
    Type: AWS::EC2::SecurityGroupIngress
    Condition: IsProd
    Properties: {GroupId: sg-1, IpProtocol: tcp, FromPort: 445, ToPort: 445, CidrIp: 0.0.0.0/0}
""")
    assert (result.errors, result.permissions) == ([], [])


def test_a_condition_on_what_the_template_does_not_give_may_be_either():
    """A pseudo parameter, a parameter without a default: both outcomes, one per world."""
    result = read("""\
Parameters:
  Office: {Type: String}
Conditions:
  InEurope: !Or [!Equals [!Ref "AWS::Region", eu-west-1], !Equals [!Ref "AWS::Region", eu-central-1]]
  HasOffice: !Not [!Equals [!Ref Office, ""]]
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Condition: InEurope
    Properties:
      GroupDescription: the office, or the world
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: !If [HasOffice, !Ref Office, 0.0.0.0/0]}
        - {IpProtocol: tcp, FromPort: !If [InEurope, 5985, 22], ToPort: !If [InEurope, 5986, 22],
           CidrIp: 0.0.0.0/0}
""")
    assert result.errors == []
    assert rows(result) == [
        ("Sg", "tcp", (3389, 3389), "cidr", "0.0.0.0/0", 13),
        ("Sg", "tcp", (3389, 3389), "unknown", "parameter Office has no default", 13),
        ("Sg", "tcp", (5985, 5986), "cidr", "0.0.0.0/0", 15)]
    world = [s.detail for s in result.permissions[0].provenance if s.kind == "condition"]
    assert world[0] == "resource condition InEurope is true (pseudo parameter AWS::Region)"


def test_a_condition_that_depends_on_itself_is_an_error_at_its_use():
    result = read("""\
Conditions:
  A: !Not [!Condition B]
  B: !Condition A
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Condition: A
    Properties:
      GroupDescription: cycle
      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}]
""")
    assert [(e.line, e.message) for e in result.errors] == [(3, "Sg: condition 'A' depends on itself")]


def _chain(prefix: str, base: int, count: int) -> str:
    """``count`` values (``base`` ...), each chosen by a condition of its own (``prefix`` and a number)."""
    return "".join(f"!If [{prefix}{i}, {base + i}, " for i in range(count - 1)) + f"{base + count - 1}" + \
        "]" * (count - 1)


def _many_worlds(protocol: str, ports: tuple[str, str], count: int):
    """A rule whose protocol and ends are chosen by region conditions (``count`` per chain)."""
    conditions = "".join(f"  {prefix}{i}: !Equals [!Ref \"AWS::Region\", {prefix}{i}]\n"
                         for prefix in "PAB" for i in range(count - 1))
    return read(f"Conditions:\n{conditions}Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n"
                f"    Properties:\n      GroupDescription: many worlds\n      SecurityGroupIngress:\n"
                f"        - {{IpProtocol: {protocol}, FromPort: {ports[0]}, ToPort: {ports[1]}, CidrIp: 0.0.0.0/0}}\n")


def test_past_the_bound_each_value_is_read_on_its_own_and_said_so():
    """Each end chosen by twenty conditions of its own: more combinations than the bound. The rule
    is still read (never an input error), each value on its own, and the provenance says so."""
    result = _many_worlds("tcp", (_chain("A", 1000, 21), _chain("B", 2000, 21)), 21)
    assert result.errors == []
    assert {(p.ports.low, p.ports.high) for p in result.permissions} == {
        (low, high) for low in range(1000, 1021) for high in range(2000, 2021)}
    assert {p.provenance[-1].detail for p in result.permissions} == {
        "more than 256 combinations of conditions and parameter values: each value read on its own"}


# --- random templates against every deployment ------------------------------------------------------

#: Parameters with the values they can take (the first is the default). Every one has
#: AllowedValues, so that the deployments are exactly the product of these.
PARAMETERS = {"Stage": ["dev", "test", "prod"], "Proxy": ["yes", "no"], "Port": ["3389", "445"],
              "Source": ["0.0.0.0/0", "10.0.0.0/8"]}
CONDITIONS = ["C0", "C1", "C2"]
PORT_PAIRS = [(22, 22), (80, 443), (3389, 3389), (5985, 5986), ("Port", "Port")]
CIDRS = ["0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16", "Source"]


def _condition(depth: int, earlier: list[str]):
    """A condition function as (template value, meaning: deployment -> bool)."""
    equals = st.tuples(st.sampled_from(["Stage", "Proxy"]), st.sampled_from(["dev", "prod", "yes", "x"])).map(
        lambda pair: ({"Fn::Equals": [{"Ref": pair[0]}, pair[1]]}, lambda env, p=pair: env[p[0]] == p[1]))
    leaves = [equals]
    if earlier:
        leaves.append(st.sampled_from(earlier).map(
            lambda name: ({"Condition": name}, lambda env, n=name: env[n])))
    if depth == 0:
        return st.one_of(*leaves)
    inner = _condition(depth - 1, earlier)
    nots = inner.map(lambda c: ({"Fn::Not": [c[0]]}, lambda env, f=c[1]: not f(env)))
    ands = st.lists(inner, min_size=2, max_size=3).map(
        lambda cs: ({"Fn::And": [c[0] for c in cs]}, lambda env, fs=[c[1] for c in cs]: all(f(env) for f in fs)))
    ors = st.lists(inner, min_size=2, max_size=3).map(
        lambda cs: ({"Fn::Or": [c[0] for c in cs]}, lambda env, fs=[c[1] for c in cs]: any(f(env) for f in fs)))
    return st.one_of(*leaves, nots, ands, ors)


def _branches(leaves):
    """A tree of Fn::If on the conditions, as (shape, meaning: deployment -> leaf)."""
    leaf = st.sampled_from(leaves).map(lambda value: (("leaf", value), lambda env, v=value: v))
    return st.recursive(leaf, lambda inner: st.tuples(st.sampled_from(CONDITIONS), inner, inner).map(
        lambda t: (("if", t[0], t[1][0], t[2][0]),
                   lambda env, c=t[0], a=t[1][1], b=t[2][1]: a(env) if env[c] else b(env))), max_leaves=4)


def _written(shape, pick):
    """The template value of a tree, ``pick`` choosing what a leaf writes."""
    if shape[0] == "leaf":
        value = pick(shape[1])
        return {"Ref": value} if value in PARAMETERS else value
    return {"Fn::If": [shape[1], _written(shape[2], pick), _written(shape[3], pick)]}


@st.composite
def templates(draw):
    conditions = {}
    meanings = {}
    for index, name in enumerate(CONDITIONS):
        value, meaning = draw(_condition(2, CONDITIONS[:index]))
        conditions[name], meanings[name] = value, meaning
    ports, port_meaning = draw(_branches(PORT_PAIRS))
    cidrs, cidr_meaning = draw(_branches(CIDRS))
    resource_condition = draw(st.sampled_from([None, *CONDITIONS]))
    resource = {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "random", "SecurityGroupIngress": [{
            "IpProtocol": "tcp", "FromPort": _written(ports, lambda pair: pair[0]),
            "ToPort": _written(ports, lambda pair: pair[1]), "CidrIp": _written(cidrs, lambda cidr: cidr)}]}}
    if resource_condition:
        resource["Condition"] = resource_condition
    template = {"Parameters": {name: {"Type": "String", "Default": values[0], "AllowedValues": values}
                               for name, values in PARAMETERS.items()},
                "Conditions": conditions, "Resources": {"Sg": resource}}
    return template, meanings, port_meaning, cidr_meaning, resource_condition


def _every_deployment(meanings, port_meaning, cidr_meaning, resource_condition) -> set:
    """What the rule opens in each deployment where the group exists, by enumeration."""
    opened = set()
    for values in itertools.product(*PARAMETERS.values()):
        env = dict(zip(PARAMETERS, values))
        for name in CONDITIONS:
            env[name] = meanings[name](env)
        if resource_condition and not env[resource_condition]:
            continue
        low, high = (int(env[end]) if end in PARAMETERS else end for end in port_meaning(env))
        cidr = cidr_meaning(env)
        opened.add((low, high, env[cidr] if cidr in PARAMETERS else cidr))
    return opened


@settings(max_examples=150, **DETERMINISTIC)
@given(templates())
def test_random_templates_read_as_every_deployment(case):
    template, meanings, port_meaning, cidr_meaning, resource_condition = case
    result = FORMAT.parse("t.json", json.dumps(template).encode())
    assert result is not None and result.errors == []  # never "invalid port range"
    read_as = {(p.ports.low, p.ports.high, p.peer.text) for p in result.permissions}
    assert read_as == _every_deployment(meanings, port_meaning, cidr_meaning, resource_condition)


def test_too_many_values_even_one_by_one_is_an_unknown_rule_not_an_error_or_a_hang():
    """Fifty values for each of protocol, FromPort and ToPort: 125,000 pairings. The rule is read
    as opening unknown ports to an unknown source (WPL001), in one step."""
    result = _many_worlds(_chain("P", 1, 50), (_chain("A", 1000, 50), _chain("B", 2000, 50)), 50)
    assert result.errors == []
    assert [(p.protocol, p.ports, p.peer.kind, p.peer.text) for p in result.permissions] == [
        ("unknown", None, "unknown", "its fields take too many values to read "
                                     "(expression can take more than 256 values)")]


def test_a_rule_list_of_too_many_forms_is_unknown_rules_not_an_error():
    """A whole list chosen by a condition, whose nine items are each chosen by another: 512 forms."""
    conditions = "".join(f"  C{i}: !Equals [!Ref \"AWS::Region\", r{i}]\n" for i in range(10))
    rule = "{{IpProtocol: tcp, FromPort: {0}, ToPort: {0}, CidrIp: 10.0.0.0/8}}"
    items = ", ".join(f"!If [C{i}, {rule.format(22)}, {rule.format(80)}]" for i in range(9))
    result = read(f"Conditions:\n{conditions}Resources:\n  Sg:\n    Type: AWS::EC2::SecurityGroup\n"
                  f"    Properties:\n      GroupDescription: many forms\n"
                  f"      SecurityGroupIngress: !If [C9, [{items}], []]\n")
    assert result.errors == []
    assert [(p.protocol, p.peer.kind, p.location.line) for p in result.permissions] == [("unknown", "unknown", 17)]
    assert result.permissions[0].peer.text == \
        "SecurityGroupIngress: expression can take more than 256 values"


def test_a_condition_of_too_many_combinations_may_be_either_not_an_error():
    """Ten conditions of three outcomes each (two parameters apiece), joined by Fn::And: too many
    combinations to weigh. The condition may be true or false; nothing is an input error."""
    parameters = "".join(f"  {name}{i}: {{Type: String, Default: a, AllowedValues: [a, b]}}\n"
                         for i in range(10) for name in "PQ")
    conditions = "".join(f"  C{i}: !Or [!Equals [!Ref P{i}, b], !Equals [!Ref Q{i}, b]]\n" for i in range(10))
    every = ", ".join(f"!Condition C{i}" for i in range(10))
    result = read(f"Parameters:\n{parameters}Conditions:\n{conditions}  All: !And [{every}]\nResources:\n"
                  "  Sg:\n    Type: AWS::EC2::SecurityGroup\n    Condition: All\n    Properties:\n"
                  "      GroupDescription: x\n"
                  "      SecurityGroupIngress: [{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}]\n")
    assert result.errors == []
    assert [p.provenance[0].detail for p in result.permissions] == [
        "resource condition All is true (condition All weighs more than 4096 combinations of values)"]
