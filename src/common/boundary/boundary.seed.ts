import { isDeepStrictEqual } from 'node:util';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import type { SeedFile } from '../../kernel/module.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { parseGeometry } from './boundary.geometry.js';
import type { BoundaryHierarchyInput, BoundaryInput, BoundaryRelationInput } from './boundary.schema.js';
import type { Actor, BoundaryService } from './boundary.service.js';
import { hierarchyOrder } from './boundary.tree.js';

export type BoundarySeedReport = {
  readonly hierarchiesCreated: number;
  readonly hierarchiesUnchanged: number;
  readonly boundariesCreated: number;
  readonly boundariesUpdated: number;
  readonly boundariesUnchanged: number;
  readonly relationshipsCreated: number;
  readonly relationshipsUpdated: number;
  readonly relationshipsUnchanged: number;
};

type SeedRelation = { code: string; boundaryType: string; parent: string | null };
type SeedHierarchy = {
  hierarchyType: string;
  boundaryHierarchy: BoundaryHierarchyInput['boundaryHierarchy'];
  relationships: SeedRelation[];
};
type ParsedFile = {
  file: string;
  tenantId: string;
  boundaries: Array<{ code: string; geometry: unknown; additionalDetails: Record<string, unknown> | null }>;
  hierarchies: SeedHierarchy[];
};

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isOptionalString = (value: unknown) => value === undefined || value === null || typeof value === 'string';

/** Checks a file's shape (see seed/README.md); the records' rules are the service's. */
function parse(seed: SeedFile, errors: ErrorDetail[]): ParsedFile | undefined {
  const fail = (message: string) => {
    errors.push({ code: 'INVALID_SEED_FILE', message: `${seed.file}: ${message}`, params: [seed.file] });
    return undefined;
  };
  const c = seed.content;
  if (!isRecord(c)) return fail('must be a JSON object');
  if (typeof c['tenantId'] !== 'string') return fail('"tenantId" must be a string');
  const boundaries = c['boundaries'] ?? [];
  const hierarchies = c['hierarchies'] ?? [];
  if (!Array.isArray(boundaries)) return fail('"boundaries" must be a list');
  if (!Array.isArray(hierarchies)) return fail('"hierarchies" must be a list');
  for (const [i, b] of boundaries.entries()) {
    if (!isRecord(b) || typeof b['code'] !== 'string') return fail(`boundary ${i + 1} must be an object with a string "code"`);
    if (b['additionalDetails'] !== undefined && b['additionalDetails'] !== null && !isRecord(b['additionalDetails'])) {
      return fail(`boundary ${i + 1} (${b['code']}): "additionalDetails" must be an object`);
    }
  }
  for (const [i, h] of hierarchies.entries()) {
    if (!isRecord(h) || typeof h['hierarchyType'] !== 'string')
      return fail(`hierarchy ${i + 1} must be an object with a string "hierarchyType"`);
    const levels = h['boundaryHierarchy'];
    if (
      !Array.isArray(levels) ||
      !levels.every((l) => isRecord(l) && typeof l['boundaryType'] === 'string' && isOptionalString(l['parentBoundaryType']))
    ) {
      return fail(`hierarchy ${h['hierarchyType']}: "boundaryHierarchy" must be a list of {boundaryType, parentBoundaryType, active}`);
    }
    const relationships = h['relationships'] ?? [];
    if (
      !Array.isArray(relationships) ||
      !relationships.every(
        (r) => isRecord(r) && typeof r['code'] === 'string' && typeof r['boundaryType'] === 'string' && isOptionalString(r['parent']),
      )
    ) {
      return fail(`hierarchy ${h['hierarchyType']}: "relationships" must be a list of {code, boundaryType, parent}`);
    }
  }
  return {
    file: seed.file,
    tenantId: c['tenantId'],
    boundaries: (boundaries as Record<string, unknown>[]).map((b) => ({
      code: b['code'] as string,
      geometry: b['geometry'] ?? null,
      additionalDetails: (b['additionalDetails'] as Record<string, unknown> | null | undefined) ?? null,
    })),
    hierarchies: (hierarchies as Record<string, unknown>[]).map((h) => ({
      hierarchyType: h['hierarchyType'] as string,
      boundaryHierarchy: h['boundaryHierarchy'] as SeedHierarchy['boundaryHierarchy'],
      relationships: ((h['relationships'] ?? []) as Record<string, unknown>[]).map((r) => ({
        code: r['code'] as string,
        boundaryType: r['boundaryType'] as string,
        parent: (r['parent'] as string | null | undefined) || null,
      })),
    })),
  };
}

const levels = (list: SeedHierarchy['boundaryHierarchy']) =>
  list.map((l) => ({ boundaryType: l.boundaryType, parentBoundaryType: l.parentBoundaryType || null, active: l.active ?? true }));

function sameGeometry(stored: unknown, given: unknown): boolean {
  try {
    return isDeepStrictEqual(stored ?? null, parseGeometry(given));
  } catch {
    // Not equal: the update path refuses it with the reason.
    return false;
  }
}

/**
 * Loads boundary seed files in one transaction: creates missing hierarchies, boundaries and
 * relationships, updates boundaries and relationships that differ, leaves identical ones alone.
 * A hierarchy definition cannot change once loaded. Any invalid file or record refuses the whole
 * seed, naming the file, the record and the reason; nothing is written then.
 */
