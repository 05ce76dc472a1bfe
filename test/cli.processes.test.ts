import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_DIR, testDatabase, type TestDatabase } from './helpers.js';
import { call, listeningPort, runPlinth } from './process.js';

// These tests run several `plinth` processes one after another: under a loaded suite they need longer than the default 30 s.
const PROCESSES_TIMEOUT_MS = 120_000;

/** The userNames of the demo employees in seed/user/. */
function demoEmployees(): string[] {
  return readdirSync(path.join(SEED_DIR, 'user'))
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => (JSON.parse(readFileSync(path.join(SEED_DIR, 'user', f), 'utf8')) as { employees: Array<{ userName: string }> }).employees)
    .map((e) => e.userName);
}

/** The employees and one-time passwords printed by `start` or `seed` (one line each). */
function printedEmployees(output: string) {
  return [...output.matchAll(/^ {4}(\S+) on (\S+) \(([^)]*)\): (\S+)$/gm)].map(([, userName, tenantId, roles, password]) => ({
    userName: userName!,
    tenantId: tenantId!,
    roles: roles!,
    password: password!,
  }));
}

function envOf(db: TestDatabase): Record<string, string> {
  return {
    PORT: '0',
    DATA_DIR: db.config.dataDir,
    PLINTH_SEED_DIR: db.config.seedDir,
    ...(db.config.databaseUrl ? { DATABASE_URL: db.config.databaseUrl } : {}),
  };
}

describe('plinth start', () => {
  let db: TestDatabase;
  const running: ChildProcess[] = [];
  beforeAll(async () => {
    db = await testDatabase();
  });
  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await db.drop();
  });

  it('serves the seeded platform, stops cleanly on SIGTERM, and keeps its data across a restart', { timeout: PROCESSES_TIMEOUT_MS }, async () => {
    const first = runPlinth(['start'], envOf(db));
    running.push(first.child);
    const port = await listeningPort(first);
    expect((await call(port, '/health/ready')).status).toBe(200);

    const tenants = await call(port, '/mdms-v2/v1/_search', {
      RequestInfo: {},
      MdmsCriteria: { tenantId: 'pb', moduleDetails: [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }] },
    });
    const codes = ((tenants.body['MdmsRes'] as Record<string, Record<string, Array<{ code: string }>>>)['tenant']!['tenants'] ?? []).map((t) => t.code);
    expect(codes).toEqual(expect.arrayContaining(['pb', 'pb.amritsar', 'pb.jalandhar']));

    // No PLINTH_ADMIN_PASSWORD: the first start prints a generated one, once.
    const printed = /password, shown only this once: (\S+)/.exec(first.output())?.[1];
    expect(printed).toBeDefined();
    const token = await fetch(`http://127.0.0.1:${port}/user/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: printed!, tenantId: 'pb', userType: 'EMPLOYEE', grant_type: 'password' }),
    });
    expect(token.status).toBe(200);
    const accessToken = ((await token.json()) as { access_token: string }).access_token;
    const created = await call(
      port,
      '/mdms-v2/v2/_create/common-masters.Department',
      { RequestInfo: {}, Mdms: { tenantId: 'pb', data: { code: 'DEPT_CLI', name: 'Written before a restart', active: true } } },
      { authorization: `Bearer ${accessToken}` },
    );
    expect(created.status).toBe(202);

    // The demo employees of seed/user/ too, each printed once (on stdout, not in a log line).
    const employees = printedEmployees(first.output());
    expect(employees.map((e) => e.userName).sort()).toEqual(demoEmployees().sort());
    for (const e of employees) expect(first.output().split(e.password)).toHaveLength(2);
    const gro = employees.find((e) => e.userName === 'amritsar.gro')!;
    expect(gro).toMatchObject({ tenantId: 'pb.amritsar', roles: expect.stringContaining('GRO') });
    const groLogin = await fetch(`http://127.0.0.1:${port}/user/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: gro.userName, password: gro.password, tenantId: gro.tenantId, userType: 'EMPLOYEE', grant_type: 'password' }),
    });
    expect(groLogin.status).toBe(200);
    const groRoles = ((await groLogin.json()) as { UserRequest: { roles: Array<{ code: string; tenantId: string }> } }).UserRequest.roles;
    expect(groRoles.map((r) => `${r.code}@${r.tenantId}`).sort()).toEqual(['EMPLOYEE@pb.amritsar', 'GRO@pb.amritsar']);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = runPlinth(['start'], envOf(db));
    running.push(second.child);
    const port2 = await listeningPort(second);
    expect(second.output()).not.toContain('shown only this once');
    expect(printedEmployees(second.output())).toEqual([]);
    const found = await call(port2, '/mdms-v2/v2/_search', {
      MdmsCriteria: { tenantId: 'pb', schemaCode: 'common-masters.Department', uniqueIdentifiers: ['DEPT_CLI'] },
    });
    expect((found.body['mdms'] as unknown[]).length).toBe(1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses to start with a bad variable, naming it', async () => {
    const run = runPlinth(['start'], { ...envOf(db), PORT: 'eighty' });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('PORT');
  });

  it('refuses to start when the database cannot be opened, saying where', async () => {
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-cli-')), 'not-a-dir');
    await fs.writeFile(file, 'x');
    const run = runPlinth(['start'], { PORT: '0', DATA_DIR: file });
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(/cannot open the SQLite database at .*not-a-dir/);
    expect(run.output()).not.toMatch(/^\s+at /m); // a message, not a stack trace
  });
});

