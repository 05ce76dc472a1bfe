import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, demoDatabase, eventually, type TestDatabase } from './helpers.js';
import { call, listeningPort, processEnv, runPlinth, type CallResult, type PlinthProcess } from './process.js';

/**
 * Issue #14, finding 6: PostgreSQL connections dropped under Plinth (a restart, a failover, an idle
 * timeout; here `pg_terminate_backend`) must not end the process. While the database is away
 * requests answer 503 in DIGIT's error shape and /health/ready says DOWN with the cause; work
 * resumes by itself, and every write answered 2xx is in the database. PostgreSQL only.
 */

type Json = Record<string, unknown>;
const requestInfo = { apiId: 'Rainmaker', ver: '.01', ts: 1700000000000, msgId: '20170310130900|en_IN' };

describe.skipIf(process.env['PLINTH_TEST_DB'] !== 'postgres')('a plinth process whose PostgreSQL connections are terminated', () => {
  let db: TestDatabase;
  let run: PlinthProcess;
  let port = 0;
  let auth: Record<string, string> = {};
  let dbName = '';
  let sqlClient: pg.Client;

  beforeAll(async () => {
    db = await demoDatabase();
    dbName = new URL(db.config.databaseUrl!).pathname.slice(1);
    run = runPlinth(['start'], processEnv(db));
    port = await listeningPort(run);
    // The test's own connection, to the server's maintenance database: it is never terminated.
    const serverUrl = new URL(db.config.databaseUrl!);
    serverUrl.pathname = '/postgres';
    sqlClient = new pg.Client({ connectionString: serverUrl.toString() });
    await sqlClient.connect();
    const response = await fetch(`http://127.0.0.1:${port}/user/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ZWdvdi11c2VyLWNsaWVudDo=' },
      body: new URLSearchParams({ username: 'admin', password: ADMIN_PASSWORD, tenantId: 'pb', userType: 'EMPLOYEE', grant_type: 'password', scope: 'read' }),
    });
    const body = (await response.json()) as Json;
    expect(response.status, JSON.stringify(body)).toBe(200);
    auth = { authorization: `Bearer ${String(body['access_token'])}` };
  }, 120_000);
  afterAll(async () => {
    await sqlClient?.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`).catch(() => undefined);
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    await sqlClient?.end().catch(() => undefined);
    await db?.drop();
  });

  const terminateAll = () =>
    sqlClient.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName]);

  let serial = 0;
  function person(): Json {
    serial += 1;
    const tag = `${serial}${Math.random().toString(36).slice(2, 8)}`.replace(/\d/g, (d) => 'abcdefghij'[Number(d)]!);
    return {
      tenantId: 'pb.amritsar',
      clientReferenceId: `resil-${serial}-${tag}`,
      name: { givenName: `Given${tag}`, familyName: 'Resilient' },
      dateOfBirth: '14/03/1985',
      gender: 'FEMALE',
    };
  }
  const create = (individual: Json): Promise<CallResult> =>
    call(port, '/individual/v1/_create', { RequestInfo: requestInfo, Individual: individual }, auth);

  async function storedReferences(references: readonly string[]): Promise<Set<string>> {
    const client = new pg.Client({ connectionString: db.config.databaseUrl });
    await client.connect();
    try {
      const result = await client.query<{ client_reference_id: string }>(
        'SELECT client_reference_id FROM individual WHERE client_reference_id = ANY($1)',
        [references],
      );
      return new Set(result.rows.map((row) => row.client_reference_id));
    } finally {
      await client.end();
    }
  }

  function expectUnavailable(result: CallResult) {
    expect(result.status, JSON.stringify(result.body)).toBe(503);
    expect(result.body).toMatchObject({ ResponseInfo: null, Errors: [{ code: 'DB_UNAVAILABLE' }] });
  }

  it('survives its idle connections being terminated, and the next requests succeed', async () => {
    expect((await create(person())).status).toBe(200);
    const killed = await terminateAll();
    expect(killed.rowCount).toBeGreaterThan(0);
    // The pool's idle clients and the change feed's LISTEN client all lost their connection.
    await new Promise((r) => setTimeout(r, 500));
    expect(run.child.exitCode).toBeNull();
    await eventually(async () => (await create(person())).status === 200, 20_000, 'a write after the kill');
    expect((await call(port, '/health/ready')).status).toBe(200);
    expect(run.child.exitCode).toBeNull();
  });

  it('answers 503 and readiness DOWN while the database refuses connections, and resumes when it is back', async () => {
    await sqlClient.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    await terminateAll();
    try {
      expectUnavailable(await create(person()));
      const ready = await call(port, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'DOWN', components: { db: { status: 'DOWN', details: { code: 'DB_UNAVAILABLE' } } } });
      expect(run.child.exitCode).toBeNull();
    } finally {
      await sqlClient.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
    }
    await eventually(async () => (await create(person())).status === 200, 20_000, 'a write once the database is back');
    expect(await call(port, '/health/ready')).toMatchObject({ status: 200, body: { status: 'UP' } });
  });

  it('50 clients writing while every connection is terminated again and again: 503s, then successes, nothing acknowledged lost', async () => {
    const acknowledged: string[] = [];
    const statuses = new Map<number, number>();
    const unexpected: CallResult[] = [];
    let okAfterKills = 0;
    let killing = true;
    let writing = true;

    async function client() {
      while (writing) {
        const individual = person();
        let result: CallResult;
        try {
          result = await create(individual);
        } catch (error) {
          unexpected.push({ status: -1, body: { error: String(error) } });
          continue;
        }
        statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
        if (result.status === 200) {
          acknowledged.push(String(individual['clientReferenceId']));
          if (!killing) okAfterKills += 1;
        } else if (result.status !== 503 || (result.body['Errors'] as Json[] | undefined)?.[0]?.['code'] !== 'DB_UNAVAILABLE') {
          unexpected.push(result);
        }
      }
    }

    const clients = Array.from({ length: 50 }, () => client());
    // Let the writers get going, then terminate every backend of the database every 100 ms for 4 s.
    await new Promise((r) => setTimeout(r, 1000));
    let kills = 0;
    const until = Date.now() + 4000;
    while (Date.now() < until) {
      kills += (await terminateAll()).rowCount ?? 0;
      await new Promise((r) => setTimeout(r, 100));
    }
    killing = false;
    await eventually(async () => okAfterKills >= 50, 30_000, '50 successful writes after the kills');
    writing = false;
    await Promise.all(clients);

    expect(run.child.exitCode, run.output().slice(-3000)).toBeNull();
    expect(kills).toBeGreaterThan(10);
    expect(unexpected, JSON.stringify(unexpected.slice(0, 3))).toEqual([]);
    expect(statuses.get(503) ?? 0, JSON.stringify([...statuses])).toBeGreaterThan(0);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(50);
    const stored = await storedReferences(acknowledged);
    expect(acknowledged.filter((reference) => !stored.has(reference))).toEqual([]);
    expect((await call(port, '/health/ready')).status).toBe(200);
  }, 90_000);
});
