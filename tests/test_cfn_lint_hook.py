"""winportlint-cfn-lint, the pre-commit hook's entry: cfn-lint on the CloudFormation templates among the
files pre-commit hands it, never on workflows, pre-commit's own configuration or package.json."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from winportlint.cfn_lint.templates import main, split_arguments, templates

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Rdp:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: rdp
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}
"""
WORKFLOW = """\
name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo Resources
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A repository's files as pre-commit hands them over: relative paths, from its root."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "bastion.yaml").write_text(TEMPLATE)
    (tmp_path / "infra" / "bastion.json").write_text(
        '{"Resources": {"Rdp": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "rdp"}}}}')
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    (tmp_path / ".pre-commit-config.yaml").write_text("repos:\n  - repo: local\n    hooks: []\n")
    (tmp_path / "package.json").write_text('{"name": "app", "version": "1.0.0", "Resources": "not a mapping"}')
    (tmp_path / "serverless.yml").write_text("service: app\nprovider: {name: aws}\nresources:\n  Resources: {}\n")
    (tmp_path / "broken.yaml").write_text("Resources:\n  Rdp: [\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["winportlint-cfn-lint"])  # cfn-lint reads its arguments there
    return tmp_path


ALL = [".pre-commit-config.yaml", ".github/workflows/ci.yml", "package.json", "serverless.yml",
       "infra/bastion.yaml", "infra/bastion.json", "broken.yaml"]


def test_only_cloudformation_templates_are_kept(project):
    # a broken file that names Resources is kept, so that cfn-lint reports why it is broken
    assert templates(ALL) == (["infra/bastion.yaml", "infra/bastion.json", "broken.yaml"], [])


def test_cfn_lint_reports_the_template_and_nothing_about_the_other_files(project, capsys):
    code = main(ALL[:-1])
    out = capsys.readouterr().out
    assert code == 2, out  # cfn-lint's code for errors
    assert "E9101 3389/tcp open from 0.0.0.0/0 (the whole internet) on Rdp" in out
    assert "infra/bastion.yaml:8:67" in out
    assert "E1001" not in out
    assert not re.search(r"^(\.pre-commit-config\.yaml|\.github|package\.json|serverless\.yml)", out, re.M)


def test_with_no_template_left_cfn_lint_does_not_run_and_the_hook_passes(project, capsys, monkeypatch):
    import cfnlint.runner

    monkeypatch.setattr(cfnlint.runner, "main", lambda: pytest.fail("cfn-lint ran"))
    assert main([".pre-commit-config.yaml", ".github/workflows/ci.yml", "package.json"]) == 0
    assert capsys.readouterr() == ("", "")


def test_a_broken_template_gets_cfn_lints_syntax_error(project, capsys):
    assert main(["broken.yaml", "package.json"]) == 2
    assert "E0000" in capsys.readouterr().out


def test_options_before_the_double_dash_reach_cfn_lint(project, capsys):
    assert main(["-i", "E9101", "--", "infra/bastion.yaml", "package.json"]) == 0
    assert "E9101" not in capsys.readouterr().out


def test_an_option_among_the_files_is_a_usage_error_not_a_file(project, capsys):
    assert main(["-i", "E9101", "infra/bastion.yaml"]) == 2
    assert capsys.readouterr().err == ("winportlint-cfn-lint: -i: cfn-lint options go before '--' "
                                       "(usage: winportlint-cfn-lint [CFN-LINT OPTION ...] -- FILE ...)\n")
    assert split_arguments(["--", "-odd-name.yaml"]) == ([], ["-odd-name.yaml"])


def test_a_fifo_named_like_a_template_is_reported_not_opened(project):
    os.mkfifo(project / "pipe.yaml")  # nobody writes: a reader that opens it blocks
    done = subprocess.run([sys.executable, "-c", "import sys; from winportlint.cfn_lint.templates import main; "
                           "sys.exit(main(sys.argv[1:]))", "pipe.yaml", "package.json"],
                          cwd=project, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "winportlint-cfn-lint: pipe.yaml: not a regular file (a FIFO, socket or device)\n"


def test_the_hook_runs_this_entry_on_the_files_its_pattern_matches():
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["winportlint-cfn-lint"]
    assert hook["entry"] == "winportlint-cfn-lint"
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["winportlint-cfn-lint"] == "winportlint.cfn_lint.templates:main"
    pattern = re.compile(hook["files"])
    assert all(pattern.search(name) for name in ALL)  # matched, then sorted by the entry


CFN_LINT_PIN = re.compile(r"cfn-lint(?:\[[a-z,]+\])?(>=[\w.]+,<[\w.]+)")


def test_one_cfn_lint_pin_in_the_extra_the_hook_the_docs_and_ci():
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["cfn-lint"]
    (pin,) = [CFN_LINT_PIN.fullmatch(requirement).group(1) for requirement in extra]
    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["winportlint-cfn-lint"]["additional_dependencies"] == [f"cfn-lint{pin}"]
    for name in ("pyproject.toml", "docs/cfn-lint.md", ".ci/run", "README.md"):
        assert set(CFN_LINT_PIN.findall((REPO / name).read_text())) <= {pin}, name
    assert pin in CFN_LINT_PIN.findall((REPO / "docs" / "cfn-lint.md").read_text())
