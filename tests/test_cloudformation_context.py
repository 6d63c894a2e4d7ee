"""What CloudFormation templates say about what their security groups protect (issue #7):
the exact Target, Evidence, SubnetAcl and network ACL / load balancer Permission records
the format emits for tests/context/cloudformation/, and bad values as errors, never crashes."""

from __future__ import annotations

import json
from ipaddress import ip_network
from pathlib import Path

import pytest

from winportlint.model import Direction, Evidence, Location, Peer, PortRange, Provenance, SubnetAcl, Target
from winportlint.plugins.cloudformation import CloudFormationFormat

FIXTURES = Path(__file__).parent / "context" / "cloudformation"
FORMAT = CloudFormationFormat()
INSTANCE = "AWS::EC2::Instance"
LAUNCH_TEMPLATE = "AWS::EC2::LaunchTemplate"
AUTO_SCALING_GROUP = "AWS::AutoScaling::AutoScalingGroup"
SSM_2022 = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"
SSM_2019 = "/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base"


def parse(name: str):
    result = FORMAT.parse(name, (FIXTURES / name).read_bytes())
    assert result is not None
    return result


def parse_text(text: str, name: str = "t.yaml"):
    return FORMAT.parse(name, text.encode())


def at(line: int, column: int = 3, file: str = "") -> Location:
    return Location(file, line, column)


def located(records, file: str):
    """The records with ``file`` left out of their locations, to compare with at()."""
    def strip(location):
        return location._replace(file="") if location is not None else None

    out = []
    for record in records:
        if isinstance(record, Target):
            record = record._replace(location=strip(record.location), evidence=tuple(
                e._replace(location=strip(e.location)) for e in record.evidence))
        else:
            record = record._replace(location=strip(record.location))
        out.append(record)
    return out


def rows(permissions, control: str):
    """The identity of each permission of one control."""
    return [(p.resource, p.group, p.direction.value, p.protocol, str(p.ports) if p.ports else None, p.peer.kind,
             p.peer.text, p.rule_number, p.action, p.location.line, p.location.column, p.rule_location.line,
             p.guards, tuple(str(ports) for ports in p.forwards_to))
            for p in permissions if p.control == control]


# --- targets and evidence -------------------------------------------------------------------------

def test_instances_every_linking_form_and_evidence_source():
    result = parse("instances.yaml")
    assert result.errors == []
    assert located(result.targets, "instances.yaml") == [
        # Ref, GetAtt GroupId and a literal id; resolve:ssm in ImageId; a subnet by Ref
        Target("ByRef", INSTANCE, at(32), ("RdpGroup", "WinRmGroup", "sg-0123456789abcdef0"), ("Subnet",), (), (
            Evidence("image", SSM_2022, "ImageId", at(35, 16)),
        )),
        # SecurityGroups by name (the group that has it too) and by Ref; an SSM-typed parameter's default;
        # a subnet-typed parameter's default
        Target("ByName", INSTANCE, at(38), ("rdp-admins", "RdpGroup", "WinRmGroup"), ("subnet-0aaa",), (), (
            Evidence("image", SSM_2019, "Parameters.WindowsAmi.Default", at(6, 14)),
        )),
        # NetworkInterfaces: GroupSet, SubnetId and an interface of the template; user data through
        # Fn::Base64 and Fn::Sub (a pseudo parameter left as written)
        Target("ByInterface", INSTANCE, at(44), ("RdpGroup",), ("subnet-0bbb",), ("Interface",), (
            Evidence("image", "ami-0123456789abcdef0", "Parameters.PlainAmi.Default", at(9, 14)),
            Evidence("user-data", "<powershell>\nEnable-PSRemoting -Force # ${AWS::StackName}\n</powershell>\n",
                     "UserData", at(55, 9)),
        )),
        Target("FromTemplate", INSTANCE, at(59), (), (), ("Template",), ()),
        # Fn::If: each branch its own evidence (a Linux SSM path is evidence too: the core decides);
        # user data through Fn::Join, the unknown part left out
        Target("Chosen", INSTANCE, at(65), ("RdpGroup",), (), (), (
            Evidence("image", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", "ImageId",
                     at(70, 11)),
            Evidence("image", "ami-0fedcba9876543210", "ImageId", at(71, 11)),
            Evidence("user-data", "<script>\nnet user admin \n</script>", "UserData", at(73, 17)),
        )),
        Target("Interface", "AWS::EC2::NetworkInterface", at(80), ("WinRmGroup",), ("Subnet",), (), ()),
        Target("Template", LAUNCH_TEMPLATE, at(85), (), (), (), (
            Evidence("image", "ami-0aaaabbbbccccdddd", "LaunchTemplateData.ImageId", at(89, 18)),
        )),
        # "Bare" (no group, subnet, use or evidence) gives no Target
    ]


