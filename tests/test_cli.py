"""The command line: exact output, exit codes, bad input next to good input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from winportlint.cli import main

CASES = Path(__file__).parent / "cases"
SMB = "tests/cases/WPL102/bad/smb-netbios.yaml"
SKIPPED = "holds no CloudFormation, Terraform or Serverless security group, network ACL or load balancer"


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[1])


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_is_exact(capsys):
    code, out, err = run(capsys, "check", SMB)
    assert code == 1
    assert out == (
        f"{SMB}:11:19: WPL102 critical 445/tcp open from 0.0.0.0/0 (the whole internet) on Smb: "
        "445/tcp SMB (open by default in the Windows Server 2012 and 2012 R2 AMIs)\n"
        f"{SMB}:15:21: WPL102 critical 137-138/udp open from ::/0 (the whole internet) on Smb: "
        "137-138/udp NetBIOS (open by default in the Windows Server 2012 and 2012 R2 AMIs)\n"
        f"{SMB}:19:19: WPL102 critical 139/tcp open from 0.0.0.0/0 (the whole internet) on Smb: "
        "139/tcp NetBIOS (open by default in the Windows Server 2012 and 2012 R2 AMIs)\n"
        "3 findings (3 critical) in 1 file\n"
        "see: winportlint explain WPL102\n"
    )
    assert err == ""


def test_clean_run_exits_0(capsys):
    assert run(capsys, "check", "tests/cases/WPL102/good") == (0, "0 findings in 1 file\n", "")


def test_severity_threshold_hides_and_counts(capsys):
    code, out, _ = run(capsys, "check", "--severity", "critical", "tests/cases/WPL301/bad/discovery.yaml")
    assert (code, out) == (0, "0 findings in 1 file; 2 below --severity critical\n")
    code, out, _ = run(capsys, "check", "--severity", "info", "tests/cases/WPL401/bad/https.yaml")
    assert code == 1 and out.endswith("1 finding (1 info) in 1 file\nsee: winportlint explain WPL401\n")


def test_select_and_ignore_prefixes(capsys):
    code, out, _ = run(capsys, "check", "--ignore", "WPL1", SMB)
    assert (code, out) == (0, "0 findings in 1 file\n")
    code, out, _ = run(capsys, "check", "--select", "wpl302", "tests/cases/WPL302/bad/icmp.yaml")
    assert code == 1 and [line.split(" ")[1] for line in out.splitlines()[:-2]] == ["WPL302", "WPL302"]


def test_os_filter_narrows_the_catalog(capsys):
    # SMB rows of the AWS page are listed for Windows Server 2012 and 2012 R2 only.
    code, out, _ = run(capsys, "check", "--os", "2022", SMB)
    assert (code, out) == (0, "0 findings in 1 file\n")
    code, _, _ = run(capsys, "check", "--os", "2012R2", SMB)
    assert code == 1


def test_json_output_contract(capsys):
    code, out, _ = run(capsys, "check", "--format", "json", "tests/cases/WPL101/bad/intrinsics.yaml")
    document = json.loads(out)
    assert code == 1 and document["version"] == 1 and document["errors"] == []
    first = document["findings"][0]
    assert set(first) == {"rule_id", "severity", "message", "file", "line", "column", "resource", "resource_type",
                          "direction", "protocol", "from_port", "to_port", "cidr", "catalog", "provenance",
                          "fingerprint", "control", "targets", "fixes"}
    assert (first["control"], first["targets"]) == ("security-group", [])
    assert (first["rule_id"], first["line"], first["column"], first["cidr"]) == ("WPL101", 32, 19, "0.0.0.0/0")
    assert first["provenance"] == [
        {"field": "CidrIp", "kind": "parameter", "detail": "parameter AdminCidr allowed value", "line": 6,
         "column": 33},
    ]
    assert first["catalog"] == [{"workload": "Remote Desktop", "rule": "Remote Desktop - User Mode (TCP-In)",
                                 "protocol": "tcp", "ports": "3389", "os": ["2012 R2", "2016", "2019", "2022"]}]
    via_condition = document["findings"][1]
    assert [p["detail"] for p in via_condition["provenance"]] == [
        "condition Open is true (parameter OpenToWorld is passed another value at deployment)",
        "parameter Prefix default"]


def test_json_output_carries_the_context(capsys):
    code, out, _ = run(capsys, "check", "--format", "json", "--severity", "info",
                       "examples/vulnerable/windows-web-farm.yaml")
    findings = {f["rule_id"]: f for f in json.loads(out)["findings"]}
    assert code == 1 and sorted(findings) == ["WPL101", "WPL401", "WPL602", "WPL701"]
    assert findings["WPL101"]["targets"] == [{
        "resource": "Farm", "resource_type": "AWS::AutoScaling::AutoScalingGroup", "os": "windows",
        "versions": ["2019"],
        "evidence": ["LaunchTemplateData.ImageId /aws/service/ami-windows-latest/Windows_Server-2019-English-Full-Base"
                     " at line 27", "LaunchTemplateData.UserData <powershell> at line 31"]}]
    assert findings["WPL101"]["message"].endswith("; the network ACL does not block it (entry AllowAllInbound)")
    acl = findings["WPL602"]  # the allow-all entry of the AWS default network ACL: info
    assert (acl["control"], acl["rule_number"], acl["resource"], acl["protocol"], acl["severity"]) == \
        ("network-acl", 100, "AllowAllInbound", "all", "info")
    listener = findings["WPL701"]
    assert (listener["control"], listener["resource"], listener["from_port"], listener["forwards_to"]) == \
        ("load-balancer", "AdminListener", 8443, [{"from_port": 3389, "to_port": 3389}])


def test_fingerprint_survives_line_moves(tmp_path, capsys):
    original = (CASES / "WPL102/bad/smb-netbios.yaml").read_text()
    moved = tmp_path / "smb-netbios.yaml"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "smb-netbios.yaml").write_text(original)
    moved.write_text(original.replace("Resources:\n", "Description: moved\n\n\nResources:\n"))
    fingerprints = []
    for path in (tmp_path / "a" / "smb-netbios.yaml", moved):
        _, out, _ = run(capsys, "check", "--format", "json", str(path))
        findings = json.loads(out)["findings"]
        fingerprints.append([(f["fingerprint"], f["line"]) for f in findings])
    assert [f for f, _ in fingerprints[0]] != [f for f, _ in fingerprints[1]]  # the file name is part of it
    moved_again = tmp_path / "a" / "smb-netbios.yaml"
    moved_again.write_text(original.replace("Resources:\n", "Description: moved\n\n\nResources:\n"))
    _, out, _ = run(capsys, "check", "--format", "json", str(moved_again))
    after = [(f["fingerprint"], f["line"]) for f in json.loads(out)["findings"]]
    assert [f for f, _ in after] == [f for f, _ in fingerprints[0]]
    assert [line for _, line in after] == [line + 3 for _, line in fingerprints[0]]


BAD_INPUTS = {
    "binary.yaml": b"AWS::EC2::SecurityGroup\x00\x01\x02",
    "latin1.json": '{"Resources": {"S": {"Type": "AWS::EC2::SecurityGroup", "D": "caf\xe9"}}}'.encode("latin-1"),
    "broken.yaml": b"Resources:\n  S:\n    Type: AWS::EC2::SecurityGroup\n    Properties: [1, 2\n",
    "dupes.json": b'{"Resources": {"S": {"Type": "AWS::EC2::SecurityGroup"},\n "S": {}}}',
    "tag.yaml": b"Resources:\n  S:\n    Type: AWS::EC2::SecurityGroup\n    Properties: !Evil x\n",
    "deep.json": b'{"Resources": {"S": {"Type": "AWS::EC2::SecurityGroup"}}, "x": ' + b"[" * 50000 + b"]" * 50000 + b"}",
    "bomb.yaml": (b"Resources:\n  S: {Type: \"AWS::EC2::SecurityGroup\"}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
                  + b"".join(b"a%d: &a%d [%s]\n" % (i, i, b", ".join([b"*a%d" % (i - 1)] * 10)) for i in range(1, 10))),
}
BAD_INPUT_ERRORS = [
    "bad/binary.yaml:1: error: binary file (contains NUL bytes)",
    "bad/bomb.yaml:8: error: document holds more than 2000000 values (too large, or an alias bomb)",
    "bad/broken.yaml:5: error: invalid YAML: did not find expected ',' or ']'",
    "bad/deep.json:1: error: nesting deeper than 500 levels",
    "bad/dupes.json:2: error: duplicate key 'S' (first at line 1)",
    "bad/latin1.json:1: error: not UTF-8 text (byte 0xe9 cannot be decoded)",
    "bad/tag.yaml:4: error: unknown tag !Evil (CloudFormation accepts only its intrinsic functions)",
]


def test_bad_input_is_reported_and_good_files_still_checked(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name, data in BAD_INPUTS.items():
        (bad / name).write_bytes(data)
    (bad / "zz-good.yaml").write_text((CASES / "WPL102/bad/smb-netbios.yaml").read_text())
    (bad / "package.json").write_text('{"name": "not a template"}')
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "bad")
    lines = out.splitlines()
    assert code == 2
    assert [line.split(" ")[1] for line in lines[:3]] == ["WPL102"] * 3
    assert lines[3:-2] == BAD_INPUT_ERRORS
    assert lines[-2:] == ["3 findings (3 critical) in 8 files; 7 input errors", "see: winportlint explain WPL102"]
    assert err == ""


def test_usage_errors_exit_2(capsys):
    assert run(capsys, "check", "--select", "XYZ", SMB)[0] == 2
    code, _, err = run(capsys, "check", "--format", "nope", SMB)
    assert (code, err) == (2, "winportlint: error: unknown format 'nope' (known: github, gitlab, json, junit, markdown, rdjson, sarif, text)\n")
    code, out, _ = run(capsys, "check", "does-not-exist")
    assert (code, out) == (2, "does-not-exist: error: no such file or folder\n0 findings in 0 files; 1 input error\n")


def test_explain_and_rules(capsys):
    code, out, _ = run(capsys, "explain", "wpl101")
    assert code == 0 and out.startswith("WPL101 remote-desktop-open-to-world\n")
    code, out, _ = run(capsys, "rules")
    ids = [line.split()[0] for line in out.splitlines() if not line.startswith(" ")]
    assert ids == sorted(ids) and "WPL101" in ids and "WPL302" in ids


def test_installed_command_runs_the_quick_start():
    done = subprocess.run([sys.executable, "-m", "winportlint.cli", "check", "examples/fixed"],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert (done.returncode, done.stdout, done.stderr) == (0, "0 findings in 6 files; 1 below --severity low\n", "")


def test_rule_docs_are_generated_from_metadata(capsys):
    code, out, _ = run(capsys, "rules", "--markdown")
    assert code == 0
    assert out == (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text(), (
        "docs/rules.md is stale: run `winportlint rules --markdown > docs/rules.md`")


def test_sarif_of_a_real_run_is_schema_valid_and_written_to_output(tmp_path, capsys):
    from jsonschema.validators import validator_for

    target = tmp_path / "results.sarif"
    code, out, _ = run(capsys, "check", "--format", "sarif", "--output", str(target), "examples")
    assert (code, out) == (1, "")
    log = json.loads(target.read_text())
    schema = json.loads((Path(__file__).parent / "schemas" / "sarif-2.1.0.json").read_text())
    validator_for(schema)(schema).validate(log)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("WPL101", "examples/vulnerable/rdp-jump-host.yaml", 28),
        ("WPL101", "examples/vulnerable/rdp-jump-host.yaml", 33),
        ("WPL102", "examples/vulnerable/smb-file-server.yaml", 19),
        ("WPL102", "examples/vulnerable/smb-file-server.yaml", 23),
        ("WPL102", "examples/vulnerable/smb-file-server.yaml", 27),
        ("WPL701", "examples/vulnerable/terraform-windows-fleet/instances.tf", 46),
        ("WPL101", "examples/vulnerable/terraform-windows-fleet/main.tf", 22),
        ("WPL103", "examples/vulnerable/terraform-windows-fleet/main.tf", 22),
        ("WPL103", "examples/vulnerable/terraform-windows-fleet/main.tf", 22),
        ("WPL102", "examples/vulnerable/terraform-windows-fleet/main.tf", 29),
        ("WPL101", "examples/vulnerable/windows-web-farm.yaml", 21),
        ("WPL701", "examples/vulnerable/windows-web-farm.yaml", 75),
        ("WPL103", "examples/vulnerable/winrm-fleet.json", 33),
        ("WPL103", "examples/vulnerable/winrm-fleet.json", 43),
    ]
    assert all(r["partialFingerprints"] for r in results)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rule["help"]["text"] and rule["helpUri"].startswith("https://") for rule in rules)


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    code, out, _ = run(capsys, "check", SMB)
    assert "\033[1;31mcritical\033[0m" in out
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(capsys, "check", SMB)
    assert "\033[" not in out


def test_worker_processes_give_the_same_output(tmp_path, capsys):
    template = (CASES / "WPL101/bad/inline-forms.yaml").read_text()
    for index in range(60):
        (tmp_path / f"t{index:02d}.yaml").write_text(template.replace("Rdp:", f"Rdp{index}:"))
    outputs = []
    for jobs in ("1", "2"):
        code, out, _ = run(capsys, "check", str(tmp_path), "--format", "json", "--jobs", jobs)
        outputs.append((code, out))
    assert outputs[0] == outputs[1]
    _, one, _ = run(capsys, "check", str(tmp_path / "t00.yaml"), "--format", "json")
    assert len(json.loads(outputs[0][1])["findings"]) == 60 * len(json.loads(one)["findings"]) == 960
    assert run(capsys, "check", str(tmp_path), "--jobs", "0")[:2] == (2, "")


SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "aws-windows-ami-ports.txt"


@pytest.mark.skipif(not SEED.exists(), reason=f"the seed page is not beside this checkout ({SEED} is absent)")
def test_catalog_import_command_writes_the_checked_in_catalog(tmp_path, capsys):
    target = tmp_path / "windows-ami.yaml"
    code, out, _ = run(capsys, "catalog", "import", str(SEED), "--output", str(target))
    assert (code, out) == (0, f"wrote {target}\n")
    checked_in = Path(__file__).resolve().parents[1] / "rules_catalog" / "windows-ami.yaml"
    assert target.read_text() == checked_in.read_text()
    broken = tmp_path / "broken.txt"
    broken.write_text(SEED.read_text().replace("TCP | In |", "TCP | Sideways |", 1))
    code, _, err = run(capsys, "catalog", "import", str(broken), "--output", str(tmp_path / "x.yaml"))
    assert code == 2 and err.startswith("winportlint: error: broken.txt:") and not (tmp_path / "x.yaml").exists()


def test_catalog_table_filters(capsys):
    code, out, _ = run(capsys, "catalog", "--os", "2012", "--direction", "in")
    rows = out.splitlines()[1:]
    assert code == 0 and rows
    assert all(" in " in row and "2012" in row for row in rows)
    assert not any(row.startswith("Remote Desktop ") for row in rows)  # its table starts at 2012 R2


# --- --os: a version the catalog does not know checks nothing, so it is an error (issue #14) ----------

KNOWN_VERSIONS = "(known: 2012, 2012 R2, 2016, 2019, 2022; 2025 means 2022's rules)"


@pytest.mark.parametrize("version", ["1999", "2019 R2", "0000", "Vista", "2030"])
def test_an_os_version_that_selects_no_rule_is_a_usage_error(capsys, version):
    # It used to select an empty catalog: 0 findings, exit 0 on an open SMB port.
    code, out, err = run(capsys, "check", "--os", "2012", "--os", version, SMB)
    assert (code, out) == (2, "")
    assert err == f"winportlint: error: --os: no catalog rule is for Windows Server '{version}' {KNOWN_VERSIONS}\n"
    code, out, err = run(capsys, "catalog", "--os", version)
    assert (code, out) == (2, "") and err.endswith(f"'{version}' {KNOWN_VERSIONS}\n")


def test_an_os_version_in_the_configuration_that_selects_no_rule_names_the_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.winportlint]\nos = ["2019", "Vista"]\n')
    (tmp_path / "smb.yaml").write_text((CASES / "WPL102/bad/smb-netbios.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "check", "smb.yaml")
    assert (code, out) == (2, "")
    assert err == ("winportlint: error: pyproject.toml [tool.winportlint]: os: no catalog rule is for "
                   f"Windows Server 'Vista' {KNOWN_VERSIONS}\n")


def test_os_2025_means_the_rules_of_2022_and_says_so(capsys):
    note = ("winportlint: note: --os 2025: Windows Server 2025 (rules of 2022 assumed: "
            "the AWS page does not list 2025 yet)\n")
    assert run(capsys, "check", "--os", "2025", SMB) == (0, "0 findings in 1 file\n", note)  # SMB: 2012 only
    code, out, err = run(capsys, "check", "--os", "Windows Server 2025", "tests/cases/WPL101/bad/intrinsics.yaml")
    assert (code, err) == (1, note) and "WPL101" in out
    assert run(capsys, "catalog", "--os", "2025")[1] == run(capsys, "catalog", "--os", "2022")[1]


def test_a_windows_server_2025_image_has_the_rules_of_2022_marked_as_assumed(tmp_path, capsys):
    # The SSM path and the AMI name filter of a release the AWS page does not list yet.
    template = tmp_path / "jump.yaml"
    template.write_text((Path("examples/vulnerable/rdp-jump-host.yaml")).read_text().replace("2022", "2025"))
    module = tmp_path / "fleet"
    module.mkdir()
    for source in Path("examples/vulnerable/terraform-windows-fleet").glob("*.tf"):
        (module / source.name).write_text(source.read_text().replace("2022", "2025"))
    code, out, _ = run(capsys, "check", "--no-cache", "--format", "json", str(tmp_path))
    findings = {(Path(f["file"]).name, f["line"], f["rule_id"], f["protocol"], f["from_port"]): f
                for f in json.loads(out)["findings"]}
    assumed = "Windows Server 2025 (rules of 2022 assumed: the AWS page does not list 2025 yet)"
    rdp = findings[("jump.yaml", 28, "WPL101", "tcp", 3389)]
    assert rdp["message"].endswith(
        f"; it protects {assumed} JumpHost (Parameters.WindowsAmi.Default "
        "/aws/service/ami-windows-latest/Windows_Server-2025-English-Full-Base at line 15), which opens it by default")
    assert rdp["targets"][0]["versions"] == ["2025"]
    smb = findings[("main.tf", 29, "WPL102", "tcp", 445)]
    assert (smb["severity"], smb["targets"][0]["versions"]) == ("critical", ["2025"])
    assert smb["message"].endswith(
        f"; it protects {assumed} aws_instance.fleet (data.aws_ami.windows_2025.filter.name "
        "Windows_Server-2025-English-Full-Base-* at line 18), where the AWS page does not list this port as open "
        "by default (it does for 2012, 2012 R2)")
    assert code == 1


# --- the user's files: never written over, and an empty one is no error (issue #14) -----------------

@pytest.mark.parametrize("option", ["--output", "--write-baseline"])
def test_a_report_or_baseline_is_never_written_over_a_file_the_run_reads(tmp_path, capsys, monkeypatch, option):
    monkeypatch.chdir(tmp_path)
    template = (CASES / "WPL102/bad/smb-netbios.yaml").read_bytes()
    Path("t.yaml").write_bytes(template)
    Path("infra").mkdir()
    Path("infra/net.json").write_text('{"Resources": {"S": {"Type": "AWS::EC2::SecurityGroup"}}}')
    Path("link.yaml").symlink_to("t.yaml")
    Path("vars.tfvars").write_text('x = 1\n')
    for target, argv, read in [
        ("t.yaml", ["t.yaml"], "t.yaml"),                      # the mistake: `--output t.yaml t.yaml`
        ("./t.yaml", ["t.yaml"], "t.yaml"),                    # another spelling of it
        ("link.yaml", ["t.yaml"], "t.yaml"),                   # a symlink to it
        (str(tmp_path / "infra/net.json"), ["."], "infra/net.json"),  # a template found in a scanned folder
        ("vars.tfvars", ["t.yaml", "--var-file", "vars.tfvars"], "vars.tfvars"),
    ]:
        code, out, err = run(capsys, "check", option, target, *argv)
        assert (code, out) == (2, "")
        assert err == f"winportlint: error: {option} {target}: refusing to write over {read}, which this run reads\n"
    assert Path("t.yaml").read_bytes() == template and Path("link.yaml").is_symlink()
    assert json.loads(Path("infra/net.json").read_text())["Resources"]
    assert Path("vars.tfvars").read_text() == "x = 1\n"


def test_output_and_baseline_in_one_file_are_refused_before_the_run(tmp_path, capsys):
    target = tmp_path / "out.json"
    code, out, err = run(capsys, "check", "--output", str(target), "--write-baseline", str(target), SMB)
    assert (code, out, target.exists()) == (2, "", False)
    assert err == f"winportlint: error: --output {target} and --write-baseline {target} are the same file\n"


def test_a_report_in_a_scanned_folder_is_rewritten_when_it_is_no_template(tmp_path, capsys, monkeypatch):
    # A previous report or baseline beside the templates is found (.json) but is no input: run after run works.
    monkeypatch.chdir(tmp_path)
    Path("t.yaml").write_text((CASES / "WPL102/bad/smb-netbios.yaml").read_text())
    for _ in range(2):
        code, out, err = run(capsys, "check", "--format", "json", "--output", "report.json",
                             "--write-baseline", "baseline.json", ".")
        assert (code, out, err) == (0, "", "winportlint: wrote 3 findings to baseline.json\n")
        assert len(json.loads(Path("report.json").read_text())["findings"]) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline.json", "report.json", "t.yaml"]  # no temp file


def test_the_report_file_keeps_the_old_content_when_the_write_fails(tmp_path, capsys, monkeypatch):
    target = tmp_path / "report.txt"
    target.write_text("previous report\n")
    target.chmod(0o640)

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", full_disk)
    code, out, err = run(capsys, "check", "--no-cache", "--output", str(target), SMB)
    assert code == 2 and "3 findings (3 critical) in 1 file" in out.splitlines()  # the report is not lost
    assert err == f"winportlint: error: cannot write {target}: No space left on device\n"
    assert target.read_text() == "previous report\n" and [p.name for p in tmp_path.iterdir()] == ["report.txt"]
    monkeypatch.undo()
    assert run(capsys, "check", "--no-cache", "--output", str(target), SMB)[:2] == (1, "")
    assert target.read_text().endswith("3 findings (3 critical) in 1 file\nsee: winportlint explain WPL102\n") and target.stat().st_mode & 0o777 == 0o640


def test_a_report_redirected_into_the_scanned_folder_is_no_input_error(tmp_path):
    # `winportlint check --format json . > report.json`: the shell creates the empty report.json first.
    (tmp_path / "t.yaml").write_text((CASES / "WPL102/bad/smb-netbios.yaml").read_text())
    with open(tmp_path / "report.json", "w") as report:
        done = subprocess.run([sys.executable, "-m", "winportlint.cli", "check", "--no-cache", "--format", "json", "."],
                              stdout=report, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    document = json.loads((tmp_path / "report.json").read_text())
    assert (done.returncode, done.stderr, document["errors"], len(document["findings"])) == (1, "", [], 3)


def test_empty_and_blank_files_of_every_format_are_no_errors(tmp_path, capsys):
    # They cannot hold a security group; nothing else in discovery errs on such files.
    for name, data in {"a.json": b"", "b.yaml": b" \n\t\n", "c.yml": b"\n", "d.template": b"",
                       "e.json": b"\xef\xbb\xbf \r\n", "f.yaml": "\ufeff \n".encode("utf-16"),
                       "plan.json": b"  "}.items():
        (tmp_path / name).write_bytes(data)
    module = tmp_path / "module"
    module.mkdir()
    (module / "main.tf").write_text("")
    (module / "blank.tf").write_text("\n  \n")
    assert run(capsys, "check", "--no-cache", str(tmp_path)) == (0, "0 findings in 2 files\n", "")
    assert run(capsys, "check", "--no-cache", str(tmp_path / "a.json"), str(tmp_path / "b.yaml")) == \
        (0, "0 findings in 0 files\n", "".join(f"{tmp_path / name}: skipped: {SKIPPED}\n" for name in ("a.json", "b.yaml")))


# --- --jobs: capped by the cores and the work (issue #14) ----------------------------------------------

def test_jobs_are_capped_by_the_cores_and_the_work(tmp_path, capsys, monkeypatch):
    # --jobs 1000 forked 1,000 workers (27 s instead of 4.9 s, 5 GB).
    import concurrent.futures

    from winportlint import engine
    from winportlint.plugins.terraform import TerraformFormat

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert [engine.workers(1000, 60), engine.workers(None, 60), engine.workers(1000, 3), engine.workers(2, 0)] == \
        [min(cores, 60), min(cores, 60), min(cores, 3), 1]
    pools, folder_jobs = [], []
    real_pool, real_parse_folders = concurrent.futures.ProcessPoolExecutor, TerraformFormat.parse_folders

    def pool(max_workers=None, **kwargs):
        pools.append(max_workers)
        return real_pool(max_workers, **kwargs)

    def parse_folders(self, folders, settings):
        folder_jobs.append(settings["jobs"])
        return real_parse_folders(self, folders, settings)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(TerraformFormat, "parse_folders", parse_folders)
    template = (CASES / "WPL101/bad/inline-forms.yaml").read_text()
    for index in range(60):
        (tmp_path / f"t{index:02d}.yaml").write_text(template.replace("Rdp:", f"Rdp{index}:"))
    (tmp_path / "module").mkdir()
    (tmp_path / "module" / "main.tf").write_text((CASES / "WPL101/bad/tf-inline/main.tf").read_text())
    code, out, _ = run(capsys, "check", "--no-cache", "--jobs", "1000", str(tmp_path))
    assert code == 1 and out.endswith(" in 61 files; 121 below --severity low\n"
                                      "see: winportlint explain WPL101 WPL102 WPL103 WPL104 WPL201 WPL202 WPL301\n")
    # One module still gets every core: its slices are evaluated on threads beside the reading
    # (given one, the flat and dynamic-block benchmark modules took 1.4 and 1.9 times as long).
    assert (pools, folder_jobs) == ([min(cores, 60)] if cores > 1 else [], [cores])
