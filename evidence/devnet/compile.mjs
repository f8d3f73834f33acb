// Compile every Solidity file in a directory with solcjs (npm "solc") into one JSON file per
// contract: {contractName, abi, bytecode, solcVersion}. Python reads these at run time, so no
// compiler is needed outside development.
//   node evidence/devnet/compile.mjs [SOURCE_DIR] [OUT_DIR]
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");
const here = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = path.resolve(process.argv[2] ?? path.join(here, "contracts"));
const outDir = path.resolve(process.argv[3] ?? path.join(here, "build"));

const sources = {};
for (const name of fs.readdirSync(sourceDir).filter((f) => f.endsWith(".sol")).sort()) {
  sources[name] = { content: fs.readFileSync(path.join(sourceDir, name), "utf8") };
}
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "paris",
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors ?? []).filter((e) => e.severity === "error");
for (const e of output.errors ?? []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);
fs.mkdirSync(outDir, { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, c] of Object.entries(contracts)) {
    const artefact = { contractName: name, sourceFile: file, solcVersion: solc.version(), abi: c.abi, bytecode: "0x" + c.evm.bytecode.object };
    fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(artefact, null, 2) + "\n");
    console.log(`compiled ${name} -> ${path.relative(process.cwd(), path.join(outDir, name + ".json"))}`);
  }
}
