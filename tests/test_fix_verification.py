"""Fixes that edit a file other than their finding's, verified by reading the module again with the
fixed bytes (issue #20): a Terraform variable's default, a ``terraform.tfvars`` entry, a calling
module's argument. The Terraform format's own fixes are planted here: these tests are about
verifying and writing them, whatever offers them."""

from __future__ import annotations

import os
import re

import pytest
from test_fixes import run

from winportlint.model import Fix, TextEdit
from winportlint.plugins.terraform import TerraformFormat


MAIN = """\
resource "aws_security_group" "jump" {
  name = "jump"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = [var.admin]
  }
}
"""

VARIABLES = """\
# who may connect
variable "admin" {
  default = "0.0.0.0/0" # everyone, for now
}

variable "unused" {
  default = "0.0.0.0/0"
}
"""

SG_MODULE = """\
variable "cidr" {}

resource "aws_security_group" "smb" {
  name = "smb"
  ingress {
    from_port   = 445
    to_port     = 445
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }
}
"""

CALLER = """\
module "edge" {
  source = "./modules/sg"
  cidr   = "0.0.0.0/0"
}
"""


def _planted(where, old: str = '"0.0.0.0/0"', new: str = '"203.0.113.0/24"'):
    """A Terraform ``fixes`` that restricts by replacing the first ``old`` after ``after`` in the
    file ``where(finding)`` names (read through ``read``, as a format must)."""
    def fixes(self, finding, request, read):
        if request.kind != "restrict":
            return []
        path, after = where(finding)
        data = read(path)
        if data is None:
            return []
        start = data.index(old.encode(), data.index(after.encode()))
        return [Fix(f"Restrict 0.0.0.0/0 in {path}", "unsafe", (TextEdit(path, start, start + len(old), new),))]
    return fixes


def _beside(name: str, after: str = ""):
    return lambda finding: (os.path.join(os.path.dirname(finding.location.file), name), after)


def _caller(finding):
    """The module call the finding's rule is reached through (its provenance says where)."""
    (call,) = [step.location for step in finding.permission.provenance if step.kind == "module"]
    return call.file, 'cidr'


@pytest.fixture
def module(fix_project):  # noqa: F811
    (fix_project / "main.tf").write_text(MAIN)
    (fix_project / "variables.tf").write_text(VARIABLES)
    return fix_project


def test_a_variable_default_in_another_file_is_restricted_and_verified_with_the_module(module, capsys, monkeypatch):
    monkeypatch.setattr(TerraformFormat, "fixes", _planted(_beside("variables.tf", 'variable "admin"')), raising=False)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", ".")
    assert out == """\
--- a/variables.tf
+++ b/variables.tf
@@ -1,6 +1,6 @@
 # who may connect
 variable "admin" {
-  default = "0.0.0.0/0" # everyone, for now
+  default = "203.0.113.0/24" # everyone, for now
 }
 
 variable "unused" {
"""
    assert (code, err) == (1, ["1 fix to apply (with --apply)"])
    assert (module / "variables.tf").read_text() == VARIABLES
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", ".") == (0, "", ["1 fix applied"])
    assert (module / "variables.tf").read_text() == VARIABLES.replace(
        '"0.0.0.0/0" # everyone', '"203.0.113.0/24" # everyone')
    assert (module / "main.tf").read_text() == MAIN
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", ".") == (0, "", ["0 fixes applied"])
    assert sorted(path.name for path in module.iterdir()) == ["main.tf", "pyproject.toml", "variables.tf"]


def test_a_tfvars_entry_is_restricted_and_verified_with_the_module_that_loads_it(module, capsys, monkeypatch):
    (module / "variables.tf").write_text('variable "admin" {}\n')
    (module / "terraform.tfvars").write_text('admin = "0.0.0.0/0"\t# set by the platform team\r\n')
    monkeypatch.setattr(TerraformFormat, "fixes", _planted(_beside("terraform.tfvars")), raising=False)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", ".")
    assert out == ("--- a/terraform.tfvars\n"
                   "+++ b/terraform.tfvars\n"
                   "@@ -1 +1 @@\n"
                   '-admin = "0.0.0.0/0"\t# set by the platform team\r\n'
                   '+admin = "203.0.113.0/24"\t# set by the platform team\r\n')
    assert (code, err) == (1, ["1 fix to apply (with --apply)"])
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", ".") == (0, "", ["1 fix applied"])
    assert (module / "terraform.tfvars").read_bytes() == b'admin = "203.0.113.0/24"\t# set by the platform team\r\n'
    assert run(capsys, "check", ".")[0] == 0


