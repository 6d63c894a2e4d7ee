"""Allow entries that select by the security group's tags and by the findings' sources (issue #19):
each test plants an exposure an allow entry must, or must not, accept."""

from __future__ import annotations

import json
from ipaddress import ip_network

import pytest

from winportlint.allow_selectors import selects
from winportlint.cli import main
from winportlint.model import Direction, Finding, Location, Peer, Permission, PortRange, Severity

RULE = """\
        - IpProtocol: tcp
          FromPort: {port}
          ToPort: {port}
          CidrIp: {cidr}
"""


def cfn_group(name: str, tags: str = "", port: int = 3389, cidr: str = "0.0.0.0/0") -> str:
    """A CloudFormation security group resource with one rule, its ``Tags`` written as given."""
    return (f"  {name}:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: g\n"
            + (f"      Tags:\n{tags}" if tags else "") + "      SecurityGroupIngress:\n"
            + RULE.format(port=port, cidr=cidr))


def tf_group(name: str, tags: str = "", port: int = 3389, cidrs: str = '"0.0.0.0/0"', extra: str = "") -> str:
    """A Terraform security group with one inline rule."""
    return (f'resource "aws_security_group" "{name}" {{\n{extra}' + (f"  tags = {tags}\n" if tags else "")
            + f'  ingress {{\n    from_port = {port}\n    to_port = {port}\n    protocol = "tcp"\n'
            + f"    cidr_blocks = [{cidrs}]\n  }}\n}}\n")


def check(folder, capsys, config: str, files: dict[str, str], *extra: str) -> tuple[int, list[str]]:
    """Exit code and report lines (suppressed findings shown) of a run over ``files`` with the
    allow entries of ``config`` (a ``.winportlint.toml``)."""
    (folder / ".winportlint.toml").write_text(config)
    for name, text in files.items():
        (folder / name).write_text(text)
    code = main(["check", "--no-cache", "--show-suppressed", *extra, str(folder)])
    return code, [line.replace(str(folder) + "/", "") for line in capsys.readouterr().out.splitlines()]


def outcomes(lines: list[str]) -> list[tuple[str, str, str]]:
    """``(ids, kept or suppressed, resource)`` of each finding line."""
    found = []
    for line in lines:
        if ": WPL" not in line:
            continue
        ids, rest = line.split(": ", 1)[1].split(" ", 1)
        resource = rest.split(" on ", 1)[1].split(":", 1)[0]
        found.append((ids, "suppressed" if rest.startswith("suppressed") else "kept", resource))
    return sorted(found)


BASTION_ONLY = '[[allow]]\ntags = {exposure = "bastion"}\nreason = "partner RDP, SEC-42"\n'


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- CloudFormation -----------------------------------------------------------------------------

def test_cloudformation_literal_tags_select_the_group_that_carries_them(project, capsys):
    template = "Resources:\n" + cfn_group("Bastion", "        - Key: exposure\n          Value: bastion\n") \
        + cfn_group("Web", "        - Key: exposure\n          Value: web\n") + cfn_group("Untagged")
    code, lines = check(project, capsys, BASTION_ONLY, {"t.yaml": template})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", "Untagged"), ("WPL101", "kept", "Web"),
                               ("WPL101", "suppressed", "Bastion")]
    assert [line.split(" ", 1)[1].split(") ")[0] for line in lines if " suppressed " in line] == [
        "WPL101 suppressed (partner RDP, SEC-42; .winportlint.toml allow[0]"]


def test_cloudformation_tag_values_resolve_through_ref_and_sub(project, capsys):
    template = ("Parameters:\n  Exposure:\n    Type: String\n    Default: bastion\n"
                "  Stage:\n    Type: String\n    Default: prod\nResources:\n"
                + cfn_group("ByRef", "        - Key: exposure\n          Value: !Ref Exposure\n")
                + cfn_group("BySub", "        - Key: !Sub '${Stage}-exposure'\n          Value: !Sub '${Exposure}'\n"))
    config = BASTION_ONLY + '[[allow]]\ntags = {prod-exposure = "bastion"}\nreason = "sub"\n'
    code, lines = check(project, capsys, config, {"t.yaml": template})
    assert code == 0
    assert outcomes(lines) == [("WPL101", "suppressed", "ByRef"), ("WPL101", "suppressed", "BySub")]


