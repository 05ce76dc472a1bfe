import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactSign, compactVerify, createLocalJWKSet, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { adminAuth, isDigitError, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { RECEIVED_EVENT } from './index.js';
import { openEvent, SEALED_KEY, type CloudEvent } from '../../kernel/events.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RECEIVER = 'pb.health';
const SENDER = 'pb.civil-registry';

let platform: TestPlatform;
let admin: Record<string, string>;
let clerk: Record<string, string>;

/** The other agency, simulated by its own keys. */
type Agency = { id: string; kid: string; privateKey: CryptoKey; jwk: JWK };
async function agency(id: string, kid: string): Promise<Agency> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  return { id, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid } };
}
let civil: Agency;
let civilNext: Agency;

function cloudEvent(extra: Json = {}): Json {
  return {
    specversion: '1.0',
    id: randomUUID(),
    type: 'plinth.individual.created.v1',
    source: '/plinth/individual',
    subject: randomUUID(),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    tenantid: 'pb.amritsar',
    data: { individualId: 'IND-1', dateOfBirth: '01/01/2026' },
    ...extra,
  };
}

/** A message as the sender signs it (docs/exchange.md), with any claim or header overridden. */
async function message(from: Agency, claims: Json = {}, header: Json = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: from.id, aud: RECEIVER, jti: randomUUID(), iat: now, exp: now + 300, subscriptionId: 'sub-1', event: cloudEvent(), ...claims };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', kid: from.kid, typ: 'plinth-event+jws', ...header })
    .sign(from.privateKey);
}

const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Json;

async function deliver(jws: string, contentType = 'application/jose') {
  const response = await platform.app.inject({ method: 'POST', url: '/exchange/v1/events/_receive', headers: { 'content-type': contentType }, payload: jws });
  return { status: response.statusCode, body: response.json() as Json };
}

async function handovers(messageId?: string): Promise<Json[]> {
  const rows = await sql<{ data: unknown; subject: string; tenant_id: string }>`select data, subject, tenant_id from plinth_outbox where type = ${RECEIVED_EVENT}`.execute(
    platform.database.kysely,
  );
  return rows.rows
    .map((r) => ({ ...r, data: platform.database.fromJson<Json>(r.data) }))
    .filter((r) => messageId === undefined || r.data['messageId'] === messageId);
}

async function refusals(): Promise<Json[]> {
  return (await platform.exchangeTrust.searchInbox({ kind: 'REFUSED', limit: 1000 })).refusals;
}

async function register(body: Json, auth = admin) {
  return post(platform, '/exchange/v1/agencies/_create', { RequestInfo: requestInfo, Agency: body }, auth);
}

beforeAll(async () => {
  platform = await testPlatform({ config: { agencyId: RECEIVER } });
  admin = await adminAuth(platform);
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: {
        userName: 'clerk.exchange',
        name: 'Clerk',
        password: 'Field@2026x',
        type: 'EMPLOYEE',
        tenantId: 'pb',
        mobileNumber: '9812345678',
        roles: [{ code: 'EMPLOYEE', tenantId: 'pb' }],
      },
    },
    admin,
  );
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const { body } = await login(platform, 'clerk.exchange', 'Field@2026x', 'pb');
  clerk = { authorization: `Bearer ${String(body['access_token'])}` };
  civil = await agency(SENDER, 'civil-1');
  civilNext = await agency(SENDER, 'civil-2');
  const registered = await register({ agencyId: SENDER, name: 'Civil registry', jwks: { keys: [civil.jwk] } });
  expect(registered.status, JSON.stringify(registered.body)).toBe(200);
});
afterAll(() => platform.drop());

