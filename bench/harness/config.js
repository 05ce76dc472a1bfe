// The bench's settings (environment knobs, read once) and the small helpers every suite uses.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function numberEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

function databasesEnv() {
  const raw = process.env.BENCH_DATABASES || 'sqlite,postgres';
  const list = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const db of list)
    if (db !== 'sqlite' && db !== 'postgres') throw new Error(`BENCH_DATABASES: unknown database "${db}" (sqlite, postgres)`);
  return list;
}

export const CONFIG = {
  // The HTTP suites (mdms, login, idgen, workflow, complaints).
  duration: numberEnv('BENCH_DURATION', 10),
  rounds: Math.round(numberEnv('BENCH_ROUNDS', 3)),
  warmup: numberEnv('BENCH_WARMUP', 2),
  connections: Math.round(numberEnv('BENCH_CONNECTIONS', 50)),
  pipelining: 1,
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  // The memory suite.
  idle: numberEnv('BENCH_IDLE', 60),
  // The individual suite.
  individuals: Math.round(numberEnv('BENCH_INDIVIDUALS', 100_000)),
  individualBatch: Math.round(numberEnv('BENCH_BATCH', 500)),
  // Every suite that uses a database.
  databaseUrl: process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  databases: databasesEnv(),
};

/** Lines about the whole run (e.g. PostgreSQL skipped), printed at the end and written to latest.md. */
export const notes = [];

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Progress goes to stderr; the tables go to stdout. */
export const say = (line) => process.stderr.write(`${line}\n`);
export const pct = (ratio) => `${(ratio * 100).toFixed(1)}%`;
export const mb = (kb) => (kb / 1024).toFixed(1);

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
