"""Terraform: what the speed work must keep (same results) and what it promises (less work)."""

from __future__ import annotations

import gc
import json
import weakref
from pathlib import Path

import pytest

from conftest import write_files
from winportlint.plugins.terraform import TerraformFormat, evaluate
from winportlint.plugins.terraform.hcl_positions import HclIndex

GROUP = """resource "aws_security_group" "rdp" {
  name = "rdp"
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress = [{ cidr_blocks = ["10.0.0.0/8"], from_port = 0, to_port = 0, protocol = "-1" }]
}
"""


def test_module_files_are_the_tf_and_tf_json_files_glob_would_list(tmp_path):
    write_files(tmp_path, {"b.tf": "", "a.tf.json": "{}", ".hidden.tf": "", "c.tfvars": "", "d.tf.bak": "", "sub/e.tf": ""})
    (tmp_path / "dir.tf").mkdir()  # glob lists a folder whose name matches, so does this
    assert evaluate.module_files(str(tmp_path)) == [str(tmp_path / n) for n in ("a.tf.json", "b.tf", "dir.tf")]
    assert evaluate.module_files(str(tmp_path / "absent")) == []


def test_no_scratch_folder_without_command_line_variables(tmp_path, monkeypatch):
    write_files(tmp_path / "m", {"main.tf": GROUP})

    def no_scratch(*args, **kwargs):
        raise AssertionError("a scratch folder was made")

    monkeypatch.setattr(evaluate.tempfile, "TemporaryDirectory", no_scratch)
    result = TerraformFormat().parse_folders([str(tmp_path / "m")], {})
    assert [(p.resource, p.peer.text) for p in result.permissions] == [
        ("aws_security_group.rdp", "0.0.0.0/0"), ("aws_security_group.rdp", "10.0.0.0/8")]
    with pytest.raises(AssertionError, match="scratch"):  # --var values need one
        TerraformFormat().parse_folders([str(tmp_path / "m")], {"vars": {"x": "1"}})


