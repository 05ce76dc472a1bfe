import { Value } from 'typebox/value';
import type { Database } from '../../kernel/db.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import type { SeedCounts, SeedFile } from '../../kernel/module.js';
import { BusinessServiceInput } from './workflow.schema.js';
import type { PreparedDefinitions, WorkflowService } from './workflow.service.js';

/**
 * Loads `seed/workflow/*.json`, each `{ "BusinessServices": [ … ] }` as the body of
 * businessservice/_create: creates what is missing, updates what changed (states and actions keep
 * their uuids, matched by name), leaves the rest alone. One transaction; any bad file or
 * definition refuses the whole seed, each problem named with its file and position.
 */
export async function seedWorkflows(database: Database, service: WorkflowService, files: readonly SeedFile[], actor: { uuid: string | null }): Promise<SeedCounts> {
  const errors: ErrorDetail[] = [];
  const parsed: Array<{ file: string; index: number; input: BusinessServiceInput }> = [];
  const seen = new Map<string, string>();
  for (const { file, content } of files) {
    const list = (content as { BusinessServices?: unknown } | null)?.BusinessServices;
    if (!Array.isArray(list)) {
      errors.push({ code: 'INVALID_SEED_FILE', message: `${file}: must be an object with a "BusinessServices" list`, params: [file] });
      continue;
    }
    for (const [index, item] of list.entries()) {
      if (Value.Check(BusinessServiceInput, item)) {
        const key = `${item.tenantId}|${item.businessService}`;
        const first = seen.get(key);
        if (first) {
          errors.push({ code: 'INVALID_SEED_FILE', message: `${file} BusinessServices[${index}]: ${item.businessService} of ${item.tenantId} is also defined in ${first}`, params: [file] });
        }
        seen.set(key, `${file} BusinessServices[${index}]`);
        parsed.push({ file, index, input: item });
        continue;
      }
      for (const issue of [...Value.Errors(BusinessServiceInput, item)].slice(0, 5)) {
        const field = issue.instancePath.split('/').filter(Boolean).join('.') || 'the definition';
        errors.push({ code: 'INVALID_SEED_FILE', message: `${file} BusinessServices[${index}]: ${field} ${issue.message}`, params: [file] });
      }
    }
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);
  const counts = { created: 0, updated: 0, unchanged: 0 };
  const where = (file: string, index: number, input: BusinessServiceInput) => `${file} BusinessServices[${index}] (${input.businessService})`;
  // Reads of other modules (tenants, roles, placement) before the transaction, which holds SQLite's connection.
  const prepared: Array<{ file: string; index: number; input: BusinessServiceInput; ready: PreparedDefinitions }> = [];
  for (const { file, index, input } of parsed) {
    try {
      prepared.push({ file, index, input, ready: await service.prepareBusinessServices([input]) });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      for (const d of error.details) errors.push({ ...d, message: `${where(file, index, input)}: ${d.message}` });
    }
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);
  await database.transaction(async (tx) => {
    for (const { file, index, input, ready } of prepared) {
      try {
        const [result] = await service.saveBusinessServicesInTx(tx, ready, actor.uuid, 'upsert');
        counts[result!.outcome]++;
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        for (const d of error.details) errors.push({ ...d, message: `${where(file, index, input)}: ${d.message}` });
      }
    }
    if (errors.length > 0) throw new DomainError('invalid', errors);
  });
  return counts;
}
