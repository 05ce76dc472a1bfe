// Plinth HTTP benchmark: `npm run bench` (builds, then runs this file with --expose-gc).
//
// One run measures, on the same machine and in the same minutes:
//   - a bare node:http JSON server (the baseline, in its own child process),
//   - the real platform (`node bin/plinth.js start`, fresh DATA_DIR, LOG_LEVEL=warn),
// interleaving the targets round by round, and reports medians and ratios to the baseline.
// The load generator (autocannon) runs in this process.
//
// Plinth is started with PLINTH_ADMIN_PASSWORD (the SUPERUSER `admin` of tenant `pb` is created on
// first start) and PLINTH_LOGIN_RATE_LIMIT raised so that the per-address login limit does not
// throttle the login target. The bench logs in once before the load; the authenticated targets
// send that token as `Authorization: Bearer`.
//
// Knobs (environment):
//   BENCH_DURATION     seconds per measured run                    (default 10)
//   BENCH_ROUNDS       measured rounds; medians are taken over them (default 3)
//   BENCH_WARMUP       seconds of unmeasured warm-up per target     (default 2)
//   BENCH_CONNECTIONS  concurrent connections                      (default 50)
//   BENCH_IDLE         seconds the platform sits idle before its RSS is read (default 3)
//   BENCH_CPU_PROF=1   run the platform with --cpu-prof and print its top functions
//                      (profiling slows the platform: figures of such a run are not comparable)
//   BENCH_DATABASE_URL passed to the platform as DATABASE_URL (default: unset, i.e. SQLite)
//
// Exit code: 0 when every measurement is valid (whether or not the targets are met),
// 1 when a measurement is invalid (non-2xx, socket errors, timeouts) or the bench could not run.
//
// To add a target, append a descriptor to TARGETS; to add a goal, append to CHECKS.

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Baseline server mode: `node bench/run.js --baseline-server <port>` (started by the bench itself).
// Parses the JSON body, answers a JSON object shaped and sized like the MDMS v2 answer (~4 KB).

