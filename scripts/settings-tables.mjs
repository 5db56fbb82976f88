#!/usr/bin/env node
// The READMEs' settings tables, made from the settings each program declares (its README_TABLES):
// `node scripts/settings-tables.mjs --write` rewrites them, `--check` (the default) exits 1 and
// names each README whose table differs. It reads the built packages: run `npm run build` first.
// The same comparison runs in each program's config test.
import { readFileSync, writeFileSync } from 'node:fs';
import { withReadmeTables } from '../packages/settings/dist/index.js';

const root = new URL('..', import.meta.url);

/** Each README and the built module whose README_TABLES it shows. */
const READMES = [
  { readme: 'packages/agent/README.md', module: '../packages/agent/dist/config.js' },
  { readme: 'README.md', module: '../packages/server/dist/settings.js' },
  { readme: 'packages/client/README.md', module: '../packages/client/dist/cli/config.js' },
];

const mode = process.argv[2] ?? '--check';
if (mode !== '--check' && mode !== '--write') {
  console.error('usage: node scripts/settings-tables.mjs [--check | --write]');
  process.exit(2);
}

let differing = 0;
for (const { readme, module } of READMES) {
  const { README_TABLES } = await import(module);
  const path = new URL(readme, root);
  const current = readFileSync(path, 'utf8');
  const generated = withReadmeTables(current, README_TABLES);
  if (generated === current) continue;
  if (mode === '--write') {
    writeFileSync(path, generated);
    console.log(`settings-tables: wrote ${readme}`);
  } else {
    differing += 1;
    console.error(`settings-tables: ${readme} differs from its declared settings (run: node scripts/settings-tables.mjs --write)`);
  }
}
process.exit(differing === 0 ? 0 : 1);
