import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  hkdfSync,
  randomFillSync,
  sign as edSign,
  verify as edVerify,
  type KeyObject,
} from 'node:crypto';
import { invalid } from '../../kernel/errors.js';
import type { TenantKeys } from './encryption.types.js';

/**
 * The cryptography of one tenant's keys, with no I/O: sealing values under a data key, blind
 * indexes and derived keys under the index key, Ed25519 signatures, and wrapping key material
 * under the master key.
 *
 * Ciphertext, as DIGIT's enc-service: `<keyId>|base64(iv(12) ‖ ciphertext ‖ tag(16))`, AES-256-GCM
 * with the key id as additional authenticated data, so moving a ciphertext under another key id
 * fails authentication. IVs are random (96 bits): safe far beyond the ~2^32 values one data key
 * should seal, and rotation starts a new key.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Key ids are ours (`pb:data:3`) or DIGIT's (numeric); never a `|`. */
const KEY_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
const CIPHERTEXT = /^([A-Za-z0-9_.:-]{1,128})\|((?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?)$/;
/** Separates purpose and value in a blind index; refused inside a purpose so that no two inputs collide. */
const PURPOSE_SEPARATOR = '\u0000';
/** HKDF salt of derived keys: fixed, the index key is already uniformly random. */
const DERIVE_SALT = Buffer.from('plinth-derived-key-v1', 'utf8');

/** True when `value` has the shape `<keyId>|<base64>` of a ciphertext (it may still fail to decrypt). */
export function isCipherText(value: unknown): value is string {
  return typeof value === 'string' && CIPHERTEXT.test(value);
}

export function isKeyId(value: string): boolean {
  return KEY_ID.test(value);
}

/** The key id of a ciphertext or signature, or undefined when it is not `<keyId>|<base64>`. */
export function keyIdOf(value: string): string | undefined {
  return CIPHERTEXT.exec(value)?.[1];
}

export const malformed = (what = 'ciphertext') =>
  invalid('MALFORMED_CIPHERTEXT', `The ${what} is not of the form <keyId>|<base64> with an IV, a ciphertext and a tag`);
export const unknownKey = (keyId: string) => invalid('UNKNOWN_KEY', `No key "${keyId}" belongs to this tenant`, [keyId]);
export const decryptionFailed = (keyId: string) =>
  invalid('DECRYPTION_FAILED', `The ciphertext under key "${keyId}" does not authenticate: it was altered or belongs elsewhere`, [keyId]);

/** Strict base64 (canonical, so that changing any character of the text changes the bytes). */
function decodeBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

// Random IVs come from a pooled buffer: one call into the OS generator per 512 encryptions.
const ivPool = Buffer.alloc(IV_BYTES * 512);
let ivOffset = ivPool.length;
function nextIv(): Buffer {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + IV_BYTES));
  ivOffset += IV_BYTES;
  return iv;
}

/** AES-256-GCM: base64(iv ‖ ciphertext ‖ tag). */
export function seal(key: KeyObject, plaintext: Buffer, aad: Buffer): string {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([iv, body, final, cipher.getAuthTag()]).toString('base64');
}

