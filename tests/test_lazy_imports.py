"""The command starts on every commit: a run loads only the code its files and output need."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("tfparse", "tree_sitter", "cfnlint", "ruamel", "multiprocessing", "concurrent.futures",
         "winportlint.plugins.terraform.evaluate", "winportlint.plugins.terraform.hcl_positions",
         "winportlint.plugins.reporters.sarif", "winportlint.plugins.reporters.junit",
         "winportlint.plugins.reporters.rdjson", "winportlint.fixes",
         "winportlint.plugins.cloudformation.fixes", "pygls", "lsprotocol", "winportlint.lsp")


def loaded_modules(tmp_path: Path, *argv: str) -> set[str]:
    """The modules a fresh interpreter holds after one ``winportlint`` run."""
    code = ("import json, sys\nfrom winportlint.cli import main\nmain(sys.argv[1:])\n"
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=tmp_path)
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY)


def test_a_text_run_over_a_template_loads_no_terraform_cfn_lint_or_sarif_code(tmp_path):
    template = REPO / "examples" / "vulnerable" / "rdp-jump-host.yaml"
    modules = loaded_modules(tmp_path, "check", "--no-cache", str(template))
    assert "winportlint.plugins.cloudformation.extract" in modules  # the template was read
    assert heavy(modules) == []


def test_fix_code_loads_only_for_an_output_that_shows_fixes(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.winportlint.fix]\ncidrs = ["203.0.113.0/24"]\n')
    (tmp_path / "t.yaml").write_bytes((REPO / "examples" / "vulnerable" / "rdp-jump-host.yaml").read_bytes())
    fix_code = {"winportlint.fixes", "winportlint.plugins.cloudformation.fixes"}
    assert not fix_code & loaded_modules(tmp_path, "check", "--no-cache", "t.yaml")
    assert fix_code <= loaded_modules(tmp_path, "check", "--no-cache", "--format", "json", "t.yaml")


def test_a_cached_run_does_not_even_load_the_template_reader(tmp_path):
    template = REPO / "examples" / "vulnerable" / "rdp-jump-host.yaml"
    loaded_modules(tmp_path, "check", str(template))
    modules = loaded_modules(tmp_path, "check", str(template))
    assert not {"winportlint.nodes", "winportlint.plugins.cloudformation.extract"} & modules


def test_the_sarif_and_terraform_code_load_when_a_run_needs_them(tmp_path):
    module = REPO / "examples" / "vulnerable" / "terraform-windows-fleet"
    modules = loaded_modules(tmp_path, "check", "--no-cache", "--format", "sarif", str(module))
    assert {"winportlint.plugins.terraform.evaluate", "winportlint.plugins.reporters.sarif"} <= modules
    assert "tfparse" not in modules  # the evaluator runs in helper processes


def test_a_cached_terraform_run_loads_no_evaluator_or_helper_code(tmp_path):
    module = REPO / "examples" / "vulnerable" / "terraform-windows-fleet"
    loaded_modules(tmp_path, "check", str(module))
    modules = loaded_modules(tmp_path, "check", str(module))
    assert "winportlint.plugins.terraform.environment" in modules  # the TF_VAR_* of the cache key were read
    assert "winportlint.plugins.terraform.isolated" not in modules
    assert heavy(modules) == []


def test_a_terraform_run_over_local_calls_loads_no_registry_module_tables(tmp_path):
    (tmp_path / "edge").mkdir()
    (tmp_path / "main.tf").write_text('module "edge" {\n  source = "./edge"\n}\n')
    (tmp_path / "edge" / "main.tf").write_text('resource "aws_security_group" "g" {\n  name = "g"\n}\n')
    modules = loaded_modules(tmp_path, "check", "--no-cache", str(tmp_path))
    assert "winportlint.plugins.terraform.extract" in modules  # the module was read
    assert "winportlint.plugins.terraform.known_modules" not in modules


def test_the_language_server_loads_only_for_its_command(tmp_path):
    modules = loaded_modules(tmp_path, "rules")
    assert not {"pygls", "lsprotocol", "winportlint.lsp"} & modules


def test_without_the_lsp_extra_the_command_names_it_and_exits_2(tmp_path):
    code = ("import sys\nsys.modules['pygls'] = None  # as if the extra were not installed\n"
            "from winportlint.cli import main\nsys.exit(main(['lsp']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", "winportlint: error: the language server needs the lsp extra: pip install 'winportlint[lsp]'\n")
