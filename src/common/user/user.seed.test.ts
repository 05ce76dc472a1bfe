import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { DomainError } from '../../kernel/errors.js';
import { PASSWORD_POLICY } from './user.passwords.js';

let platform: TestPlatform;
let demo: ReturnType<TestPlatform['takeSeededLogins']>;
beforeAll(async () => {
  // The repo's seed/user/ is loaded by this platform's own first start (not a copy of the demo state).
  platform = await testPlatform({ firstStart: true });
  demo = platform.takeSeededLogins();
});
afterAll(() => platform.drop());

/** A seed directory holding only `user/<name>` files. */
async function seedDir(files: Record<string, unknown>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-user-seed-'));
  await fs.mkdir(path.join(dir, 'user'));
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, 'user', name), JSON.stringify(content));
  return dir;
}

const rolesOf = (body: Record<string, unknown>) =>
  ((body['UserRequest'] as { roles: Array<{ code: string; tenantId: string }> }).roles ?? []).map((r) => `${r.code}@${r.tenantId}`).sort();

/** The stored hash of a user (found by the service: user names are ciphertext at rest). */
async function storedHash(userName: string, tenantId: string): Promise<string | null> {
  const [user] = await platform.users.service.search({ tenantId, userName, type: 'EMPLOYEE' }, { pageSize: 1 });
  if (!user) return null;
  const { rows } = await sql<{ password_hash: string | null }>`select password_hash from users where uuid = ${user.uuid}`.execute(platform.database.kysely);
  return rows[0]?.password_hash ?? null;
}

describe('the demo employees of seed/user/', () => {
  it('are created on first start for pb.amritsar, each with a one-time password that logs in', async () => {
    expect(demo.map((l) => l.userName).sort()).toEqual(
      ['amritsar.csr', 'amritsar.dgro', 'amritsar.gro', 'amritsar.lme1', 'amritsar.lme2', 'amritsar.pgradmin'].sort(),
    );
    for (const l of demo) {
      expect(l.tenantId).toBe('pb.amritsar');
      expect(l.password).toMatch(PASSWORD_POLICY);
      const { status, body } = await login(platform, l.userName, l.password, l.tenantId);
      expect(status).toBe(200);
      expect(rolesOf(body)).toEqual(l.roles.map((code) => `${code}@pb.amritsar`).sort());
      expect(rolesOf(body)).toContain('EMPLOYEE@pb.amritsar');
    }
    expect(demo.filter((l) => l.roles.includes('PGR_LME'))).toHaveLength(2);
    expect(new Set(demo.map((l) => l.password)).size).toBe(demo.length);
    // Answered once only.
    expect(platform.takeSeededLogins()).toEqual([]);
  });

  it('are left alone by a second load of seed/: nothing created, no password answered', async () => {
    const report = await platform.seed('seed');
    expect(report['user']).toEqual({ employeesCreated: 0, employeesExisting: demo.length });
    expect(platform.takeSeededLogins()).toEqual([]);
    expect((await login(platform, demo[0]!.userName, demo[0]!.password, 'pb.amritsar')).status).toBe(200);
  });
});