def test_a_cloudformation_tag_a_deployment_may_change_never_selects(project, capsys):
    """A parameter with other allowed values, one without a default, a pseudo parameter, a tag an
    Fn::If adds: what the tag will be is not known, so the exposure is not accepted."""
    template = ("Parameters:\n  Exposure:\n    Type: String\n    Default: bastion\n    AllowedValues: [bastion, web]\n"
                "  Free:\n    Type: String\nConditions:\n  Prod: !Equals [!Ref 'AWS::Region', eu-west-1]\n"
                "Resources:\n"
                + cfn_group("Allowed", "        - Key: exposure\n          Value: !Ref Exposure\n")
                + cfn_group("NoDefault", "        - Key: exposure\n          Value: !Ref Free\n")
                + cfn_group("Pseudo", "        - Key: exposure\n          Value: !Ref AWS::StackName\n")
                + cfn_group("Chosen", "        - !If [Prod, {Key: exposure, Value: bastion}, !Ref AWS::NoValue]\n"))
    code, lines = check(project, capsys, BASTION_ONLY, {"t.yaml": template})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", name) for name in ("Allowed", "Chosen", "NoDefault", "Pseudo")]


def test_a_cloudformation_rule_resource_takes_the_tags_of_its_group_in_the_template(project, capsys):
    ingress = ("  {name}:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n      GroupId: {group}\n"
               "      IpProtocol: tcp\n      FromPort: 445\n      ToPort: 445\n      CidrIp: 0.0.0.0/0\n")
    template = ("Resources:\n" + cfn_group("Bastion", "        - Key: exposure\n          Value: bastion\n")
                + ingress.format(name="ByGetAtt", group="!GetAtt Bastion.GroupId")
                + ingress.format(name="ByRef", group="!Ref Bastion")
                + ingress.format(name="Elsewhere", group="sg-0123456789abcdef0"))
    code, lines = check(project, capsys, BASTION_ONLY, {"t.yaml": template})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "suppressed", "Bastion"), ("WPL102", "kept", "Elsewhere"),
                               ("WPL102", "suppressed", "ByGetAtt"), ("WPL102", "suppressed", "ByRef")]


def test_a_rule_a_child_stack_adds_to_a_group_of_the_parent_takes_the_parents_tags(project, capsys):
    """Two levels: the parent's group is passed to a child, which passes it on to a grandchild, whose
    rule opens RDP; the child's own group (untagged) keeps its own tags."""
    def stack(name: str, template: str, value: str) -> str:
        return (f"  {name}:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: {template}\n"
                f"      Parameters:\n        GroupId: {value}\n")
    rule = ("  Rdp:\n    Type: AWS::EC2::SecurityGroupIngress\n    Properties:\n      GroupId: !Ref GroupId\n"
            "      IpProtocol: tcp\n      FromPort: 3389\n      ToPort: 3389\n      CidrIp: 0.0.0.0/0\n")
    parameter = "Parameters:\n  GroupId:\n    Type: AWS::EC2::SecurityGroup::Id\n"
    parent = ("Resources:\n  AppGroup:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n"
              "      GroupDescription: app\n      Tags:\n        - Key: exposure\n          Value: bastion\n"
              + stack("Access", "access.yaml", "!GetAtt AppGroup.GroupId"))
    access = parameter + "Resources:\n" + stack("Deeper", "deeper.yaml", "!Ref GroupId") + rule \
        + cfn_group("Own")
    code, lines = check(project, capsys, BASTION_ONLY,
                        {"parent.yaml": parent, "access.yaml": access, "deeper.yaml": parameter + "Resources:\n" + rule})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", "Access.Own"), ("WPL101", "suppressed", "Access.Deeper.Rdp"),
                               ("WPL101", "suppressed", "Access.Rdp")]