def test_launch_templates_configurations_and_auto_scaling_groups():
    result = parse("fleet.yaml")
    assert result.errors == []
    assert located(result.targets, "fleet.yaml") == [
        # Fn::Sub of a parameter with allowed values: one evidence per value; NetworkInterfaces[].Groups;
        # user data through Fn::Base64 and Fn::Join with a Fn::Sub part
        Target("FleetTemplate", LAUNCH_TEMPLATE, at(24), ("FleetGroup",), ("subnet-0ccc",), (), (
            Evidence("image", SSM_2022, "LaunchTemplateData.ImageId", at(29, 18)),
            Evidence("image", SSM_2019, "LaunchTemplateData.ImageId", at(29, 18)),
            Evidence("user-data", "<powershell>\nSet-Item WSMan:\\localhost\\Service\\Auth\\Basic -Value ${Basic}\n"
                                  "</powershell>", "LaunchTemplateData.UserData", at(35, 11)),
        )),
        # Fn::FindInMap with a key that is not literal: every entry, where the mapping holds it
        Target("MappedTemplate", LAUNCH_TEMPLATE, at(41), ("FleetGroup",), (), (), (
            Evidence("image", "/aws/service/ami-windows-latest/Windows_Server-2016-English-Full-Base",
                     "Mappings.Images.windows.Ami", at(14, 12)),
            Evidence("image", "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
                     "Mappings.Images.linux.Ami", at(16, 12)),
        )),
        Target("LegacyConfiguration", "AWS::AutoScaling::LaunchConfiguration", at(47), ("FleetGroup",), (), (), (
            Evidence("image", "ami-0123456789abcdef0", "ImageId", at(51, 16)),
            Evidence("user-data", "<powershell>Install-WindowsFeature Web-Server</powershell>", "UserData",
                     at(54, 17)),
        )),
        Target("ById", AUTO_SCALING_GROUP, at(55), (), ("subnet-0ddd", "AppSubnet"), ("MappedTemplate",), ()),
        # a launch template or configuration by its name is the resource that has the name
        Target("ByTemplateName", AUTO_SCALING_GROUP, at(64), (), (), ("FleetTemplate",), ()),
        Target("ByConfigurationRef", AUTO_SCALING_GROUP, at(72), (), (), ("LegacyConfiguration",), ()),
        Target("ByConfigurationName", AUTO_SCALING_GROUP, at(78), (), (), ("LegacyConfiguration",), ()),
        # MixedInstancesPolicy, its overrides (a template of another stack stays as written), Fn::Split subnets
        Target("Mixed", AUTO_SCALING_GROUP, at(84), (), ("subnet-0eee", "subnet-0fff"),
               ("FleetTemplate", "elsewhere-template"), ()),
    ]


def test_json_template_user_data_and_resolve_ssm_with_a_version():
    template = {"Resources": {
        "Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "d"}},
        "Host": {"Type": "AWS::EC2::Instance", "Properties": {
            "ImageId": "{{resolve:ssm:" + SSM_2022 + ":3}}",
            "SecurityGroupIds": [{"Fn::GetAtt": ["Sg", "GroupId"]}],
            "UserData": {"Fn::Base64": {"Fn::Join": ["", ["<powershell>\n", {"Fn::Sub": "Rename-Computer ${Name}"},
                                                          "\n</powershell>"]]}},
        }},
    }}
    result = parse_text(json.dumps(template, indent=1), "t.json")
    assert result.errors == []
    assert [(t.resource, t.groups, [(e.kind, e.value, e.field, e.location.line) for e in t.evidence])
            for t in result.targets] == [
        ("Host", ("Sg",), [("image", SSM_2022, "ImageId", 12),
                           ("user-data", "<powershell>\nRename-Computer ${Name}\n</powershell>", "UserData", 21)])]


