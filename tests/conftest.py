"""Shared test helpers: run the real engine with the installed plugins."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck

from winportlint import engine
from winportlint.catalog import load_catalog
from winportlint.plugin_manager import load_plugins

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"

#: Deterministic in CI: examples come from a seed derived from the test, and no example
#: database carries failures over from another run (a failure is reproduced by its printed
#: example; add it as an ``@example`` when it is a regression).
DETERMINISTIC = {"derandomize": True, "database": None, "deadline": None, "print_blob": True,
                 "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


def lint(paths, select=(), catalog_files=()):
    """Findings (all severities) and errors of the selected checks (default: those on by default)."""
    plugins = load_plugins()
    assert not plugins.warnings, plugins.warnings
    selection = engine.Selection(tuple(select))
    checks = [check for check in plugins.checks if selection.enabled(check)]
    catalog = load_catalog(tuple(str(f) for f in catalog_files))
    return engine.run([str(p) for p in paths], plugins.formats, checks, catalog)


def write_files(folder: Path, files: dict[str, str]) -> Path:
    """Write ``{relative name: text}`` below the folder (subfolders made); the folder."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def check_folder(folder: Path, capsys, *extra: str) -> tuple[int, list[str], list[str]]:
    """Exit code, finding lines and error lines of ``winportlint check --no-cache [extra] .``
    run inside the folder (paths in the output are relative to it)."""
    import os

    from winportlint.cli import main

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code = main(["check", "--no-cache", *extra, "."])
    finally:
        os.chdir(cwd)
    lines = capsys.readouterr().out.splitlines()
    return code, [l for l in lines if ": WPL" in l], [l for l in lines if ": error: " in l]


def finding_rows(findings):
    """The identity of each finding a test asserts on."""
    return [
        {
            "rule_id": f.rule_id,
            "resource": f.permission.resource,
            "protocol": f.permission.protocol,
            "from_port": f.permission.ports.low if f.permission.ports else None,
            "to_port": f.permission.ports.high if f.permission.ports else None,
            "cidr": f.permission.peer.text,
            "line": f.location.line,
            "column": f.location.column,
        }
        for f in findings
    ]


class NetworkUse(AssertionError):
    """Raised when code under test opens an internet socket."""


@pytest.fixture(autouse=True, scope="session")
def _no_network():
    """No test may reach the network: internet sockets refuse to connect in this process.
    (.ci/run also runs the whole suite in a network namespace, which covers subprocesses.)"""
    import socket

    original = {"connect": socket.socket.connect, "connect_ex": socket.socket.connect_ex}

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkUse(f"a test tried to connect to {address}")
        return original["connect"](sock, address)

    def connect_ex(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            raise NetworkUse(f"a test tried to connect to {address}")
        return original["connect_ex"](sock, address)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    yield
    socket.socket.connect, socket.socket.connect_ex = original["connect"], original["connect_ex"]


@pytest.fixture(autouse=True)
def _own_result_cache(tmp_path_factory, monkeypatch):
    """Each test starts with an empty result cache of its own, never the user's (nor the user's key)."""
    monkeypatch.setenv("WINPORTLINT_CACHE_DIR", str(tmp_path_factory.mktemp("result-cache")))
    monkeypatch.setenv("WINPORTLINT_CACHE_KEY", "test key " + "k" * 32)


requires_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the shared corpus is not beside this checkout ({CORPUS} is absent)"
)


def make_permission(file: str, line: int, column: int, resource: str, protocol: str, ports, cidr: str):
    """A hand-made ingress Permission, for reporter tests."""
    from ipaddress import ip_network

    from winportlint.model import Direction, Location, Peer, Permission

    return Permission(
        resource=resource,
        resource_type="AWS::EC2::SecurityGroup",
        group=resource,
        direction=Direction.INGRESS,
        protocol=protocol,
        ports=ports,
        peer=Peer("cidr", cidr, ip_network(cidr)),
        location=Location(file, line, column),
        rule_location=Location(file, max(line - 2, 0), column),
    )


def make_finding(rule_id: str, severity, message: str, permission):
    from winportlint.model import Finding, fingerprint

    return Finding(rule_id, severity, message, permission, (), fingerprint(rule_id, permission))


#: A Terraform security group that opens RDP to the world (a finding at line 6, column 20).
RDP_GROUP_TF = """resource "aws_security_group" "rdp" {
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


def rdp_group_finding(path: str) -> str:
    """The text line of :data:`RDP_GROUP_TF`'s finding in the file at ``path``."""
    return (f"{path}:6:20: WPL101 critical 3389/tcp open from 0.0.0.0/0 (the whole internet) on "
            "aws_security_group.rdp: 3389/tcp RDP (open by default in the Windows Server 2012 R2 to 2022 AMIs)")


@pytest.fixture
def fix_project(tmp_path, monkeypatch):
    """The current folder for ``winportlint fix`` tests: admin source 203.0.113.0/24 configured, a
    fixed day (exceptions' dates are judged on it)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WINPORTLINT_TODAY", "2026-11-10")
    (tmp_path / "pyproject.toml").write_text('[tool.winportlint.fix]\ncidrs = ["203.0.113.0/24"]\n')
    return tmp_path