describe('this agency\'s keys', () => {
  it('publishes its public keys only, at an open route', async () => {
    const response = await platform.app.inject({ method: 'GET', url: '/exchange/v1/.well-known/jwks.json' });
    expect(response.statusCode).toBe(200);
    const jwks = response.json() as { keys: Json[] };
    expect(jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      expect(typeof key['kid']).toBe('string');
      expect(key).not.toHaveProperty('d');
    }
  });

  it('keeps private keys sealed at rest, never in the clear', async () => {
    const rows = await sql<{ kid: string; sealed_private_key: string }>`select kid, sealed_private_key from exchange_signing_key`.execute(platform.database.kysely);
    expect(rows.rows.length).toBeGreaterThan(0);
    for (const row of rows.rows) {
      expect(row.sealed_private_key).toMatch(/^secret-v1\|/);
      // A PKCS#8 Ed25519 key in DER starts with these bytes; the sealed text must not contain it.
      expect(row.sealed_private_key).not.toContain(Buffer.from('302e020100300506032b6570', 'hex').toString('base64').slice(0, 12));
      await expect(platform.encryption.service.openSecret('another purpose', row.sealed_private_key)).rejects.toThrow();
    }
  });

  it('rotates by route (SUPERUSER only, audited); what the old key signed keeps verifying until it is removed', async () => {
    const before = (await platform.exchangeTrust.jwks()).keys[0]!.kid;
    // This agency trusts itself here, so its own signatures can be checked through the registry.
    const self = await register({ agencyId: RECEIVER, name: 'Self', jwks: await platform.exchangeTrust.jwks() });
    expect(self.status, JSON.stringify(self.body)).toBe(200);
    const signedBefore = await platform.exchangeTrust.sign({ aud: RECEIVER, jti: 'self-1' }, 'plinth-event+jws');

    expect((await post(platform, '/exchange/v1/keys/_rotate', { RequestInfo: requestInfo }, clerk)).status).toBe(403);
    const rotated = await post(platform, '/exchange/v1/keys/_rotate', { RequestInfo: requestInfo }, admin);
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const body = rotated.body as Json;
    expect(body['SigningKey']['previousKid']).toBe(before);
    expect(body['SigningKey']['kid']).not.toBe(before);
    expect(body['jwks']['keys'].map((k: Json) => k['kid'])).toEqual([body['SigningKey']['kid'], before]);

    const signedAfter = await platform.exchangeTrust.sign({ aud: RECEIVER, jti: 'self-2' }, 'plinth-event+jws');
    expect(JSON.parse(Buffer.from(signedAfter.split('.')[0]!, 'base64url').toString())['kid']).toBe(body['SigningKey']['kid']);
    const update = await post(platform, '/exchange/v1/agencies/_update', { RequestInfo: requestInfo, Agency: { agencyId: RECEIVER, jwks: body['jwks'] } }, admin);
    expect(update.status).toBe(200);
    expect((await platform.exchangeTrust.verify(signedBefore, 'plinth-event+jws')).kid).toBe(before);
    expect((await platform.exchangeTrust.verify(signedAfter, 'plinth-event+jws')).kid).toBe(body['SigningKey']['kid']);

    await platform.exchangeTrust.removeRetiredKey(before);
    const published = await platform.exchangeTrust.jwks();
    expect(published.keys.map((k) => k.kid)).toEqual([body['SigningKey']['kid']]);
    await platform.exchangeTrust.agencies.update({ agencyId: RECEIVER, jwks: published });
    await expect(platform.exchangeTrust.verify(signedBefore, 'plinth-event+jws')).rejects.toMatchObject({ code: 'UNKNOWN_SENDER' });
    await expect(platform.exchangeTrust.removeRetiredKey(body['SigningKey']['kid'])).rejects.toMatchObject({ code: 'CURRENT_KEY' });

    const audit = await platform.audit.log.search({ tenantId: 'pb', actions: ['key.rotated'], subject: body['SigningKey']['kid'], offset: 0, limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details).toMatchObject({ purpose: 'exchange-signing', agencyId: RECEIVER, previousKid: before });
    await platform.exchangeTrust.agencies.update({ agencyId: RECEIVER, status: 'INACTIVE' });
  });

  it('never has two current keys when rotations race', async () => {
    await Promise.all([platform.exchangeTrust.rotateKey(), platform.exchangeTrust.rotateKey(), platform.exchangeTrust.rotateKey()]);
    const rows = await sql<{ status: string }>`select status from exchange_signing_key`.execute(platform.database.kysely);
    expect(rows.rows.filter((r) => r.status === 'current')).toHaveLength(1);
  });
});

describe('the registry of trusted agencies', () => {
  it('refuses callers without SUPERUSER', async () => {
    for (const path of ['_create', '_search', '_update']) {
      const response = await post(platform, `/exchange/v1/agencies/${path}`, { RequestInfo: requestInfo, Agency: { agencyId: 'x', name: 'x', jwks: { keys: [] } } }, clerk);
      expect(response.status, path).toBe(403);
      expect(isDigitError(response.body)).toBe(true);
    }
    expect((await post(platform, '/exchange/v1/inbox/_search', { RequestInfo: requestInfo }, clerk)).status).toBe(403);
  });

  it('refuses private key material, other key types, a bad id or URL, and a second registration', async () => {
    const cases: Array<[Json, string]> = [
      [{ agencyId: 'pb.police', name: 'Police', jwks: { keys: [{ ...civil.jwk, d: civil.jwk.x }] } }, 'INVALID_JWKS'],
      [{ agencyId: 'pb.police', name: 'Police', jwks: { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'r' }] } }, 'INVALID_JWKS'],
      [{ agencyId: 'PB Police', name: 'Police', jwks: { keys: [civil.jwk] } }, 'INVALID_AGENCY_ID'],
      [{ agencyId: 'pb.police', name: 'Police', jwks: { keys: [civil.jwk] }, jwksUrl: 'ftp://x' }, 'INVALID_JWKS_URL'],
      // Plain http lets anyone on the path hand us keys: only to this machine.
      [{ agencyId: 'pb.police', name: 'Police', jwks: { keys: [civil.jwk] }, jwksUrl: 'http://police.example/jwks.json' }, 'INVALID_JWKS_URL'],
      [{ agencyId: 'pb.police', name: 'Police', jwks: { keys: [civil.jwk] }, jwksUrl: 'http://10.0.0.5/jwks.json' }, 'INVALID_JWKS_URL'],
      [{ agencyId: 'pb.police', name: 'Police', jwks: { keys: [civil.jwk] }, jwksUrl: 'https://u:p@police.example/jwks.json' }, 'INVALID_JWKS_URL'],
      [{ agencyId: SENDER, name: 'Again', jwks: { keys: [civil.jwk] } }, 'DUPLICATE_AGENCY'],
    ];
    for (const [body, code] of cases) {
      const response = await register(body);
      expect(response.status, code).toBe(400);
      expect((response.body as Json)['Errors'][0]['code']).toBe(code);
    }
    const found = await post(platform, '/exchange/v1/agencies/_search', { RequestInfo: requestInfo, AgencySearchCriteria: { agencyIds: ['pb.police'] } }, admin);
    expect((found.body as Json)['Agencies']).toEqual([]);
  });

  it('registers, searches and updates in DIGIT envelopes', async () => {
    const created = await register({ agencyId: 'pb.police', name: 'Police', jwks: { keys: [civilNext.jwk] }, status: 'INACTIVE' });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ ResponseInfo: { status: 'successful' }, Agencies: [{ agencyId: 'pb.police', status: 'INACTIVE', rowVersion: 1 }] });
    const updated = await post(platform, '/exchange/v1/agencies/_update', { RequestInfo: requestInfo, Agency: { agencyId: 'pb.police', name: 'State police' } }, admin);
    expect(updated.body).toMatchObject({ Agencies: [{ agencyId: 'pb.police', name: 'State police', status: 'INACTIVE', rowVersion: 2 }] });
    const missing = await post(platform, '/exchange/v1/agencies/_update', { RequestInfo: requestInfo, Agency: { agencyId: 'pb.nobody', name: 'x' } }, admin);
    expect(missing.status).toBe(400);
    const search = await post(platform, '/exchange/v1/agencies/_search', { RequestInfo: requestInfo, AgencySearchCriteria: { status: 'INACTIVE' } }, admin);
    expect(((search.body as Json)['Agencies'] as Json[]).map((a) => a['agencyId'])).toContain('pb.police');
  });
});

