import { createSecretKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import { ConfigError } from '../../kernel/config.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { isTenantIdSyntax, stateTenantOf } from '../../kernel/tenancy.js';
import { keyIdOf, open, seal, tenantKeys, unwrapKey, wrapKey, type KeyMaterial, type LoadedKeys } from './encryption.keys.js';
import { checkValue, loadMasterKey, readableByOthers, type MasterKeySettings } from '../../kernel/masterkey.js';
import type { EncryptionStore, KeyKind, KeyRow } from './encryption.store.js';
import type { AuditLog } from '../audit/index.js';
import type { EncryptionService, ReencryptionJob } from './encryption.types.js';
import { resealBatch, type SealedTable } from './encryption.reseal.js';

/** Change-feed topic: a tenant's key set changed (rotation), so every process reloads it. */
export const KEYS_TOPIC = 'encryption.keys';
/** Outbox event of a rotation; carries key ids only. Its subscriber runs the re-encryption. */
export const KEY_ROTATED = 'plinth.encryption.key.rotated.v1';
const SOURCE = '/plinth/encryption';
const MAX_ROTATION_ATTEMPTS = 5;
/** Re-encryption logs its progress at most this often (it logs every batch at debug). */
const PROGRESS_LOG_MS = 5_000;
/** Rows of a sealed table re-sealed per transaction. */
const RESEAL_BATCH = 200;
/** Passes over a sealed table while concurrent writers keep winning races (each pass starts from its first row). */
const MAX_RESEAL_PASSES = 5;

export type KeyRotatedData = { tenantId: string; keyId: string; previousKeyId: string; signingKeyId: string };

export type Actor = { uuid: string | null };

/** The public service plus what the routes and the CLI use. */
export type CryptoService = EncryptionService & {
  /** Loads the master key and checks it against the database; rejects with a ConfigError naming the variable when it is not the one in use. */
  ready(): Promise<void>;
  forTenant(tenantId: string, tx?: Tx): Promise<LoadedKeys>;
  rotateKey(tenantId: string, actor?: Actor): Promise<{ keyId: string }>;
  /** The keys holding `keyId` (any tenant), or undefined when no tenant has it. */
  keysOfKeyId(keyId: string): Promise<LoadedKeys | undefined>;
  sign(tenantId: string, value: string): Promise<{ value: string; signature: string }>;
  /** False for an unknown key or a signature that does not match; MALFORMED_SIGNATURE when it is not `<keyId>|<base64>`. */
  verify(value: string, signature: string): Promise<boolean>;
  close(): void;
};

export type EncryptionServiceDeps = {
  readonly database: Database;
  readonly store: EncryptionStore;
  readonly clock: Clock;
  readonly outbox: Outbox;
  readonly changes: ChangeFeed;
  readonly logger: FastifyBaseLogger;
  readonly master: MasterKeySettings;
  /** Rotations are recorded in the tamper-evident log, in the rotation's transaction. */
  readonly audit: Pick<AuditLog, 'appendInTx'>;
};

const KIND_LABEL: Record<KeyKind, string> = { data: 'data', index: 'index', signing: 'sign' };

/** `pb:data:3`: unique in the deployment (state tenants hold no `:`), and never a `|`. */
export function keyIdFor(tenantId: string, kind: KeyKind, version: number): string {
  return `${tenantId}:${KIND_LABEL[kind]}:${version}`;
}

class RotationRace extends Error {}

function stateOf(tenantId: string): string {
  if (typeof tenantId !== 'string' || !isTenantIdSyntax(tenantId)) {
    throw invalid('INVALID_TENANT_ID', `tenantId "${String(tenantId)}" is not a valid tenant id (expected e.g. "pb" or "pb.amritsar")`, [
      String(tenantId),
    ]);
  }
  return stateTenantOf(tenantId);
}

/**
 * Per state tenant: data keys (AES-256-GCM; rotated), one index key (blind indexes and derived
 * keys; never rotated, so stored blind indexes stay valid) and Ed25519 signing keys (rotated with
 * the data key). All private material is stored wrapped by the master key. Keys are created on the
 * first `forTenant`, race-free across processes (insert-or-nothing, then read what won).
 */
export function createEncryptionService(deps: EncryptionServiceDeps): CryptoService {
  const { database, store, clock, outbox, changes, logger } = deps;
  const cache = createReadCache<LoadedKeys>(changes, KEYS_TOPIC, { maxSize: 1000 });
  const tenantByKeyId = new Map<string, string>();
  const jobs = new Map<string, ReencryptionJob>();
  const sealedTables = new Map<string, SealedTable>();
  let master: Promise<KeyObject> | undefined;

  async function checkMaster(): Promise<KeyObject> {
    const loaded = loadMasterKey(deps.master);
    if (loaded.created) {
      logger.warn(
        { file: loaded.file },
        'generated a new master key: copy it somewhere safe outside the data directory (without it, encrypted data is lost), or set PLINTH_MASTER_KEY / PLINTH_MASTER_KEY_FILE',
      );
    } else if (loaded.file !== undefined && readableByOthers(loaded.file)) {
      logger.warn({ file: loaded.file }, 'the master key file is readable by other users: chmod 600 it');
    }
    const mine = checkValue(loaded.key);
    const stored = await store.masterCheck(mine, clock.now());
    if (stored !== mine) {
      // A key generated just now is certainly not the one wanted: remove it so restoring the original is not blocked.
      if (loaded.created && loaded.file !== undefined) fs.rmSync(loaded.file, { force: true });
      const where = loaded.file === undefined ? 'given' : `in ${loaded.file}${loaded.created ? ' (generated just now)' : ''}`;
      throw new ConfigError(
        loaded.variable,
        `the master key ${where} is not the one this database's keys are wrapped with; set PLINTH_MASTER_KEY or PLINTH_MASTER_KEY_FILE to the original key (with another key, encrypted data cannot be read)`,
      );
    }
    return createSecretKey(loaded.key);
  }

  function masterKey(): Promise<KeyObject> {
    master ??= checkMaster().catch((error: unknown) => {
      master = undefined;
      throw error;
    });
    return master;
  }

  function newKeyRow(masterKey: KeyObject, tenantId: string, kind: KeyKind, version: number, actor: string | null): KeyRow {
    const keyId = keyIdFor(tenantId, kind, version);
    const now = clock.now();
    let material: Buffer;
    let publicKey: string | null = null;
    if (kind === 'signing') {
      const pair = generateKeyPairSync('ed25519');
      material = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
      publicKey = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    } else {
      material = randomBytes(32);
    }
    return {
      key_id: keyId,
      tenant_id: tenantId,
      kind,
      version,
      wrapped_key: wrapKey(masterKey, tenantId, keyId, material),
      public_key: publicKey,
      created_by: actor,
      created_time: now,
      last_modified_by: actor,
      last_modified_time: now,
    };
  }

  function build(tenantId: string, rows: readonly KeyRow[], masterKey: KeyObject): LoadedKeys {
    const latest = (kind: KeyKind) =>
      rows.filter((r) => r.kind === kind).reduce<KeyRow | undefined>((a, r) => (!a || r.version > a.version ? r : a), undefined);
    const currentData = latest('data');
    const index = latest('index');
    const currentSigning = latest('signing');
    if (!currentData || !index || !currentSigning) throw new Error(`encryption: the key set of tenant ${tenantId} is incomplete`);
    const unwrap = (row: KeyRow) => unwrapKey(masterKey, tenantId, row.key_id, row.wrapped_key);
    const material: KeyMaterial = {
      tenantId,
      dataKeys: new Map(rows.filter((r) => r.kind === 'data').map((r) => [r.key_id, unwrap(r)])),
      currentDataKeyId: currentData.key_id,
      indexKey: unwrap(index),
      signingKeys: new Map(
        rows
          .filter((r) => r.kind === 'signing')
          .map((r) => [r.key_id, { privateKey: unwrap(r), publicKey: Buffer.from(r.public_key ?? '', 'base64') }]),
      ),
      currentSigningKeyId: currentSigning.key_id,
    };
    return tenantKeys(material);
  }

  /**
   * Reads a state's keys from the database, creating the first set if it has none. With `outer`,
   * through the caller's transaction (on SQLite its one connection: anything else would wait on it).
   */
  async function load(tenantId: string, outer?: Tx): Promise<LoadedKeys> {
    const masterKeyObject = await masterKey();
    let rows = await store.keysOf(tenantId, outer);
    const kinds = new Set(rows.map((r) => r.kind));
    if (!kinds.has('data') || !kinds.has('index') || !kinds.has('signing')) {
      const create = async (tx: Tx) => {
        for (const kind of ['data', 'index', 'signing'] as const) {
          if (!kinds.has(kind)) await store.insertKey(tx, newKeyRow(masterKeyObject, tenantId, kind, 1, null));
        }
      };
      if (outer) await create(outer);
      else await database.transaction(create);
      rows = await store.keysOf(tenantId, outer);
      logger.info({ tenantId, keyIds: rows.map((r) => r.key_id) }, 'encryption keys ready');
    }
    return build(tenantId, rows, masterKeyObject);
  }

  async function forTenant(tenantId: string, tx?: Tx): Promise<LoadedKeys> {
    const state = stateOf(tenantId);
    if (tx === undefined) return cache.get(state, () => load(state));
    const cached = cache.peek(state);
    if (cached) return cached;
    // Not cached: keys made in a transaction that may still roll back must not be remembered.
    return load(state, tx);
  }

  async function rotateKey(tenantId: string, actor: Actor = { uuid: null }): Promise<{ keyId: string }> {
    const state = stateOf(tenantId);
    const previous = await load(state);
    const masterKeyObject = await masterKey();
    for (let attempt = 1; attempt <= MAX_ROTATION_ATTEMPTS; attempt++) {
      const rotated = await database
        .transaction(async (tx) => {
          const dataRow = newKeyRow(masterKeyObject, state, 'data', (await store.latestVersion(tx, state, 'data')) + 1, actor.uuid);
          const signingRow = newKeyRow(
            masterKeyObject,
            state,
            'signing',
            (await store.latestVersion(tx, state, 'signing')) + 1,
            actor.uuid,
          );
          // Another process rotated at the same moment and took these versions: start over from what it wrote.
          if (!(await store.insertKey(tx, dataRow))) return undefined;
          if (!(await store.insertKey(tx, signingRow))) throw new RotationRace();
          const data: KeyRotatedData = {
            tenantId: state,
            keyId: dataRow.key_id,
            previousKeyId: previous.currentKeyId,
            signingKeyId: signingRow.key_id,
          };
          await outbox.append(tx, { type: KEY_ROTATED, source: SOURCE, subject: state, tenantId: state, data });
          await deps.audit.appendInTx(tx, {
            tenantId: state,
            action: 'key.rotated',
            subject: dataRow.key_id,
            outcome: 'success',
            actorUuid: actor.uuid,
            details: { previousKeyId: previous.currentKeyId, signingKeyId: signingRow.key_id },
          });
          await changes.publish(tx, KEYS_TOPIC);
          return { keyId: dataRow.key_id, signingKeyId: signingRow.key_id };
        })
        .catch((error: unknown) => {
          if (error instanceof RotationRace) return undefined;
          throw error;
        });
      if (rotated) {
        logger.info({ tenantId: state, ...rotated, previousKeyId: previous.currentKeyId, actor: actor.uuid }, 'encryption key rotated');
        return { keyId: rotated.keyId };
      }
    }
    throw new DomainError('conflict', {
      code: 'KEY_ROTATION_CONFLICT',
      message: `Other rotations of ${state}'s keys ran at the same time; retry`,
    });
  }

  async function reencrypt(tenantId: string): Promise<Record<string, number>> {
    const state = stateOf(tenantId);
    // Straight from the database, not the cache: this may run right after another process rotated.
    const keys = await load(state);
    if (cache.peek(state)?.currentKeyId !== keys.currentKeyId) cache.clear();
    const moved: Record<string, number> = {};
    const progress = (name: string) => {
      let loggedAt = clock.now();
      return (total: number) => {
        logger.debug({ tenantId: state, job: name, moved: total }, 're-encryption batch');
        if (clock.now() - loggedAt < PROGRESS_LOG_MS) return;
        loggedAt = clock.now();
        logger.info({ tenantId: state, job: name, moved: total, keyId: keys.currentKeyId }, 're-encryption in progress');
      };
    };
    for (const [name, job] of jobs) {
      const report = progress(name);
      let total = 0;
      for (;;) {
        const n = await database.transaction((tx) => job(keys, tx));
        if (!(n > 0)) break;
        total += n;
        report(total);
      }
      moved[name] = total;
    }
    const oldKeyIds = keys.dataKeyIds.filter((id) => id !== keys.currentKeyId);
    for (const [name, table] of sealedTables) moved[name] = await resealTable(keys, oldKeyIds, table, progress(name));
    logger.info({ tenantId: state, keyId: keys.currentKeyId, moved }, 're-encryption done');
    return moved;
  }

  /**
   * Walks the table in id order, batch by batch (one transaction each): resumable, since a later
   * run finds only what is still under an old key. A pass in which concurrent writers won some rows
   * is followed by another; damaged values are reported, not retried forever.
   */
  async function resealTable(keys: LoadedKeys, oldKeyIds: readonly string[], table: SealedTable, report: (total: number) => void): Promise<number> {
    let total = 0;
    let unreadable = 0;
    for (let pass = 1; pass <= MAX_RESEAL_PASSES; pass++) {
      let after = '';
      let raced = 0;
      unreadable = 0;
      for (;;) {
        const batch = await database.transaction((tx) => resealBatch(database, tx, keys, oldKeyIds, table, after, RESEAL_BATCH));
        if (batch.last === undefined) break;
        after = batch.last;
        total += batch.moved;
        raced += batch.raced;
        unreadable += batch.unreadable;
        if (batch.moved > 0) report(total);
      }
      if (raced === 0) break;
    }
    if (unreadable > 0) logger.warn({ tenantId: keys.tenantId, table: table.table, unreadable }, 're-encryption left values that do not decrypt (damaged)');
    return total;
  }

  async function keysOfKeyId(keyId: string): Promise<LoadedKeys | undefined> {
    let tenantId = tenantByKeyId.get(keyId);
    if (tenantId === undefined) {
      tenantId = await store.tenantOfKey(keyId);
      if (tenantId === undefined) return undefined;
      // Key ids are never reused, so the answer can be kept; the bound only stops the map from growing without end.
      if (tenantByKeyId.size > 10_000) tenantByKeyId.clear();
      tenantByKeyId.set(keyId, tenantId);
    }
    const keys = await forTenant(tenantId);
    if (keys.hasKey(keyId)) return keys;
    // Another process added the key and the change feed has not told us yet.
    cache.clear();
    return forTenant(tenantId);
  }

  return {
    ready: async () => {
      await masterKey();
    },
    forTenant,
    rotateKey,
    registerReencryption(name, job) {
      if (jobs.has(name) || sealedTables.has(name)) throw new Error(`re-encryption job "${name}" is already registered`);
      jobs.set(name, job);
    },
    registerSealedTable(table) {
      if (jobs.has(table.name) || sealedTables.has(table.name)) throw new Error(`re-encryption job "${table.name}" is already registered`);
      sealedTables.set(table.name, table);
    },
    reencrypt,
    keysOfKeyId,
    async sign(tenantId, value) {
      const keys = await forTenant(tenantId);
      return { value, signature: keys.sign(value) };
    },
    async verify(value, signature) {
      const keyId = keyIdOf(signature);
      if (keyId === undefined) throw invalid('MALFORMED_SIGNATURE', 'The signature is not of the form <keyId>|<base64>');
      const keys = await keysOfKeyId(keyId);
      return keys !== undefined && keys.verify(value, signature);
    },
    async sealSecret(purpose, plaintext) {
      return `${SECRET_PREFIX}${seal(await masterKey(), Buffer.from(plaintext, 'utf8'), secretAad(purpose))}`;
    },
    async openSecret(purpose, sealed) {
      const bytes = sealed.startsWith(SECRET_PREFIX) ? Buffer.from(sealed.slice(SECRET_PREFIX.length), 'base64') : undefined;
      const plaintext = bytes && open(await masterKey(), bytes, secretAad(purpose));
      if (!plaintext) throw new Error(`a secret sealed for "${purpose}" cannot be opened with this master key`);
      return plaintext.toString('utf8');
    },
    close: () => cache.close(),
  };
}

/** Sealed secrets of other modules: versioned, and bound to their purpose (distinct from wrapped tenant keys' AAD). */
export const SECRET_PREFIX = 'secret-v1|';
const secretAad = (purpose: string) => Buffer.from(`plinth-secret-v1|${purpose}`, 'utf8');