def test_a_called_modules_rule_is_restricted_at_the_callers_argument(fix_project, capsys, monkeypatch):  # noqa: F811
    (fix_project / "main.tf").write_text(CALLER)
    (fix_project / "modules" / "sg").mkdir(parents=True)
    (fix_project / "modules" / "sg" / "main.tf").write_text(SG_MODULE)
    monkeypatch.setattr(TerraformFormat, "fixes", _planted(_caller), raising=False)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", ".")
    assert out == """\
--- a/main.tf
+++ b/main.tf
@@ -1,4 +1,4 @@
 module "edge" {
   source = "./modules/sg"
-  cidr   = "0.0.0.0/0"
+  cidr   = "203.0.113.0/24"
 }
"""
    assert (code, err) == (1, ["1 fix to apply (with --apply)"])
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", ".") == (0, "", ["1 fix applied"])
    assert (fix_project / "main.tf").read_text() == CALLER.replace("0.0.0.0/0", "203.0.113.0/24")
    assert (fix_project / "modules" / "sg" / "main.tf").read_text() == SG_MODULE


@pytest.mark.parametrize("planted, reason", [
    (_planted(_beside("variables.tf", 'variable "admin"'), new='"203.0.113.0/24" +'),
     "the fixed file would have an error: line 3: invalid HCL: unexpected '+ # everyone, for now'; the module is "
     "read without this file"),
    (_planted(_beside("variables.tf", 'variable "unused"')),
     "the fixed file would still have WPL101 on aws_security_group.jump"),
])
def test_a_fix_that_breaks_the_module_or_leaves_the_exposure_is_not_written(module, capsys, monkeypatch, planted,
                                                                            reason):
    monkeypatch.setattr(TerraformFormat, "fixes", planted, raising=False)
    code, out, err = run(capsys, "fix", "--apply", "--unsafe-fixes", ".")
    assert (code, out) == (1, "")
    assert err == [f"variables.tf: not fixed: {reason}", "0 fixes applied"]
    assert (module / "variables.tf").read_text() == VARIABLES


@pytest.mark.parametrize("target", ["../outside.tf", "notes.txt"])
def test_a_fix_that_edits_a_file_outside_the_scanned_folder_is_dropped(fix_project, capsys, monkeypatch,  # noqa: F811
                                                                       target):
    work = fix_project / "work"
    work.mkdir()
    (work / "main.tf").write_text(MAIN.replace("[var.admin]", '["0.0.0.0/0"]'))
    outside = fix_project / "outside.tf"
    outside.write_text('variable "admin" {\n  default = "0.0.0.0/0"\n}\n')
    (work / "notes.txt").symlink_to(outside)
    monkeypatch.chdir(work)
    (work / "pyproject.toml").write_bytes((fix_project / "pyproject.toml").read_bytes())
    monkeypatch.setattr(TerraformFormat, "fixes", lambda self, finding, request, read: [
        Fix("Restrict elsewhere", "safe", (TextEdit(target, 31, 42, '"203.0.113.0/24"'),))], raising=False)
    code, out, err = run(capsys, "fix", "--apply", "--unsafe-fixes", ".")
    assert (code, out, err) == (1, "", ["main.tf:7: WPL101: no fix to apply",
                                        "0 fixes applied, 1 finding without a fix to apply"])
    assert outside.read_text() == 'variable "admin" {\n  default = "0.0.0.0/0"\n}\n'


