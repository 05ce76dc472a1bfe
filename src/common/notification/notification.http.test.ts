import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { LogSmsProvider, NotifyRequest } from './index.js';

type Json = Record<string, unknown>;
let platform: TestPlatform;
let admin: Record<string, string>;
let smtp: SMTPServer;
const mails: string[] = [];
let userUuid: string;
const MODULE = 'rainmaker-plinth-test';
const KEY = 'PLINTH_TEST_ASSIGN_SMS_MESSAGE';

const sms = () => platform.notification.sms as LogSmsProvider;
const search = (criteria: Json, auth = admin) => post(platform, '/notification/v1/_search', { RequestInfo: requestInfo, criteria }, auth);

/** Runs delivery passes until the outbox is settled (failures retry without backoff in this platform). */
async function deliverAll(): Promise<void> {
  for (let i = 0; i < 5; i++) await platform.dispatcher.deliverPending();
}

const request = (over: Partial<NotifyRequest> = {}): NotifyRequest => ({
  tenantId: 'pb.amritsar',
  templateKey: KEY,
  localizationModule: MODULE,
  params: { id: 'PG-PGR-2026-01-01-000001', complaint_type: 'Streetlight not working' },
  links: { download_link: 'http://localhost:8080/citizen/complaints/PG-PGR-2026-01-01-000001' },
  recipients: [{ userUuid, locale: 'hi_IN' }],
  channels: ['SMS', 'EMAIL', 'IN_APP'],
  module: 'pgr',
  referenceId: 'PG-PGR-2026-01-01-000001',
  idempotencyKey: 'PG-PGR-2026-01-01-000001:ASSIGN:1',
  ...over,
});

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  const { port } = smtp.server.address() as AddressInfo;
  platform = await testPlatform({
    config: { smtpUrl: `smtp://127.0.0.1:${port}`, mailFrom: 'noreply@pb.gov.in' },
    dispatcher: { maxAttempts: 2, backoffMs: () => 0 },
  });
  admin = await adminAuth(platform);
  await platform.localization.service.upsert(
    'pb',
    [
      { code: KEY, module: MODULE, locale: 'en_IN', message: 'Your complaint {id} about {complaint_type} is assigned. Track: {download_link}' },
      { code: KEY, module: MODULE, locale: 'hi_IN', message: 'आपकी शिकायत {id} ({complaint_type}) सौंपी गई। देखें: {download_link}' },
      { code: `${KEY}_SUBJECT`, module: MODULE, locale: 'en_IN', message: 'Complaint {id} assigned' },
      // A label with a Hindi text only: English recipients get the fallback in `params`.
      { code: 'PLINTH_TEST_TYPE_LAMP', module: MODULE, locale: 'hi_IN', message: 'बत्ती बंद' },
    ],
    { uuid: null },
    SYSTEM_SCOPE,
  );
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    { RequestInfo: {}, user: { userName: 'notify-citizen', name: 'Asha', password: 'Citizen@2026x', type: 'CITIZEN', tenantId: 'pb', mobileNumber: '9812345678', emailId: 'asha@example.org', roles: [{ code: 'CITIZEN', tenantId: 'pb' }] } },
    admin,
  );
  if (created.status !== 200) throw new Error(JSON.stringify(created.body));
  userUuid = String(((created.body['user'] as Json[])[0] as Json)['uuid']);
});
afterAll(async () => {
  await platform?.drop();
  smtp?.close();
});