describe('plinth seed', () => {
  it('loads a directory idempotently and refuses a broken one, naming file, record and reason', { timeout: PROCESSES_TIMEOUT_MS }, async () => {
    const db = await testDatabase();
    try {
      const env = envOf(db);
      const once = runPlinth(['seed', db.config.seedDir], env);
      expect(await once.exited).toBe(0);
      expect(once.output()).toMatch(/mdms: \d+ schemasCreated, [1-9]\d* recordsCreated/);
      const demo = demoEmployees();
      expect(once.output()).toContain(`user: ${demo.length} employeesCreated, 0 employeesExisting`);
      expect(printedEmployees(once.output()).map((e) => e.userName).sort()).toEqual(demo.sort());
      const twice = runPlinth(['seed', db.config.seedDir], env);
      expect(await twice.exited).toBe(0);
      expect(twice.output()).toMatch(/mdms: 0 schemasCreated, 0 recordsCreated, 0 recordsUpdated, [1-9]\d* recordsUnchanged/);
      // Existing employees are left alone: nothing created, no password printed.
      expect(twice.output()).toContain(`user: 0 employeesCreated, ${demo.length} employeesExisting`);
      expect(twice.output()).not.toContain('shown only this once');

      const broken = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-seed-'));
      await fs.mkdir(path.join(broken, 'mdms'));
      await fs.writeFile(
        path.join(broken, 'mdms', 'common-masters.Department.json'),
        JSON.stringify({ tenantId: 'pb', schemaCode: 'common-masters.Department', data: [{ code: 'DEPT_NEW', name: 'ok', active: true }, { name: 'no code' }] }),
      );
      const refused = runPlinth(['seed', broken], env);
      expect(await refused.exited).toBe(1);
      expect(refused.output()).toContain('mdms/common-masters.Department.json record 2');
      expect(refused.output()).toContain('data.code is required');
    } finally {
      await db.drop();
    }
  });
});

describe('plinth audit verify', () => {
  it('passes on an intact log and names the row when one is altered or deleted', { timeout: PROCESSES_TIMEOUT_MS }, async () => {
    const db = await testDatabase();
    try {
      const { createPlatform } = await import('../src/platform.js');
      const { login } = await import('./helpers.js');
      const platform = await createPlatform(db.config, { seedOnFirstStart: true });
      await platform.bootstrapAdmin();
      for (let i = 0; i < 3; i++) expect((await login(platform, 'admin', db.config.adminPassword!, 'pb')).status).toBe(200);
      const pb = await platform.audit.log.search({ tenantId: 'pb', offset: 0, limit: 10 }).then((rows) => [...rows].sort((a, b) => a.seq - b.seq));
      const second = pb[1];
      const env = envOf(db);

      const intact = runPlinth(['audit', 'verify'], env);
      expect(await intact.exited).toBe(0);
      // admin's creation and 3 logins on pb, and the creation of each demo employee on pb.amritsar.
      expect(intact.output()).toContain(`audit log intact: ${4 + demoEmployees().length} entries in 2 tenants`);

      // Someone with database access rewrites the tail with recomputed hashes and moves the head along:
      // every link holds, but the head's signature needs the master key, which is not in the database.
      const { sql } = await import('kysely');
      const { entryHash } = await import('../src/common/audit/audit.chain.js');
      let prevHash = second!.prevHash;
      for (const entry of pb.slice(1)) {
        const hash = entryHash({ ...entry, actorUuid: 'someone-else', prevHash });
        await sql`update audit_log set actor_uuid = ${'someone-else'}, prev_hash = ${prevHash}, hash = ${hash} where id = ${entry.id}`.execute(platform.database.kysely);
        prevHash = hash;
      }
      await sql`update audit_head set hash = ${prevHash} where tenant_id = ${'pb'}`.execute(platform.database.kysely);
      const rewritten = runPlinth(['audit', 'verify'], env);
      expect(await rewritten.exited).toBe(1);
      expect(rewritten.output()).toContain(`audit log BROKEN: tenant pb, entry ${pb.length} (id ${pb.at(-1)!.id}): head-signature`);
      expect(rewritten.output()).toContain('not signed with this deployment');

      // Someone with database access rewrites who did it.
      await sql`update audit_log set actor_uuid = ${'a-third-person'} where id = ${second!.id}`.execute(platform.database.kysely);
      const altered = runPlinth(['audit', 'verify'], env);
      expect(await altered.exited).toBe(1);
      expect(altered.output()).toContain(`audit log BROKEN: tenant pb, entry ${second!.seq} (id ${second!.id}): hash-mismatch`);

      await sql`delete from audit_log where id = ${second!.id}`.execute(platform.database.kysely);
      const deleted = runPlinth(['audit', 'verify'], env);
      expect(await deleted.exited).toBe(1);
      expect(deleted.output()).toMatch(new RegExp(`audit log BROKEN: tenant pb, entry ${second!.seq}\\b.*missing`));
      await platform.stop();
    } finally {
      await db.drop();
    }
  });
});
