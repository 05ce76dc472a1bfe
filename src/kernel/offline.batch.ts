import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { DomainError, invalid } from './errors.js';
import { firstOfEachKey, recordError, type RecordError, type Refusal } from './offline.js';
import { assertKnownTenant, type TenantDirectory } from './tenancy.js';

/**
 * What every offline registry (individual, household, member, task, …) does to a batch before it
 * writes: per-record parsing, tenant checks, de-duplication within the batch, and the answer's
 * shape. The writes themselves (resends, the row-version lock, tombstones, races) are in
 * offline.write.ts. A registry keeps its own rules (which fields, which extra checks, which
 * events) and hands them in as callbacks.
 */

/** Who is writing: a user's uuid, or null for the system (e.g. a scheduler acting on an event). */
export type Actor = { uuid: string | null };

/** A bulk call's answer: the records accepted (in request order) and the ones refused, each with its reason. */
export type BulkResult<T> = { accepted: T[]; errors: RecordError[] };

/** One record of a batch, once its shape is known to be right. */
export type Parsed<T> = { index: number; record: T };

/** A refusal of one record, in the batch's answer. */
export type Refused = {
  index: number;
  record: { clientReferenceId?: string | null | undefined; id?: string | null | undefined } | undefined;
  refusal: Refusal;
};

/** What a record of update or delete names itself by. */
export type NamedRecord = {
  tenantId: string;
  id?: string | null | undefined;
  clientReferenceId?: string | null | undefined;
  rowVersion?: number | null | undefined;
};

/** Tenant and key in one string, for de-duplicating a batch across tenants. */
export const batchKey = (tenantId: string, value: string) => `${tenantId}\u0000${value}`;

const compiled = new WeakMap<TSchema, ReturnType<typeof Compile>>();
function validatorOf(schema: TSchema) {
  let validator = compiled.get(schema);
  if (!validator) compiled.set(schema, (validator = Compile(schema)));
  return validator;
}

/** Checks each record against its schema, so one malformed record is refused alone instead of failing the call. */
export function parseBatch<T>(schema: TSchema, records: readonly unknown[]): { parsed: Array<Parsed<T>>; refused: Refused[] } {
  const validator = validatorOf(schema);
  const parsed: Array<Parsed<T>> = [];
  const refused: Refused[] = [];
  records.forEach((record, index) => {
    if (validator.Check(record)) {
      parsed.push({ index, record: record as T });
      return;
    }
    const issues = validator
      .Errors(record)
      .slice(0, 5)
      .map((issue) => `${issue.instancePath.split('/').filter(Boolean).join('.') || 'the record'} ${issue.message}`);
    const loose = record && typeof record === 'object' ? (record as Record<string, unknown>) : {};
    const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 64) : null);
    refused.push({
      index,
      record: { clientReferenceId: text(loose['clientReferenceId']), id: text(loose['id']) },
      refusal: { code: 'INVALID_REQUEST', message: issues.join('; ') || 'the record is invalid' },
    });
  });
  return { parsed, refused };
}

/** Per call: each tenant is checked once; an unknown one refuses its records, not the batch. */
export function tenantChecker(tenants: TenantDirectory) {
  const seen = new Map<string, Refusal | null>();
  return async (tenantId: string): Promise<Refusal | undefined> => {
    if (!seen.has(tenantId)) {
      try {
        await assertKnownTenant(tenants, tenantId);
        seen.set(tenantId, null);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        seen.set(tenantId, { code: error.code, message: error.message });
      }
    }
    return seen.get(tenantId) ?? undefined;
  };
}

/** The records of a known tenant; the others are refused. */
export async function knownTenants<T extends { tenantId: string }>(
  tenants: TenantDirectory,
  items: ReadonlyArray<Parsed<T>>,
  refused: Refused[],
): Promise<Array<Parsed<T>>> {
  const tenantOk = tenantChecker(tenants);
  const ok: Array<Parsed<T>> = [];
  for (const item of items) {
    const refusal = await tenantOk(item.record.tenantId);
    if (refusal) refused.push({ index: item.index, record: item.record as Refused['record'], refusal });
    else ok.push(item);
  }
  return ok;
}

export function toErrors(refused: readonly Refused[]): RecordError[] {
  return [...refused].sort((a, b) => a.index - b.index).map((r) => recordError(r.index, r.record, r.refusal));
}

/** Groups a batch by tenant, keeping request order inside each group. */
export function byTenant<T extends { tenantId: string }>(items: ReadonlyArray<Parsed<T>>): Map<string, Array<Parsed<T>>> {
  const groups = new Map<string, Array<Parsed<T>>>();
  for (const item of items) {
    const list = groups.get(item.record.tenantId);
    if (list) list.push(item);
    else groups.set(item.record.tenantId, [item]);
  }
  return groups;
}

/** The accepted rows in request order, as the registry answers them. */
export function inRequestOrder<Row, T>(accepted: ReadonlyMap<number, Row>, answer: (row: Row) => T): T[] {
  return [...accepted.entries()].sort(([a], [b]) => a - b).map(([, row]) => answer(row));
}