def test_user_data_is_cut_at_64_kib():
    text = "Resources:\n  Sg: {Type: AWS::EC2::SecurityGroup}\n  Host:\n    Type: AWS::EC2::Instance\n" \
           "    Properties:\n      SecurityGroups: [!Ref Sg]\n      UserData: !Base64 \"<powershell>" + \
           "x" * 70000 + "\"\n"
    (target,) = parse_text(text).targets
    assert [len(e.value) for e in target.evidence] == [65536]


# --- network ACLs -----------------------------------------------------------------------------------

def test_network_acl_entries_and_subnet_associations():
    result = parse("network-acl.yaml")
    assert result.errors == []
    assert rows(result.permissions, "network-acl") == [
        # resource, ACL, direction, protocol, ports, peer, rule number, action, CIDR line/col, entry line
        ("DenyRdp", "PublicAcl", "ingress", "tcp", "3389", "cidr", "0.0.0.0/0", 90, "deny", 24, 18, 17, (), ()),
        ("AllowAll", "PublicAcl", "ingress", "all", None, "cidr", "0.0.0.0/0", 100, "allow", 33, 18, 26, (), ()),
        ("AllowSmbV6", "PublicAcl", "ingress", "udp", "137-139", "cidr", "::/0", 110, "allow", 42, 22, 34, (), ()),
        ("Outbound", "acl-0123456789abcdef0", "egress", "tcp", None, "cidr", "0.0.0.0/0", 100, "allow", 54, 18, 46,
         (), ()),
    ]
    (deny, *_) = result.permissions
    assert deny.resource_type == "AWS::EC2::NetworkAclEntry"
    assert deny.peer == Peer("cidr", "0.0.0.0/0", ip_network("0.0.0.0/0"))
    assert deny.resource_location == deny.rule_location == Location("network-acl.yaml", 17, 3)
    assert Provenance("RuleNumber", "parameter", "parameter AdminRule default",
                      Location("network-acl.yaml", 6, 14)) in deny.provenance
    assert result.subnet_acls == [
        SubnetAcl("PublicAcl", "PublicSubnet", Location("network-acl.yaml", 55, 3)),
        SubnetAcl("PublicAcl", "subnet-0aaa", Location("network-acl.yaml", 60, 3)),
    ]


def test_network_acl_entry_metadata_ignores_and_conditions():
    # The entry exists only where Open is true, where its action is allow: never deny.
    text = """\
Parameters:
  Stage: {Type: String}
Conditions:
  Open: !Equals [!Ref Stage, test]
Resources:
  Entry:
    Type: AWS::EC2::NetworkAclEntry
    Condition: Open
    Metadata:
      winportlint:
        ignore: [{id: WPL601, reason: "bastion subnet, SEC-9"}]
    Properties:
      NetworkAclId: acl-1
      RuleNumber: 100
      Protocol: 6
      RuleAction: !If [Open, allow, deny]
      CidrBlock: 0.0.0.0/0
      PortRange: {From: 3389, To: 3389}
"""
    result = parse_text(text)
    assert result.errors == []
    assert [(p.action, p.ignores[0].ids, [s.kind for s in p.provenance]) for p in result.permissions] == [
        ("allow", ("WPL601",), ["condition", "condition"])]
    assert result.permissions[0].provenance[0].detail == \
        "resource condition Open is true (parameter Stage has no default)"


# --- load balancers ---------------------------------------------------------------------------------

