import { sql, type Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { isCipherText } from './encryption.keys.js';
import type { EncryptionService, TenantKeys } from './encryption.types.js';

/**
 * The one way a module declares the personal fields of a table and has them encrypted on write and
 * decrypted on read (the individual registry's scheme: AES-256-GCM under the state's data key, the
 * key id inside the ciphertext, keyed HMAC blind indexes for exact search).
 *
 * - `text`: columns holding a string, stored as `<keyId>|<base64>`.
 * - `json`: columns holding any JSON value, stored as the ciphertext of its JSON text (a JSON
 *   string in a json column: no schema change).
 * - `indexes`: blind-index columns computed from the plaintext row (exact search without plaintext).
 *
 * A value that is not a ciphertext yet (a row written before its module encrypted, waiting for
 * `sealStoredRows`) is read as it is.
 */
export type PersonalFieldSpec<Row> = {
  /** Names the blind-index purposes (`<name>.<index column>`), e.g. `complaint`. */
  readonly name: string;
  readonly text?: readonly (keyof Row & string)[];
  readonly json?: readonly (keyof Row & string)[];
  /** Index column → the normalized plaintext it indexes (null: no index). */
  readonly indexes?: Readonly<Record<string, (row: Row) => string | null>>;
};

export type PersonalFields<Row> = {
  /**
   * Loads the state's keys. Call it before a transaction that seals or opens: on SQLite the one
   * connection is the transaction's, so loading (or creating) keys inside it would wait on itself.
   */
  ready(tenantId: string): Promise<void>;
  /** A copy of `row` with its personal fields encrypted and its blind indexes set. */
  seal(tenantId: string, row: Row, tx?: Tx): Promise<Row & Record<string, unknown>>;
  sealWith(keys: TenantKeys, row: Row): Row & Record<string, unknown>;
  /** A copy of `row` with its personal fields decrypted (JSON fields parsed). */
  open<R extends Row>(tenantId: string, row: R): Promise<R>;
  openWith<R extends Row>(keys: TenantKeys, row: R): R;
  /** The blind index a search compares with `index` (same normalization as on write is the caller's). */
  blindIndex(tenantId: string, index: string, normalized: string, tx?: Tx): Promise<string>;
  blindIndexWith(keys: TenantKeys, index: string, normalized: string): string;
  /** One value under the state's key (a column outside the row shape, e.g. an event's field). */
  encrypt(tenantId: string, plaintext: string): Promise<string>;
  /** Opens what `encrypt` (or `seal`) wrote; a value that is not a ciphertext is answered as it is. */
  decrypt(tenantId: string, value: string): Promise<string>;
};

export function personalFields<Row extends Record<string, unknown>>(service: EncryptionService, spec: PersonalFieldSpec<Row>): PersonalFields<Row> {
  const text = spec.text ?? [];
  const json = spec.json ?? [];
  const indexes = Object.entries(spec.indexes ?? {});
  const purpose = (index: string) => `${spec.name}.${index}`;

  function sealWith(keys: TenantKeys, row: Row): Row & Record<string, unknown> {
    const out: Record<string, unknown> = { ...row };
    for (const [column, of] of indexes) {
      const value = of(row);
      out[column] = value === null || value === '' ? null : keys.blindIndex(purpose(column), value);
    }
    for (const f of text) {
      const v = row[f];
      if (typeof v === 'string' && !isCipherText(v)) out[f] = keys.encrypt(v);
    }
    for (const f of json) {
      const v = row[f];
      if (v !== null && v !== undefined && !isCipherText(v)) out[f] = keys.encrypt(JSON.stringify(v));
    }
    return out as Row & Record<string, unknown>;
  }

  function openWith<R extends Row>(keys: TenantKeys, row: R): R {
    const out: Record<string, unknown> = { ...row };
    for (const f of text) if (isCipherText(row[f])) out[f] = keys.decrypt(row[f]);
    for (const f of json) if (isCipherText(row[f])) out[f] = JSON.parse(keys.decrypt(row[f])) as unknown;
    return out as R;
  }

  return {
    ready: async (tenantId) => {
      await service.forTenant(tenantId);
    },
    seal: async (tenantId, row, tx) => sealWith(await service.forTenant(tenantId, tx), row),
    sealWith,
    open: async (tenantId, row) => openWith(await service.forTenant(tenantId), row),
    openWith,
    blindIndex: async (tenantId, index, normalized, tx) => (await service.forTenant(tenantId, tx)).blindIndex(purpose(index), normalized),
    blindIndexWith: (keys, index, normalized) => keys.blindIndex(purpose(index), normalized),
    encrypt: async (tenantId, plaintext) => (await service.forTenant(tenantId)).encrypt(plaintext),
    decrypt: async (tenantId, value) => (isCipherText(value) ? (await service.forTenant(tenantId)).decrypt(value) : value),
  };
}

export type StoredRowsSpec<Row> = {
  readonly table: string;
  /** The primary-key column. */
  readonly id: string;
  /** The column naming the row's tenant (its state's key encrypts it). */
  readonly tenant: string;
  /** Read the row into the shape `fields` expects (JSON columns decoded). */
  readonly read: (raw: Record<string, unknown>) => Row;
  readonly fields: PersonalFields<Row>;
  readonly spec: PersonalFieldSpec<Row>;
};

const BATCH = 200;

/**
 * Encrypts the rows of `table` still holding personal data in clear (written before their module
 * encrypted it): the data migration that follows a module's schema migration, run at start, in
 * batches, idempotent (an encrypted row is left alone). Each update is guarded by the values it read,
 * so a concurrent write by the module wins. Answers how many rows it encrypted.
 */
export async function sealStoredRows<Row extends Record<string, unknown>>(
  database: Database,
  service: EncryptionService,
  target: StoredRowsSpec<Row>,
): Promise<number> {
  const db = database.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
  const columns = [...(target.spec.text ?? []), ...(target.spec.json ?? [])];
  const plain = (raw: Record<string, unknown>) =>
    columns.some((c) => {
      const v = target.read(raw)[c];
      return v !== null && v !== undefined && !isCipherText(v);
    });
  let done = 0;
  let after = '';
  for (;;) {
    const rows = await db.selectFrom(target.table).selectAll().where(target.id, '>', after).orderBy(target.id).limit(BATCH).execute();
    if (rows.length === 0) return done;
    after = String(rows[rows.length - 1]![target.id]);
    for (const raw of rows.filter(plain)) {
      const row = target.read(raw);
      const keys = await service.forTenant(String(raw[target.tenant]));
      const sealed = target.fields.sealWith(keys, row);
      const set: Record<string, unknown> = {};
      for (const c of target.spec.text ?? []) set[c] = sealed[c];
      for (const c of target.spec.json ?? []) set[c] = sealed[c] === null || sealed[c] === undefined ? raw[c] : database.toJson(sealed[c]);
      for (const c of Object.keys(target.spec.indexes ?? {})) set[c] = sealed[c];
      let update = db.updateTable(target.table).set(set).where(target.id, '=', raw[target.id]);
      for (const c of columns) {
        const old = raw[c];
        update =
          old === null || old === undefined
            ? update.where(c, 'is', null)
            : database.dialect === 'postgres' && (target.spec.json ?? []).includes(c as keyof Row & string)
              ? update.where(sql`${sql.ref(c)}::text`, '=', sql`${database.toJson(old)}::jsonb::text`)
              : update.where(sql.ref(c), '=', old as string);
      }
      const result = await update.executeTakeFirst();
      done += Number(result.numUpdatedRows);
    }
  }
}
