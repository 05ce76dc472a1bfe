import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactSign } from 'jose';
import { DomainError } from '../../kernel/errors.js';
import {
  canonicalJson,
  checkJwks,
  signJws,
  verifyJws,
  type ExchangeJwsType,
  type KeyResolver,
  type SigningKey,
} from './trust.jws.js';

const NOW_MS = 1_764_230_400_000;
const NOW = NOW_MS / 1000;
const SENDER = 'pb.civil-registry';
const RECEIVER = 'pb.health';

function keyPair(kid: string): SigningKey & { publicKey: KeyObject } {
  const pair = generateKeyPairSync('ed25519');
  return { kid, privateKey: pair.privateKey, publicKey: pair.publicKey };
}

const oldKey = keyPair('civil-1');
const newKey = keyPair('civil-2');
const stranger = keyPair('civil-1');

/** The registry as the receiver sees it: the sender's keys, and whether it is active. */
function registry(keys: Array<SigningKey & { publicKey: KeyObject }>, active = true): KeyResolver {
  return async (agencyId, kid) => {
    if (agencyId !== SENDER || !active) return { kind: 'unknown-agency' };
    const key = keys.find((k) => k.kid === kid);
    return key ? { kind: 'key', key: key.publicKey } : { kind: 'unknown-key' };
  };
}

const claims = (extra: Record<string, unknown> = {}) => ({ aud: RECEIVER, jti: 'msg-1', iat: NOW, exp: NOW + 300, event: { id: 'e1' }, ...extra });

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  return 'ACCEPTED';
}

const verify = (jws: string, options: { typ?: ExchangeJwsType; now?: number; keys?: KeyResolver } = {}) =>
  verifyJws(jws, options.typ ?? 'plinth-event+jws', RECEIVER, options.keys ?? registry([oldKey, newKey]), options.now ?? NOW_MS);

/** Replaces one of the three parts of a compact JWS, keeping the others. */
function withPart(jws: string, index: number, value: Record<string, unknown>): string {
  const parts = jws.split('.');
  parts[index] = Buffer.from(JSON.stringify(value)).toString('base64url');
  return parts.join('.');
}