/** DIGIT's search URLParams: limit 0 answers only the count. */
export function pageOf(params: { limit?: number | undefined; offset?: number | undefined }): { offset: number; limit: number } {
  return { offset: params.offset ?? 0, limit: Math.min(params.limit ?? 100, 1000) };
}

/** `undefined` for "no filter", a de-duplicated list otherwise (DIGIT sends nulls or empty lists for absent filters). */
export function listFilter(values: readonly string[] | string | null | undefined): string[] | undefined {
  if (typeof values === 'string') return [values];
  return values === null || values === undefined || values.length === 0 ? undefined : [...new Set(values)];
}

function keepFirstOfEach<T extends { tenantId: string }>(
  items: ReadonlyArray<Parsed<T>>,
  refused: Refused[],
  keyOf: (record: T) => string,
): Array<Parsed<T>> {
  const unique = firstOfEachKey(items, (item) => batchKey(item.record.tenantId, keyOf(item.record)), 'DUPLICATE_ENTITY');
  for (const { record: item } of unique.refused) {
    // Worded with the record's own key: the batch key also holds the tenant.
    const message = `"${keyOf(item.record)}" appears more than once in this batch; the first one was kept`;
    refused.push({ index: item.index, record: item.record as Refused['record'], refusal: { code: 'DUPLICATE_ENTITY', message } });
  }
  return unique.kept.map((k) => k.record);
}

/**
 * Records of a create: each needs a clientReferenceId (it makes a resend safe), passes the
 * registry's `problem`, and is kept once per batch.
 */
export function withClientReference<T extends { tenantId: string; clientReferenceId?: string | null | undefined }>(
  parsed: ReadonlyArray<Parsed<T>>,
  refused: Refused[],
  problem?: (record: T) => Refusal | undefined,
): Array<Parsed<T>> {
  const ok: Array<Parsed<T>> = [];
  for (const item of parsed) {
    const refusal: Refusal | undefined = item.record.clientReferenceId
      ? problem?.(item.record)
      : { code: 'MISSING_CLIENT_REFERENCE_ID', message: 'clientReferenceId is required: it makes a re-sent create safe' };
    if (refusal) refused.push({ ...item, refusal });
    else ok.push(item);
  }
  return keepFirstOfEach(ok, refused, (record) => record.clientReferenceId!);
}

/**
 * Records of an update or delete: each named by id or client reference id (`entity` and `verb`
 * word the refusal), passing the registry's `problem`, and kept once per batch.
 */
export function namedOnce<T extends NamedRecord>(
  parsed: ReadonlyArray<Parsed<T>>,
  refused: Refused[],
  words: { entity: string; verb: string },
  problem?: (record: T) => Refusal | undefined,
): Array<Parsed<T>> {
  const ok: Array<Parsed<T>> = [];
  for (const item of parsed) {
    const refusal: Refusal | undefined =
      !item.record.id && !item.record.clientReferenceId
        ? { code: 'NULL_ID', message: `id (or clientReferenceId) is required to ${words.verb} a ${words.entity}` }
        : problem?.(item.record);
    if (refusal) refused.push({ ...item, refusal });
    else ok.push(item);
  }
  return keepFirstOfEach(ok, refused, (record) => record.id ?? `ref:${record.clientReferenceId}`);
}

/** A registry search: a known tenant in the URL, and a body tenantId (if any) that agrees with it. */
export async function assertSearchTenant(tenants: TenantDirectory, bodyTenantId: string | null | undefined, urlTenantId: string) {
  await assertKnownTenant(tenants, urlTenantId);
  if (bodyTenantId && bodyTenantId !== urlTenantId) {
    throw invalid('INVALID_TENANT_ID', `The body's tenantId ${bodyTenantId} differs from the URL's ${urlTenantId}`, [bodyTenantId]);
  }
}

/** DIGIT's Address as a device sends it (each registry validates its own shape). */
export type AddressFields = {
  clientReferenceId?: string | null | undefined;
  doorNo?: string | null | undefined;
  latitude?: number | null | undefined;
  longitude?: number | null | undefined;
  locationAccuracy?: number | null | undefined;
  type?: string | null | undefined;
  addressLine1?: string | null | undefined;
  addressLine2?: string | null | undefined;
  landmark?: string | null | undefined;
  city?: string | null | undefined;
  pincode?: string | null | undefined;
  buildingName?: string | null | undefined;
  street?: string | null | undefined;
  locality?: { code: string } | null | undefined;
};

/** The address as stored and answered: DIGIT's fields only (extra ones dropped), in the record's tenant, under the server's `id`. */
export function storedAddress(a: AddressFields, tenantId: string, id: string) {
  return {
    id,
    clientReferenceId: a.clientReferenceId ?? null,
    tenantId,
    doorNo: a.doorNo ?? null,
    latitude: a.latitude ?? null,
    longitude: a.longitude ?? null,
    locationAccuracy: a.locationAccuracy ?? null,
    type: a.type ?? null,
    addressLine1: a.addressLine1 ?? null,
    addressLine2: a.addressLine2 ?? null,
    landmark: a.landmark ?? null,
    city: a.city ?? null,
    pincode: a.pincode ?? null,
    buildingName: a.buildingName ?? null,
    street: a.street ?? null,
    locality: a.locality ? { code: a.locality.code } : null,
  };
}
