import { sql } from 'kysely';
import type { Migration } from '../../../kernel/migrator.js';

/**
 * When an agency's stored key set was last taken as true (registered by hand or fetched from its
 * jwksUrl). Distinct from `jwks_fetched_time`, which is the last fetch *attempt*: a set that could
 * not be refreshed stays stale, and is retried once a minute, until a fetch succeeds.
 */
export const jwksSetTime: Migration = {
  name: '0002_jwks_set_time',
  async up(db, t) {
    await db.schema.alterTable('exchange_agency').addColumn('jwks_set_time', t.bigint).execute();
    await sql`update exchange_agency set jwks_set_time = last_modified_time`.execute(db);
  },
};
