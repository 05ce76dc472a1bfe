// The HTTP run of one database: Plinth started on it, every target of the chosen HTTP suites
// verified, warmed up and measured round by round against the node:http baseline, then each
// suite's check of the work done. The baseline opens every round and the other targets rotate, so
// that no target always runs in the same slot; ratios are taken per round (a target against the
// baseline run of its own round) and the medians reported.
//
// A target (declared by a suite): one HTTP request hammered by autocannon.
//   name, method, path,
//   body (object: sent as JSON; string: sent as is; function: called for every request, so that
//   each request can differ, e.g. a new businessId), headers (object, or a function called when
//   the load starts, e.g. for a token obtained at run time),
//   verify(json, sentBody) → nothing, or throws when the answer is not the real thing,
//   connections (optional: overrides BENCH_CONNECTIONS for this target),
//   noRatio (optional: no ratio to the baseline is reported, e.g. a different kind of work),
//   unit, perRequest (optional: what one 2xx answer achieves, e.g. 1 id: reported as `unit`/s),
//   sqliteOnly (optional: not run on PostgreSQL),
//   drain (optional: the target leaves work in the outbox; before and after each of its runs the
//   bench waits until no event is pending, so that it starts from an empty outbox and the next
//   target does not pay for its backlog, and reports the backlog and how long it took to drain),
//   skippable (optional: when `prepare` or `verify` fails, the target is left out of this
//   database's run with the reason printed, instead of stopping the bench),
//   prepare({ port }) (optional, async: set-up before the verification, e.g. a user to log in as).
// A suite may also have afterLoad({ port, probe, facts, runsOf }) → { line, ok }: its check of the
// work done after the load (ok false makes the run invalid); suites with `checksFirst` check first.

import path from 'node:path';
import { CONFIG, median, pct, say, sleep } from './config.js';
import { JSON_HEADERS } from './http.js';
import { load, verify } from './load.js';
import { drainOutbox, openOutboxProbe } from './outbox.js';
import { ADMIN, MDMS_V2_SEARCH, loginAdmin, resetAuth, startPlinth } from './plinth.js';
import { memoryOf, stopChild, tail, tmpDir } from './processes.js';
import { summariseProfile } from './profile.js';

/** The target every ratio refers to: the baseline server, with the body of the MDMS v2 search. */
export const BASELINE_TARGET = {
  name: 'baseline node:http',
  server: 'baseline',
  method: 'POST',
  path: '/mdms-v2/v2/_search',
  body: MDMS_V2_SEARCH,
  headers: JSON_HEADERS,
  verify: (json) => {
    if (!(Array.isArray(json?.mdms) && json.mdms.length > 0)) throw new Error('answer has no mdms records');
  },
};

/** Seconds Plinth sits idle after it is ready, before its RSS before the load is read. */
const SETTLE_SECONDS = 3;

/** The order of a measured round: the baseline first, then the other targets rotated by round - 1 places. */
function roundOrder(targets, round) {
  const [first, ...rest] = targets;
  const shift = (round - 1) % rest.length;
  return [first, ...rest.slice(shift), ...rest.slice(0, shift)];
}

/** How long a suite's check after the load waits for an answer (in-flight requests go first). */
export const AFTER_LOAD_TIMEOUT_MS = 60_000;

/** 2xx answers autocannon counted in a list of runs. */
export const answered = (runs) => runs.reduce((sum, r) => sum + r.total - r.non2xx, 0);

/**
 * One database: starts Plinth on it, verifies, warms up and measures every target of `suites`
 * interleaved with the baseline, runs the suites' checks, then stops Plinth. Answers the figures.
 */