def test_a_module_read_with_given_bytes_is_read_as_on_disk_with_every_path_the_runs(fix_project, monkeypatch):  # noqa: F811
    """``engine.read_contents``, as the fix verification and an editor's unsaved buffer use it: the
    bytes of the disk give the run's findings, a buffer's give its own, and nothing says where
    the module was evaluated, which is removed afterwards."""
    import tempfile

    from conftest import lint

    from winportlint import engine
    from winportlint.catalog import load_catalog
    from winportlint.plugin_manager import load_plugins

    (fix_project / "infra").mkdir()
    (fix_project / "infra" / "main.tf").write_text(MAIN + CALLER.replace("./modules/sg", "../modules/sg"))
    (fix_project / "infra" / "variables.tf").write_text(VARIABLES)
    (fix_project / "modules" / "sg").mkdir(parents=True)
    (fix_project / "modules" / "sg" / "main.tf").write_text(SG_MODULE)
    scratch = fix_project / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    plugins = load_plugins()
    checks = [check for check in plugins.checks if check.enabled_by_default]
    folders = ["infra", "modules/sg"]
    settings = {"scanned_trees": engine.scanned_trees(folders)}

    def read(contents):
        results = engine.read_contents(contents, plugins.formats, settings, folders)
        assert str(scratch) not in repr(results) and "winportlint-overlay" not in repr(results)
        assert not [name for name in os.listdir(scratch) if name.startswith("winportlint-overlay")]
        return sorted((finding for path, result in results.items()
                       for finding in engine.check_file(path, result, checks, load_catalog(()))),
                      key=lambda finding: finding.sort_key())

    on_disk = lint(folders).findings
    assert [(f.rule_id, f.location, f.permission.group) for f in on_disk] == [
        ("WPL101", ("infra/main.tf", 7, 5), "infra:aws_security_group.jump"),
        ("WPL102", ("modules/sg/main.tf", 9, 5), "infra:module.edge.aws_security_group.smb")]
    assert read({"infra/variables.tf": VARIABLES.encode()}) == on_disk
    buffer = {"modules/sg/main.tf": SG_MODULE.replace("445", "3389").encode()}
    (rdp, smb) = read(buffer)
    assert (rdp, smb.rule_id, smb.location) == (on_disk[0], "WPL101", ("modules/sg/main.tf", 9, 5))
    assert smb.permission.provenance[-1].location == ("infra/main.tf", 10, 1)
    assert smb.permission.provenance[-1].detail == "module.edge (infra/main.tf:10)"
    assert (fix_project / "modules" / "sg" / "main.tf").read_text() == SG_MODULE


def test_a_fix_whose_edits_span_two_files_is_verified_once_and_diffed_in_both(module, capsys, monkeypatch):
    def fixes(self, finding, request, read):
        variables, main = (os.path.join(os.path.dirname(finding.location.file), name)
                           for name in ("variables.tf", "main.tf"))
        start = read(variables).index(b'"0.0.0.0/0"')
        end = read(main).index(b"\n", read(main).index(b"cidr_blocks"))
        return [Fix("Restrict var.admin", "unsafe", (TextEdit(variables, start, start + 11, '"203.0.113.0/24"'),
                                                     TextEdit(main, end, end, " # restricted by var.admin")))]

    monkeypatch.setattr(TerraformFormat, "fixes", fixes, raising=False)
    code, out, err = run(capsys, "fix", "--unsafe-fixes", ".")
    assert out == """\
--- a/variables.tf
+++ b/variables.tf
@@ -1,6 +1,6 @@
 # who may connect
 variable "admin" {
-  default = "0.0.0.0/0" # everyone, for now
+  default = "203.0.113.0/24" # everyone, for now
 }
 
 variable "unused" {
--- a/main.tf
+++ b/main.tf
@@ -4,6 +4,6 @@
     from_port   = 3389
     to_port     = 3389
     protocol    = "tcp"
-    cidr_blocks = [var.admin]
+    cidr_blocks = [var.admin] # restricted by var.admin
   }
 }
"""
    assert (code, err) == (1, ["1 fix to apply (with --apply)"])
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", ".") == (0, "", ["1 fix applied"])
    assert (module / "main.tf").read_text() == MAIN.replace("[var.admin]\n", "[var.admin] # restricted by var.admin\n")


