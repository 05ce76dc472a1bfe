// The HTTP run of one database as text (stdout) and Markdown (bench/results/latest.md): the main
// table, memory, per round, the suites' checks, validity and noise.

import { CONFIG, mb, pct } from './config.js';
import { ARGON2_TEXT } from './plinth.js';

/** One database's figures. */
export function renderHttp(s) {
  const perSecond = (r) => (r.target.unit ? `${Math.round(r.rps * (r.target.perRequest ?? 1))} ${r.target.unit}/s` : '');
  const table = [
    `| target | connections | req/s (median) | work/s | ratio to baseline | p50 ms (median) | p99 ms (median) | non-2xx | errors | response bytes | server CPU | load-gen CPU |${s.isPostgres ? ' postgres CPU |' : ''} others' CPU |`,
    `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${s.isPostgres ? '---:|' : ''}---:|`,
    ...s.rows.map(
      (r) =>
        `| ${r.target.name}${r.invalid ? ' **INVALID**' : ''} | ${r.target.connections ?? CONFIG.connections} | ${Math.round(r.rps)} | ${perSecond(r)} | ` +
        `${r.ratio === undefined ? 'n/a' : pct(r.ratio)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${r.bytes} | ${pct(r.serverCpu)} | ${pct(r.loaderCpu)} |` +
        `${s.isPostgres ? ` ${pct(r.postgresCpu)} |` : ''} ${pct(r.otherCpu)} |`,
    ),
    ...s.skipped.map((x) => `| ${x.target.name} **SKIPPED** |${' |'.repeat(s.isPostgres ? 13 : 12)}`),
  ].join('\n');
  const notes = [
    'Ratio: median of the per-round ratios (each run against the baseline run of the same round). CPU: median share of one core ' +
      'during the measured runs, for the server, the load generator (this process)' +
      (s.isPostgres ? ', every process named `postgres` on the machine' : '') +
      ' and every other process on the machine (noise). ' +
      (s.rows.some((r) => r.target.unit === 'logins')
        ? `Login: logins/s (${ARGON2_TEXT}; each successful login also writes an audit-log row and a refresh token). `
        : '') +
      'ids: one id per call (ids/s = req/s), each a counter increment committed before the answer. ' +
      'transitions: each request is APPLY of a new PGR complaint (a new businessId), committed before the answer.' +
      (s.rows.some((r) => r.target.unit === 'complaints')
        ? ' complaints: each request is a citizen filing a PGR complaint (`/pgr-services/v2/request/_create`): MDMS and boundary checks, ' +
          'an id from idgen, then the workflow APPLY, the complaint row and its outbox events in one transaction committed before the answer; ' +
          'the notifications those events ask for are sent by the dispatcher in the same process during the load, and the bench waits ' +
          'for the outbox to drain after each run of this target (not timed).'
        : ''),
    ...s.skipped.map((x) => `SKIPPED ${x.target.name}: ${x.reason}`),
  ].join('\n\n');
  const memory = [
    '| process | RSS before load MB (ready + 3 s) | RSS after load MB | peak RSS (VmHWM) MB |',
    '|---|---:|---:|---:|',
    `| Plinth (\`plinth start\`, ${s.label}) | ${mb(s.rss.plinth.beforeLoad)} | ${mb(s.rss.plinth.afterLoad)} | ${mb(s.rss.plinth.peak)} |`,
    `| baseline node:http | ${mb(s.rss.baseline.beforeLoad)} | ${mb(s.rss.baseline.afterLoad)} | ${mb(s.rss.baseline.peak)} |`,
  ].join('\n');
  const perRound = [
    '| round | order | ' + s.targets.map((t) => `${t.name} req/s (p50/p99 ms) [others' CPU]`).join(' | ') + ' |',
    '|---|---|' + s.targets.map(() => '---:').join('|') + '|',
    ...Array.from(
      { length: CONFIG.rounds },
      (_, i) =>
        `| ${i + 1} | ${s.orders[i].map((t) => s.targets.indexOf(t) + 1).join(' ')} | ` +
        s.targets
          .map((t) => {
            const r = s.runs.get(t)[i];
            return `${Math.round(r.rps)} (${r.p50}/${r.p99}) [${pct(r.otherCpu)}]`;
          })
          .join(' | ') +
        ' |',
    ),
  ].join('\n');
  const noisiest = Math.max(...s.rows.map((r) => r.otherCpu));
  const noise =
    noisiest > 0.25
      ? `WARNING: other processes used up to ${pct(noisiest)} of a core during the measured runs (median per target): ` +
        'absolute figures are depressed and ratios noisier than on a quiet machine'
      : `machine quiet enough: other processes used at most ${pct(noisiest)} of a core (median per target)`;
  const validity = s.invalid.length
    ? `INVALID: ${s.invalid.map((r) => r.target.name).join(', ')} had non-2xx answers or errors during measurement`
    : 'all measured runs: 2xx only, no socket errors, no timeouts';
  const drains = s.rows
    .filter((r) => r.target.drain)
    .map(
      (r) =>
        `${r.target.name}: outbox events pending when each run stopped (warm-up, then rounds): ` +
        [s.warmups.get(r.target), ...r.runs].map((x) => `${x.backlog} (drained in ${x.drainSeconds.toFixed(1)} s)`).join(', '),
    );
  const lines = [...s.checks, ...drains, ...s.problems.map((p) => `INVALID: ${p}`), validity, noise];
  return {
    text:
      `${table}\n\n${notes}\n\n${memory}\n\nPer round (order: the targets' numbers in the order they ran, 1 = first row of the table above):\n\n` +
      `${perRound}\n\n${lines.join('\n')}`,
    markdown:
      `${table}\n\n${notes}\n\n${memory}\n\nPer round (order: the targets' numbers in the order they ran, 1 = first row of the table above):\n\n` +
      `${perRound}\n\n${lines.map((l) => `- ${l}`).join('\n')}`,
  };
}
