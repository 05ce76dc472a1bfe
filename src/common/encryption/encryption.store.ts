import type { Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';

export type KeyKind = 'data' | 'index' | 'signing';

export type KeyRow = {
  key_id: string;
  tenant_id: string;
  kind: KeyKind;
  version: number;
  wrapped_key: string;
  public_key: string | null;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};

type MasterCheckRow = { id: string; check_value: string; created_time: number };

export type EncryptionTables = { encryption_key: KeyRow; encryption_master_check: MasterCheckRow };

type Runner = Kysely<EncryptionTables>;

const MASTER_CHECK_ID = 'master';

/** Kysely queries for key rows and the master-key check value; the key rules live in encryption.service.ts. */
export function createEncryptionStore(database: Database) {
  const runner = (tx?: Tx): Runner => (tx ? tx.kysely : database.kysely).withTables<EncryptionTables>() as unknown as Runner;
  const toRow = (row: KeyRow): KeyRow => ({
    ...row,
    version: Number(row.version),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
  });

  return {
    /** Every key of a state tenant, oldest first. */
    async keysOf(tenantId: string, tx?: Tx): Promise<KeyRow[]> {
      const rows = await runner(tx).selectFrom('encryption_key').selectAll().where('tenant_id', '=', tenantId).orderBy('version').execute();
      return rows.map(toRow);
    },

    async tenantOfKey(keyId: string): Promise<string | undefined> {
      const row = await runner().selectFrom('encryption_key').select('tenant_id').where('key_id', '=', keyId).executeTakeFirst();
      return row?.tenant_id;
    },

    async latestVersion(tx: Tx, tenantId: string, kind: KeyKind): Promise<number> {
      const row = await runner(tx)
        .selectFrom('encryption_key')
        .select((eb) => eb.fn.max('version').as('version'))
        .where('tenant_id', '=', tenantId)
        .where('kind', '=', kind)
        .executeTakeFirst();
      return Number(row?.version ?? 0);
    },

    /** Inserts a key unless its id or (tenant, kind, version) is taken (another process got there first); true if inserted. */
    async insertKey(tx: Tx, row: KeyRow): Promise<boolean> {
      const inserted = await runner(tx)
        .insertInto('encryption_key')
        .values(row)
        .onConflict((oc) => oc.doNothing())
        .returning('key_id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    /** The stored check value, storing `value` first if there is none yet (first start); answers what is stored. */
    async masterCheck(value: string, now: number): Promise<string> {
      await runner()
        .insertInto('encryption_master_check')
        .values({ id: MASTER_CHECK_ID, check_value: value, created_time: now })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const row = await runner()
        .selectFrom('encryption_master_check')
        .select('check_value')
        .where('id', '=', MASTER_CHECK_ID)
        .executeTakeFirstOrThrow();
      return row.check_value;
    },
  };
}

export type EncryptionStore = ReturnType<typeof createEncryptionStore>;
