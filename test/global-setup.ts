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
 * The CLI tests run the compiled `plinth` command, so dist/ must match the sources; the browser
 * tests load the built web apps, so web/dist/ is rebuilt when a web source is newer than it.
 * Each is skipped when already up to date (as after `npm ci`, whose prepare script builds both):
 * even an incremental tsc with nothing to do costs about 5 s of CPU.
 */
function build(): void {
  const buildInfo = 'dist/.tsbuildinfo';
  const sources = Math.max(
    newest('src', (name) => !name.endsWith('.test.ts')),
    mtime('tsconfig.json'),
    mtime('tsconfig.build.json'),
    mtime('package.json'),
  );
  if (sources >= mtime(buildInfo)) {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
    // tsc leaves its build info alone when nothing changed; mark dist/ as checked against these sources.
    const now = new Date();
    if (fs.existsSync(buildInfo)) fs.utimesSync(buildInfo, now, now);
  }
  const built = mtime('web/dist/index.html');
  const webSources = Math.max(newest('web/src'), mtime('web/index.html'), mtime('web/vite.config.ts'));
  if (webSources > built) execFileSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
      stdio: 'inherit',
      // vitest sets NODE_ENV=test, which would build React's development bundle.
      env: { ...process.env, NODE_ENV: 'production' },
    });
}

/** vitest runs this once per project ('sqlite', 'postgres'); the build is needed once per run. */
const state = globalThis as { plinthBuilt?: boolean };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!state.plinthBuilt) {
    build();
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
