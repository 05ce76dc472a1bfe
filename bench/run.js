// Plinth HTTP benchmark: `npm run bench` (builds, then runs this file with --expose-gc).
//
// One run measures, on the same machine and in the same minutes:
//   - a bare node:http JSON server (the baseline, in its own child process, started once),
//   - the real platform (`node bin/plinth.js start`, with the Node flags of `npm start`, fresh
//     DATA_DIR, LOG_LEVEL=warn), once per database:
//       1. on SQLite (the default: `<DATA_DIR>/plinth.db`), every target;
//       2. on PostgreSQL, if BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres)
//          answers: the bench creates a fresh database `plinth_bench_<timestamp>_<pid>` there,
//          starts a second Plinth with DATABASE_URL pointing at it, runs the targets that are not
//          marked SQLite-only, and drops the database at the end (also on error and on SIGINT/SIGTERM).
//          When the server does not answer, a line says so and the PostgreSQL table is skipped.
// For each database it interleaves the targets round by round (the baseline opens every round,
// the others rotate) and reports medians and ratios to the baseline of the same round.
// The load generator (autocannon) runs in this process.
//
// Plinth is started with PLINTH_ADMIN_PASSWORD (the SUPERUSER `admin` of tenant `pb` is created on
// first start), PLINTH_ANONYMOUS_RATE_LIMIT raised so that the per-client limit on calls without a
// token (300 a minute by default) does not turn the anonymous MDMS targets into 429s, and
// PLINTH_LOGIN_RATE_LIMIT raised so that the per-address login limit does not
// throttle the login target. The bench logs in once before the load; the authenticated targets
// send that token as `Authorization: Bearer`. The workflow target needs a role that may APPLY in
// the seeded PGR workflow (CITIZEN or CSR; the admin is SUPERUSER only): the bench creates the
// employee `bench.csr` (CSR + EMPLOYEE on pb.amritsar) as the admin and logs in as it.
//
// Complaint creation (`complaints: PGR _create`, DIGIT's POST /pgr-services/v2/request/_create):
// the bench creates the citizen `9800000002` (CITIZEN on pb, with a password) as the admin and logs
// in as it; every request files the same complaint (StreetLightNotWorking in locality SUN04 of
// pb.amritsar, workflow APPLY): complaints have no duplicate detection, each gets a new idgen id.
// One complaint is idgen + workflow + the complaint row + outbox events in one transaction, and
// the dispatcher in the same process then sends the citizen's notifications from those events.
// Before and after every run of that target the bench waits until Plinth's outbox has no pending
// event (it reads the outbox directly: the SQLite file read-only, or the bench's PostgreSQL
// database), so the backlog is the complaints' own and the next target does not pay for it; the
// backlog and the drain time are reported. After the
// load it checks the work: the complaints counted by `_count` (as the admin) must be at least the
// 2xx answers autocannon counted and at most the requests it sent (requests in flight when a run
// stops are answered after autocannon stops counting), the outbox must hold one
// `plinth.complaint.created.v1` per complaint, and no event may be dead-lettered; the idgen counter
// check counts the complaints' numbers too (same sequence). A failed check makes the run invalid.
// Every target reports req/s, p50 and p99 (medians over rounds) and the ratio to the baseline.
//
// Knobs (environment):
//   BENCH_DURATION     seconds per measured run                    (default 10)
//   BENCH_ROUNDS       measured rounds; medians are taken over them (default 3)
//   BENCH_WARMUP       seconds of unmeasured warm-up per target     (default 2)
//   BENCH_CONNECTIONS  concurrent connections                      (default 50)
//   BENCH_IDLE         seconds the platform sits idle before its RSS is read (default 3)
//   BENCH_CPU_PROF=1   run the platform with --cpu-prof and print its top functions
//                      (profiling slows the platform: figures of such a run are not comparable)
//   BENCH_DATABASE_URL the PostgreSQL server to bench on: the bench connects there to create and
//                      drop its own database (default postgres://postgres@127.0.0.1:5432/postgres)
//   BENCH_DATABASES    which databases to run, comma-separated        (default sqlite,postgres)
//   BENCH_SUITES       which parts to run, comma-separated (default http,registry,dedup):
//                        http      the HTTP targets below, against the node:http baseline;
//                        registry  bench/individual.js: bulk create of BENCH_INDIVIDUALS people
//                                  (default 100000) in batches of BENCH_BATCH (default 500), in
//                                  this process, next to raw inserts of the same rows, per database;
//                        events    bench/events.js: events from commit to handler, in-process and
//                                  through NATS JetStream (BENCH_NATS_URL, default nats://127.0.0.1:4222),
//                                  against the commit rate alone, with the latency distribution
//                                  (BENCH_EVENTS, BENCH_EVENT_PRODUCERS, BENCH_EVENT_PACED, BENCH_EVENT_RATE, BENCH_EVENT_ROUNDS);
//                        dedup     bench/dedup.js: precision/recall across thresholds and a
//                                  20,000 x 20,000 linkage next to an XOR-popcount baseline.
//
// Exit code: 0 when every measurement is valid (whether or not the targets are met, and also
// when PostgreSQL is unreachable or a target is skipped with a printed reason),
// 1 when a measurement is invalid (non-2xx, socket errors, timeouts, a failed check of the work
// done: complaints or idgen numbers, an outbox that does not drain) or the bench could not run.
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
import pg from 'pg';

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

/**
 * The person who files the complaints: in the seeded PGR workflow (seed/workflow/PGR.json) APPLY
 * is allowed to CITIZEN and CSR, and the route (action 908) to CITIZEN, EMPLOYEE and GRO; the
 * admin is SUPERUSER only. So the bench creates a call-centre employee, CSR + EMPLOYEE on the city.
 */
const CSR = {
  username: 'bench.csr',
  password: 'Bench@2026x',
  tenantId: 'pb.amritsar',
  userType: 'EMPLOYEE',
  mobileNumber: '9800000001',
  roles: ['CSR', 'EMPLOYEE'],
};

