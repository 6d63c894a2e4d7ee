"""``--diff-base REF``: only what a change adds decides the run, against real git repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_files
from winportlint.cli import main

GROUP = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Admin:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: admin
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: 0.0.0.0/0
"""
SMB_RULE = """\
        - IpProtocol: tcp
          FromPort: 445
          ToPort: 445
          CidrIp: 0.0.0.0/0
"""
RDP = "3389/tcp open from 0.0.0.0/0 (the whole internet) on Admin: 3389/tcp RDP (open by default in the Windows " \
      "Server 2012 R2 to 2022 AMIs)"
SMB = "445/tcp open from 0.0.0.0/0 (the whole internet) on Admin: 445/tcp SMB (open by default in the Windows " \
      "Server 2012 and 2012 R2 AMIs)"
MODULE = """\
variable "admin_cidr" {
  type = string
}

resource "aws_security_group_rule" "rdp" {
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  cidr_blocks       = [var.admin_cidr]
  security_group_id = "sg-0123456789abcdef0"
}
"""
#: Git as the tests run it: no user or system configuration, a fixed author.
GIT_ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=GIT_ENV, check=True)
    return os.fsdecode(done.stdout)


def commit_all(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path) -> Path:
    """A repository whose ``main`` holds one template with RDP open to the world."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, {"infra/admin.yaml": GROUP})
    commit_all(repo, "admin group")
    return repo


def check(capsys, monkeypatch, folder: Path, *argv: str) -> tuple[int, str, str]:
    monkeypatch.chdir(folder)
    code = main(["check", "--no-cache", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_finding_already_at_the_base_is_counted_not_failed(repo, capsys, monkeypatch):
    assert check(capsys, monkeypatch, repo, "--diff-base", "main", "infra") == (
        0, "0 findings in 1 file; 1 finding also at main, not counted\n", "")
    assert check(capsys, monkeypatch, repo, "infra")[0] == 1  # without it, the finding fails the run


def test_a_moved_line_is_not_new(repo, capsys, monkeypatch):
    (repo / "infra/admin.yaml").write_text(GROUP.replace("Resources:\n", "Description: moved\nMetadata: {}\n"
                                                                        "Resources:\n"))
    assert check(capsys, monkeypatch, repo, "--diff-base", "main", ".") == (
        0, "0 findings in 1 file; 1 finding also at main, not counted\n", "")


def test_a_new_port_on_the_same_group_is_new(repo, capsys, monkeypatch):
    (repo / "infra/admin.yaml").write_text(GROUP + SMB_RULE)
    assert check(capsys, monkeypatch, repo, "--diff-base", "main") == (
        1, f"infra/admin.yaml:15:19: WPL102 critical {SMB}\n"
           "1 finding (1 critical) in 1 file; 1 finding also at main, not counted\n"
           "see: winportlint explain WPL102\n", "")


def test_json_marks_each_finding_new_or_not_and_counts_both(repo, capsys, monkeypatch):
    (repo / "infra/admin.yaml").write_text(GROUP + SMB_RULE)
    code, out, _ = check(capsys, monkeypatch, repo, "--diff-base", "main", "--format", "json")
    document = json.loads(out)
    assert code == 1
    assert [(f["rule_id"], f["line"], f["new"]) for f in document["findings"]] == [("WPL101", 11, False),
                                                                                   ("WPL102", 15, True)]
    assert document["diff_base"] == {"ref": "main", "new": 1, "also_at_base": 1}
    code, out, _ = check(capsys, monkeypatch, repo, "--format", "json")
    assert "diff_base" not in json.loads(out) and all("new" not in f for f in json.loads(out)["findings"])


def test_a_new_file_a_moved_file_a_renamed_and_edited_file_and_a_deleted_file(repo, capsys, monkeypatch):
    write_files(repo, {"other/new.yaml": GROUP})
    assert check(capsys, monkeypatch, repo, "--diff-base", "main") == (
        1, f"other/new.yaml:11:19: WPL101 critical {RDP}\n"
           "1 finding (1 critical) in 2 files; 1 finding also at main, not counted\n"
           "see: winportlint explain WPL101\n", "")
    (repo / "other/new.yaml").unlink()
    git(repo, "mv", "infra", "moved")  # a file moved unchanged keeps its findings
    assert check(capsys, monkeypatch, repo, "--diff-base", "main") == (
        0, "0 findings in 1 file; 1 finding also at main, not counted\n", "")
    (repo / "moved/admin.yaml").rename(repo / "moved/renamed.yaml")
    (repo / "moved/renamed.yaml").write_text("# renamed and edited\n" + GROUP)  # the file is part of a finding
    assert check(capsys, monkeypatch, repo, "--diff-base", "main") == (
        1, f"moved/renamed.yaml:12:19: WPL101 critical {RDP}\n"
           "1 finding (1 critical) in 1 file; 0 findings also at main, not counted\n"
           "see: winportlint explain WPL101\n", "")
    (repo / "moved/renamed.yaml").unlink()  # its findings at main just disappear
    write_files(repo, {"infra/ok.yaml": GROUP.replace("0.0.0.0/0", "10.0.0.0/8")})
    assert check(capsys, monkeypatch, repo, "--diff-base", "main") == (
        0, "0 findings in 1 file; 0 findings also at main, not counted\n", "")


def test_input_errors_still_fail_the_run(repo, capsys, monkeypatch):
    write_files(repo, {"infra/broken.yaml": "Resources: [AWS::EC2::SecurityGroup\n"})
    code, out, _ = check(capsys, monkeypatch, repo, "--diff-base", "main")
    assert code == 2
    assert out.startswith("infra/broken.yaml:2: error: invalid YAML")
    assert out.endswith("0 findings in 2 files; 1 input error; 1 finding also at main, not counted\n")


def test_a_terraform_module_whose_tfvars_alone_changed_is_compared_whole(tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write_files(repo, {"net/main.tf": MODULE, "net/terraform.tfvars": 'admin_cidr = "10.0.0.0/8"\n'})
    commit_all(repo)
    assert check(capsys, monkeypatch, repo, "--diff-base", "main") == (
        0, "0 findings in 2 files; 0 findings also at main, not counted\n", "")
    (repo / "net/terraform.tfvars").write_text('admin_cidr = "0.0.0.0/0"\n')
    code, out, err = check(capsys, monkeypatch, repo, "--diff-base", "main")
    assert (code, err) == (1, "")
    assert out.startswith("net/main.tf:10:")
    assert out.endswith("1 finding (1 critical) in 2 files; 0 findings also at main, not counted\n"
                        "see: winportlint explain WPL101\n")
    commit_all(repo)
    git(repo, "branch", "opened")
    (repo / "net/main.tf").write_text("\n\n" + MODULE)  # a moved line of a module is not new either
    assert check(capsys, monkeypatch, repo, "--diff-base", "opened", "net") == (
        0, "0 findings in 2 files; 1 finding also at opened, not counted\n", "")


def test_a_changed_nested_stack_is_read_through_its_parent(tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    child = GROUP.replace("Resources:", "Parameters:\n  Cidr:\n    Type: String\n    Default: 10.0.0.0/8\n"
                                       "Resources:").replace("CidrIp: 0.0.0.0/0", "CidrIp: !Ref Cidr")
    parent = ('Resources:\n  Net:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n'
              '      TemplateURL: child.yaml\n      Parameters:\n        Cidr: 0.0.0.0/0\n')
    write_files(repo, {"parent.yaml": parent, "child.yaml": child.replace("3389", "22")})
    commit_all(repo)
    (repo / "child.yaml").write_text(child)  # the parent is unchanged; what it deploys is not
    code, out, _ = check(capsys, monkeypatch, repo, "--diff-base", "main", "parent.yaml")
    assert code == 1
    assert out.startswith("child.yaml:15:19: WPL101 critical 3389/tcp open from 0.0.0.0/0")
    assert "0 findings also at main, not counted" in out


def test_a_missing_revision_says_how_to_fetch_it(repo, tmp_path, capsys, monkeypatch):
    assert check(capsys, monkeypatch, repo, "--diff-base", "origin/main") == (
        2, "", "winportlint: error: --diff-base origin/main: no such revision in this repository (in a shallow "
               "clone, fetch it first: git fetch --depth=1 origin main)\n")
    assert check(capsys, monkeypatch, repo, "--diff-base=--output=x") == (
        2, "", "winportlint: error: --diff-base --output=x: no such revision in this repository (in a shallow "
               "clone, fetch it first: git fetch --depth=1 origin --output=x)\n")
    outside = tmp_path / "plain"
    write_files(outside, {"a.yaml": GROUP})
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert check(capsys, monkeypatch, outside, "--diff-base", "main") == (
        2, "", "winportlint: error: --diff-base main: . is not in a git repository\n")
    assert not (repo / "x").exists()
    (outside / ".git").write_text(f"gitdir: {tmp_path / 'nowhere'}\n")  # a worktree whose repository is gone
    assert check(capsys, monkeypatch, outside, "--diff-base", "main") == (
        2, "", f"winportlint: error: --diff-base main: git cannot read the repository at {outside}: not a git "
               f"repository: {tmp_path / 'nowhere'}\n")


def test_a_shallow_clone_works_once_the_base_is_fetched(repo, tmp_path, capsys, monkeypatch):
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "infra/admin.yaml").write_text(GROUP + SMB_RULE)
    commit_all(repo, "smb")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth=1", "--branch", "feature", f"file://{repo}", str(clone)],
                   check=True, env=GIT_ENV)
    git(clone, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")  # as actions/checkout
    assert git(clone, "rev-parse", "--is-shallow-repository").strip() == "true"
    code, _, err = check(capsys, monkeypatch, clone, "--diff-base", "origin/main")
    assert (code, err) == (2, "winportlint: error: --diff-base origin/main: no such revision in this repository "
                              "(in a shallow clone, fetch it first: git fetch --depth=1 origin main)\n")
    git(clone, "fetch", "-q", "--depth=1", "origin", "main")
    assert check(capsys, monkeypatch, clone, "--diff-base", "origin/main") == (
        1, f"infra/admin.yaml:15:19: WPL102 critical {SMB}\n"
           "1 finding (1 critical) in 1 file; 1 finding also at origin/main, not counted\n"
           "see: winportlint explain WPL102\n", "")


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below the folder, with its size and modification time."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            status = os.lstat(os.path.join(root, name))
            files[os.path.relpath(os.path.join(root, name), folder)] = (status.st_size, status.st_mtime_ns)
    return files


def test_the_repository_runs_nothing_and_nothing_is_written_into_it(repo, tmp_path, capsys, monkeypatch):
    """A filter, textconv and diff driver in .gitattributes and an fsmonitor in the repository's
    configuration would each leave a marker file if git ran them."""
    markers = tmp_path / "markers"
    markers.mkdir()
    for name in ("clean", "smudge", "textconv", "diff", "fsmonitor"):
        script = tmp_path / f"{name}.sh"
        script.write_text(f"#!/bin/sh\ntouch '{markers / name}'\ncat\n")
        script.chmod(0o755)
    for key, name in (("filter.trap.clean", "clean"), ("filter.trap.smudge", "smudge"),
                      ("diff.trap.textconv", "textconv"), ("diff.trap.command", "diff"),
                      ("core.fsmonitor", "fsmonitor")):
        git(repo, "config", key, str(tmp_path / f"{name}.sh"))
    write_files(repo, {".gitattributes": "* filter=trap diff=trap\n"})
    (repo / "infra/admin.yaml").write_text(GROUP + SMB_RULE)  # modified in the work tree, as git last saw it
    status = git(repo, "status", "--porcelain")
    assert os.listdir(markers) == ["fsmonitor"]  # the trap works: git status ran it
    (markers / "fsmonitor").unlink()
    before = snapshot(repo)
    code, out, _ = check(capsys, monkeypatch, repo, "--diff-base", "main")
    assert (code, out.splitlines()[0]) == (1, f"infra/admin.yaml:15:19: WPL102 critical {SMB}")
    assert list(markers.iterdir()) == []
    assert snapshot(repo) == before  # the work tree and .git alike
    assert git(repo, "status", "--porcelain") == status
    git(repo, "diff", "main")
    assert {"clean", "diff", "fsmonitor"} <= set(os.listdir(markers))  # a porcelain diff runs them all


def test_names_with_spaces_and_bytes_that_are_not_utf8(tmp_path, capsys, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    name = os.fsdecode(b"my infra/r\xe9seau.yaml")
    write_files(repo, {name: GROUP})
    commit_all(repo)
    assert check(capsys, monkeypatch, repo, "--diff-base", "main", "my infra") == (
        0, "0 findings in 1 file; 1 finding also at main, not counted\n", "")
    (repo / name).write_text(GROUP + SMB_RULE)
    code, out, _ = check(capsys, monkeypatch, repo, "--diff-base", "main", "my infra")
    assert (code, out.splitlines()[0]) == (1, f"my infra/r\\udce9seau.yaml:15:19: WPL102 critical {SMB}")


def test_symlinks_of_the_base_never_lead_outside_its_copy(repo, tmp_path, capsys, monkeypatch):
    """A crafted commit holds ``evil`` twice: as a symlink to a folder outside and as a folder
    with a template. Writing the template through the symlink would put it outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    def plumbing(*args: str, given: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], input=given.encode(), capture_output=True,
                              env=GIT_ENV, check=True).stdout.decode().strip()

    link = plumbing("hash-object", "-w", "--stdin", given=str(outside))
    template = plumbing("hash-object", "-w", "--stdin", given=GROUP)
    inner = plumbing("mktree", given=f"100644 blob {template}\tx.yaml\n")
    tree = plumbing("mktree", given=f"120000 blob {link}\tevil\n040000 tree {inner}\tevil\n")
    assert git(repo, "ls-tree", "-r", "--name-only", tree).split() == ["evil", "evil/x.yaml"]
    crafted = git(repo, "commit-tree", tree, "-m", "crafted").strip()
    code, out, err = check(capsys, monkeypatch, repo, "--diff-base", crafted)
    assert (code, err) == (1, "")
    assert out.endswith(f"1 finding (1 critical) in 1 file; 0 findings also at {crafted}, not counted\n"
                        "see: winportlint explain WPL101\n")
    assert list(outside.iterdir()) == []


