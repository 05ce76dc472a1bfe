import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabase, type TestDatabase } from '../../../test/helpers.js';
import { connectDatabase, type Database } from '../../kernel/db.js';
import { migrate } from '../../kernel/migrator.js';
import { entryHash, GENESIS_HASH, headMac } from './audit.chain.js';
import type { AuditTables } from './audit.store.js';
import { auditModule, createAuditLog, formatVerifyReport, type AuditEntryInput, type AuditLog } from './index.js';

let db: TestDatabase;
let database: Database;
let log: AuditLog;
const HEAD_KEY = randomBytes(32);
let now = 1_700_000_000_000;
const clock = { now: () => (now += 1000) };

beforeAll(async () => {
  db = await testDatabase();
  database = await connectDatabase(db.config);
  await migrate(database, [{ module: auditModule.name, migrations: auditModule.migrations }]);
  // A small page size, so every verify below also walks across page boundaries.
  log = createAuditLog({ database, clock, batchSize: 2, headKey: HEAD_KEY });
});
afterAll(async () => {
  await database.close();
  await db.drop();
});

const tables = () => database.kysely.withTables<AuditTables>() as unknown as Kysely<AuditTables>;

const login = (tenantId: string, subject: string, extra: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  tenantId,
  action: 'user.login',
  subject,
  outcome: 'success',
  actorUuid: subject,
  details: { via: 'password' },
  ip: '10.0.0.1',
  correlationId: 'corr-1',
  ...extra,
});

/** A tenant of its own with `n` entries, so each tampering test breaks only its own chain. */
async function chain(tenantId: string, n: number) {
  const entries = [];
  for (let i = 1; i <= n; i++) entries.push(await log.append(login(tenantId, `user-${i}`, { details: { attempt: i } })));
  return entries;
}