def test_an_entry_with_tags_and_a_resource_needs_both(project, capsys):
    tags = "        - Key: exposure\n          Value: bastion\n"
    template = "Resources:\n" + cfn_group("PartnerBastion", tags) + cfn_group("OtherBastion", tags) \
        + cfn_group("PartnerWeb")
    config = '[[allow]]\nresource = "Partner*"\ntags = {exposure = "bastion"}\nreason = "partner"\n'
    code, lines = check(project, capsys, config, {"t.yaml": template})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", "OtherBastion"), ("WPL101", "kept", "PartnerWeb"),
                               ("WPL101", "suppressed", "PartnerBastion")]


def test_every_tag_of_the_entry_must_be_carried(project, capsys):
    template = "Resources:\n" + cfn_group("Bastion", "        - Key: exposure\n          Value: bastion\n")
    config = '[[allow]]\ntags = {exposure = "bastion", owner = "platform"}\nreason = "r"\n'
    code, lines = check(project, capsys, config, {"t.yaml": template})
    assert code == 1 and outcomes(lines) == [("WPL101", "kept", "Bastion")]


# -- Terraform ----------------------------------------------------------------------------------

def test_terraform_tags_select_and_default_tags_merge_with_the_resource_winning(project, capsys):
    main_tf = ('provider "aws" {\n  default_tags {\n    tags = { exposure = "bastion", team = "platform" }\n  }\n}\n'
               + tf_group("inherits") + tf_group("overrides", '{ exposure = "web" }')
               + tf_group("own", '{ exposure = "web", team = "edge" }'))
    config = BASTION_ONLY + '[[allow]]\ntags = {team = "edge"}\nreason = "edge"\n'
    code, lines = check(project, capsys, config, {"main.tf": main_tf})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", "aws_security_group.overrides"),
                               ("WPL101", "suppressed", "aws_security_group.inherits"),
                               ("WPL101", "suppressed", "aws_security_group.own")]
    assert "(partner RDP, SEC-42; .winportlint.toml allow[0])" in [l for l in lines if "inherits" in l][0]
    assert "(edge; .winportlint.toml allow[1])" in [l for l in lines if "own:" in l][0]


def test_terraform_default_tags_of_the_aliased_provider_a_group_names(project, capsys):
    main_tf = ('provider "aws" {\n  default_tags {\n    tags = { exposure = "web" }\n  }\n}\n'
               'provider "aws" {\n  alias = "partner"\n  default_tags {\n    tags = { exposure = "bastion" }\n  }\n}\n'
               + tf_group("partner", extra="  provider = aws.partner\n") + tf_group("default"))
    code, lines = check(project, capsys, BASTION_ONLY, {"main.tf": main_tf})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", "aws_security_group.default"),
                               ("WPL101", "suppressed", "aws_security_group.partner")]


def test_terraform_tags_from_a_variable_and_a_variable_file(project, capsys):
    main_tf = ('variable "tags" {\n  default = { exposure = "bastion" }\n}\nvariable "exposure" {}\n'
               'variable "unset" {}\n'
               + tf_group("from_default", "var.tags") + tf_group("from_tfvars", '{ exposure = var.exposure }')
               + tf_group("unknown", '{ exposure = var.unset }') + tf_group("unknown_map", "var.unset"))
    code, lines = check(project, capsys, BASTION_ONLY, {"main.tf": main_tf, "terraform.tfvars": 'exposure = "bastion"\n'})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", "aws_security_group.unknown"),
                               ("WPL101", "kept", "aws_security_group.unknown_map"),
                               ("WPL101", "suppressed", "aws_security_group.from_default"),
                               ("WPL101", "suppressed", "aws_security_group.from_tfvars")]


