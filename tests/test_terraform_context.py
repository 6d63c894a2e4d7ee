"""Terraform (#7): the exact Target, Evidence, SubnetAcl and network-ACL / load-balancer
Permission records the format reads (fixtures in tests/context/terraform/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import write_files
from winportlint.model import PortRange
from winportlint.plugins.terraform import TerraformFormat

FIXTURES = Path(__file__).parent / "context" / "terraform"


def read(name: str | Path):
    folder = str(FIXTURES / name) if isinstance(name, str) else str(name)
    return folder, TerraformFormat().parse_folders([folder], {"jobs": 1})


def short(folder: str, text: str) -> str:
    """A key without the module folder's prefix (``aws_security_group.rdp``)."""
    prefix = os.path.normpath(folder) + ":"
    assert text.startswith(prefix), text
    return text[len(prefix):]


def where(folder: str, location) -> str:
    return f"{os.path.relpath(location.file, folder)}:{location.line}:{location.column}"


def targets(folder, result):
    return [(t.resource, t.resource_type, where(folder, t.location), tuple(short(folder, g) for g in t.groups),
             tuple(short(folder, s) for s in t.subnets), t.uses,
             tuple((e.kind, e.value, e.field, where(folder, e.location)) for e in t.evidence))
            for t in result.targets]


def acl_entries(folder, result):
    return [(p.resource, p.resource_type, short(folder, p.group), p.direction.value, p.protocol,
             str(p.ports) if p.ports else None, p.peer.text, p.rule_number, p.action,
             where(folder, p.location), where(folder, p.rule_location))
            for p in result.permissions if p.control == "network-acl"]


def listeners(folder, result):
    return [(p.resource, p.resource_type, short(folder, p.group), p.direction.value, p.protocol, str(p.ports),
             p.peer.kind, p.peer.text, tuple(str(r) for r in p.forwards_to), tuple(short(folder, g) for g in p.guards),
             where(folder, p.location), where(folder, p.rule_location),
             tuple((s.field, s.kind, s.detail, where(folder, s.location)) for s in p.provenance))
            for p in result.permissions if p.control == "load-balancer"]


def group_keys(result) -> set[str]:
    return {p.group for p in result.permissions if p.control == "security-group"}


def test_every_linking_form():
    folder, result = read("linking")
    assert result.errors == []
    assert targets(folder, result) == [
        ("module.edge.aws_instance.host", "aws_instance", "edge/main.tf:10:1",
         ("module.edge.aws_security_group.this",), (), (), (("image", "ami-0edge", "ami", "edge/main.tf:11:28"),)),
        ("aws_instance.by_id", "aws_instance", "main.tf:25:1", ("aws_security_group.rdp", "sg-0123"),
         ("aws_subnet.a",), (), (("image", "ami-0abc", "ami", "main.tf:26:28"),)),
        ("aws_instance.by_name", "aws_instance", "main.tf:31:1", ("aws_security_group.rdp", "default"),
         ("subnet-0aaa",), (), ()),
        ("aws_launch_template.web", "aws_launch_template", "main.tf:36:1",
         ("aws_security_group.winrm", "aws_security_group.rdp"), ("aws_subnet.a",), (), ()),
        ("aws_instance.from_template_id", "aws_instance", "main.tf:46:1", (), (),
         ("aws_network_interface.eni", "aws_launch_template.web"), ()),
        ("aws_instance.from_template_name", "aws_instance", "main.tf:56:1", (), (), ("aws_launch_template.web",), ()),
        ("aws_launch_configuration.lc", "aws_launch_configuration", "main.tf:62:1", ("aws_security_group.winrm",), (),
         (), (("image", "ami-0lc", "image_id", "main.tf:63:21"),)),
        ("aws_autoscaling_group.by_template", "aws_autoscaling_group", "main.tf:67:1", (),
         ("aws_subnet.a", "subnet-0bbb"), ("aws_launch_template.web",), ()),
        ("aws_autoscaling_group.by_configuration", "aws_autoscaling_group", "main.tf:75:1", (), (),
         ("aws_launch_configuration.lc",), ()),
        ("aws_autoscaling_group.mixed", "aws_autoscaling_group", "main.tf:79:1", (), (), ("aws_launch_template.web",), ()),
        ("aws_network_interface.eni", "aws_network_interface", "main.tf:89:1", ("aws_security_group.winrm",),
         ("aws_subnet.a",), (), ()),
        # aws_network_interface_sg_attachment: a Target for the interface, at the attachment
        ("aws_network_interface.eni", "aws_network_interface", "main.tf:94:1", ("aws_security_group.rdp",), (), (), ()),
        # security_groups = [aws_security_group.winrm.name], a group without a name: the evaluator gives null
        ("aws_instance.by_unset_name", "aws_instance", "main.tf:103:1",
         ("aws_security_group.rdp", "aws_security_group.winrm"), (), (), ()),
    ]
    # group keys are the security groups' own Permission.group keys
    keys = group_keys(result)
    for target in result.targets:
        for group in target.groups:
            assert group in keys or short(folder, group) in ("sg-0123", "default"), group