function runBaselineServer(port) {
  const records = Array.from({ length: 10 }, (_, i) => ({
    id: `01a21ace-923b-75d4-8fdd-19dc9559${String(3100 + i).padStart(4, '0')}`,
    tenantId: 'pb',
    schemaCode: 'common-masters.Department',
    uniqueIdentifier: `DEPT_${i + 1}`,
    data: {
      code: `DEPT_${i + 1}`,
      name: `Department number ${i + 1}`,
      description: 'Plans and supervises the public works of the city and its contracts.',
      active: true,
    },
    isActive: true,
    auditDetails: { createdBy: null, lastModifiedBy: null, createdTime: 1795746075195, lastModifiedTime: 1795746075195 },
  }));
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health/ready') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"UP"}');
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let request;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"Errors":[{"code":"BAD_JSON"}]}');
        return;
      }
      const body = JSON.stringify({
        ResponseInfo: {
          apiId: request?.RequestInfo?.apiId ?? null,
          ver: null,
          ts: Date.now(),
          resMsgId: randomUUID(),
          msgId: null,
          status: 'successful',
        },
        mdms: records,
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------
// What is measured.

const JSON_HEADERS = { 'content-type': 'application/json' };
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

/** The SUPERUSER Plinth creates on first start with PLINTH_ADMIN_PASSWORD (EMPLOYEE of the state tenant `pb`). */
const ADMIN = { username: 'admin', password: 'Bench@2026x', tenantId: 'pb', userType: 'EMPLOYEE' };
/** Logins per address per minute allowed to the bench (Plinth's default, 30, would throttle the login target). */
const LOGIN_RATE_LIMIT = 1_000_000;
/** Plinth's password hashing (src/common/user/user.passwords.ts ARGON2_PARAMS), stated in the report. */
const ARGON2_TEXT = 'argon2id m=19456 KiB, t=2, p=1';
const LOGIN_FORM = new URLSearchParams({ ...ADMIN, grant_type: 'password', scope: 'read' }).toString();

/** The admin's access token, obtained once before any load (see main). */
const auth = { token: undefined };
const bearer = () => {
  expect(auth.token, 'no access token yet');
  return { ...JSON_HEADERS, authorization: `Bearer ${auth.token}` };
};

const MDMS_V2_SEARCH = {
  RequestInfo: { apiId: 'Rainmaker' },
  MdmsCriteria: { tenantId: 'pb.amritsar', schemaCode: 'common-masters.Department', limit: 10 },
};

/**
 * A target: one HTTP request hammered by autocannon.
 *   name, server ('baseline' | 'plinth'), method, path,
 *   body (object: sent as JSON; string: sent as is), headers (object, or a function called when the
 *   load starts, e.g. for a token obtained at run time),
 *   verify(json) → nothing, or throws when the answer is not the real thing,
 *   connections (optional: overrides BENCH_CONNECTIONS for this target),
 *   noRatio (optional: no ratio to the baseline is reported, e.g. a different kind of work).
 * The first target is the baseline every ratio refers to.
 */
const TARGETS = [
  {
    name: 'baseline node:http',
    server: 'baseline',
    method: 'POST',
    path: '/mdms-v2/v2/_search',
    body: MDMS_V2_SEARCH,
    headers: JSON_HEADERS,
    verify: (json) => expect(Array.isArray(json?.mdms) && json.mdms.length > 0, 'answer has no mdms records'),
  },
  {
    name: 'MDMS v2 _search',
    server: 'plinth',
    method: 'POST',
    path: '/mdms-v2/v2/_search',
    body: MDMS_V2_SEARCH,
    headers: JSON_HEADERS,
    verify: (json) => expect(Array.isArray(json?.mdms) && json.mdms.length > 0, 'answer has an empty or missing `mdms` array'),
  },
  {
    // DIGIT mixed mode: the same search with the admin's token is verified (EdDSA JWT), the user
    // loaded and the role-action check run (each cached) before the handler.
    name: 'MDMS v2 _search, authenticated + authorized',
    server: 'plinth',
    method: 'POST',
    path: '/mdms-v2/v2/_search',
    body: MDMS_V2_SEARCH,
    headers: bearer,
    verify: (json) => expect(Array.isArray(json?.mdms) && json.mdms.length > 0, 'answer has an empty or missing `mdms` array'),
  },
  {
    name: 'MDMS v1 _search',
    server: 'plinth',
    method: 'POST',
    path: '/mdms-v2/v1/_search',
    body: {
      RequestInfo: {},
      MdmsCriteria: { tenantId: 'pb.amritsar', moduleDetails: [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }] },
    },
    headers: JSON_HEADERS,
    verify: (json) => {
      const tenants = json?.MdmsRes?.tenant?.tenants;
      expect(Array.isArray(tenants) && tenants.length > 0, 'answer has an empty or missing `MdmsRes.tenant.tenants`');
    },
  },
  {
    // Password login: argon2id verification (CPU-bound, on libuv's thread pool), then a transaction
    // (login failures cleared + an audit-log row), an EdDSA-signed access token and a stored refresh token.
    name: 'login (argon2id)',
    server: 'plinth',
    method: 'POST',
    path: '/user/oauth/token',
    body: LOGIN_FORM,
    headers: FORM_HEADERS,
    connections: 4,
    noRatio: true,
    verify: (json) => expect(typeof json?.access_token === 'string' && json.access_token.length > 0, 'answer has no `access_token`'),
  },
];

const rowOf = (r, name) => {
  const row = r.rows.find((x) => x.target.name === name);
  expect(row, `no target named "${name}"`);
  return row;
};

/** Goals of the issue; a failed goal prints FAIL but does not change the exit code. */
const CHECKS = [
  (r) => {
    const row = r.rows.find((x) => x.target.name === 'MDMS v2 _search');
    const ratio = row.ratio;
    return { name: 'MDMS v2 _search req/s >= 50% of baseline', pass: ratio >= 0.5, detail: `${pct(ratio)} of baseline` };
  },
  (r) => {
    // The issue: an authenticated, authorized MDMS search at no less than 70% of the same search
    // without auth in the same run. Median of the per-round ratios (each against the anonymous run of its round).
    const anonymous = rowOf(r, 'MDMS v2 _search').runs;
    const authenticated = rowOf(r, 'MDMS v2 _search, authenticated + authorized').runs;
    const ratio = median(authenticated.map((run, i) => run.rps / anonymous[i].rps));
    return {
      name: 'MDMS v2 _search authenticated + authorized req/s >= 70% of anonymous MDMS v2 _search (same rounds)',
      pass: ratio >= 0.7,
      detail: `${pct(ratio)} of anonymous (per round: ${authenticated.map((run, i) => pct(run.rps / anonymous[i].rps)).join(', ')})`,
    };
  },
  (r) => {
    const mb = r.rss.plinth.idle / 1024;
    return { name: 'Plinth idle RSS < 150 MB', pass: mb < 150, detail: `${mb.toFixed(1)} MB` };
  },
];

// ---------------------------------------------------------------------------------------------
// Configuration.

function numberEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

const CONFIG = {
  duration: numberEnv('BENCH_DURATION', 10),
  rounds: Math.round(numberEnv('BENCH_ROUNDS', 3)),
  warmup: numberEnv('BENCH_WARMUP', 2),
  connections: Math.round(numberEnv('BENCH_CONNECTIONS', 50)),
  idle: numberEnv('BENCH_IDLE', 3),
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  pipelining: 1,
};

// ---------------------------------------------------------------------------------------------
// Children: every process started here is killed on the way out, whatever the way.

const children = new Set();
let tmpDir;

function startChild(name, args, env, logFile) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const entry = { name, child, logFile, exited: false, exitCode: null };
  child.once('exit', (code, signal) => {
    entry.exited = true;
    entry.exitCode = code ?? signal;
    children.delete(entry);
  });
  children.add(entry);
  return entry;
}