/**
 * The citizen who files the complaints (DIGIT's main path: the citizen app). A CITIZEN files for
 * themself, so no user is looked up or created per complaint (an employee must name the citizen
 * by mobile number). Created by the admin with a password so the bench can log in without an OTP.
 */
const CITIZEN = {
  username: '9800000002',
  password: 'Bench@2026x',
  tenantId: 'pb',
  userType: 'CITIZEN',
  mobileNumber: '9800000002',
  roles: ['CITIZEN'],
};

/** Access tokens (and the citizen's uuid), obtained once per database before any load (see runSuite). */
const auth = { token: undefined, csrToken: undefined, citizenToken: undefined, citizenUuid: undefined };
const bearer = () => {
  expect(auth.token, 'no access token yet');
  return { ...JSON_HEADERS, authorization: `Bearer ${auth.token}` };
};
const csrBearer = () => {
  expect(auth.csrToken, 'no access token for the CSR yet');
  return { ...JSON_HEADERS, authorization: `Bearer ${auth.csrToken}` };
};

const citizenBearer = () => {
  expect(auth.citizenToken, 'no access token for the citizen yet');
  return { ...JSON_HEADERS, authorization: `Bearer ${auth.citizenToken}` };
};

/** Creates a user as the admin (a fresh database each time), logs in as it; answers the login's JSON. */
async function createAndLogin(port, person, name) {
  const created = await request(
    port,
    'POST',
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: {
        userName: person.username,
        name,
        password: person.password,
        type: person.userType,
        tenantId: person.tenantId,
        mobileNumber: person.mobileNumber,
        roles: person.roles.map((code) => ({ code, tenantId: person.tenantId })),
      },
    },
    bearer(),
  );
  expect(created.status === 200, `creating the user ${person.username} answered HTTP ${created.status}: ${created.text.slice(0, 300)}`);
  const form = new URLSearchParams({
    username: person.username,
    password: person.password,
    tenantId: person.tenantId,
    userType: person.userType,
    grant_type: 'password',
    scope: 'read',
  }).toString();
  const login = await request(port, 'POST', '/user/oauth/token', form, FORM_HEADERS);
  const json = parseJson(login.text);
  expect(
    login.status === 200 && typeof json?.access_token === 'string',
    `login as ${person.username} answered HTTP ${login.status}: ${login.text.slice(0, 300)}`,
  );
  return json;
}

const MDMS_V2_SEARCH = {
  RequestInfo: { apiId: 'Rainmaker' },
  MdmsCriteria: { tenantId: 'pb.amritsar', schemaCode: 'common-masters.Department', limit: 10 },
};

/** One id of the PGR complaint format (MDMS common-masters.IdFormat: PB-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]). */
const IDGEN_GENERATE = { RequestInfo: {}, idRequests: [{ idName: 'pgr.servicerequestid', tenantId: 'pb.amritsar' }] };
const PGR_ID = /^PB-PGR-\d{4}-\d{2}-\d{2}-(\d+)$/;

/**
 * PGR is owned by the complaint module (issue #14: only pgr-services moves it, a direct
 * `_transition` is refused), so the bench drives a copy of the seeded PGR definition under a code no
 * module owns, created by the admin before the load (see the target's `prepare`).
 */
const BENCH_WORKFLOW = 'BENCHPGR';

/** Every transition files a new application: a businessId never used before (this run's tag + a counter). */
const RUN_TAG = `${Date.now().toString(36)}${process.pid.toString(36)}`.toUpperCase();
let applications = 0;
const newBusinessId = () => `BENCH-${RUN_TAG}-${++applications}`;
const applyBody = () => ({
  RequestInfo: { apiId: 'Rainmaker' },
  ProcessInstances: [
    {
      tenantId: 'pb.amritsar',
      businessService: BENCH_WORKFLOW,
      moduleName: 'pgr-services',
      businessId: newBusinessId(),
      action: 'APPLY',
      comment: 'Streetlight not working',
    },
  ],
});

/**
 * One complaint as DIGIT's citizen app files it (src/domain/complaint/complaint.http.test.ts). The
 * same body every time: complaints have no duplicate detection, and each gets its own id from idgen.
 */
const COMPLAINT = {
  RequestInfo: { apiId: 'Rainmaker' },
  service: {
    tenantId: 'pb.amritsar',
    serviceCode: 'StreetLightNotWorking',
    description: 'The street light on the corner is out',
    source: 'web',
    address: { locality: { code: 'SUN04' }, geoLocation: { latitude: 31.63, longitude: 74.87 } },
  },
  workflow: { action: 'APPLY', comments: 'Streetlight not working' },
};
const COMPLAINT_COUNT_PATH = '/pgr-services/v2/request/_count?tenantId=pb.amritsar';

