import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, employeeAuth, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';

/**
 * The notification log answers decrypted addresses and texts: shown by the `Notification` security
 * policy for the operator's roles, each message shown audited (`pii.decrypted`).
 */

type Json = Record<string, unknown>;

let platform: TestPlatform;
let admin: Record<string, string>;
let operator: Record<string, string>;
let messageId: string;

const MOBILE = '9876543210';
const REFERENCE = 'PB-PGR-PRIVACY-1';

const search = async (auth: Record<string, string>) => {
  const { status, body } = await post(
    platform,
    '/notification/v1/_search',
    { RequestInfo: requestInfo, criteria: { tenantId: 'pb.amritsar', referenceId: REFERENCE } },
    auth,
  );
  expect(status, JSON.stringify(body)).toBe(200);
  return (body['messages'] as Json[])[0]!;
};
const decryptions = () =>
  platform.audit.log.search({ tenantId: 'pb.amritsar', subject: messageId, actions: ['pii.decrypted'], offset: 0, limit: 100 });

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  operator = await employeeAuth(platform, admin, 'privacy.notify.ops', ['EMPLOYEE', 'NOTIFICATION_ADMIN'], 'pb.amritsar');
  const request = {
    tenantId: 'pb.amritsar',
    templateKey: 'PGR_CITIZEN_ASSIGN_PENDINGATLME_SMS_MESSAGE',
    localizationModule: 'rainmaker-pgr',
    params: { id: REFERENCE, emp_name: 'Gurpreet' },
    recipients: [{ mobileNumber: MOBILE }],
    channels: ['SMS' as const],
    module: 'pgr',
    referenceId: REFERENCE,
    idempotencyKey: `${REFERENCE}:ASSIGN:1`,
  };
  await platform.database.transaction((tx) => platform.notification.notify(tx, request));
  for (let i = 0; i < 3; i++) await platform.dispatcher.deliverPending();
  const [sent] = (await platform.notification.search({ tenantId: 'pb.amritsar', referenceId: REFERENCE })).messages;
  expect(sent).toMatchObject({ address: MOBILE, status: 'sent' });
  messageId = sent!.id;
});
afterAll(() => platform.drop());

describe('the notification log: shown by policy, each message shown audited', () => {
  it('shows the superuser everything and an operator the text with the address masked', async () => {
    const full = await search(admin);
    expect(full['address']).toBe(MOBILE);
    expect(String(full['message'])).toContain(REFERENCE);

    const masked = await search(operator);
    expect(masked['address']).toBe('******3210');
    expect(masked['message']).toBe(full['message']);
    expect(masked['status']).toBe('sent');

    const entries = await decryptions();
    expect(entries).toHaveLength(2);
    for (const entry of entries)
      expect(entry.details).toEqual({ model: 'Notification', purpose: 'search', fields: ['address', 'subject', 'message', 'lastError'] });
    expect(JSON.stringify(entries)).not.toContain(MOBILE);
  });

  it('follows the policy in MDMS: an operator no longer named sees every personal field masked', async () => {
    const found = await post(
      platform,
      '/mdms-v2/v2/_search',
      {
        RequestInfo: requestInfo,
        MdmsCriteria: { tenantId: 'pb', schemaCode: 'DataSecurity.SecurityPolicy', uniqueIdentifiers: ['Notification'] },
      },
      admin,
    );
    const record = (found.body['mdms'] as Json[])[0] as Json & { data: { roleBasedDecryptionPolicy: Array<{ roles: string[] }> } };
    const data = {
      ...record.data,
      roleBasedDecryptionPolicy: record.data.roleBasedDecryptionPolicy.filter((e) => !e.roles.includes('NOTIFICATION_ADMIN')),
    };
    const changed = await post(
      platform,
      '/mdms-v2/v2/_update/DataSecurity.SecurityPolicy',
      { RequestInfo: requestInfo, Mdms: { ...record, data } },
      admin,
    );
    expect(changed.status, JSON.stringify(changed.body)).toBe(202);

    const masked = await search(operator);
    expect(masked['address']).toBe('******3210');
    expect(masked['message']).toMatch(/^\*+$/);
    expect(masked['subject']).toMatch(/^\*+$/);
    expect(masked['referenceId']).toBe(REFERENCE);
  });

  it('answers the platform (the module API) in full, with no entry: nothing leaves', async () => {
    const before = (await decryptions()).length;
    const [message] = (await platform.notification.search({ tenantId: 'pb.amritsar', referenceId: REFERENCE })).messages;
    expect(message!.address).toBe(MOBILE);
    expect(await decryptions()).toHaveLength(before);
  });
});
