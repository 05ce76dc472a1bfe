// Event delivery benchmark (the `events` suite): `npm run bench -- events`, or alone
// `npm run build && node bench/events.js`.
//
// Measures events from commit to handler through the real kernel (dist/): the outbox append in a
// transaction, then the dispatcher — in-process, and through NATS JetStream when it answers — to a
// subscriber that records when it ran. For each database (SQLite always; PostgreSQL when a server
// is given) and each bus, on a fresh database:
//
//   1. baseline  `count` events appended and committed, one transaction per event, by
//                `producers` concurrent writers, into a second database of the same kind where
//                no dispatcher runs: the commit rate alone.
//   2. burst     the same writes into the database whose dispatcher runs; throughput = events /
//                (time from the first commit to the last handler run); ratio = burst / baseline
//                (1.0 would mean delivery costs the writers nothing and keeps up with them).
//                Baseline and burst alternate for `rounds` rounds; the table shows medians.
//   3. paced     `pacedCount` events at `pacedRate` per second (one writer): the latency from
//                commit (the transaction's promise resolved) to the handler starting, p50/p90/p99/max.
//
// Every run checks that each event reached the handler exactly once; a miss or a double makes the
// run invalid (exit code 1 from run.js).
//
// Knobs: BENCH_EVENTS (default 20000), BENCH_EVENT_PRODUCERS (4), BENCH_EVENT_RATE (200/s), BENCH_EVENT_ROUNDS (3),
// BENCH_EVENT_PACED (3000), BENCH_NATS_URL (nats://127.0.0.1:4222), BENCH_DATABASE_URL.

import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { CONFIG, numberEnv, say } from './harness/config.js';
import { postgresServer } from './harness/postgres.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPE = 'plinth.bench.happened.v1';
const SUBJECTS = 500;

async function importDist(relative) {
  return import(path.join(ROOT, 'dist', relative));
}

export async function natsAnswers(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 4222) });
    socket.setTimeout(2000);
    socket.once('connect', () => resolve(socket.end() && true));
    socket.once('timeout', () => resolve(socket.destroy() && false));
    socket.once('error', () => resolve(false));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (value, digits = 2) => Number(value.toFixed(digits));

/**
 * One bus: `rounds` rounds, each a baseline burst on a database with no dispatcher (commits only)
 * followed by the same burst on a database whose dispatcher runs; then the paced phase. Two
 * databases of the same kind live through the whole run so that neither phase waits for the other
 * to start, and rounds alternate so that a noisy minute hits both.
 */
