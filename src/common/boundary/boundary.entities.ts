import type { Tx } from '../../kernel/db.js';
import { invalid } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import { assertInScope, scopeKey, type Scope } from '../../kernel/scope.js';
import { parseGeometry } from './boundary.geometry.js';
import {
  CHANGE_TOPIC,
  DEFAULT_LIMIT,
  MAX_LIMIT,
  SOURCE,
  checkName,
  gather,
  isCode,
  push,
  splitCodes,
  toBoundary,
  type Actor,
  type WriteDeps,
} from './boundary.rules.js';
import type { Boundary, BoundaryInput } from './boundary.schema.js';
import { isUniqueViolation, type BoundaryStore, type EntityRow } from './boundary.store.js';

// Boundary entities (DIGIT's /boundary-service/boundary/_create, _update, _search): a code and
// its GeoJSON geometry per tenant.

export type BoundarySearchCriteria = {
  tenantId: string;
  codes?: readonly string[] | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
};

/** The code's and the geometry's checks, each reported on its own; the parsed geometry lands in `geometries`. */
function entityChecks(input: BoundaryInput, i: number, geometries: Map<number, unknown>): Array<() => void> {
  return [
    () => checkName(input.code, 'code', 'INVALID_BOUNDARY_CODE', `Boundary[${i}].code`),
    () => void geometries.set(i, parseGeometry(input.geometry, `Boundary[${i}].geometry`)),
  ];
}

const duplicateInRequest = (input: BoundaryInput, i: number) =>
  invalid('DUPLICATE_BOUNDARY', `Boundary[${i}]: ${input.code} at ${input.tenantId} appears more than once in the request`, [input.code]);

export async function createBoundariesInTx(
  { store, clock, outbox, changes }: WriteDeps,
  tx: Tx,
  inputs: readonly BoundaryInput[],
  actor: Actor,
  scope: Scope,
): Promise<Boundary[]> {
  for (const input of inputs) assertInScope(scope, input.tenantId);
  const db = store.runner(tx);
  const seen = new Set<string>();
  const geometries = new Map<number, unknown>();
  await gather(
    inputs.flatMap((input, i) => [
      ...entityChecks(input, i, geometries),
      () => {
        const key = `${input.tenantId}\u0000${input.code}`;
        if (seen.has(key)) throw duplicateInRequest(input, i);
        seen.add(key);
      },
    ]),
  );
  const byTenant = new Map<string, string[]>();
  for (const input of inputs) push(byTenant, input.tenantId, input.code);
  await gather(
    [...byTenant].map(([tenantId, codes]) => async () => {
      const existing = await store.findEntities(db, tenantId, codes, scope);
      if (existing.length > 0) {
        const taken = existing.map((e) => e.code);
        throw invalid(
          'DUPLICATE_CODE',
          `Boundary entity with same code and tenantId already exists: (${tenantId}, [${taken.join(', ')}])`,
          taken,
        );
      }
    }),
  );
  const now = clock.now();
  const rows: EntityRow[] = inputs.map((input, i) => ({
    id: newId(),
    tenant_id: input.tenantId,
    code: input.code,
    geometry: geometries.get(i) ?? null,
    additional_details: input.additionalDetails ?? null,
    created_by: actor.uuid,
    last_modified_by: actor.uuid,
    created_time: now,
    last_modified_time: now,
  }));
  try {
    await store.insertEntities(db, rows, scope);
  } catch (error) {
    if (isUniqueViolation(error))
      throw invalid('DUPLICATE_CODE', 'Boundary entity with same code and tenantId already exists (created concurrently)');
    throw error;
  }
  const created = rows.map(toBoundary);
  for (const boundary of created) {
    await outbox.append(tx, {
      type: 'plinth.boundary.entity.created.v1',
      source: SOURCE,
      subject: boundary.id,
      tenantId: boundary.tenantId,
      data: boundary,
    });
  }
  await changes.publish(tx, CHANGE_TOPIC);
  return created;
}

/** Omitted `geometry` or `additionalDetails` keep their stored value; null clears them. */
export async function updateBoundariesInTx(
  { store, clock, outbox, changes }: WriteDeps,
  tx: Tx,
  inputs: readonly BoundaryInput[],
  actor: Actor,
  scope: Scope,
): Promise<Boundary[]> {
  for (const input of inputs) assertInScope(scope, input.tenantId);
  const db = store.runner(tx);
  const found = new Map<number, EntityRow>();
  const geometries = new Map<number, unknown>();
  const seen = new Set<string>();
  await gather(inputs.flatMap((input, i) => entityChecks(input, i, geometries)));
  await gather(
    inputs.map((input, i) => async () => {
      const key = `${input.tenantId}\u0000${input.code}`;
      if (seen.has(key)) throw duplicateInRequest(input, i);
      seen.add(key);
      const [row] = await store.findEntities(db, input.tenantId, [input.code], scope);
      if (!row) {
        throw invalid('NOT_FOUND_CODE_AND_TENANT_ID_CODE', `Tenant Id and Code combination not found: (${input.tenantId}, ${input.code})`, [
          input.code,
        ]);
      }
      found.set(i, row);
    }),
  );
  const now = clock.now();
  const updated: Boundary[] = [];
  for (const [i, input] of inputs.entries()) {
    const row = found.get(i)!;
    const changesToRow = {
      geometry: input.geometry === undefined ? row.geometry : geometries.get(i),
      additional_details: input.additionalDetails === undefined ? row.additional_details : input.additionalDetails,
      last_modified_by: actor.uuid,
      last_modified_time: now,
    };
    await store.updateEntity(db, row.id, changesToRow, scope);
    const boundary = toBoundary({ ...row, ...changesToRow });
    await outbox.append(tx, {
      type: 'plinth.boundary.entity.updated.v1',
      source: SOURCE,
      subject: boundary.id,
      tenantId: boundary.tenantId,
      data: boundary,
    });
    updated.push(boundary);
  }
  await changes.publish(tx, CHANGE_TOPIC);
  return updated;
}

/** Reads through the service's answer cache: `cached(key, size, load)`. */
export type Cached = <T extends object>(key: string, size: (value: T) => number, load: () => Promise<T>) => Promise<T>;

/** By tenant and codes (comma-separated codes are split), newest first; without codes, a page of all. */
export async function searchBoundaries(
  { store, cached }: { store: BoundaryStore; cached: Cached },
  criteria: BoundarySearchCriteria,
  scope: Scope,
): Promise<Boundary[]> {
  const asked = splitCodes(criteria.codes);
  // A code that breaks the naming rule cannot exist: leave it out rather than query for it.
  const codes = asked?.filter(isCode);
  if (codes && codes.length === 0) return [];
  const offset = criteria.offset ?? 0;
  // As DIGIT, an over-large limit is clamped; asking for codes returns all of them by default.
  const limit = Math.min(criteria.limit ?? Math.max(DEFAULT_LIMIT, codes?.length ?? 0), MAX_LIMIT);
  return cached(
    `entities|${scopeKey(scope)}|${JSON.stringify([criteria.tenantId, codes ?? null, offset, limit])}`,
    (found: Boundary[]) => found.length,
    async () => (await store.searchEntities(store.runner(), { tenantId: criteria.tenantId, codes, offset, limit }, scope)).map(toBoundary),
  );
}
