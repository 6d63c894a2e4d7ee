"""``winportlint lsp`` driven by a real client over stdio: the server is started as an editor starts
it, and every exchange is a JSON-RPC message (Content-Length framing) read back by a reader thread."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import pytest

pytest.importorskip("pygls", reason="the language server needs the lsp extra (pip install 'winportlint[lsp]')")

#: Seconds a message may take to come (a generous bound for a loaded machine, never a measure).
WAIT = 60
TODAY = "2026-12-07"
DOCS = "https://github.com/winportlint/winportlint/blob/main/docs/rules.md#"

RDP = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Sg:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: admin
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 3389
          ToPort: 3389
          CidrIp: 0.0.0.0/0
"""
FIXED = RDP.replace("0.0.0.0/0", "203.0.113.0/24")


class Client:
    """A language client over the server's standard input and output."""

    def __init__(self, cwd: Path, initialization_options: dict | None = None, folders: list[Path] = ()) -> None:
        env = {**os.environ, "WINPORTLINT_TODAY": TODAY}
        self.process = subprocess.Popen([sys.executable, "-m", "winportlint.cli", "lsp"], cwd=cwd, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        self.notifications: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        folders = list(folders) or [cwd]
        self.request("initialize", {
            "processId": os.getpid(), "rootUri": uri(folders[0]),
            "workspaceFolders": [{"uri": uri(folder), "name": folder.name} for folder in folders],
            "capabilities": {"textDocument": {"publishDiagnostics": {"versionSupport": True},
                                              "codeAction": {"codeActionLiteralSupport": {
                                                  "codeActionKind": {"valueSet": ["quickfix"]}}}},
                             "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": False}}},
            "initializationOptions": initialization_options or {}})
        self.notify("initialized", {})

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            self.messages.put(json.loads(stream.read(int(headers["content-length"]))))

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def next_message(self) -> dict:
        try:
            message = self.messages.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"no message from the server in {WAIT} s") from None
        assert message is not None, f"the server ended: {self.process.stderr.read().decode()}"
        return message

    def request(self, method: str, params: dict):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.next_message()
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message
                return message["result"]
            self.notifications.append(message)

    def diagnostics(self, document: Path, version: int | None = None) -> list[dict]:
        """The next diagnostics published for the document (for its ``version`` when given)."""
        while True:
            for index, message in enumerate(self.notifications):
                params = message.get("params") or {}
                if message.get("method") == "textDocument/publishDiagnostics" and params["uri"] == uri(document) \
                        and (version is None or params.get("version") == version):
                    del self.notifications[:index + 1]
                    return params["diagnostics"]
            self.notifications.append(self.next_message())

    def published(self, document: Path) -> list[dict]:
        """Every publication for the document received so far, in order."""
        return [m["params"] for m in self.notifications if m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri(document)]

    def open(self, document: Path, text: str | None = None, version: int = 1) -> list[dict]:
        text = document.read_text() if text is None else text
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri(document), "languageId": "yaml",
                                                               "version": version, "text": text}})
        return self.diagnostics(document, version)

    def change(self, document: Path, text: str, version: int) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri(document), "version": version},
                                               "contentChanges": [{"text": text}]})

    def close(self) -> None:
        if self.process.poll() is None:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=WAIT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()


def uri(path: Path) -> str:
    return "file://" + quote(str(path))


@pytest.fixture
def workspace(tmp_path):
    """A workspace folder (a git repository's top) and a client started in it."""
    (tmp_path / ".git").mkdir()
    clients = []

    def start(**options) -> Client:
        clients.append(Client(tmp_path, **options))
        return clients[-1]

    yield tmp_path, start
    for client in clients:
        client.close()


def applied(text: str, edits: list[dict]) -> str:
    """The text with LSP text edits made (UTF-16 positions, as the server was asked for)."""
    lines = text.splitlines(keepends=True)

    def offset(position: dict) -> int:
        line = lines[position["line"]] if position["line"] < len(lines) else ""
        before = line.encode("utf-16-le")[:2 * position["character"]].decode("utf-16-le")
        return sum(map(len, lines[:position["line"]])) + len(before)

    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                       reverse=True):
        text = text[:offset(edit["range"]["start"])] + edit["newText"] + text[offset(edit["range"]["end"]):]
    return text


def span(start_line: int, start: int, end_line: int, end: int) -> dict:
    return {"start": {"line": start_line, "character": start}, "end": {"line": end_line, "character": end}}


def test_an_open_rdp_rule_is_a_diagnostic_at_its_cidr_and_goes_when_the_buffer_is_fixed(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP)
    client = start()
    [diagnostic] = client.open(template)
    assert diagnostic == {
        "range": span(10, 18, 10, 27),
        "message": "3389/tcp open from 0.0.0.0/0 (the whole internet) on Sg: 3389/tcp RDP (open by default in "
                   "the Windows Server 2012 R2 to 2022 AMIs)",
        "severity": 1,
        "code": "WPL101",
        "codeDescription": {"href": DOCS + "wpl101"},
        "source": "winportlint",
        "relatedInformation": [
            {"location": {"uri": uri(template), "range": span(2, 2, 2, 4)},
             "message": "AWS::EC2::SecurityGroup Sg"},
            {"location": {"uri": uri(template), "range": span(7, 10, 7, 20)}, "message": "the rule"}],
        "data": {"finding": 0},
    }
    client.change(template, FIXED, 2)  # unsaved: the file on disk still opens RDP
    assert client.diagnostics(template, 2) == []
