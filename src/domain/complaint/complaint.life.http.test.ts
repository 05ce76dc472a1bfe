import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { LogSmsProvider } from '../../common/notification/index.js';
import { complaintDate } from './complaint.service.js';

/**
 * Issue #7's "done when": one complaint's whole life (filed with a photo, assigned by the GRO,
 * resolved by the LME, rated by its citizen) tells a Hindi-speaking citizen of every step by SMS,
 * in-app event and e-mail, each exactly once, the e-mail through a real SMTP server of this test.
 */

type Json = Record<string, unknown>;
type Who = { auth: Record<string, string>; uuid: string };
type Mail = { from: string; to: string[]; raw: string };

const PASSWORD = 'Field@2026x';
const BASE = '/pgr-services/v2/request';
const CITIZEN_MOBILE = '9766666666';
const CITIZEN_EMAIL = 'sunita.pgr@example.org';
const MAIL_FROM = 'complaints@pb.gov.in';

let platform: TestPlatform;
let admin: Record<string, string>;
let smtp: SMTPServer;
const mails: Mail[] = [];

const sms = () => platform.notification.sms as LogSmsProvider;

async function person(
  userName: string,
  type: 'EMPLOYEE' | 'CITIZEN',
  roles: readonly string[],
  mobileNumber: string,
  extra: Json = {},
): Promise<Who> {
  const tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar';
  const user = {
    userName,
    name: `Person ${userName}`,
    password: PASSWORD,
    type,
    tenantId,
    mobileNumber,
    roles: roles.map((code) => ({ code, tenantId })),
    ...extra,
  };
  const created = await post(platform, '/user/users/_createnovalidate', { RequestInfo: {}, user }, admin);
  if (created.status !== 200) throw new Error(`creating ${userName}: ${created.status} ${JSON.stringify(created.body)}`);
  const { status, body } = await login(platform, userName, PASSWORD, tenantId, type);
  if (status !== 200) throw new Error(`${userName} login: ${status} ${JSON.stringify(body)}`);
  return { auth: { authorization: `Bearer ${String(body['access_token'])}` }, uuid: String((body['UserRequest'] as Json)['uuid']) };
}

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        mails.push({
          from: mailFrom ? mailFrom.address : '',
          to: rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  const { port } = smtp.server.address() as AddressInfo;
  platform = await testPlatform({ config: { smtpUrl: `smtp://127.0.0.1:${port}`, mailFrom: MAIL_FROM } });
  admin = await adminAuth(platform);
});
afterAll(async () => {
  await platform?.drop();
  smtp?.close();
});

/** Bytes of RFC 2047 encoded words (B or Q); adjacent words are joined before UTF-8 decoding. */
function decodeWords(value: string): string {
  return value
    .replace(/(?:=\?[^?]+\?[BbQq]\?[^?]*\?=\s*)+/g, (run) => {
      const bytes = [...run.matchAll(/=\?[^?]+\?([BbQq])\?([^?]*)\?=/g)].map(([, enc, text]) =>
        enc!.toUpperCase() === 'B'
          ? Buffer.from(text!, 'base64')
          : Buffer.from(
              text!.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
              'latin1',
            ),
      );
      return Buffer.concat(bytes).toString('utf8') + (/\s$/.test(run) ? ' ' : '');
    })
    .trimEnd();
}

/** A plain-text mail as nodemailer writes it: headers (folded, encoded words) and one body part. */
function parseMail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = raw.slice(split + 4);
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : encoding === 'quoted-printable'
        ? Buffer.from(
            body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8')
        : body;
  return { headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, decodeWords(v)])), text: text.replace(/\r\n$/, '') };
}

const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3a3' } })
  .jpeg()
  .toBuffer();

async function uploadPhoto(auth: Record<string, string>): Promise<string> {
  const boundary = `----plinth${randomBytes(8).toString('hex')}`;
  const field = (name: string, value: string) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const payload = Buffer.concat([
    field('tenantId', 'pb.amritsar'),
    field('module', 'PGR'),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="pothole.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    jpeg,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const response = await platform.app.inject({
    method: 'POST',
    url: '/filestore/v1/files',
    payload,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...auth },
  });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { files: Array<{ fileStoreId: string }> }).files[0]!.fileStoreId;
}

