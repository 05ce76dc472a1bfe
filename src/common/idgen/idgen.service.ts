import type { Clock } from '../../kernel/clock.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import type { Database, Tx } from '../../kernel/db.js';
import { invalid } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import { assertKnownTenant, stateTenantOf, tenantLineage } from '../../kernel/tenancy.js';
import { assertInScope, SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import type { MdmsService } from '../mdms/index.js';
import { localTime, paddingOf, parseFormat, renderIds, sequenceKeys, usesCity, DEFAULT_PADDING, type Token } from './idgen.format.js';
import { MAX_IDS_PER_CALL, type Reservation } from './idgen.schema.js';
import type { IdgenStore, ReservationRow } from './idgen.store.js';

/** Who is writing; null for the system itself. */
export type Actor = { uuid: string | null };

export type IdRequestInput = { idName: string; tenantId: string; format?: string | null | undefined; count?: number | null | undefined };

export type ReservationRequest = {
  tenantId: string;
  idName: string;
  format?: string | null | undefined;
  count: number;
  deviceId?: string | null | undefined;
  expiresInDays?: number | null | undefined;
};

export type ReservationSearch = {
  tenantId: string;
  ids?: readonly string[] | null | undefined;
  idName?: string | null | undefined;
  deviceId?: string | null | undefined;
  reservedId?: string | null | undefined;
  includeIds?: boolean | null | undefined;
  offset?: number | null | undefined;
  limit?: number | null | undefined;
};

export type IdgenServiceDeps = {
  database: Database;
  store: IdgenStore;
  clock: Clock;
  mdms: MdmsService;
  /** Where `[cy:…]` and `[fy:…]` read the calendar; DIGIT's `id.timezone` is IST. */
  timeZone: string;
};

/** DHIS2 keeps reserved values 60 days unless told otherwise. */
export const DEFAULT_RESERVATION_DAYS = 60;
const DAY_MS = 86_400_000;

const FORMAT_MODULE = 'common-masters';
const FORMAT_MASTER = 'IdFormat';
const TENANT_MODULE = 'tenant';
const TENANT_MASTER = 'tenants';

type ConfiguredFormat = { format: string; padding: number };

/** One request, checked and compiled, before any number is drawn. */
type Plan = {
  tenantId: string;
  /** Counters are per state tenant: DIGIT's sequences are global to its database, which serves one state; a multi-state instance gets one set per state. */
  state: string;
  idName: string;
  format: string;
  tokens: Token[];
  count: number;
  padding: number;
  /** Configured formats may create their counters; a caller's own format may only use existing ones. */
  fromConfig: boolean;
  cityCode: string | undefined;
};

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function createIdgenService({ database, store, clock, mdms, timeZone }: IdgenServiceDeps) {
  // MDMS answers v1 searches from its cache (same array until master data changes), so an index
  // per answer stays valid exactly as long as the answer does.
  const formatIndexes = new WeakMap<readonly unknown[], Map<string, ConfiguredFormat>>();

  function indexFormats(records: readonly unknown[]): Map<string, ConfiguredFormat> {
    let index = formatIndexes.get(records);
    if (!index) {
      index = new Map();
      for (const record of records) {
        if (!isRecord(record) || typeof record['idname'] !== 'string' || typeof record['format'] !== 'string') continue;
        // First record wins, as DIGIT reads element 0 of its filtered list.
        if (!index.has(record['idname'])) index.set(record['idname'], { format: record['format'], padding: paddingOf(record['padding']) });
      }
      formatIndexes.set(records, index);
    }
    return index;
  }

  /** MDMS `common-masters.IdFormat` by idname: the tenant's own record, else its state's. */
  async function configuredFormat(idName: string, tenantId: string): Promise<ConfiguredFormat | undefined> {
    for (const tenant of tenantLineage(tenantId)) {
      const res = await mdms.searchV1(
        {
          tenantId: tenant,
          moduleDetails: [{ moduleName: FORMAT_MODULE, masterDetails: [{ name: FORMAT_MASTER }] }],
        },
        SYSTEM_SCOPE,
      );
      const found = indexFormats(res[FORMAT_MODULE]?.[FORMAT_MASTER] ?? []).get(idName);
      if (found) return found;
    }
    return undefined;
  }

  /** `tenant.tenants[code == tenantId].city.code`, as DIGIT's `[city]`. */
  async function cityCodeOf(tenantId: string): Promise<string> {
    const res = await mdms.searchV1(
      { tenantId, moduleDetails: [{ moduleName: TENANT_MODULE, masterDetails: [{ name: TENANT_MASTER }] }] },
      SYSTEM_SCOPE,
    );
    const tenant = (res[TENANT_MODULE]?.[TENANT_MASTER] ?? []).find((t) => isRecord(t) && t['code'] === tenantId);
    const city = isRecord(tenant) ? tenant['city'] : undefined;
    const code = isRecord(city) ? city['code'] : undefined;
    if ((typeof code !== 'string' || code === '') && typeof code !== 'number') {
      throw invalid('PARSING ERROR', `Failed to get citycode from MDMS: tenant ${tenantId} has no city.code in tenant.tenants`, [tenantId]);
    }
    return String(code);
  }

  async function plan(request: IdRequestInput): Promise<Plan> {
    const { tenantId, idName } = request;
    await assertKnownTenant(mdms.tenants, tenantId);
    const configured = idName !== '' ? await configuredFormat(idName, tenantId) : undefined;
    const format = configured?.format ?? request.format ?? '';
    if (format.trim() === '') {
      throw invalid(
        'ID_NOT_FOUND',
        `No Format is available in the MDMS for the given name and tenant (idName "${idName}", tenant ${tenantId})`,
        [idName, tenantId],
      );
    }
    const tokens = parseFormat(format, tenantId);
    return {
      tenantId,
      state: stateTenantOf(tenantId),
      idName,
      format,
      tokens,
      count: request.count ?? 1,
      padding: configured?.padding ?? DEFAULT_PADDING,
      fromConfig: configured !== undefined,
      cityCode: usesCity(tokens) ? await cityCodeOf(tenantId) : undefined,
    };
  }

  /**
   * Draws every counter the plans need, in one transaction: one statement per counter whatever
   * the count, counters taken in a fixed order so two callers can never deadlock on each other.
   * Answers each plan's ids in order.
   */
  async function draw(tx: Tx, plans: readonly Plan[]): Promise<string[][]> {
    type Demand = { state: string; key: string; name: string; total: number; mayCreate: boolean; values: number[] };
    const demands = new Map<string, Demand>();
    for (const p of plans) {
      for (const key of sequenceKeys(p.tokens)) {
        const id = `${p.state}\u0000${key}`;
        const name = p.tokens.find((t): t is Extract<Token, { kind: 'seq' }> => t.kind === 'seq' && t.key === key)?.name ?? key;
        const demand = demands.get(id) ?? { state: p.state, key, name, total: 0, mayCreate: false, values: [] };
        demand.total += p.count;
        demand.mayCreate ||= p.fromConfig;
        demands.set(id, demand);
      }
    }
    const now = clock.now();
    const db = store.runner(tx);
    const ordered = [...demands.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [, demand] of ordered) {
      const last = demand.mayCreate
        ? await store.takeCreating(db, demand.state, demand.key, demand.total, now)
        : await store.take(db, demand.state, demand.key, demand.total, now);
      if (last === undefined) {
        const shown = demand.name;
        throw invalid(
          'SEQ_DOES_NOT_EXIST',
          `Sequence ${shown} does not exist for state ${demand.state}: a format sent in the request may only use an existing sequence (formats configured in MDMS common-masters.IdFormat create theirs; seed/idgen creates others)`,
          [shown, demand.state],
        );
      }
      for (let v = last - demand.total + 1; v <= last; v++) demand.values.push(v);
    }
    const time = localTime(now, timeZone);
    const taken = new Map<string, number>();
    return plans.map((p) => {
      const sequences = new Map<string, number[]>();
      for (const key of sequenceKeys(p.tokens)) {
        const id = `${p.state}\u0000${key}`;
        const from = taken.get(id) ?? 0;
        sequences.set(key, demands.get(id)!.values.slice(from, from + p.count));
        taken.set(id, from + p.count);
      }
      return renderIds({ tokens: p.tokens, count: p.count, time, padding: p.padding, cityCode: p.cityCode, sequences });
    });
  }

  function toReservation(row: ReservationRow, ids?: string[]): Reservation {
    return {
      id: row.id,
      tenantId: row.tenant_id,
      idName: row.id_name,
      format: row.format,
      count: row.count,
      deviceId: row.device_id,
      expiresTime: row.expires_time,
      ...(ids ? { ids } : {}),
      auditDetails: auditDetailsOf(row),
    };
  }

  return {
    /**
     * DIGIT's `_generate`: every request's ids, in request order. Nothing is drawn unless every
     * request is valid and its tenant inside `scope` (the caller's; SYSTEM_SCOPE for a module
     * numbering its own records); numbers drawn are never issued again (a failure after drawing
     * only leaves a gap).
     */
    async generate(requests: readonly IdRequestInput[], scope: Scope): Promise<string[]> {
      for (const request of requests) assertInScope(scope, request.tenantId);
      const total = requests.reduce((sum, r) => sum + (r.count ?? 1), 0);
      if (total > MAX_IDS_PER_CALL) {
        throw invalid('INVALID_COUNT', `At most ${MAX_IDS_PER_CALL} ids per call; ${total} were asked for`, [String(total)]);
      }
      const plans: Plan[] = [];
      for (const request of requests) plans.push(await plan(request));
      const ids = await database.transaction((tx) => draw(tx, plans));
      return ids.flat();
    },

    /**
     * Draws a block of ids for an offline device and records who holds it until when. The block
     * comes from the same counters as `generate`, so no generated id can ever equal a reserved one.
     */
    async reserve(request: ReservationRequest, actor: Actor, scope: Scope): Promise<{ reservation: Reservation; ids: string[] }> {
      assertInScope(scope, request.tenantId);
      if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_IDS_PER_CALL) {
        throw invalid('INVALID_COUNT', `A reservation holds 1 to ${MAX_IDS_PER_CALL} ids`, [String(request.count)]);
      }
      const p = await plan(request);
      if (sequenceKeys(p.tokens).length === 0) {
        throw invalid(
          'IDGEN_RESERVATION_NEEDS_SEQUENCE',
          `The format "${p.format}" has no [SEQ_…] token: only numbered ids can be reserved without ever colliding`,
          [p.format],
        );
      }
      const now = clock.now();
      const row: ReservationRow = {
        id: newId(),
        tenant_id: p.tenantId,
        id_name: p.idName,
        format: p.format,
        count: p.count,
        device_id: request.deviceId ?? null,
        expires_time: now + (request.expiresInDays ?? DEFAULT_RESERVATION_DAYS) * DAY_MS,
        created_by: actor.uuid,
        created_time: now,
        last_modified_by: actor.uuid,
        last_modified_time: now,
      };
      const ids = await database.transaction(async (tx) => {
        const [drawn = []] = await draw(tx, [p]);
        await store.insertReservation(store.runner(tx), row, drawn, scope);
        return drawn;
      });
      return { reservation: toReservation(row), ids };
    },

    async searchReservations(criteria: ReservationSearch, scope: Scope): Promise<Reservation[]> {
      await assertKnownTenant(mdms.tenants, criteria.tenantId);
      const db = store.runner();
      const rows = await store.searchReservations(
        db,
        {
          tenantId: criteria.tenantId,
          ids: criteria.ids ?? undefined,
          idName: criteria.idName ?? undefined,
          deviceId: criteria.deviceId ?? undefined,
          reservedId: criteria.reservedId ?? undefined,
          offset: criteria.offset ?? 0,
          limit: criteria.limit ?? 10,
        },
        scope,
      );
      if (!criteria.includeIds) return rows.map((row) => toReservation(row));
      const byReservation = new Map<string, string[]>();
      for (const r of await store.reservedIds(
        db,
        rows.map((row) => row.id),
        scope,
      )) {
        let list = byReservation.get(r.reservation_id);
        if (!list) byReservation.set(r.reservation_id, (list = []));
        list.push(r.value);
      }
      return rows.map((row) => toReservation(row, byReservation.get(row.id) ?? []));
    },
  };
}

export type IdgenService = ReturnType<typeof createIdgenService>;