async function stopChild(entry, graceMs = 10_000) {
  if (entry.exited) return;
  const exited = new Promise((resolve) => entry.child.once('exit', resolve));
  entry.child.kill('SIGTERM');
  const timer = setTimeout(() => entry.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function killAllNow() {
  for (const { child } of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
}

function installCleanup() {
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      console.error(`\nbench: ${signal}, stopping children`);
      killAllNow();
      process.exit(130);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line) => process.stderr.write(`${line}\n`);
const pct = (ratio) => `${(ratio * 100).toFixed(1)}%`;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const bodyText = (body) => (body === undefined || typeof body === 'string' ? body : JSON.stringify(body));
const headersOf = (target) => (typeof target.headers === 'function' ? target.headers() : target.headers);

function request(port, method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const payload = bodyText(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        headers: payload === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(payload) },
        agent: false,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

async function waitReady(entry, port, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (entry.exited) throw new Error(`${entry.name} exited (${entry.exitCode}) before it was ready\n${tail(entry.logFile)}`);
    try {
      const res = await request(port, 'GET', '/health/ready');
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = error.code ?? error.message;
    }
    await sleep(100);
  }
  throw new Error(`${entry.name} not ready after ${timeoutMs / 1000} s (last: ${last})\n${tail(entry.logFile)}`);
}

function tail(file, lines = 30) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return text ? `--- last lines of ${file} ---\n${text}` : `(${file} is empty)`;
  } catch {
    return '';
  }
}

/** VmRSS and VmHWM (peak) of a process, in kB. */
function memoryOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), hwm: field('VmHWM') };
}

