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

    def __init__(self, cwd: Path, initialization_options: dict | None = None, folders: list[Path] = (),
                 prelude: str = "", encodings: tuple[str, ...] = ()) -> None:
        env = {**os.environ, "WINPORTLINT_TODAY": TODAY}
        code = f"import sys\n{prelude}\nfrom winportlint.cli import main\nsys.exit(main(['lsp']))\n"
        self.process = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        self.shut_down = False
        #: Messages from the server not yet looked at, and every one received (for what was published).
        self.notifications: list[dict] = []
        self.received: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        folders = list(folders) or [cwd]
        self.request("initialize", {
            "processId": os.getpid(), "rootUri": uri(folders[0]),
            "workspaceFolders": [{"uri": uri(folder), "name": folder.name} for folder in folders],
            "capabilities": {"textDocument": {"publishDiagnostics": {"versionSupport": True},
                                              "codeAction": {"codeActionLiteralSupport": {
                                                  "codeActionKind": {"valueSet": ["quickfix"]}}}},
                             "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": False}},
                             **({"general": {"positionEncodings": list(encodings)}} if encodings else {})},
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
        self.received.append(message)
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
        return [m["params"] for m in self.received if m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri(document)]

    def shutdown(self) -> None:
        """Ask the server to shut down: its answer comes after every message sent before is handled."""
        self.request("shutdown", None)
        self.shut_down = True

    def open(self, document: Path, text: str | None = None, version: int = 1) -> list[dict]:
        text = document.read_text() if text is None else text
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri(document), "languageId": "yaml",
                                                               "version": version, "text": text}})
        return self.diagnostics(document, version)

    def change(self, document: Path, text: str, version: int) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri(document), "version": version},
                                               "contentChanges": [{"text": text}]})

    def close(self) -> None:
        if self.process.stdin.closed:  # closed before
            return
        if self.process.poll() is None:
            if not self.shut_down:
                self.shutdown()
            self.notify("exit", None)
            self.process.wait(timeout=WAIT)
        self.stderr = self.process.stderr.read().decode("utf-8", "replace")
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


RDP_MESSAGE = ("3389/tcp open from 0.0.0.0/0 (the whole internet) on Sg: 3389/tcp RDP (open by default in the "
               "Windows Server 2012 R2 to 2022 AMIs)")


def summary(diagnostics: list[dict]) -> list[tuple]:
    """Each diagnostic's code, range (line, start, end character) and message."""
    return [(d["code"], d["range"]["start"]["line"], d["range"]["start"]["character"], d["range"]["end"]["character"],
             d["message"]) for d in diagnostics]


def test_a_json_template_s_diagnostic_spans_the_quoted_cidr(workspace):
    folder, start = workspace
    template = folder / "t.json"
    template.write_text('{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {\n'
                        '  "GroupDescription": "x", "SecurityGroupIngress": [\n'
                        '    {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"}]}}}}\n')
    client = start()
    assert summary(client.open(template)) == [("WPL101", 2, 70, 81, RDP_MESSAGE)]


def test_a_serverless_service_s_resources_are_checked_in_its_buffer(workspace):
    folder, start = workspace
    service = folder / "serverless.yml"
    service.write_text("service: jump\nprovider:\n  name: aws\n")
    client = start()
    assert client.open(service) == []
    client.change(service, "service: jump\nprovider:\n  name: aws\nresources:\n  Resources:\n" + "".join(
        "  " + line + "\n" for line in RDP.splitlines()[2:]), 2)
    assert summary(client.diagnostics(service, 2)) == [("WPL101", 13, 20, 29, RDP_MESSAGE)]