def test_each_evidence_source():
    folder, result = read("evidence")
    assert result.errors == []
    assert targets(folder, result) == [
        ("aws_instance.ami_filter", "aws_instance", "main.tf:40:1", ("aws_security_group.rdp",), (), (), (
            ("image", "Windows_Server-2022-English-Full-Base-*", "data.aws_ami.windows.filter.name", "main.tf:7:15"),
            ("platform", "windows", "data.aws_ami.windows.filter.platform", "main.tf:11:15"),
            ("image", "^Windows_Server-2022-English", "data.aws_ami.windows.name_regex", "main.tf:4:17"),
            ("password-data", "true", "get_password_data", "main.tf:43:3"))),
        # a Linux image is evidence too: the core decides
        ("aws_instance.linux_filter", "aws_instance", "main.tf:46:1", ("aws_security_group.rdp",), (), (), (
            ("image", "al2023-ami-*-x86_64", "data.aws_ami.linux.filter.name", "main.tf:19:15"),)),
        ("aws_instance.ssm_windows", "aws_instance", "main.tf:52:1", ("aws_security_group.rdp",), (), (), (
            ("image", "/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base",
             "data.aws_ssm_parameter.windows.name", "main.tf:24:10"),
            ("user-data", "<powershell>\nEnable-PSRemoting -Force\n</powershell>\n", "user_data", "main.tf:55:3"))),
        ("aws_instance.ssm_linux", "aws_instance", "main.tf:62:1", ("aws_security_group.rdp",), (), (), (
            ("image", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
             "data.aws_ssm_parameter.linux.name", "main.tf:28:10"),)),
        # resolve:ssm: unwrapped; base64encode(...) decoded
        ("aws_launch_template.resolve", "aws_launch_template", "main.tf:67:1", ("aws_security_group.rdp",), (), (), (
            ("image", "/aws/service/ami-windows-latest/Windows_Server-2016-English-Full-Base", "image_id",
             "main.tf:68:28"),
            ("user-data", "<script>winrm quickconfig -q</script>", "user_data", "main.tf:70:3"))),
        # file() is not read
        ("aws_launch_configuration.from_file", "aws_launch_configuration", "main.tf:73:1",
         ("aws_security_group.rdp",), (), (), (("image", "ami-0123456789abcdef0", "image_id", "main.tf:74:21"),)),
    ]


def test_network_acl_entries_and_associations():
    folder, result = read("network_acls")
    assert result.errors == []
    acl = "aws_network_acl.public"
    assert acl_entries(folder, result) == [
        (acl, "aws_network_acl", acl, "ingress", "all", None, "0.0.0.0/0", 100, "allow", "main.tf:14:18",
         "main.tf:10:3"),
        (acl, "aws_network_acl", acl, "ingress", "all", None, "::/0", 110, "allow", "main.tf:23:23", "main.tf:19:3"),
        (acl, "aws_network_acl", acl, "egress", "tcp", "1024-65000", "0.0.0.0/0", 100, "allow", "main.tf:32:18",
         "main.tf:28:3"),
        ("aws_network_acl_rule.deny_rdp", "aws_network_acl_rule", acl, "ingress", "tcp", "3389", "0.0.0.0/0", 90,
         "deny", "main.tf:44:20", "main.tf:38:1"),
        ("aws_network_acl_rule.smb_out", "aws_network_acl_rule", acl, "egress", "tcp", "445", "::/0", 120, "allow",
         "main.tf:55:21", "main.tf:49:1"),
    ]
    assert [(short(folder, s.acl), short(folder, s.subnet), where(folder, s.location)) for s in result.subnet_acls] == [
        (acl, "aws_subnet.public", "main.tf:8:3"),
        (acl, "subnet-0ccc", "main.tf:8:39"),
        ("aws_network_acl.private", "aws_subnet.public", "main.tf:66:3"),
    ]