function gitCommit() {
  try {
    let gitDir = path.join(ROOT, '.git');
    if (fs.statSync(gitDir).isFile()) {
      gitDir = path.resolve(
        ROOT,
        fs
          .readFileSync(gitDir, 'utf8')
          .replace(/^gitdir:\s*/, '')
          .trim(),
      );
    }
    const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 12);
    const ref = head.slice(5);
    const loose = path.join(gitDir, ref);
    if (fs.existsSync(loose)) return fs.readFileSync(loose, 'utf8').trim().slice(0, 12);
    const packed = fs.readFileSync(path.join(gitDir, 'packed-refs'), 'utf8');
    const line = packed.split('\n').find((l) => l.endsWith(` ${ref}`));
    return line ? line.slice(0, 12) : `${ref} (no commit yet)`;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Load.

let autocannon;

/** CPU seconds (user + system) a process has used so far; /proc reports clock ticks of 1/100 s (USER_HZ). */
function cpuSecondsOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the whole machine has been busy (all cores, everything but idle and iowait), from /proc/stat. */
function machineBusySeconds() {
  const [, ...ticks] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** Runs autocannon against one target; also records the CPU used by the server and by this (load) process. */
async function load(port, target, seconds, serverPid) {
  globalThis.gc?.();
  const serverCpu0 = cpuSecondsOf(serverPid);
  const loaderCpu0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const t0 = process.hrtime.bigint();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${target.path}`,
    method: target.method,
    headers: headersOf(target),
    body: bodyText(target.body),
    connections: target.connections ?? CONFIG.connections,
    pipelining: CONFIG.pipelining,
    duration: seconds,
    timeout: 10,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const loaderCpu = process.cpuUsage(loaderCpu0);
  const serverCpu = (cpuSecondsOf(serverPid) - serverCpu0) / wall;
  const loaderCpuShare = (loaderCpu.user + loaderCpu.system) / 1e6 / wall;
  return {
    serverCpu,
    loaderCpu: loaderCpuShare,
    // CPU that neither the server nor the load generator used: other processes on the machine (noise).
    otherCpu: Math.max(0, (machineBusySeconds() - machine0) / wall - serverCpu - loaderCpuShare),
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  };
}

async function verify(port, target) {
  const res = await request(port, target.method, target.path, target.body, headersOf(target));
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${target.name}: ${target.method} ${target.path} answered HTTP ${res.status}: ${res.text.slice(0, 500)}`);
  }
  let json;
  try {
    json = JSON.parse(res.text);
  } catch {
    throw new Error(`${target.name}: answer is not JSON: ${res.text.slice(0, 500)}`);
  }
  try {
    target.verify?.(json);
  } catch (error) {
    throw new Error(`${target.name}: ${error.message}: ${res.text.slice(0, 500)}`);
  }
  return Buffer.byteLength(res.text);
}

// ---------------------------------------------------------------------------------------------
// CPU profile summary (BENCH_CPU_PROF=1).

