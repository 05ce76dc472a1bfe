import { isDeepStrictEqual } from 'node:util';
import type { Database } from '../../kernel/db.js';
import type { SeedFile } from '../../kernel/module.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { Actor, MdmsService } from './mdms.service.js';
import { refSchemas, uniqueIdentifierOf, type SchemaDefinitionBody } from './mdms.validation.js';

/** One master file of `seed/mdms/`: optional definition, then records. */
export type MasterFile = SeedFile;

export type SeedReport = {
  readonly schemasCreated: number;
  readonly recordsCreated: number;
  readonly recordsUpdated: number;
  readonly recordsUnchanged: number;
};

type ParsedMaster = {
  file: string;
  tenantId: string;
  schemaCode: string;
  description: string | null;
  definition: SchemaDefinitionBody | undefined;
  data: Record<string, unknown>[];
};

function parse(master: MasterFile, errors: ErrorDetail[]): ParsedMaster | undefined {
  const fail = (message: string) => {
    errors.push({ code: 'INVALID_SEED_FILE', message: `${master.file}: ${message}`, params: [master.file] });
    return undefined;
  };
  const c = master.content as Record<string, unknown> | null;
  if (!c || typeof c !== 'object' || Array.isArray(c)) return fail('must be a JSON object');
  if (typeof c['tenantId'] !== 'string') return fail('"tenantId" must be a string');
  if (typeof c['schemaCode'] !== 'string') return fail('"schemaCode" must be a string');
  const definition = c['definition'];
  if (definition !== undefined && (typeof definition !== 'object' || definition === null || Array.isArray(definition))) {
    return fail('"definition" must be a JSON Schema object');
  }
  const data = c['data'] ?? [];
  if (!Array.isArray(data) || !data.every((r) => r && typeof r === 'object' && !Array.isArray(r))) {
    return fail('"data" must be a list of objects');
  }
  return {
    file: master.file,
    tenantId: c['tenantId'],
    schemaCode: c['schemaCode'],
    description: typeof c['description'] === 'string' ? c['description'] : null,
    definition: definition as SchemaDefinitionBody | undefined,
    data: data as Record<string, unknown>[],
  };
}

/**
 * Files whose records others reference come first, so references resolve within one seed. A
 * master may be split over several files (e.g. each module adds its own API actions); the file
 * with the definition comes first among them.
 */
function orderByReferences(masters: ParsedMaster[]): ParsedMaster[] {
  const byCode = new Map<string, ParsedMaster[]>();
  const sorted = [...masters].sort(
    (a, b) => Number(b.definition !== undefined) - Number(a.definition !== undefined) || a.file.localeCompare(b.file),
  );
  for (const master of sorted) byCode.set(master.schemaCode, [...(byCode.get(master.schemaCode) ?? []), master]);
  const ordered: ParsedMaster[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (master: ParsedMaster) => {
    if (state.get(master.file)) return; // done, or a reference cycle: keep file order
    state.set(master.file, 'visiting');
    const refs = byCode.get(master.schemaCode)?.flatMap((m) => (m.definition ? refSchemas(m.definition) : [])) ?? [];
    for (const ref of refs) for (const target of byCode.get(ref.schemaCode) ?? []) if (target.schemaCode !== master.schemaCode) visit(target);
    // The definition-bearing file of this master before the others.
    for (const sibling of byCode.get(master.schemaCode) ?? []) if (sibling !== master && sibling.definition && !state.get(sibling.file)) visit(sibling);
    state.set(master.file, 'done');
    ordered.push(master);
  };
  for (const master of sorted) visit(master);
  return ordered;
}

/**
 * Loads master files in one transaction: creates missing schemas and records, updates records
 * whose data changed, leaves identical ones alone. Any invalid file or record refuses the whole
 * seed, naming the file, the record and the reason; nothing is written then.
 */
export async function seedMasters(
  database: Database,
  service: MdmsService,
  files: readonly MasterFile[],
  actor: Actor,
): Promise<SeedReport> {
  const errors: ErrorDetail[] = [];
  const masters = files.map((f) => parse(f, errors)).filter((m): m is ParsedMaster => m !== undefined);
  if (errors.length > 0) throw new DomainError('invalid', errors);
  const report = { schemasCreated: 0, recordsCreated: 0, recordsUpdated: 0, recordsUnchanged: 0 };
  // The operator's own files, loaded by the platform: every tenant is in scope.
  const { createSchemaInTx, createDataInTx, updateDataInTx } = service.inTransaction;

  class Refused extends Error {}
  try {
    await database.transaction(async (tx) => {
      for (const master of orderByReferences(masters)) {
        const where = (index?: number) => (index === undefined ? master.file : `${master.file} record ${index + 1}`);
        const guard = async (index: number | undefined, work: () => Promise<void>) => {
          try {
            await work();
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
            for (const d of error.details) errors.push({ ...d, message: `${where(index)}: ${d.message}` });
          }
        };
        let definition = master.definition;
        await guard(undefined, async () => {
          const existing = await service.resolveSchema(tx, master.tenantId, master.schemaCode).catch(() => undefined);
          if (master.definition === undefined) {
            if (!existing) throw new DomainError('invalid', { code: 'SCHEMA_DEFINITION_NOT_FOUND_ERR', message: `no definition for ${master.schemaCode} in the file or the database` });
            definition = existing.definition as SchemaDefinitionBody;
          } else if (!existing || existing.tenant_id !== master.tenantId) {
            await createSchemaInTx(tx, { tenantId: master.tenantId, code: master.schemaCode, description: master.description, definition: master.definition }, actor, SYSTEM_SCOPE);
            report.schemasCreated++;
          } else if (!isDeepStrictEqual(existing.definition, master.definition)) {
            throw new DomainError('invalid', {
              code: 'SCHEMA_DEFINITION_CHANGED',
              message: `the definition of ${master.schemaCode} differs from the one stored; definitions cannot change, use a new schema code`,
            });
          }
        });
        if (!definition) continue;
        const seen = new Map<string, number>();
        for (const [index, data] of master.data.entries()) {
          await guard(index, async () => {
            const key = uniqueIdentifierOf(definition!, data);
            if (key !== undefined) {
              const first = seen.get(key);
              if (first !== undefined) {
                throw new DomainError('invalid', { code: 'DUPLICATE_RECORD', message: `unique identifier "${key}" is also used by record ${first + 1}` });
              }
              seen.set(key, index);
            }
            const existing = key === undefined ? undefined : await service.findByKey(tx, master.tenantId, master.schemaCode, key);
            if (!existing) {
              await createDataInTx(tx, master.schemaCode, { tenantId: master.tenantId, data }, actor, SYSTEM_SCOPE);
              report.recordsCreated++;
            } else if (isDeepStrictEqual(existing.data, data) && existing.is_active) {
              report.recordsUnchanged++;
            } else {
              const current = service.toMdms(existing);
              await updateDataInTx(tx, master.schemaCode, { ...current, data, isActive: true }, actor, SYSTEM_SCOPE);
              report.recordsUpdated++;
            }
          });
        }
      }
      if (errors.length > 0) throw new Refused();
    });
  } catch (error) {
    if (error instanceof Refused) throw new DomainError('invalid', errors);
    throw error;
  }
  return report;
}
