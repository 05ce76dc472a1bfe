import { sql, type Kysely } from 'kysely';
import { Type, type Static } from 'typebox';
import type { UserInfo } from '../../kernel/auth.js';
import type { Database } from '../../kernel/db.js';
import { RequestInfo, ResponseInfo, responseInfo } from '../../kernel/envelope.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { assertKnownTenant, stateTenantOf } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { MdmsApi } from '../../common/mdms/index.js';
import type { CompiledWorkflow, WorkflowApi } from '../../common/workflow/index.js';

// The complaint dashboard: counts of the complaints filed in a period, grouped in SQL, and how fast
// they were resolved, from the first RESOLVE step of each one's workflow history.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
/** Weeks are those of India (UTC+5:30, no daylight saving), starting on Monday. */
const IST_OFFSET_MS = 330 * 60_000;
/** 1970-01-01 was a Thursday: shifting by 3 days makes week 0 start on Monday 1969-12-29. */
const WEEK_SHIFT_MS = IST_OFFSET_MS + 3 * DAY_MS;
/** The longest period one summary may cover, so its work stays bounded. */
export const MAX_RANGE_DAYS = 366;
/** Complaints whose workflow history is read per workflow search (its page size). */
const CHUNK = 100;
const BUSINESS_SERVICE = 'PGR';
const RESOLVE_ACTION = 'RESOLVE';

const TenantId = Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' });
const Code = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' });
const Epoch = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'epoch milliseconds' });