/** The plaintext, or undefined when the bytes do not authenticate under `key` and `aad`. */
export function open(key: KeyObject, bytes: Buffer, aad: Buffer): Buffer | undefined {
  if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** What binds a wrapped key to its place: copying a wrapped key to another tenant or key id fails to unwrap. */
function wrapAad(tenantId: string, keyId: string): Buffer {
  return Buffer.from(`plinth-key-v1|${tenantId}|${keyId}`, 'utf8');
}

export function wrapKey(master: KeyObject, tenantId: string, keyId: string, material: Buffer): string {
  return seal(master, material, wrapAad(tenantId, keyId));
}

export function unwrapKey(master: KeyObject, tenantId: string, keyId: string, wrapped: string): Buffer {
  const bytes = decodeBase64(wrapped);
  const material = bytes && open(master, bytes, wrapAad(tenantId, keyId));
  // Not a caller's mistake: the database holds a key this master key did not wrap.
  if (!material) throw new Error(`encryption key ${keyId} of tenant ${tenantId} cannot be unwrapped with this master key`);
  return material;
}

/** Key material of one state tenant, unwrapped. */
export type KeyMaterial = {
  readonly tenantId: string;
  /** By key id, every data key the tenant ever had. */
  readonly dataKeys: ReadonlyMap<string, Buffer>;
  readonly currentDataKeyId: string;
  readonly indexKey: Buffer;
  /** By key id: private key PKCS#8 DER and public key SPKI DER. */
  readonly signingKeys: ReadonlyMap<string, { readonly privateKey: Buffer; readonly publicKey: Buffer }>;
  readonly currentSigningKeyId: string;
};

/** TenantKeys plus what only this module uses. */
export type LoadedKeys = TenantKeys & {
  readonly currentKeyId: string;
  /** Every data key id of the tenant, the current one included (re-sealing looks for the others). */
  readonly dataKeyIds: readonly string[];
  hasKey(keyId: string): boolean;
  /** Ed25519 under the current signing key: `<keyId>|<base64 signature>`. */
  sign(value: string): string;
  /** False for a signature under a key this tenant does not have, or that does not match. */
  verify(value: string, signature: string): boolean;
};

export function tenantKeys(material: KeyMaterial): LoadedKeys {
  const dataKeys = new Map([...material.dataKeys].map(([id, key]) => [id, { key: createSecretKey(key), aad: Buffer.from(id, 'utf8') }]));
  const current = dataKeys.get(material.currentDataKeyId);
  if (!current) throw new Error(`encryption: current key ${material.currentDataKeyId} is missing`);
  const currentPrefix = `${material.currentDataKeyId}|`;
  const signing = new Map(
    [...material.signingKeys].map(([id, pair]) => [
      id,
      {
        privateKey: createPrivateKey({ key: pair.privateKey, format: 'der', type: 'pkcs8' }),
        publicKey: createPublicKey({ key: pair.publicKey, format: 'der', type: 'spki' }),
      },
    ]),
  );
  const indexKey = material.indexKey;
  const derived = new Map<string, Uint8Array>();

  return {
    tenantId: material.tenantId,
    currentKeyId: material.currentDataKeyId,
    dataKeyIds: [...dataKeys.keys()],
    encrypt(plaintext) {
      return `${currentPrefix}${seal(current.key, Buffer.from(plaintext, 'utf8'), current.aad)}`;
    },
    decrypt(ciphertext) {
      const match = typeof ciphertext === 'string' ? CIPHERTEXT.exec(ciphertext) : null;
      if (!match) throw malformed();
      const keyId = match[1]!;
      const bytes = decodeBase64(match[2]!);
      if (!bytes || bytes.length < IV_BYTES + TAG_BYTES) throw malformed();
      const key = dataKeys.get(keyId);
      if (!key) throw unknownKey(keyId);
      const plaintext = open(key.key, bytes, key.aad);
      if (!plaintext) throw decryptionFailed(keyId);
      return plaintext.toString('utf8');
    },
    isCurrent(ciphertext) {
      return ciphertext.startsWith(currentPrefix);
    },
    hasKey(keyId) {
      return dataKeys.has(keyId) || signing.has(keyId);
    },
    blindIndex(purpose, value) {
      if (purpose.includes(PURPOSE_SEPARATOR)) throw invalid('INVALID_PURPOSE', 'A blind index purpose cannot contain a NUL character');
      return createHmac('sha256', indexKey)
        .update(purpose, 'utf8')
        .update(PURPOSE_SEPARATOR, 'utf8')
        .update(value, 'utf8')
        .digest('base64url');
    },
    derivedKey(purpose) {
      let key = derived.get(purpose);
      if (!key) {
        key = new Uint8Array(hkdfSync('sha256', indexKey, DERIVE_SALT, Buffer.from(purpose, 'utf8'), 32));
        derived.set(purpose, key);
      }
      // A copy: the caller may not change what the next caller gets.
      return key.slice();
    },
    sign(value) {
      const key = signing.get(material.currentSigningKeyId)!;
      return `${material.currentSigningKeyId}|${edSign(null, Buffer.from(value, 'utf8'), key.privateKey).toString('base64')}`;
    },
    verify(value, signature) {
      const match = CIPHERTEXT.exec(signature);
      const key = match && signing.get(match[1]!);
      const bytes = match && decodeBase64(match[2]!);
      if (!key || !bytes) return false;
      return edVerify(null, Buffer.from(value, 'utf8'), key.publicKey, bytes);
    },
  };
}
