import type { Tx } from '../../kernel/db.js';

/**
 * One tenant's keys, loaded once and used synchronously (bulk paths encrypt thousands of fields).
 * Keys belong to the state tenant (`pb` for `pb.amritsar`): one deployment's unit of trust.
 */
export type TenantKeys = {
  /** The state tenant these keys belong to. */
  readonly tenantId: string;
  /** AES-256-GCM under the current data key: `<keyId>|<base64>` (DIGIT's ciphertext format). */
  encrypt(plaintext: string): string;
  /** Any key this tenant ever had, so old records keep decrypting after rotation. DomainError `invalid` MALFORMED_CIPHERTEXT / UNKNOWN_KEY / DECRYPTION_FAILED otherwise. */
  decrypt(ciphertext: string): string;
  /** True when the ciphertext is under the current data key (re-encryption skips it). */
  isCurrent(ciphertext: string): boolean;
  /**
   * Keyed HMAC-SHA256 for exact search on encrypted fields; stable across data-key rotation. The caller normalizes `value`.
   * The index key is never rotated by `rotateKey` (every stored index would have to be recomputed from plaintext).
   */
  blindIndex(purpose: string, value: string): string;
  /** A 32-byte key derived for another keyed use (e.g. a deduplication program's encodings); stable across rotation. */
  derivedKey(purpose: string): Uint8Array;
};

/** A registry's job that rewrites its ciphertexts under the tenant's current key, in batches; answers how many it moved. */
export type ReencryptionJob = (keys: TenantKeys, tx: Tx) => Promise<number>;

export type EncryptionService = {
  /**
   * The state's keys (created on first use). Inside a transaction pass it as `tx` unless the keys were
   * loaded before: on SQLite the transaction holds the one connection, and loading outside it would wait forever.
   */
  forTenant(tenantId: string, tx?: Tx): Promise<TenantKeys>;
  /** Makes a new data key current (and a new signing key); old ones keep decrypting and verifying. */
  rotateKey(tenantId: string): Promise<{ keyId: string }>;
  /** Registries register the job that moves their records to the current key (when they need more than `registerSealedTable`). */
  registerReencryption(name: string, job: ReencryptionJob): void;
  /**
   * A table holding ciphertexts under the states' data keys: after a rotation, `reencrypt` seals
   * every ciphertext under an older key again under the current one. The one way for a table
   * sealed with `personalFields` (or any other ciphertext column) to follow rotations.
   */
  registerSealedTable(table: SealedTable): void;
  /** Runs every registered job and sealed table for the tenant until nothing is left under an old key; answers rows moved by name. */
  reencrypt(tenantId: string): Promise<Record<string, number>>;
  /**
   * Seals another module's secret (e.g. an agency's private signing key) under the master key,
   * AES-256-GCM bound to `purpose`: it opens only under the same purpose, so a sealed value copied
   * to another place does not open there.
   */
  sealSecret(purpose: string, plaintext: string): Promise<string>;
  /** What `sealSecret` sealed under `purpose`; throws (an Error, not a caller's mistake) when it was altered or sealed elsewhere. */
  openSecret(purpose: string, sealed: string): Promise<string>;
};

export type EncryptionApi = { readonly service: EncryptionService };

/**
 * A table whose columns hold ciphertexts under a state's data key (`personalFields`, sealed event
 * data, wrapped file keys…), registered once with the encryption service: after a rotation, the
 * re-encryption moves every ciphertext still under an older key of that state to the current one.
 * Nothing about the table's meaning is needed: the plaintext is opened and sealed again as it is,
 * and blind indexes stay valid (their key never rotates).
 */
export type SealedTable = {
  /** Names the table in reports (`plinth keys reencrypt`) and logs, e.g. `complaint`. */
  readonly name: string;
  readonly table: string;
  /** The primary-key column (text): batches walk the table in its order. */
  readonly id: string;
  /** Columns holding one ciphertext `<keyId>|<base64>` (or null, or a value not sealed yet). */
  readonly text?: readonly string[];
  /** JSON columns: every ciphertext found anywhere inside the value is moved (a sealed value, `data.$sealed`, …). */
  readonly json?: readonly string[];
};