function summariseProfile(dir, top = 20) {
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

// ---------------------------------------------------------------------------------------------
// The run.

/** The order of a measured round: the baseline first, then the other targets rotated by round - 1 places. */
function roundOrder(round) {
  const [first, ...rest] = TARGETS;
  const shift = (round - 1) % rest.length;
  return [first, ...rest.slice(shift), ...rest.slice(0, shift)];
}

async function main() {
  ({ default: autocannon } = await import('autocannon'));
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run bench` (it builds first)');
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-'));
  const profDir = path.join(tmpDir, 'prof');

  say(
    `bench: ${CONFIG.rounds} rounds x ${CONFIG.duration} s per target, ${CONFIG.warmup} s warm-up, ` +
      `${CONFIG.connections} connections, pipelining ${CONFIG.pipelining}${CONFIG.cpuProf ? ', CPU PROFILING ON' : ''}`,
  );

  // Start both servers.
  const ports = { baseline: await freePort(), plinth: await freePort() };
  const baseline = startChild(
    'baseline',
    [SELF, '--baseline-server', String(ports.baseline)],
    { PATH: process.env.PATH, NODE_ENV: 'production' },
    path.join(tmpDir, 'baseline.log'),
  );
  const plinthEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(ports.plinth),
    HOST: '127.0.0.1',
    DATA_DIR: path.join(tmpDir, 'data'),
    PLINTH_SEED_DIR: path.join(ROOT, 'seed'),
    LOG_LEVEL: 'warn',
    PLINTH_ADMIN_PASSWORD: ADMIN.password,
    PLINTH_LOGIN_RATE_LIMIT: String(LOGIN_RATE_LIMIT),
  };
  delete plinthEnv.DATABASE_URL;
  delete plinthEnv.EVENT_BUS_URL;
  delete plinthEnv.NODE_OPTIONS;
  if (process.env.BENCH_DATABASE_URL) plinthEnv.DATABASE_URL = process.env.BENCH_DATABASE_URL;
  // The same Node flags as `npm start` (e.g. the young-generation size that keeps idle RSS down).
  const startScript = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  const nodeFlags = startScript.split(/\s+/).filter((arg) => arg.startsWith('--'));
  const plinthArgs = [...nodeFlags, ...(CONFIG.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []), path.join(ROOT, 'bin/plinth.js'), 'start'];
  const startedAt = Date.now();
  const plinth = startChild('plinth', plinthArgs, plinthEnv, path.join(tmpDir, 'plinth.log'));
  const servers = { baseline, plinth };

  await Promise.all([waitReady(baseline, ports.baseline), waitReady(plinth, ports.plinth)]);
  const readyMs = Date.now() - startedAt;
  say(`bench: both servers ready (Plinth first start, including seeding, ${readyMs} ms); idling ${CONFIG.idle} s`);
  await sleep(CONFIG.idle * 1000);
  const rss = {
    plinth: { idle: memoryOf(plinth.child.pid).rss },
    baseline: { idle: memoryOf(baseline.child.pid).rss },
  };

  // Log in once as the admin; the authenticated targets send this token.
  const login = await request(ports.plinth, 'POST', '/user/oauth/token', LOGIN_FORM, FORM_HEADERS);
  let loginJson;
  try {
    loginJson = JSON.parse(login.text);
  } catch {
    // reported below
  }
  if (login.status !== 200 || typeof loginJson?.access_token !== 'string') {
    throw new Error(`login as ${ADMIN.username} failed: HTTP ${login.status}: ${login.text.slice(0, 500)}`);
  }
  auth.token = loginJson.access_token;

  // Prove auth is on: a garbage token and a token with a tampered signature must both be refused (401).
  const [head, payload, signature] = auth.token.split('.');
  const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
  for (const [what, token] of [
    ['garbage token', 'not-a-token'],
    ['token with a tampered signature', `${head}.${payload}.${flipped}`],
  ]) {
    const res = await request(ports.plinth, 'POST', '/mdms-v2/v2/_search', MDMS_V2_SEARCH, {
      ...JSON_HEADERS,
      authorization: `Bearer ${token}`,
    });
    if (res.status !== 401)
      throw new Error(`MDMS v2 _search with a ${what} answered HTTP ${res.status}, not 401: auth is not on? ${res.text.slice(0, 300)}`);
  }
  say(`bench: logged in as ${ADMIN.username}; a garbage token and a tampered token are refused with 401`);

  // Verify every target once: a benchmark of an error page measures nothing.
  const bytes = new Map();
  for (const target of TARGETS) bytes.set(target, await verify(ports[target.server], target));
  say(`bench: every target answers 2xx with the expected content`);

  // Warm-up, not counted.
  for (const target of TARGETS) {
    const w = await load(ports[target.server], target, CONFIG.warmup, servers[target.server].child.pid);
    say(
      `bench: warm-up ${target.name}: ${Math.round(w.rps)} req/s${w.non2xx || w.errors ? ` (non-2xx ${w.non2xx}, errors ${w.errors})` : ''}`,
    );
  }

  // Measured rounds, interleaved: baseline, plinth targets, baseline, ... The baseline opens every
  // round; the other targets are rotated by one place each round, so that no target always runs
  // in the same slot (the first Plinth target after the baseline measurably suffers: Plinth has
  // sat idle while the baseline ran).
  const runs = new Map(TARGETS.map((t) => [t, []]));
  const orders = [];
  for (let round = 1; round <= CONFIG.rounds; round++) {
    const order = roundOrder(round);
    orders.push(order);
    for (const target of order) {
      const server = servers[target.server];
      if (server.exited) throw new Error(`${server.name} exited (${server.exitCode}) during the run\n${tail(server.logFile)}`);
      const r = await load(ports[target.server], target, CONFIG.duration, server.child.pid);
      runs.get(target).push(r);
      say(
        `bench: round ${round}/${CONFIG.rounds} ${target.name}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, ` +
          `CPU server ${pct(r.serverCpu)} / load generator ${pct(r.loaderCpu)} / others ${pct(r.otherCpu)}` +
          (r.non2xx || r.errors || r.timeouts
            ? `, non-2xx ${r.non2xx}, errors ${r.errors}, timeouts ${r.timeouts} ${JSON.stringify(r.statusCodes)}`
            : ''),
      );
      await sleep(500);
    }
  }
  const after = memoryOf(plinth.child.pid);
  rss.plinth.afterLoad = after.rss;
  rss.plinth.peak = after.hwm;
  const baselineAfter = memoryOf(baseline.child.pid);
  rss.baseline.afterLoad = baselineAfter.rss;
  rss.baseline.peak = baselineAfter.hwm;

  // Results. The ratio is the median of per-round ratios (each target against the baseline of the same round).
  const baselineRuns = runs.get(TARGETS[0]);
  const rows = TARGETS.map((target) => {
    const rs = runs.get(target);
    const invalid = rs.some((r) => r.non2xx > 0 || r.errors > 0 || r.timeouts > 0);
    return {
      target,
      rps: median(rs.map((r) => r.rps)),
      ratio: target.noRatio ? undefined : median(rs.map((r, i) => r.rps / baselineRuns[i].rps)),
      p99: median(rs.map((r) => r.p99)),
      non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
      errors: rs.reduce((s, r) => s + r.errors + r.timeouts, 0),
      bytes: bytes.get(target),
      serverCpu: median(rs.map((r) => r.serverCpu)),
      loaderCpu: median(rs.map((r) => r.loaderCpu)),
      otherCpu: median(rs.map((r) => r.otherCpu)),
      invalid,
      runs: rs,
    };
  });
  const results = { rows, rss };
  const checks = CHECKS.map((check) => check(results));
  const invalid = rows.filter((r) => r.invalid);

  // Stop the platform cleanly (so a CPU profile gets written), then the baseline.
  await stopChild(plinth);
  await stopChild(baseline);

  const mb = (kb) => (kb / 1024).toFixed(1);
  const table = [
    "| target | connections | req/s (median) | ratio to baseline | p99 ms (median) | non-2xx | errors | response bytes | server CPU | load-gen CPU | others' CPU |",
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.target.name}${r.invalid ? ' **INVALID**' : ''} | ${r.target.connections ?? CONFIG.connections} | ${Math.round(r.rps)} | ${r.ratio === undefined ? 'n/a' : pct(r.ratio)} | ${r.p99} | ${r.non2xx} | ${r.errors} | ${r.bytes} | ${pct(r.serverCpu)} | ${pct(r.loaderCpu)} | ${pct(r.otherCpu)} |`,
    ),
    '',
    'Ratio: median of the per-round ratios (each run against the baseline run of the same round). CPU: median share of one core ' +
      'during the measured runs, for the server, the load generator (this process) and every other process on the machine (noise). ' +
      `Login: req/s are logins/s (${ARGON2_TEXT}; each successful login also writes an audit-log row and a refresh token).`,
    '',
    '| process | idle RSS MB | RSS after load MB | peak RSS (VmHWM) MB |',
    '|---|---:|---:|---:|',
    `| Plinth (\`plinth start\`) | ${mb(rss.plinth.idle)} | ${mb(rss.plinth.afterLoad)} | ${mb(rss.plinth.peak)} |`,
    `| baseline node:http | ${mb(rss.baseline.idle)} | ${mb(rss.baseline.afterLoad)} | ${mb(rss.baseline.peak)} |`,
  ].join('\n');
  const perRound = [
    '| round | order | ' + TARGETS.map((t) => `${t.name} req/s (p99 ms) [others' CPU]`).join(' | ') + ' |',
    '|---|---|' + TARGETS.map(() => '---:').join('|') + '|',
    ...Array.from(
      { length: CONFIG.rounds },
      (_, i) =>
        `| ${i + 1} | ${orders[i].map((t) => TARGETS.indexOf(t) + 1).join(' ')} | ` +
        TARGETS.map((t) => {
          const r = runs.get(t)[i];
          return `${Math.round(r.rps)} (${r.p99}) [${pct(r.otherCpu)}]`;
        }).join(' | ') +
        ' |',
    ),
  ].join('\n');
  const noisiest = Math.max(...rows.map((r) => r.otherCpu));
  const noise =
    noisiest > 0.25
      ? `WARNING: other processes used up to ${pct(noisiest)} of a core during the measured runs (median per target): ` +
        'absolute figures are depressed and ratios noisier than on a quiet machine'
      : `machine quiet enough: other processes used at most ${pct(noisiest)} of a core (median per target)`;
  const checkLines = checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`);
  const validity = invalid.length
    ? `INVALID: ${invalid.map((r) => r.target.name).join(', ')} had non-2xx answers or errors during measurement`
    : 'all measured runs: 2xx only, no socket errors, no timeouts';

  console.log(
    `\n${table}\n\nPer round (order: the targets' numbers in the order they ran, 1 = first row of the table above):\n\n${perRound}\n\n${checkLines.join('\n')}\n${validity}\n${noise}`,
  );

  const cpus = os.cpus();
  const meta = [
    `- date: ${new Date().toISOString()}`,
    `- node: ${process.version}; nproc: ${os.availableParallelism()}; CPU: ${cpus[0]?.model ?? 'unknown'}; RAM: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- commit: ${gitCommit()}`,
    `- settings: ${CONFIG.rounds} rounds x ${CONFIG.duration} s, ${CONFIG.warmup} s warm-up per target, ${CONFIG.connections} connections, pipelining ${CONFIG.pipelining}, Plinth LOG_LEVEL=warn, PLINTH_LOGIN_RATE_LIMIT=${LOGIN_RATE_LIMIT}, login target ${TARGETS.find((t) => t.name.startsWith('login'))?.connections} connections (${ARGON2_TEXT})${CONFIG.cpuProf ? ', **CPU profiling on (not comparable)**' : ''}`,
    `- Plinth first start to ready (fresh DATA_DIR, seeding included): ${readyMs} ms`,
  ].join('\n');
  let profile = '';
  if (CONFIG.cpuProf) {
    profile = summariseProfile(profDir);
    console.log(`\nPlinth CPU profile (whole life of the process: start, seeding, warm-up and load):\n\n${profile}`);
  }
  const outDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, 'latest.md'),
    `# Plinth benchmark — latest run\n\n${meta}\n\n${table}\n\nPer round (order: the targets' numbers in the order they ran, 1 = first row of the table above):\n\n${perRound}\n\n` +
      `${checkLines.map((l) => `- ${l}`).join('\n')}\n- ${validity}\n- ${noise}\n` +
      (profile ? `\n## Plinth CPU profile\n\n${profile}\n` : ''),
  );
  say(`bench: wrote ${path.relative(ROOT, path.join(outDir, 'latest.md'))}`);

  killAllNow();
  process.exitCode = invalid.length ? 1 : 0;
}

if (process.argv[2] === '--baseline-server') {
  runBaselineServer(Number(process.argv[3]));
} else {
  installCleanup();
  main().catch((error) => {
    console.error(`bench: FAILED: ${error?.stack ?? error}`);
    killAllNow();
    process.exit(1);
  });
}
