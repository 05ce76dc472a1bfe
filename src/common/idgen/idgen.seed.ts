import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import type { SeedFile } from '../../kernel/module.js';
import { isTenantIdSyntax, type TenantDirectory } from '../../kernel/tenancy.js';
import { sequenceKeyOf } from './idgen.format.js';
import type { IdgenStore } from './idgen.store.js';

export type SequenceSeedReport = {
  readonly sequencesCreated: number;
  readonly sequencesRaised: number;
  readonly sequencesUnchanged: number;
};

type Wanted = { file: string; record: number; tenantId: string; key: string; last: number };

/**
 * `seed/idgen/*.json`: `{ "tenantId": "pb", "sequences": [{ "name": "SEQ_EG_PGR_ID", "next": 1 }] }`.
 * Makes each counter exist with its next number at least `next`: missing ones are created,
 * lower ones are raised (to continue the numbering of a DIGIT database being replaced), higher
 * ones are left alone — a counter never goes back, so a seed can never make a number repeat.
 */
export async function seedSequences(
  database: Database,
  store: IdgenStore,
  clock: Clock,
  tenants: TenantDirectory,
  files: readonly SeedFile[],
): Promise<SequenceSeedReport> {
  const errors: ErrorDetail[] = [];
  const fail = (file: string, message: string) =>
    errors.push({ code: 'INVALID_SEED_FILE', message: `${file}: ${message}`, params: [file] });
  const known = await tenants.knownTenants();
  const wanted: Wanted[] = [];
  const seen = new Map<string, string>();
  for (const { file, content } of files) {
    if (typeof content !== 'object' || content === null || Array.isArray(content)) {
      fail(file, 'must be a JSON object');
      continue;
    }
    const c = content as Record<string, unknown>;
    const tenantId = c['tenantId'];
    if (typeof tenantId !== 'string' || !isTenantIdSyntax(tenantId) || tenantId.includes('.')) {
      fail(file, '"tenantId" must be a state tenant (counters are kept per state), e.g. "pb"');
      continue;
    }
    if (known.size > 0 && !known.has(tenantId)) {
      fail(file, `tenant "${tenantId}" is not a tenant of this platform`);
      continue;
    }
    const sequences = c['sequences'];
    if (!Array.isArray(sequences)) {
      fail(file, '"sequences" must be a list of {name, next}');
      continue;
    }
    sequences.forEach((entry: unknown, i) => {
      const where = `record ${i + 1}`;
      const e = (typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? entry : {}) as Record<string, unknown>;
      const name = e['name'];
      const key = typeof name === 'string' ? sequenceKeyOf(name) : undefined;
      if (key === undefined) return fail(file, `${where}: name must be SEQ followed by letters, digits or _ (at most 63 characters)`);
      const next = e['next'] ?? 1;
      if (typeof next !== 'number' || !Number.isSafeInteger(next) || next < 1)
        return fail(file, `${where}: next must be a whole number from 1`);
      const id = `${tenantId}\u0000${key}`;
      const other = seen.get(id);
      if (other !== undefined) return fail(file, `${where}: sequence ${String(name)} of ${tenantId} is already listed in ${other}`);
      seen.set(id, `${file} ${where}`);
      wanted.push({ file, record: i + 1, tenantId, key, last: next - 1 });
    });
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);

  return database.transaction(async (tx) => {
    const db = store.runner(tx);
    const now = clock.now();
    let sequencesCreated = 0;
    let sequencesRaised = 0;
    let sequencesUnchanged = 0;
    for (const w of wanted) {
      if (
        await store.createSequence(db, { tenant_id: w.tenantId, name: w.key, value: w.last, created_time: now, last_modified_time: now })
      ) {
        sequencesCreated++;
      } else if (await store.raiseSequence(db, w.tenantId, w.key, w.last, now)) {
        sequencesRaised++;
      } else {
        sequencesUnchanged++;
      }
    }
    return { sequencesCreated, sequencesRaised, sequencesUnchanged };
  });
}