async function act(path: '_create' | '_update', auth: Record<string, string>, service: Json, workflow: Json): Promise<Json> {
  const { status, body } = await post(platform, `${BASE}/${path}`, { RequestInfo: requestInfo, service, workflow }, auth);
  expect(status, JSON.stringify(body)).toBe(200);
  return ((body['ServiceWrappers'] as Json[])[0] as { service: Json }).service;
}

const LINK = /http:\/\/localhost:8080\/eus\/([0-9A-Za-z]{9})/g;

/** Every short link in `text` leads to the complaint's page; answers the text with them as LINK. */
async function followLinks(text: string, id: string): Promise<string> {
  for (const [, short] of text.matchAll(LINK)) {
    const response = await platform.app.inject({ method: 'GET', url: `/eus/${short}` });
    expect(response.statusCode).toBe(302);
    expect(response.headers['location']).toBe(`http://localhost:8080/citizen/complaints/${id}?tenantId=pb.amritsar`);
  }
  return text.replace(LINK, 'LINK');
}

describe('the life of a complaint, as its Hindi-speaking citizen hears of it', () => {
  it('sends exactly one Hindi SMS, in-app event and e-mail per step: filed with a photo, assigned, resolved, rated', async () => {
    const gro = await person('life_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9700000001');
    const lme = await person('life_lme', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9700000002');
    const citizen = await person(CITIZEN_MOBILE, 'CITIZEN', ['CITIZEN'], CITIZEN_MOBILE, { locale: 'hi_IN', emailId: CITIZEN_EMAIL });
    sms().clear();

    const photo = await uploadPhoto(citizen.auth);
    const filed = await act(
      '_create',
      citizen.auth,
      {
        tenantId: 'pb.amritsar',
        serviceCode: 'StreetLightNotWorking',
        description: 'कोने की बत्ती बंद है',
        source: 'web',
        address: { locality: { code: 'SUN04' } },
      },
      { action: 'APPLY', verificationDocuments: [{ documentType: 'PHOTO', fileStoreId: photo }] },
    );
    const id = String(filed['serviceRequestId']);
    expect(filed).toMatchObject({ applicationStatus: 'PENDINGFORASSIGNMENT', accountId: citizen.uuid });
    expect((filed['documents'] as Json[]).map((d) => d['fileStoreId'])).toEqual([photo]);
    const meta = await platform.app.inject({
      method: 'GET',
      url: `/filestore/v1/files/metadata?tenantId=pb.amritsar&fileStoreId=${photo}`,
      headers: citizen.auth,
    });
    expect(meta.json()).toMatchObject({ owner: { module: 'PGR', referenceId: id } });
    // The complaint type's Hindi label (localization SERVICEDEFS.STREETLIGHTNOTWORKING), not its MDMS name.
    const type = 'स्ट्रीट लाइट काम नहीं कर रही';
    expect(type).not.toBe('');
    const date = complaintDate(Number((filed['auditDetails'] as Json)['createdTime']));

    /**
     * Delivers what the step queued, then checks that this step added exactly one message per
     * channel, each with `expected` (short links as LINK), and nothing else went out for `id`.
     */
    let step = 0;
    async function expectTold(expected: string): Promise<void> {
      step += 1;
      await platform.dispatcher.settle();

      const texts = sms()
        .sent()
        .filter((m) => m.message.includes(id));
      expect(texts).toHaveLength(step);
      expect(texts.every((m) => m.mobileNumber === CITIZEN_MOBILE && m.tenantId === 'pb.amritsar')).toBe(true);
      expect(await followLinks(texts.at(-1)!.message, id)).toBe(expected);

      const mine = mails.filter((m) => parseMail(m.raw).text.includes(id));
      expect(mine).toHaveLength(step);
      const mail = mine.at(-1)!;
      expect(mail).toMatchObject({ from: MAIL_FROM, to: [CITIZEN_EMAIL] });
      const { headers, text } = parseMail(mail.raw);
      expect(headers['to']).toBe(CITIZEN_EMAIL);
      expect(headers['from']).toBe(MAIL_FROM);
      expect(await followLinks(text, id)).toBe(expected);
      // The subject is the text's first line, cut at a word to at most 65 characters.
      const subject = headers['subject']!;
      expect(subject.length).toBeLessThanOrEqual(65);
      if (subject.endsWith('…')) expect(text.startsWith(`${subject.slice(0, -1)} `)).toBe(true);
      else expect(subject).toBe(text);
      expect(subject).toMatch(/[\u0900-\u097F]/); // Devanagari

      const events = await post(
        platform,
        '/egov-user-event/v1/events/_search?tenantId=pb.amritsar',
        { RequestInfo: requestInfo },
        citizen.auth,
      );
      expect(events.status, JSON.stringify(events.body)).toBe(200);
      const inApp = (events.body['events'] as Json[]).filter((e) => e['referenceId'] === id);
      expect(inApp).toHaveLength(step);
      const newest = inApp[0]!; // newest first
      expect(newest).toMatchObject({
        tenantId: 'pb.amritsar',
        eventType: 'SYSTEMGENERATED',
        eventCategory: 'pgr',
        status: 'ACTIVE',
        name: subject,
        recepient: { toUsers: [citizen.uuid] },
      });
      expect(await followLinks(String(newest['description']), id)).toBe(expected);
    }

    await expectTold(`${type} के बारे में आपकी शिकायत ${date} को संख्या ${id} के साथ दर्ज की गई है। इसकी स्थिति LINK पर देखें।`);

    const assigned = await act(
      '_update',
      gro.auth,
      { tenantId: 'pb.amritsar', serviceRequestId: id },
      { action: 'ASSIGN', assignes: [lme.uuid], comments: 'please fix' },
    );
    expect(assigned['applicationStatus']).toBe('PENDINGATLME');
    await expectTold(`${type} के बारे में आपकी शिकायत ${id} अब Person life_lme के पास है।`);

    const resolved = await act(
      '_update',
      lme.auth,
      { tenantId: 'pb.amritsar', serviceRequestId: id },
      { action: 'RESOLVE', comments: 'बल्ब बदल दिया' },
    );
    expect(resolved['applicationStatus']).toBe('RESOLVED');
    await expectTold(`${type} के बारे में आपकी शिकायत ${id} का समाधान हो गया है। हमारी सेवा के बारे में LINK पर बताएँ।`);

    const rated = await act(
      '_update',
      citizen.auth,
      { tenantId: 'pb.amritsar', serviceRequestId: id, rating: 5 },
      { action: 'RATE', comments: 'धन्यवाद' },
    );
    expect(rated).toMatchObject({ applicationStatus: 'CLOSEDAFTERRESOLUTION', rating: 5 });
    await expectTold(`${date} को दर्ज ${type} के बारे में आपकी शिकायत ${id} के समाधान को रेटिंग देने के लिए धन्यवाद। यह अब बंद है। विवरण: LINK`);

    // What went out, as operators see it: four steps by three channels, all sent, in Hindi.
    const sent = await post(
      platform,
      '/notification/v1/_search',
      { RequestInfo: requestInfo, criteria: { tenantId: 'pb.amritsar', referenceId: id } },
      admin,
    );
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    const rows = sent.body['messages'] as Json[];
    expect(rows).toHaveLength(12);
    for (const channel of ['SMS', 'EMAIL', 'IN_APP']) {
      const ofChannel = rows.filter((m) => m['channel'] === channel);
      expect(ofChannel.map((m) => [m['status'], m['locale'], m['attempts']])).toEqual(
        Array.from({ length: 4 }, () => ['sent', 'hi_IN', 1]),
      );
    }

    // Redelivering every event sends nothing again on any channel.
    expect(await platform.dispatcher.replay({ since: 0, subscriber: 'notification.send' })).toBeGreaterThan(0);
    await platform.dispatcher.settle();
    expect(
      sms()
        .sent()
        .filter((m) => m.message.includes(id)),
    ).toHaveLength(4);
    expect(mails.filter((m) => parseMail(m.raw).text.includes(id))).toHaveLength(4);
    const again = await post(
      platform,
      '/egov-user-event/v1/events/_search?tenantId=pb.amritsar',
      { RequestInfo: requestInfo },
      citizen.auth,
    );
    expect((again.body['events'] as Json[]).filter((e) => e['referenceId'] === id)).toHaveLength(4);
  });
});