export async function seedBoundaries(
  database: Database,
  service: BoundaryService,
  files: readonly SeedFile[],
  actor: Actor,
): Promise<BoundarySeedReport> {
  const errors: ErrorDetail[] = [];
  const parsed = files.map((f) => parse(f, errors)).filter((f): f is ParsedFile => f !== undefined);
  if (errors.length > 0) throw new DomainError('invalid', errors);

  const firstSeen = new Map<string, string>();
  for (const f of parsed) {
    for (const b of f.boundaries) {
      const key = `${f.tenantId}\u0000${b.code}`;
      const where = firstSeen.get(key);
      if (where)
        errors.push({
          code: 'DUPLICATE_BOUNDARY',
          message: `${f.file}: boundary ${b.code} at ${f.tenantId} is also defined in ${where}`,
          params: [b.code],
        });
      else firstSeen.set(key, f.file);
    }
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);
  for (const f of parsed) {
    await service.checkTenants([f.tenantId]).catch((error: unknown) => {
      if (!(error instanceof DomainError)) throw error;
      for (const d of error.details) errors.push({ ...d, message: `${f.file}: ${d.message}` });
    });
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);

  const report = {
    hierarchiesCreated: 0,
    hierarchiesUnchanged: 0,
    boundariesCreated: 0,
    boundariesUpdated: 0,
    boundariesUnchanged: 0,
    relationshipsCreated: 0,
    relationshipsUpdated: 0,
    relationshipsUnchanged: 0,
  };
  const io = service.inTransaction;

  class Refused extends Error {}
  try {
    await database.transaction(async (tx: Tx) => {
      const guard = async (where: string, work: () => Promise<void>) => {
        try {
          await work();
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          for (const d of error.details) errors.push({ ...d, message: `${where}: ${d.message}` });
        }
      };
      for (const f of parsed) {
        for (const h of f.hierarchies) {
          await guard(`${f.file} hierarchy ${h.hierarchyType}`, async () => {
            const existing = await io.findHierarchy(tx, f.tenantId, h.hierarchyType, SYSTEM_SCOPE);
            if (!existing) {
              await io.createHierarchyInTx(
                tx,
                { tenantId: f.tenantId, hierarchyType: h.hierarchyType, boundaryHierarchy: h.boundaryHierarchy },
                actor,
                SYSTEM_SCOPE,
              );
              report.hierarchiesCreated++;
            } else if (isDeepStrictEqual(existing.boundary_hierarchy, levels(h.boundaryHierarchy))) {
              report.hierarchiesUnchanged++;
            } else {
              throw new DomainError('invalid', {
                code: 'HIERARCHY_DEFINITION_CHANGED',
                message: `the definition differs from the one stored; hierarchy definitions cannot change, use a new hierarchyType`,
              });
            }
          });
        }
        for (const [i, b] of f.boundaries.entries()) {
          await guard(`${f.file} boundary ${i + 1} (${b.code})`, async () => {
            const input: BoundaryInput = {
              tenantId: f.tenantId,
              code: b.code,
              geometry: b.geometry,
              additionalDetails: b.additionalDetails,
            };
            const existing = await io.findEntity(tx, f.tenantId, b.code, SYSTEM_SCOPE);
            if (!existing) {
              await io.createBoundariesInTx(tx, [input], actor, SYSTEM_SCOPE);
              report.boundariesCreated++;
            } else if (
              sameGeometry(existing.geometry, b.geometry) &&
              isDeepStrictEqual(existing.additional_details ?? null, b.additionalDetails)
            ) {
              report.boundariesUnchanged++;
            } else {
              await io.updateBoundariesInTx(tx, [input], actor, SYSTEM_SCOPE);
              report.boundariesUpdated++;
            }
          });
        }
      }
      // Relationships after every file's boundaries, parents' levels before their children's.
      for (const f of parsed) {
        for (const h of f.hierarchies) {
          const { order } = hierarchyOrder(levels(h.boundaryHierarchy));
          const depth = (type: string) => (order.includes(type) ? order.indexOf(type) : order.length);
          const ranked = h.relationships
            .map((r, i) => ({ r, i }))
            .sort((a, b) => depth(a.r.boundaryType) - depth(b.r.boundaryType) || a.i - b.i);
          for (const { r, i } of ranked) {
            await guard(`${f.file} ${h.hierarchyType} relationship ${i + 1} (${r.code})`, async () => {
              const input: BoundaryRelationInput = {
                tenantId: f.tenantId,
                hierarchyType: h.hierarchyType,
                code: r.code,
                boundaryType: r.boundaryType,
                parent: r.parent,
              };
              const existing = await io.findRelationship(tx, f.tenantId, h.hierarchyType, r.code, SYSTEM_SCOPE);
              if (!existing) {
                await io.createRelationshipInTx(tx, input, actor, SYSTEM_SCOPE);
                report.relationshipsCreated++;
              } else if (existing.boundary_type === r.boundaryType && existing.parent === r.parent) {
                report.relationshipsUnchanged++;
              } else {
                await io.updateRelationshipInTx(tx, input, actor, SYSTEM_SCOPE);
                report.relationshipsUpdated++;
              }
            });
          }
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