def test_a_buffer_that_breaks_mid_typing_is_an_input_error_and_no_error_is_left_once_it_is_fixed(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP)
    client = start()
    client.open(template)
    client.change(template, RDP.replace("CidrIp: 0.0.0.0/0", 'CidrIp: "0.0.0.0/0'), 2)
    assert summary(client.diagnostics(template, 2)) == [
        ("input-error", 11, 0, 0, "invalid YAML: found unexpected end of stream")]
    client.change(template, RDP.replace("Resources:", "Resources:\n\x00"), 3)
    assert summary(client.diagnostics(template, 3)) == [
        ("input-error", 2, 0, 1, "binary file (contains NUL bytes)")]
    client.change(template, FIXED, 4)
    assert client.diagnostics(template, 4) == []
    client.change(template, RDP, 5)
    assert summary(client.diagnostics(template, 5)) == [("WPL101", 10, 18, 27, RDP_MESSAGE)]


def test_accept_with_a_reason_inserts_an_exception_to_complete_and_the_diagnostic_goes(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP)
    client = start()
    [diagnostic] = client.open(template)
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri(template)}, "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic]}})
    assert [(action["title"], action["kind"]) for action in actions] == [
        ("Accept WPL101 on Sg: TODO: reason (safe)", "quickfix"),
        ("Remove Sg's rule 3389/tcp from 0.0.0.0/0 (unsafe)", "quickfix")]
    [change] = actions[0]["edit"]["documentChanges"]
    assert change["textDocument"] == {"uri": uri(template), "version": 1}
    assert change["edits"] == [{"range": span(10, 27, 10, 27),
                                "newText": "  # winportlint: ignore[WPL101] until=2027-03-07 TODO: reason"}]
    client.change(template, applied(RDP, change["edits"]), 2)
    assert client.diagnostics(template, 2) == []
    assert template.read_text() == RDP  # the editor applies the edit; the server writes nothing


def test_remove_deletes_the_rule_in_the_buffer_and_the_diagnostic_goes(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP)
    client = start()
    [diagnostic] = client.open(template)
    remove = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri(template)}, "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic]}})[1]
    [change] = remove["edit"]["documentChanges"]
    fixed = applied(RDP, change["edits"])
    assert "3389" not in fixed and "SecurityGroupIngress: []" in fixed
    client.change(template, fixed, 2)
    assert client.diagnostics(template, 2) == []


def test_restrict_is_offered_as_unsafe_when_admin_sources_are_configured_and_ends_the_finding(workspace):
    folder, start = workspace
    (folder / ".winportlint.toml").write_text('[fix]\ncidrs = ["203.0.113.0/24"]\n')
    template = folder / "t.yaml"
    text = RDP.replace("CidrIp: 0.0.0.0/0", 'CidrIp: "0.0.0.0/0"  # é😀')
    template.write_text(text)
    client = start()
    [diagnostic] = client.open(template)
    assert diagnostic["range"] == span(10, 18, 10, 29)
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri(template)}, "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic]}})
    assert [action["title"] for action in actions] == [
        "Restrict 0.0.0.0/0 to 203.0.113.0/24 on Sg (unsafe)", "Accept WPL101 on Sg: TODO: reason (safe)",
        "Remove Sg's rule 3389/tcp from 0.0.0.0/0 (unsafe)"]
    [change] = actions[0]["edit"]["documentChanges"]
    assert change["edits"] == [{"range": span(10, 18, 10, 29), "newText": '"203.0.113.0/24"'}]
    [accept] = actions[1]["edit"]["documentChanges"]
    assert accept["edits"][0]["range"] == span(10, 36, 10, 36)  # after the comment: é is one unit, 😀 two
    client.change(template, applied(text, change["edits"]), 2)
    assert client.diagnostics(template, 2) == []


