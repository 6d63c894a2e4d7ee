"""The terraform-aws-modules/security-group adapter (module not downloaded)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from winportlint.plugins.terraform import known_modules
from winportlint.plugins.terraform.known_modules import (
    ModuleRule,
    UnknownModuleRule,
    UnknownSubmodule,
    is_known_module,
    module_rules,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"
needs_corpus = pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared corpus folder {SHARED} is absent")

SG = "terraform-aws-modules/security-group/aws"
WORLD_EGRESS = [
    ModuleRule("egress", "-1", -1, -1, "0.0.0.0/0", "egress_cidr_blocks", "all-all"),
    ModuleRule("egress", "-1", -1, -1, "::/0", "egress_ipv6_cidr_blocks", "all-all"),
]


def call(source=SG, **inputs):
    """A module entry as tfparse returns it."""
    return {"__tfmeta": {"filename": "main.tf", "label": "sg", "path": "module.sg"}, "source": source,
            "version": "5.1.0", "name": "x", **inputs}


def ingress(rules):
    return [r for r in rules if r.direction == "ingress"]


# ---------------------------------------------------------------- submodules


def test_rdp_submodule_opens_its_auto_rules_to_ingress_cidr_blocks():
    rules = module_rules(call(f"{SG}//modules/rdp", ingress_cidr_blocks=["0.0.0.0/0"]))
    assert rules == [
        ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "udp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-udp"),
        *WORLD_EGRESS,
    ]


def test_brief_example_entry():
    entry = call(f"{SG}//modules/rdp", ingress_cidr_blocks=["0.0.0.0/0"], ingress_with_cidr_blocks=[
        {"rule": "winrm-http-tcp", "cidr_blocks": "0.0.0.0/0,10.0.0.0/8"},
        {"from_port": 445, "to_port": 445, "protocol": "tcp", "cidr_blocks": "0.0.0.0/0"},
    ])
    assert module_rules(entry) == [
        ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "udp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-udp"),
        ModuleRule("ingress", "tcp", 5985, 5985, "0.0.0.0/0", "ingress_with_cidr_blocks[0].cidr_blocks", "winrm-http-tcp"),
        ModuleRule("ingress", "tcp", 5985, 5985, "10.0.0.0/8", "ingress_with_cidr_blocks[0].cidr_blocks", "winrm-http-tcp"),
        ModuleRule("ingress", "tcp", 445, 445, "0.0.0.0/0", "ingress_with_cidr_blocks[1].cidr_blocks", None),
        *WORLD_EGRESS,
    ]


def test_winrm_submodule_with_ipv4_and_ipv6():
    rules = module_rules(call(f"registry.terraform.io/{SG}//modules/winrm",
                              ingress_cidr_blocks=["0.0.0.0/0"], ingress_ipv6_cidr_blocks=["::/0"],
                              egress_cidr_blocks=["10.0.0.0/8"], egress_ipv6_cidr_blocks=[]))
    assert rules == [
        ModuleRule("ingress", "tcp", 5985, 5985, "0.0.0.0/0", "ingress_cidr_blocks", "winrm-http-tcp"),
        ModuleRule("ingress", "tcp", 5985, 5985, "::/0", "ingress_ipv6_cidr_blocks", "winrm-http-tcp"),
        ModuleRule("ingress", "tcp", 5986, 5986, "0.0.0.0/0", "ingress_cidr_blocks", "winrm-https-tcp"),
        ModuleRule("ingress", "tcp", 5986, 5986, "::/0", "ingress_ipv6_cidr_blocks", "winrm-https-tcp"),
        ModuleRule("egress", "-1", -1, -1, "10.0.0.0/8", "egress_cidr_blocks", "all-all"),
    ]


def test_submodule_without_ingress_cidrs_opens_no_ingress():
    # ingress_cidr_blocks defaults to [] in the submodules too; egress is world-open by default.
    assert module_rules(call(f"{SG}//modules/rdp")) == WORLD_EGRESS


def test_submodule_rules_are_sorted_distinct_auto_plus_user_rules():
    rules = module_rules(call(f"{SG}//modules/rdp", ingress_cidr_blocks=["0.0.0.0/0"],
                              ingress_rules=["winrm-http-tcp", "rdp-tcp", "all-tcp"]))
    assert [r.rule_name for r in ingress(rules)] == ["all-tcp", "rdp-tcp", "rdp-udp", "winrm-http-tcp"]


def test_submodule_auto_rules_can_be_overridden():
    rules = module_rules(call(f"{SG}//modules/rdp", ingress_cidr_blocks=["0.0.0.0/0"],
                              auto_ingress_rules=["rdp-udp"], auto_egress_rules=[]))
    assert rules == [ModuleRule("ingress", "udp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-udp")]


def test_submodule_computed_rules_add_auto_number():
    rules = module_rules(call(f"{SG}//modules/ssh", ingress_cidr_blocks=["0.0.0.0/0"], auto_ingress_rules=[],
                              auto_egress_rules=[], computed_ingress_rules=["rdp-tcp", "all-all"],
                              number_of_computed_ingress_rules=1))
    # sort(["rdp-tcp", "all-all"]) -> the first one created is all-all.
    assert rules == [ModuleRule("ingress", "-1", -1, -1, "0.0.0.0/0", "ingress_cidr_blocks", "all-all")]


# ---------------------------------------------------------------- root module


def test_root_named_rules_with_ipv4_and_ipv6_cidrs():
    rules = module_rules(call(ingress_rules=["all-all"], ingress_cidr_blocks=["0.0.0.0/0", "10.0.0.0/8"],
                              ingress_ipv6_cidr_blocks=["::/0"]))
    assert rules == [
        ModuleRule("ingress", "-1", -1, -1, "0.0.0.0/0", "ingress_cidr_blocks", "all-all"),
        ModuleRule("ingress", "-1", -1, -1, "10.0.0.0/8", "ingress_cidr_blocks", "all-all"),
        ModuleRule("ingress", "-1", -1, -1, "::/0", "ingress_ipv6_cidr_blocks", "all-all"),
    ]


def test_root_cidr_blocks_without_rules_create_nothing():
    assert module_rules(call(ingress_cidr_blocks=["0.0.0.0/0"], ingress_ipv6_cidr_blocks=["::/0"])) == []


def test_root_egress_rules_use_world_egress_defaults():
    assert module_rules(call(egress_rules=["all-all"])) == WORLD_EGRESS


def test_with_cidr_blocks_comma_separated_string_and_list():
    rules = module_rules(call(ingress_with_cidr_blocks=[
        {"rule": "rdp-tcp", "cidr_blocks": "10.0.0.0/8, 0.0.0.0/0,"},
        {"from_port": 0, "to_port": 0, "protocol": "-1", "cidr_blocks": ["1.2.3.4", "0.0.0.0/0"]},
    ]))
    assert rules == [
        ModuleRule("ingress", "tcp", 3389, 3389, "10.0.0.0/8", "ingress_with_cidr_blocks[0].cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", "ingress_with_cidr_blocks[0].cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "-1", 0, 0, "1.2.3.4", "ingress_with_cidr_blocks[1].cidr_blocks", None),
        ModuleRule("ingress", "-1", 0, 0, "0.0.0.0/0", "ingress_with_cidr_blocks[1].cidr_blocks", None),
    ]


def test_ruleless_map_with_explicit_ports_and_numeric_protocol():
    rules = module_rules(call(ingress_with_cidr_blocks=[
        {"from_port": 135, "to_port": "139", "protocol": 6, "description": "NetBIOS", "cidr_blocks": "0.0.0.0/0"},
    ]))
    assert rules == [ModuleRule("ingress", 6, 135, "139", "0.0.0.0/0", "ingress_with_cidr_blocks[0].cidr_blocks", None)]


def test_map_ports_override_its_named_rule():
    rules = module_rules(call(ingress_with_cidr_blocks=[{"rule": "rdp-tcp", "from_port": 3388, "cidr_blocks": "::/0"}]))
    assert rules == [ModuleRule("ingress", "tcp", 3388, 3389, "::/0", "ingress_with_cidr_blocks[0].cidr_blocks", "rdp-tcp")]


def test_map_without_cidr_blocks_falls_back_to_the_default_list():
    rules = module_rules(call(ingress_cidr_blocks=["0.0.0.0/0"], ingress_ipv6_cidr_blocks=["::/0"],
                              ingress_with_cidr_blocks=[{"rule": "winrm-https-tcp"}],
                              ingress_with_ipv6_cidr_blocks=[{"rule": "rdp-udp"}]))
    assert rules == [
        ModuleRule("ingress", "tcp", 5986, 5986, "0.0.0.0/0", "ingress_cidr_blocks", "winrm-https-tcp"),
        ModuleRule("ingress", "udp", 3389, 3389, "::/0", "ingress_ipv6_cidr_blocks", "rdp-udp"),
    ]


def test_ipv6_maps_and_egress_maps():
    rules = module_rules(call(
        ingress_with_ipv6_cidr_blocks=[{"rule": "rdp-tcp", "ipv6_cidr_blocks": "::/0,2001:db8::/64"}],
        egress_with_cidr_blocks=[{"rule": "all-tcp", "cidr_blocks": "0.0.0.0/0"}],
    ))
    assert rules == [
        ModuleRule("ingress", "tcp", 3389, 3389, "::/0", "ingress_with_ipv6_cidr_blocks[0].ipv6_cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "tcp", 3389, 3389, "2001:db8::/64", "ingress_with_ipv6_cidr_blocks[0].ipv6_cidr_blocks", "rdp-tcp"),
        ModuleRule("egress", "tcp", 0, 65535, "0.0.0.0/0", "egress_with_cidr_blocks[0].cidr_blocks", "all-tcp"),
    ]


def test_computed_rules_are_capped_by_their_number():
    entry = call(ingress_cidr_blocks=["0.0.0.0/0"], computed_ingress_rules=["rdp-tcp", "rdp-udp"],
                 computed_ingress_with_cidr_blocks=[{"rule": "winrm-http-tcp", "cidr_blocks": "0.0.0.0/0"},
                                                    {"rule": "winrm-https-tcp", "cidr_blocks": "0.0.0.0/0"}])
    # Without number_of_computed_* (default 0) the module creates none of them.
    assert module_rules(entry) == []
    entry.update(number_of_computed_ingress_rules=1, number_of_computed_ingress_with_cidr_blocks=2)
    assert module_rules(entry) == [
        ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "tcp", 5985, 5985, "0.0.0.0/0", "computed_ingress_with_cidr_blocks[0].cidr_blocks", "winrm-http-tcp"),
        ModuleRule("ingress", "tcp", 5986, 5986, "0.0.0.0/0", "computed_ingress_with_cidr_blocks[1].cidr_blocks", "winrm-https-tcp"),
    ]
    entry.update(number_of_computed_ingress_rules=None)  # unknown: every listed rule
    assert [r.rule_name for r in module_rules(entry)][:2] == ["rdp-tcp", "rdp-udp"]


def test_create_false_creates_nothing_but_create_sg_false_does():
    opened = {"ingress_rules": ["rdp-tcp"], "ingress_cidr_blocks": ["0.0.0.0/0"]}
    assert module_rules(call(create=False, **opened)) == []
    assert module_rules(call(putin_khuylo=False, **opened)) == []
    assert module_rules(call(f"{SG}//modules/rdp", create=False, ingress_cidr_blocks=["0.0.0.0/0"])) == []
    assert len(module_rules(call(create_sg=False, security_group_id="sg-1", **opened))) == 1
    assert len(module_rules(call(create=None, **opened))) == 1  # unknown: assume it is created


# ---------------------------------------------------------------- unknown names and values


def test_unknown_rule_name_raises():
    with pytest.raises(UnknownModuleRule) as caught:
        module_rules(call(ingress_rules=["rdp-tcp", "rdp-tcpp"], ingress_cidr_blocks=["0.0.0.0/0"]))
    assert caught.value.name == "rdp-tcpp"
    # lookup() evaluates the rule even when the map has its own ports.
    with pytest.raises(UnknownModuleRule, match="no-such-rule"):
        module_rules(call(ingress_with_cidr_blocks=[
            {"rule": "no-such-rule", "from_port": 1, "to_port": 2, "protocol": "tcp", "cidr_blocks": "0.0.0.0/0"}]))
    with pytest.raises(UnknownModuleRule):
        module_rules(call(f"{SG}//modules/rdp", ingress_rules=["nope"]))


def test_unknown_submodule_and_upstream_smtps_typo():
    with pytest.raises(UnknownSubmodule) as caught:
        module_rules(call(f"{SG}//modules/oracle", ingress_cidr_blocks=["0.0.0.0/0"]))  # v6-only name
    assert caught.value.name == "oracle" and isinstance(caught.value, UnknownModuleRule)
    # rules.tf's smtps group names "smtps-2465-tcp", its table "smtps-2456-tcp": Terraform fails too.
    with pytest.raises(UnknownModuleRule) as caught:
        module_rules(call(f"{SG}//modules/smtps"))
    assert caught.value.name == "smtps-2465-tcp"


def test_null_cidrs_are_unknown():
    rules = module_rules(call(ingress_rules=["rdp-tcp"], ingress_cidr_blocks=[None, "0.0.0.0/0"],
                              ingress_ipv6_cidr_blocks=None,
                              ingress_with_cidr_blocks=[{"rule": "rdp-udp", "cidr_blocks": None},
                                                        {"rule": "rdp-udp", "cidr_blocks": {"__attribute__": "module.x.y"}}]))
    assert rules == [
        ModuleRule("ingress", "tcp", 3389, 3389, None, "ingress_cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "tcp", 3389, 3389, None, "ingress_ipv6_cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", "udp", 3389, 3389, None, "ingress_with_cidr_blocks[0].cidr_blocks", "rdp-udp"),
        ModuleRule("ingress", "udp", 3389, 3389, None, "ingress_with_cidr_blocks[1].cidr_blocks", "rdp-udp"),
    ]


def test_null_ports_protocol_rule_and_lists_are_unknown():
    rules = module_rules(call(
        ingress_cidr_blocks=["0.0.0.0/0"],
        ingress_rules=["rdp-tcp", None],
        ingress_with_cidr_blocks=[
            {"from_port": None, "to_port": 3389, "protocol": None, "cidr_blocks": "0.0.0.0/0"},
            {"rule": None, "cidr_blocks": "0.0.0.0/0"},
            {"protocol": "-1", "cidr_blocks": "0.0.0.0/0"},  # no rule, no ports: the module's "_" fallback
            None,
        ],
        egress_with_cidr_blocks=None,
    ))
    assert rules == [
        ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-tcp"),
        ModuleRule("ingress", None, None, None, "0.0.0.0/0", "ingress_cidr_blocks", None),
        ModuleRule("ingress", None, None, 3389, "0.0.0.0/0", "ingress_with_cidr_blocks[0].cidr_blocks", None),
        ModuleRule("ingress", None, None, None, "0.0.0.0/0", "ingress_with_cidr_blocks[1].cidr_blocks", None),
        ModuleRule("ingress", "-1", None, None, "0.0.0.0/0", "ingress_with_cidr_blocks[2].cidr_blocks", None),
        ModuleRule("ingress", None, None, None, None, "ingress_with_cidr_blocks[3]", None),
        ModuleRule("egress", None, None, None, None, "egress_with_cidr_blocks", None),
    ]


def test_unknown_rule_list_gives_unknown_rules_per_cidr():
    rules = module_rules(call(ingress_rules=None, ingress_cidr_blocks=["0.0.0.0/0"]))
    assert rules == [ModuleRule("ingress", None, None, None, "0.0.0.0/0", "ingress_cidr_blocks", None)]
    rules = module_rules(call(f"{SG}//modules/rdp", ingress_rules=None, ingress_cidr_blocks=["0.0.0.0/0"],
                              egress_cidr_blocks=[], egress_ipv6_cidr_blocks=[]))
    assert [r.rule_name for r in rules] == ["rdp-tcp", "rdp-udp", None]


def test_bare_string_for_a_cidr_list_input():
    rules = module_rules(call(ingress_rules=["rdp-tcp"], ingress_cidr_blocks="0.0.0.0/0"))
    assert rules == [ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", "ingress_cidr_blocks", "rdp-tcp")]


# ---------------------------------------------------------------- v6 input shape


def test_v6_root_structured_rules():
    rules = module_rules(call(version="~> 6.0", ingress_rules={
        "rdp": {"from_port": 3389, "ip_protocol": "tcp", "cidr_ipv4": "0.0.0.0/0"},
        "all6": {"ip_protocol": "-1", "cidr_ipv6": "::/0"},
        "self": {"ip_protocol": "-1", "referenced_security_group_id": "self"},
        "smb": {"to_port": 445, "cidr_ipv4": None},
    }, egress_rules={"all": {"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"}}))
    assert rules == [
        ModuleRule("ingress", "-1", None, None, "::/0", 'ingress_rules["all6"].cidr_ipv6', None),
        ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", 'ingress_rules["rdp"].cidr_ipv4', None),
        ModuleRule("ingress", "tcp", 445, 445, None, 'ingress_rules["smb"].cidr_ipv4', None),
        ModuleRule("egress", "-1", None, None, "0.0.0.0/0", 'egress_rules["all"].cidr_ipv4', None),
    ]


def test_v6_preset_submodule():
    rules = module_rules(call(f"{SG}//modules/rdp", version="6.0.0",
                              ingress_cidr_ipv4={"world": "0.0.0.0/0"}, ingress_cidr_ipv6={"world6": "::/0"},
                              ingress_prefix_list_id={"pl": "pl-123"}))
    assert rules == [
        ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", 'ingress_cidr_ipv4["world"]', "rdp-tcp"),
        ModuleRule("ingress", "tcp", 3389, 3389, "::/0", 'ingress_cidr_ipv6["world6"]', "rdp-tcp"),
        ModuleRule("ingress", "udp", 3389, 3389, "0.0.0.0/0", 'ingress_cidr_ipv4["world"]', "rdp-udp"),
        ModuleRule("ingress", "udp", 3389, 3389, "::/0", 'ingress_cidr_ipv6["world6"]', "rdp-udp"),
    ]
    # No implicit egress in v6; a submodule without sources opens nothing.
    assert module_rules(call(f"{SG}//modules/winrm", version="~> 6.1")) == []


def test_v6_merge_keeps_the_last_map_on_equal_keys():
    # merge(ipv4 products, ipv6 products, ...): the same "<preset>/<key>" key is overridden.
    rules = module_rules(call(f"{SG}//modules/winrm", ingress_cidr_ipv4={"any": "0.0.0.0/0"},
                              ingress_cidr_ipv6={"any": "::/0"},
                              ingress_rules={"winrm-http/any": {"from_port": 5985, "cidr_ipv4": "10.0.0.0/8"}}))
    assert rules == [
        ModuleRule("ingress", "tcp", 5985, 5985, "10.0.0.0/8", 'ingress_rules["winrm-http/any"].cidr_ipv4', None),
        ModuleRule("ingress", "tcp", 5986, 5986, "::/0", 'ingress_cidr_ipv6["any"]', "winrm-https"),
    ]


def test_v6_overridden_presets_and_unknown_submodule():
    rules = module_rules(call(f"{SG}//modules/ssh", ingress_cidr_ipv4={"w": "0.0.0.0/0"},
                              preset_ingress_rules={"rdp": {"from_port": 3389, "to_port": 3389, "ip_protocol": "tcp"}}))
    assert rules == [ModuleRule("ingress", "tcp", 3389, 3389, "0.0.0.0/0", 'ingress_cidr_ipv4["w"]', "rdp")]
    with pytest.raises(UnknownSubmodule):
        module_rules(call(f"{SG}//modules/smtp", ingress_cidr_ipv4={"w": "0.0.0.0/0"}))  # removed in v6


# ---------------------------------------------------------------- sources and data


@pytest.mark.parametrize("source", [
    SG,
    f"{SG}//modules/rdp",
    f"{SG}//modules/winrm/",
    f"registry.terraform.io/{SG}",
    f"registry.terraform.io/{SG}//modules/rdp",
    "Terraform-AWS-Modules/Security-Group/AWS",
    "github.com/terraform-aws-modules/terraform-aws-security-group//modules/rdp?ref=v5.1.0",
    "git::https://github.com/terraform-aws-modules/terraform-aws-security-group.git?ref=v4.0.0",
    f"{SG}//modules/dynamodb-dax",  # v6 submodule
])
def test_is_known_module(source):
    assert is_known_module(source)


@pytest.mark.parametrize("source", [
    None, "", "../../", "../../modules/rdp", "terraform-aws-modules/vpc/aws",
    "terraform-aws-modules/security-group/azurerm", f"{SG}//modules/nope", f"{SG}//examples/complete",
    f"app.terraform.io/acme/{SG}", "cloudposse/security-group/aws",
])
def test_is_not_known_module(source):
    assert not is_known_module(source)


def test_module_rules_rejects_other_sources():
    with pytest.raises(ValueError):
        module_rules(call("terraform-aws-modules/vpc/aws"))


def test_data_table():
    data = known_modules._data()
    assert data is known_modules._data()  # loaded once
    rules = data["rules"]
    assert rules["rdp-tcp"][:3] == [3389, 3389, "tcp"] and rules["rdp-udp"][:3] == [3389, 3389, "udp"]
    assert rules["winrm-http-tcp"][:3] == [5985, 5985, "tcp"] and rules["winrm-https-tcp"][:3] == [5986, 5986, "tcp"]
    assert rules["all-all"][:3] == [-1, -1, "-1"]
    assert rules["all-tcp"][:3] == [0, 65535, "tcp"] and rules["all-udp"][:3] == [0, 65535, "udp"]
    assert rules["all-icmp"][:3] == [-1, -1, "icmp"] and rules["all-ipv6-icmp"][:3] == [-1, -1, 58]
    assert all(len(spec) == 4 and isinstance(spec[3], str) for spec in rules.values())
    groups = data["auto_groups"]
    assert groups["rdp"] == {"ingress_rules": ["rdp-tcp", "rdp-udp"], "ingress_with_self": ["all-all"],
                             "egress_rules": ["all-all"]}
    assert groups["winrm"]["ingress_rules"] == ["winrm-http-tcp", "winrm-https-tcp"]
    missing = {name for group in groups.values() for key in ("ingress_rules", "ingress_with_self", "egress_rules")
               for name in group[key] if name not in rules}
    assert missing == {"smtps-2465-tcp"}  # upstream typo, kept on purpose
    for presets in data["v6_presets"].values():
        assert presets and all(len(spec) == 4 and isinstance(spec[0], int) for spec in presets.values())
    sources = known_modules.data_sources()
    assert sources["rules"]["commit"] == "015559ca072e261e92a3f6d2cc390e19b3352fd8"
    assert sources["rules"]["path"] == "rules.tf"


def test_every_submodule_of_the_table_evaluates():
    data = known_modules._data()
    for group in sorted(set(data["auto_groups"]) - {"smtps"}):
        rules = module_rules(call(f"{SG}//modules/{group}", ingress_cidr_blocks=["0.0.0.0/0"]))
        assert ingress(rules) and all(r.cidr == "0.0.0.0/0" for r in ingress(rules)), group
    for group in sorted(data["v6_presets"]):
        rules = module_rules(call(f"{SG}//modules/{group}", ingress_cidr_ipv4={"w": "0.0.0.0/0"}))
        assert len(rules) == len(data["v6_presets"][group]), group


# ---------------------------------------------------------------- corpus


def _tfparse_modules(folder: Path, tmp_path: Path) -> list[dict]:
    tfparse = pytest.importorskip("tfparse")
    copy = tmp_path / folder.name
    shutil.copytree(folder, copy)
    return tfparse.load_from_path(str(copy), stop_on_hcl_error=True).get("module") or []


def _as_registry(entry: dict) -> dict:
    """The upstream examples call the module by path; call the registry module instead."""
    source = entry.get("source") or ""
    if source.startswith("../../"):
        sub = source[len("../../"):].strip("/")
        entry = {**entry, "source": f"{SG}//{sub}" if sub else SG}
    return entry


@needs_corpus
@pytest.mark.parametrize("example", ["complete", "http"])
def test_upstream_examples_evaluate(example, tmp_path):
    folder = CORPUS / "terraform-aws-security-group" / "examples" / example
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    entries = [_as_registry(e) for e in _tfparse_modules(folder, tmp_path)]
    ours = {e["__tfmeta"]["label"]: e for e in entries if is_known_module(e.get("source"))}
    assert len(ours) == {"complete": 7, "http": 6}[example]
    results = {label: module_rules(entry) for label, entry in ours.items()}
    for rules in results.values():
        assert all(isinstance(r, ModuleRule) and r.direction in ("ingress", "egress") for r in rules)
    if example == "http":
        assert ingress(results["http_mysql_1_sg"]) == [
            ModuleRule("ingress", "tcp", 80, 80, "0.0.0.0/0", "ingress_cidr_blocks", "http-80-tcp"),
            ModuleRule("ingress", "tcp", 3306, 3306, "0.0.0.0/0", "ingress_cidr_blocks", "mysql-tcp"),
        ]
        # [data.aws_vpc.default.cidr_block] is unknown offline.
        assert {r.cidr for r in ingress(results["http_mysql_2_sg"])} == {None}
        assert ingress(results["http_with_ingress_prefix_list_ids_sg"]) == []
    else:
        complete = ingress(results["complete_sg"])
        assert ModuleRule("ingress", "tcp", 5432, 5432, "0.0.0.0/0", "ingress_with_cidr_blocks[0].cidr_blocks",
                          "postgresql-tcp") in complete
        assert ModuleRule("ingress", "tcp", 22, 22, "10.10.0.0/16", "ingress_cidr_blocks", "ssh-tcp") in complete
        # "3.3.3.3/32,${module.vpc.vpc_cidr_block}" is unknown as a whole.
        assert ModuleRule("ingress", "tcp", 5432, 5432, None, "computed_ingress_with_cidr_blocks[0].cidr_blocks",
                          "postgresql-tcp") in complete
        assert results["only_rules"] == [] and ingress(results["prefix_list_sg"]) == []
        world = [r for r in complete if r.cidr in ("0.0.0.0/0", "::/0")]
        assert [r.rule_name for r in world] == ["postgresql-tcp"]


@needs_corpus
@pytest.mark.parametrize("path, expected", [
    # A list instead of the comma-separated string (labelled by intent).
    ("kics/terraform/aws/sensitive_port_is_exposed_to_wide_private_network/test/negative7.tf",
     [ModuleRule("ingress", "-1", 0, 0, "1.2.3.4", "ingress_with_cidr_blocks[0].cidr_blocks", None),
      ModuleRule("ingress", "-1", 0, 0, "0.0.0.0/0", "ingress_with_cidr_blocks[0].cidr_blocks", None)]),
    # ingress_cidr_blocks alone creates no rule.
    ("kics/terraform/aws/unrestricted_security_group_ingress/test/positive4.tf", []),
    ("kics/terraform/aws/unrestricted_security_group_ingress/test/positive9.tf", []),
    # An `ingress {}` block is not a module argument.
    ("kics/terraform/aws/security_group_with_unrestricted_access_to_ssh/test/positive4.tf", []),
])
def test_corpus_module_calls(path, expected, tmp_path):
    file = CORPUS / path
    if not file.is_file():
        pytest.skip(f"{file} is absent")
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(file, folder / file.name)
    entries = _tfparse_modules(folder, tmp_path / "parsed")
    assert len(entries) == 1 and is_known_module(entries[0]["source"])
    assert module_rules(entries[0]) == expected
