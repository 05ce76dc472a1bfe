// The goals the issues set, in one place. `npm run bench` checks each one on every database its
// suite ran on, prints PASS or MISSED with the figure measured, and exits 2 when one is missed.
// docs/benchmarks.md ("Goals") lists the same goals: change both together.
//
// A goal: the suite whose figures it reads, a name, measure(figures of one database) →
// { value, detail? }, and either `atLeast` or `below` the value must be; `show` formats a value.

import { median, pct } from './harness/config.js';

const MB = (value) => `${value.toFixed(1)} MB`;

/** A measured row of the HTTP run; throws when the target did not run (the goal is then missed). */
function row(http, name) {
  const found = http.rows.find((r) => r.target.name === name);
  if (!found) throw new Error(`the target "${name}" was not measured`);
  return found;
}

export const GOALS = [
  {
    suite: 'mdms',
    name: 'MDMS v2 _search req/s at least 50% of the node:http baseline (median of the per-round ratios)',
    measure: (http) => ({ value: row(http, 'MDMS v2 _search').ratio }),
    atLeast: 0.5,
    show: pct,
  },
  {
    // Issue #14: token verified, role-actions turned into the caller's scope, every tenant of the
    // request checked against it after validation.
    suite: 'mdms',
    name: 'MDMS v2 _search authenticated + authorized + scoped req/s at least 85% of the anonymous search (median of the per-round ratios)',
    measure: (http) => {
      const anonymous = row(http, 'MDMS v2 _search').runs;
      const perRound = row(http, 'MDMS v2 _search, authenticated + authorized').runs.map((run, i) => run.rps / anonymous[i].rps);
      return { value: median(perRound), detail: `per round: ${perRound.map(pct).join(', ')}` };
    },
    atLeast: 0.85,
    show: pct,
  },
  {
    // Issue #15: measured the way an operator sees it (memory.js).
    suite: 'memory',
    name: 'Plinth idle RSS under 150 MB (a fresh `plinth start`, first start, after BENCH_IDLE s idle)',
    measure: (memory) => ({ value: memory.first.end.rss / 1024 }),
    below: 150,
    show: MB,
  },
];

/**
 * Every goal whose suite ran, on every database it ran on. `figures[suite][db]` is what the suite
 * measured there (with its `label`). Answers { goal, database, pass, text }; a goal that cannot be
 * evaluated is missed.
 */
export function evaluateGoals(figures) {
  const outcomes = [];
  for (const goal of GOALS) {
    for (const [db, measured] of Object.entries(figures[goal.suite] ?? {})) {
      const target = goal.atLeast !== undefined ? `at least ${goal.show(goal.atLeast)}` : `under ${goal.show(goal.below)}`;
      let pass = false;
      let text;
      try {
        const { value, detail } = goal.measure(measured);
        pass = goal.atLeast !== undefined ? value >= goal.atLeast : value < goal.below;
        text = `measured ${goal.show(value)}, goal ${target}${detail ? ` (${detail})` : ''}`;
      } catch (error) {
        text = `could not be evaluated (${error.message}), goal ${target}`;
      }
      outcomes.push({ goal, database: measured.label ?? db, pass, text });
    }
  }
  return outcomes;
}