def test_a_fix_no_edit_can_make_is_a_disabled_action_saying_why(workspace):
    folder, start = workspace
    template = folder / "t.json"
    template.write_text('{"Resources": {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {\n'
                        '  "GroupDescription": "x", "SecurityGroupIngress": [\n'
                        '    {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"}]}}}}\n')
    client = start()
    [diagnostic] = client.open(template)
    action, remove = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri(template)}, "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic]}})
    assert remove["title"] == "Remove Sg's rule 3389/tcp from 0.0.0.0/0 (unsafe)"
    reason = ("Accept WPL101 on Sg: TODO: reason (JSON has no comments: add to Sg's Metadata winportlint: "
              "ignore: [{id: WPL101, reason: ...}])")
    assert action == {"title": reason + " (display-only)", "kind": "quickfix", "diagnostics": [diagnostic],
                      "disabled": {"reason": reason}}


def test_hover_on_a_diagnostic_explains_its_check_as_winportlint_explain_does(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP)
    client = start()
    client.open(template)
    explained = subprocess.run([sys.executable, "-m", "winportlint.cli", "explain", "WPL101"], capture_output=True,
                               text=True, check=True).stdout
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri(template)},
                                                  "position": {"line": 10, "character": 20}})
    assert hover["contents"] == {"kind": "markdown", "value": explained}
    assert client.request("textDocument/hover", {"textDocument": {"uri": uri(template)},
                                                 "position": {"line": 9, "character": 20}}) is None


def test_a_configuration_change_publishes_again_with_the_new_configuration(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP)
    client = start()
    assert len(client.open(template)) == 1
    config = folder / "pyproject.toml"
    config.write_text('[tool.winportlint]\nallow = [{resource = "Sg", ports = "3389", reason = "partner bastion"}]\n')
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": uri(config), "type": 1}]})
    assert client.diagnostics(template, 1) == []
    config.write_text('[tool.winportlint]\nseverity = "loud"\n')
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri(config)}})
    assert summary(client.diagnostics(template, 1)) == [
        ("input-error", 0, 0, 38, "pyproject.toml [tool.winportlint]: severity must be one of info, low, medium, "
                                  "high, critical, not 'loud'")]
    config.unlink()
    client.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": uri(config), "type": 3}]})
    assert summary(client.diagnostics(template, 1)) == [("WPL101", 10, 18, 27, RDP_MESSAGE)]


def test_quick_changes_are_linted_once_for_the_last_version(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(FIXED)
    client = start(initialization_options={"debounceMilliseconds": 2000})
    assert client.open(template) == []
    client.change(template, RDP.replace("CidrIp: 0.0.0.0/0", "CidrIp: [0.0.0.0/0"), 2)
    client.change(template, RDP.replace("CidrIp: 0.0.0.0/0", "CidrIp: ::/0"), 3)
    client.change(template, RDP, 4)
    assert summary(client.diagnostics(template, 4)) == [("WPL101", 10, 18, 27, RDP_MESSAGE)]
    client.shutdown()
    assert [params.get("version") for params in client.published(template)] == [1, 4]


def test_each_workspace_folder_uses_its_own_configuration(tmp_path):
    strict, lax = tmp_path / "strict", tmp_path / "lax"
    for folder in (strict, lax):
        (folder / ".git").mkdir(parents=True)
        (folder / "t.yaml").write_text(RDP)
    (lax / ".winportlint.toml").write_text('ignore = ["WPL101"]\n')
    client = Client(tmp_path, folders=[strict, lax])
    try:
        assert summary(client.open(strict / "t.yaml")) == [("WPL101", 10, 18, 27, RDP_MESSAGE)]
        assert client.open(lax / "t.yaml") == []
    finally:
        client.close()


#: Run before the server: every way out to the network says so on standard error and fails.
NO_NETWORK = """\
import socket
def refuse(*args, **kwargs):
    sys.stderr.write("network used\\n")
    raise OSError("no network")
socket.socket.connect = socket.socket.connect_ex = socket.socket.sendto = refuse
socket.getaddrinfo = socket.create_connection = refuse
"""


def test_a_session_writes_no_file_and_never_uses_the_network(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP)
    before = sorted(path.relative_to(folder) for path in folder.rglob("*"))
    client = start(prelude=NO_NETWORK)
    [diagnostic] = client.open(template)
    client.request("textDocument/codeAction", {"textDocument": {"uri": uri(template)}, "range": diagnostic["range"],
                                               "context": {"diagnostics": [diagnostic]}})
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri(template)}})
    client.diagnostics(template, 1)
    client.close()
    assert "network used" not in client.stderr
    assert sorted(path.relative_to(folder) for path in folder.rglob("*")) == before
    assert template.read_text() == RDP


