import { sql, type Kysely } from 'kysely';
import type { Database } from '../../kernel/db.js';
import { personalFields, type EncryptionService } from '../../common/encryption/index.js';
import type { Tables } from './subscriptions.store.js';

/** A day in milliseconds: retention is configured in days. */
export const DAY_MS = 86_400_000;

/**
 * The messages this agency sends carry people (names, dates of birth, identifiers): each
 * delivery's message is stored encrypted under its tenant's key, and purged once the retention
 * has passed for a delivery that is done (DELIVERED or DEAD). What stays is the evidence of what
 * was sent: the digests of every signed message and the receiver's signed receipt.
 */
export function deliveryPayloads(database: Database, encryption: EncryptionService) {
  const pii = personalFields<{ message: unknown }>(encryption, { name: 'exchange.delivery', json: ['message'] });
  const db = database.kysely.withTables<Tables>() as unknown as Kysely<Tables>;
  return {
    /** Loads a tenant's keys before a transaction that seals or opens (see PersonalFields.ready). */
    ready: (tenantId: string) => pii.ready(tenantId),
    /** The column value of `message`, encrypted. */
    async seal(tenantId: string, message: unknown): Promise<unknown> {
      return database.toJson((await pii.seal(tenantId, { message })).message);
    },
    /** The message as sent; null once purged. */
    async open<T>(tenantId: string, stored: unknown): Promise<T | null> {
      const value = database.fromJson<unknown>(stored);
      if (value === null || value === undefined) return null;
      return (await pii.open(tenantId, { message: value })).message as T;
    },
    /** Drops the messages of finished deliveries created before `before`; answers how many. */
    async purge(before: number): Promise<number> {
      const result = await db
        .updateTable('exchange_delivery')
        .set({ message: database.toJson(null) })
        .where('status', 'in', ['DELIVERED', 'DEAD'])
        .where('created_time', '<', before)
        .where(sql<boolean>`cast(message as text) <> 'null'`)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type DeliveryPayloads = ReturnType<typeof deliveryPayloads>;