describe('notifications', () => {
  it('sends SMS in the recipient locale, an e-mail and an in-app event once, even when redelivered', async () => {
    sms().clear();
    await platform.database.transaction((tx) => platform.notification.notify(tx, request()));
    await deliverAll();

    const texts = sms().sent().filter((m) => m.message.includes('PG-PGR-2026-01-01-000001'));
    expect(texts).toHaveLength(1);
    expect(texts[0]).toMatchObject({ mobileNumber: '9812345678', tenantId: 'pb.amritsar' });
    expect(texts[0]!.message).toMatch(/^आपकी शिकायत PG-PGR-2026-01-01-000001 \(Streetlight not working\) सौंपी गई। देखें: http:\/\/localhost:8080\/eus\/\w+$/);

    // The e-mail has no hi_IN subject: localization falls back to en_IN for it.
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain('Subject: Complaint PG-PGR-2026-01-01-000001 assigned');
    expect(mails[0]).toContain('To: asha@example.org');

    const events = await post(platform, `/egov-user-event/v1/events/_search?tenantId=pb.amritsar`, { RequestInfo: requestInfo }, admin);
    const mine = (events.body['events'] as Json[]).filter((e) => e['referenceId'] === 'PG-PGR-2026-01-01-000001');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ recepient: { toUsers: [userUuid] }, eventCategory: 'pgr' });
    expect(String(mine[0]!['description'])).toContain('Streetlight not working');

    const found = await search({ tenantId: 'pb.amritsar', referenceId: 'PG-PGR-2026-01-01-000001' });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect((found.body['messages'] as Json[]).map((m) => [m['channel'], m['status'], m['locale']]).sort()).toEqual([
      ['EMAIL', 'sent', 'hi_IN'],
      ['IN_APP', 'sent', 'hi_IN'],
      ['SMS', 'sent', 'hi_IN'],
    ]);

    // Replay every event: the handled marks go, the message marks stay, nothing is sent twice.
    expect(await platform.dispatcher.replay({ since: 0, subscriber: 'notification.send' })).toBeGreaterThan(0);
    await deliverAll();
    // Also a second notify with the same idempotency key (a retried transition).
    await platform.database.transaction((tx) => platform.notification.notify(tx, request()));
    await deliverAll();
    expect(sms().sent().filter((m) => m.message.includes('PG-PGR-2026-01-01-000001'))).toHaveLength(1);
    expect(mails).toHaveLength(1);
    const again = await post(platform, `/egov-user-event/v1/events/_search?tenantId=pb.amritsar`, { RequestInfo: requestInfo }, admin);
    expect((again.body['events'] as Json[]).filter((e) => e['referenceId'] === 'PG-PGR-2026-01-01-000001')).toHaveLength(1);
  });

  it('uses the user locale, else en_IN, and sends to bare mobile numbers', async () => {
    sms().clear();
    await platform.database.transaction((tx) =>
      platform.notification.notify(tx, request({ recipients: [{ userUuid }, { mobileNumber: '9800000001' }], channels: ['SMS'], idempotencyKey: 'k-en', referenceId: 'REF-EN', links: {} })),
    );
    await deliverAll();
    const sent = sms().sent();
    expect(sent.map((m) => m.mobileNumber).sort()).toEqual(['9800000001', '9812345678']);
    for (const m of sent) expect(m.message).toMatch(/^Your complaint PG-PGR-2026-01-01-000001 about Streetlight not working is assigned\. Track: \{download_link\}$/);
  });

  it('sends again after a crash between the provider and the sent mark (the at-least-once window)', async () => {
    sms().clear();
    // What a crash after the gateway accepted leaves behind: the row still says `sending`.
    await platform.database.kysely
      .withTables<{ notification_message: { status: string; reference_id: string; recipient: string } }>()
      .updateTable('notification_message')
      .set({ status: 'sending' })
      .where('reference_id', '=', 'REF-EN')
      // A bare mobile number is stored as a keyed hash, never in clear.
      .where('recipient', 'like', 'mobile#%')
      .execute();
    await platform.dispatcher.replay({ since: 0, subscriber: 'notification.send' });
    await deliverAll();
    expect(sms().sent().map((m) => m.mobileNumber)).toEqual(['9800000001']);
    const rows = (await search({ tenantId: 'pb.amritsar', referenceId: 'REF-EN' })).body['messages'] as Json[];
    expect(rows.map((r) => [String(r['recipient']).replace(/#.*/, '#'), r['status'], r['attempts']]).sort()).toEqual([
      ['mobile#', 'sent', 2],
      [`user:${userUuid}`, 'sent', 1],
    ]);
    expect(rows.map((r) => r['address'])).toContain('9800000001');
    // At rest: neither the number nor the text in clear, in the message nor in its queued event.
    const stored = JSON.stringify(
      (await sql`select * from notification_message where reference_id = 'REF-EN'`.execute(platform.database.kysely)).rows,
    );
    expect(stored).not.toContain('9800000001');
    expect(stored).not.toContain('Streetlight not working');
    const queued = JSON.stringify((await sql`select subject, data from plinth_outbox where type = 'plinth.notification.requested.v1'`.execute(platform.database.kysely)).rows);
    expect(queued).not.toContain('9800000001');
    expect(queued).not.toContain('Streetlight not working');
  });

  it('sends nothing for a rolled-back transaction', async () => {
    sms().clear();
    await expect(
      platform.database.transaction(async (tx) => {
        await platform.notification.notify(tx, request({ channels: ['SMS'], idempotencyKey: 'k-rollback', referenceId: 'REF-RB' }));
        throw new Error('the transition failed');
      }),
    ).rejects.toThrow('the transition failed');
    await deliverAll();
    expect(sms().sent()).toHaveLength(0);
    expect((await search({ tenantId: 'pb.amritsar', referenceId: 'REF-RB' })).body['totalCount']).toBe(0);
  });

  it('fills label parameters in the language of each recipient, falling back to the given value', async () => {
    sms().clear();
    const labelled = request({
      recipients: [{ mobileNumber: '9800000002', locale: 'hi_IN' }, { mobileNumber: '9800000003', locale: 'en_IN' }],
      channels: ['SMS'],
      labels: { complaint_type: 'PLINTH_TEST_TYPE_LAMP' },
      idempotencyKey: 'k-labels',
      referenceId: 'REF-LABELS',
      links: {},
    });
    await platform.database.transaction((tx) => platform.notification.notify(tx, labelled));
    await deliverAll();
    const byNumber = Object.fromEntries(sms().sent().map((m) => [m.mobileNumber, m.message]));
    expect(byNumber['9800000002']).toBe('आपकी शिकायत PG-PGR-2026-01-01-000001 (बत्ती बंद) सौंपी गई। देखें: {download_link}');
    expect(byNumber['9800000003']).toBe('Your complaint PG-PGR-2026-01-01-000001 about Streetlight not working is assigned. Track: {download_link}');
    await expect(platform.database.transaction((tx) => platform.notification.notify(tx, request({ labels: { complaint_type: '' } })))).rejects.toThrow(/labels.complaint_type/);
  });

  it('refuses a malformed request before anything is written', async () => {
    await expect(platform.database.transaction((tx) => platform.notification.notify(tx, request({ recipients: [{}] })))).rejects.toThrow();
    await expect(platform.database.transaction((tx) => platform.notification.notify(tx, request({ channels: [] })))).rejects.toThrow();
  });

  it('dead-letters a message whose template is missing', async () => {
    sms().clear();
    await platform.database.transaction((tx) =>
      platform.notification.notify(tx, request({ templateKey: 'PLINTH_TEST_NO_SUCH_SMS_MESSAGE', channels: ['SMS'], idempotencyKey: 'k-missing', referenceId: 'REF-MISSING' })),
    );
    await deliverAll();
    expect(sms().sent()).toHaveLength(0);
    const dead = await platform.database.kysely
      .withTables<{ plinth_event_dead_letter: { subscriber: string; last_error: string | null; subject: string } }>()
      .selectFrom('plinth_event_dead_letter')
      .selectAll()
      .where('subscriber', '=', 'notification.send')
      .execute();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.last_error).toContain('PLINTH_TEST_NO_SUCH_SMS_MESSAGE');
  });

  it('lets operators search, not every employee, and refuses bad criteria', async () => {
    const employee = await employeeAuth(platform, admin, 'notify-employee', ['EMPLOYEE']);
    expect((await search({ tenantId: 'pb.amritsar', channel: 'SMS', status: 'sent' }, employee)).status).toBe(403);
    const operator = await employeeAuth(platform, admin, 'notify-operator', ['EMPLOYEE', 'NOTIFICATION_ADMIN']);
    const ok = await search({ tenantId: 'pb.amritsar', channel: 'SMS', status: 'sent' }, operator);
    expect(ok.status).toBe(200);
    expect((await search({ tenantId: 'pb.jalandhar', channel: 'SMS' }, operator)).status).toBe(403);
    expect((ok.body['messages'] as Json[]).every((m) => m['channel'] === 'SMS' && m['status'] === 'sent')).toBe(true);
    expect((await search({ tenantId: 'pb.amritsar', channel: 'PIGEON' })).status).toBe(400);
    expect((await search({})).status).toBe(400);
  });
});
