import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, demoDatabase, type TestDatabase } from '../../../test/helpers.js';

/**
 * The done-when: 1,000 concurrent `_generate` calls from two processes on one PostgreSQL
 * database yield 1,000 distinct ids. Real `plinth start` processes (dist/ is built by the test
 * global setup), real sockets. SQLite is one process by design, so there the same load goes to one.
 */

const CALLS = 1000;
const IN_FLIGHT_PER_PROCESS = 50;
const postgres = process.env['PLINTH_TEST_DB'] === 'postgres';

type Server = { child: ChildProcess; port: number; token: string };

function start(db: TestDatabase): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['bin/plinth.js', 'start'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: db.config.dataDir,
      PLINTH_SEED_DIR: db.config.seedDir,
      PLINTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...(db.config.databaseUrl ? { DATABASE_URL: db.config.databaseUrl } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const found = new Promise<{ child: ChildProcess; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plinth did not start:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      // Keep only what is needed to find the port: the request log of 1,000 calls is not.
      if (output.length < 100_000) output += chunk.toString();
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]) });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`plinth exited (${code}):\n${output}`));
    });
  });
  found.catch(() => undefined);
  return found;
}

async function login(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/user/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ZWdvdi11c2VyLWNsaWVudDo=' },
    body: new URLSearchParams({
      username: 'admin',
      password: ADMIN_PASSWORD,
      tenantId: 'pb',
      userType: 'EMPLOYEE',
      grant_type: 'password',
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

async function generate(server: Server): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${server.port}/egov-idgen/id/_generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
    body: JSON.stringify({ RequestInfo: {}, idRequests: [{ idName: 'pgr.servicerequestid', tenantId: 'pb.amritsar' }] }),
  });
  const body = (await response.json()) as { idResponses?: Array<{ id: string }> };
  if (response.status !== 200 || body.idResponses?.length !== 1)
    throw new Error(`_generate answered ${response.status}: ${JSON.stringify(body)}`);
  return body.idResponses[0]!.id;
}

/** `calls` requests to one server, `inFlight` of them at any moment. */
async function load(server: Server, calls: number, inFlight: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < calls) {
      next++;
      ids.push(await generate(server));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return ids;
}

describe(`${CALLS} concurrent _generate calls (${postgres ? 'PostgreSQL, two processes' : 'SQLite, one process'})`, () => {
  let db: TestDatabase;
  const servers: Server[] = [];
  beforeAll(async () => {
    db = await demoDatabase();
    for (let i = 0; i < (postgres ? 2 : 1); i++) {
      const { child, port } = await start(db);
      servers.push({ child, port, token: '' });
      servers[i]!.token = await login(port);
    }
  }, 120_000);
  afterAll(async () => {
    await Promise.all(
      servers.map(({ child }) =>
        child.exitCode !== null ? undefined : new Promise((resolve) => (child.on('exit', resolve), child.kill('SIGTERM'))),
      ),
    );
    await db?.drop();
  }, 60_000);

  it('yields distinct ids whose sequence numbers never repeat', async () => {
    const share = Math.ceil(CALLS / servers.length);
    const perServer = await Promise.all(
      servers.map((server, i) => load(server, Math.min(share, CALLS - i * share), IN_FLIGHT_PER_PROCESS)),
    );
    for (const ids of perServer) expect(ids.length).toBeGreaterThan(0);
    const ids = perServer.flat();
    expect(ids).toHaveLength(CALLS);
    expect(new Set(ids).size).toBe(CALLS);
    for (const id of ids) expect(id).toMatch(/^PB-PGR-\d{4}-\d{2}-\d{2}-\d{6}$/);
    // Nothing failed, so nothing was rolled back: exactly the numbers 1 … 1000, each once.
    const numbers = ids.map((id) => Number(id.slice(-6))).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: CALLS }, (_, i) => i + 1));
  }, 120_000);
});