/**
 * A target: one HTTP request hammered by autocannon.
 *   name, server ('baseline' | 'plinth'), method, path,
 *   body (object: sent as JSON; string: sent as is; function: called for every request, so that
 *   each request can differ, e.g. a new businessId), headers (object, or a function called when
 *   the load starts, e.g. for a token obtained at run time),
 *   verify(json, sentBody) → nothing, or throws when the answer is not the real thing,
 *   connections (optional: overrides BENCH_CONNECTIONS for this target),
 *   noRatio (optional: no ratio to the baseline is reported, e.g. a different kind of work),
 *   unit, perRequest (optional: what one 2xx answer achieves, e.g. 1 id: reported as `unit`/s),
 *   sqliteOnly (optional: not run on PostgreSQL),
 *   drain (optional: the target leaves work in the outbox; before and after each of its runs the
 *   bench waits until no event is pending, so that it starts from an empty outbox and the next
 *   target does not pay for its backlog, and reports the backlog and how long it took to drain),
 *   skippable (optional: when `prepare` or `verify` fails, the target is left out of this
 *   database's run with the reason printed, instead of stopping the bench),
 *   prepare(ctx) (optional, async: set-up before the verification, e.g. a user to log in as).
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
    // Not run on PostgreSQL: its cost is the hash, which does not depend on the database.
    name: 'login (argon2id)',
    server: 'plinth',
    method: 'POST',
    path: '/user/oauth/token',
    body: LOGIN_FORM,
    headers: FORM_HEADERS,
    connections: 4,
    noRatio: true,
    unit: 'logins',
    perRequest: 1,
    sqliteOnly: true,
    verify: (json) => expect(typeof json?.access_token === 'string' && json.access_token.length > 0, 'answer has no `access_token`'),
  },
  {
    // A durable write: one counter increment (an upsert on idgen_sequence) committed before the answer.
    // Every call asks for one id, so ids/s = req/s.
    name: 'ids: idgen _generate',
    server: 'plinth',
    method: 'POST',
    path: '/egov-idgen/id/_generate',
    body: IDGEN_GENERATE,
    headers: bearer,
    unit: 'ids',
    perRequest: 1,
    verify: (json) => {
      const ids = json?.idResponses;
      expect(Array.isArray(ids) && ids.length === 1, 'answer has no `idResponses` array of one id');
      expect(typeof ids[0]?.id === 'string' && PGR_ID.test(ids[0].id), `id "${ids[0]?.id}" is not of the format PB-PGR-<date>-<n>`);
    },
  },
  {
    // A durable write: APPLY of a new complaint in the seeded PGR workflow, i.e. a process instance
    // (and its head row) written in one transaction before the answer. Each request has a new businessId.
    name: 'transitions: workflow APPLY',
    server: 'plinth',
    method: 'POST',
    path: '/egov-workflow-v2/egov-wf/process/_transition',
    body: applyBody,
    headers: csrBearer,
    unit: 'transitions',
    perRequest: 1,
    skippable: true,
    prepare: async ({ port }) => {
      // The bench's own copy of the PGR workflow (a fresh database each time), as the admin.
      const seeded = JSON.parse(fs.readFileSync(path.join(ROOT, 'seed/workflow/PGR.json'), 'utf8'));
      const copy = { ...seeded.BusinessServices[0], businessService: BENCH_WORKFLOW };
      const created = await request(
        port,
        'POST',
        '/egov-workflow-v2/egov-wf/businessservice/_create',
        { RequestInfo: {}, BusinessServices: [copy] },
        bearer(),
      );
      expect(created.status === 200, `creating the ${BENCH_WORKFLOW} workflow answered HTTP ${created.status}: ${created.text.slice(0, 300)}`);
      // Create the CSR as the admin, then log in as it.
      auth.csrToken = (await createAndLogin(port, CSR, 'Bench CSR')).access_token;
    },
    verify: (json, sent) => {
      const pi = json?.ProcessInstances?.[0];
      const businessId = sent.ProcessInstances[0].businessId;
      expect(json?.ProcessInstances?.length === 1, 'answer has no `ProcessInstances` array of one instance');
      expect(pi.businessId === businessId, `answer is for businessId ${pi.businessId}, not ${businessId}`);
      expect(
        pi.action === 'APPLY' && pi.businessService === BENCH_WORKFLOW,
        `answer is action ${pi.action} of ${pi.businessService}, not APPLY of ${BENCH_WORKFLOW}`,
      );
      expect(pi.state?.state === 'PENDINGFORASSIGNMENT', `the new application is in state ${pi.state?.state}, not PENDINGFORASSIGNMENT`);
    },
  },
  {
    // DIGIT PGR: a citizen files a complaint. Validated against MDMS (complaint type) and the
    // boundaries (locality), an id from idgen (PB-PGR-...), then one transaction: the workflow's
    // APPLY (process instance + head), the complaint row, and outbox events (complaint created,
    // workflow transitioned, the citizen's SMS and in-app notifications), committed before the answer.
    // The notifications are sent by the outbox dispatcher in the same process, during the load;
    // after every run of this target the bench waits until the outbox has drained (see `drain`).
    name: 'complaints: PGR _create',
    server: 'plinth',
    method: 'POST',
    path: '/pgr-services/v2/request/_create',
    body: COMPLAINT,
    headers: citizenBearer,
    unit: 'complaints',
    perRequest: 1,
    drain: true,
    skippable: true,
    prepare: async ({ port }) => {
      const json = await createAndLogin(port, CITIZEN, 'Bench Citizen');
      auth.citizenToken = json.access_token;
      auth.citizenUuid = json.UserRequest?.uuid;
      expect(typeof auth.citizenUuid === 'string', `login as ${CITIZEN.username} answered no UserRequest.uuid`);
    },
    verify: (json) => {
      const wrapper = json?.ServiceWrappers?.[0];
      const svc = wrapper?.service;
      expect(json?.ServiceWrappers?.length === 1, 'answer has no `ServiceWrappers` array of one complaint');
      expect(
        PGR_ID.test(svc?.serviceRequestId ?? ''),
        `serviceRequestId "${svc?.serviceRequestId}" is not of the format PB-PGR-<date>-<n>`,
      );
      expect(
        svc.applicationStatus === 'PENDINGFORASSIGNMENT',
        `the complaint is in state ${svc.applicationStatus}, not PENDINGFORASSIGNMENT`,
      );
      expect(svc.accountId === auth.citizenUuid, `the complaint belongs to ${svc.accountId}, not to the citizen ${auth.citizenUuid}`);
      expect(wrapper.workflow?.action === 'APPLY', `the complaint's last action is ${wrapper.workflow?.action}, not APPLY`);
    },
  },
];

const rowOf = (r, name) => {
  const row = r.rows.find((x) => x.target.name === name);
  expect(row, `no target named "${name}"`);
  return row;
};

/** Goals of the issue; a failed goal prints FAIL but does not change the exit code. Run for each database. */
const CHECKS = [
  (r) => {
    const row = r.rows.find((x) => x.target.name === 'MDMS v2 _search');
    const ratio = row.ratio;
    return { name: 'MDMS v2 _search req/s >= 50% of baseline', pass: ratio >= 0.5, detail: `${pct(ratio)} of baseline` };
  },
  (r) => {
    // Issue #14: an authenticated, authorized and scoped MDMS search (token verified, role-actions
    // turned into the caller's scope, every tenant of the request checked against it after
    // validation) at no less than 85% of the same search without auth in the same run. Median of the per-round ratios (each against the anonymous run of its round).
    const anonymous = rowOf(r, 'MDMS v2 _search').runs;
    const authenticated = rowOf(r, 'MDMS v2 _search, authenticated + authorized').runs;
    const ratio = median(authenticated.map((run, i) => run.rps / anonymous[i].rps));
    return {
      name: 'MDMS v2 _search authenticated + authorized + scoped req/s >= 85% of anonymous MDMS v2 _search (same rounds)',
      pass: ratio >= 0.85,
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

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

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

function suitesEnv() {
  const raw = process.env.BENCH_SUITES || 'http,registry,events,dedup';
  const list = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const suite of list)
    if (!['http', 'registry', 'events', 'dedup'].includes(suite))
      throw new Error(`BENCH_SUITES: unknown suite "${suite}" (http, registry, events, dedup)`);
  return list;
}

const CONFIG = {
  suites: suitesEnv(),
  individuals: Math.round(numberEnv('BENCH_INDIVIDUALS', 100_000)),
  individualBatch: Math.round(numberEnv('BENCH_BATCH', 500)),
  duration: numberEnv('BENCH_DURATION', 10),
  rounds: Math.round(numberEnv('BENCH_ROUNDS', 3)),
  warmup: numberEnv('BENCH_WARMUP', 2),
  connections: Math.round(numberEnv('BENCH_CONNECTIONS', 50)),
  idle: numberEnv('BENCH_IDLE', 3),
  cpuProf: process.env.BENCH_CPU_PROF === '1',
  databaseUrl: process.env.BENCH_DATABASE_URL || DEFAULT_DATABASE_URL,
  databases: databasesEnv(),
  pipelining: 1,
};

// ---------------------------------------------------------------------------------------------
// Children: every process started here is killed on the way out, whatever the way; the bench's
// PostgreSQL database is dropped on the way out too.

const children = new Set();
let tmpDir;
/** Set by a signal: the signal handler cleans up and exits, whatever the run was doing. */
let stopping = false;

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
      if (stopping) return;
      stopping = true;
      console.error(`\nbench: ${signal}, stopping children`);
      killAllNow();
      dropBenchDatabase()
        .catch((error) => console.error(`bench: ${error.message}`))
        .finally(() => process.exit(130));
    });
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: the bench's own database, created fresh and dropped at the end.