def test_a_finding_the_change_makes_graver_is_new(tmp_path, capsys, monkeypatch):
    """LLMNR open to the world is low; once the group protects a Windows Server 2012 R2 host,
    whose firewall opens it, it is medium: the same rule, and a new risk."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    group = GROUP.replace("Admin:", "Discovery:").replace("tcp", "udp").replace("3389", "5355")
    write_files(repo, {"a.yaml": group})
    commit_all(repo)
    host = ('  Host:\n    Type: AWS::EC2::Instance\n    Properties:\n      ImageId: "{{resolve:ssm:/aws/service/'
            'ami-windows-latest/Windows_Server-2012-R2_RTM-English-64Bit-Base}}"\n      SecurityGroupIds:\n'
            '        - !Ref Discovery\n')
    (repo / "a.yaml").write_text(group + host)
    code, out, _ = check(capsys, monkeypatch, repo, "--diff-base", "main")
    assert code == 1
    assert out.startswith("a.yaml:11:19: WPL301 medium 5355/udp open from 0.0.0.0/0")
    assert out.endswith("1 finding (1 medium) in 1 file; 0 findings also at main, not counted\n"
                        "see: winportlint explain WPL301\n")
    (repo / "a.yaml").write_text(group + host.replace("2012-R2_RTM-English-64Bit", "2022-English-Full"))
    assert check(capsys, monkeypatch, repo, "--diff-base", "main")[:2] == (
        0, "0 findings in 1 file; 1 finding also at main, not counted\n")  # low then, low now


def test_a_root_is_compared_with_the_called_module_it_had(tmp_path, capsys, monkeypatch):
    """Only the called module changed, and it is outside the path checked: the root's finding
    through it is new, as the module at REF opened another port."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    call = 'module "edge" {\n  source     = "../../modules/edge"\n  admin_cidr = "0.0.0.0/0"\n}\n'
    write_files(repo, {"live/prod/main.tf": call, "modules/edge/main.tf": MODULE.replace("3389", "22")})
    commit_all(repo)
    assert check(capsys, monkeypatch, repo, "--diff-base", "main", "live/prod") == (
        0, "0 findings in 1 file; 0 findings also at main, not counted\n", "")
    (repo / "modules/edge/main.tf").write_text(MODULE)
    code, out, err = check(capsys, monkeypatch, repo, "--diff-base", "main", "live/prod")
    assert (code, err) == (1, "")
    assert out.startswith("modules/edge/main.tf:10:")
    assert out.endswith("1 finding (1 critical) in 1 file; 0 findings also at main, not counted\n"
                        "see: winportlint explain WPL101\n")
    commit_all(repo)
    assert check(capsys, monkeypatch, repo, "--diff-base", "HEAD", "live/prod")[:2] == (
        0, "0 findings in 1 file; 1 finding also at HEAD, not counted\n")
    git(repo, "mv", "modules/edge", "modules/gateway")  # the module moved unchanged, its call edited
    (repo / "live/prod/main.tf").write_text(call.replace("modules/edge", "modules/gateway"))
    code, out, _ = check(capsys, monkeypatch, repo, "--diff-base", "HEAD", "live/prod")
    assert (code, out) == (0, "0 findings in 1 file; 1 finding also at HEAD, not counted\n")