describe('sign and verify', () => {
  it('verifies what was signed, naming the sender, key and payload; iss is the signer', async () => {
    const jws = await signJws(claims({ iss: 'someone-else' }), 'plinth-event+jws', oldKey, SENDER, NOW_MS);
    const verified = await verify(jws);
    expect(verified).toMatchObject({ agencyId: SENDER, kid: 'civil-1', payload: { iss: SENDER, jti: 'msg-1', aud: RECEIVER } });
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    expect(header).toEqual({ alg: 'EdDSA', kid: 'civil-1', typ: 'plinth-event+jws' });
  });

  it('defaults iat to now and an event message exp to iat + 300 s', async () => {
    const jws = await signJws({ aud: RECEIVER, jti: 'm' }, 'plinth-event+jws', oldKey, SENDER, NOW_MS);
    expect((await verify(jws)).payload).toMatchObject({ iat: NOW, exp: NOW + 300 });
  });

  it('refuses a tampered payload and a tampered header (INVALID_SIGNATURE)', async () => {
    const jws = await signJws(claims(), 'plinth-event+jws', oldKey, SENDER, NOW_MS);
    const payload = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(await refusal(verify(withPart(jws, 1, { ...payload, event: { id: 'e2' } })))).toBe('INVALID_SIGNATURE');
    // Another of the sender's real keys named in the header: the signature is not under it.
    expect(await refusal(verify(withPart(jws, 0, { alg: 'EdDSA', kid: 'civil-2', typ: 'plinth-event+jws' })))).toBe('INVALID_SIGNATURE');
    // The signature itself changed.
    const parts = jws.split('.');
    const signature = Buffer.from(parts[2]!, 'base64url');
    signature[0] = signature[0]! ^ 1;
    expect(await refusal(verify(`${parts[0]}.${parts[1]}.${signature.toString('base64url')}`))).toBe('INVALID_SIGNATURE');
  });

  it('refuses a signature by a stranger under the sender\'s key id', async () => {
    const jws = await signJws(claims(), 'plinth-event+jws', stranger, SENDER, NOW_MS);
    expect(await refusal(verify(jws))).toBe('INVALID_SIGNATURE');
  });

  it('refuses the wrong typ, another alg, and header extensions (INVALID_SIGNATURE)', async () => {
    const receipt = await signJws(claims(), 'plinth-receipt+jws', oldKey, SENDER, NOW_MS);
    expect(await refusal(verify(receipt))).toBe('INVALID_SIGNATURE');
    expect(await refusal(verify(receipt, { typ: 'plinth-receipt+jws' }))).toBe('ACCEPTED');
    const hs = await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...claims(), iss: SENDER })))
      .setProtectedHeader({ alg: 'HS256', kid: 'civil-1', typ: 'plinth-event+jws' })
      .sign(new Uint8Array(32));
    expect(await refusal(verify(hs))).toBe('INVALID_SIGNATURE');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'civil-1', typ: 'plinth-event+jws' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims(), iss: SENDER })).toString('base64url')}.x`;
    expect(await refusal(verify(none))).toBe('INVALID_SIGNATURE');
    const crit = await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...claims(), iss: SENDER })))
      .setProtectedHeader({ alg: 'EdDSA', kid: 'civil-1', typ: 'plinth-event+jws', crit: ['b64'], b64: true })
      .sign(oldKey.privateKey);
    expect(await refusal(verify(crit))).toBe('INVALID_SIGNATURE');
  });

  it('refuses a message for another agency (WRONG_AUDIENCE)', async () => {
    expect(await refusal(verify(await signJws(claims({ aud: 'pb.police' }), 'plinth-event+jws', oldKey, SENDER, NOW_MS)))).toBe('WRONG_AUDIENCE');
    expect(await refusal(verify(await signJws(claims({ aud: [RECEIVER] }), 'plinth-event+jws', oldKey, SENDER, NOW_MS)))).toBe('WRONG_AUDIENCE');
  });

  it('refuses an expired message and one signed more than 60 s in the future (MESSAGE_EXPIRED)', async () => {
    const jws = await signJws(claims(), 'plinth-event+jws', oldKey, SENDER, NOW_MS);
    expect(await refusal(verify(jws, { now: NOW_MS + 299_000 }))).toBe('ACCEPTED');
    expect(await refusal(verify(jws, { now: NOW_MS + 300_000 }))).toBe('MESSAGE_EXPIRED');
    expect(await refusal(verify(jws, { now: NOW_MS - 60_000 }))).toBe('ACCEPTED');
    expect(await refusal(verify(jws, { now: NOW_MS - 61_000 }))).toBe('MESSAGE_EXPIRED');
  });

  it('refuses a lifetime over an hour, and missing claims (MALFORMED_MESSAGE)', async () => {
    const sign = (c: Record<string, unknown>) => signJws(c, 'plinth-event+jws', oldKey, SENDER, NOW_MS);
    expect(await refusal(verify(await sign(claims({ exp: NOW + 3601 }))))).toBe('MALFORMED_MESSAGE');
    expect(await refusal(verify(await sign(claims({ exp: NOW + 3600 }))))).toBe('ACCEPTED');
    expect(await refusal(verify(await sign(claims({ exp: NOW }))))).toBe('MALFORMED_MESSAGE');
    expect(await refusal(verify(await sign(claims({ jti: undefined }))))).toBe('MALFORMED_MESSAGE');
    expect(await refusal(verify(await sign(claims({ exp: 'soon' }))))).toBe('MALFORMED_MESSAGE');
    expect(await refusal(verify(await sign(claims({ iat: 1.5 }))))).toBe('MALFORMED_MESSAGE');
  });

  it('requires exp on events but not on receipts, which are kept as evidence', async () => {
    const noExp: Record<string, unknown> = { ...claims(), exp: undefined };
    const receipt = await signJws(noExp, 'plinth-receipt+jws', oldKey, SENDER, NOW_MS);
    expect(await refusal(verify(receipt, { typ: 'plinth-receipt+jws', now: NOW_MS + 86_400_000 }))).toBe('ACCEPTED');
    const event = await new CompactSign(new TextEncoder().encode(JSON.stringify({ ...noExp, iss: SENDER })))
      .setProtectedHeader({ alg: 'EdDSA', kid: 'civil-1', typ: 'plinth-event+jws' })
      .sign(oldKey.privateKey);
    expect(await refusal(verify(event))).toBe('MALFORMED_MESSAGE');
  });

  it('refuses an unknown key id, an unknown agency and an inactive one (UNKNOWN_SENDER)', async () => {
    const jws = await signJws(claims(), 'plinth-event+jws', newKey, SENDER, NOW_MS);
    expect(await refusal(verify(jws, { keys: registry([oldKey]) }))).toBe('UNKNOWN_SENDER');
    expect(await refusal(verify(jws, { keys: registry([oldKey, newKey], false) }))).toBe('UNKNOWN_SENDER');
    expect(await refusal(verify(await signJws(claims(), 'plinth-event+jws', newKey, 'pb.police', NOW_MS)))).toBe('UNKNOWN_SENDER');
  });

  it('keeps verifying messages signed with a rotated-out key until that key is removed', async () => {
    const before = await signJws(claims(), 'plinth-event+jws', oldKey, SENDER, NOW_MS);
    const after = await signJws(claims({ jti: 'msg-2' }), 'plinth-event+jws', newKey, SENDER, NOW_MS);
    expect(await refusal(verify(before, { keys: registry([newKey, oldKey]) }))).toBe('ACCEPTED');
    expect(await refusal(verify(after, { keys: registry([newKey, oldKey]) }))).toBe('ACCEPTED');
    expect(await refusal(verify(before, { keys: registry([newKey]) }))).toBe('UNKNOWN_SENDER');
  });

  it('refuses what is not a compact JWS (MALFORMED_MESSAGE)', async () => {
    for (const text of ['', 'abc', 'a.b', 'a.b.c.d', '!!.??.xx', `${Buffer.from('[]').toString('base64url')}.e30.AA`, 'x'.repeat(300_000)]) {
      expect(await refusal(verify(text)), text.slice(0, 20)).toBe('MALFORMED_MESSAGE');
    }
  });
});

describe('checkJwks', () => {
  const x = Buffer.alloc(32, 7).toString('base64url');
  const jwk = { kty: 'OKP', crv: 'Ed25519', x, kid: 'k1' };
  const problems = (value: unknown) => {
    const checked = checkJwks(value);
    return 'problems' in checked ? checked.problems : [];
  };

  it('keeps Ed25519 public keys, with alg and use', () => {
    expect(checkJwks({ keys: [jwk] })).toEqual({ jwks: { keys: [{ ...jwk, alg: 'EdDSA', use: 'sig' }] } });
  });

  it('refuses private members, other curves, missing or repeated kids, a bad x', () => {
    expect(problems({ keys: [{ ...jwk, d: x }] })[0]).toMatch(/private key material \(d\)/);
    expect(problems({ keys: [{ ...jwk, crv: 'X25519' }] })[0]).toMatch(/Ed25519/);
    expect(problems({ keys: [{ kty: 'EC', crv: 'P-256', x, y: x, kid: 'k' }] })[0]).toMatch(/Ed25519/);
    expect(problems({ keys: [{ ...jwk, kid: undefined }] })[0]).toMatch(/kid/);
    expect(problems({ keys: [jwk, jwk] })[0]).toMatch(/repeats kid/);
    expect(problems({ keys: [{ ...jwk, x: 'AAAA' }] })[0]).toMatch(/32-byte/);
    expect(problems({ keys: [{ ...jwk, alg: 'ES256' }] })[0]).toMatch(/alg/);
    expect(problems({ nokeys: [] })[0]).toMatch(/keys/);
  });
});

describe('canonicalJson', () => {
  it('is the same whatever the key order, and differs when content differs', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
    expect(canonicalJson({ a: 1 })).not.toBe(canonicalJson({ a: '1' }));
  });
});
