// The winportlint extension: starts `winportlint lsp` over stdio and hands it the documents that
// can hold a template, a Terraform module or a Serverless service. The server does the linting,
// the fixes and the hovers; this client only says which command to run and with which settings.

import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions } from "vscode-languageclient/node";

const SECTION = "winportlint";
// The settings the server reads, sent as its initializationOptions (the names of OPTIONS in
// linter/lsp/server.py). Changing one, or winportlint.path, restarts the server;
// winportlint.trace.server is applied by the client as it changes.
const SERVER_OPTIONS = ["debounceMilliseconds", "select", "ignore"];

// The documents the server is given: by language where an extension names it (Terraform's and
// HCL's are HashiCorp's), and by name for the Terraform, OpenTofu and CloudFormation files opened
// without one. package.json's activationEvents name the same (tests/test_vscode_extension.py).
const LANGUAGES = ["yaml", "json", "jsonc", "terraform", "terraform-vars", "hcl"];
const PATTERNS = [
  "**/*.tf",
  "**/*.tf.json",
  "**/*.tofu",
  "**/*.tofu.json",
  "**/*.tfvars",
  "**/*.tfvars.json",
  "**/terragrunt.hcl",
  "**/*.template",
];
const DOCUMENTS = [
  ...LANGUAGES.map((language) => ({ scheme: "file", language })),
  ...PATTERNS.map((pattern) => ({ scheme: "file", pattern })),
];

let client: LanguageClient | undefined;
// Starts and stops run one after the other: a client can only be stopped once it has started,
// and settings changed twice in a row must not leave two servers running.
let steps: Promise<void> = Promise.resolve();

function then(step: () => Promise<void>): Promise<void> {
  steps = steps.then(step, step);
  return steps;
}

function create(): LanguageClient {
  const settings = vscode.workspace.getConfiguration(SECTION);
  const server: ServerOptions = { command: settings.get<string>("path") || "winportlint", args: ["lsp"] };
  const options: LanguageClientOptions = {
    documentSelector: DOCUMENTS,
    initializationOptions: Object.fromEntries(SERVER_OPTIONS.map((name) => [name, settings.get(name)])),
  };
  return new LanguageClient(SECTION, "winportlint", server, options);
}

async function start(): Promise<void> {
  client = create();
  try {
    await client.start();
  } catch (error) {
    const command = vscode.workspace.getConfiguration(SECTION).get<string>("path");
    void vscode.window.showErrorMessage(
      `winportlint: '${command} lsp' did not start (${error}). Install it with pip install 'winportlint[lsp]' ` +
        "or set winportlint.path to the command.",
    );
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running?.isRunning()) {
    await running.stop();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (["path", ...SERVER_OPTIONS].some((name) => event.affectsConfiguration(`${SECTION}.${name}`))) {
        void then(async () => {
          await stop();
          await start();
        });
      }
    }),
  );
  await then(start);
}

export function deactivate(): Promise<void> {
  return then(stop);
}
