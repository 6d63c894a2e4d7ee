"""The real pre-commit, running this repository's hooks on a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
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

pytestmark = pytest.mark.skipif(shutil.which("pre-commit") is None and not os.environ.get("CI"),
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
    return subprocess.run(["pre-commit", "try-repo", str(REPO), hook, "--files", *files], cwd=project,
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
