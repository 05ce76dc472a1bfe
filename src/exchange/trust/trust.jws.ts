import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify } from 'jose';
import { DomainError } from '../../kernel/errors.js';

/**
 * Signing and verifying the compact JWS agencies exchange (docs/exchange.md), with no I/O: keys
 * come from the caller, time from the caller's clock. Everything a sender controls is checked
 * before it is trusted: the header only picks the key, the claims count once the signature holds.
 */

export type ExchangeJwsType = 'plinth-event+jws' | 'plinth-receipt+jws';

/** An Ed25519 public key as published in a JWKS. */
export type PublicJwk = { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; alg?: 'EdDSA'; use?: 'sig' };
export type Jwks = { keys: PublicJwk[] };

export type SigningKey = { readonly kid: string; readonly privateKey: KeyObject };

/** What the registry knows of a sender's key: the key, or why there is none. */
export type KeyResolution = { readonly kind: 'key'; readonly key: KeyObject } | { readonly kind: 'unknown-agency' } | { readonly kind: 'unknown-key' };
export type KeyResolver = (agencyId: string, kid: string) => Promise<KeyResolution>;

export type Verified = { readonly agencyId: string; readonly kid: string; readonly payload: Record<string, unknown> };

/** The largest message accepted anywhere (the receive route's body limit is the same). */
export const MAX_JWS_LENGTH = 256 * 1024;
/** How far a sender's clock may run ahead of ours. */
export const FUTURE_SKEW_SECONDS = 60;
/** The longest lifetime (exp − iat) a message may claim: a captured message is worthless soon. */
export const MAX_LIFETIME_SECONDS = 3600;
/** Lifetime given to an event message signed without `exp`. */
export const DEFAULT_EVENT_LIFETIME_SECONDS = 300;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const MAX_ID_LENGTH = 200;

export const malformedMessage = (message: string) => new DomainError('invalid', { code: 'MALFORMED_MESSAGE', message });
export const unknownSender = (message: string) => new DomainError('unauthenticated', { code: 'UNKNOWN_SENDER', message });
export const invalidSignature = (message: string) => new DomainError('unauthenticated', { code: 'INVALID_SIGNATURE', message });
export const wrongAudience = (message: string) => new DomainError('invalid', { code: 'WRONG_AUDIENCE', message });
export const messageExpired = (message: string) => new DomainError('invalid', { code: 'MESSAGE_EXPIRED', message });

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** base64url(SHA-256(text)): the digest a receipt names. */
export function digestOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** JSON with object keys sorted at every depth, so equal content hashes equally whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The header and payload of a compact JWS, unverified: only to find the key and to record refusals. */
export function peek(jws: string): { header: Record<string, unknown>; payload: Record<string, unknown> } | undefined {
  if (typeof jws !== 'string' || jws.length > MAX_JWS_LENGTH) return undefined;
  const parts = jws.split('.');
  if (parts.length !== 3 || parts.some((p) => p === '' || !BASE64URL.test(p))) return undefined;
  const header = decodeJson(parts[0]!);
  const payload = decodeJson(parts[1]!);
  return header && payload ? { header, payload } : undefined;
}

export async function signJws(
  payload: Record<string, unknown>,
  typ: ExchangeJwsType,
  key: SigningKey,
  issuer: string,
  nowMs: number,
): Promise<string> {
  if (!isRecord(payload)) throw new TypeError('a signed payload must be a JSON object');
  const iat = typeof payload['iat'] === 'number' ? payload['iat'] : Math.floor(nowMs / 1000);
  const claims: Record<string, unknown> = { ...payload, iss: issuer, iat };
  if (typ === 'plinth-event+jws' && claims['exp'] === undefined) claims['exp'] = iat + DEFAULT_EVENT_LIFETIME_SECONDS;
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ })
    .sign(key.privateKey);
}

const isSeconds = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Verifies `jws` as a message of kind `typ` addressed to `audience`. Event messages must carry
 * `exp`; receipts may omit it, since they are evidence kept for good (a DUPLICATE answer hands back
 * the receipt first issued, however old).
 */
