"""The real pre-commit, running this repository's hooks on a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BAD_TEMPLATE = """\
Resources:
  Rdp:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: rdp
      SecurityGroupIngress:
        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}
"""
BAD_TF = """\
resource "aws_security_group_rule" "smb" {
  type              = "ingress"
  from_port         = 445
  to_port           = 445
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
  security_group_id = "sg-0123456789abcdef0"
}
"""

#: The test environment's pre-commit, also where it is not activated (`.venv/bin/python -m pytest`).
PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or shutil.which("pre-commit") \
    or "pre-commit"
pytestmark = pytest.mark.skipif(shutil.which(PRE_COMMIT) is None and not os.environ.get("CI"),
                                reason="pre-commit is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    root = tmp_path_factory.mktemp("precommit")
    project = root / "project"
    (project / "infra").mkdir(parents=True)
    (project / "bad.yaml").write_text(BAD_TEMPLATE)
    (project / "good.yaml").write_text(BAD_TEMPLATE.replace("0.0.0.0/0", "10.0.0.0/8"))
    (project / "infra" / "main.tf").write_text(BAD_TF)
    environment = {**os.environ, "PRE_COMMIT_HOME": str(root / "cache"), "GIT_AUTHOR_NAME": "t",
                   "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
                   "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for command in (["git", "init", "-q"], ["git", "add", "."]):
        subprocess.run(command, cwd=project, check=True, env=environment)
    return project, environment


def try_repo(work, hook: str, *files: str) -> subprocess.CompletedProcess:
    project, environment = work
    return subprocess.run([PRE_COMMIT, "try-repo", str(REPO), hook, "--files", *files], cwd=project,
                          env=environment, capture_output=True, text=True, timeout=900)


def test_the_hook_fails_on_exposures_in_yaml_and_terraform(work):
    done = try_repo(work, "winportlint", "bad.yaml", "good.yaml", "infra/main.tf")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "bad.yaml:7:67: WPL101 critical 3389/tcp open from 0.0.0.0/0" in done.stdout
    assert "infra/main.tf:6:24: WPL102 critical 445/tcp open from 0.0.0.0/0" in done.stdout
    assert not any(line.startswith("good.yaml:") for line in done.stdout.splitlines())


def test_the_hook_passes_on_a_clean_template_and_feels_instant(work):
    try_repo(work, "winportlint", "good.yaml")  # the hook's environment exists after this
    start = time.perf_counter()
    done = try_repo(work, "winportlint", "good.yaml")
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout
    print(f"pre-commit try-repo winportlint on one file: {elapsed:.2f} s")


def test_the_cfn_lint_hook_reports_the_winportlint_rules(work):
    done = try_repo(work, "winportlint-cfn-lint", "bad.yaml", "good.yaml")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "- exit code: 2" in done.stdout  # cfn-lint's own code for errors
    assert "E9101 3389/tcp open from 0.0.0.0/0 (the whole internet) on Rdp" in done.stdout
    assert "bad.yaml:7:67" in done.stdout
    assert "good.yaml:" not in done.stdout


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """This checkout as its repository would be fetched: the files git tracks or would add (ignored
    ones left out), as they are now, in one commit; and that commit."""
    shadow = tmp_path_factory.mktemp("published")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (shadow / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, shadow / name)
    environment = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
                   "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    for command in (["git", "init", "-q"], ["git", "add", "."], ["git", "commit", "-q", "-m", "snapshot"]):
        subprocess.run(command, cwd=shadow, check=True, env=environment)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=shadow, check=True, capture_output=True,
                            text=True).stdout.strip()
    return shadow, commit


def readme_snippet() -> str:
    """The README's .pre-commit-config.yaml, as a user pastes it."""
    text = (REPO / "README.md").read_text()
    start = text.index("```yaml\n", text.index("**pre-commit**")) + len("```yaml\n")
    return text[start:text.index("```", start)]


def pasted(work, published, config: str) -> subprocess.CompletedProcess:
    """``pre-commit run --all-files`` in a repository with ``config`` pointing at this checkout, and a
    template, a Terraform file, a workflow and a package.json in it."""
    project, environment = work
    shadow, commit = published
    assert "repo: https://github.com/winportlint/winportlint\n" in config and "rev: main " in config
    config = config.replace("https://github.com/winportlint/winportlint", str(shadow)).replace("rev: main", f"rev: {commit}")
    (project / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    (project / ".github" / "workflows" / "ci.yml").write_text("name: ci\non: [push]\njobs:\n  t:\n"
                                                               "    runs-on: ubuntu-latest\n    steps:\n"
                                                               "      - run: echo hi\n")
    (project / "package.json").write_text('{"name": "app", "version": "1.0.0"}\n')
    (project / ".pre-commit-config.yaml").write_text(config)
    subprocess.run(["git", "add", "."], cwd=project, check=True, env=environment)
    return subprocess.run([PRE_COMMIT, "run", "--all-files"], cwd=project, env=environment, capture_output=True,
                          text=True, timeout=900)


@pytest.mark.slow  # installs the hook's environment from a copy of this checkout
def test_the_readme_snippet_pasted_as_is_runs_one_hook_and_reports_each_finding_once(work, published):
    done = pasted(work, published, readme_snippet())
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("bad.yaml:7:67:")] == [
        next(line for line in lines if line.startswith("bad.yaml:7:67: WPL101 critical"))]
    assert len([line for line in lines if line.startswith("infra/main.tf:6:24:")]) == 1
    assert "cfn-lint with the winportlint rules" not in done.stdout  # the commented-out hook did not run


@pytest.mark.slow  # installs the hook's environment with cfn-lint from a copy of this checkout
def test_the_snippets_other_hook_lints_only_templates(work, published):
    swapped = []
    for line in readme_snippet().splitlines(keepends=True):
        if line.lstrip().startswith("- id: winportlint "):
            line = line.replace("- id:", "# - id:", 1)
        elif line.lstrip().startswith("# - id: winportlint-cfn-lint"):
            line = line.replace("# - id:", "- id:", 1)
        swapped.append(line)
    done = pasted(work, published, "".join(swapped))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "winportlint (Windows ports open to the internet)" not in done.stdout
    assert done.stdout.count("E9101 3389/tcp open from 0.0.0.0/0 (the whole internet) on Rdp") == 1
    assert "bad.yaml:7:67" in done.stdout
    assert "E1001" not in done.stdout  # the workflow, package.json and .pre-commit-config.yaml were not linted
    assert "good.yaml:" not in done.stdout


def test_the_fix_hook_writes_only_safe_fixes_and_fails_while_findings_are_left(work):
    project, _ = work
    folder = project / "fixing"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.winportlint.fix]\ncidrs = ["203.0.113.0/24"]\n')
    (folder / "bad.yaml").write_text(BAD_TEMPLATE)
    done = try_repo(work, "winportlint-fix", "fixing/bad.yaml")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "0 fixes applied, 1 more with --unsafe-fixes" in done.stdout
    assert (folder / "bad.yaml").read_text() == BAD_TEMPLATE


def test_the_fix_hook_matches_the_check_hooks_files():
    import yaml

    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert hooks["winportlint-fix"]["entry"] == "winportlint fix --apply"
    assert hooks["winportlint-fix"]["files"] == hooks["winportlint"]["files"]
