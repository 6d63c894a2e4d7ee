// Drives the compiled winportlint client with the stand-ins of this folder (NODE_PATH=api, plus
// client to replace vscode-languageclient): node run.cjs load EXTENSION_JS prints where the client
// library was found; node run.cjs session EXTENSION_JS activates the extension with the settings
// of SETTINGS (JSON), changes them as a user does (one at a time, then two at once) and
// deactivates it, then prints host.log as JSON.
const path = require("path");

async function main() {
  const [mode, file] = process.argv.slice(2);
  const extension = require(file);
  if (mode === "load") {
    const library = require.resolve("vscode-languageclient/node", { paths: [path.dirname(file)] });
    console.log(typeof extension.activate, typeof extension.deactivate, library);
    return;
  }
  const { host } = require("vscode");
  Object.assign(host.settings, JSON.parse(process.env.SETTINGS));
  const change = (name, value) => {
    host.settings[name] = value;
    const event = { affectsConfiguration: (section) => name === section || name.startsWith(`${section}.`) };
    host.listeners.forEach((listener) => listener(event));
  };
  // The stand-ins settle at once: what a change sets off is done before the next macrotask.
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  await extension.activate({ subscriptions: [] });
  change("winportlint.trace.server", "verbose");
  await settled();
  change("winportlint.ignore", ["WPL301"]);
  await settled();
  change("winportlint.path", "missing");
  await settled();
  change("winportlint.path", "winportlint");
  change("winportlint.select", ["WPL2"]); // two changes at once
  await settled();
  await extension.deactivate();
  console.log(JSON.stringify(host.log));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