def test_a_unit_is_written_only_when_every_file_of_it_still_holds_the_bytes_it_was_fixed_from(tmp_path):
    from winportlint import fixes

    first, second = tmp_path / "variables.tf", tmp_path / "terraform.tfvars"
    first.write_text("before\n")
    second.write_text("changed meanwhile\n")
    with pytest.raises(OSError, match=f"^{re.escape(str(second))} changed while it was being fixed$"):
        fixes.write_unit({str(first): b"fixed\n", str(second): b"fixed\n"},
                         {str(first): b"before\n", str(second): b"before\n"})
    assert (first.read_text(), second.read_text()) == ("before\n", "changed meanwhile\n")


def test_fixes_are_verified_together_when_they_edit_one_module_or_one_file():
    from winportlint import fixes
    from winportlint.plugin_manager import load_plugins

    def choice(*files):
        return fixes.Choice(None, Fix("f", "safe", tuple(TextEdit(file, 0, 0, "x") for file in files)))

    main, variables, caller, stack, other = (choice("infra/main.tf"), choice("infra/variables.tf"),
                                             choice("modules/sg/main.tf", "infra/terraform.tfvars"),
                                             choice("t.yaml"), choice("u.yaml"))
    assert fixes.units([main, stack, variables, other, caller], load_plugins().formats) == [
        [main, variables, caller], [stack], [other]]


def test_an_environments_variable_file_is_restricted_and_verified_with_the_root_evaluated_with_it(module, capsys,
                                                                                                  monkeypatch):
    (module / "variables.tf").write_text('variable "admin" {\n  default = "10.0.0.0/8"\n}\n')
    (module / "envs").mkdir()
    (module / "envs" / "prod.tfvars").write_text('admin = "0.0.0.0/0"\n')
    monkeypatch.setattr(TerraformFormat, "fixes", _planted(lambda finding: ("envs/prod.tfvars", "")), raising=False)
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", ".") == (0, "", ["1 fix applied"])
    assert (module / "envs" / "prod.tfvars").read_text() == 'admin = "203.0.113.0/24"\n'
    assert run(capsys, "check", ".")[0] == 0


def test_a_module_read_with_given_bytes_is_still_read_with_its_environments_variable_files(module):
    from conftest import lint

    from winportlint import engine
    from winportlint.catalog import load_catalog
    from winportlint.plugin_manager import load_plugins

    (module / "variables.tf").write_text('variable "admin" {\n  default = "10.0.0.0/8"\n}\n')
    (module / "envs").mkdir()
    (module / "envs" / "prod.tfvars").write_text('admin = "0.0.0.0/0"\n')
    plugins = load_plugins()
    checks = [check for check in plugins.checks if check.enabled_by_default]
    ((path, result),) = engine.read_contents({"variables.tf": (module / "variables.tf").read_bytes()}, plugins.formats,
                                             {"scanned_trees": engine.scanned_trees(["."])}, ["."]).items()
    found = engine.check_file(path, result, checks, load_catalog(()))
    assert [(f.rule_id, f.location, f.permission.peer.text) for f in found] == [
        ("WPL101", ("main.tf", 7, 5), "0.0.0.0/0")]
    assert found == lint(["."]).findings


def test_rules_that_read_one_default_are_fixed_by_its_one_edit(module, capsys, monkeypatch):
    (module / "main.tf").write_text(MAIN.replace("  }\n}\n", '  }\n  ingress {\n    from_port   = 445\n'
                                                 '    to_port     = 445\n    protocol    = "tcp"\n'
                                                 '    cidr_blocks = [var.admin]\n  }\n}\n'))
    monkeypatch.setattr(TerraformFormat, "fixes", _planted(_beside("variables.tf", 'variable "admin"')), raising=False)
    assert run(capsys, "fix", "--apply", "--unsafe-fixes", ".") == (0, "", ["2 fixes applied"])
    assert (module / "variables.tf").read_text() == VARIABLES.replace(
        '"0.0.0.0/0" # everyone', '"203.0.113.0/24" # everyone')
