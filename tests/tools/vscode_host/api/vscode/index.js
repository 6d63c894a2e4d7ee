// A stand-in for the API that VS Code hands an extension, enough to load and activate the
// winportlint client: the settings are host.settings, the configuration listeners are kept in
// host.listeners for the test to call, and what the extension shows is logged in host.log.
// Anything else it is asked for is an empty class, so that vscode-languageclient loads.
const host = { settings: {}, listeners: [], log: [] };

const api = {
  host,
  workspace: {
    getConfiguration: (section) => ({
      get: (name, fallback) => {
        const value = host.settings[`${section}.${name}`];
        return value === undefined ? fallback : value;
      },
    }),
    onDidChangeConfiguration: (listener) => {
      host.listeners.push(listener);
      return { dispose() {} };
    },
  },
  window: {
    showErrorMessage: async (message) => {
      host.log.push(["showErrorMessage", message]);
    },
  },
};

module.exports = new Proxy(api, { get: (target, name) => (name in target ? target[name] : class {}) });