def test_closing_a_document_clears_its_diagnostics(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP)
    client = start()
    client.open(template)
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri(template)}})
    assert client.diagnostics(template) == []


def test_a_yaml_file_that_is_no_template_has_no_diagnostics(workspace):
    folder, start = workspace
    workflow = folder / "ci.yaml"
    workflow.write_text("on: push\njobs: {}\n")
    assert start().open(workflow) == []


#: A Terraform rule that reads the RDP source from ``var.admin``, declared in another file.
RDP_MODULE = ('resource "aws_security_group" "rdp" {\n  ingress {\n    from_port   = 3389\n    to_port     = 3389\n'
              '    protocol    = "tcp"\n    cidr_blocks = [var.admin]\n  }\n}\n')


def test_a_terraform_module_is_linted_on_open_and_on_save_with_its_other_files(workspace):
    folder, start = workspace
    (folder / "variables.tf").write_text('variable "admin" {\n  default = "0.0.0.0/0"\n}\n')
    main = folder / "main.tf"
    main.write_text(RDP_MODULE)
    client = start()
    [diagnostic] = client.open(main)
    assert (diagnostic["code"], diagnostic["range"]) == ("WPL101", span(5, 4, 5, 15))
    (folder / "variables.tf").write_text('variable "admin" {\n  default = "10.0.0.0/8"\n}\n')
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri(main)}})
    assert client.diagnostics(main, 1) == []


def test_a_terraform_module_spread_over_open_buffers_and_files_is_linted_as_the_editor_holds_it(workspace):
    """The variable's default changes in an unsaved buffer of variables.tf: the rule in main.tf
    (open too, and on disk) gets its diagnostic from the buffer, and loses it when the buffer
    is set back, with nothing saved."""
    folder, start = workspace
    variables = folder / "variables.tf"
    variables.write_text('variable "admin" {\n  default = "10.0.0.0/8"\n}\n')
    main = folder / "main.tf"
    main.write_text(RDP_MODULE)
    client = start()
    assert client.open(main) == []
    assert client.open(variables) == []
    client.change(variables, 'variable "admin" {\n  default = "0.0.0.0/0"\n}\n', 2)
    [diagnostic] = client.diagnostics(main)
    assert (diagnostic["code"], diagnostic["range"]) == ("WPL101", span(5, 4, 5, 15))
    assert variables.read_text() == 'variable "admin" {\n  default = "10.0.0.0/8"\n}\n'
    client.change(variables, 'variable "admin" {\n  default = "10.0.0.0/8"\n}\n', 3)
    assert client.diagnostics(main) == []


def test_a_tfvars_buffer_sets_the_modules_variable_before_it_is_saved(workspace):
    folder, start = workspace
    (folder / "variables.tf").write_text('variable "admin" {\n  type = string\n}\n')
    tfvars = folder / "terraform.tfvars"
    tfvars.write_text('admin = "10.0.0.0/8"\n')
    main = folder / "main.tf"
    main.write_text(RDP_MODULE)
    client = start()
    assert client.open(main) == []
    assert client.open(tfvars) == []
    client.change(tfvars, 'admin = "0.0.0.0/0"\n', 2)
    [diagnostic] = client.diagnostics(main)
    assert (diagnostic["code"], diagnostic["range"]) == ("WPL101", span(5, 4, 5, 15))