def test_objects_a_partial_clone_lacks_are_never_fetched(repo, tmp_path, capsys, monkeypatch):
    git(repo, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", "--no-checkout", f"file://{repo}", str(clone)],
                   check=True, env=GIT_ENV)
    write_files(clone, {"infra/admin.yaml": GROUP})
    before = snapshot(clone / ".git")
    code, out, err = check(capsys, monkeypatch, clone, "--diff-base", "main")
    blob = git(repo, "rev-parse", "main:infra/admin.yaml").strip()
    assert (code, out) == (2, "")
    assert err == (f"winportlint: error: --diff-base main: cannot read its files (could not fetch {blob} from promisor "
                   "remote); winportlint reads only what the clone holds, it never fetches\n")
    assert snapshot(clone / ".git") == before


def test_every_path_must_be_in_one_repository(repo, tmp_path, capsys, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    assert check(capsys, monkeypatch, tmp_path, "--diff-base", "main", "repo", "other") == (
        2, "", f"winportlint: error: --diff-base main: other is not in the repository of repo ({repo})\n")


def test_a_run_without_it_loads_no_git_code(repo):
    """The command starts on every commit: the comparison's code loads only when asked for."""
    code = ("import sys\nfrom winportlint.cli import main\nmain(sys.argv[1:])\n"
            "print('winportlint.diff_base' in sys.modules, file=sys.stderr)\n")
    loaded = [subprocess.run([sys.executable, "-c", code, "check", "--no-cache", *argv], capture_output=True,
                             text=True, cwd=repo).stderr.splitlines()[-1] for argv in ([], ["--diff-base", "main"])]
    assert loaded == ["False", "True"]