describe('receiving', () => {
  it('accepts a good message: 200, a receipt the sender can verify, exactly one hand-over', async () => {
    const jws = await message(civil);
    const sent = payloadOf(jws);
    const response = await deliver(jws);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body['status']).toBe('ACCEPTED');

    const jwks = (await platform.app.inject({ method: 'GET', url: '/exchange/v1/.well-known/jwks.json' })).json() as { keys: JWK[] };
    const verified = await compactVerify(response.body['receipt'] as string, createLocalJWKSet(jwks as never), { algorithms: ['EdDSA'] });
    expect(verified.protectedHeader['typ']).toBe('plinth-receipt+jws');
    const receipt = JSON.parse(new TextDecoder().decode(verified.payload)) as Json;
    expect(receipt).toMatchObject({
      iss: RECEIVER,
      aud: SENDER,
      messageId: sent['jti'],
      eventId: sent['event']['id'],
      digest: createHash('sha256').update(jws).digest('base64url'),
      status: 'ACCEPTED',
    });

    const events = await handovers(sent['jti']);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ subject: sent['event']['subject'], tenant_id: 'pb.amritsar' });
    // At rest the received event (people's data) is sealed; the handlers get it opened.
    expect(events[0]!['data']).toMatchObject({ messageId: sent['jti'], sender: SENDER, subscriptionId: 'sub-1' });
    expect(events[0]!['data']['event']).toBeUndefined();
    expect(String(events[0]!['data'][SEALED_KEY])).toMatch(/^pb:data:\d+\|/);
    const opened = await openEvent(platform.database, { id: 'x', tenantid: events[0]!['tenant_id'], data: events[0]!['data'] } as unknown as CloudEvent);
    expect(opened.data).toMatchObject({ messageId: sent['jti'], event: sent['event'] });

    const inbox = await platform.exchangeTrust.searchInbox({ messageId: sent['jti'] });
    expect(inbox.messages).toHaveLength(1);
    expect(inbox.messages[0]).toMatchObject({ sender: SENDER, jws, receipt: response.body['receipt'], eventType: 'plinth.individual.created.v1' });
    // Stored: the detached JWS in clear (evidence), the payload encrypted.
    const [stored] = (
      await sql<{ jws: string; payload: string | null }>`select jws, payload from exchange_inbox where message_id = ${sent['jti']}`.execute(platform.database.kysely)
    ).rows;
    const [header, body, signature] = jws.split('.');
    expect(stored!.jws).toBe(`${header}..${signature}`);
    expect(stored!.payload).toMatch(/^pb:data:\d+\|/);
    expect(stored!.payload).not.toContain(body!.slice(0, 40));

    // Past the retention the payload goes; digest, receipt and detached signature stay.
    expect(await platform.exchangeTrust.purgePayloads(Date.now() + 1)).toBeGreaterThanOrEqual(1);
    const purged = await platform.exchangeTrust.searchInbox({ messageId: sent['jti'] });
    expect(purged.messages[0]).toMatchObject({ jws: `${header}..${signature}`, receipt: response.body['receipt'], digest: inbox.messages[0]!.digest });
  });

  it('answers the same message again DUPLICATE with the first receipt and no second hand-over, also when re-signed', async () => {
    const jws = await message(civil);
    const first = await deliver(jws);
    expect(first.body['status']).toBe('ACCEPTED');
    const again = await deliver(jws);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'DUPLICATE', receipt: first.body['receipt'] });
    // A retry signs anew (later iat/exp) and keeps its jti: still the same message.
    const sent = payloadOf(jws);
    const resigned = await message(civil, { ...sent, iat: sent['iat'] + 1, exp: sent['exp'] + 1 });
    expect(resigned).not.toBe(jws);
    expect((await deliver(resigned)).body).toMatchObject({ status: 'DUPLICATE', receipt: first.body['receipt'] });
    expect(await handovers(sent['jti'])).toHaveLength(1);
  });

  it('hands a message over once when two copies arrive at the same moment', async () => {
    const jws = await message(civil);
    // The third copy goes wrapped in JSON: the same message all the same.
    const answers = await Promise.all([deliver(jws), deliver(jws), deliver(JSON.stringify({ RequestInfo: requestInfo, jws }), 'application/json; charset=utf-8')]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.body['status']).sort()).toEqual(['ACCEPTED', 'DUPLICATE', 'DUPLICATE']);
    expect(await handovers(payloadOf(jws)['jti'])).toHaveLength(1);
  });

  it('refuses the same message id with another body (409 MESSAGE_REPLAYED), and records it', async () => {
    const jws = await message(civil);
    expect((await deliver(jws)).status).toBe(200);
    const sent = payloadOf(jws);
    const other = await message(civil, { jti: sent['jti'], event: cloudEvent() });
    const response = await deliver(other);
    expect(response.status).toBe(409);
    expect(response.body['Errors'][0]['code']).toBe('MESSAGE_REPLAYED');
    expect(await handovers(sent['jti'])).toHaveLength(1);
    expect((await refusals()).some((r) => r['code'] === 'MESSAGE_REPLAYED' && r['messageId'] === sent['jti'] && r['senderVerified'] === true)).toBe(true);
  });

  it('refuses a tampered message (401 INVALID_SIGNATURE), records it and hands nothing over', async () => {
    const jws = await message(civil);
    const parts = jws.split('.');
    const payload = payloadOf(jws);
    payload['event']['data']['dateOfBirth'] = '02/02/2020';
    const tampered = `${parts[0]}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${parts[2]}`;
    const response = await deliver(tampered);
    expect(response.status).toBe(401);
    expect(isDigitError(response.body)).toBe(true);
    expect(response.body['Errors'][0]['code']).toBe('INVALID_SIGNATURE');
    expect(await handovers(payload['jti'])).toHaveLength(0);
    const recorded = (await refusals()).find((r) => r['messageId'] === payload['jti']);
    // Its signature did not check out: anyone could have sent it, so only its first 256 bytes are kept.
    expect(recorded).toMatchObject({ code: 'INVALID_SIGNATURE', sender: SENDER, senderVerified: false, bodyHead: tampered.slice(0, 256), bodyLength: tampered.length });
    // The inbox route shows it to an operator.
    const listed = await post(platform, '/exchange/v1/inbox/_search', { RequestInfo: requestInfo, InboxSearchCriteria: { kind: 'REFUSED', messageId: payload['jti'] } }, admin);
    expect(listed.status).toBe(200);
    expect((listed.body as Json)['Refusals']).toHaveLength(1);
  });

  it('refuses unknown senders and inactive ones (401 UNKNOWN_SENDER)', async () => {
    const stranger = await agency('pb.stranger', 'x-1');
    expect((await deliver(await message(stranger))).body['Errors'][0]['code']).toBe('UNKNOWN_SENDER');
    expect((await deliver(await message(stranger))).status).toBe(401);
    // A key id the registered sender does not have, and no jwksUrl to learn it from.
    const unknownKid = await deliver(await message(civilNext));
    expect(unknownKid.status).toBe(401);
    expect(unknownKid.body['Errors'][0]['code']).toBe('UNKNOWN_SENDER');
    await platform.exchangeTrust.agencies.update({ agencyId: SENDER, status: 'INACTIVE' });
    try {
      const inactive = await deliver(await message(civil));
      expect(inactive.status).toBe(401);
      expect(inactive.body['Errors'][0]['code']).toBe('UNKNOWN_SENDER');
    } finally {
      await platform.exchangeTrust.agencies.update({ agencyId: SENDER, status: 'ACTIVE' });
    }
  });

  it('refuses wrong audience, expired and future messages (400)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[Json, string]> = [
      [{ aud: 'pb.police' }, 'WRONG_AUDIENCE'],
      [{ iat: now - 600, exp: now - 300 }, 'MESSAGE_EXPIRED'],
      [{ iat: now + 600, exp: now + 900 }, 'MESSAGE_EXPIRED'],
      [{ exp: now + 7200 }, 'MALFORMED_MESSAGE'],
    ];
    for (const [claims, code] of cases) {
      const response = await deliver(await message(civil, claims));
      expect(response.status, code).toBe(400);
      expect(response.body['Errors'][0]['code']).toBe(code);
    }
  });

  it('refuses malformed bodies and events that are not CloudEvents (400 MALFORMED_MESSAGE), recorded', async () => {
    const before = (await refusals()).length;
    const bodies: Array<[string, string]> = [
      ['not a jws', 'application/jose'],
      ['', 'application/jose'],
      ['{"jws": 42}', 'application/json'],
      ['{"nothing": true}', 'application/json'],
      ['[1,2]', 'application/json'],
    ];
    for (const [body, contentType] of bodies) {
      const response = await deliver(body, contentType);
      expect(response.status, body).toBe(400);
      expect(response.body['Errors'][0]['code'], body).toBe('MALFORMED_MESSAGE');
    }
    const badEvents: Json[] = [
      { event: undefined },
      { event: cloudEvent({ specversion: '0.3' }) },
      { event: cloudEvent({ tenantid: undefined }) },
      { event: cloudEvent({ id: '' }) },
      { event: cloudEvent({ data: undefined }) },
      { event: cloudEvent({ data: { text: 'nul \u0000 inside' } }) },
      { jti: 'x'.repeat(500) },
    ];
    for (const claims of badEvents) {
      const response = await deliver(await message(civil, claims));
      expect(response.status, JSON.stringify(claims)).toBe(400);
      expect(response.body['Errors'][0]['code']).toBe('MALFORMED_MESSAGE');
    }
    expect((await refusals()).length).toBe(before + bodies.length + badEvents.length);
    // Too large for the route: refused before it is read.
    expect((await deliver('a'.repeat(300_000))).status).toBe(413);
  });

  it('learns a rotated sender key from its jwksUrl, at most once a minute', async () => {
    let fetches = 0;
    let published: JWK[] = [civil.jwk, civilNext.jwk];
    const server = http.createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/exchange/v1/.well-known/jwks.json`;
      const police = await agency('pb.police2', 'p-1');
      const policeNext = await agency('pb.police2', 'p-2');
      const policeLater = await agency('pb.police2', 'p-3');
      published = [police.jwk, policeNext.jwk];
      expect((await register({ agencyId: 'pb.police2', name: 'Police', jwks: { keys: [police.jwk] }, jwksUrl: url })).status).toBe(200);

      expect((await deliver(await message(police))).status).toBe(200);
      expect(fetches).toBe(0);
      const rotated = await deliver(await message(policeNext));
      expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
      expect(fetches).toBe(1);
      const [stored] = await platform.exchangeTrust.agencies.search({ agencyIds: ['pb.police2'] });
      expect(stored!.jwks.keys.map((k) => k.kid)).toEqual(['p-1', 'p-2']);

      // Within the minute, a new unknown kid does not fetch again.
      published = [police.jwk, policeNext.jwk, policeLater.jwk];
      const tooSoon = await deliver(await message(policeLater));
      expect(tooSoon.status).toBe(401);
      expect(fetches).toBe(1);
    } finally {
      server.close();
    }
  });
});
