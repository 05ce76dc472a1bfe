// Idle memory, as an operator sees it: `node bin/plinth.js start` with the flags of `npm start`
// on a fresh DATA_DIR (and for PostgreSQL a fresh database), left alone for BENCH_IDLE seconds
// (default 60) after it answers /health/ready; its RSS is sampled every 5 s and read at the end.
// Then the same process is stopped and started again on the same data (a restart: no migrations,
// no seeding) and measured the same way. Goal (goals.js): the first start under 150 MB.

import { CONFIG, mb, say, sleep } from './harness/config.js';
import { forEachDatabase } from './harness/postgres.js';
import { startPlinth } from './harness/plinth.js';
import { memoryOf, stopChild } from './harness/processes.js';

const SAMPLE_SECONDS = 5;

/** Starts Plinth, samples its RSS while it idles, stops it. */
async function idleStart({ name, databaseUrl, dataDir }) {
  const plinth = await startPlinth({ name, databaseUrl, dataDir });
  const samples = [];
  for (let second = 0; ; second += SAMPLE_SECONDS) {
    if (plinth.entry.exited) throw new Error(`${name} exited (${plinth.entry.exitCode}) while idle`);
    samples.push(memoryOf(plinth.entry.child.pid).rss);
    if (second >= CONFIG.idle) break;
    await sleep(Math.min(SAMPLE_SECONDS, CONFIG.idle - second) * 1000);
  }
  const end = memoryOf(plinth.entry.child.pid);
  await stopChild(plinth.entry);
  return { readyMs: plinth.readyMs, dataDir: plinth.env.DATA_DIR, samples, end };
}

async function run() {
  const rows = await forEachDatabase(async ({ db, label, databaseUrl }) => {
    const first = await idleStart({ name: `plinth-memory-${db}`, databaseUrl });
    say(`bench: [${label}] memory: first start idle ${CONFIG.idle} s: RSS ${mb(first.end.rss)} MB`);
    const restart = await idleStart({ name: `plinth-memory-${db}-restart`, databaseUrl, dataDir: first.dataDir });
    say(`bench: [${label}] memory: restart idle ${CONFIG.idle} s: RSS ${mb(restart.end.rss)} MB`);
    return { db, label, first, restart };
  });
  const line = (label, start, r) =>
    `| ${label} | ${start} | ${(r.readyMs / 1000).toFixed(1)} | ${mb(r.samples[0])} | ${mb(Math.max(...r.samples))} | **${mb(r.end.rss)}** | ${mb(r.end.anon)} | ${mb(r.end.file)} | ${mb(r.end.hwm)} |`;
  const markdown = [
    `\`node bin/plinth.js start\` with the flags of \`npm start\`, idle ${CONFIG.idle} s after /health/ready answered; RSS sampled every ${SAMPLE_SECONDS} s (VmRSS; anonymous and file-backed parts, VmHWM, at the end). ` +
      'First start: a fresh DATA_DIR (and database), so migrations and seeding are included. Restart: the same data, started again.',
    '',
    `| database | start | ready after s | RSS at ready MB | highest while idle MB | RSS after ${CONFIG.idle} s MB | anonymous MB | file-backed MB | peak (VmHWM) MB |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.flatMap((r) => [line(r.label, 'first', r.first), line(r.label, 'restart', r.restart)]),
    '',
  ].join('\n');
  return { markdown, byDatabase: Object.fromEntries(rows.map((r) => [r.db, r])), problems: [] };
}

export default { name: 'memory', title: 'Idle memory', run };
