import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import pino from 'pino';
import { DomainError } from '../../kernel/errors.js';
import { createOutbox } from '../../kernel/events.js';
import { personalFields, SECRET_PREFIX } from '../../common/encryption/index.js';
import { adminAuth, isDigitError, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { createReceiver, REFUSAL_RETENTION, storable } from './trust.receive.js';
import { RECEIVE_RATE_LIMIT } from './trust.routes.js';
import { createTrustStore, type RefusalRow } from './trust.store.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RECEIVER = 'pb.health';
const SENDER = 'pb.civil-registry';
const DAY = 24 * 3_600_000;

let platform: TestPlatform;
let store: ReturnType<typeof createTrustStore>;

beforeAll(async () => {
  platform = await testPlatform({ config: { agencyId: RECEIVER } });
  store = createTrustStore(platform.database);
});
afterAll(() => platform.drop());

async function deliver(payload: string, contentType = 'application/jose', remoteAddress = '127.0.0.1') {
  const response = await platform.app.inject({
    method: 'POST',
    url: '/exchange/v1/events/_receive',
    headers: { 'content-type': contentType },
    payload,
    remoteAddress,
  });
  return { status: response.statusCode, body: response.json() as Json };
}

const refusals = async () => (await platform.exchangeTrust.searchInbox({ kind: 'REFUSED', limit: 1000 })).refusals;
/** The stored head of a refusal, as it is in the table. */
const storedHead = async (id: string) =>
  (await sql<{ body_head: string }>`select body_head from exchange_refusal where id = ${id}`.execute(platform.database.kysely)).rows[0]?.body_head;

function testReceiver(options: { clock?: () => number; maxRows?: number } = {}) {
  return createReceiver({
    database: platform.database,
    store,
    outbox: createOutbox(platform.database, { now: () => Date.now() }, () => undefined),
    clock: { now: options.clock ?? (() => Date.now()) },
    logger: pino({ level: 'silent' }),
    verify: () => Promise.reject(new DomainError('unauthenticated', { code: 'UNKNOWN_SENDER', message: 'no' })),
    payloads: personalFields(platform.encryption.service, { name: 'exchange.inbox', text: ['payload'] }),
    secrets: platform.encryption.service,
    sign: () => Promise.reject(new Error('not used')),
    ...(options.maxRows === undefined ? {} : { refusalRetention: { maxRows: options.maxRows, capCheckEvery: 1 } }),
  });
}

function refusalRow(receivedTime: number, id = randomUUID()): RefusalRow {
  return {
    id,
    code: 'MALFORMED_MESSAGE',
    message: 'old',
    sender: null,
    sender_verified: false,
    message_id: null,
    remote_address: null,
    body_head: 'x',
    body_length: 1,
    received_time: receivedTime,
  };
}

describe('what a refusal keeps', () => {
  it('keeps 256 bytes of an anonymous body, 4 KiB of a body whose sender signed it', async () => {
    const junk = `not a jws ${'é'.repeat(5000)}`;
    expect((await deliver(junk)).status).toBe(400);
    const anonymous = (await refusals()).find((r) => r.bodyLength === junk.length);
    expect(anonymous).toBeDefined();
    expect(Buffer.byteLength(anonymous!.bodyHead)).toBeLessThanOrEqual(256);
    expect(junk.startsWith(anonymous!.bodyHead)).toBe(true);
    expect(anonymous!.senderVerified).toBe(false);

    // A signed message from a trusted sender, refused for what it carries: the first 4 KiB are kept.
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'c-1' };
    await platform.exchangeTrust.agencies.create({ agencyId: SENDER, name: 'Civil registry', jwks: { keys: [jwk] } });
    const now = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    const claims = { iss: SENDER, aud: RECEIVER, jti, iat: now, exp: now + 300, event: { specversion: '0.3', padding: 'p'.repeat(6000) } };
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'EdDSA', kid: 'c-1', typ: 'plinth-event+jws' })
      .sign(privateKey);
    expect((await deliver(jws)).status).toBe(400);
    const signed = (await refusals()).find((r) => r.messageId === jti);
    expect(signed).toMatchObject({ senderVerified: true, sender: SENDER, bodyHead: jws.slice(0, 4096), bodyLength: jws.length });
  });

  it('stores the head sealed (a refused body may carry personal data), bound to its row', async () => {
    const body = JSON.stringify({ specversion: '1.0', data: { name: 'Qzsealedmarker Kaur', mobileNumber: '9876543210' } });
    expect((await deliver(body, 'application/json')).status).toBe(400);
    const refusal = (await refusals()).find((r) => r.bodyHead.includes('Qzsealedmarker'));
    expect(refusal?.bodyHead).toBe(body);
    const stored = await storedHead(refusal!.id);
    expect(stored!.startsWith(SECRET_PREFIX)).toBe(true);
    expect(stored).not.toContain('Qzsealedmarker');
    expect(stored).not.toContain('9876543210');
    // Copied onto another row it does not open: that row answers the ciphertext, never the text.
    const copy = { ...refusalRow(Date.now()), body_head: stored! };
    await store.insertRefusal(copy);
    expect((await refusals()).find((r) => r.id === copy.id)?.bodyHead).toBe(stored);
  });

  it('seals the heads recorded before heads were sealed, once', async () => {
    const old = { ...refusalRow(Date.now()), body_head: '{"name":"Qzoldmarker Singh"}' };
    await store.insertRefusal(old);
    const receiver = testReceiver();
    expect(await receiver.sealStoredRefusals()).toBeGreaterThanOrEqual(1);
    expect(await storedHead(old.id)).not.toContain('Qzoldmarker');
    expect((await refusals()).find((r) => r.id === old.id)?.bodyHead).toBe(old.body_head);
    expect(await receiver.sealStoredRefusals()).toBe(0);
  });

  it('bounds stored text by UTF-8 bytes, never splitting a character', () => {
    expect(storable('abc', 2)).toBe('ab');
    expect(storable('ééé', 5)).toBe('éé');
    expect(storable('😀😀', 5)).toBe('😀');
    expect(storable('a\u0000b', 10)).toBe('a\ufffdb');
  });
});

