import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import pino from 'pino';
import { sql } from 'kysely';
import { testPlatform, type TestPlatform } from '../../../test/helpers.js';
import { createAgencyRegistry, isFetchableJwksUrl, JWKS_FETCH_INTERVAL_MS, JWKS_MAX_AGE_MS } from './trust.registry.js';
import { createTrustStore } from './trust.store.js';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await testPlatform({ config: { agencyId: 'pb.health' } });
});
afterAll(() => platform.drop());

const key = async (kid: string): Promise<JWK> => ({ ...(await exportJWK((await generateKeyPair('EdDSA', { crv: 'Ed25519' })).publicKey)), kid });
const MINUTE = 60_000;

/** A registry on the test database with a clock the test moves and a jwksUrl it answers. */
function registry(start: number) {
  const clock = { time: start, now: () => clock.time };
  const fetcher = { calls: 0, published: { keys: [] as JWK[] } as unknown, fail: false };
  const reg = createAgencyRegistry({
    store: createTrustStore(platform.database),
    clock,
    logger: pino({ level: 'silent' }),
    fetchJwks: () => {
      fetcher.calls++;
      return fetcher.fail ? Promise.reject(new Error('down')) : Promise.resolve(fetcher.published);
    },
  });
  return { reg, clock, fetcher };
}

describe('jwksUrl', () => {
  it('is https, or plain http to a loopback host only', () => {
    const ok = (url: string) => isFetchableJwksUrl(new URL(url));
    expect(ok('https://civil.example/jwks.json')).toBe(true);
    expect(ok('http://localhost:8081/jwks.json')).toBe(true);
    expect(ok('http://127.0.0.1:8081/jwks.json')).toBe(true);
    expect(ok('http://[::1]:8081/jwks.json')).toBe(true);
    expect(ok('http://civil.example/jwks.json')).toBe(false);
    expect(ok('http://127.0.0.2/jwks.json')).toBe(false);
    expect(ok('http://localhost.civil.example/jwks.json')).toBe(false);
    expect(ok('https://user:pw@civil.example/jwks.json')).toBe(false);
    expect(ok('ftp://civil.example/jwks.json')).toBe(false);
  });

  it('stored as plain http to another host (before this rule) is never fetched', async () => {
    const { reg, fetcher } = registry(Date.now());
    const k1 = await key('h-1');
    await reg.create({ agencyId: 'pb.legacy', name: 'Legacy', jwks: { keys: [k1] }, jwksUrl: 'https://legacy.example/jwks.json' });
    await sql`update exchange_agency set jwks_url = ${'http://legacy.example/jwks.json'} where agency_id = ${'pb.legacy'}`.execute(platform.database.kysely);
    fetcher.published = { keys: [k1, await key('h-2')] };
    expect((await reg.resolveKey('pb.legacy', 'h-2')).kind).toBe('unknown-key');
    expect(fetcher.calls).toBe(0);
  });
});

describe('revocation: a key the sender stopped publishing', () => {
  it('is refused once the stored set is an hour old and has been fetched again', async () => {
    const start = Date.now();
    const { reg, clock, fetcher } = registry(start);
    const [k1, k2] = [await key('r-1'), await key('r-2')];
    await reg.create({ agencyId: 'pb.revoking', name: 'Revoking', jwks: { keys: [k1, k2] }, jwksUrl: 'https://revoking.example/jwks.json' });

    // A fresh set: known kids resolve without asking.
    expect((await reg.resolveKey('pb.revoking', 'r-1')).kind).toBe('key');
    clock.time = start + JWKS_MAX_AGE_MS - MINUTE;
    expect((await reg.resolveKey('pb.revoking', 'r-1')).kind).toBe('key');
    expect(fetcher.calls).toBe(0);

    // The sender withdrew r-1. Past the hour, the set is fetched again and r-1 no longer verifies.
    fetcher.published = { keys: [k2] };
    clock.time = start + JWKS_MAX_AGE_MS + MINUTE;
    expect((await reg.resolveKey('pb.revoking', 'r-1')).kind).toBe('unknown-key');
    expect(fetcher.calls).toBe(1);
    expect((await reg.resolveKey('pb.revoking', 'r-2')).kind).toBe('key');
    expect(fetcher.calls).toBe(1);
    const [stored] = await reg.search({ agencyIds: ['pb.revoking'] });
    expect(stored!.jwks.keys.map((k) => k.kid)).toEqual(['r-2']);
  });

  it('keeps the stored set while the jwksUrl is down, asking again at most once a minute', async () => {
    const start = Date.now();
    const { reg, clock, fetcher } = registry(start);
    const k1 = await key('d-1');
    await reg.create({ agencyId: 'pb.down', name: 'Down', jwks: { keys: [k1] }, jwksUrl: 'https://down.example/jwks.json' });
    fetcher.fail = true;
    clock.time = start + JWKS_MAX_AGE_MS + MINUTE;
    expect((await reg.resolveKey('pb.down', 'd-1')).kind).toBe('key');
    expect((await reg.resolveKey('pb.down', 'd-1')).kind).toBe('key');
    expect(fetcher.calls).toBe(1);
    // Still stale a minute later: one more try, which now succeeds and withdraws d-1.
    clock.time += JWKS_FETCH_INTERVAL_MS;
    fetcher.fail = false;
    fetcher.published = { keys: [await key('d-2')] };
    expect((await reg.resolveKey('pb.down', 'd-1')).kind).toBe('unknown-key');
    expect(fetcher.calls).toBe(2);
  });

  it('counts keys given by hand as fresh', async () => {
    const start = Date.now();
    const { reg, clock, fetcher } = registry(start);
    const k1 = await key('m-1');
    await reg.create({ agencyId: 'pb.manual', name: 'Manual', jwks: { keys: [k1] }, jwksUrl: 'https://manual.example/jwks.json' });
    clock.time = start + JWKS_MAX_AGE_MS + MINUTE;
    await reg.update({ agencyId: 'pb.manual', jwks: { keys: [k1] } });
    expect((await reg.resolveKey('pb.manual', 'm-1')).kind).toBe('key');
    expect(fetcher.calls).toBe(0);
  });
});
