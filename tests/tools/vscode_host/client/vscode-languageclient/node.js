// A stand-in for vscode-languageclient/node that logs, in the vscode stand-in's host.log, each
// client the extension makes (with the server command and the options it is given) and each
// start and stop. A command named "missing" fails to start, as a command not installed does.
const { host } = require("vscode");

class LanguageClient {
  constructor(id, name, server, options) {
    this.running = false;
    this.command = server.command;
    host.log.push(["new", id, name, server, options]);
  }

  async start() {
    host.log.push(["start", this.command]);
    if (this.command === "missing") {
      throw new Error("spawn missing ENOENT");
    }
    this.running = true;
  }

  isRunning() {
    return this.running;
  }

  async stop() {
    host.log.push(["stop", this.command]);
    this.running = false;
  }
}

module.exports = { LanguageClient };