describe('appending', () => {
  it('chains entries per tenant: interleaved tenants have independent sequences', async () => {
    const a1 = await log.append(login('pb', 'u1'));
    const b1 = await log.append(login('pb.amritsar', 'u2'));
    const a2 = await log.append(login('pb', 'u3', { action: 'user.login.failed', outcome: 'failure' }));
    const b2 = await log.append(login('pb.amritsar', 'u4', { action: 'role.changed', details: { added: ['EMPLOYEE'] } }));
    const a3 = await log.append(
      login('pb', 'u1', { action: 'user.locked', outcome: 'failure', actorUuid: null, ip: null, correlationId: null }),
    );

    expect([a1.seq, a2.seq, a3.seq]).toEqual([1, 2, 3]);
    expect([b1.seq, b2.seq]).toEqual([1, 2]);
    expect(a1.prevHash).toBe(GENESIS_HASH);
    expect(b1.prevHash).toBe(GENESIS_HASH);
    expect(a2.prevHash).toBe(a1.hash);
    expect(a3.prevHash).toBe(a2.hash);
    expect(b2.prevHash).toBe(b1.hash);
    expect(a1.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a3).toMatchObject({ actorUuid: null, ip: null, correlationId: null, outcome: 'failure', action: 'user.locked' });

    const report = await log.verify();
    expect(report).toEqual({ ok: true, tenants: 2, entries: 5 });
    expect(await log.verify('pb')).toEqual({ ok: true, tenants: 1, entries: 3 });
    expect(await log.verify('no.such')).toEqual({ ok: true, tenants: 0, entries: 0 });
    expect(formatVerifyReport(report)).toBe('audit log intact: 5 entries in 2 tenants verified');
  });

  it('stores what it hashed: key order, undefined, dates, NUL and lone surrogates all verify on either engine', async () => {
    const entry = await log.append(
      login('t.encoding', 'user\u0000\ud800name', {
        details: {
          z: 1,
          a: { y: [3, { b: 'x', a: null }], x: 0.1 },
          gone: undefined,
          at: new Date(0),
          big: 1e21,
          small: 1e-7,
          ['__proto__']: 'p',
          'k\u0000': 'v\udc00',
        },
      }),
    );
    expect(entry.subject).toBe('user\uFFFD\uFFFDname');
    expect(entry.details).not.toHaveProperty('gone');
    expect(entry.details['at']).toBe('1970-01-01T00:00:00.000Z');
    const [stored] = await log.search({ tenantId: 't.encoding', offset: 0, limit: 10 });
    expect(stored).toEqual(entry);
    expect(await log.verify('t.encoding')).toEqual({ ok: true, tenants: 1, entries: 1 });
  });

  it('refuses an unknown action or outcome, or a missing tenant', async () => {
    await expect(log.append({ ...login('pb', 'u'), action: 'user.hacked' as 'user.login' })).rejects.toThrow(/Unknown audit action/);
    await expect(log.append({ ...login('pb', 'u'), outcome: 'maybe' as 'success' })).rejects.toThrow(/Unknown audit outcome/);
    await expect(log.append({ ...login('', 'u') })).rejects.toThrow(/tenantId/);
  });

  it('gives 50 concurrent appends to one tenant the seqs 1..50 on one intact chain', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(login('t.concurrent', `user-${i}`))));
    expect(results.map((e) => e.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const bySeq = new Map(results.map((e) => [e.seq, e]));
    for (let seq = 2; seq <= 50; seq++) expect(bySeq.get(seq)!.prevHash).toBe(bySeq.get(seq - 1)!.hash);
    expect(await log.verify('t.concurrent')).toEqual({ ok: true, tenants: 1, entries: 50 });
  });

  it('writes neither the entry nor the head when the caller rolls back', async () => {
    const [first] = await chain('t.rollback', 1);
    await expect(
      database.transaction(async (tx) => {
        const entry = await log.appendInTx(tx, login('t.rollback', 'ghost'));
        expect(entry.seq).toBe(2);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const rows = await tables().selectFrom('audit_log').select('subject').where('tenant_id', '=', 't.rollback').execute();
    expect(rows).toEqual([{ subject: 'user-1' }]);
    const head = await tables().selectFrom('audit_head').selectAll().where('tenant_id', '=', 't.rollback').executeTakeFirst();
    expect({ ...head, seq: Number(head!.seq) }).toEqual({ tenant_id: 't.rollback', seq: 1, hash: first!.hash, mac: headMac(HEAD_KEY, 't.rollback', 1, first!.hash) });

    const committed = await database.transaction((tx) => log.appendInTx(tx, login('t.rollback', 'real')));
    expect(committed).toMatchObject({ seq: 2, prevHash: first!.hash });
    expect(await log.verify('t.rollback')).toMatchObject({ ok: true, entries: 2 });
  });
});

describe('appending many at once', () => {
  const pii = (tenantId: string, subject: string, n: number): AuditEntryInput => ({
    tenantId,
    action: 'pii.decrypted',
    subject,
    outcome: 'success',
    actorUuid: 'viewer-1',
    details: { model: 'Individual', purpose: 'search', fields: ['name.givenName'], n },
    correlationId: 'corr-batch',
  });
  const many = (entries: readonly AuditEntryInput[]) => database.transaction((tx) => log.appendManyInTx(tx, entries));
  /** What must be equal whichever way the entries were appended (id, time and tenant aside, which the hash also covers). */
  const content = (e: { seq: number; actorUuid: string | null; action: string; subject: string; outcome: string; details: unknown }) => ({
    seq: e.seq,
    actorUuid: e.actorUuid,
    action: e.action,
    subject: e.subject,
    outcome: e.outcome,
    details: e.details,
  });

  it('makes the chains one-by-one appends make: same seqs, links, contents and hash function; interleaved tenants; verify intact', async () => {
    // Tenant a already has a chain; b starts one inside the batch.
    await chain('m.batch-a', 2);
    const inputs = [
      pii('m.batch-a', 'p1', 1),
      pii('m.batch-b', 'p2', 2),
      pii('m.batch-a', 'p3', 3),
      pii('m.batch-a', 'p4', 4),
      pii('m.batch-b', 'p5', 5),
    ];
    const batch = await many(inputs);
    expect(batch.map((e) => [e.tenantId, e.subject, e.seq])).toEqual([
      ['m.batch-a', 'p1', 3],
      ['m.batch-b', 'p2', 1],
      ['m.batch-a', 'p3', 4],
      ['m.batch-a', 'p4', 5],
      ['m.batch-b', 'p5', 2],
    ]);
    // Ids and times in input order, as sequential appends draw them.
    expect(batch.map((e) => e.time)).toEqual([...batch.map((e) => e.time)].sort((x, y) => x - y));
    expect(batch.map((e) => e.id)).toEqual([...batch.map((e) => e.id)].sort());

    // The same entries appended one by one into a twin pair of tenants.
    await chain('m.seq-a', 2);
    const sequential: Awaited<ReturnType<typeof log.append>>[] = [];
    for (const input of inputs) sequential.push(await log.append({ ...input, tenantId: input.tenantId.replace('batch', 'seq') }));
    expect(batch.map(content)).toEqual(sequential.map(content));

    // Each stored row is exactly the returned entry, its hash the chain's hash function over its fields.
    const rows = await tables().selectFrom('audit_log').selectAll().where('tenant_id', 'in', ['m.batch-a', 'm.batch-b']).execute();
    for (const entry of batch) {
      const row = rows.find((r) => r.id === entry.id)!;
      expect({ seq: Number(row.seq), prev: row.prev_hash, hash: row.hash }).toEqual({
        seq: entry.seq,
        prev: entry.prevHash,
        hash: entry.hash,
      });
      expect(entryHash(entry)).toBe(entry.hash);
    }
    const a = batch.filter((e) => e.tenantId === 'm.batch-a');
    const [, secondOfA] = await tables()
      .selectFrom('audit_log')
      .select('hash')
      .where('tenant_id', '=', 'm.batch-a')
      .orderBy('seq')
      .execute();
    expect(a[0]!.prevHash).toBe(secondOfA!.hash);
    expect(a[1]!.prevHash).toBe(a[0]!.hash);
    expect(a[2]!.prevHash).toBe(a[1]!.hash);
    const b = batch.filter((e) => e.tenantId === 'm.batch-b');
    expect([b[0]!.prevHash, b[1]!.prevHash]).toEqual([GENESIS_HASH, b[0]!.hash]);

    // A one-by-one append after the batch continues the same chain.
    expect(await log.append(pii('m.batch-a', 'after', 6))).toMatchObject({ seq: 6, prevHash: a[2]!.hash });
    expect(await log.verify('m.batch-a')).toEqual({ ok: true, tenants: 1, entries: 6 });
    expect(await log.verify('m.batch-b')).toEqual({ ok: true, tenants: 1, entries: 2 });
    const head = await tables().selectFrom('audit_head').selectAll().where('tenant_id', '=', 'm.batch-b').executeTakeFirst();
    expect({ seq: Number(head!.seq), hash: head!.hash }).toEqual({ seq: 2, hash: b[1]!.hash });
  });

  it('spans several INSERTs for a long batch and stays one intact chain', async () => {
    const batch = await many(Array.from({ length: 1203 }, (_, n) => pii('m.batch-long', `p${n}`, n)));
    expect(batch.map((e) => e.seq)).toEqual(Array.from({ length: 1203 }, (_, n) => n + 1));
    expect(await log.verify('m.batch-long')).toEqual({ ok: true, tenants: 1, entries: 1203 });
  });

  it('writes nothing when any entry is invalid, or the caller rolls back; an empty batch writes nothing', async () => {
    await expect(
      many([pii('m.batch-invalid', 'ok', 1), { ...pii('m.batch-invalid', 'bad', 2), action: 'pii.leaked' as 'pii.decrypted' }]),
    ).rejects.toThrow(/Unknown audit action/);
    await expect(
      database.transaction(async (tx) => {
        await log.appendManyInTx(tx, [pii('m.batch-invalid', 'ghost', 3)]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await many([])).toEqual([]);
    expect(await tables().selectFrom('audit_log').select('id').where('tenant_id', '=', 'm.batch-invalid').execute()).toEqual([]);
    expect(await tables().selectFrom('audit_head').select('seq').where('tenant_id', '=', 'm.batch-invalid').execute()).toEqual([]);
  });

  it('lets concurrent batches and single appends over the same tenants, in any order, form intact chains', async () => {
    const tenants = ['m.batch-c1', 'm.batch-c2', 'm.batch-c3'];
    const work = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 2
        ? log.append(pii(tenants[i % 3]!, `single-${i}`, i))
        : many(Array.from({ length: 9 }, (_, n) => pii(tenants[(i % 2 ? 8 - n : n) % 3]!, `b${i}-${n}`, n))),
    );
    await Promise.all(work);
    for (const tenant of tenants) {
      const report = await log.verify(tenant);
      expect(report.ok).toBe(true);
    }
    const total = await tables().selectFrom('audit_log').select('id').where('tenant_id', 'in', tenants).execute();
    expect(total).toHaveLength(8 * 9 + 4);
  });
});

describe('verify finds tampering', () => {
  it("an UPDATE of one row's details is a hash-mismatch naming tenant, seq and id", async () => {
    const entries = await chain('t.alter-details', 5);
    await tables()
      .updateTable('audit_log')
      .set({ details: database.toJson({ attempt: 99 }) })
      .where('id', '=', entries[2]!.id)
      .execute();
    const report = await log.verify('t.alter-details');
    expect(report).toMatchObject({
      ok: false,
      tenants: 1,
      entries: 2,
      firstBroken: { tenantId: 't.alter-details', seq: 3, id: entries[2]!.id, reason: 'hash-mismatch' },
    });
    expect(formatVerifyReport(report)).toContain(`tenant t.alter-details, entry 3 (id ${entries[2]!.id}): hash-mismatch`);
  });

  it('an UPDATE of the actor, the time or the seq is a hash-mismatch', async () => {
    const entries = await chain('t.alter-actor', 3);
    await tables().updateTable('audit_log').set({ actor_uuid: 'someone-else' }).where('id', '=', entries[0]!.id).execute();
    expect((await log.verify('t.alter-actor')).firstBroken).toMatchObject({ seq: 1, id: entries[0]!.id, reason: 'hash-mismatch' });

    const timed = await chain('t.alter-time', 3);
    await tables().updateTable('audit_log').set({ time: 1 }).where('id', '=', timed[1]!.id).execute();
    expect((await log.verify('t.alter-time')).firstBroken).toMatchObject({ seq: 2, reason: 'hash-mismatch' });
  });

  it('details that are no longer JSON are a hash-mismatch, not a crash', async () => {
    const entries = await chain('t.alter-garbage', 2);
    if (database.dialect === 'sqlite') {
      await sql`update audit_log set details = 'not json' where id = ${entries[1]!.id}`.execute(database.kysely);
    } else {
      await sql`update audit_log set details = '"a string"'::jsonb where id = ${entries[1]!.id}`.execute(database.kysely);
    }
    expect((await log.verify('t.alter-garbage')).firstBroken).toMatchObject({ seq: 2, reason: 'hash-mismatch' });
  });

  it('a DELETE of a middle row is a missing-entry naming the missing seq', async () => {
    const entries = await chain('t.delete-middle', 5);
    await tables().deleteFrom('audit_log').where('id', '=', entries[2]!.id).execute();
    const report = await log.verify('t.delete-middle');
    expect(report).toMatchObject({
      ok: false,
      entries: 2,
      firstBroken: { tenantId: 't.delete-middle', seq: 3, id: null, reason: 'missing-entry' },
    });
    expect(report.firstBroken!.message).toContain(entries[3]!.id);
  });

  it('a DELETE of the first row is a missing-entry at seq 1', async () => {
    const entries = await chain('t.delete-first', 3);
    await tables().deleteFrom('audit_log').where('id', '=', entries[0]!.id).execute();
    expect((await log.verify('t.delete-first')).firstBroken).toMatchObject({ seq: 1, reason: 'missing-entry' });
  });

  it('a DELETE of the last row, or of every row, is a missing-entry found through the head', async () => {
    const entries = await chain('t.delete-last', 4);
    await tables().deleteFrom('audit_log').where('id', '=', entries[3]!.id).execute();
    expect(await log.verify('t.delete-last')).toMatchObject({
      ok: false,
      entries: 3,
      firstBroken: { seq: 4, id: null, reason: 'missing-entry' },
    });

    await chain('t.delete-all', 2);
    await tables().deleteFrom('audit_log').where('tenant_id', '=', 't.delete-all').execute();
    expect((await log.verify('t.delete-all')).firstBroken).toMatchObject({ seq: 1, reason: 'missing-entry' });
  });

  it('a row rewritten with a recomputed hash breaks the link of the next row, or the head if it was the last', async () => {
    const rewrite = async (id: string) => {
      const row = await tables().selectFrom('audit_log').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const forged = {
        id: row.id,
        tenantId: row.tenant_id,
        seq: Number(row.seq),
        time: Number(row.time),
        actorUuid: 'forger',
        action: row.action,
        subject: row.subject,
        outcome: row.outcome,
        details: database.fromJson<unknown>(row.details),
        ip: row.ip,
        correlationId: row.correlation_id,
        prevHash: row.prev_hash,
      };
      await tables()
        .updateTable('audit_log')
        .set({ actor_uuid: 'forger', hash: entryHash(forged) })
        .where('id', '=', id)
        .execute();
    };
    const middle = await chain('t.rewrite-middle', 3);
    await rewrite(middle[1]!.id);
    expect((await log.verify('t.rewrite-middle')).firstBroken).toMatchObject({ seq: 3, id: middle[2]!.id, reason: 'broken-link' });

    const last = await chain('t.rewrite-last', 3);
    await rewrite(last[2]!.id);
    expect((await log.verify('t.rewrite-last')).firstBroken).toMatchObject({ seq: 3, id: last[2]!.id, reason: 'head-mismatch' });
  });

  it('a row inserted outside the log, or a deleted head, is a head-mismatch', async () => {
    const entries = await chain('t.forged-row', 2);
    const tail = entries[1]!;
    const forged = { ...tail, id: 'forged-id', seq: 3, prevHash: tail.hash };
    await tables()
      .insertInto('audit_log')
      .values({
        id: forged.id,
        tenant_id: forged.tenantId,
        seq: 3,
        time: forged.time,
        actor_uuid: forged.actorUuid,
        action: forged.action,
        subject: forged.subject,
        outcome: forged.outcome,
        details: database.toJson(forged.details),
        ip: forged.ip,
        correlation_id: forged.correlationId,
        prev_hash: forged.prevHash,
        hash: entryHash(forged),
      })
      .execute();
    expect((await log.verify('t.forged-row')).firstBroken).toMatchObject({ seq: 3, id: 'forged-id', reason: 'head-mismatch' });

    await chain('t.no-head', 2);
    await tables().deleteFrom('audit_head').where('tenant_id', '=', 't.no-head').execute();
    expect((await log.verify('t.no-head')).firstBroken).toMatchObject({ seq: 2, reason: 'head-mismatch' });
  });

  it('a tail rewritten with recomputed hashes and the head moved along is a head-signature; nothing is appended to it', async () => {
    const t = 't.signed-tail';
    const entries = await chain(t, 3);
    expect((await log.verify(t)).ok).toBe(true);
    let prevHash = entries[0]!.hash;
    for (const entry of entries.slice(1)) {
      const hash = entryHash({ ...entry, actorUuid: 'forger', prevHash });
      await tables().updateTable('audit_log').set({ actor_uuid: 'forger', prev_hash: prevHash, hash }).where('id', '=', entry.id).execute();
      prevHash = hash;
    }
    await tables().updateTable('audit_head').set({ hash: prevHash }).where('tenant_id', '=', t).execute();
    const report = await log.verify(t);
    expect(report.firstBroken).toMatchObject({ seq: 3, id: entries[2]!.id, reason: 'head-signature' });
    expect(report.firstBroken!.message).toContain('not signed');
    // Appending would sign the forgery: refused.
    await expect(log.append(login(t, 'next'))).rejects.toThrow(/not signed with this deployment's key/);
    // Signed with another key, or not at all: caught alike.
    await tables().updateTable('audit_head').set({ mac: headMac(randomBytes(32), t, 3, prevHash) }).where('tenant_id', '=', t).execute();
    expect((await log.verify(t)).firstBroken).toMatchObject({ seq: 3, reason: 'head-signature' });
    await tables().updateTable('audit_head').set({ mac: null }).where('tenant_id', '=', t).execute();
    expect((await log.verify(t)).firstBroken).toMatchObject({ seq: 3, reason: 'head-signature', message: expect.stringContaining('no signature') });
    // With the key, the head verifies (the signature covers exactly tenant, seq and hash).
    await tables().updateTable('audit_head').set({ mac: headMac(HEAD_KEY, t, 3, prevHash) }).where('tenant_id', '=', t).execute();
    expect((await log.verify(t)).ok).toBe(true);
  });

  it('verify without a tenant walks every chain and stops at the first broken one', async () => {
    const report = await log.verify();
    expect(report.ok).toBe(false);
    // Tenants are walked in sorted order; 'pb' and 'pb.amritsar' sort before every broken 't.*' tenant.
    expect(report.firstBroken).toMatchObject({ tenantId: 't.alter-actor', seq: 1, reason: 'hash-mismatch' });
    expect(report.entries).toBeGreaterThanOrEqual(5);
  });
});

describe('search', () => {
  it('filters by action, subject, actor and time, newest first, with paging', async () => {
    const t = 't.search';
    const start = now;
    await log.append(login(t, 'alice'));
    await log.append(login(t, 'bob', { action: 'user.login.failed', outcome: 'failure', actorUuid: null }));
    await log.append(login(t, 'bob', { action: 'user.locked', outcome: 'failure', actorUuid: null }));
    await log.append(login(t, 'carol', { action: 'pii.decrypted', actorUuid: 'admin-uuid', details: { fields: ['mobileNumber'] } }));
    await log.append(login(t, 'alice', { action: 'role.changed', actorUuid: 'admin-uuid' }));
    await log.append(login('t.search-other', 'alice'));
    const page = { offset: 0, limit: 100 };

    const all = await log.search({ tenantId: t, ...page });
    expect(all.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    expect((await log.search({ tenantId: t, actions: ['user.login.failed', 'user.locked'], ...page })).map((e) => e.seq)).toEqual([3, 2]);
    expect((await log.search({ tenantId: t, subject: 'alice', ...page })).map((e) => e.action)).toEqual(['role.changed', 'user.login']);
    expect((await log.search({ tenantId: t, actorUuid: 'admin-uuid', ...page })).map((e) => e.seq)).toEqual([5, 4]);
    const decrypted = await log.search({ tenantId: t, actions: ['pii.decrypted'], ...page });
    expect(decrypted[0]).toMatchObject({
      subject: 'carol',
      details: { fields: ['mobileNumber'] },
      ip: '10.0.0.1',
      correlationId: 'corr-1',
    });
    expect((await log.search({ tenantId: t, fromTime: all[3]!.time, toTime: all[1]!.time, ...page })).map((e) => e.seq)).toEqual([4, 3, 2]);
    expect(all[4]!.time).toBeGreaterThan(start);
    expect((await log.search({ tenantId: t, offset: 1, limit: 2 })).map((e) => e.seq)).toEqual([4, 3]);
    expect(await log.search({ tenantId: 'no.such', ...page })).toEqual([]);
    await expect(log.search({ tenantId: t, offset: 0, limit: 5000 })).rejects.toThrow(/limit/);
  });
});
