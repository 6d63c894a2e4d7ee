"""Rules whose for_each is known only at apply (issue #16): the evaluator makes no instance of them,
and they were read as nothing. Each is an unknown rule (WPL001) at its block, in the module that
declares it; a collection known to be empty is nothing to report (tests/cases/WPL001)."""

from __future__ import annotations

from pathlib import Path

from conftest import check_folder, write_files

CASE = Path(__file__).parent / "cases" / "WPL001" / "bad" / "tf-for-each-at-apply" / "main.tf"


def test_a_rule_of_a_called_module_counted_at_apply_is_unknown_where_it_is_written(tmp_path, capsys):
    write_files(tmp_path, {"main.tf": 'module "edge" {\n  source = "./edge"\n}\n', "edge/main.tf": CASE.read_text()})
    code, findings, errors = check_folder(tmp_path, capsys, "--severity", "info", "--select", "WPL001")
    assert (code, errors) == (1, [])
    assert [line.split(" may be open")[0] for line in findings] == [
        "edge/main.tf:13:1: WPL001 info aws_network_acl_rule.inbound",
        "edge/main.tf:47:3: WPL001 info aws_security_group.dynamic"]
