"""Terraform: what the speed work must keep (same results) and what it promises (less work)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

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


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def test_module_files_are_the_tf_and_tf_json_files_glob_would_list(tmp_path):
    _write(tmp_path, {"b.tf": "", "a.tf.json": "{}", ".hidden.tf": "", "c.tfvars": "", "d.tf.bak": "", "sub/e.tf": ""})
    (tmp_path / "dir.tf").mkdir()  # glob lists a folder whose name matches, so does this
    assert evaluate.module_files(str(tmp_path)) == [str(tmp_path / n) for n in ("a.tf.json", "b.tf", "dir.tf")]
    assert evaluate.module_files(str(tmp_path / "absent")) == []


def test_no_scratch_folder_without_command_line_variables(tmp_path, monkeypatch):
    _write(tmp_path / "m", {"main.tf": GROUP})

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

    _write(tmp_path / "m", {"main.tf": GROUP})
    seen = []
    read = extract.ModuleReader.read
    monkeypatch.setattr(extract.ModuleReader, "read", lambda self: seen.append(gc.isenabled()) or read(self))
    was_enabled = gc.isenabled()
    try:
        gc.enable()
        assert len(TerraformFormat().parse_folders([str(tmp_path / "m")], {}).permissions) == 2
        assert seen == [False] and gc.isenabled()
        gc.disable()  # a caller that turned it off keeps it off
        TerraformFormat().parse_folders([str(tmp_path / "m")], {})
        assert seen == [False, False] and not gc.isenabled()
        gc.enable()
        monkeypatch.setattr(extract.ModuleReader, "read", lambda self: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            TerraformFormat().parse_folders([str(tmp_path / "m")], {})
        assert gc.isenabled()
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_equal_cidrs_share_one_parsed_peer(tmp_path):
    _write(tmp_path / "m", {"main.tf": GROUP + GROUP.replace('"rdp"', '"rdp2"').replace(
        '"0.0.0.0/0"', '"0.0.0.0/0", "10.0.0.1/8"')})
    permissions = TerraformFormat().parse_folders([str(tmp_path / "m")], {}).permissions
    world = [p.peer for p in permissions if p.peer.text == "0.0.0.0/0"]
    assert len(world) == 2 and world[0] is world[1] and world[0].kind == "cidr"
    assert [p.peer.kind for p in permissions if p.peer.text == "10.0.0.1/8"] == ["invalid"]  # host bits set
