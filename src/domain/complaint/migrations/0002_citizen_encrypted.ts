import type { Migration } from '../../../kernel/migrator.js';

/**
 * The citizen's fields are stored encrypted from here on (issue #14): search by mobile number goes
 * through this blind index. Rows written before are encrypted by the module's start
 * (`sealStoredRows`: the keys live behind the master key, which migrations do not hold).
 */
export const citizenEncrypted: Migration = {
  name: '0002_citizen_encrypted',
  async up(db) {
    await db.schema.alterTable('pgr_service').addColumn('citizen_mobile_bidx', 'text').execute();
    await db.schema.createIndex('pgr_service_mobile_bidx_idx').on('pgr_service').columns(['tenant_id', 'citizen_mobile_bidx']).execute();
  },
};
