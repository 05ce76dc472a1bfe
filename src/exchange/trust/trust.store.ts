import type { Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';

export type KeyStatus = 'current' | 'retired';
export type AgencyStatus = 'ACTIVE' | 'INACTIVE';

type Tables = {
  exchange_signing_key: {
    kid: string;
    status: KeyStatus;
    public_jwk: unknown;
    sealed_private_key: string;
    created_by: string | null;
    created_time: number;
    retired_time: number | null;
  };
  exchange_agency: {
    agency_id: string;
    name: string;
    jwks: unknown;
    jwks_url: string | null;
    status: AgencyStatus;
    jwks_fetched_time: number | null;
    jwks_set_time: number | null;
    row_version: number;
    created_by: string | null;
    last_modified_by: string | null;
    created_time: number;
    last_modified_time: number;
  };
  exchange_inbox: {
    id: string;
    sender: string;
    message_id: string;
    kid: string;
    subscription_id: string | null;
    event_id: string;
    event_type: string;
    tenant_id: string;
    digest: string;
    content_digest: string;
    /** The detached JWS (`<header>..<signature>`); a row from before 0003 holds the whole JWS until start splits it. */
    jws: string;
    /** The JWS payload (base64url), encrypted; null once purged after the retention. */
    payload: string | null;
    receipt: string;
    handover_event_id: string;
    received_time: number;
  };
  exchange_refusal: {
    id: string;
    code: string;
    message: string;
    sender: string | null;
    sender_verified: unknown;
    message_id: string | null;
    remote_address: string | null;
    body_head: string;
    body_length: number;
    received_time: number;
  };
};

export type SigningKeyRow = Tables['exchange_signing_key'];
export type AgencyRow = Tables['exchange_agency'];
export type InboxRow = Tables['exchange_inbox'];
export type RefusalRow = Omit<Tables['exchange_refusal'], 'sender_verified'> & { sender_verified: boolean };

export type InboxCriteria = {
  sender?: string | undefined;
  messageId?: string | undefined;
  eventType?: string | undefined;
  code?: string | undefined;
  fromTime?: number | undefined;
  toTime?: number | undefined;
  limit: number;
  offset: number;
};

export type TrustStore = ReturnType<typeof createTrustStore>;

/** Kysely queries of the trust module's four tables; no rules. */
export function createTrustStore(database: Database) {
  const db = database.kysely.withTables<Tables>();
  const on = (tx: Tx | undefined) => (tx ? (tx.kysely as unknown as Kysely<Tables>) : db);
  const agencyOf = (row: AgencyRow): AgencyRow => ({ ...row, jwks: database.fromJson(row.jwks) });
  const keyOf = (row: SigningKeyRow): SigningKeyRow => ({ ...row, public_jwk: database.fromJson(row.public_jwk) });

  return {
    /** Newest first: the current key, then retired ones. */
    async signingKeys(): Promise<SigningKeyRow[]> {
      const rows = await db.selectFrom('exchange_signing_key').selectAll().orderBy('created_time', 'desc').orderBy('kid').execute();
      return rows.map(keyOf);
    },
    /** False when another key is current already (the partial unique index refused it). */
    async insertSigningKey(tx: Tx | undefined, row: SigningKeyRow): Promise<boolean> {
      const inserted = await on(tx)
        .insertInto('exchange_signing_key')
        .values({ ...row, public_jwk: database.toJson(row.public_jwk) })
        .onConflict((oc) => oc.doNothing())
        .returning('kid')
        .executeTakeFirst();
      return inserted !== undefined;
    },
    async retireCurrent(tx: Tx, now: number): Promise<string | undefined> {
      const row = await on(tx)
        .updateTable('exchange_signing_key')
        .set({ status: 'retired', retired_time: now })
        .where('status', '=', 'current')
        .returning('kid')
        .executeTakeFirst();
      return row?.kid;
    },
    async deleteRetiredKey(tx: Tx, kid: string): Promise<boolean> {
      const result = await on(tx).deleteFrom('exchange_signing_key').where('kid', '=', kid).where('status', '=', 'retired').executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async agency(agencyId: string): Promise<AgencyRow | undefined> {
      const row = await db.selectFrom('exchange_agency').selectAll().where('agency_id', '=', agencyId).executeTakeFirst();
      return row && agencyOf(row);
    },
    async insertAgency(row: AgencyRow): Promise<boolean> {
      const inserted = await db
        .insertInto('exchange_agency')
        .values({ ...row, jwks: database.toJson(row.jwks) })
        .onConflict((oc) => oc.column('agency_id').doNothing())
        .returning('agency_id')
        .executeTakeFirst();
      return inserted !== undefined;
    },
    /** Writes `row` if the stored version is still `expectedVersion`; false when another write came first. */
    async updateAgency(row: AgencyRow, expectedVersion: number): Promise<boolean> {
      const result = await db
        .updateTable('exchange_agency')
        .set({
          name: row.name,
          jwks: database.toJson(row.jwks),
          jwks_url: row.jwks_url,
          status: row.status,
          jwks_fetched_time: row.jwks_fetched_time,
          jwks_set_time: row.jwks_set_time,
          row_version: row.row_version,
          last_modified_by: row.last_modified_by,
          last_modified_time: row.last_modified_time,
        })
        .where('agency_id', '=', row.agency_id)
        .where('row_version', '=', expectedVersion)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    /** Claims the right to fetch an agency's jwks_url now: true for at most one caller per `intervalMs`, across processes. */
    async claimJwksFetch(agencyId: string, now: number, intervalMs: number): Promise<boolean> {
      const result = await db
        .updateTable('exchange_agency')
        .set({ jwks_fetched_time: now })
        .where('agency_id', '=', agencyId)
        .where((eb) => eb.or([eb('jwks_fetched_time', 'is', null), eb('jwks_fetched_time', '<=', now - intervalMs)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async setFetchedJwks(agencyId: string, jwks: unknown, now: number): Promise<void> {
      await db
        .updateTable('exchange_agency')
        .set((eb) => ({ jwks: database.toJson(jwks), jwks_set_time: now, last_modified_time: now, row_version: eb('row_version', '+', 1) }))
        .where('agency_id', '=', agencyId)
        .execute();
    },
    async searchAgencies(criteria: { agencyIds?: readonly string[] | undefined; status?: AgencyStatus | undefined; limit: number; offset: number }) {
      let query = db.selectFrom('exchange_agency').selectAll();
      if (criteria.agencyIds && criteria.agencyIds.length > 0) query = query.where('agency_id', 'in', criteria.agencyIds);
      if (criteria.status) query = query.where('status', '=', criteria.status);
      const rows = await query.orderBy('agency_id').limit(criteria.limit).offset(criteria.offset).execute();
      return rows.map(agencyOf);
    },

    async inboxMessage(sender: string, messageId: string, tx?: Tx): Promise<InboxRow | undefined> {
      return on(tx).selectFrom('exchange_inbox').selectAll().where('sender', '=', sender).where('message_id', '=', messageId).executeTakeFirst();
    },
    /** False when the sender's message id is in the inbox already (a concurrent duplicate won). */
    async insertInbox(tx: Tx, row: InboxRow): Promise<boolean> {
      const inserted = await on(tx)
        .insertInto('exchange_inbox')
        .values(row)
        .onConflict((oc) => oc.columns(['sender', 'message_id']).doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },
    async insertRefusal(row: RefusalRow): Promise<void> {
      await db
        .insertInto('exchange_refusal')
        .values({ ...row, sender_verified: database.toBool(row.sender_verified) })
        .execute();
    },
    /** Deletes refusals received before `before`; answers how many went. */
    async pruneRefusalsBefore(before: number): Promise<number> {
      const result = await db.deleteFrom('exchange_refusal').where('received_time', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    /** Keeps the newest `keep` refusals (by received time, then id); answers how many went. */
    async pruneRefusalsBeyond(keep: number): Promise<number> {
      const boundary = await db
        .selectFrom('exchange_refusal')
        .select(['received_time', 'id'])
        .orderBy('received_time', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .offset(keep)
        .executeTakeFirst();
      if (!boundary) return 0;
      // The first row beyond the newest `keep`, and every older one.
      const time = Number(boundary.received_time);
      const result = await db
        .deleteFrom('exchange_refusal')
        .where((eb) => eb.or([eb('received_time', '<', time), eb.and([eb('received_time', '=', time), eb('id', '<=', boundary.id)])]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async countRefusals(): Promise<number> {
      const row = await db.selectFrom('exchange_refusal').select((eb) => eb.fn.countAll<number | string | bigint>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },
    /** Drops the payloads of messages received before `before` (the evidence stays); answers how many. */
    async purgeInboxPayloads(before: number): Promise<number> {
      const result = await db.updateTable('exchange_inbox').set({ payload: null }).where('received_time', '<', before).where('payload', 'is not', null).execute();
      return result.reduce((n, r) => n + Number(r.numUpdatedRows), 0);
    },
    /** Refusals whose body head is not sealed yet (recorded before heads were); `sealedPrefix` marks a sealed one. */
    async unsealedRefusals(after: string, limit: number, sealedPrefix: string): Promise<Array<{ id: string; body_head: string }>> {
      return db.selectFrom('exchange_refusal').select(['id', 'body_head']).where('id', '>', after).where('body_head', 'not like', `${sealedPrefix}%`).orderBy('id').limit(limit).execute();
    },
    async sealRefusalHead(id: string, plain: string, sealed: string): Promise<void> {
      await db.updateTable('exchange_refusal').set({ body_head: sealed }).where('id', '=', id).where('body_head', '=', plain).execute();
    },
    /** Rows still holding a whole JWS (received before payloads were split out and encrypted). */
    async unsplitInbox(after: string, limit: number): Promise<InboxRow[]> {
      return db.selectFrom('exchange_inbox').selectAll().where('id', '>', after).where('payload', 'is', null).orderBy('id').limit(limit).execute();
    },
    async splitInbox(id: string, whole: string, detached: string, payload: string): Promise<void> {
      await db.updateTable('exchange_inbox').set({ jws: detached, payload }).where('id', '=', id).where('jws', '=', whole).execute();
    },
    async searchInbox(criteria: InboxCriteria): Promise<InboxRow[]> {
      let query = db.selectFrom('exchange_inbox').selectAll();
      if (criteria.sender !== undefined) query = query.where('sender', '=', criteria.sender);
      if (criteria.messageId !== undefined) query = query.where('message_id', '=', criteria.messageId);
      if (criteria.eventType !== undefined) query = query.where('event_type', '=', criteria.eventType);
      if (criteria.fromTime !== undefined) query = query.where('received_time', '>=', criteria.fromTime);
      if (criteria.toTime !== undefined) query = query.where('received_time', '<=', criteria.toTime);
      return query.orderBy('received_time', 'desc').orderBy('id', 'desc').limit(criteria.limit).offset(criteria.offset).execute();
    },
    async searchRefusals(criteria: InboxCriteria): Promise<RefusalRow[]> {
      let query = db.selectFrom('exchange_refusal').selectAll();
      if (criteria.sender !== undefined) query = query.where('sender', '=', criteria.sender);
      if (criteria.messageId !== undefined) query = query.where('message_id', '=', criteria.messageId);
      if (criteria.code !== undefined) query = query.where('code', '=', criteria.code);
      if (criteria.fromTime !== undefined) query = query.where('received_time', '>=', criteria.fromTime);
      if (criteria.toTime !== undefined) query = query.where('received_time', '<=', criteria.toTime);
      const rows = await query.orderBy('received_time', 'desc').orderBy('id', 'desc').limit(criteria.limit).offset(criteria.offset).execute();
      return rows.map((row) => ({ ...row, sender_verified: database.fromBool(row.sender_verified) }));
    },
  };
}