/** The database this run created, while it exists: { adminUrl, name }. */
let benchDatabase;

const redact = (url) => {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
};

async function withPostgres(url, work) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Connects to the server; answers its version and durability settings, or throws. */
async function probePostgres(url) {
  return withPostgres(url, async (client) => {
    const setting = async (name) => (await client.query(`select current_setting('${name}') as v`)).rows[0].v;
    return {
      version: await setting('server_version'),
      fsync: await setting('fsync'),
      synchronousCommit: await setting('synchronous_commit'),
      walSyncMethod: await setting('wal_sync_method'),
    };
  });
}

async function createBenchDatabase(adminUrl) {
  const name = `plinth_bench_${Date.now()}_${process.pid}`;
  await withPostgres(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  benchDatabase = { adminUrl, name };
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

let dropping;
/** Drops the bench's database if it exists (WITH (FORCE): a killed Plinth may leave backends behind); one drop at a time. */
function dropBenchDatabase() {
  dropping ??= dropNow().finally(() => {
    dropping = undefined;
  });
  return dropping;
}

async function dropNow() {
  if (!benchDatabase) return;
  const { adminUrl, name } = benchDatabase;
  await withPostgres(adminUrl, async (client) => {
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } catch (error) {
      if (error.code !== '42601') throw error; // before PostgreSQL 13: no FORCE
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    }
  });
  benchDatabase = undefined;
  say(`bench: dropped the PostgreSQL database ${name}`);
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

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A target's body for one request: a function body is called each time (e.g. a new businessId). */
const bodyOf = (target) => (typeof target.body === 'function' ? target.body() : target.body);

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

/**
 * CPU seconds used so far by every process named `postgres` on this machine (the server's
 * backends, WAL writer, checkpointer...), by pid. Only meaningful when the server is local.
 */
function postgresCpu() {
  const byPid = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(entry, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the process is gone
    }
  }
  return byPid;
}

/** CPU seconds used between two postgresCpu() snapshots (processes started in between count in full). */
function postgresCpuBetween(before, after) {
  let seconds = 0;
  for (const [pid, cpu] of after) seconds += cpu - (before.get(pid) ?? 0);
  return seconds;
}

/**
 * Runs autocannon against one target; also records the CPU used by the server, by this (load)
 * process and, for PostgreSQL, by the postgres processes.
 */
async function load(port, target, seconds, serverPid, { postgres = false } = {}) {
  globalThis.gc?.();
  const serverCpu0 = cpuSecondsOf(serverPid);
  const loaderCpu0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const pg0 = postgres ? postgresCpu() : undefined;
  const t0 = process.hrtime.bigint();
  const dynamicBody = typeof target.body === 'function';
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${target.path}`,
    method: target.method,
    headers: headersOf(target),
    body: dynamicBody ? undefined : bodyText(target.body),
    // A body built for every request (autocannon calls setupRequest before each one it sends).
    requests: dynamicBody
      ? [{ method: target.method, path: target.path, setupRequest: (req) => ({ ...req, body: bodyText(target.body()) }) }]
      : undefined,
    connections: target.connections ?? CONFIG.connections,
    pipelining: CONFIG.pipelining,
    duration: seconds,
    timeout: 10,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const loaderCpu = process.cpuUsage(loaderCpu0);
  const serverCpu = (cpuSecondsOf(serverPid) - serverCpu0) / wall;
  const loaderCpuShare = (loaderCpu.user + loaderCpu.system) / 1e6 / wall;
  const postgresCpuShare = postgres ? postgresCpuBetween(pg0, postgresCpu()) / wall : 0;
  return {
    serverCpu,
    loaderCpu: loaderCpuShare,
    postgresCpu: postgresCpuShare,
    // CPU that neither the server, nor the load generator, nor PostgreSQL used: other processes on the machine (noise).
    otherCpu: Math.max(0, (machineBusySeconds() - machine0) / wall - serverCpu - loaderCpuShare - postgresCpuShare),
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    total: result.requests.total,
    sent: result.requests.sent,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  };
}

async function verify(port, target) {
  const sent = bodyOf(target);
  const res = await request(port, target.method, target.path, sent, headersOf(target));
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${target.name}: ${target.method} ${target.path} answered HTTP ${res.status}: ${res.text.slice(0, 500)}`);
  }
  const json = parseJson(res.text);
  if (json === undefined) throw new Error(`${target.name}: answer is not JSON: ${res.text.slice(0, 500)}`);
  try {
    target.verify?.(json, sent);
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
// Plinth's outbox, read directly: a target that leaves events behind is followed by a wait for
// them, and the complaints are counted in the outbox as well as through the API.

/**
 * A read-only view of Plinth's database: on SQLite the file itself (WAL lets a reader in beside
 * Plinth's writer), on PostgreSQL the bench's database. `count(sql, params)` answers `n`.
 */
async function openOutboxProbe({ databaseUrl, dataDir }) {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3_000 });
    client.on('error', () => undefined);
    await client.connect();
    return {
      count: async (text, params = []) => Number((await client.query(text, params)).rows[0].n),
      close: () => client.end().catch(() => undefined),
    };
  }
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(path.join(dataDir, 'plinth.db'), { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return {
    count: async (text, params = []) => Number(db.prepare(text.replace(/\$\d+/g, '?')).get(...params).n),
    close: async () => db.close(),
  };
}

const PENDING_EVENTS = "select count(*) as n from plinth_outbox where status = 'pending'";
/** How long the bench waits for the outbox to drain after a run before it gives up (the run is then invalid). */
const DRAIN_TIMEOUT_MS = 300_000;

/** Waits until no event is pending; answers the backlog when the run stopped and the seconds it took to drain. */
async function drainOutbox(probe) {
  const t0 = Date.now();
  const backlog = await probe.count(PENDING_EVENTS);
  let pending = backlog;
  while (pending > 0) {
    if (Date.now() - t0 > DRAIN_TIMEOUT_MS) {
      throw new Error(
        `the outbox still has ${pending} pending events ${DRAIN_TIMEOUT_MS / 1000} s after the run (${backlog} when it stopped)`,
      );
    }
    await sleep(200);
    pending = await probe.count(PENDING_EVENTS);
  }
  return { backlog, drainSeconds: (Date.now() - t0) / 1000 };
}

// ---------------------------------------------------------------------------------------------
// The run.

/** The order of a measured round: the baseline first, then the other targets rotated by round - 1 places. */
function roundOrder(targets, round) {
  const [first, ...rest] = targets;
  const shift = (round - 1) % rest.length;
  return [first, ...rest.slice(shift), ...rest.slice(0, shift)];
}

/** The Node flags of `npm start` (e.g. the young-generation size that keeps idle RSS down). */
function startFlags() {
  const startScript = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  return startScript.split(/\s+/).filter((arg) => arg.startsWith('--'));
}

/** Logs in as the admin and proves that auth is on (a garbage and a tampered token get 401). */
async function loginAdmin(port) {
  const login = await request(port, 'POST', '/user/oauth/token', LOGIN_FORM, FORM_HEADERS);
  const loginJson = parseJson(login.text);
  if (login.status !== 200 || typeof loginJson?.access_token !== 'string') {
    throw new Error(`login as ${ADMIN.username} failed: HTTP ${login.status}: ${login.text.slice(0, 500)}`);
  }
  auth.token = loginJson.access_token;

  const [head, payload, signature] = auth.token.split('.');
  const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
  for (const [what, token] of [
    ['garbage token', 'not-a-token'],
    ['token with a tampered signature', `${head}.${payload}.${flipped}`],
  ]) {
    const res = await request(port, 'POST', '/mdms-v2/v2/_search', MDMS_V2_SEARCH, { ...JSON_HEADERS, authorization: `Bearer ${token}` });
    if (res.status !== 401)
      throw new Error(`MDMS v2 _search with a ${what} answered HTTP ${res.status}, not 401: auth is not on? ${res.text.slice(0, 300)}`);
  }
}

/** 2xx answers autocannon counted in a list of runs. */
const answered = (runs) => runs.reduce((sum, r) => sum + r.total - r.non2xx, 0);

/**
 * One database: starts Plinth on it (fresh DATA_DIR, and for PostgreSQL the bench's fresh
 * database), verifies, warms up and measures every target of that database interleaved with the
 * baseline, then stops Plinth. Answers the figures.
 */
async function runSuite({ db, label, databaseUrl, baseline, baselinePort }) {
  const isPostgres = db === 'postgres';
  auth.token = undefined;
  auth.csrToken = undefined;
  auth.citizenToken = undefined;
  auth.citizenUuid = undefined;
  const profDir = path.join(tmpDir, `prof-${db}`);
  const ports = { baseline: baselinePort, plinth: await freePort() };
  const plinthEnv = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(ports.plinth),
    HOST: '127.0.0.1',
    DATA_DIR: path.join(tmpDir, `data-${db}`),
    PLINTH_SEED_DIR: path.join(ROOT, 'seed'),
    LOG_LEVEL: 'warn',
    PLINTH_ADMIN_PASSWORD: ADMIN.password,
    PLINTH_LOGIN_RATE_LIMIT: String(LOGIN_RATE_LIMIT),
    PLINTH_ANONYMOUS_RATE_LIMIT: String(LOGIN_RATE_LIMIT),
  };
  delete plinthEnv.DATABASE_URL;
  delete plinthEnv.EVENT_BUS_URL;
  delete plinthEnv.NODE_OPTIONS;
  delete plinthEnv.BENCH_DATABASE_URL;
  if (databaseUrl) plinthEnv.DATABASE_URL = databaseUrl;
  const plinthArgs = [
    ...startFlags(),
    ...(CONFIG.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    path.join(ROOT, 'bin/plinth.js'),
    'start',
  ];
  const startedAt = Date.now();
  const plinth = startChild(`plinth (${label})`, plinthArgs, plinthEnv, path.join(tmpDir, `plinth-${db}.log`));
  const servers = { baseline, plinth };
  await waitReady(plinth, ports.plinth, 120_000);
  const readyMs = Date.now() - startedAt;
  say(`bench: [${label}] Plinth ready (first start, including migrations and seeding, ${readyMs} ms); idling ${CONFIG.idle} s`);
  await sleep(CONFIG.idle * 1000);
  const rss = {
    plinth: { idle: memoryOf(plinth.child.pid).rss },
    baseline: { idle: memoryOf(baseline.child.pid).rss },
  };

  await loginAdmin(ports.plinth);
  say(`bench: [${label}] logged in as ${ADMIN.username}; a garbage token and a tampered token are refused with 401`);

  // Set up, then verify every target once: a benchmark of an error page measures nothing. A
  // skippable target that fails is left out of this database's run, with the reason printed.
  const skipped = [];
  const bytes = new Map();
  const candidates = TARGETS.filter((t) => !(isPostgres && t.sqliteOnly));
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
  const ids = targets.find((t) => t.unit === 'ids');
  const idsVerified = ids ? 1 : 0;
  const complaints = targets.find((t) => t.unit === 'complaints');
  const probe = targets.some((t) => t.drain) ? await openOutboxProbe({ databaseUrl, dataDir: plinthEnv.DATA_DIR }) : undefined;
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
  const problems = [];

  // The complaints stored, against the 2xx answers counted: every answer must be a stored
  // complaint, and nothing may be stored that was never sent. Requests still in flight when a run
  // ended are answered (and committed) after autocannon stopped counting, so the count may exceed
  // the answers by at most those. Each stored complaint must have its `created` event in the outbox.
  let complaintsLine;
  let complaintsStored = 0;
  if (complaints) {
    const res = await request(ports.plinth, 'POST', COMPLAINT_COUNT_PATH, { RequestInfo: {} }, bearer());
    const stored = parseJson(res.text)?.count;
    const list = [warmups.get(complaints), ...runs.get(complaints)];
    const counted = answered(list) + 1; // + the verification's
    const sent = list.reduce((sum, r) => sum + r.sent, 0) + 1;
    const events = await probe.count('select count(*) as n from plinth_outbox where type = $1', ['plinth.complaint.created.v1']);
    const dead =
      (await probe.count('select count(*) as n from plinth_event_dead_letter')) +
      (await probe.count("select count(*) as n from plinth_outbox where status = 'dead'"));
    if (res.status !== 200 || !Number.isInteger(stored)) {
      complaintsLine = `complaints: could not count them after the load (HTTP ${res.status}: ${res.text.slice(0, 200)})`;
      problems.push(complaintsLine);
    } else {
      complaintsStored = stored;
      const ok = stored >= counted && stored <= sent && events === stored && dead === 0;
      complaintsLine =
        `complaints: ${stored} stored (\`_count\`) for ${counted} 2xx answers counted and ${sent} requests sent ` +
        `(${stored - counted} answered after autocannon stopped counting, of ${sent - counted} in flight); ` +
        `${events} \`plinth.complaint.created.v1\` events in the outbox; ${dead} dead letters` +
        (ok ? ': every answer is a stored complaint' : ': **MISMATCH**');
      if (!ok) problems.push(complaintsLine);
    }
    say(`bench: [${label}] ${complaintsLine}`);
  }
  await probe?.close();

  // The idgen counter after the load, against the 2xx answers counted: fewer numbers than answers
  // would mean a number was issued twice. More is expected: requests still in flight when a run
  // ended were answered (and committed) after autocannon stopped counting. Every stored complaint
  // took its number from the same sequence.
  let idsLine;
  if (ids) {
    const last = await request(ports.plinth, ids.method, ids.path, ids.body, headersOf(ids));
    const value = Number(PGR_ID.exec(parseJson(last.text)?.idResponses?.[0]?.id ?? '')?.[1]);
    const counted = answered([warmups.get(ids), ...runs.get(ids)]) + idsVerified + 1 + complaintsStored;
    idsLine =
      last.status !== 200 || !Number.isFinite(value)
        ? `idgen counter: could not read it after the load (HTTP ${last.status}: ${last.text.slice(0, 200)})`
        : `idgen counter: ${value} numbers issued (SEQ_EG_PGR_ID) for ${counted} 2xx answers counted` +
          (complaintsStored ? ` (ids: ${counted - complaintsStored}, stored complaints: ${complaintsStored})` : '') +
          (value >= counted
            ? ` (${value - counted} more: answered after autocannon stopped counting): no number issued twice`
            : `: **${counted - value} FEWER than answers: numbers were issued twice**`);
    if (!(value >= counted)) problems.push(idsLine);
    say(`bench: [${label}] ${idsLine}`);
  }

  const after = memoryOf(plinth.child.pid);
  rss.plinth.afterLoad = after.rss;
  rss.plinth.peak = after.hwm;
  const baselineAfter = memoryOf(baseline.child.pid);
  rss.baseline.afterLoad = baselineAfter.rss;
  rss.baseline.peak = baselineAfter.hwm;

  // Stop the platform cleanly (so a CPU profile gets written).
  await stopChild(plinth);

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
  const results = { rows, rss };
  const checks = CHECKS.map((check) => {
    try {
      return check(results);
    } catch (error) {
      return { name: 'a goal', pass: false, detail: `could not be evaluated: ${error.message}` };
    }
  });
  return {
    db,
    label,
    isPostgres,
    targets,
    rows,
    rss,
    checks,
    runs,
    orders,
    skipped,
    idsLine,
    complaintsLine,
    problems,
    warmups,
    readyMs,
    invalid: rows.filter((r) => r.invalid),
    profile: CONFIG.cpuProf ? summariseProfile(profDir) : '',
  };
}

/** One database's figures as Markdown: the main table, memory, per round, goals, validity, noise. */
function renderSuite(s) {
  const mb = (kb) => (kb / 1024).toFixed(1);
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
    '| process | idle RSS MB | RSS after load MB | peak RSS (VmHWM) MB |',
    '|---|---:|---:|---:|',
    `| Plinth (\`plinth start\`, ${s.label}) | ${mb(s.rss.plinth.idle)} | ${mb(s.rss.plinth.afterLoad)} | ${mb(s.rss.plinth.peak)} |`,
    `| baseline node:http | ${mb(s.rss.baseline.idle)} | ${mb(s.rss.baseline.afterLoad)} | ${mb(s.rss.baseline.peak)} |`,
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
  const lines = [
    ...s.checks.map((c) => `${c.pass ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`),
    ...(s.idsLine ? [s.idsLine] : []),
    ...(s.complaintsLine ? [s.complaintsLine] : []),
    ...drains,
    ...s.problems.map((p) => `INVALID: ${p}`),
    validity,
    noise,
  ];
  return {
    text:
      `${table}\n\n${notes}\n\n${memory}\n\nPer round (order: the targets' numbers in the order they ran, 1 = first row of the table above):\n\n` +
      `${perRound}\n\n${lines.join('\n')}`,
    markdown:
      `${table}\n\n${notes}\n\n${memory}\n\nPer round (order: the targets' numbers in the order they ran, 1 = first row of the table above):\n\n` +
      `${perRound}\n\n${lines.map((l) => `- ${l}`).join('\n')}`,
  };
}

/** Bulk registration of people next to raw inserts of the same rows, per database. */
function renderRegistry(rows) {
  if (rows.length === 0) return '';
  return [
    '## Registries: bulk create of individuals',
    '',
    `${rows[0].count} synthetic people (10% corrupted duplicates), \`/individual/v1/bulk/_create\` in batches of ${rows[0].batch} through Fastify's inject ` +
      '(schema, auth, validation, idgen, AES-256-GCM per personal field, blind indexes, dedup encodings, outbox; one transaction per batch), ' +
      'against plain multi-row INSERTs of the same rows in plaintext into a scratch table of the same database, batched the same way.',
    '',
    '| database | bulk create, records/s | raw inserts, records/s | ratio | accepted | refused | flagged as potential duplicates |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) => `| ${r.label} | ${r.bulkPerSecond} | ${r.rawPerSecond} | ${r.ratio} | ${r.accepted} | ${r.refused} | ${r.duplicatesFlagged} |`,
    ),
    '',
  ].join('\n');
}

