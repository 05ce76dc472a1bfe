import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import { DomainError, invalid, type ErrorDetail } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { publicScope, type Scope } from '../../kernel/scope.js';
import type { Boundary, BoundaryHierarchy, BoundaryRelation } from './boundary.schema.js';
import type { BoundaryStore, EntityRow, HierarchyRow, RelationshipRow } from './boundary.store.js';

// What every boundary operation shares: naming rules, limits, list helpers and the row → DIGIT
// answer mappers. Pure functions only; the operations live in boundary.entities.ts,
// boundary.hierarchies.ts, boundary.relationships.ts and boundary.treeindex.ts.

/** Who is writing; null for the seed loader. */
export type Actor = { uuid: string | null };

/**
 * Boundaries are public reference data (DIGIT's UIs load a city's localities before login): a read
 * of one tenant's boundaries reaches that tenant, whoever asks. Writes take the caller's scope.
 */
export const readableFrom = (tenantId: string): Scope => publicScope([tenantId]);

/** What a write operation needs: it runs in the caller's transaction and announces what it did. */
export type WriteDeps = { store: BoundaryStore; clock: Clock; outbox: Outbox; changes: ChangeFeed };

export const DEFAULT_LIMIT = 10;
export const MAX_LIMIT = 1000;
const MAX_CODES = 1000;
export const SOURCE = '/plinth/boundary';
/** Every write publishes it; the read caches listen to it. */
export const CHANGE_TOPIC = 'boundary';

/**
 * Boundary codes and type names: letters, digits and `_ . - : / ( )`, single inner spaces. No '|'
 * (DIGIT's path delimiter) and ASCII only, so a stored path's character prefix is a path prefix.
 */
const NAME = /^[A-Za-z0-9_.:/()-]+( [A-Za-z0-9_.:/()-]+)*$/;
export const isCode = (value: string) => value.length <= 128 && NAME.test(value);
export const isTypeName = (value: string) => value.length <= 64 && NAME.test(value);

export function checkName(value: string, kind: 'code' | 'type', code: string, field: string): void {
  if (!(kind === 'code' ? isCode(value) : isTypeName(value))) {
    throw invalid(
      code,
      `${field} "${value.slice(0, 140)}" must be ${kind === 'code' ? 'at most 128' : 'at most 64'} characters of letters, digits, spaces and _ . - : / ( ) (no '|', no leading, trailing or double spaces)`,
      [field],
    );
  }
}

/** A relationship's ancestors, root first. */
export function pathOf(row: Pick<RelationshipRow, 'ancestral_path'>): string[] {
  return row.ancestral_path === '' ? [] : row.ancestral_path.split('|');
}

export function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** `codes=A,B&codes=C` → [A, B, C]: DIGIT clients send lists comma-separated in one parameter. */
export function splitCodes(codes: readonly string[] | undefined): string[] | undefined {
  if (codes === undefined) return undefined;
  const all = [
    ...new Set(
      codes
        .flatMap((c) => c.split(','))
        .map((c) => c.trim())
        .filter((c) => c !== ''),
    ),
  ];
  if (all.length > MAX_CODES)
    throw invalid('TOO_MANY_CODES', `At most ${MAX_CODES} codes may be searched at once; ${all.length} were sent`);
  return all.length === 0 ? undefined : all;
}

/** Runs each check, gathering DomainErrors so that one answer lists every problem. */
export async function gather(checks: Array<() => unknown>): Promise<void> {
  const errors: ErrorDetail[] = [];
  for (const check of checks) {
    try {
      await check();
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      errors.push(...error.details);
    }
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);
}

export function toBoundary(row: EntityRow): Boundary {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    code: row.code,
    geometry: row.geometry ?? null,
    auditDetails: auditDetailsOf(row),
    additionalDetails: row.additional_details ?? null,
  };
}

export function toHierarchy(row: HierarchyRow): BoundaryHierarchy {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    hierarchyType: row.hierarchy_type,
    boundaryHierarchy: row.boundary_hierarchy,
    auditDetails: auditDetailsOf(row),
  };
}

export function toRelation(row: RelationshipRow): BoundaryRelation {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    code: row.code,
    hierarchyType: row.hierarchy_type,
    boundaryType: row.boundary_type,
    parent: row.parent,
    auditDetails: auditDetailsOf(row),
  };
}
