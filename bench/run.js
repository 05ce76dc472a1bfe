// Plinth's benchmark. `npm run bench` builds, then runs this file (with --expose-gc) for every
// suite; `npm run bench -- mdms memory` runs only those suites (BENCH_SUITES=mdms,memory does the
// same). Each suite is one file of bench/ over the shared harness in bench/harness/:
//
//   HTTP suites, measured together against a bare node:http baseline (harness/baseline-server.js,
//   one child started once), on one Plinth per database (harness/http-run.js), their targets
//   interleaved round by round with the baseline:
//     mdms        MDMS v2 search (anonymous, and authenticated + authorized) and v1 search
//     login       password login (argon2id)
//     idgen       ids, each a counter increment committed before the answer
//     workflow    workflow APPLY transitions
//     complaints  PGR complaints filed by a citizen, notifications sent during the load
//   memory        idle RSS of a fresh `plinth start` (and a restart) after BENCH_IDLE s
//   individual    bulk create of people next to raw inserts of the same rows, in this process
//   events        events from commit to handler, in-process and through NATS JetStream
//   dedup         precision/recall across thresholds, and a 20,000 × 20,000 linkage
//   (`http` names the five HTTP suites; `registry` is the old name of `individual`.)
//
// Databases: SQLite (a fresh DATA_DIR), then PostgreSQL if BENCH_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/postgres) answers: each suite gets a fresh database
// `plinth_bench_<timestamp>_<pid>` there, dropped at the end (also on error and on a signal). When
// the server does not answer, a line says so and the PostgreSQL runs are skipped.
//
// Knobs (environment):
//   BENCH_DATABASES    which databases, comma-separated (default sqlite,postgres)
//   BENCH_DATABASE_URL the PostgreSQL server the bench creates and drops its databases on
//   BENCH_DURATION     seconds per measured HTTP run                 (default 10)
//   BENCH_ROUNDS       measured HTTP rounds; medians over them       (default 3)
//   BENCH_WARMUP       seconds of unmeasured warm-up per HTTP target (default 2)
//   BENCH_CONNECTIONS  concurrent connections                        (default 50)
//   BENCH_CPU_PROF=1   run the HTTP suites' Plinth with --cpu-prof and print its top functions
//                      (profiling slows the platform: figures of such a run are not comparable)
//   BENCH_IDLE         seconds Plinth idles before the memory suite reads its RSS (default 60)
//   BENCH_INDIVIDUALS, BENCH_BATCH  people the individual suite registers (100000), per call (500)
//   BENCH_EVENTS, BENCH_EVENT_PRODUCERS, BENCH_EVENT_PACED, BENCH_EVENT_RATE, BENCH_EVENT_ROUNDS,
//   BENCH_NATS_URL     the events suite (see events.js)
//   BENCH_DEDUP_SEEDS, BENCH_DEDUP_PAIRS_B  the dedup suite (see dedup.js)
//
// Exit code: 0 when every measurement is valid and every goal of goals.js is met (also when
// PostgreSQL is unreachable or a target is skipped with a printed reason); 1 when a measurement
// is invalid (non-2xx, socket errors, timeouts, a failed check of the work done: complaints or
// idgen numbers, an outbox that does not drain, a refused person, an event not handled once) or
// the bench could not run; 2 when the measurements are valid but a goal is missed.
//
// To add a suite, add a file exporting { name, targets, afterLoad? } (an HTTP suite, see
// harness/http-run.js) or { name, title, run() } and list it in SUITES; to add a goal, goals.js.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG, ROOT, notes, say } from './harness/config.js';
import { renderHttp } from './harness/http-report.js';
import { runHttp } from './harness/http-run.js';
import { ARGON2_TEXT, LOGIN_RATE_LIMIT } from './harness/plinth.js';
import { dropBenchDatabase, forEachDatabase, postgresServer, redact } from './harness/postgres.js';
import { freePort, killAllNow, startChild, stopChild, tmpDir, waitReady } from './harness/processes.js';
import { evaluateGoals } from './goals.js';

const HTTP_SUITES = ['mdms', 'login', 'idgen', 'workflow', 'complaints'];
const SUITES = [...HTTP_SUITES, 'memory', 'individual', 'events', 'dedup'];
const ALIASES = { http: HTTP_SUITES, registry: ['individual'] };

/** The suites named on the command line, else in BENCH_SUITES, else all; in the order of SUITES. */
function chosenSuites() {
  const args = process.argv.slice(2);
  const named = (args.length ? args : (process.env.BENCH_SUITES || SUITES.join(',')).split(','))
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .flatMap((s) => ALIASES[s] ?? [s]);
  for (const name of named)
    if (!SUITES.includes(name)) throw new Error(`unknown suite "${name}" (${SUITES.join(', ')}; or http, registry)`);
  return SUITES.filter((s) => named.includes(s));
}

/** The HTTP suites on every database: one Plinth per database, the baseline for all of them. */
async function runHttpSuites(suites) {
  const baselinePort = await freePort();
  const baseline = startChild(
    'baseline',
    [path.join(ROOT, 'bench/harness/baseline-server.js'), String(baselinePort)],
    { PATH: process.env.PATH, NODE_ENV: 'production' },
    path.join(tmpDir(), 'baseline.log'),
  );
  await waitReady(baseline, baselinePort);
  const runs = await forEachDatabase((database) => runHttp({ suites, ...database, baseline, baselinePort }));
  await stopChild(baseline);
  return runs;
}