def test_an_index_is_freed_without_the_cyclic_collector(tmp_path):
    """Indexes hold no reference cycle, so parse_folders may run with the collector off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        index = HclIndex(GROUP.encode())
        group = index.block_at(1)
        assert group is index.top_level[0]
        ingress = index.block_at(3)
        assert ingress is group.children[0] and ingress.kind == "ingress"
        assert group.attributes["egress"].objects[0]["cidr_blocks"].strings == [("10.0.0.0/8", 9, 30)]
        assert (ingress.attributes["cidr_blocks"].line, ingress.attributes["cidr_blocks"].column) == (7, 5)
        freed = weakref.ref(index)
        del index, group, ingress
        assert freed() is None
    finally:
        if was_enabled:
            gc.enable()


def test_the_cyclic_collector_is_paused_while_reading_and_restored(tmp_path, monkeypatch):
    from winportlint.plugins.terraform import extract

    write_files(tmp_path / "m", {"main.tf": GROUP})
    seen = []
    read = extract.ModuleReader.read
    monkeypatch.setattr(extract.ModuleReader, "read",
                        lambda self, *args: seen.append(gc.isenabled()) or read(self, *args))
    was_enabled = gc.isenabled()
    try:
        gc.enable()
        assert len(TerraformFormat().parse_folders([str(tmp_path / "m")], {}).permissions) == 2
        assert seen == [False] and gc.isenabled()
        gc.disable()  # a caller that turned it off keeps it off
        TerraformFormat().parse_folders([str(tmp_path / "m")], {})
        assert seen == [False, False] and not gc.isenabled()
        gc.enable()
        monkeypatch.setattr(extract.ModuleReader, "read", lambda self, *args: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            TerraformFormat().parse_folders([str(tmp_path / "m")], {})
        assert gc.isenabled()
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_equal_cidrs_share_one_parsed_peer(tmp_path):
    write_files(tmp_path / "m", {"main.tf": GROUP + GROUP.replace('"rdp"', '"rdp2"').replace(
        '"0.0.0.0/0"', '"0.0.0.0/0", "10.0.0.1/8"')})
    result = TerraformFormat().parse_folders([str(tmp_path / "m")], {})
    world = [p.peer for p in result.permissions if p.peer.text == "0.0.0.0/0"]
    assert len(world) == 2 and world[0] is world[1] and world[0].kind == "cidr"
    # host bits set: the provider rejects it, an input error (issue #15)
    assert [p for p in result.permissions if p.peer.text == "10.0.0.1/8"] == []
    assert [e.message for e in result.errors] == [
        "aws_security_group.rdp2: cidr_blocks '10.0.0.1/8' has host bits set (the network is 10.0.0.0/8): "
        "cfn-lint and the Terraform provider reject it"]


# -- the prefilter: a module that cannot create a security group is not evaluated -----------------

_INGRESS = ('{\n  ingress {\n    from_port   = 3389\n    to_port     = 3389\n    protocol    = "tcp"\n'
            '    cidr_blocks = ["0.0.0.0/0"]\n  }\n}')
GROUP_RESOURCES = {
    "aws_security_group": _INGRESS,
    "aws_default_security_group": _INGRESS,
    "aws_security_group_rule": '{\n  type = "ingress"\n  from_port = 3389\n  to_port = 3389\n  protocol = "tcp"\n'
                               '  cidr_blocks = ["0.0.0.0/0"]\n  security_group_id = "sg-1"\n}',
    "aws_vpc_security_group_ingress_rule": '{\n  ip_protocol = "tcp"\n  from_port = 3389\n  to_port = 3389\n'
                                           '  cidr_ipv4 = "0.0.0.0/0"\n  security_group_id = "sg-1"\n}',
    "aws_vpc_security_group_egress_rule": '{\n  ip_protocol = "-1"\n  cidr_ipv4 = "0.0.0.0/0"\n'
                                          '  security_group_id = "sg-1"\n}',
}


def _unfiltered(folder: str):
    """What the module gives when it is evaluated whatever the prefilter says."""
    from winportlint.plugins.terraform.reading import read_module

    evaluation = evaluate.evaluate(folder, {})
    return read_module(evaluation).permissions if not evaluation.errors else []


def _json_module(kind: str) -> str:
    body = {"aws_security_group_rule": {"type": "ingress", "from_port": 3389, "to_port": 3389, "protocol": "tcp",
                                        "cidr_blocks": ["0.0.0.0/0"], "security_group_id": "sg-1"}}.get(
        kind, {"ip_protocol": "tcp", "from_port": 3389, "to_port": 3389, "cidr_ipv4": "0.0.0.0/0",
               "security_group_id": "sg-1"})
    if kind in ("aws_security_group", "aws_default_security_group"):
        body = {"ingress": [{"from_port": 3389, "to_port": 3389, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"],
                             "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [],
                             "self": False, "description": ""}]}
    import json

    return json.dumps({"resource": {kind: {"x": body}}})


@pytest.mark.parametrize("kind", sorted(GROUP_RESOURCES))
@pytest.mark.parametrize("syntax", ["hcl", "json", "escaped"])
def test_every_kind_of_group_or_rule_keeps_its_module(tmp_path, kind, syntax):
    if syntax == "hcl":
        files = {"main.tf": f'resource "{kind}" "x" {GROUP_RESOURCES[kind]}\n'}
    elif syntax == "json":
        files = {"main.tf.json": _json_module(kind)}
    else:  # the type spelt with an escape, which the evaluator decodes
        files = {"main.tf": f'resource "{kind.replace("_", chr(92) + "u005f")}" "x" {GROUP_RESOURCES[kind]}\n'}
    folder = str(write_files(tmp_path / "m", files))
    assert evaluate.may_hold_groups(evaluate.module_files(folder))
    found = TerraformFormat().parse_folders([folder], {}).permissions
    assert found and [p.resource for p in found] == [p.resource for p in _unfiltered(folder)]


def test_a_module_call_keeps_its_module(tmp_path):
    local = write_files(tmp_path / "local", {"main.tf": 'module "m" {\n  source = "./m"\n}\n',
                                        "m/main.tf": 'resource "aws_security_group" "x" '
                                                     + GROUP_RESOURCES["aws_security_group"] + "\n"})
    registry = write_files(tmp_path / "registry", {"main.tf.json": '{"module": {"rdp": {"source": '
                      '"terraform-aws-modules/security-group/aws//modules/rdp", "ingress_cidr_blocks": ["0.0.0.0/0"]}}}'})
    for folder in (local, registry):
        assert evaluate.may_hold_groups(evaluate.module_files(str(folder)))
        assert TerraformFormat().parse_folders([str(folder)], {}).permissions


def test_a_module_without_groups_rules_or_calls_is_not_evaluated(tmp_path, monkeypatch):
    plain = write_files(tmp_path / "plain", {"main.tf": 'resource "aws_instance" "web" {\n  ami = "ami-1"\n}\n',
                                        "vars.tf": 'variable "cidr" { default = "0.0.0.0/0" }\n',
                                        "terraform.tfvars": 'cidr = "0.0.0.0/0"\n'})
    group = write_files(tmp_path / "group", {"main.tf": GROUP})
    assert not evaluate.may_hold_groups(evaluate.module_files(str(plain)))
    assert _unfiltered(str(plain)) == []
    started = []
    start = evaluate.start
    monkeypatch.setattr(evaluate, "start", lambda folder, *args: started.append(folder) or start(folder, *args))
    result = TerraformFormat().parse_folders([str(group), str(plain)], {})
    assert started == [str(group)] and len(result.permissions) == 2 and result.errors == []


def test_unreadable_files_keep_their_module(tmp_path):
    assert evaluate.may_hold_groups([str(tmp_path / "gone.tf")])


def test_no_module_of_the_generated_corpora_is_skipped(tmp_path):
    import importlib.util
    import random

    spec = importlib.util.spec_from_file_location("generate", Path(__file__).parents[1] / "benchmarks" / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    rng = random.Random(5)
    for index in range(6):
        for name, text in (("flat", generate.terraform(rng, 3, f"f{index}")),
                           ("dynamic", generate.terraform_dynamic(rng, 3, f"d{index}"))):
            folder = str(write_files(tmp_path / f"{name}{index}", {"main.tf": text}))
            assert evaluate.may_hold_groups(evaluate.module_files(folder))
            assert len(_unfiltered(folder)) >= 3


CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the shared corpus is not beside this checkout ({CORPUS} is absent)")
def test_no_corpus_module_that_holds_a_group_is_skipped(tmp_path):
    """Every labelled Terraform file, as a module of its own (as test_corpus reads them), and
    every folder of the corpus as it is: kept whenever evaluating it gives a permission."""
    import json
    import shutil

    labels = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text().splitlines() if line.strip()]
    folders = []
    for number, label in enumerate(row for row in labels if row["format"] == "terraform"):
        folder = tmp_path / f"m{number}"
        folder.mkdir()
        shutil.copy(CORPUS / label["file"], folder)
        folders.append((str(folder), bool(label["expected"])))
    folders += [(root, False) for root in sorted({str(p.parent) for p in CORPUS.rglob("*.tf")})]
    assert len(folders) > 60
    kept = 0
    for folder, exposed in folders:
        files = evaluate.module_files(folder)
        if exposed or _unfiltered(folder):
            assert evaluate.may_hold_groups(files), folder
            kept += 1
    assert kept > 40


# -- evaluations on threads: the same records in the same order as one by one -------------------

CASES = Path(__file__).parent / "cases"


def _mixed_modules(root: Path) -> list[str]:
    """Good, bad, called, sliced and variable-reading modules side by side."""
    import random

    rng = random.Random(11)
    write_files(root / "syntax", {"main.tf": 'resource "aws_security_group" "x" {\n  ingress {\n    from_port = \n  }\n'})
    write_files(root / "nowhere", {"main.tf": 'module "m" {\n  source = "./does-not-exist"\n}\n'})
    write_files(root / "plain", {"main.tf": 'resource "aws_instance" "web" {\n  ami = "ami-1"\n}\n'})
    write_files(root / "vars", {"main.tf": 'variable "cidr" { default = "10.0.0.0/8" }\n'
                                      'resource "aws_security_group_rule" "r" {\n  type = "ingress"\n'
                                      '  from_port = 3389\n  to_port = 3389\n  protocol = "tcp"\n'
                                      '  cidr_blocks = [var.cidr]\n  security_group_id = "sg-1"\n}\n',
                           "terraform.tfvars": 'cidr = "0.0.0.0/0"\n'})
    for index in range(8):
        groups = []
        for group in range(4):
            port = rng.choice([22, 445, 3389, 5985])
            groups.append(f'resource "aws_security_group" "g{index}_{group}" {{\n  dynamic "ingress" {{\n'
                          f'    for_each = toset(["0.0.0.0/0", "10.0.0.0/8"])\n    content {{\n'
                          f'      from_port   = {port}\n      to_port     = {port}\n      protocol    = "tcp"\n'
                          f'      cidr_blocks = [ingress.value]\n    }}\n  }}\n}}\n')
        write_files(root / "sliced", {f"f{index}.tf": "\n".join(groups)})
        write_files(root / f"small{index}", {"main.tf": GROUP.replace('"rdp"', f'"rdp{index}"')})
    folders = {str(p.parent) for p in root.rglob("*.tf")} | {str(p.parent) for p in CASES.rglob("*.tf*")}
    return sorted(f for f in folders if ".terraform" not in f)


@pytest.mark.parametrize("settings", [{}, {"vars": {"cidr": "::/0"}}])
def test_threads_give_what_one_by_one_gives(tmp_path, monkeypatch, settings):
    from winportlint.plugins.terraform import chunking

    monkeypatch.setattr(chunking, "WORK_LIMIT", 10)  # the 32-group module is evaluated in slices
    monkeypatch.setattr(chunking, "SLICE_BLOCKS", 3)
    folders = _mixed_modules(tmp_path)
    serial = TerraformFormat().parse_folders(folders, {**settings, "jobs": 1})
    assert len(serial.permissions) > 100 and len(serial.errors) >= 2
    assert any("aws_security_group.g7_3" in p.resource for p in serial.permissions)
    for jobs in (2, 3, 8):
        threaded = TerraformFormat().parse_folders(folders, {**settings, "jobs": jobs})
        assert threaded.permissions == serial.permissions
        assert threaded.errors == serial.errors
        assert threaded.inputs == serial.inputs


def test_the_jobs_setting_says_where_the_evaluator_runs(tmp_path, monkeypatch):
    import threading

    from winportlint.plugins.terraform import isolated

    folders = [str(write_files(tmp_path / f"m{i}", {"main.tf": GROUP})) for i in range(3)]
    threads = []
    load = isolated.load_from_path  # each call waits for the evaluator's helper process
    monkeypatch.setattr(isolated, "load_from_path",
                        lambda *args, **kwargs: threads.append(threading.current_thread().name) or load(*args, **kwargs))
    TerraformFormat().parse_folders(folders, {"jobs": 1})
    assert threads == [threading.current_thread().name] * 3
    threads.clear()
    TerraformFormat().parse_folders(folders, {"jobs": 2})
    assert len(threads) == 3 and all(name.startswith("winportlint-tfparse") for name in threads)
    assert len(set(threads)) <= 2
    assert not [t for t in threading.enumerate() if t.name.startswith("winportlint-tfparse")]  # pool closed


def test_without_a_jobs_setting_there_is_a_thread_per_core(monkeypatch):
    from winportlint.plugins.terraform import _jobs

    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert (_jobs({}), _jobs({"jobs": None}), _jobs({"jobs": 3}), _jobs({"jobs": 0})) == (6, 6, 3, 6)


# -- syntax indexes read while the evaluator runs ---------------------------------------------------

def test_reading_with_indexes_read_ahead_gives_what_reading_on_demand_gives(tmp_path):
    from winportlint.plugins.terraform import hcl_positions
    from winportlint.plugins.terraform.reading import read_module

    folders = _mixed_modules(tmp_path)
    compared = 0
    for folder in folders:
        evaluation = evaluate.evaluate(folder, {})
        if evaluation.errors:
            continue
        files = evaluate.module_files(folder)
        for path in files:
            hcl_positions.forget_index(path)
        on_demand = read_module(evaluation)
        assert not set(hcl_positions._kept.entries) & set(files)  # the reading drops what it used
        hcl_positions.read_ahead(files, lambda: False)
        assert set(files) <= set(hcl_positions._kept.entries)
        assert read_module(evaluation) == on_demand
        compared += bool(on_demand.permissions)
    assert compared > 10
    small = str(tmp_path / "small0" / "main.tf")
    hcl_positions.forget_index(small)
    hcl_positions.read_ahead([small], lambda: True)  # evaluation over: stop
    assert small not in hcl_positions._kept.entries


# -- many root modules: shared out with forked workers before the evaluator is loaded -------------

_FORKED_RUN = """
import os, pickle, sys
import winportlint.plugins.terraform as terraform
assert "tfparse" not in sys.modules
read_part = terraform._read_part
def recorded(part, *args):
    with open(os.path.join(sys.argv[1], f"worker-{os.getpid()}"), "w") as handle:
        handle.write(str(len(part)))
    return read_part(part, *args)
