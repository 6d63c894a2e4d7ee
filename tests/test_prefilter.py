"""The CloudFormation byte-level prefilter skips files without security groups and never one with them.

Ground truth here is a full load of every file, without the prefilter: a
template whose Resources hold an ``AWS::EC2::SecurityGroup*`` resource must
be read, however it is encoded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS, REPO, requires_corpus
from winportlint.nodes import LoadError, load
from winportlint.plugins.cloudformation import _MARKER, CloudFormationFormat
from winportlint.plugins.cloudformation.extract import is_template
from winportlint.plugins.cloudformation.intrinsics import SHORT_TAGS
from winportlint.textfile import NotText, decode

FORMAT = CloudFormationFormat()


def security_group_types(data: bytes, path: str) -> list[str]:
    """The security-group resource types of a file, read in full (no prefilter)."""
    try:
        text = decode(data)
        documents = load(text, not path.endswith((".yaml", ".yml")) and text.lstrip()[:1] in "{[", SHORT_TAGS)
    except (NotText, LoadError):
        return []
    types = []
    for document in documents:
        if not is_template(document):
            continue
        for resource in document.value["Resources"].value.values():
            kind = resource.value.get("Type") if isinstance(resource.value, dict) else None
            if kind is not None and isinstance(kind.value, str) and kind.value.startswith(_MARKER):
                types.append(kind.value)
    return types


def cloudformation_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in FORMAT.suffixes and p.is_file())


@requires_corpus
def test_no_corpus_template_with_a_security_group_is_skipped():
    files = cloudformation_files(CORPUS)
    with_groups = skipped = 0
    for path in files:
        data = path.read_bytes()
        result = FORMAT.parse(str(path), data)
        if security_group_types(data, str(path)):
            with_groups += 1
            assert result is not None, path  # read (a group without rules gives no permissions)
        elif result is None:
            skipped += 1
    assert with_groups >= 100
    assert skipped > 0  # the prefilter does skip: templates without a group


def test_no_generated_template_is_skipped(tmp_path):
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "generate.py"), str(tmp_path), "--cfn", "40",
                    "--tf-modules", "0", "--tf-flat", "0", "--tf-dynamic", "0", "--groups", "3"], check=True)
    files = cloudformation_files(tmp_path / "cloudformation")
    assert len(files) == 40
    for path in files:
        data = path.read_bytes()
        assert len(security_group_types(data, str(path))) == 3
        assert len({p.resource for p in FORMAT.parse(str(path), data).permissions}) == 3


TEMPLATE = 'Resources:\n  Rdp:\n    Type: "{kind}"\n    Properties:\n      GroupDescription: d\n' \
           '      SecurityGroupIngress:\n        - {{IpProtocol: tcp, FromPort: 3389, ToPort: 3389, CidrIp: 0.0.0.0/0}}\n'


@pytest.mark.parametrize("kind, encoding", [
    ("AWS::EC2::SecurityGroup", "utf-8"),
    ("AWS::EC2::SecurityGroup", "utf-8-sig"),
    ("AWS::EC2::SecurityGroup", "utf-16"),
    ("AWS::EC2::SecurityGroup", "utf-32"),
    ("AWS::EC2::Security\\x47roup", "utf-8"),  # a YAML escape spells the marker
    ("AWS::EC2::Security\\u0047roup", "utf-8"),
], ids=["utf-8", "bom", "utf-16", "utf-32", "x-escape", "u-escape"])
def test_an_encoded_or_escaped_security_group_is_read(kind, encoding):
    data = TEMPLATE.format(kind=kind).encode(encoding)
    result = FORMAT.parse("t.yaml", data)
    assert result is not None
    assert [(p.resource, p.ports.low) for p in result.permissions] == [("Rdp", 3389)], result.errors


def test_utf16_without_a_byte_order_mark_is_an_error_not_a_skip():
    result = FORMAT.parse("t.yaml", TEMPLATE.format(kind=_MARKER).encode("utf-16-le"))
    assert result is not None and not result.permissions
    assert [(e.line, e.message) for e in result.errors] == [(1, "binary file (contains NUL bytes)")]


def test_a_template_without_a_security_group_is_skipped_before_it_is_parsed(monkeypatch):
    import winportlint.nodes

    monkeypatch.setattr(winportlint.nodes, "load", lambda *a, **k: pytest.fail("parsed a file without a group"))
    data = b"Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
    assert FORMAT.parse("t.yaml", data) is None