def test_load_balancer_listeners_target_groups_and_classic():
    result = parse("load-balancers.yaml")
    assert result.errors == []
    assert rows(result.permissions, "load-balancer") == [
        # default scheme; a target group by DefaultActions and one by a listener rule; the LB's groups
        ("Https", "Public", "ingress", "tcp", "443", "cidr", "0.0.0.0/0", None, "allow", 19, 13, 15,
         ("BalancerGroup",), ("5986", "3389")),
        # TCP_UDP: two permissions; ForwardConfig (a target group of another stack adds no port)
        ("Rdp", "Network", "ingress", "tcp", "3389", "cidr", "0.0.0.0/0", None, "allow", 47, 13, 43, (), ("3389",)),
        ("Rdp", "Network", "ingress", "udp", "3389", "cidr", "0.0.0.0/0", None, "allow", 47, 13, 43, (), ("3389",)),
        # classic ELB: one per listener, at the LoadBalancerPort value; the internal ones give nothing
        ("Classic", "Classic", "ingress", "tcp", "80", "cidr", "0.0.0.0/0", None, "allow", 81, 29, 81,
         ("sg-0123456789abcdef0",), ("5985",)),
        ("Classic", "Classic", "ingress", "tcp", "3389", "cidr", "0.0.0.0/0", None, "allow", 84, 30, 84,
         ("sg-0123456789abcdef0",), ("3389",)),
    ]
    https, rdp = (p for p in result.permissions if p.resource in ("Https", "Rdp") and p.protocol == "tcp")
    file = "load-balancers.yaml"
    assert https.resource_type == "AWS::ElasticLoadBalancingV2::Listener"
    assert https.direction is Direction.INGRESS and https.forwards_to == (PortRange(5986, 5986), PortRange(3389, 3389))
    assert https.provenance == (
        Provenance("Scheme", "default", "internet-facing", Location(file, 10, 3)),
        Provenance("TargetGroupArn", "reference", "target group WinRmTargets port 5986", Location(file, 34, 13)),
        Provenance("TargetGroupArn", "reference", "target group RdpTargets port 3389", Location(file, 59, 13)),
    )
    assert rdp.provenance == (
        Provenance("Scheme", "literal", "internet-facing", Location(file, 41, 15)),
        Provenance("TargetGroupArn", "reference", "target group RdpTargets port 3389", Location(file, 59, 13)),
    )
    assert {p.resource for p in result.permissions} == {"BalancerGroup", "Https", "Rdp", "Classic"}


def test_a_scheme_chosen_by_a_condition_gives_a_permission_for_the_internet_facing_branch_only():
    text = """\
Parameters:
  Stage: {Type: String}
Conditions:
  Public: !Equals [!Ref Stage, demo]
Resources:
  Lb:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties:
      Scheme: !If [Public, internet-facing, internal]
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties: {LoadBalancerArn: !Ref Lb, Port: 5985, Protocol: HTTP, DefaultActions: []}
"""
    result = parse_text(text)
    assert result.errors == []
    assert [(p.peer.text, [(s.field, s.kind, s.detail) for s in p.provenance]) for p in result.permissions] == [
        ("0.0.0.0/0", [("Scheme", "condition", "condition Public is true (parameter Stage has no default)"),
                       ("Scheme", "literal", "internet-facing")])]


# --- values that cannot be known, and malformed ones --------------------------------------------------

def test_unresolvable_values_are_skipped_not_crashes():
    result = parse("unresolvable.yaml")
    assert result.errors == []
    # ImportValue names nothing; a parameter without a value names itself (another Ref of it is the same
    # thing); the AMI parameter has no default: no evidence; a nested stack's output is not the stack
    assert located(result.targets, "unresolvable.yaml") == [
        Target("Server", INSTANCE, at(15), ("GroupParam",), (), (), ())]
    assert rows(result.permissions, "network-acl") == [
        ("Imported", "Imported", "ingress", "unknown", None, "unknown", "Fn::ImportValue is not known before deployment",
         None, "allow", 33, 18, 26, (), ())]  # ByParameter's RuleAction is not known: no permission
    assert rows(result.permissions, "load-balancer") == [
        ("Unknown", "Balancer", "ingress", "tcp", "3389", "unknown", "parameter SchemeParam has no default", None,
         "allow", 51, 13, 47, (), ())]  # Elsewhere's port is not known: no permission


MALFORMED = """\
Resources:
  Sg: {{Type: AWS::EC2::SecurityGroup, Properties: {{GroupDescription: d}}}}
  Good:
    Type: AWS::EC2::Instance
    Properties: {{SecurityGroups: [!Ref Sg]}}
  Bad:
    Type: {kind}
    Properties:
{properties}
"""


def props(*lines: str) -> str:
    return "\n".join("      " + line for line in lines)