/** Deduplication accuracy across thresholds and linkage speed, as bench/dedup.js reports them. */
function renderDedup(result) {
  return ['## Deduplication', '', result.markdown ?? `\`\`\`json\n${JSON.stringify(result, null, 2)}\n\`\`\``, ''].join('\n');
}

async function main() {
  ({ default: autocannon } = await import('autocannon'));
  if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run bench` (it builds first)');
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-'));

  say(
    `bench: ${CONFIG.suites.join(', ')} on ${CONFIG.databases.join(', ')}` +
      (CONFIG.suites.includes('http')
        ? `; HTTP: ${CONFIG.rounds} rounds x ${CONFIG.duration} s per target, ${CONFIG.warmup} s warm-up, ` +
          `${CONFIG.connections} connections, pipelining ${CONFIG.pipelining}${CONFIG.cpuProf ? ', CPU PROFILING ON' : ''}`
        : '') +
      (CONFIG.suites.includes('registry') ? `; registry: ${CONFIG.individuals} people in batches of ${CONFIG.individualBatch}` : ''),
  );

  const suites = [];
  const notes = [];
  let postgresInfo;
  let postgresProbed = false;
  /** The PostgreSQL server, once probed; undefined (with a note) when it does not answer. */
  const postgres = async () => {
    if (!CONFIG.databases.includes('postgres')) return undefined;
    if (!postgresProbed) {
      postgresProbed = true;
      try {
        postgresInfo = await probePostgres(CONFIG.databaseUrl);
      } catch (error) {
        const line = `PostgreSQL SKIPPED: ${redact(CONFIG.databaseUrl)} is not reachable (${error.message}); set BENCH_DATABASE_URL to a server the bench may create databases on`;
        say(`bench: ${line}`);
        notes.push(line);
      }
    }
    return postgresInfo;
  };

  if (CONFIG.suites.includes('http')) {
    // The baseline runs for the whole HTTP part; each database's rounds measure it again.
    const baselinePort = await freePort();
    const baseline = startChild(
      'baseline',
      [SELF, '--baseline-server', String(baselinePort)],
      { PATH: process.env.PATH, NODE_ENV: 'production' },
      path.join(tmpDir, 'baseline.log'),
    );
    await waitReady(baseline, baselinePort);
    if (CONFIG.databases.includes('sqlite')) {
      suites.push(await runSuite({ db: 'sqlite', label: 'SQLite', baseline, baselinePort }));
    }
    if (await postgres()) {
      const created = await createBenchDatabase(CONFIG.databaseUrl);
      say(
        `bench: PostgreSQL ${postgresInfo.version} at ${redact(CONFIG.databaseUrl)} (fsync ${postgresInfo.fsync}, synchronous_commit ` +
          `${postgresInfo.synchronousCommit}, wal_sync_method ${postgresInfo.walSyncMethod}): created database ${created.name}`,
      );
      suites.push(
        await runSuite({
          db: 'postgres',
          label: `PostgreSQL ${postgresInfo.version.split(' ')[0]}`,
          databaseUrl: created.url,
          baseline,
          baselinePort,
        }),
      );
      await dropBenchDatabase();
    }
    await stopChild(baseline);
  }

  // Registries: bulk registration of people, in this process, against raw inserts of the same rows.
  const registry = [];
  if (CONFIG.suites.includes('registry')) {
    const { benchIndividualBulk } = await import('./individual.js');
    const run = async (label, databaseUrl) => {
      const dataDir = fs.mkdtempSync(path.join(tmpDir, 'registry-'));
      const result = await benchIndividualBulk({
        databaseUrl,
        dataDir,
        count: CONFIG.individuals,
        batch: CONFIG.individualBatch,
        log: (line) => say(`bench: ${line}`),
      });
      registry.push({ label, ...result });
    };
    if (CONFIG.databases.includes('sqlite')) await run('SQLite', undefined);
    if (await postgres()) {
      const created = await createBenchDatabase(CONFIG.databaseUrl);
      try {
        await run(`PostgreSQL ${postgresInfo.version.split(' ')[0]}`, created.url);
      } finally {
        await dropBenchDatabase();
      }
    }
  }

  let events;
  if (CONFIG.suites.includes('events')) {
    const { benchEvents } = await import('./events.js');
    const server = await postgres();
    events = await benchEvents({
      databaseUrl: server ? CONFIG.databaseUrl : undefined,
      natsUrl: process.env.BENCH_NATS_URL || 'nats://127.0.0.1:4222',
      count: Math.round(numberEnv('BENCH_EVENTS', 20_000)),
      producers: Math.round(numberEnv('BENCH_EVENT_PRODUCERS', 4)),
      pacedCount: Math.round(numberEnv('BENCH_EVENT_PACED', 3_000)),
      pacedRate: numberEnv('BENCH_EVENT_RATE', 200),
      rounds: Math.round(numberEnv('BENCH_EVENT_ROUNDS', 3)),
      log: (line) => say(`bench: ${line}`),
    });
  }

  let dedup;
  if (CONFIG.suites.includes('dedup')) {
    const { benchDedup } = await import('./dedup.js');
    dedup = await benchDedup({ log: (line) => say(`bench: ${line}`) });
  }

  const rendered = suites.map((s) => ({ suite: s, ...renderSuite(s) }));
  for (const { suite, text } of rendered) {
    console.log(`\n## ${suite.label}\n\n${text}`);
    if (suite.profile)
      console.log(
        `\nPlinth CPU profile (${suite.label}; whole life of the process: start, seeding, warm-up and load):\n\n${suite.profile}`,
      );
  }
  const extra = [renderRegistry(registry), events ? `## Events\n\n${events.markdown}` : '', dedup ? renderDedup(dedup) : '']
    .filter(Boolean)
    .join('\n');
  if (extra) console.log(`\n${extra}`);
  if (notes.length) console.log(`\n${notes.join('\n')}`);

  const cpus = os.cpus();
  const meta = [
    `- date: ${new Date().toISOString()}`,
    `- node: ${process.version}; nproc: ${os.availableParallelism()}; CPU: ${cpus[0]?.model ?? 'unknown'}; RAM: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- commit: ${gitCommit()}`,
    `- settings: ${CONFIG.rounds} rounds x ${CONFIG.duration} s, ${CONFIG.warmup} s warm-up per target, ${CONFIG.connections} connections, pipelining ${CONFIG.pipelining}, Plinth LOG_LEVEL=warn, PLINTH_LOGIN_RATE_LIMIT=${LOGIN_RATE_LIMIT}, PLINTH_ANONYMOUS_RATE_LIMIT=${LOGIN_RATE_LIMIT}, login target ${TARGETS.find((t) => t.name.startsWith('login'))?.connections} connections (${ARGON2_TEXT})${CONFIG.cpuProf ? ', **CPU profiling on (not comparable)**' : ''}`,
    ...suites.map(
      (s) =>
        `- ${s.label}: Plinth first start to ready (fresh DATA_DIR${s.isPostgres ? ' and database' : ''}, migrations and seeding included): ${s.readyMs} ms`,
    ),
    ...(postgresInfo
      ? [
          `- PostgreSQL: ${postgresInfo.version} at ${redact(CONFIG.databaseUrl)}, fsync ${postgresInfo.fsync}, synchronous_commit ${postgresInfo.synchronousCommit}, wal_sync_method ${postgresInfo.walSyncMethod}; Plinth's pool: 10 connections`,
        ]
      : []),
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
  const outDir = path.join(ROOT, 'bench/results');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    path.join(outDir, 'latest.md'),
    `# Plinth benchmark — latest run\n\n${meta}\n` +
      rendered
        .map(
          ({ suite, markdown }) =>
            `\n## ${suite.label}\n\n${markdown}\n` +
            (suite.profile ? `\n### Plinth CPU profile (${suite.label})\n\n${suite.profile}\n` : ''),
        )
        .join('') +
      (extra ? `\n${extra}` : ''),
  );
  say(`bench: wrote ${path.relative(ROOT, path.join(outDir, 'latest.md'))}`);

  killAllNow();
  process.exitCode =
    suites.some((s) => s.invalid.length || s.problems.length) ||
    registry.some((r) => r.refused > 0) ||
    events?.results.some((r) => !r.valid)
      ? 1
      : 0;
}

if (process.argv[2] === '--baseline-server') {
  runBaselineServer(Number(process.argv[3]));
} else {
  installCleanup();
  main().catch(async (error) => {
    if (stopping) return; // the signal handler is cleaning up and will exit
    console.error(`bench: FAILED: ${error?.stack ?? error}`);
    killAllNow();
    await dropBenchDatabase().catch((dropError) => console.error(`bench: could not drop the bench database: ${dropError.message}`));
    process.exit(1);
  });
}