describe('keeping the refusal table bounded', () => {
  it('prunes refusals older than 30 days when a new one is recorded', async () => {
    const now = Date.now();
    const old = refusalRow(now - REFUSAL_RETENTION.maxAgeMs - DAY);
    const recent = refusalRow(now - REFUSAL_RETENTION.maxAgeMs + DAY);
    await store.insertRefusal(old);
    await store.insertRefusal(recent);
    expect((await deliver('still not a jws')).status).toBe(400);
    const ids = (await refusals()).map((r) => r.id);
    expect(ids).not.toContain(old.id);
    expect(ids).toContain(recent.id);
  });

  it('keeps at most the newest maxRows refusals', async () => {
    let time = Date.now() + 1000;
    // The clock moves on each read: every refusal has its own time, in order.
    const receiver = testReceiver({ clock: () => time++, maxRows: 3 });
    for (let i = 0; i < 6; i++) await expect(receiver.receive(`a.b.c${i}`, `body-${i}`, null)).rejects.toMatchObject({ code: 'UNKNOWN_SENDER' });
    const kept = await refusals();
    expect(kept.map((r) => r.bodyHead)).toEqual(['body-5', 'body-4', 'body-3']);
    expect(await store.countRefusals()).toBe(3);

    // The same bound holds when the table grew by other means (another process, an older release), at the next prune.
    for (let i = 0; i < 4; i++) await store.insertRefusal(refusalRow(time++));
    expect(await store.countRefusals()).toBe(7);
    expect(await receiver.pruneRefusals()).toBe(4);
    expect(await store.countRefusals()).toBe(3);
  });
});

describe('the open receive route', () => {
  it(`answers 429 past ${RECEIVE_RATE_LIMIT.max} requests a minute from one address, and only for that address`, async () => {
    const flooder = '198.51.100.7';
    // An unknown content type is refused before the handler (415), so the flood writes nothing, yet each request counts.
    for (let i = 0; i < RECEIVE_RATE_LIMIT.max; i++) {
      const { status } = await deliver('x', 'application/x-unknown', flooder);
      expect(status).toBe(415);
    }
    const limited = await deliver('not a jws', 'application/jose', flooder);
    expect(limited.status).toBe(429);
    expect(isDigitError(limited.body)).toBe(true);
    expect(limited.body['Errors'][0]['code']).toBe('TOO_MANY_REQUESTS');
    expect((await deliver('not a jws', 'application/jose', '198.51.100.8')).status).toBe(400);
    // Other routes are not counted against it.
    const auth = await adminAuth(platform);
    expect((await post(platform, '/exchange/v1/inbox/_search', { RequestInfo: requestInfo }, auth)).status).toBe(200);
  });
});