def test_load_balancer_listeners():
    folder, result = read("load_balancers")
    assert result.errors == []
    default = ("Scheme", "default", "internet-facing", "main.tf:10:1")
    rdp_group = ("TargetGroupArn", "reference", "target group aws_lb_target_group.rdp port 3389", "main.tf:16:3")
    assert listeners(folder, result) == [
        ("aws_lb_listener.rdp", "aws_lb_listener", "aws_lb.public", "ingress", "tcp", "3389", "cidr", "0.0.0.0/0",
         ("3389",), ("aws_security_group.lb",), "main.tf:27:3", "main.tf:25:1", (default, rdp_group)),
        ("aws_alb_listener.https", "aws_alb_listener", "aws_alb.web", "ingress", "tcp", "443", "cidr", "0.0.0.0/0",
         ("3389", "5986"), (), "main.tf:41:3", "main.tf:39:1", (
             ("Scheme", "literal", "internet-facing", "main.tf:36:3"), rdp_group,
             ("TargetGroupArn", "reference", "target group aws_lb_target_group.winrm port 5986", "main.tf:21:3"))),
        ("aws_lb_listener.dns", "aws_lb_listener", "aws_lb.public", "ingress", "tcp", "53", "cidr", "0.0.0.0/0", (),
         ("aws_security_group.lb",), "main.tf:58:3", "main.tf:56:1", (default,)),
        ("aws_lb_listener.dns", "aws_lb_listener", "aws_lb.public", "ingress", "udp", "53", "cidr", "0.0.0.0/0", (),
         ("aws_security_group.lb",), "main.tf:58:3", "main.tf:56:1", (default,)),
        # classic: one per listener, forwarding to its instance port; the internal ones give nothing
        ("aws_elb.classic", "aws_elb", "aws_elb.classic", "ingress", "tcp", "3389", "cidr", "0.0.0.0/0", ("3389",),
         ("aws_security_group.lb",), "main.tf:75:5", "main.tf:74:3",
         (("Scheme", "default", "internet-facing", "main.tf:72:1"),)),
        ("aws_elb.classic", "aws_elb", "aws_elb.classic", "ingress", "tcp", "80", "cidr", "0.0.0.0/0", ("5985",),
         ("aws_security_group.lb",), "main.tf:81:5", "main.tf:80:3",
         (("Scheme", "default", "internet-facing", "main.tf:72:1"),)),
    ]
    world = [p for p in result.permissions if p.control == "load-balancer"][0]
    assert world.peer.network is not None and str(world.peer.network) == "0.0.0.0/0"
    assert world.forwards_to == (PortRange(3389, 3389),)


def test_unresolvable_values_are_skipped_not_the_world():
    folder, result = read("unresolvable")
    assert result.errors == []
    assert targets(folder, result) == [
        ("aws_instance.unknowns", "aws_instance", "main.tf:15:1", ("aws_security_group.rdp",), (), (), ()),
        ("aws_instance.missing_data", "aws_instance", "main.tf:24:1", ("aws_security_group.rdp",), (), (), ()),
    ]
    assert listeners(folder, result) == [
        ("aws_lb_listener.maybe", "aws_lb_listener", "aws_lb.maybe", "ingress", "tcp", "3389", "unknown",
         "var.internal has no known value", (), (), "main.tf:40:3", "main.tf:38:1",
         (("Scheme", "unknown", "var.internal has no known value", "main.tf:35:3"),)),
    ]
    assert acl_entries(folder, result) == [
        ("aws_network_acl_rule.unknown", "aws_network_acl_rule", "aws_network_acl_rule.unknown", "ingress", "tcp",
         "3389", "0.0.0.0/0", None, "allow", "main.tf:58:20", "main.tf:52:1"),
    ]
    assert result.subnet_acls == []


def test_malformed_values_are_input_errors_with_their_line():
    folder, result = read("malformed")
    assert [(os.path.relpath(e.file, folder), e.line, e.message) for e in result.errors] == [
        ("main.tf", 5, "aws_network_acl.acl ingress: action must be allow or deny, not 'maybe'"),
        ("main.tf", 15, "aws_network_acl_rule.bad_number: rule_number 'first' is not a rule number (1-32766)"),
        ("main.tf", 27, "aws_lb_listener.bad_port: port 'rdp' is not a port number"),
        ("main.tf", 32, "aws_instance.bad_groups: vpc_security_group_ids 5 is not an id or a list of ids"),
    ]
    assert [t.resource for t in result.targets] == ["aws_instance.fine"]  # the others are still read


