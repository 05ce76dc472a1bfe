// BENCH_CPU_PROF=1: Plinth runs with --cpu-prof; this turns its profile into two tables of self time.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './config.js';

export function summariseProfile(dir, top = 20) {
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (files.length === 0) return '(no CPU profile was written: did the platform exit cleanly?)';
  const profile = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
  // Shares are of the busy samples: '(idle)' (waiting for I/O, e.g. the idle seconds before the load) is left out.
  const all = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const total = all - idle || 1;
  const shortUrl = (url) =>
    url
      .replace(/^file:\/\//, '')
      .replace(`${ROOT}/`, '')
      .replace(/^.*node_modules\//, 'node_modules/');
  const byFunction = new Map();
  const byArea = new Map();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits || node.callFrame.functionName === '(idle)') continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    const file = shortUrl(url);
    const area = !url
      ? functionName.startsWith('(')
        ? functionName
        : '(native/V8)'
      : file.startsWith('node_modules/')
        ? file
            .split('/')
            .slice(0, file.split('/')[1].startsWith('@') ? 3 : 2)
            .join('/')
        : file.startsWith('node:')
          ? 'node: core'
          : file.startsWith('dist/')
            ? 'dist/ (Plinth)'
            : file;
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const table = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `| ${((100 * v) / total).toFixed(1)}% | \`${k}\` |`)
      .join('\n');
  return [
    `Self time by area, as a share of the ${total} busy samples (${((100 * idle) / (all || 1)).toFixed(0)}% of all ${all} samples were idle):`,
    '',
    '| self | area |',
    '|---:|---|',
    table(byArea, 12),
    '',
    `Top ${top} functions by self time (share of busy samples):`,
    '',
    '| self | function |',
    '|---:|---|',
    table(byFunction, top),
  ].join('\n');
}
