// The platform under test: `node bin/plinth.js start` with the Node flags of `npm start`, on a fresh
// DATA_DIR (and for PostgreSQL the bench's fresh database), LOG_LEVEL=warn; and the users the
// HTTP suites act as.
//
// Plinth gets PLINTH_ADMIN_PASSWORD (the SUPERUSER `admin` of tenant `pb` is created on first
// start), PLINTH_ANONYMOUS_RATE_LIMIT raised so that the per-client limit on calls without a token
// (300 a minute by default) does not turn the anonymous MDMS targets into 429s, and
// PLINTH_LOGIN_RATE_LIMIT raised so that the per-address login limit does not throttle the login
// target. The bench logs in once before the load; the authenticated targets send that token as
// `Authorization: Bearer`.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, expect } from './config.js';
import { FORM_HEADERS, JSON_HEADERS, parseJson, request } from './http.js';
import { freePort, startChild, tmpDir, waitReady } from './processes.js';

/** The SUPERUSER Plinth creates on first start with PLINTH_ADMIN_PASSWORD (EMPLOYEE of the state tenant `pb`). */
export const ADMIN = { username: 'admin', password: 'Bench@2026x', tenantId: 'pb', userType: 'EMPLOYEE' };
/** Logins (and calls without a token) per address per minute allowed to the bench (Plinth's defaults would throttle the load). */
export const LOGIN_RATE_LIMIT = 1_000_000;
/** Plinth's password hashing (src/common/user/user.passwords.ts ARGON2_PARAMS), stated in the report. */
export const ARGON2_TEXT = 'argon2id m=19456 KiB, t=2, p=1';
export const LOGIN_FORM = new URLSearchParams({ ...ADMIN, grant_type: 'password', scope: 'read' }).toString();

/** The search the MDMS targets and the baseline answer; also the call that proves auth is on. */
export const MDMS_V2_SEARCH = {
  RequestInfo: { apiId: 'Rainmaker' },
  MdmsCriteria: { tenantId: 'pb.amritsar', schemaCode: 'common-masters.Department', limit: 10 },
};

/** Access tokens, obtained once per database before any load; suites add their own users' (see `prepare`). */
export const auth = { token: undefined };

export function resetAuth() {
  for (const key of Object.keys(auth)) auth[key] = undefined;
}

/** Headers with a token of `auth` (the admin's by default), for a target's `headers`. */
export const bearerOf =
  (key = 'token') =>
  () => {
    expect(auth[key], `no access token (${key}) yet`);
    return { ...JSON_HEADERS, authorization: `Bearer ${auth[key]}` };
  };
export const bearer = bearerOf('token');

/** The Node flags of `npm start` (e.g. the young-generation size that keeps idle RSS down). */
export function startFlags() {
  const startScript = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  return startScript.split(/\s+/).filter((arg) => arg.startsWith('--'));
}

/**
 * Starts Plinth as an operator would and waits until it is ready. `dataDir` defaults to a fresh
 * directory, so the start is a first start (migrations and seeding included); pass the same one
 * again for a restart. Answers { entry, port, env, readyMs }.
 */
export async function startPlinth({ name, databaseUrl, dataDir = fs.mkdtempSync(path.join(tmpDir(), 'data-')), nodeArgs = [] }) {
  const port = await freePort();
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    PLINTH_SEED_DIR: path.join(ROOT, 'seed'),
    LOG_LEVEL: 'warn',
    PLINTH_ADMIN_PASSWORD: ADMIN.password,
    PLINTH_LOGIN_RATE_LIMIT: String(LOGIN_RATE_LIMIT),
    PLINTH_ANONYMOUS_RATE_LIMIT: String(LOGIN_RATE_LIMIT),
  };
  delete env.DATABASE_URL;
  delete env.EVENT_BUS_URL;
  delete env.NODE_OPTIONS;
  delete env.BENCH_DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const startedAt = Date.now();
  const entry = startChild(
    name,
    [...startFlags(), ...nodeArgs, path.join(ROOT, 'bin/plinth.js'), 'start'],
    env,
    path.join(tmpDir(), `${name.replace(/\W+/g, '-')}.log`),
  );
  await waitReady(entry, port, 120_000);
  return { entry, port, env, readyMs: Date.now() - startedAt };
}

/** Logs in as the admin and proves that auth is on (a garbage and a tampered token get 401). */
export async function loginAdmin(port) {
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

/** Creates a user as the admin (a fresh database each time), logs in as it; answers the login's JSON. */
export async function createAndLogin(port, person, name) {
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
