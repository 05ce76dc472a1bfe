import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Config } from '../src/kernel/config.js';
import { createPlatform, type Platform, type PlatformOptions } from '../src/platform.js';
import { ADMIN_PASSWORD, SEED_DIR, adminQuery, baseConfig, copyDemoTemplate, databaseUrl, type DemoTemplate } from './template.js';

export { ADMIN_PASSWORD, SEED_DIR };

/**
 * A stand-in for the built web apps (web/dist/): the platform adds the web apps' routes only where
 * they are built, so tests that walk every route use this to see them without `npm run build:web`.
 */
export const WEB_STAND_IN = path.resolve('test/fixtures/web');

export type TestDatabase = { config: Config; drop(): Promise<void> };

/**
 * A database of its own for one test file: a temporary SQLite directory, or a new PostgreSQL
 * database on the server of TEST_DATABASE_URL when the suite runs on PostgreSQL. Empty, unless
 * `template` is given: then a copy of that migrated and seeded state (see template.ts).
 */
export async function testDatabase(overrides: Partial<Config> = {}, template?: DemoTemplate): Promise<TestDatabase> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-test-'));
  const base = baseConfig(dataDir);
  if (process.env['PLINTH_TEST_DB'] !== 'postgres') {
    if (template) await copyDemoTemplate(template, dataDir);
    return {
      config: { ...base, ...overrides },
      drop: () => fs.rm(dataDir, { recursive: true, force: true }),
    };
  }
  const serverUrl = process.env['TEST_DATABASE_URL'];
  if (!serverUrl) throw new Error('PLINTH_TEST_DB=postgres needs TEST_DATABASE_URL');
  const name = `plinth_t_${randomBytes(6).toString('hex')}`;
  if (template) await copyDemoTemplate(template, dataDir, { serverUrl, name });
  else await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  return {
    config: { ...base, databaseUrl: databaseUrl(serverUrl, name), ...overrides },
    async drop() {
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A database of its own holding a copy of the demo state (what a first start leaves: see
 * template.ts), for a test that starts `plinth` processes on it: they skip the first start, seconds
 * of CPU each. Tests of the first start itself take an empty testDatabase().
 */
export function demoDatabase(overrides: Partial<Config> = {}): Promise<TestDatabase> {
  return testDatabase(overrides, inject('plinthDemoTemplate'));
}

export type TestPlatform = Platform & { drop(): Promise<void> };

export type TestPlatformOptions = PlatformOptions & {
  config?: Partial<Config>;
  /**
   * Run the real first start on an empty database (every migration, the whole seed/, the
   * administrator) instead of copying the demo state global-setup.ts built once for the run.
   * For tests of first start, seeding and migrations. A clock set away from now, or overrides
   * of what the first start reads (seed directory, admin password, master key, where the data
   * lives), get the real first start too, so seeded times and keys are what they would be.
   */
  firstStart?: boolean;
};

/** Config keys the first start reads: overriding one of them needs a real first start. */
const FIRST_START_KEYS: ReadonlyArray<keyof Config> = ['seedDir', 'adminPassword', 'masterKey', 'masterKeyFile', 'dataDir', 'databaseUrl'];

function demoTemplate(options: TestPlatformOptions): DemoTemplate | undefined {
  if (options.firstStart) return undefined;
  if (options.clock && Math.abs(options.clock.now() - Date.now()) > 3_600_000) return undefined;
  if (FIRST_START_KEYS.some((key) => options.config?.[key] !== undefined)) return undefined;
  return inject('plinthDemoTemplate');
}

/** A started platform with the demo state loaded, on its own database. */
export async function testPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const template = demoTemplate(options);
  const db = await testDatabase(options.config, template);
  const platform = await createPlatform(db.config, { seedOnFirstStart: true, ...options });
  await platform.bootstrapAdmin();
  await platform.start();
  // On a copy, the demo employees' one-time passwords are the ones the template's first start answered.
  let seededLogins = template ? [...template.seededLogins] : undefined;
  return {
    ...platform,
    takeSeededLogins() {
      const taken = [...(seededLogins ?? []), ...platform.takeSeededLogins()];
      seededLogins = undefined;
      return taken;
    },
    async drop() {
      await platform.stop();
      await db.drop();
    },
  };
}

/** POST a JSON body through the app without a socket. */
export async function post(platform: Platform, url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await platform.app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, headers: response.headers };
}

export const requestInfo = { apiId: 'Rainmaker', ver: '.01', ts: 1700000000000, msgId: '20170310130900|en_IN' };

/** Logs in through DIGIT's token endpoint (form-encoded); answers the token JSON. */
export async function login(platform: Platform, username: string, password: string, tenantId: string, userType = 'EMPLOYEE') {
  const response = await platform.app.inject({
    method: 'POST',
    url: '/user/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ZWdvdi11c2VyLWNsaWVudDo=' },
    payload: new URLSearchParams({ username, password, tenantId, userType, grant_type: 'password', scope: 'read' }).toString(),
  });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

/** The bootstrap administrator's bearer header (SUPERUSER on `pb`). */
export async function adminAuth(platform: Platform): Promise<Record<string, string>> {
  const { status, body } = await login(platform, 'admin', ADMIN_PASSWORD, 'pb');
  if (status !== 200) throw new Error(`admin login failed: ${status} ${JSON.stringify(body)}`);
  return { authorization: `Bearer ${String(body['access_token'])}` };
}

/** DIGIT's error body: `{ResponseInfo: null, Errors: [{code, message, …}, …]}`. */
export function isDigitError(json: unknown): boolean {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return false;
  const body = json as Record<string, unknown>;
  const errors = body['Errors'];
  return (
    body['ResponseInfo'] === null &&
    Array.isArray(errors) &&
    errors.length > 0 &&
    errors.every((e: unknown) => {
      const error = e as Record<string, unknown> | null;
      return !!error && typeof error === 'object' && typeof error['code'] === 'string' && error['code'] !== '' && typeof error['message'] === 'string';
    })
  );
}

/**
 * Creates an EMPLOYEE with these roles (through `/user/users/_createnovalidate`, as `admin`) and
 * logs it in; answers its bearer header. Fails loudly when either step is refused.
 */
export async function employeeAuth(
  platform: Platform,
  admin: Record<string, string>,
  userName: string,
  roles: readonly string[],
  tenantId = 'pb.amritsar',
): Promise<Record<string, string>> {
  const password = 'Field@2026x';
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: {
        userName,
        name: `Field ${userName}`,
        password,
        type: 'EMPLOYEE',
        tenantId,
        mobileNumber: '9812345678',
        roles: roles.map((code) => ({ code, tenantId })),
      },
    },
    admin,
  );
  if (created.status !== 200) throw new Error(`creating ${userName} failed: ${created.status} ${JSON.stringify(created.body)}`);
  const { status, body } = await login(platform, userName, password, tenantId);
  if (status !== 200) throw new Error(`${userName} login failed: ${status} ${JSON.stringify(body)}`);
  return { authorization: `Bearer ${String(body['access_token'])}` };
}

/** Polls `probe` until it answers something truthy (or throws after `timeoutMs`). */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