def test_terraform_rule_resources_take_the_tags_of_their_group(project, capsys):
    main_tf = (tf_group("bastion", '{ exposure = "bastion" }', port=22)
               + 'resource "aws_security_group_rule" "rdp" {\n  type = "ingress"\n'
                 '  security_group_id = aws_security_group.bastion.id\n  from_port = 3389\n  to_port = 3389\n'
                 '  protocol = "tcp"\n  cidr_blocks = ["0.0.0.0/0"]\n}\n'
               + 'resource "aws_vpc_security_group_ingress_rule" "smb" {\n'
                 '  security_group_id = aws_security_group.bastion.id\n  from_port = 445\n  to_port = 445\n'
                 '  ip_protocol = "tcp"\n  cidr_ipv4 = "0.0.0.0/0"\n}\n'
               + 'resource "aws_vpc_security_group_ingress_rule" "elsewhere" {\n'
                 '  security_group_id = "sg-0123456789abcdef0"\n  from_port = 5985\n  to_port = 5985\n'
                 '  ip_protocol = "tcp"\n  cidr_ipv4 = "0.0.0.0/0"\n}\n')
    code, lines = check(project, capsys, BASTION_ONLY, {"main.tf": main_tf})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "suppressed", "aws_security_group_rule.rdp"),
                               ("WPL102", "suppressed", "aws_vpc_security_group_ingress_rule.smb"),
                               ("WPL103", "kept", "aws_vpc_security_group_ingress_rule.elsewhere")]


def test_a_module_passed_another_provider_gets_no_default_tags(project, capsys):
    """Which provider configuration a module's resources use, when its call passes ``providers``,
    is not worked out: the defaults are not assumed, so they select nothing."""
    main_tf = ('provider "aws" {\n  default_tags {\n    tags = { exposure = "bastion" }\n  }\n}\n'
               'provider "aws" {\n  alias = "other"\n}\n'
               'module "inherits" {\n  source = "./edge"\n}\n'
               'module "passed" {\n  source = "./edge"\n  providers = { aws = aws.other }\n}\n')
    (project / "edge").mkdir()
    code, lines = check(project, capsys, BASTION_ONLY, {"main.tf": main_tf, "edge/main.tf": tf_group("rdp")})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", "module.passed.aws_security_group.rdp"),
                               ("WPL101", "suppressed", "module.inherits.aws_security_group.rdp")]


