import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { logSmsProvider, type LogSmsProvider } from './notification.channels.js';
import { createOtpSender } from './notification.otp.js';

/**
 * Issue #14 Build 5: a self-service change of e-mail needs an OTP sent to the new address. The
 * platform's OTPs go out through the notification channels: SMS to a number, e-mail to an address.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Mail = { to: string[]; raw: string };

const PASSWORD = 'Clerk@123';
const REFUSED = 'refused@example.org';
let platform: TestPlatform;
let admin: Record<string, string>;
let smtp: SMTPServer;
const mails: Mail[] = [];
const logLines: string[] = [];

const sms = () => platform.notification.sms as LogSmsProvider;
const codeIn = (text: string) => /one-time password for [a-z ]+ is (\d{6})\b/.exec(text)?.[1];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      callback(address.address === REFUSED ? Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }) : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  const { port } = smtp.server.address() as AddressInfo;
  platform = await testPlatform({
    config: { smtpUrl: `smtp://127.0.0.1:${port}`, mailFrom: 'accounts@pb.gov.in', logLevel: 'info' },
    logStream: { write: (line) => void logLines.push(line) },
  });
  admin = await adminAuth(platform);
});
afterAll(async () => {
  await platform?.drop();
  smtp?.close();
});

async function employee(userName: string, mobileNumber: string) {
  const user = {
    userName,
    name: `Employee ${userName}`,
    password: PASSWORD,
    type: 'EMPLOYEE',
    tenantId: 'pb.amritsar',
    mobileNumber,
    emailId: `${userName}@old.example.org`,
    roles: [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }],
  };
  const made = await post(platform, '/user/users/_createnovalidate', { RequestInfo: {}, user }, admin);
  expect(made.status, JSON.stringify(made.body)).toBe(200);
  const answer = await login(platform, userName, PASSWORD, 'pb.amritsar');
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return {
    uuid: String((made.body['user'] as Json[])[0]!.uuid),
    headers: { authorization: `Bearer ${String(answer.body['access_token'])}` },
  };
}

const validate = async (identity: string, code: string | undefined) => {
  const answer = await post(platform, '/otp/v1/_validate', { RequestInfo: {}, otp: { tenantId: 'pb', identity, otp: code } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return String((answer.body['otp'] as Json)['UUID']);
};

describe('OTPs by e-mail', () => {
  it('proves a new e-mail address: the code arrives by e-mail, and only then does the change go through', async () => {
    const me = await employee('otp.mail', '9855500001');
    const address = 'otp.mail@new.example.org';
    const change = (extra: Json) =>
      post(platform, '/user/profile/_update', { RequestInfo: {}, user: { uuid: me.uuid, emailId: address, ...extra } }, me.headers);
    expect((await change({})).body).toMatchObject({ Errors: [{ code: 'INVALID_OTP_REFERENCE' }] });

    // The OTP service (DIGIT's /otp/v1/_create) is asked for a code to the new address.
    const created = await post(
      platform,
      '/otp/v1/_create',
      { RequestInfo: {}, otp: { tenantId: 'pb', identity: address, type: 'register' } },
      admin,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    await platform.notification.otp.settle();
    const mail = mails.find((m) => m.to.includes(address));
    expect(mail?.raw).toMatch(/Subject: Your one-time password/);
    const code = codeIn(mail!.raw);
    expect(code).toMatch(/^\d{6}$/);
    // Nothing went to the SMS gateway, and the code is stored nowhere in a message.
    expect(
      sms()
        .sent()
        .some((m) => m.message.includes(code!)),
    ).toBe(false);
    expect((await platform.notification.search({ tenantId: 'pb' })).messages.some((m) => m.message?.includes(code!))).toBe(false);

    const accepted = await change({ emailOtpReference: await validate(address, code) });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const [stored] = await platform.users.service.search({ uuids: [me.uuid] }, { pageSize: 1 });
    expect(stored!.emailId).toBe(address);
  });

  it('sends the SMS OTP through the SMS provider (not the log alone), the number masked in the log', async () => {
    await employee('otp.sms', '9855500002');
    sms().clear();
    const sent = await post(platform, '/user-otp/v1/_send', {
      RequestInfo: {},
      otp: { mobileNumber: '9855500002', tenantId: 'pb', type: 'passwordreset', userType: 'EMPLOYEE' },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    await platform.notification.otp.settle();
    const [message] = sms().sent();
    expect(message).toMatchObject({ mobileNumber: '9855500002', tenantId: 'pb' });
    await validate('9855500002', codeIn(message!.message));
    // The development provider logs the text, the number masked.
    expect(logLines.some((line) => line.includes('******0002'))).toBe(true);
    expect(logLines.join('')).not.toContain('9855500002');
  });

  it('answers before the mail server does: a refused address is logged (masked), the request succeeds', async () => {
    const before = mails.length;
    const created = await post(
      platform,
      '/otp/v1/_create',
      { RequestInfo: {}, otp: { tenantId: 'pb', identity: REFUSED, type: 'register' } },
      admin,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    await platform.notification.otp.settle();
    expect(mails.length).toBe(before);
    const warning = logLines.find((line) => line.includes('OTP could not be sent'));
    expect(warning).toContain('r***@example.org');
    expect(logLines.join('')).not.toContain(REFUSED);
  });

  it('refuses an e-mail OTP where e-mail is not configured (400), and still sends SMS there', async () => {
    const logger = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
    const provider = logSmsProvider(logger);
    const sender = createOtpSender({ sms: provider, email: undefined, logger });
    await expect(
      sender.send({ tenantId: 'pb', mobileNumber: 'a@example.org', purpose: 'register', code: '123456', expiresInMinutes: 5 }),
    ).rejects.toMatchObject({
      kind: 'invalid',
      code: 'EMAIL_NOT_CONFIGURED',
    });
    await sender.send({ tenantId: 'pb', mobileNumber: '9855500003', purpose: 'login', code: '654321', expiresInMinutes: 5 });
    await sender.settle();
    expect(provider.sent()).toEqual([{ tenantId: 'pb', mobileNumber: '9855500003', message: expect.stringContaining('654321') }]);
  });
});