async function main() {
  const names = chosenSuites();
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run bench` (it builds first)');
  const suites = await Promise.all(names.map(async (name) => (await import(`./${name}.js`)).default));
  const http = suites.filter((s) => s.targets);
  say(
    `bench: ${names.join(', ')} on ${CONFIG.databases.join(', ')}` +
      (http.length
        ? `; HTTP: ${CONFIG.rounds} rounds x ${CONFIG.duration} s per target, ${CONFIG.warmup} s warm-up, ` +
          `${CONFIG.connections} connections, pipelining ${CONFIG.pipelining}${CONFIG.cpuProf ? ', CPU PROFILING ON' : ''}`
        : '') +
      (names.includes('memory') ? `; memory: ${CONFIG.idle} s idle` : '') +
      (names.includes('individual') ? `; individual: ${CONFIG.individuals} people in batches of ${CONFIG.individualBatch}` : ''),
  );

  /** What each suite measured, by database (for the goals); the report's sections; what makes the run invalid. */
  const figures = {};
  const sections = [];
  const problems = [];
  const httpRuns = http.length ? await runHttpSuites(http) : [];
  for (const run of httpRuns) {
    for (const suite of http) (figures[suite.name] ??= {})[run.db] = run;
    const { text, markdown } = renderHttp(run);
    const profile = run.profile
      ? `\n\nPlinth CPU profile (${run.label}; whole life of the process: start, seeding, warm-up and load):\n\n${run.profile}`
      : '';
    sections.push({ title: run.label, text: text + profile, markdown: markdown + profile });
    problems.push(...run.invalid.map((r) => `${run.label}: ${r.target.name} had non-2xx answers or errors`), ...run.problems);
  }
  for (const suite of suites.filter((s) => s.run)) {
    const out = await suite.run();
    figures[suite.name] = out.byDatabase;
    sections.push({ title: suite.title, text: out.markdown, markdown: out.markdown });
    problems.push(...out.problems);
  }

  const goals = evaluateGoals(figures);
  const goalLines = goals.map((g) => `${g.pass ? 'PASS' : 'MISSED'} on ${g.database}: ${g.goal.name}: ${g.text}`);
  for (const { title, text } of sections) console.log(`\n## ${title}\n\n${text}`);
  if (goalLines.length) console.log(`\n## Goals\n\n${goalLines.join('\n')}`);
  if (notes.length) console.log(`\n${notes.join('\n')}`);

  const outDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, 'latest.md'),
    `# Plinth benchmark — latest run\n\n${await meta(names, http, httpRuns)}\n` +
      sections.map(({ title, markdown }) => `\n## ${title}\n\n${markdown}\n`).join('') +
      (goalLines.length ? `\n## Goals\n\n${goalLines.map((l) => `- ${l}`).join('\n')}\n` : ''),
  );
  say(`bench: wrote ${path.relative(ROOT, path.join(outDir, 'latest.md'))}`);

  killAllNow();
  for (const problem of problems) say(`bench: INVALID: ${problem}`);
  for (const g of goals.filter((x) => !x.pass)) say(`bench: MISSED goal on ${g.database}: ${g.goal.name}: ${g.text}`);
  process.exitCode = problems.length ? 1 : goals.some((g) => !g.pass) ? 2 : 0;
}

/** The run's circumstances, for latest.md. */
async function meta(names, http, httpRuns) {
  const cpus = os.cpus();
  const login = http.flatMap((s) => s.targets).find((t) => t.unit === 'logins');
  const server =
    CONFIG.databases.includes('postgres') && (http.length || names.some((n) => ['memory', 'individual', 'events'].includes(n)));
  const postgres = server ? await postgresServer() : undefined;
  return [
    `- date: ${new Date().toISOString()}`,
    `- node: ${process.version}; nproc: ${os.availableParallelism()}; CPU: ${cpus[0]?.model ?? 'unknown'}; RAM: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- commit: ${gitCommit()}`,
    `- suites: ${names.join(', ')}`,
    ...(http.length
      ? [
          `- HTTP settings: ${CONFIG.rounds} rounds x ${CONFIG.duration} s, ${CONFIG.warmup} s warm-up per target, ${CONFIG.connections} connections, pipelining ${CONFIG.pipelining}, Plinth LOG_LEVEL=warn, PLINTH_LOGIN_RATE_LIMIT=${LOGIN_RATE_LIMIT}, PLINTH_ANONYMOUS_RATE_LIMIT=${LOGIN_RATE_LIMIT}` +
            (login ? `, login target ${login.connections} connections (${ARGON2_TEXT})` : '') +
            (CONFIG.cpuProf ? ', **CPU profiling on (not comparable)**' : ''),
        ]
      : []),
    ...httpRuns.map(
      (s) =>
        `- ${s.label}: Plinth first start to ready (fresh DATA_DIR${s.isPostgres ? ' and database' : ''}, migrations and seeding included): ${s.readyMs} ms`,
    ),
    ...(postgres
      ? [
          `- PostgreSQL: ${postgres.version} at ${redact(CONFIG.databaseUrl)}, fsync ${postgres.fsync}, synchronous_commit ${postgres.synchronousCommit}, wal_sync_method ${postgres.walSyncMethod}; Plinth's pool: 10 connections`,
        ]
      : []),
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
}

/** The commit checked out (also in a worktree, whose refs live in the main repository). */
function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'unknown';
  }
}

/** Set by a signal: the signal handler cleans up and exits, whatever the run was doing. */
let stopping = false;

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.error(`\nbench: ${signal}, stopping children`);
    killAllNow();
    dropBenchDatabase()
      .catch((error) => console.error(`bench: ${error.message}`))
      .finally(() => process.exit(130));
  });
}

main().catch(async (error) => {
  if (stopping) return; // the signal handler is cleaning up and will exit
  console.error(`bench: FAILED: ${error?.stack ?? error}`);
  killAllNow();
  await dropBenchDatabase().catch((dropError) => console.error(`bench: could not drop the bench database: ${dropError.message}`));
  process.exit(1);
});