export async function runHttp({ suites, db, label, databaseUrl, isPostgres, baseline, baselinePort }) {
  resetAuth();
  const profDir = path.join(tmpDir(), `prof-${db}`);
  const plinth = await startPlinth({
    name: `plinth (${label})`,
    databaseUrl,
    nodeArgs: CONFIG.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  });
  const ports = { baseline: baselinePort, plinth: plinth.port };
  const servers = { baseline, plinth: plinth.entry };
  say(`bench: [${label}] Plinth ready (first start, including migrations and seeding, ${plinth.readyMs} ms); idling ${SETTLE_SECONDS} s`);
  await sleep(SETTLE_SECONDS * 1000);
  const rss = {
    plinth: { beforeLoad: memoryOf(plinth.entry.child.pid).rss },
    baseline: { beforeLoad: memoryOf(baseline.child.pid).rss },
  };

  await loginAdmin(ports.plinth);
  say(`bench: [${label}] logged in as ${ADMIN.username}; a garbage token and a tampered token are refused with 401`);

  // Set up, then verify every target once: a benchmark of an error page measures nothing. A
  // skippable target that fails is left out of this database's run, with the reason printed.
  const skipped = [];
  const bytes = new Map();
  const candidates = [BASELINE_TARGET, ...suites.flatMap((s) => s.targets.map((t) => ({ server: 'plinth', ...t })))].filter(
    (t) => !(isPostgres && t.sqliteOnly),
  );
  for (const target of candidates) {
    try {
      await target.prepare?.({ port: ports[target.server] });
      bytes.set(target, await verify(ports[target.server], target));
    } catch (error) {
      if (!target.skippable) throw error;
      const reason = error.message.startsWith(`${target.name}: `) ? error.message.slice(target.name.length + 2) : error.message;
      skipped.push({ target, reason });
      say(`bench: [${label}] SKIPPED ${target.name}: ${reason}`);
    }
  }
  const targets = candidates.filter((t) => bytes.has(t));
  say(`bench: [${label}] ${targets.length} targets answer 2xx with the expected content`);
  const probe = targets.some((t) => t.drain) ? await openOutboxProbe({ databaseUrl, dataDir: plinth.env.DATA_DIR }) : undefined;
  /** One run of a target; for a target that leaves events behind, also the wait until the outbox has drained. */
  const measure = async (target, seconds) => {
    // Start from an empty outbox too, so that the backlog reported is this target's own (the target
    // before it may have left events behind).
    const before = target.drain ? await drainOutbox(probe) : undefined;
    if (before?.backlog)
      say(
        `bench: [${label}] ${target.name}: waited ${before.drainSeconds.toFixed(1)} s for ${before.backlog} pending events before the run`,
      );
    const r = await load(ports[target.server], target, seconds, servers[target.server].child.pid, { postgres: isPostgres });
    if (target.drain) {
      Object.assign(r, await drainOutbox(probe));
      say(
        `bench: [${label}] ${target.name}: ${r.backlog} outbox events pending when the run stopped, drained in ${r.drainSeconds.toFixed(1)} s`,
      );
    }
    return r;
  };

  // Warm-up, not counted.
  const warmups = new Map();
  for (const target of targets) {
    const w = await measure(target, CONFIG.warmup);
    warmups.set(target, w);
    say(
      `bench: [${label}] warm-up ${target.name}: ${Math.round(w.rps)} req/s` +
        (w.non2xx || w.errors || w.timeouts
          ? ` (non-2xx ${w.non2xx}, errors ${w.errors}, timeouts ${w.timeouts} ${JSON.stringify(w.statusCodes)})`
          : ''),
    );
  }

  // Measured rounds, interleaved: baseline, plinth targets, baseline, ... The baseline opens every
  // round; the other targets are rotated by one place each round, so that no target always runs
  // in the same slot (the first Plinth target after the baseline measurably suffers: Plinth has
  // sat idle while the baseline ran).
  const runs = new Map(targets.map((t) => [t, []]));
  const orders = [];
  for (let round = 1; round <= CONFIG.rounds; round++) {
    const order = roundOrder(targets, round);
    orders.push(order);
    for (const target of order) {
      const server = servers[target.server];
      if (server.exited) throw new Error(`${server.name} exited (${server.exitCode}) during the run\n${tail(server.logFile)}`);
      const r = await measure(target, CONFIG.duration);
      runs.get(target).push(r);
      say(
        `bench: [${label}] round ${round}/${CONFIG.rounds} ${target.name}: ${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ` +
          `CPU server ${pct(r.serverCpu)} / load generator ${pct(r.loaderCpu)}${isPostgres ? ` / postgres ${pct(r.postgresCpu)}` : ''} / others ${pct(r.otherCpu)}` +
          (r.non2xx || r.errors || r.timeouts
            ? `, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts} ${JSON.stringify(r.statusCodes)}`
            : ''),
      );
      await sleep(500);
    }
  }

  // Checks of the work done, after the load; a failed one makes the run invalid (exit code 1).
  // Suites that check first may leave facts for the others (the complaints drew ids from the
  // sequence the idgen target draws from, and the idgen check counts them).
  const problems = [];
  const checks = [];
  const facts = {};
  const checking = [...suites].sort((a, b) => Number(Boolean(b.checksFirst)) - Number(Boolean(a.checksFirst)));
  for (const suite of checking) {
    const ran = candidates.filter((t) => targets.includes(t) && suite.targets.some((s) => s.name === t.name));
    if (!suite.afterLoad || ran.length === 0) continue;
    const runsOf = (name) => {
      const target = ran.find((t) => t.name === name);
      return [warmups.get(target), ...runs.get(target)];
    };
    const { line, ok } = await suite.afterLoad({ port: ports.plinth, probe, facts, runsOf });
    checks.push(line);
    if (!ok) problems.push(line);
    say(`bench: [${label}] ${line}`);
  }
  await probe?.close();

  const after = memoryOf(plinth.entry.child.pid);
  rss.plinth.afterLoad = after.rss;
  rss.plinth.peak = after.hwm;
  const baselineAfter = memoryOf(baseline.child.pid);
  rss.baseline.afterLoad = baselineAfter.rss;
  rss.baseline.peak = baselineAfter.hwm;

  // Stop the platform cleanly (so a CPU profile gets written).
  await stopChild(plinth.entry);

  // Results. The ratio is the median of per-round ratios (each target against the baseline of the same round).
  const baselineRuns = runs.get(targets[0]);
  const rows = targets.map((target) => {
    const rs = runs.get(target);
    return {
      target,
      rps: median(rs.map((r) => r.rps)),
      ratio: target.noRatio ? undefined : median(rs.map((r, i) => r.rps / baselineRuns[i].rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
      errors: rs.reduce((s, r) => s + r.errors + r.timeouts, 0),
      bytes: bytes.get(target),
      serverCpu: median(rs.map((r) => r.serverCpu)),
      loaderCpu: median(rs.map((r) => r.loaderCpu)),
      postgresCpu: median(rs.map((r) => r.postgresCpu)),
      otherCpu: median(rs.map((r) => r.otherCpu)),
      invalid: rs.some((r) => r.non2xx > 0 || r.errors > 0 || r.timeouts > 0),
      runs: rs,
    };
  });
  return {
    db,
    label,
    isPostgres,
    targets,
    rows,
    rss,
    runs,
    orders,
    skipped,
    checks,
    problems,
    warmups,
    readyMs: plinth.readyMs,
    invalid: rows.filter((r) => r.invalid),
    profile: CONFIG.cpuProf ? summariseProfile(profDir) : '',
  };
}
