import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildDemoTemplate, dropDemoTemplate } from './template.js';

/** Newest modification time of the files under `dir` that `keep` accepts (0 when none). */
function newest(dir: string, keep: (file: string) => boolean = () => true): number {
  if (!fs.existsSync(dir)) return 0;
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && keep(e.name))
    .reduce((latest, e) => Math.max(latest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs), 0);
}

const mtime = (file: string) => (fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0);

/**
 * dist/ for the tests that run the compiled `plinth` (*.processes.test.ts), rebuilt when a source is
 * newer than it. Emitted without type checking (`--noCheck`, a third of the CPU of a checked
 * build, the same JavaScript): `npm run typecheck` checks the types, and `npm run build` still
 * builds checked. Skipped when up to date: even a tsc with nothing to do costs seconds of CPU.
 */
function buildDist(): void {
  const buildInfo = 'dist/.tsbuildinfo';
  const sources = Math.max(
    newest('src', (name) => !name.endsWith('.test.ts')),
    mtime('tsconfig.json'),
    mtime('tsconfig.build.json'),
    mtime('package.json'),
  );
  if (sources < mtime(buildInfo)) return;
  const started = performance.now();
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--noCheck'], { stdio: 'inherit' });
  // tsc leaves its build info alone when nothing changed; mark dist/ as checked against these sources.
  const now = new Date();
  if (fs.existsSync(buildInfo)) fs.utimesSync(buildInfo, now, now);
  console.log(`dist/ built in ${Math.round(performance.now() - started)} ms`);
}

/** web/dist/ for the browser tests (test/browser/), rebuilt when a web source is newer than it. */
function buildWeb(): void {
  const webSources = Math.max(newest('web/src'), mtime('web/index.html'), mtime('web/vite.config.ts'));
  if (webSources <= mtime('web/dist/index.html')) return;
  execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    stdio: 'inherit',
    // vitest sets NODE_ENV=test, which would build React's development bundle.
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/**
 * Builds what the files of this run need, and only that: most runs (a module's tests, the fast
 * tier) start no `plinth` process and open no browser. The run's files are vitest's state at
 * this point (an experimental API): should it answer nothing, both are built, as before.
 */
function build(project: TestProject): void {
  const files = project.vitest.state.getPaths().map((file) => file.split(path.sep).join('/'));
  const all = files.length === 0;
  if (all || files.some((file) => file.endsWith('.processes.test.ts'))) buildDist();
  if (all || files.some((file) => file.includes('/test/browser/'))) buildWeb();
}

/** vitest runs this once per project ('sqlite', 'postgres'); the build is needed once per run. */
const state = globalThis as { plinthBuilt?: boolean };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!state.plinthBuilt) {
    build(project);
    state.plinthBuilt = true;
  }
  // The demo state, built once for this project's engine and copied by testPlatform() for each file.
  const engine = project.name === 'postgres' ? 'postgres' : 'sqlite';
  const serverUrl = process.env['TEST_DATABASE_URL'];
  const started = performance.now();
  const template = await buildDemoTemplate(engine, serverUrl);
  console.log(`demo state for ${engine} built in ${Math.round(performance.now() - started)} ms`);
  project.provide('plinthDemoTemplate', template);
  return () => dropDemoTemplate(template, serverUrl);
}