def test_related_information_names_the_parameter_and_the_instance_the_group_protects(workspace):
    folder, start = workspace
    template = folder / "jump.yaml"
    template.write_text((Path(__file__).parents[1] / "examples" / "vulnerable" / "rdp-jump-host.yaml").read_text())
    client = start()
    first = client.open(template)[0]
    assert first["range"] == span(27, 18, 27, 32)  # !Ref AdminCidr
    assert [(info["location"]["range"]["start"]["line"], info["message"]) for info in first["relatedInformation"]] \
        == [(17, "AWS::EC2::SecurityGroup JumpHostSecurityGroup"), (23, "the rule"),
            (7, "CidrIp from parameter AdminCidr default"), (34, "protects AWS::EC2::Instance JumpHost (windows)")]


def test_info_findings_are_shown_as_information_when_the_configuration_asks_for_them(workspace):
    folder, start = workspace
    (folder / ".winportlint.toml").write_text('severity = "info"\n')
    template = folder / "t.yaml"
    template.write_text("Parameters:\n  Admin:\n    Type: String\n" + RDP.replace("0.0.0.0/0", "!Ref Admin"))
    client = start()
    assert [(d["code"], d["severity"], d["range"]) for d in client.open(template)] == [
        ("WPL001", 3, span(13, 18, 13, 28))]


def test_a_configuration_that_is_not_toml_is_an_input_error_not_a_crash(workspace):
    folder, start = workspace
    (folder / "pyproject.toml").write_text("[tool.winportlint\n")
    template = folder / "t.yaml"
    template.write_text(RDP)
    client = start()
    [diagnostic] = client.open(template)
    assert (diagnostic["code"], diagnostic["severity"], diagnostic["message"].split(": invalid TOML:")[0]) == (
        "input-error", 1, "pyproject.toml")
    untitled = "untitled:Untitled-1"  # a buffer with no file: nothing to lint, no failure
    client.notify("textDocument/didOpen", {"textDocument": {"uri": untitled, "languageId": "yaml", "version": 1,
                                                            "text": RDP}})
    client.notify("textDocument/didChange", {"textDocument": {"uri": untitled, "version": 2},
                                             "contentChanges": [{"text": FIXED}]})
    assert client.request("textDocument/hover", {"textDocument": {"uri": untitled},
                                                 "position": {"line": 10, "character": 20}}) is None
    assert [m for m in client.received if m.get("method") == "window/showMessage"] == []


def test_a_crlf_buffer_s_ranges_and_edits_stay_on_their_lines(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    text = RDP.replace("\n", "\r\n")
    template.write_bytes(text.encode())
    client = start()
    [diagnostic] = client.open(template, text)
    assert diagnostic["range"] == span(10, 18, 10, 27)
    action = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri(template)}, "range": diagnostic["range"],
        "context": {"diagnostics": [diagnostic]}})[0]
    [change] = action["edit"]["documentChanges"]
    assert [edit["range"] for edit in change["edits"]] == [span(10, 27, 10, 27)]  # before the \r\n
    client.change(template, applied(text, change["edits"]), 2)
    assert client.diagnostics(template, 2) == []


def test_a_fifo_in_a_terraform_module_is_an_error_on_the_file_opened_and_blocks_nothing(workspace):
    folder, start = workspace
    main = folder / "main.tf"
    main.write_text('resource "aws_security_group" "g" {\n  name = "g"\n}\n')
    os.mkfifo(folder / "planted.tf")  # a reader that opened it would wait forever
    client = start()
    assert summary(client.open(main)) == [
        ("input-error", 0, 0, 35, f"{folder / 'planted.tf'}: not a regular file (a FIFO, socket or device); its "
                                  f"folder is not read")]


