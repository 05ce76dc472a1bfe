import type { Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';

export type AuditLogRow = {
  id: string;
  tenant_id: string;
  seq: number;
  time: number;
  actor_uuid: string | null;
  action: string;
  subject: string;
  outcome: string;
  /** Encoded for the engine on write (database.toJson); decoded by the service on read. */
  details: unknown;
  ip: string | null;
  correlation_id: string | null;
  prev_hash: string;
  hash: string;
};

/** `mac`: the head's signature (audit.chain headMac); null only on heads from before signing. */
export type AuditHeadRow = { tenant_id: string; seq: number; hash: string; mac: string | null };

export type AuditTables = { audit_log: AuditLogRow; audit_head: AuditHeadRow };

/** A query runner: the database itself or a transaction. */
export type Runner = Kysely<AuditTables>;

export type SearchQuery = {
  tenantId: string;
  actions?: readonly string[] | undefined;
  subject?: string | undefined;
  actorUuid?: string | undefined;
  fromTime?: number | undefined;
  toTime?: number | undefined;
  offset: number;
  limit: number;
};

/** Kysely queries for the audit log; the chain rules live in audit.service.ts. */
export function createAuditStore(database: Database) {
  return {
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<AuditTables>() as unknown as Runner;
    },

    async head(db: Runner, tenantId: string): Promise<AuditHeadRow | undefined> {
      return db.selectFrom('audit_head').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
    },

    async insertEntry(db: Runner, row: AuditLogRow): Promise<void> {
      await db.insertInto('audit_log').values(row).execute();
    },

    /** One multi-row INSERT; the caller keeps the count within the engines' parameter limits. */
    async insertEntries(db: Runner, rows: readonly AuditLogRow[]): Promise<void> {
      if (rows.length > 0) await db.insertInto('audit_log').values(rows).execute();
    },

    /**
     * Moves the head from `previousSeq` to the new entry; false when it was not at `previousSeq`
     * (someone else moved it), which must abort the append.
     */
    async moveHead(db: Runner, head: AuditHeadRow, previousSeq: number): Promise<boolean> {
      if (previousSeq === 0) {
        await db.insertInto('audit_head').values(head).execute();
        return true;
      }
      const result = await db
        .updateTable('audit_head')
        .set({ seq: head.seq, hash: head.hash, mac: head.mac })
        .where('tenant_id', '=', head.tenant_id)
        .where('seq', '=', previousSeq)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async search(db: Runner, query: SearchQuery): Promise<AuditLogRow[]> {
      let q = db.selectFrom('audit_log').selectAll().where('tenant_id', '=', query.tenantId);
      if (query.actions?.length) q = q.where('action', 'in', query.actions);
      if (query.subject !== undefined) q = q.where('subject', '=', query.subject);
      if (query.actorUuid !== undefined) q = q.where('actor_uuid', '=', query.actorUuid);
      if (query.fromTime !== undefined) q = q.where('time', '>=', query.fromTime);
      if (query.toTime !== undefined) q = q.where('time', '<=', query.toTime);
      return q.orderBy('seq', 'desc').offset(query.offset).limit(query.limit).execute();
    },

    /** Every tenant with a chain, from the entries and from the heads (either may be all that is left). */
    async tenants(db: Runner): Promise<string[]> {
      const fromLog = await db.selectFrom('audit_log').select('tenant_id').distinct().execute();
      const fromHead = await db.selectFrom('audit_head').select('tenant_id').execute();
      return [...new Set([...fromLog, ...fromHead].map((row) => row.tenant_id))].sort();
    },

    /** One page of a chain in seq order, after `afterSeq` and up to `toSeq` if given (keyset paging). */
    async chainPage(db: Runner, tenantId: string, afterSeq: number, limit: number, toSeq?: number): Promise<AuditLogRow[]> {
      let q = db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenantId).where('seq', '>', afterSeq);
      if (toSeq !== undefined) q = q.where('seq', '<=', toSeq);
      return q.orderBy('seq', 'asc').limit(limit).execute();
    },
  };
}

export type AuditStore = ReturnType<typeof createAuditStore>;