describe('loading employees', () => {
  const file = {
    tenantId: 'pb.jalandhar',
    employees: [
      {
        userName: 'seed.gro',
        name: 'Seeded Router',
        mobileNumber: '9700000001',
        emailId: 'gro@example.org',
        locale: 'hi_IN',
        roles: ['GRO'],
      },
      { userName: 'seed.lme', name: 'Seeded Field', mobileNumber: '9700000002', roles: ['PGR_LME', 'EMPLOYEE'] },
    ],
  };

  it('creates each missing employee with a generated password, stored only hashed, and answers it once', async () => {
    const dir = await seedDir({ 'pb.jalandhar.json': file });
    expect((await platform.seed(dir))['user']).toEqual({ employeesCreated: 2, employeesExisting: 0 });
    const logins = platform.takeSeededLogins();
    expect(logins.map((l) => [l.userName, l.tenantId, l.roles])).toEqual([
      ['seed.gro', 'pb.jalandhar', ['EMPLOYEE', 'GRO']],
      ['seed.lme', 'pb.jalandhar', ['EMPLOYEE', 'PGR_LME']],
    ]);
    for (const l of logins) {
      const hash = await storedHash(l.userName, l.tenantId);
      expect(hash).toMatch(/^\$argon2id\$/);
      expect(hash).not.toContain(l.password);
    }

    const gro = logins[0]!;
    const { status, body } = await login(platform, gro.userName, gro.password, gro.tenantId);
    expect(status).toBe(200);
    expect(body['UserRequest']).toMatchObject({
      userName: 'seed.gro',
      type: 'EMPLOYEE',
      tenantId: 'pb.jalandhar',
      mobileNumber: '9700000001',
      emailId: 'gro@example.org',
    });
    expect(rolesOf(body)).toEqual(['EMPLOYEE@pb.jalandhar', 'GRO@pb.jalandhar']);
    expect((await login(platform, gro.userName, 'Wrong@2026x', gro.tenantId)).status).toBe(400);

    // Idempotent: a second load creates nothing, answers no password and keeps the first one valid.
    expect((await platform.seed(dir))['user']).toEqual({ employeesCreated: 0, employeesExisting: 2 });
    expect(platform.takeSeededLogins()).toEqual([]);
    expect((await login(platform, gro.userName, gro.password, gro.tenantId)).status).toBe(200);
  });

  it('never touches an existing user of the same name, even one listed with other details', async () => {
    const admin = await adminAuth(platform);
    const made = await post(
      platform,
      '/user/users/_createnovalidate',
      {
        RequestInfo: {},
        user: {
          userName: 'seed.kept',
          name: 'Kept As Is',
          password: 'Kept@2026x',
          type: 'EMPLOYEE',
          tenantId: 'pb.amritsar',
          mobileNumber: '9700000003',
          roles: [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }],
        },
      },
      admin,
    );
    expect(made.status).toBe(200);
    const dir = await seedDir({
      'kept.json': {
        tenantId: 'pb.amritsar',
        employees: [{ userName: 'seed.kept', name: 'Other Name', mobileNumber: '9700000004', roles: ['SUPERUSER'] }],
      },
    });
    expect((await platform.seed(dir))['user']).toEqual({ employeesCreated: 0, employeesExisting: 1 });
    expect(platform.takeSeededLogins()).toEqual([]);
    const { status, body } = await login(platform, 'seed.kept', 'Kept@2026x', 'pb.amritsar');
    expect(status).toBe(200);
    expect(body['UserRequest']).toMatchObject({ name: 'Kept As Is', mobileNumber: '9700000003' });
    expect(rolesOf(body)).toEqual(['EMPLOYEE@pb.amritsar']);
  });

  it('refuses the whole folder, naming file, record and reason, and creates nobody', async () => {
    const dir = await seedDir({
      'a.json': {
        tenantId: 'pb.amritsar',
        employees: [
          { userName: 'seed.fine', name: 'Would Be Fine', mobileNumber: '9700000010', roles: ['GRO'] },
          { userName: 'seed.role', name: 'Bad Role', mobileNumber: '9700000011', roles: ['GRO', 'NO_SUCH_ROLE'] },
          { userName: 'seed.mobile', name: 'Bad Mobile', mobileNumber: '12345', roles: ['CSR'] },
          { userName: 'seed.fine', name: 'Twice', mobileNumber: '9700000012', roles: ['CSR'] },
          { userName: 'seed.fields', name: 'No Roles', mobileNumber: '9700000013', roles: [], mobilenumber: 'typo' },
          { name: 'No User Name', mobileNumber: '9700000014', roles: ['CSR'] },
        ],
      },
      'b.json': {
        tenantId: 'pb.nowhere',
        employees: [{ userName: 'seed.city', name: 'Unknown City', mobileNumber: '9700000015', roles: ['GRO'] }],
      },
      'c.json': {
        tenantId: 'pb.amritsar',
        employees: [{ userName: 'seed.fine', name: 'Across Files', mobileNumber: '9700000016', roles: ['GRO'] }],
      },
    });
    const refused = await platform.seed(dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    const details = (refused as DomainError).details;
    const messages = details.map((d) => d.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^user\/a\.json: record 2 \(seed\.role\): Role "NO_SUCH_ROLE" does not exist/),
        expect.stringMatching(/^user\/a\.json: record 3 \(seed\.mobile\): user\.mobileNumber does not match/),
        expect.stringMatching(
          /^user\/a\.json: record 4 \(seed\.fine\): userName "seed\.fine" of pb\.amritsar is already listed in user\/a\.json record 1/,
        ),
        'user/a.json: record 5 (seed.fields): unknown field(s) mobilenumber',
        'user/a.json: record 5 (seed.fields): roles must be a non-empty list of role codes',
        'user/a.json: record 6: userName must be a non-empty string',
        expect.stringMatching(/^user\/b\.json: tenantId "pb\.nowhere" is not a tenant/),
        expect.stringMatching(
          /^user\/c\.json: record 1 \(seed\.fine\): userName "seed\.fine" of pb\.amritsar is already listed in user\/a\.json record 1/,
        ),
      ]),
    );
    expect(messages).toHaveLength(8);
    expect(details.map((d) => d.code)).toEqual(
      expect.arrayContaining(['INVALID_ROLE', 'INVALID_USER_FIELD', 'DUPLICATE_USER_NAME', 'INVALID_SEED_FILE', 'INVALID_TENANT_ID']),
    );
    expect(platform.takeSeededLogins()).toEqual([]);
    expect(await storedHash('seed.fine', 'pb.amritsar')).toBeNull();
    const search = await post(
      platform,
      '/user/_search',
      { RequestInfo: {}, userName: 'seed.fine', tenantId: 'pb.amritsar' },
      await adminAuth(platform),
    );
    expect(search.status).toBe(200);
    expect(search.body['user']).toEqual([]);
  });

  it('refuses a file that is not an employee list', async () => {
    const dir = await seedDir({ 'x.json': { tenantId: 'pb.amritsar', users: [] }, 'y.json': [1, 2] });
    const refused = await platform.seed(dir).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).details.map((d) => d.message)).toEqual([
      'user/x.json: unknown field(s) users (expected tenantId, description, employees)',
      'user/x.json: "employees" must be a list of {userName, name, mobileNumber, emailId?, locale?, roles}',
      'user/y.json: must be a JSON object',
    ]);
  });
});
