import type { Database, Tx } from '../../kernel/db.js';
import { DomainError } from '../../kernel/errors.js';
import type { TenantKeys } from '../../common/encryption/index.js';
import { ADDRESS_PII, jsonArray, keyIdOf, SCALAR_PII, type PiiColumn } from './individual.rows.js';
import type { IndividualStore } from './individual.store.js';

const REENCRYPT_BATCH = 500;

/** Key rotation: rows of a state still under an old data key, rewritten under the current one. */
export function individualReencryption({ database, store }: { database: Database; store: IndividualStore }) {
  /** One batch of a state's rows still under an old data key, rewritten under the current one. */
  async function reencryptBatch(keys: TenantKeys, tx: Tx): Promise<number> {
    const current = keyIdOf(keys.encrypt('key probe'));
    const db = store.runner(tx);
    const rows = await store.underOldKey(db, keys.tenantId, current, REENCRYPT_BATCH);
    for (const row of rows) {
      // A value that no longer decrypts (damaged) stays as it is: toDigit reports it with hasErrors.
      const again = (value: unknown): string | null => {
        if (typeof value !== 'string' || value === '') return null;
        if (keys.isCurrent(value)) return value;
        try {
          return keys.encrypt(keys.decrypt(value));
        } catch (error) {
          if (error instanceof DomainError) return value;
          throw error;
        }
      };
      const changes: Partial<Record<PiiColumn, string | null>> = {};
      for (const [column] of SCALAR_PII) changes[column] = again(row[column]);
      const addresses = jsonArray(row.addresses).map((a) => {
        const out: Record<string, unknown> = { ...a };
        for (const f of ADDRESS_PII) out[f] = again(a[f]);
        return out;
      });
      const identifiers = jsonArray(row.identifiers).map((i) => ({ ...i, identifierId: again(i['identifierId']) }));
      // Not a change of the person: row version and change time stay, devices need not download it again.
      await store.rewrite(tx, row.id, Number(row.row_version), {
        ...changes,
        addresses: database.toJson(addresses),
        identifiers: database.toJson(identifiers),
        key_id: current,
      });
    }
    return rows.length;
  }

  return reencryptBatch;
}