@pytest.mark.parametrize(("encoding", "start", "end"), [("utf-16", 39, 48), ("utf-8", 42, 51), ("utf-32", 38, 47)])
def test_positions_are_counted_in_the_encoding_the_client_prefers(workspace, encoding, start, end):
    folder, begin = workspace
    template = folder / "t.yaml"
    text = RDP.replace("        - IpProtocol: tcp\n          FromPort: 3389\n          ToPort: 3389\n"
                       "          CidrIp: 0.0.0.0/0\n",
                       '        - {Description: "é😀", CidrIp: 0.0.0.0/0, IpProtocol: tcp, FromPort: 3389, ToPort: 3389}\n')
    template.write_text(text)
    client = begin(encodings=(encoding,))
    [diagnostic] = client.open(template)
    assert diagnostic["range"] == span(7, start, 7, end)


RDP_AND_SMB = RDP + """\
        - IpProtocol: tcp
          FromPort: 445
          ToPort: 445
          CidrIp: 0.0.0.0/0
"""


def test_the_editor_s_select_and_ignore_replace_the_configuration_file_s_as_on_the_command_line(workspace):
    folder, start = workspace
    (folder / ".winportlint.toml").write_text('ignore = ["WPL101"]\n')
    template = folder / "t.yaml"
    template.write_text(RDP_AND_SMB)
    assert [d["code"] for d in start().open(template)] == ["WPL102"]
    client = start(initialization_options={"select": "wpl101, WPL102", "ignore": [" wpl102"]})
    assert summary(client.open(template)) == [("WPL101", 10, 18, 27, RDP_MESSAGE)]


def test_a_check_id_the_editor_names_that_does_not_exist_is_an_error_on_each_file_until_corrected(workspace):
    folder, start = workspace
    template, other = folder / "t.yaml", folder / "other.yaml"
    template.write_text(RDP)
    other.write_text(FIXED)
    client = start(initialization_options={"select": ["WPL101", "WPL999"]})
    error = [("input-error", 0, 0, 38,
              "editor setting winportlint.select: no check id starts with 'WPL999' (see 'winportlint rules')")]
    assert summary(client.open(template)) == error
    assert summary(client.open(other)) == error
    client.notify("workspace/didChangeConfiguration", {"settings": {"winportlint": {"ignore": 101}}})
    assert summary(client.diagnostics(template, 1)) == [
        ("input-error", 0, 0, 38, "editor setting winportlint.ignore must be a list of check ids, not '101'")]
    client.notify("workspace/didChangeConfiguration", {"settings": {"winportlint": ["WPL101"]}})
    assert summary(client.diagnostics(template, 1)) == [
        ("input-error", 0, 0, 38, "the editor's winportlint settings must be an object, not '[\"WPL101\"]'")]
    client.notify("workspace/didChangeConfiguration", {"settings": {"winportlint": {"select": ["WPL1"]}}})
    assert summary(client.diagnostics(template, 1)) == [("WPL101", 10, 18, 27, RDP_MESSAGE)]
    assert client.diagnostics(other, 1) == []


def test_a_check_id_the_configuration_file_names_that_does_not_exist_is_the_command_line_s_error(workspace):
    folder, start = workspace
    (folder / ".winportlint.toml").write_text('ignore = ["WPL999"]\n')
    template = folder / "t.yaml"
    template.write_text(RDP)
    assert summary(start().open(template)) == [
        ("input-error", 0, 0, 38, ".winportlint.toml: ignore: no check id starts with 'WPL999' (see 'winportlint rules')")]


def test_a_setting_the_server_does_not_know_is_logged_and_the_others_apply(workspace):
    folder, start = workspace
    template = folder / "t.yaml"
    template.write_text(RDP_AND_SMB)
    client = start(initialization_options={"ignore": ["WPL101"], "selct": ["WPL101"]})
    assert [d["code"] for d in client.open(template)] == ["WPL102"]
    assert [m["params"] for m in client.received if m.get("method") == "window/logMessage"] == [
        {"type": 2, "message": "winportlint: unknown settings ignored: 'selct' (known: debounceMilliseconds, "
                               "select, ignore)"}]
