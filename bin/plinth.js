#!/usr/bin/env node
// The `plinth` command. The TypeScript sources are compiled to dist/ by `npm run build`, which `npm start` runs first (prestart).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('plinth: dist/ is missing; run `npm run build` (npm start does it for you).');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