export const SummaryRequest = Type.Object(
  {
    RequestInfo,
    criteria: Type.Object(
      {
        tenantId: TenantId,
        fromDate: Epoch,
        toDate: Epoch,
        serviceCode: Type.Optional(Code),
        locality: Type.Optional(Code),
        department: Type.Optional(Code),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: true },
);
export type SummaryRequest = Static<typeof SummaryRequest>;
export type SummaryCriteria = SummaryRequest['criteria'];

const Count = Type.Integer({ minimum: 0 });
const Hours = Type.Union([Type.Number(), Type.Null()]);
export const Summary = Type.Object({
  total: Count,
  open: Count,
  resolved: Count,
  closed: Count,
  byStatus: Type.Array(Type.Object({ status: Type.String(), count: Count })),
  byType: Type.Array(Type.Object({ serviceCode: Type.String(), count: Count })),
  byLocality: Type.Array(Type.Object({ locality: Type.String(), count: Count })),
  slaCompliance: Type.Array(
    Type.Object({
      period: Type.String({ description: 'first day (Monday, India time) of the week, YYYY-MM-DD' }),
      total: Count,
      withinSla: Count,
      rate: Type.Union([Type.Number(), Type.Null()], { description: 'withinSla / total; null when no complaint was filed that week' }),
    }),
  ),
  averageResolutionHours: Hours,
  medianResolutionHours: Hours,
});
export type Summary = Static<typeof Summary>;
export const SummaryResponse = Type.Object({ ResponseInfo, summary: Summary });

type ServiceDef = { serviceCode: string; department?: string; slaHours?: number };

/** The columns of the complaint table the dashboard reads. */
type Tables = {
  pgr_service: {
    id: string;
    tenant_id: string;
    service_request_id: string;
    service_code: string;
    locality_code: string;
    application_status: string;
    last_action: string;
    created_time: number;
  };
};
type Runner = Kysely<Tables>;

type Filter = {
  tenantId: string;
  fromDate: number;
  toDate: number;
  serviceCodes: readonly string[] | undefined;
  locality: string | undefined;
};

/** Week number of an epoch-ms time (see WEEK_SHIFT_MS); the SQL below computes the same. */
export const weekOf = (ms: number) => Math.floor((ms + WEEK_SHIFT_MS) / WEEK_MS);
export const weekStart = (week: number) => new Date(week * WEEK_MS - WEEK_SHIFT_MS + IST_OFFSET_MS).toISOString().slice(0, 10);
const round2 = (n: number) => Math.round(n * 100) / 100;

export function median(sorted: readonly number[]): number | null {
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** SQL over the complaint table: grouped counts, and candidates for resolution times page by page. */
function dashboardStore(database: Database) {
  const runner = (): Runner => database.kysely.withTables<Tables>() as unknown as Runner;

  function base(filter: Filter) {
    let q = runner()
      .selectFrom('pgr_service')
      .where('tenant_id', '=', filter.tenantId)
      .where('created_time', '>=', filter.fromDate)
      .where('created_time', '<=', filter.toDate);
    if (filter.serviceCodes) q = q.where('service_code', 'in', filter.serviceCodes.length > 0 ? [...filter.serviceCodes] : ['']);
    if (filter.locality !== undefined) q = q.where('locality_code', '=', filter.locality);
    return q;
  }

  const grouped = async (filter: Filter, column: 'application_status' | 'service_code' | 'locality_code') => {
    const rows = await base(filter)
      .select([`${column} as key`, (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(column)
      .orderBy(column)
      .execute();
    return rows.map((r) => ({ key: String(r.key), count: Number(r.n) }));
  };

  return {
    grouped,
    /** Complaints per week of filing. Both databases divide integers by integers without remainder. */
    async perWeek(filter: Filter): Promise<Map<number, number>> {
      const week = sql<number>`(created_time + ${sql.lit(WEEK_SHIFT_MS)}) / ${sql.lit(WEEK_MS)}`;
      const rows = await base(filter)
        .select([week.as('week'), (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy(week)
        .execute();
      return new Map(rows.map((r) => [Number(r.week), Number(r.n)]));
    },
    /** The next page of complaints that left their first state (only those can have been resolved), by id. */
    async acted(filter: Filter, after: string | null, limit: number) {
      let q = base(filter).where('last_action', '<>', 'APPLY');
      if (after !== null) q = q.where('id', '>', after);
      const rows = await q.select(['id', 'service_request_id', 'service_code', 'created_time']).orderBy('id').limit(limit).execute();
      return rows.map((r) => ({
        id: r.id,
        serviceRequestId: r.service_request_id,
        serviceCode: r.service_code,
        createdTime: Number(r.created_time),
      }));
    },
  };
}

export type DashboardDeps = { database: Database; mdms: MdmsApi; workflow: WorkflowApi };

export function createDashboardService({ database, mdms, workflow }: DashboardDeps) {
  const store = dashboardStore(database);

  async function serviceDefs(tenantId: string): Promise<ServiceDef[]> {
    const res = await mdms.service.searchV1(
      {
        tenantId: stateTenantOf(tenantId),
        moduleDetails: [{ moduleName: 'RAINMAKER-PGR', masterDetails: [{ name: 'ServiceDefs' }] }],
      },
      SYSTEM_SCOPE,
    );
    return (res['RAINMAKER-PGR']?.['ServiceDefs'] ?? []) as ServiceDef[];
  }

  /** The complaint types to count: the one asked for, those of the department asked for, or all (undefined). */
  function typesOf(criteria: SummaryCriteria, defs: readonly ServiceDef[]): string[] | undefined {
    let codes: string[] | undefined;
    if (criteria.serviceCode !== undefined) {
      if (!defs.some((d) => d.serviceCode === criteria.serviceCode)) {
        throw invalid(
          'INVALID_SERVICECODE',
          `criteria.serviceCode "${criteria.serviceCode}" is not a complaint type (RAINMAKER-PGR.ServiceDefs) of ${stateTenantOf(criteria.tenantId)}`,
          ['criteria.serviceCode'],
        );
      }
      codes = [criteria.serviceCode];
    }
    if (criteria.department !== undefined) {
      const ofDepartment = defs.filter((d) => d.department === criteria.department).map((d) => d.serviceCode);
      if (ofDepartment.length === 0) {
        throw invalid(
          'INVALID_DEPARTMENT',
          `criteria.department "${criteria.department}" handles no complaint type (RAINMAKER-PGR.ServiceDefs) of ${stateTenantOf(criteria.tenantId)}`,
          ['criteria.department'],
        );
      }
      codes = codes ? codes.filter((c) => ofDepartment.includes(c)) : ofDepartment;
    }
    return codes;
  }

  /** Status groups read off the workflow: open = not terminal; closed = terminal with no way out; resolved = reached by RESOLVE. */
  function statusGroups(definition: CompiledWorkflow | null) {
    const states = definition?.definition.states ?? [];
    const statusOf = (s: (typeof states)[number]) => s.applicationStatus ?? s.state ?? '';
    const resolvedStates = new Set(
      states.flatMap((s) => (s.actions ?? []).filter((a) => a.action === RESOLVE_ACTION).map((a) => a.nextState)),
    );
    const resolvedUuids = states
      .filter((s) => resolvedStates.has(s.uuid) || (s.state !== null && resolvedStates.has(s.state)))
      .map((s) => s.uuid);
    return {
      open: new Set(states.filter((s) => s.state !== null && !s.isTerminateState).map(statusOf)),
      closed: new Set(states.filter((s) => s.isTerminateState && (s.actions ?? []).length === 0).map(statusOf)),
      resolved: new Set(states.filter((s) => resolvedUuids.includes(s.uuid)).map(statusOf)),
      resolvedUuids,
      businessSlaHours: definition?.definition.businessServiceSla ? definition.definition.businessServiceSla / HOUR_MS : undefined,
    };
  }

  /** The time of each complaint's first RESOLVE step, read from the workflow's history of these complaints. */
  async function firstResolutions(
    caller: UserInfo,
    tenantId: string,
    businessIds: string[],
    resolvedUuids: string[],
  ): Promise<Map<string, number>> {
    const first = new Map<string, number>();
    if (businessIds.length === 0 || resolvedUuids.length === 0) return first;
    for (let offset = 0; ; offset += CHUNK) {
      const page = await workflow.service.search(caller, {
        tenantId,
        businessService: BUSINESS_SERVICE,
        businessIds,
        status: resolvedUuids,
        history: true,
        offset,
        limit: CHUNK,
      });
      for (const step of page.ProcessInstances) {
        if (step.action !== RESOLVE_ACTION) continue;
        const at = step.auditDetails.createdTime ?? step.auditDetails.lastModifiedTime;
        if (typeof at !== 'number') continue;
        const known = first.get(step.businessId);
        if (known === undefined || at < known) first.set(step.businessId, at);
      }
      if (page.ProcessInstances.length < CHUNK || offset + CHUNK >= page.totalCount) return first;
    }
  }

  return {
    async summary(caller: UserInfo, criteria: SummaryCriteria): Promise<Summary> {
      if (criteria.fromDate > criteria.toDate)
        throw invalid('INVALID_DATE_RANGE', 'criteria.fromDate must not be after criteria.toDate', [
          'criteria.fromDate',
          'criteria.toDate',
        ]);
      if (criteria.toDate - criteria.fromDate > MAX_RANGE_DAYS * DAY_MS) {
        throw invalid('INVALID_DATE_RANGE', `The period from criteria.fromDate to criteria.toDate may be at most ${MAX_RANGE_DAYS} days`, [
          'criteria.fromDate',
          'criteria.toDate',
        ]);
      }
      await assertKnownTenant(mdms.service.tenants, criteria.tenantId);
      const defs = await serviceDefs(criteria.tenantId);
      const filter: Filter = {
        tenantId: criteria.tenantId,
        fromDate: criteria.fromDate,
        toDate: criteria.toDate,
        serviceCodes: typesOf(criteria, defs),
        locality: criteria.locality,
      };
      const groups = statusGroups(await workflow.service.resolve(criteria.tenantId, BUSINESS_SERVICE));

      const [byStatus, byType, byLocality, perWeek] = await Promise.all([
        store.grouped(filter, 'application_status'),
        store.grouped(filter, 'service_code'),
        store.grouped(filter, 'locality_code'),
        store.perWeek(filter),
      ]);
      const sum = (rows: Array<{ key: string; count: number }>, keep: (status: string) => boolean) =>
        rows.filter((r) => keep(r.key)).reduce((n, r) => n + r.count, 0);

      // Resolution times, a page of complaints at a time: only the durations are kept.
      const slaHours = new Map(defs.map((d) => [d.serviceCode, d.slaHours ?? groups.businessSlaHours]));
      const durations: number[] = [];
      const withinByWeek = new Map<number, number>();
      for (let after: string | null = null; ;) {
        const page = await store.acted(filter, after, CHUNK);
        if (page.length === 0) break;
        after = page[page.length - 1]!.id;
        const resolvedAt = await firstResolutions(
          caller,
          criteria.tenantId,
          page.map((c) => c.serviceRequestId),
          groups.resolvedUuids,
        );
        for (const complaint of page) {
          const at = resolvedAt.get(complaint.serviceRequestId);
          if (at === undefined) continue;
          const hours = (at - complaint.createdTime) / HOUR_MS;
          durations.push(hours);
          const sla = slaHours.get(complaint.serviceCode);
          if (sla !== undefined && hours <= sla) {
            const week = weekOf(complaint.createdTime);
            withinByWeek.set(week, (withinByWeek.get(week) ?? 0) + 1);
          }
        }
        if (page.length < CHUNK) break;
      }
      durations.sort((a, b) => a - b);
      const average = durations.length > 0 ? durations.reduce((a, b) => a + b, 0) / durations.length : null;
      const middle = median(durations);

      const slaCompliance: Summary['slaCompliance'] = [];
      for (let week = weekOf(criteria.fromDate); week <= weekOf(criteria.toDate); week++) {
        const total = perWeek.get(week) ?? 0;
        const withinSla = withinByWeek.get(week) ?? 0;
        slaCompliance.push({ period: weekStart(week), total, withinSla, rate: total > 0 ? withinSla / total : null });
      }

      return {
        total: sum(byStatus, () => true),
        open: sum(byStatus, (s) => groups.open.has(s)),
        resolved: sum(byStatus, (s) => groups.resolved.has(s)),
        closed: sum(byStatus, (s) => groups.closed.has(s)),
        byStatus: byStatus.map((r) => ({ status: r.key, count: r.count })),
        byType: byType
          .map((r) => ({ serviceCode: r.key, count: r.count }))
          .sort((a, b) => b.count - a.count || a.serviceCode.localeCompare(b.serviceCode)),
        byLocality: byLocality
          .map((r) => ({ locality: r.key, count: r.count }))
          .sort((a, b) => b.count - a.count || a.locality.localeCompare(b.locality)),
        slaCompliance,
        averageResolutionHours: average === null ? null : round2(average),
        medianResolutionHours: middle === null ? null : round2(middle),
      };
    },
  };
}

export type DashboardService = ReturnType<typeof createDashboardService>;

/** `POST /pgr-services/v2/dashboard/_summary`: the complaint dashboard of a tenant and period. */
export function dashboardRoutes(deps: DashboardDeps) {
  const service = createDashboardService(deps);
  return (app: HttpApp) => {
    app.post(
      '/pgr-services/v2/dashboard/_summary',
      {
        schema: {
          tags: ['pgr'],
          summary: `Complaint dashboard: counts by status, type and locality, weekly SLA compliance and resolution times of the complaints filed in a period (at most ${MAX_RANGE_DAYS} days)`,
          body: SummaryRequest,
          response: { 200: SummaryResponse },
        },
      },
      async (request) => {
        // The route is protected, so the kernel has put the user here; this guards a misconfiguration.
        if (!request.userInfo)
          throw new DomainError('unauthenticated', {
            code: 'CustomException',
            message: 'Authentication required: send a valid access token',
          });
        return {
          ResponseInfo: responseInfo(request.body.RequestInfo, request.id),
          summary: await service.summary(request.userInfo, request.body.criteria),
        };
      },
    );
  };
}
