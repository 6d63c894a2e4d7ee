"""The language server's latency: from a ``textDocument/didChange`` to the ``publishDiagnostics``
of that version, on a generated CloudFormation template of about 1,000 lines and on one file of
a generated 50-file Terraform module (its module evaluated again with the buffer). cfn-lint's
command on the same template, what its editor extension pays per save, is timed beside it when
installed.

    python benchmarks/lsp_latency.py [--edits 100] [--module-edits 20] [--quick]

The server runs with no debounce (``debounceMilliseconds: 0``), so that the numbers are the
server's work and the protocol's, not the wait for the next keystroke. Run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import cloudformation, terraform  # noqa: E402


class Server:
    """``winportlint lsp`` and the diagnostics it publishes, by URI and version, with the time they came."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "winportlint.cli", "lsp"], cwd=root,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.arrived: dict[tuple[str, int | None], float] = {}
        self.answered = threading.Event()
        self.ready = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self.send({"id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": root.as_uri(), "capabilities": {},
            "initializationOptions": {"debounceMilliseconds": 0}}})
        self.answered.wait(60)
        self.send({"method": "initialized", "params": {}})

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(stream.read(length))
            if message.get("id") == 1:
                self.answered.set()
            if message.get("method") == "textDocument/publishDiagnostics":
                with self.ready:
                    self.arrived[(message["params"]["uri"], message["params"].get("version"))] = time.perf_counter()
                    self.ready.notify_all()

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def latency(self, message: dict, uri: str, version: int | None) -> float:
        """Seconds from sending ``message`` to the diagnostics of ``uri`` at ``version``."""
        with self.ready:
            self.arrived.pop((uri, version), None)
        sent = time.perf_counter()
        self.send(message)
        with self.ready:
            if not self.ready.wait_for(lambda: (uri, version) in self.arrived, timeout=120):
                raise SystemExit(f"no diagnostics for {uri} version {version}")
            return self.arrived[(uri, version)] - sent

    def close(self) -> None:
        self.send({"id": 2, "method": "shutdown"})
        self.send({"method": "exit"})
        self.process.wait(30)


def template(lines: int) -> str:
    """A seeded template of at least ``lines`` lines."""
    groups = 10
    while True:
        text = cloudformation(random.Random(7), groups)
        if text.count("\n") >= lines:
            return text
        groups += 5


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=100, help="changes to the template (default 100)")
    parser.add_argument("--module-edits", type=int, default=20,
                        help="changes to the Terraform module's file (default 20)")
    parser.add_argument("--quick", action="store_true", help="a few edits and saves: checks that it runs")
    args = parser.parse_args()
    edits, module_edits = (5, 2) if args.quick else (args.edits, args.module_edits)
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        (root / ".git").mkdir()
        text = template(1000)
        path = root / "template.yaml"
        path.write_text(text)
        module = root / "module"
        module.mkdir()
        for number in range(50):
            (module / f"f{number:02}.tf").write_text(terraform(random.Random(number), 3, f"f{number:02}"))
        server = Server(root)
        try:
            uri = path.as_uri()
            opened = server.latency({"method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": uri, "languageId": "yaml", "version": 1, "text": text}}}, uri, 1)
            print(f"{text.count(chr(10))}-line template: didOpen -> diagnostics {opened * 1000:.1f} ms")
            samples = []
            for version in range(2, edits + 2):  # each edit flips one rule's CIDR: findings come and go
                text = text.replace("10.0.0.0/8", "0.0.0.0/0", 1) if version % 2 else \
                    text.replace("0.0.0.0/0", "10.0.0.0/8", 1)
                samples.append(server.latency({"method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}},
                    uri, version))
            print(f"  didChange -> publishDiagnostics: {percentiles(samples)}")
            tf = module / "f00.tf"
            tf_uri, tf_text = tf.as_uri(), tf.read_text()
            server.latency({"method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": tf_uri, "languageId": "terraform", "version": 1, "text": tf_text}}}, tf_uri, 1)
            samples = []
            for version in range(2, module_edits + 2):  # a rule's CIDR opened to the world and back
                changed = tf_text.replace("10.0.0.0/8", "0.0.0.0/0", 1) if version % 2 else tf_text
                samples.append(server.latency({"method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": tf_uri, "version": version}, "contentChanges": [{"text": changed}]}},
                    tf_uri, version))
            print(f"50-file Terraform module, one file: didChange -> publishDiagnostics: {percentiles(samples)}")
        finally:
            server.close()
        cfn_lint = shutil.which("cfn-lint")
        if cfn_lint:
            runs = []
            for _ in range(2 if args.quick else 5):
                started = time.perf_counter()
                subprocess.run([cfn_lint, str(path)], capture_output=True)
                runs.append(time.perf_counter() - started)
            print(f"cfn-lint {path.name} (its VS Code extension's cost per save): median "
                  f"{statistics.median(runs) * 1000:.0f} ms over {len(runs)} runs")


if __name__ == "__main__":
    main()