terraform._read_part = recorded
folders = sys.argv[3:]
sys.stdout.write("written before the run, once")  # buffered (a pipe): multiprocessing flushes it before forking
result = terraform.TerraformFormat().parse_folders(folders, {"jobs": int(sys.argv[2])})
with open(os.path.join(sys.argv[1], f"result-{sys.argv[2]}"), "wb") as handle:
    pickle.dump((result.permissions, result.errors, result.inputs), handle)
"""


def test_many_roots_are_shared_with_forked_workers_and_give_what_one_process_gives(tmp_path):
    import pickle
    import subprocess
    import sys

    from winportlint.plugins import terraform

    folders = _mixed_modules(tmp_path / "modules")
    for index in range(terraform.FORK_MIN_ROOTS):
        write_files(tmp_path / "modules" / f"more{index:02d}", {"main.tf": GROUP.replace('"rdp"', f'"more{index}"')})
        folders.append(str(tmp_path / "modules" / f"more{index:02d}"))
    folders.sort()
    records = tmp_path / "records"
    records.mkdir()
    runs = {}
    for jobs in (1, 3):
        done = subprocess.run([sys.executable, "-c", _FORKED_RUN, str(records), str(jobs), *folders],
                              capture_output=True, check=True)
        runs[jobs] = pickle.loads((records / f"result-{jobs}").read_bytes())
        (records / f"result-{jobs}").unlink()
        assert done.stdout.decode() == "written before the run, once"
    workers = {path.name: int(path.read_text()) for path in records.iterdir()}
    assert len(workers) == 2 and all(size > 0 for size in workers.values())  # jobs=3: two workers and this process
    in_process = TerraformFormat().parse_folders(folders, {"jobs": 1})
    assert runs[3] == runs[1] == (in_process.permissions, in_process.errors, in_process.inputs)
    assert len(in_process.permissions) > 100 and in_process.errors


def test_no_fork_once_the_evaluator_is_loaded_or_another_thread_runs(monkeypatch):
    import sys
    import threading

    import tfparse  # its Go runtime has threads: forking now would be unsafe

    from winportlint.plugins.terraform import _can_fork

    assert not _can_fork()
    monkeypatch.delitem(sys.modules, "tfparse")
    assert _can_fork() == (threading.active_count() == 1)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not _can_fork()
    finally:
        stop.set()
        thread.join()
    assert tfparse


def test_parts_are_contiguous_and_of_about_equal_size():
    from winportlint.plugins.terraform import _parts

    roots = [f"r{index}" for index in range(10)]
    work = {root: ([], set()) for root in roots}
    for count in (1, 2, 3, 10, 12):
        parts = _parts(roots, work, count)
        assert [root for part in parts for root in part] == roots and all(parts)
        assert len(parts) == min(count, len(roots))
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_go_gc_target_by_the_largest_evaluation(tmp_path, monkeypatch):
    import sys

    small = [str(write_files(tmp_path / "small", {"main.tf": GROUP}) / "main.tf")]
    large_text = GROUP * (evaluate.LARGE_EVALUATION // len(GROUP) + 1)
    sliced = [str(write_files(tmp_path / "sliced", {"main.tf": large_text}) / "main.tf")]  # evaluated in slices
    large_text = json.dumps({"locals": {"padding": "x" * evaluate.LARGE_EVALUATION}})
    large = [str(write_files(tmp_path / "large", {"main.tf.json": large_text}) / "main.tf.json")]  # in one go
    monkeypatch.delitem(sys.modules, "tfparse", raising=False)  # as before the evaluator is loaded
    for modules, expected in (([small], "200"), ([small, sliced], "200"), ([small, large], "100"), ([], "200")):
        monkeypatch.delenv("GOGC", raising=False)
        evaluate.choose_go_gc(modules)
        assert evaluate.os.environ["GOGC"] == expected
    monkeypatch.setenv("GOGC", "75")  # the user's own
    evaluate.choose_go_gc([small])
    assert evaluate.os.environ["GOGC"] == "75"
    monkeypatch.delenv("GOGC")
    monkeypatch.setitem(sys.modules, "tfparse", object())  # Go read GOGC already: setting it changes nothing
    evaluate.choose_go_gc([small])
    assert "GOGC" not in evaluate.os.environ


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_sliced_module_is_parsed_once(tmp_path, monkeypatch, jobs):
    from winportlint.plugins.terraform import chunking

    monkeypatch.setattr(chunking, "WORK_LIMIT", 10)
    monkeypatch.setattr(chunking, "SLICE_BLOCKS", 3)
    folder = [f for f in _mixed_modules(tmp_path) if f.endswith("sliced")]
    parsed = []
    init = HclIndex.__init__
    monkeypatch.setattr(HclIndex, "__init__", lambda self, source: parsed.append(source) or init(self, source))
    result = TerraformFormat().parse_folders(folder, {"jobs": jobs})
    assert len(result.permissions) == 64 and result.errors == []
    assert len(parsed) == len(set(parsed)) == 8  # each of the 8 files once, for slicing and positions alike


def test_a_module_too_small_to_need_slicing_is_not_read_for_it(tmp_path, monkeypatch):
    from winportlint.plugins.terraform import chunking

    dense = 'dynamic "a" {}\n}\n' * 20  # 20 dynamic blocks and 20 block ends in 340 bytes
    write_files(tmp_path, {"small.tf": dense})
    monkeypatch.setattr(chunking, "WORK_LIMIT", len(dense) ** 2 // 72 + 1)  # over what 340 bytes can hold
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *args, **kwargs: pytest.fail("read") if str(args[0]).endswith(
        "small.tf") else real_open(*args, **kwargs))
    assert not chunking.needs_slicing([str(tmp_path / "small.tf")])
    monkeypatch.setattr("builtins.open", real_open)
    monkeypatch.setattr(chunking, "WORK_LIMIT", 20 * 20 - 1)  # now 20 x 20 is over it, and it is read
    assert chunking.needs_slicing([str(tmp_path / "small.tf")])