@pytest.mark.parametrize(("kind", "properties", "line", "message"), [
    ("AWS::EC2::Instance", props("ImageId: !If [Cond, ami-1]"), 9, "Fn::If needs a list of 3 items"),
    ("AWS::EC2::Instance", props("NetworkInterfaces: eni-1"), 9,
     "NetworkInterfaces must be a list of network interface mappings"),
    ("AWS::EC2::Instance", props("SecurityGroupIds: [{Key: x}]"), 9,
     "SecurityGroupIds must name a resource, not a mapping"),
    ("AWS::EC2::LaunchTemplate", props("LaunchTemplateData: [a]"), 9, "LaunchTemplateData must be a mapping"),
    ("AWS::EC2::Instance", props("UserData: !Base64 {'Fn::Join': [x]}"), 9, "Fn::Join needs a list of 2 items"),
    ("AWS::EC2::NetworkAclEntry", props("NetworkAclId: acl-1", "RuleNumber: 1", "Protocol: 6", "RuleAction: maybe",
                                        "CidrBlock: 0.0.0.0/0"), 12, "RuleAction 'maybe' is not allow or deny"),
    ("AWS::EC2::NetworkAclEntry", props("NetworkAclId: acl-1", "RuleNumber: first", "Protocol: 6",
                                        "RuleAction: allow", "CidrBlock: 0.0.0.0/0"), 10,
     "RuleNumber 'first' is not a number"),
    ("AWS::EC2::NetworkAclEntry", props("Protocol: 6", "RuleAction: allow", "CidrBlock: 0.0.0.0/0", "PortRange: 3389"),
     12, "PortRange must be a mapping with From and To"),
    ("AWS::EC2::NetworkAclEntry", props("Protocol: tcpish", "RuleAction: allow", "CidrBlock: 0.0.0.0/0"), 9,
     "Protocol 'tcpish' is not a protocol"),
    ("AWS::EC2::NetworkAclEntry", props("Protocol: 6", "RuleAction: allow"), 9,
     "network ACL entry has no CidrBlock or Ipv6CidrBlock"),
    ("AWS::EC2::NetworkAclEntry", props("Protocol: 6", "RuleAction: allow", "CidrBlock: 0.0.0.0/0",
                                        "PortRange: {From: 3390, To: 3389}"), 9,
     "invalid port range 3390-3389 (PortRange.From 3390, PortRange.To 3389)"),
    ("AWS::ElasticLoadBalancingV2::Listener", props("LoadBalancerArn: arn", "Port: http"), 10,
     "Port 'http' is not a port number"),
    ("AWS::ElasticLoadBalancingV2::Listener", props("LoadBalancerArn: arn", "Port: 21", "Protocol: FTP"), 11,
     "Protocol 'FTP' is not a listener protocol"),
    ("AWS::ElasticLoadBalancingV2::Listener", props("Port: 21"), 9, "listener has no LoadBalancerArn"),
    ("AWS::ElasticLoadBalancing::LoadBalancer", props("Scheme: public", "Listeners: [{LoadBalancerPort: 1}]"), 9,
     "Scheme 'public' is not internet-facing or internal"),
    ("AWS::ElasticLoadBalancing::LoadBalancer", props("Listeners: 3389"), 9,
     "Listeners must be a list of listener mappings"),
    ("AWS::EC2::SubnetNetworkAclAssociation", props("- SubnetId: subnet-1"), 9, "Properties must be a mapping"),
])
def test_malformed_values_are_input_errors_with_lines(kind, properties, line, message):
    result = parse_text(MALFORMED.format(kind=kind, properties=properties))
    assert [(e.line, e.message) for e in result.errors] == [(line, f"Bad: {message}")]
    assert [t.resource for t in result.targets] == ["Good"]  # the rest of the template is still read


# --- the prefilter ----------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("name", ["network-acl.yaml", "load-balancers.yaml"])
def test_a_template_with_only_acls_or_load_balancers_is_read(name, encoding):
    text = (FIXTURES / name).read_text()
    if name == "load-balancers.yaml":  # no security group left in the file
        text = text.replace("AWS::EC2::SecurityGroup", "AWS::S3::Bucket").replace("[!Ref BalancerGroup]", "[sg-1]")
    assert "AWS::EC2::SecurityGroup" not in text
    result = FORMAT.parse(name, text.encode(encoding))
    assert result is not None and result.errors == [] and result.permissions


def test_a_template_with_only_instances_is_still_skipped():
    data = b"Resources:\n  Host:\n    Type: AWS::EC2::Instance\n    Properties: {SecurityGroupIds: [sg-1]}\n"
    assert FORMAT.parse("t.yaml", data) is None