async function benchOne({ bus, openPair, natsUrl, count, producers, pacedCount, pacedRate, rounds }) {
  const { migrate } = await importDist('kernel/migrator.js');
  const { eventMigrations, createOutbox, createDispatcher } = await importDist('kernel/events.js');
  const { createJetStreamDispatcher, deleteJetStream } = await importDist('kernel/events.nats.js');
  const { systemClock } = await importDist('kernel/clock.js');

  const { measured: database, baseline: baselineDb, close } = await openPair();
  for (const db of [database, baselineDb]) await migrate(db, [{ module: 'kernel', migrations: eventMigrations }]);
  const stream = `BENCH_EVENTS_${process.pid}_${Date.now()}`;
  const committedAt = new Map();
  const handledAt = new Map();
  let doubles = 0;
  const dispatcher =
    bus === 'jetstream'
      ? createJetStreamDispatcher(database, systemClock, { url: natsUrl, stream, subjectPrefix: `bench.${process.pid}` })
      : createDispatcher(database, systemClock, {});
  dispatcher.subscribe({
    name: 'bench.handler',
    types: [TYPE],
    async handle(event) {
      if (handledAt.has(event.id)) doubles++;
      handledAt.set(event.id, performance.now());
    },
  });
  const outbox = createOutbox(database, systemClock, () => dispatcher.kick());
  const baselineOutbox = createOutbox(baselineDb, systemClock, () => undefined);
  let serial = 0;
  const appendOne = async (db, box, record) => {
    const n = serial++;
    const event = await db.transaction((tx) =>
      box.append(tx, { type: TYPE, source: '/plinth/bench', subject: `record-${n % SUBJECTS}`, tenantId: 'pb', data: { n } }),
    );
    if (record) committedAt.set(event.id, performance.now());
  };
  const writeAll = async (db, box, record, total) => {
    let left = total;
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (left-- > 0) await appendOne(db, box, record);
      }),
    );
  };
  const waitHandled = async (ids, timeoutMs = 600_000) => {
    const until = Date.now() + timeoutMs;
    while (ids.some((id) => !handledAt.has(id))) {
      if (Date.now() > until) throw new Error(`${bus}: ${ids.filter((id) => !handledAt.has(id)).length} events never reached the handler`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  try {
    await dispatcher.start();
    const perRound = [];
    let burstLatencies = [];
    for (let round = 0; round < rounds; round++) {
      const baselineStarted = performance.now();
      await writeAll(baselineDb, baselineOutbox, false, count);
      const baselineMs = performance.now() - baselineStarted;

      committedAt.clear();
      const burstStarted = performance.now();
      await writeAll(database, outbox, true, count);
      const ids = [...committedAt.keys()];
      await waitHandled(ids);
      const burstMs = Math.max(...ids.map((id) => handledAt.get(id))) - burstStarted;
      burstLatencies = burstLatencies.concat(ids.map((id) => handledAt.get(id) - committedAt.get(id)));
      perRound.push({ baseline: (count / baselineMs) * 1000, burst: (count / burstMs) * 1000 });
    }
    burstLatencies.sort((a, b) => a - b);
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

    // Paced: latency when the bus is not saturated.
    committedAt.clear();
    const pacedStarted = performance.now();
    for (let i = 0; i < pacedCount; i++) {
      const due = pacedStarted + (i * 1000) / pacedRate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await appendOne(database, outbox, true);
    }
    const pacedIds = [...committedAt.keys()];
    await waitHandled(pacedIds);
    const latencies = pacedIds.map((id) => handledAt.get(id) - committedAt.get(id)).sort((a, b) => a - b);
    const expected = count * rounds + pacedCount;

    return {
      bus,
      dialect: database.dialect,
      count,
      rounds,
      producers,
      baselinePerSecond: Math.round(median(perRound.map((r) => r.baseline))),
      burstPerSecond: Math.round(median(perRound.map((r) => r.burst))),
      ratio: round(median(perRound.map((r) => r.burst / r.baseline)), 3),
      burstP50: round(percentile(burstLatencies, 50), 1),
      burstP99: round(percentile(burstLatencies, 99), 1),
      pacedRate,
      pacedCount,
      p50: round(percentile(latencies, 50)),
      p90: round(percentile(latencies, 90)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1]),
      handled: handledAt.size,
      expected,
      doubles,
      valid: handledAt.size === expected && doubles === 0,
    };
  } finally {
    await dispatcher.stop();
    await close();
    if (bus === 'jetstream') await deleteJetStream(natsUrl, stream).catch(() => undefined);
  }
}

let freshSerial = 0;
/** A new database on the server, and how to drop it. */
async function freshPostgres(serverUrl) {
  const name = `plinth_bench_ev_${Date.now()}_${process.pid}_${freshSerial++}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * Every bus on every database. `databaseUrl`: a PostgreSQL server the bench may create databases
 * on (undefined: SQLite only). Answers the rows and a markdown table.
 */
export async function benchEvents({
  databaseUrl,
  natsUrl = 'nats://127.0.0.1:4222',
  count = 20_000,
  producers = 4,
  pacedCount = 3_000,
  pacedRate = 200,
  rounds = 3,
  log = console.log,
} = {}) {
  const buses = ['in-process'];
  const notes = [];
  if (await natsAnswers(natsUrl)) buses.push('jetstream');
  else notes.push(`JetStream SKIPPED: ${natsUrl} does not answer`);
  const results = [];
  const { openDatabase } = await importDist('kernel/db.js');
  const run = async (label, serverUrl) => {
    for (const bus of buses) {
      const dirs = [
        await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-bench-events-')),
        await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-bench-events-')),
      ];
      const openPair = async () => {
        if (!serverUrl) {
          const [measured, baseline] = dirs.map((dataDir) => openDatabase({ databaseUrl: undefined, dataDir }));
          return { measured, baseline, close: async () => Promise.all([measured.close(), baseline.close()]) };
        }
        const fresh = await Promise.all([freshPostgres(serverUrl), freshPostgres(serverUrl)]);
        const [measured, baseline] = fresh.map((f) => openDatabase({ databaseUrl: f.url, dataDir: dirs[0] }));
        return {
          measured,
          baseline,
          close: async () => {
            await Promise.all([measured.close(), baseline.close()]);
            await Promise.all(fresh.map((f) => f.drop()));
          },
        };
      };
      try {
        const result = await benchOne({ bus, openPair, natsUrl, count, producers, pacedCount, pacedRate, rounds });
        results.push({ label, ...result });
        log(
          `events ${label} ${bus}: commit-only ${result.baselinePerSecond}/s, with delivery ${result.burstPerSecond}/s (median ratio ${result.ratio} over ${rounds} rounds); ` +
            `paced ${pacedRate}/s latency p50 ${result.p50} ms p90 ${result.p90} p99 ${result.p99} max ${result.max}; ${result.valid ? 'each event handled once' : `INVALID: ${result.handled}/${result.expected} handled, ${result.doubles} twice`}`,
        );
      } finally {
        for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
      }
    }
  };
  await run('SQLite', undefined);
  if (databaseUrl) await run('PostgreSQL', databaseUrl);
  return { results, notes, markdown: renderEvents(results, notes, { count, producers, pacedCount, pacedRate, rounds }) };
}

export function renderEvents(results, notes, settings) {
  const inProcess = (r) => results.find((x) => x.label === r.label && x.bus === 'in-process');
  return [
    `${settings.rounds} rounds of ${settings.count} events per burst from ${settings.producers} concurrent writers, one transaction per event ` +
      `(events/s and ratios: medians over the rounds; burst latency over all rounds); ${settings.pacedCount} paced events at ` +
      `${settings.pacedRate}/s for latency. Commit → handler start, in ms.`,
    '',
    '| database | bus | commit-only events/s | with delivery events/s | ratio to commit-only | ratio to in-process | burst latency p50 / p99 | paced p50 | p90 | p99 | max | each handled once |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...results.map(
      (r) =>
        `| ${r.label} | ${r.bus} | ${r.baselinePerSecond} | ${r.burstPerSecond} | ${r.ratio} | ${round(r.burstPerSecond / (inProcess(r)?.burstPerSecond ?? NaN), 3)} | ${r.burstP50} / ${r.burstP99} | ${r.p50} | ${r.p90} | ${r.p99} | ${r.max} | ${r.valid ? 'yes' : `NO (${r.handled}/${r.expected}, ${r.doubles} twice)`} |`,
    ),
    ...notes.map((n) => `\n${n}`),
    '',
  ].join('\n');
}

/** The suite: SQLite always, PostgreSQL when among BENCH_DATABASES and it answers; a miss or a double makes the run invalid. */
async function run() {
  const server = await postgresServer();
  const events = await benchEvents({
    databaseUrl: server ? CONFIG.databaseUrl : undefined,
    natsUrl: process.env.BENCH_NATS_URL || 'nats://127.0.0.1:4222',
    count: Math.round(numberEnv('BENCH_EVENTS', 20_000)),
    producers: Math.round(numberEnv('BENCH_EVENT_PRODUCERS', 4)),
    pacedCount: Math.round(numberEnv('BENCH_EVENT_PACED', 3_000)),
    pacedRate: numberEnv('BENCH_EVENT_RATE', 200),
    rounds: Math.round(numberEnv('BENCH_EVENT_ROUNDS', 3)),
    log: (line) => say(`bench: ${line}`),
  });
  return {
    markdown: events.markdown,
    byDatabase: {},
    problems: events.results.filter((r) => !r.valid).map((r) => `events ${r.label} ${r.bus}: not every event was handled exactly once`),
  };
}

export default { name: 'events', title: 'Events', run };

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await benchEvents({
    databaseUrl: process.env['BENCH_DATABASE_URL'],
    natsUrl: process.env['BENCH_NATS_URL'] ?? 'nats://127.0.0.1:4222',
    count: Number(process.env['BENCH_EVENTS'] ?? 20_000),
    producers: Number(process.env['BENCH_EVENT_PRODUCERS'] ?? 4),
    pacedCount: Number(process.env['BENCH_EVENT_PACED'] ?? 3_000),
    pacedRate: Number(process.env['BENCH_EVENT_RATE'] ?? 200),
    rounds: Number(process.env['BENCH_EVENT_ROUNDS'] ?? 3),
  });
  console.log(result.markdown);
  process.exitCode = result.results.every((r) => r.valid) ? 0 : 1;
}