def test_a_plan_gives_tags_all_which_holds_the_default_tags(project, capsys):
    def group(name: str, tags: object, tags_all: object, unknown: dict) -> dict:
        rule = {"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                "ipv6_cidr_blocks": [], "security_groups": [], "self": False, "prefix_list_ids": [], "description": ""}
        return {"address": f"aws_security_group.{name}", "mode": "managed", "type": "aws_security_group",
                "change": {"actions": ["create"], "after": {"name": name, "ingress": [rule], "tags": tags,
                                                            "tags_all": tags_all},
                           "after_unknown": unknown}}
    plan = {"format_version": "1.2", "resource_changes": [
        group("defaults", None, {"exposure": "bastion"}, {}),
        group("own", {"exposure": "bastion"}, None, {"tags_all": True}),  # tags_all known at apply: the tags
        group("later", None, None, {"tags": True, "tags_all": True}),
        group("web", {"exposure": "web"}, {"exposure": "web"}, {})]}
    code, lines = check(project, capsys, BASTION_ONLY, {"plan.json": json.dumps(plan)})
    assert code == 1
    assert outcomes(lines) == [("WPL101", "kept", "aws_security_group.later"),
                               ("WPL101", "kept", "aws_security_group.web"),
                               ("WPL101", "suppressed", "aws_security_group.defaults"),
                               ("WPL101", "suppressed", "aws_security_group.own")]


# -- sources ------------------------------------------------------------------------------------

def test_a_world_source_is_inside_no_smaller_range(project, capsys):
    template = "Resources:\n" + cfn_group("V4") + cfn_group("V6", cidr="::/0").replace("CidrIp:", "CidrIpv6:")
    config = '[[allow]]\nresource = "*"\nfrom = ["203.0.113.0/24", "2001:db8::/32"]\nreason = "office"\n'
    code, lines = check(project, capsys, config, {"t.yaml": template})
    assert code == 1 and outcomes(lines) == [("WPL101", "kept", "V4"), ("WPL101", "kept", "V6")]


def test_ranges_of_one_family_accept_that_family_only(project, capsys):
    template = "Resources:\n" + cfn_group("V4") + cfn_group("V6", cidr="::/0").replace("CidrIp:", "CidrIpv6:")
    config = '[[allow]]\nresource = "*"\nfrom = ["::/0"]\nreason = "IPv6 behind the partner firewall"\n'
    code, lines = check(project, capsys, config, {"t.yaml": template})
    assert code == 1 and outcomes(lines) == [("WPL101", "kept", "V4"), ("WPL101", "suppressed", "V6")]


@pytest.mark.parametrize("ranges, kept", [
    ('["0.0.0.0/1"]', ["kept", "kept"]),  # one half of the union: the exposure is still the whole internet
    ('["0.0.0.0/1", "128.0.0.0/1"]', ["suppressed", "suppressed"]),  # together they hold it
])
def test_a_union_exposure_is_accepted_only_when_the_ranges_hold_every_part(project, capsys, ranges, kept):
    main_tf = tf_group("halves", cidrs='"0.0.0.0/1", "128.0.0.0/1"')
    config = f'[[allow]]\nresource = "*"\nfrom = {ranges}\nreason = "r"\n'
    code, lines = check(project, capsys, config, {"main.tf": main_tf})
    assert [outcome for _, outcome, _ in outcomes(lines)] == kept
    assert code == (1 if "kept" in kept else 0)


def test_an_ipv6_union_exposure_is_not_inside_half_of_it(project, capsys):
    main_tf = tf_group("halves", cidrs='"0.0.0.0/0"').replace(
        "cidr_blocks = [\"0.0.0.0/0\"]", 'ipv6_cidr_blocks = ["::/1", "8000::/1"]')
    code, lines = check(project, capsys, '[[allow]]\nresource = "*"\nfrom = ["::/1"]\nreason = "r"\n',
                        {"main.tf": main_tf})
    assert code == 1 and [o for _, o, _ in outcomes(lines)] == ["kept", "kept"]


def test_an_unknown_source_is_inside_no_range(project, capsys):
    template = ("Parameters:\n  Admin:\n    Type: String\nResources:\n" + cfn_group("Bastion", cidr="!Ref Admin"))
    config = '[[allow]]\nresource = "*"\nfrom = ["0.0.0.0/0", "::/0"]\nreason = "r"\n'
    code, lines = check(project, capsys, config, {"t.yaml": template}, "--severity", "info")
    assert code == 1
    assert [line.split(": ", 1)[1][:61] for line in lines if ": WPL" in line] == [
        "WPL001 info 3389/tcp on Bastion may be open to the internet: "]


def _finding(cidr: str, union_with: tuple[str, ...] = ()) -> Finding:
    location = Location("t.yaml", 1, 1)
    peer = Peer("cidr", cidr, ip_network(cidr))
    permission = Permission("G", "AWS::EC2::SecurityGroup", "G", Direction.INGRESS, "tcp", PortRange(3389, 3389),
                            peer, location, location, tags=(("exposure", "bastion"),))
    return Finding("WPL101", Severity.CRITICAL, "m", permission,
                   union_with=tuple(Peer("cidr", text, ip_network(text)) for text in union_with))


@pytest.mark.parametrize("cidr, union_with, ranges, selected", [
    ("203.0.113.7/32", (), ["203.0.113.0/24"], True),
    ("203.0.113.0/24", (), ["203.0.113.0/25", "203.0.113.128/25"], True),  # inside the ranges together
    ("203.0.112.0/23", (), ["203.0.113.0/24"], False),  # half outside
    ("198.51.100.0/24", (), ["203.0.113.0/24", "::/0"], False),
    ("2001:db8::/48", (), ["2001:db8::/32"], True),
    ("2001:db8::/48", (), ["0.0.0.0/0"], False),  # the other family
    ("0.0.0.0/1", ("128.0.0.0/1",), ["0.0.0.0/1"], False),
])
def test_sources_inside_the_ranges(cidr, union_with, ranges, selected):
    networks = tuple(ip_network(r) for r in ranges)
    assert selects((), networks, _finding(cidr, union_with)) is selected
    assert selects((("exposure", "bastion"),), networks, _finding(cidr, union_with)) is selected
    assert selects((("exposure", "web"),), networks, _finding(cidr, union_with)) is False


# -- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("entry, error", [
    ('tags = "bastion"', 'tags must be a table of strings, such as {exposure = "bastion"}'),
    ("tags = {exposure = 1}", 'tags must be a table of strings, such as {exposure = "bastion"}'),
    ("tags = {}", 'tags must be a table of strings, such as {exposure = "bastion"}'),
    ('resource = "*"\nfrom = "203.0.113.0/24"',
     'from must be a list of CIDRs, such as ["203.0.113.0/24", "2001:db8::/32"]'),
    ('resource = "*"\nfrom = []', 'from must be a list of CIDRs, such as ["203.0.113.0/24", "2001:db8::/32"]'),
    ('resource = "*"\nfrom = [24]', "from: 24 is not a CIDR (an address, a slash and a prefix length)"),
    ('resource = "*"\nfrom = ["203.0.113.7"]',
     "from: '203.0.113.7' is not a CIDR (an address, a slash and a prefix length)"),
    ('resource = "*"\nfrom = ["203.0.113.7/24"]', "from: '203.0.113.7/24' has host bits set (the network is "
                                                  "203.0.113.0/24)"),
    ('resource = "*"\nfrom = ["fe80::%eth0/64"]',
     "from: 'fe80::%eth0/64' is not a CIDR (an address, a slash and a prefix length)"),
    ('resource = "*"\nfrom = ["010.0.0.0/8"]',
     "from: '010.0.0.0/8' is not a CIDR (an address, a slash and a prefix length)"),
])
def test_a_malformed_tags_or_from_is_one_line_naming_the_file_and_the_key(project, capsys, entry, error):
    (project / "t.yaml").write_text("Resources:\n" + cfn_group("Bastion"))
    (project / ".winportlint.toml").write_text(f"[[allow]]\n{entry}\nreason = \"r\"\n")
    code = main(["check", "--no-cache", "t.yaml"])
    assert (code, capsys.readouterr()) == (2, ("", f"winportlint: error: .winportlint.toml: allow[0]: {error}\n"))