@pytest.mark.parametrize("text", [
    'resource "aws_network_acl_rule" "r" {\n  network_acl_id = "acl-1"\n  rule_number = 100\n  protocol = "tcp"\n'
    '  rule_action = "allow"\n  cidr_block = "0.0.0.0/0"\n  from_port = 3389\n  to_port = 3389\n}\n',
    'resource "aws_lb" "x" {}\nresource "aws_lb_listener" "l" {\n  load_balancer_arn = aws_lb.x.arn\n'
    '  port = 3389\n}\n',
    'resource "aws_elb" "x" {\n  listener {\n    lb_port = 3389\n    lb_protocol = "tcp"\n'
    '    instance_port = 3389\n    instance_protocol = "tcp"\n  }\n}\n',
    'resource "aws_alb" "x" {}\nresource "aws_alb_listener" "l" {\n  load_balancer_arn = aws_alb.x.arn\n'
    '  port = 3389\n}\n',
], ids=["network-acl", "aws_lb", "aws_elb", "aws_alb"])
def test_a_module_with_only_network_acls_or_load_balancers_is_read(tmp_path, text):
    from winportlint.plugins.terraform import evaluate

    folder = write_files(tmp_path / "m", {"main.tf": text})
    assert evaluate.may_hold_groups(evaluate.module_files(str(folder)))
    _, result = read(folder)
    assert [p.control for p in result.permissions] and result.errors == []


def test_a_module_with_instances_only_is_still_skipped(tmp_path):
    from winportlint.plugins.terraform import evaluate

    folder = write_files(tmp_path / "m", {"main.tf": 'resource "aws_instance" "w" {\n  ami = "ami-1"\n}\n'})
    assert not evaluate.may_hold_groups(evaluate.module_files(str(folder)))


def test_tf_json_targets_and_listeners(tmp_path):
    folder = write_files(tmp_path / "j", {"main.tf.json": """{
  "resource": {
    "aws_security_group": {"rdp": {"ingress": [{"from_port": 3389, "to_port": 3389, "protocol": "tcp",
      "cidr_blocks": ["0.0.0.0/0"]}]}},
    "aws_instance": {"w": {"ami": "ami-0json", "vpc_security_group_ids": ["${aws_security_group.rdp.id}"]}},
    "aws_lb": {"x": {"internal": false}},
    "aws_lb_listener": {"l": {"load_balancer_arn": "${aws_lb.x.arn}", "port": 3389, "protocol": "TCP"}}
  }
}
"""})
    folder, result = read(folder)
    assert result.errors == []
    assert targets(folder, result) == [
        ("aws_instance.w", "aws_instance", "main.tf.json:5:1", ("aws_security_group.rdp",), (), (),
         (("image", "ami-0json", "ami", "main.tf.json:5:35"),)),
    ]
    assert [(p.resource, str(p.ports), p.peer.text) for p in result.permissions if p.control == "load-balancer"] == [
        ("aws_lb_listener.l", "3389", "0.0.0.0/0")]


def test_plan_json_targets_and_acl_entries(tmp_path):
    import json

    from winportlint.plugins.terraform.plan import read_plan

    plan = {"format_version": "1.2", "planned_values": {"root_module": {"resources": [
        {"address": "aws_instance.w", "mode": "managed", "type": "aws_instance",
         "values": {"ami": "ami-1", "vpc_security_group_ids": ["sg-9"], "user_data": "0f2a9c", "launch_template": []}},
        {"address": "aws_network_acl.a", "mode": "managed", "type": "aws_network_acl",
         "values": {"subnet_ids": ["subnet-1"], "ingress": [
             {"protocol": "-1", "rule_no": 100, "action": "allow", "cidr_block": "0.0.0.0/0", "ipv6_cidr_block": "",
              "from_port": 0, "to_port": 0, "icmp_code": 0, "icmp_type": 0}]}},
    ]}}}
    path = tmp_path / "plan.json"
    result = read_plan(str(path), json.dumps(plan).encode())
    folder = str(tmp_path)
    assert result.errors == []
    assert targets(folder, result) == [  # the plan's user data is a hash: not evidence
        ("aws_instance.w", "aws_instance", "plan.json:1:1", ("sg-9",), (), (), (("image", "ami-1", "ami", "plan.json:1:1"),)),
    ]
    assert acl_entries(folder, result) == [
        ("aws_network_acl.a", "aws_network_acl", "aws_network_acl.a", "ingress", "all", None, "0.0.0.0/0", 100, "allow",
         "plan.json:1:1", "plan.json:1:1")]
    assert [(short(folder, s.acl), short(folder, s.subnet)) for s in result.subnet_acls] == [
        ("aws_network_acl.a", "subnet-1")]


