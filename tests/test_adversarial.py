"""Broken, huge and hostile input: never a crash, a hang or a silent pass; the other files are still checked.

Each case runs the real command over a folder that also holds one good
template with an RDP exposure: that finding must always be reported, and
the hostile file must be one clear error line (or, where it is valid, read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import check_folder
from winportlint import engine
from winportlint.cli import main

RDP = ('Resources:\n  Rdp:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: d\n'
       '      SecurityGroupIngress:\n        - {IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}\n')
GOOD_LINE = "good.yaml:7:67: WPL101 critical 3389/tcp open from 0.0.0.0/0"


def run(folder: Path, capsys, *extra: str) -> tuple[int, list[str], list[str]]:
    """Exit code, finding lines and error lines of a run over the folder (beside a good template)."""
    (folder / "good.yaml").write_text(RDP)
    return check_folder(folder, capsys, *extra)


def one_error(folder: Path, capsys, name: str) -> str:
    code, findings, errors = run(folder, capsys)
    assert code == 2
    assert [f[:len(GOOD_LINE)] for f in findings] == [GOOD_LINE]
    assert len(errors) == 1 and errors[0].startswith(f"{name}:"), errors
    return errors[0]


# --- YAML and JSON ----------------------------------------------------------------------------


def test_yaml_alias_bomb(tmp_path, capsys):
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    (tmp_path / "bomb.yaml").write_text("Resources:\n  X:\n    Type: AWS::EC2::SecurityGroup\n" + "\n".join(levels) + "\n")
    assert "holds more than 2000000 values" in one_error(tmp_path, capsys, "bomb.yaml")


def test_a_50_mb_template_is_an_error_in_bounded_time_and_memory(tmp_path):
    rule = "        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: 10.0.0.0/8}\n"
    group = "  G{}:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: x\n" \
            "      SecurityGroupIngress:\n" + rule * 20
    with open(tmp_path / "huge.yaml", "w") as handle:
        handle.write("Resources:\n")
        for index in range(33_000):
            handle.write(group.replace("G{}", f"G{index}"))
    assert (tmp_path / "huge.yaml").stat().st_size > 50 * 2**20
    code = ("import resource, sys\nfrom winportlint.cli import main\ncode = main(sys.argv[1:])\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\nsys.exit(code)\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "check", "--no-cache", str(tmp_path / "huge.yaml")],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert done.returncode == 2
    assert "huge.yaml: error: document holds more than 2000000 values (too large, or an alias bomb)" \
        in done.stdout.replace(str(tmp_path) + "/", "").replace(":55447:", ":")
    peak_mb = int(done.stderr.split()[-1]) / 1024
    assert seconds < 30 and peak_mb < 600, (seconds, peak_mb)


@pytest.mark.parametrize("name, text", [
    ("deep.yaml", "Resources: " + "[" * 100_000 + "]" * 100_000 + "\n# AWS::EC2::SecurityGroup\n"),
    ("deep.json", '{"Resources": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + ', "T": "AWS::EC2::SecurityGroup"}'),
])
def test_nesting_100000_deep(tmp_path, capsys, name, text):
    (tmp_path / name).write_text(text)
    error = one_error(tmp_path, capsys, name)
    # Ours at 500 levels, or libyaml's own limit where its scanner looks that far ahead first.
    assert error.endswith(("nesting deeper than 500 levels", "invalid YAML: exceeded maximum nesting depth")), error


def test_a_10000_rule_port_list_is_read_in_full(tmp_path, capsys):
    rules = "".join(f"        - {{IpProtocol: tcp, FromPort: {p}, ToPort: {p}, CidrIp: 0.0.0.0/0}}\n"
                    for p in range(30_000, 40_000))  # no catalog port among them
    (tmp_path / "many.yaml").write_text(RDP.replace("Rdp:", "Many:") + rules)
    code, findings, errors = run(tmp_path, capsys)
    assert code == 1 and errors == []
    assert sorted(f.split(": ")[1].split()[0] for f in findings) == ["WPL101", "WPL101"]  # 3389 in each file


def test_very_long_lines(tmp_path, capsys):
    long_description = "x" * 5_000_000
    (tmp_path / "long.yaml").write_text(RDP.replace("GroupDescription: d", f"GroupDescription: {long_description}"))
    code, findings, errors = run(tmp_path, capsys)
    assert code == 1 and errors == [] and len(findings) == 2


def test_invalid_utf8(tmp_path, capsys):
    (tmp_path / "latin1.yaml").write_bytes(RDP.replace("d\n", "caf\xe9\n", 1).encode("latin-1"))
    assert one_error(tmp_path, capsys, "latin1.yaml") == \
        "latin1.yaml:5: error: not UTF-8 text (byte 0xe9 cannot be decoded)"


@pytest.mark.parametrize("name, data", [
    ("utf16.yaml", RDP.encode("utf-16")),
    ("crlf.yaml", RDP.replace("\n", "\r\n").encode()),
])
def test_utf16_with_bom_and_crlf_are_read_with_exact_positions(tmp_path, capsys, name, data):
    (tmp_path / name).write_bytes(data)
    code, findings, errors = run(tmp_path, capsys)
    assert code == 1 and errors == []
    assert sorted(f.split(" (")[0] for f in findings) == sorted(
        [GOOD_LINE, GOOD_LINE.replace("good.yaml", name)])


@pytest.mark.parametrize("name, text, expected", [
    ("tabs.yaml", RDP.replace("    Type:", "\tType:"), "tabs.yaml:3: error: invalid YAML"),
    ("dup.yaml", RDP.replace("    Type: AWS::EC2::SecurityGroup\n",
                             "    Type: AWS::EC2::SecurityGroup\n    Type: AWS::EC2::SecurityGroup\n"),
     "dup.yaml:4: error: duplicate key 'Type'"),
    ("tag.yaml", RDP.replace("GroupDescription: d", "GroupDescription: !Evil d"),
     "tag.yaml:5: error: unknown tag !Evil"),
    ("python.yaml", RDP.replace("GroupDescription: d", "GroupDescription: !!python/object/apply:os.system [id]"),
     "python.yaml:5: error: unknown tag tag:yaml.org,2002:python/object/apply:os.system"),
    ("comma.json", json.dumps({"Resources": {"G": {"Type": "AWS::EC2::SecurityGroup"}}}).replace("}}}", "},}}"),
     "comma.json:1: error: invalid JSON"),
])
def test_malformed_templates_are_one_error_with_a_line(tmp_path, capsys, name, text, expected):
    (tmp_path / name).write_text(text)
    assert one_error(tmp_path, capsys, name).startswith(expected)


def test_yaml_merge_keys_are_resolved(tmp_path, capsys):
    (tmp_path / "merge.yaml").write_text(
        "Rule: &rule {IpProtocol: tcp, FromPort: 5985, ToPort: 5985}\n"
        "Resources:\n  WinRM:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDescription: d\n"
        "      SecurityGroupIngress:\n        - <<: *rule\n          CidrIp: 0.0.0.0/0\n")
    code, findings, errors = run(tmp_path, capsys)
    assert code == 1 and errors == []
    assert any(f.startswith("merge.yaml:9:19: WPL103 critical 5985/tcp") for f in findings), findings


# --- Terraform ----------------------------------------------------------------------------------

HCL_RDP = ('resource "aws_security_group" "rdp" {\n  description = <<-EOT\n    Remote desktop\n    for admins\n'
           '  EOT\n  ingress {\n    from_port   = 3389\n    to_port     = 3389\n    protocol    = "tcp"\n'
           '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}\n')


def test_hcl_heredocs_are_read(tmp_path, capsys):
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(HCL_RDP)
    code, findings, errors = run(tmp_path, capsys)
    assert code == 1 and errors == []
    assert any(f.startswith("tf/main.tf:10:20: WPL101 critical 3389/tcp") for f in findings), findings


def test_an_unclosed_hcl_block_is_one_error_with_a_line(tmp_path, capsys):
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(HCL_RDP.rsplit("}", 1)[0])
    error = one_error(tmp_path, capsys, "tf/main.tf")
    assert error == "tf/main.tf:1: error: invalid HCL: unclosed block, no closing '}'; the module is read without this file"


def test_a_binary_tf_file_is_an_error(tmp_path, capsys):
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    assert one_error(tmp_path, capsys, "tf/main.tf").startswith("tf/main.tf:1: error: invalid HCL")


# --- The file system ----------------------------------------------------------------------------


def test_an_unreadable_file(tmp_path, capsys, monkeypatch):
    (tmp_path / "secret.yaml").write_text(RDP)
    real = engine.read_bytes

    def read_bytes(path):  # chmod 000 does not stop root, who runs CI: the OS error, as the OS gives it
        if path.endswith("secret.yaml"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(engine, "read_bytes", read_bytes)
    assert one_error(tmp_path, capsys, "secret.yaml") == "secret.yaml: error: cannot read file: Permission denied"


def test_symlink_loops_are_not_followed(tmp_path, capsys):
    (tmp_path / "loop").symlink_to(tmp_path)
    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    code, findings, errors = run(tmp_path, capsys)
    assert code == 2 and len(findings) == 1
    assert errors == ["a.yaml: error: cannot read file: Too many levels of symbolic links",
                      "b.yaml: error: cannot read file: Too many levels of symbolic links"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_in_the_tree_is_skipped_and_one_named_is_an_error(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.yaml")
    code, findings, errors = run(tmp_path, capsys)
    assert (code, errors) == (1, []) and len(findings) == 1
    assert main(["check", "--no-cache", str(tmp_path / "pipe.yaml"), "/dev/null"]) == 2
    assert capsys.readouterr().out.splitlines()[:2] == [
        "/dev/null: error: not a regular file (a FIFO, socket or device)",
        f"{tmp_path / 'pipe.yaml'}: error: not a regular file (a FIFO, socket or device)"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_in_a_terraform_module_stops_that_module_only(tmp_path, capsys):
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(HCL_RDP)
    os.mkfifo(tmp_path / "tf" / "pipe.tf")
    assert one_error(tmp_path, capsys, "tf/pipe.tf") == \
        "tf/pipe.tf: error: not a regular file (a FIFO, socket or device); its folder is not read"


def test_a_file_deleted_during_the_scan(tmp_path, capsys, monkeypatch):
    (tmp_path / "gone.yaml").write_text(RDP)
    real = engine.discover

    def discover(*args, **kwargs):
        found = real(*args, **kwargs)
        (tmp_path / "gone.yaml").unlink()
        return found

    monkeypatch.setattr(engine, "discover", discover)
    assert one_error(tmp_path, capsys, "gone.yaml") == "gone.yaml: error: cannot read file: No such file or directory"


def test_paths_with_spaces_and_unicode(tmp_path, capsys):
    folder = tmp_path / "dossier d’équipe ü"
    folder.mkdir()
    (folder / "mon modèle.yaml").write_text(RDP)
    code, findings, errors = run(tmp_path, capsys)
    assert code == 1 and errors == []
    assert findings[0].startswith("dossier d’équipe ü/mon modèle.yaml:7:67: WPL101")


def test_an_empty_folder(tmp_path, capsys):
    assert main(["check", "--no-cache", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "0 findings in 0 files\n"


# --- Resource bounds ----------------------------------------------------------------------------


class _Stuck:
    """A format whose reading never ends, or eats all memory."""

    name = "stuck"
    suffixes = (".stuck",)

    def __init__(self, failure):
        self.failure = failure

    def parse(self, path, data):
        if self.failure == "time":
            while True:
                time.sleep(0.01)
        raise MemoryError


@pytest.mark.parametrize("failure, message", [
    ("time", "took longer than 0.2 s to read; not checked"),
    ("memory", "ran out of memory reading it; not checked"),
])
def test_a_file_over_its_time_or_memory_budget_is_an_error_and_the_run_goes_on(tmp_path, monkeypatch, failure,
                                                                              message):
    from winportlint.catalog import load_catalog
    from winportlint.plugin_manager import load_plugins

    monkeypatch.setattr(engine, "FILE_TIME_LIMIT", 0.2)
    (tmp_path / "a.stuck").write_text("x")
    (tmp_path / "good.yaml").write_text(RDP)
    plugins = load_plugins()
    result = engine.run([str(tmp_path)], [_Stuck(failure), *plugins.formats],
                        [c for c in plugins.checks if c.enabled_by_default], load_catalog(()))
    assert [str(e) for e in result.errors] == [f"{tmp_path / 'a.stuck'}:0: {message}"]
    assert [f.rule_id for f in result.findings] == ["WPL101"]


def test_a_file_over_the_size_limit_is_an_error(tmp_path, capsys, monkeypatch):
    from winportlint import textfile

    monkeypatch.setattr(textfile, "MAX_FILE_BYTES", 100)
    (tmp_path / "big.yaml").write_text(RDP + "#" * 200)
    code, findings, errors = run(tmp_path, capsys)
    assert code == 2
    assert "big.yaml: error: file too large (" + f"{len(RDP) + 200:,}" + " bytes; the limit is 100)" in errors


# --- Exit codes under partial failure -----------------------------------------------------------


def test_findings_and_an_unreadable_file_exit_2_with_both_reported(tmp_path, capsys):
    (tmp_path / "broken.yaml").write_text("Resources: [\n  AWS::EC2::SecurityGroup\n")
    code, findings, errors = run(tmp_path, capsys)
    assert code == 2
    assert [f[:len(GOOD_LINE)] for f in findings] == [GOOD_LINE]
    assert len(errors) == 1 and errors[0].startswith("broken.yaml:")