def test_an_entry_without_resource_or_tags_is_refused(project, capsys):
    (project / "t.yaml").write_text("Resources:\n" + cfn_group("Bastion"))
    (project / ".winportlint.toml").write_text('[[allow]]\nfrom = ["0.0.0.0/0"]\nreason = "r"\n')
    assert main(["check", "--no-cache", "t.yaml"]) == 2
    assert capsys.readouterr().err == ("winportlint: error: .winportlint.toml: allow[0] needs a resource "
                                       "(a logical id or address; * and ? match) or tags\n")


def test_tags_and_union_sources_survive_the_cache(project, capsys, monkeypatch):
    """A second run reads the findings from the cache: the tags and the union's parts must come
    back with them, or the allow entry would stop (or start) accepting."""
    monkeypatch.setenv("WINPORTLINT_CACHE_DIR", str(project / "cache"))
    (project / "scan").mkdir()
    main_tf = tf_group("bastion", '{ exposure = "bastion" }') + tf_group("halves", cidrs='"0.0.0.0/1", "128.0.0.0/1"')
    (project / "scan" / "main.tf").write_text(main_tf)
    (project / ".winportlint.toml").write_text(BASTION_ONLY + '[[allow]]\nresource = "*"\nfrom = ["0.0.0.0/1"]\n'
                                                              'reason = "half"\n')
    runs = []
    for _ in range(2):
        code = main(["check", "--show-suppressed", "scan"])
        runs.append((code, outcomes(capsys.readouterr().out.splitlines())))
    assert any((project / "cache").rglob("*")), "the first run stored nothing"
    assert runs[0] == runs[1] == (1, [("WPL101", "kept", "aws_security_group.halves"),
                                      ("WPL101", "kept", "aws_security_group.halves"),
                                      ("WPL101", "suppressed", "aws_security_group.bastion")])