#: A module building one network ACL entry per element of a list; whether it creates them
#: depends on a data source, so the evaluator gives one instance (``count.index`` 0).
_COUNTED_ACL_RULES = """
data "aws_availability_zones" "available" {}

variable "rules" {
  default = [
    { rule_number = 100, protocol = "tcp", port = 443, cidr_block = "0.0.0.0/0" },
    { rule_number = 130, protocol = "tcp", port = 3389, cidr_block = "0.0.0.0/0" },
  ]
}

locals {
  create = length(data.aws_availability_zones.available.names) > 0
}

resource "aws_network_acl_rule" "inbound" {
  count          = COUNT
  network_acl_id = "acl-0123456789abcdef0"
  egress         = false
  rule_action    = "allow"
  rule_number    = var.rules[count.index].rule_number
  protocol       = var.rules[count.index]["protocol"]
  from_port      = var.rules[count.index].port
  to_port        = var.rules[count.index].port
  cidr_block     = CIDR
}
"""


def _counted(tmp_path, count="local.create ? length(var.rules) : 0",
             cidr='lookup(var.rules[count.index], "cidr_block", null)', tfvars=None):
    files = {"main.tf": _COUNTED_ACL_RULES.replace("COUNT", count).replace("CIDR", cidr)}
    if tfvars:
        files["terraform.tfvars"] = tfvars
    return read(write_files(tmp_path, files))


def test_acl_entries_of_a_list_whose_count_is_known_only_at_apply_are_each_read(tmp_path):
    folder, result = _counted(tmp_path)
    assert result.errors == []
    assert [entry[:9] for entry in acl_entries(folder, result)] == [
        ("aws_network_acl_rule.inbound[0]", "aws_network_acl_rule", "acl-0123456789abcdef0", "ingress", "tcp", "443",
         "0.0.0.0/0", 100, "allow"),
        ("aws_network_acl_rule.inbound[1]", "aws_network_acl_rule", "acl-0123456789abcdef0", "ingress", "tcp", "3389",
         "0.0.0.0/0", 130, "allow"),
    ]
    second = [p for p in result.permissions if p.resource.endswith("[1]")][0]
    assert [step.describe() for step in second.provenance] == [
        "value from var.rules",
        "count.index from element 1 of var.rules (the count is known only at apply)",
    ]


def test_a_list_other_than_the_evaluated_one_gives_no_more_entries(tmp_path):
    """terraform.tfvars sets the list: the default's elements are not the entries (the
    evaluator's first entry is not the default's first element)."""
    folder, result = _counted(tmp_path, tfvars='rules = [{ rule_number = 200, protocol = "tcp", port = 80, '
                                               'cidr_block = "0.0.0.0/0" }]\n')
    assert [entry[:9] for entry in acl_entries(folder, result)] == [
        ("aws_network_acl_rule.inbound[0]", "aws_network_acl_rule", "acl-0123456789abcdef0", "ingress", "tcp", "80",
         "0.0.0.0/0", 200, "allow"),
    ]


def test_a_count_that_is_not_the_lists_length_gives_no_more_entries(tmp_path):
    folder, result = _counted(tmp_path, count="local.create ? 1 : 0")
    assert [entry[0] for entry in acl_entries(folder, result)] == ["aws_network_acl_rule.inbound[0]"]


def test_an_attribute_written_another_way_is_unknown_in_the_other_entries(tmp_path):
    folder, result = _counted(tmp_path, cidr='format("%s", var.rules[count.index].cidr_block)')
    assert [(p.resource, p.peer.kind, p.peer.text) for p in result.permissions if p.control == "network-acl"] == [
        ("aws_network_acl_rule.inbound[0]", "cidr", "0.0.0.0/0"),
        ("aws_network_acl_rule.inbound[1]", "unknown", "cidr_block of instance 1 has no known value"),
    ]
