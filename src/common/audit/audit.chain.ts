import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The prev_hash of a tenant's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Bumped if the hashed fields or their encoding ever change, so old and new entries stay
 * verifiable side by side (verify would pick the encoding by version).
 */
const HASH_VERSION = 'plinth.audit.v1';

/** The fields an entry's hash covers: all of them except the hash itself. */
export type HashedFields = {
  readonly id: string;
  readonly tenantId: string;
  readonly seq: number;
  readonly time: number;
  readonly actorUuid: string | null;
  readonly action: string;
  readonly subject: string;
  readonly outcome: string;
  readonly details: unknown;
  readonly ip: string | null;
  readonly correlationId: string | null;
  readonly prevHash: string;
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Makes a string survive storage byte for byte: both drivers write UTF-8 (a lone surrogate comes
 * back as U+FFFD) and PostgreSQL refuses NUL in text and jsonb. Without this, an attacker-chosen
 * username could make its own entry fail to verify, or fail to be written at all.
 */
export function storable(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD').replace(/\0/g, '\uFFFD');
}

function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storable(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      // defineProperty, not assignment: a "__proto__" key from JSON.parse must stay plain data.
      Object.defineProperty(out, storable(key), { value: storableJson(child), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/**
 * The details exactly as they will read back from either engine: the JSON round trip drops
 * undefined and functions, turns dates into strings and non-finite numbers into null, so the
 * hash is computed over what is stored, not over what the caller happened to pass.
 */
export function storableDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (details === undefined) return {};
  const text = JSON.stringify(details) as string | undefined;
  const parsed: unknown = text === undefined ? {} : JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  return storableJson(parsed) as Record<string, unknown>;
}

/**
 * JSON with object keys sorted (by UTF-16 code units, JavaScript's default order) at every level:
 * PostgreSQL's jsonb reorders keys, so the stored text cannot be what is hashed.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, child]) => child !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`;
}

/**
 * SHA-256 (hex) over a JSON array of the fields in a fixed order. An array, not a concatenation,
 * so no choice of field values can make two different entries serialize alike.
 */
export function entryHash(fields: HashedFields): string {
  const serialized = canonicalJson([
    HASH_VERSION,
    fields.id,
    fields.tenantId,
    fields.seq,
    fields.time,
    fields.actorUuid,
    fields.action,
    fields.subject,
    fields.outcome,
    fields.details,
    fields.ip,
    fields.correlationId,
    fields.prevHash,
  ]);
  return createHash('sha256').update(serialized, 'utf8').digest('hex');
}

/** The key that signs chain heads, derived from the master key (which never sits in the database). */
export function headKeyFrom(masterKey: Buffer): Buffer {
  return createHmac('sha256', masterKey).update('plinth.audit.head-key.v1', 'utf8').digest();
}

/** HMAC-SHA256 (hex) of a chain head: the tenant, its newest seq and that entry's hash. */
export function headMac(key: Buffer, tenantId: string, seq: number, hash: string): string {
  return createHmac('sha256', key).update(canonicalJson(['plinth.audit.head.v1', tenantId, seq, hash]), 'utf8').digest('hex');
}

/** Whether `mac` is the head's signature under `key`, compared in constant time. */
export function headMacMatches(key: Buffer, tenantId: string, seq: number, hash: string, mac: string): boolean {
  const expected = Buffer.from(headMac(key, tenantId, seq, hash), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