export async function verifyJws(
  jws: string,
  typ: ExchangeJwsType,
  audience: string,
  resolve: KeyResolver,
  nowMs: number,
): Promise<Verified> {
  const parsed = peek(jws);
  if (!parsed) throw malformedMessage('The message is not a compact JWS (three base64url parts: a JSON header, a JSON payload, a signature)');
  const { header, payload } = parsed;
  if (header['alg'] !== 'EdDSA') throw invalidSignature(`The message is signed with "${String(header['alg'])}"; only EdDSA (Ed25519) is accepted`);
  if (header['typ'] !== typ) throw invalidSignature(`The message's typ is "${String(header['typ'])}", expected "${typ}"`);
  // An unencoded payload or critical extensions would change what the signature covers.
  if ('crit' in header || 'b64' in header) throw invalidSignature('The message header uses extensions (crit, b64) that are not accepted');
  const kid = header['kid'];
  if (typeof kid !== 'string' || kid === '' || kid.length > MAX_ID_LENGTH) throw malformedMessage('The message header has no kid (key id)');
  const iss = payload['iss'];
  if (typeof iss !== 'string' || iss === '' || iss.length > MAX_ID_LENGTH) throw malformedMessage('The message has no iss (sender agency id)');

  const resolution = await resolve(iss, kid);
  if (resolution.kind === 'unknown-agency') throw unknownSender(`"${iss}" is not a trusted, active agency here`);
  if (resolution.kind === 'unknown-key') throw unknownSender(`Key "${kid}" is none of agency "${iss}"'s keys`);
  try {
    await compactVerify(jws, resolution.key, { algorithms: ['EdDSA'] });
  } catch {
    throw invalidSignature(`The signature does not verify under key "${kid}" of agency "${iss}"`);
  }

  if (payload['aud'] !== audience) throw wrongAudience(`The message is addressed to "${String(payload['aud'])}", not to this agency ("${audience}")`);
  const jti = payload['jti'];
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_ID_LENGTH) throw malformedMessage(`The message has no jti (message id) of 1-${MAX_ID_LENGTH} characters`);
  const iat = payload['iat'];
  const exp = payload['exp'];
  if (!isSeconds(iat)) throw malformedMessage('The message has no iat (seconds since the epoch)');
  if (exp === undefined && typ === 'plinth-event+jws') throw malformedMessage('The message has no exp (seconds since the epoch)');
  if (exp !== undefined && !isSeconds(exp)) throw malformedMessage('The message exp is not seconds since the epoch');
  const now = Math.floor(nowMs / 1000);
  if (iat > now + FUTURE_SKEW_SECONDS) throw messageExpired(`The message was signed ${iat - now} s in the future (more than ${FUTURE_SKEW_SECONDS} s of clock skew)`);
  if (exp !== undefined) {
    if (exp <= iat) throw malformedMessage('The message exp is not after its iat');
    if (exp - iat > MAX_LIFETIME_SECONDS) throw malformedMessage(`The message claims a lifetime (exp − iat) of more than ${MAX_LIFETIME_SECONDS} s`);
    if (now >= exp) throw messageExpired(`The message expired ${now - exp} s ago`);
  }
  return { agencyId: iss, kid, payload };
}

/** Private members of a JWK: a published key set must never carry them. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];
const KID = /^[\x21-\x7e]{1,200}$/;
export const MAX_KEYS_PER_AGENCY = 20;

/**
 * Checks that `value` is a JWKS of Ed25519 public keys, each with a distinct kid. Answers the
 * keys as stored (only the members that matter) or the reasons it is not.
 */
export function checkJwks(value: unknown): { jwks: Jwks } | { problems: string[] } {
  if (!isRecord(value) || !Array.isArray(value['keys'])) return { problems: ['jwks must be an object {"keys": [...]}'] };
  const keys = value['keys'] as unknown[];
  const problems: string[] = [];
  if (keys.length > MAX_KEYS_PER_AGENCY) problems.push(`jwks holds ${keys.length} keys; at most ${MAX_KEYS_PER_AGENCY} are kept`);
  const out: PublicJwk[] = [];
  const seen = new Set<string>();
  keys.slice(0, MAX_KEYS_PER_AGENCY).forEach((key, i) => {
    const where = `jwks.keys[${i}]`;
    if (!isRecord(key)) return problems.push(`${where} is not an object`);
    const secret = PRIVATE_MEMBERS.filter((m) => m in key);
    if (secret.length > 0) return problems.push(`${where} carries private key material (${secret.join(', ')}): register public keys only`);
    if (key['kty'] !== 'OKP' || key['crv'] !== 'Ed25519') return problems.push(`${where} is not an Ed25519 key (kty "OKP", crv "Ed25519")`);
    const kid = key['kid'];
    if (typeof kid !== 'string' || !KID.test(kid)) return problems.push(`${where} needs a kid of 1-200 printable characters`);
    if (seen.has(kid)) return problems.push(`${where} repeats kid "${kid}"`);
    if (key['alg'] !== undefined && key['alg'] !== 'EdDSA') return problems.push(`${where} alg must be "EdDSA"`);
    if (key['use'] !== undefined && key['use'] !== 'sig') return problems.push(`${where} use must be "sig"`);
    const x = key['x'];
    if (typeof x !== 'string' || !BASE64URL.test(x) || Buffer.from(x, 'base64url').length !== 32 || Buffer.from(x, 'base64url').toString('base64url') !== x) {
      return problems.push(`${where} x must be the 32-byte public key in base64url`);
    }
    seen.add(kid);
    out.push({ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' });
    return undefined;
  });
  return problems.length > 0 ? { problems } : { jwks: { keys: out } };
}

/** The public key of a checked JWK. */
export function publicKeyOf(jwk: PublicJwk): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}
