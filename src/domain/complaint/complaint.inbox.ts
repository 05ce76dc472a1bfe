import { sql, type Expression, type SqlBool } from 'kysely';
import { Type, type Static, type TSchema } from 'typebox';
import type { UserInfo } from '../../kernel/auth.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { RequestInfo, ResponseInfo, responseInfo } from '../../kernel/envelope.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import type { HttpApp } from '../../kernel/http.js';
import { assertKnownTenant, stateTenantOf, tenantCovers } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { MdmsApi } from '../../common/mdms/index.js';
import type { ProcessInstance, WorkflowApi } from '../../common/workflow/index.js';
import { Service } from './complaint.schema.js';
import type { ComplaintService } from './complaint.service.js';
import type { Runner } from './complaint.store.js';

/**
 * DIGIT's inbox v2 (`/inbox/v2/_search`) for PGR: the complaints an employee can move on now, most
 * urgent first.
 *
 * Membership follows DIGIT's workflow inbox: the complaint is in a state where one of the caller's
 * roles (on the complaint's tenant) has a state-changing action, and it is either marked to nobody or
 * marked to the caller. So a GRO sees complaints waiting for assignment, an LME those assigned to them.
 *
 * SLA: the complaint type's `slaHours` (RAINMAKER-PGR.ServiceDefs) counted from filing, as DIGIT's PGR
 * shows it to citizens and employees (`serviceSla`); a type without `slaHours` falls back to the PGR
 * workflow's `businessServiceSla`. `serviceSla` is the time left in ms (negative: overdue).
 * `nearingSlaCount` counts the inbox's complaints (all pages) with less than `slotPercentage`
 * (common-masters.wfSlaConfig, as DIGIT's nearing-SLA count) of their SLA left, overdue ones included.
 */

const BUSINESS_SERVICE = 'PGR';
const MODULE_NAMES: ReadonlySet<string> = new Set(['rainmaker-pgr', 'pgr-services']);
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
/** Sorts complaints with no SLA at all after every real deadline (stays within a 64-bit integer). */
const NO_SLA = 4_000_000_000_000_000;
const HOUR_MS = 3_600_000;

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const TenantId = Type.String({ minLength: 1, maxLength: 256, pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$' });
const Code = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' });
/** DIGIT's UIs send these as a list or as one comma-separated string. */
const Codes = Type.Optional(Nullable(Type.Union([Type.Array(Code, { maxItems: 100 }), Type.String({ maxLength: 2048, pattern: '^[A-Za-z0-9_.,-]*$' })])));
const Loose = Type.Object({}, { additionalProperties: true });

export const InboxRequest = Type.Object({
  RequestInfo,
  inbox: Type.Object(
    {
      tenantId: TenantId,
      processSearchCriteria: Type.Object(
        {
          tenantId: Type.Optional(Nullable(TenantId)),
          businessService: Type.Array(Code, { minItems: 1, maxItems: 10 }),
          moduleName: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
          /** State uuids or names (applicationStatus) of the PGR workflow. */
          status: Codes,
          assignee: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64 }))),
        },
        { additionalProperties: true },
      ),
      moduleSearchCriteria: Type.Optional(
        Nullable(
          Type.Object(
            {
              tenantId: Type.Optional(Nullable(TenantId)),
              locality: Codes,
              serviceCode: Codes,
              applicationStatus: Codes,
              serviceRequestId: Codes,
            },
            { additionalProperties: true },
          ),
        ),
      ),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
      offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    },
    { additionalProperties: true },
  ),
});
export type InboxRequest = Static<typeof InboxRequest>;

const InboxItem = Type.Object({
  ProcessInstance: Nullable(Loose),
  businessObject: Type.Object({ ...Service.properties, serviceSla: Nullable(Type.Number()) }),
});
const InboxResponse = Type.Object({ ResponseInfo, totalCount: Type.Integer(), nearingSlaCount: Type.Integer(), items: Type.Array(InboxItem) });

export type InboxDeps = {
  database: Database;
  clock: Clock;
  mdms: MdmsApi;
  workflow: WorkflowApi;
  service: ComplaintService;
};

type Sla = { byCode: Map<string, number>; fallback: number | null; slotPercentage: number };

const listOf = (value: readonly string[] | string | null | undefined): string[] | undefined => {
  if (value === null || value === undefined) return undefined;
  const parts = (typeof value === 'string' ? value.split(',') : value).map((v) => v.trim()).filter(Boolean);
  return parts.length > 0 ? [...new Set(parts)] : undefined;
};

export function createComplaintInbox({ database, clock, mdms, workflow, service }: InboxDeps) {
  // Reads ids and filter columns only (the complaints themselves come decrypted from the service).
  const store = { runner: (): Runner => database.kysely.withTables() as unknown as Runner };

  async function slaOf(tenantId: string, businessServiceSla: number | null): Promise<Sla> {
    const state = stateTenantOf(tenantId);
    const res = await mdms.service.searchV1({
      tenantId: state,
      moduleDetails: [
        { moduleName: 'RAINMAKER-PGR', masterDetails: [{ name: 'ServiceDefs' }] },
        { moduleName: 'common-masters', masterDetails: [{ name: 'wfSlaConfig' }] },
      ],
    }, SYSTEM_SCOPE);
    const defs = (res['RAINMAKER-PGR']?.['ServiceDefs'] ?? []) as Array<{ serviceCode?: unknown; slaHours?: unknown }>;
    const byCode = new Map<string, number>();
    for (const def of defs) {
      if (typeof def.serviceCode === 'string' && typeof def.slaHours === 'number' && def.slaHours > 0) byCode.set(def.serviceCode, Math.round(def.slaHours * HOUR_MS));
    }
    const configs = (res['common-masters']?.['wfSlaConfig'] ?? []) as Array<{ code?: unknown; slotPercentage?: unknown }>;
    const config = configs.find((c) => c.code === 'DEFAULT') ?? configs[0];
    // Without a configuration, DIGIT's default slot (a third of the time limit).
    const slotPercentage = typeof config?.slotPercentage === 'number' ? config.slotPercentage : 33;
    return { byCode, fallback: businessServiceSla, slotPercentage };
  }

  /** `created_time + <the complaint type's SLA × share>`: SQL, so that sorting and counting stay in the database. */
  function deadline(sla: Sla, share: number): Expression<number> {
    const ms = (value: number | null) => sql.lit(value === null ? NO_SLA : Math.round(value * share));
    if (sla.byCode.size === 0) return sql<number>`created_time + ${ms(sla.fallback)}`;
    const cases = [...sla.byCode].map(([code, value]) => sql`when ${code} then ${ms(value)}`);
    return sql<number>`created_time + (case service_code ${sql.join(cases, sql` `)} else ${ms(sla.fallback)} end)`;
  }

  async function search(caller: UserInfo, request: InboxRequest, correlationId: string | null = null) {
    const { inbox } = request;
    const tenantId = inbox.tenantId;
    const criteria = inbox.processSearchCriteria;
    const wanted = criteria.businessService.filter((b) => b !== BUSINESS_SERVICE);
    if (wanted.length > 0) throw invalid('INVALID_BUSINESSSERVICE', `This inbox serves business service ${BUSINESS_SERVICE} only, not ${wanted.join(', ')}`, ['inbox.processSearchCriteria.businessService']);
    if (criteria.moduleName && !MODULE_NAMES.has(criteria.moduleName)) {
      throw invalid('INVALID_MODULENAME', `processSearchCriteria.moduleName must be rainmaker-pgr for ${BUSINESS_SERVICE}, not ${criteria.moduleName}`, ['inbox.processSearchCriteria.moduleName']);
    }
    for (const [field, other] of [
      ['processSearchCriteria', criteria.tenantId],
      ['moduleSearchCriteria', inbox.moduleSearchCriteria?.tenantId],
    ] as const) {
      if (other && other !== tenantId) throw invalid('INVALID_TENANT', `inbox.${field}.tenantId must be inbox.tenantId (${tenantId})`, [`inbox.${field}.tenantId`]);
    }
    await assertKnownTenant(mdms.service.tenants, tenantId);
    if (stateTenantOf(tenantId) === tenantId) throw invalid('INVALID_TENANT', 'inbox.tenantId must be a city: complaints belong to cities', ['inbox.tenantId']);

    const compiled = await workflow.service.resolve(tenantId, BUSINESS_SERVICE);
    if (!compiled) throw invalid('EG_WF_BUSINESSSRV_ERR', `No ${BUSINESS_SERVICE} workflow serves tenant ${tenantId}`, ['inbox.tenantId']);
    const roles = new Set(caller.roles.filter((r) => tenantCovers(r.tenantId, tenantId)).map((r) => r.code));
    const states = compiled.definition.states.filter((s) => s.state !== null && [...compiled.transitionRoles(s)].some((r) => roles.has(r)));
    // The complaint stores the state's applicationStatus (its name when it has none).
    const nameOf = (s: (typeof states)[number]) => s.applicationStatus ?? s.state ?? '';
    let statuses = states.map(nameOf);

    const statusFilter = listOf(criteria.status);
    if (statusFilter) {
      const all = compiled.definition.states.filter((s) => s.state !== null);
      const unknown = statusFilter.filter((v) => !all.some((s) => s.uuid === v || s.state === v || s.applicationStatus === v));
      if (unknown.length > 0) throw invalid('INVALID_STATUS', `Not states of the ${BUSINESS_SERVICE} workflow: ${unknown.join(', ')}`, ['inbox.processSearchCriteria.status']);
      const chosen = new Set(all.filter((s) => statusFilter.some((v) => s.uuid === v || s.state === v || s.applicationStatus === v)).map(nameOf));
      statuses = statuses.filter((s) => chosen.has(s));
    }
    const module = inbox.moduleSearchCriteria ?? {};
    const applicationStatus = listOf(module.applicationStatus);
    if (applicationStatus) statuses = statuses.filter((s) => applicationStatus.includes(s));

    const sla = await slaOf(tenantId, compiled.definition.businessServiceSla ?? null);
    const limit = inbox.limit ?? DEFAULT_LIMIT;
    const offset = inbox.offset ?? 0;
    if (statuses.length === 0) return { totalCount: 0, nearingSlaCount: 0, items: [] };

    const me = caller.uuid;
    const assignee = criteria.assignee ?? undefined;
    const localities = listOf(module.locality);
    const serviceCodes = listOf(module.serviceCode);
    const ids = listOf(module.serviceRequestId);
    // Portable over SQLite's text and PostgreSQL's jsonb: the JSON list of assignee uuids as text.
    const assigneesText = sql<string>`cast(assignees as text)`;
    const markedTo = (uuid: string) => sql<SqlBool>`${assigneesText} like ${`%"${uuid}"%`}`;
    const base = (db: Runner) => {
      let q = db.selectFrom('pgr_service').where('tenant_id', '=', tenantId).where('application_status', 'in', statuses);
      q = q.where((eb) => eb.or([eb(assigneesText, '=', '[]'), markedTo(me)]));
      if (assignee !== undefined) q = q.where(markedTo(assignee));
      // A citizen's inbox holds only their own complaints.
      if (caller.type === 'CITIZEN') q = q.where('account_id', '=', me);
      if (localities) q = q.where('locality_code', 'in', localities);
      if (serviceCodes) q = q.where('service_code', 'in', serviceCodes);
      if (ids) q = q.where('service_request_id', 'in', ids);
      return q;
    };

    const now = clock.now();
    const db = store.runner();
    const due = deadline(sla, 1);
    const [page, total, nearing] = await Promise.all([
      base(db).select(['service_request_id', 'service_code', 'created_time']).orderBy(due).orderBy('service_request_id').limit(limit).offset(offset).execute(),
      base(db).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      base(db)
        .where(sql<SqlBool>`${deadline(sla, 1 - sla.slotPercentage / 100)} < ${sql.lit(now)}`)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);

    const pageIds = page.map((r) => String(r.service_request_id));
    const [wrappers, processes] =
      pageIds.length === 0
        ? [[], { ProcessInstances: [] as ProcessInstance[] }]
        : await Promise.all([
            service.search(caller, { tenantId, serviceRequestId: pageIds.join(','), limit: pageIds.length }, { purpose: 'inbox', correlationId }),
            workflow.service.search(caller, { tenantId, businessService: BUSINESS_SERVICE, businessIds: pageIds, limit: pageIds.length }),
          ]);
    const byId = new Map(wrappers.map((w) => [w.service.serviceRequestId, w.service]));
    const instanceOf = new Map(processes.ProcessInstances.map((p) => [p.businessId, p]));
    const items = pageIds.flatMap((id) => {
      const complaint = byId.get(id);
      if (!complaint) return [];
      const total = sla.byCode.get(complaint.serviceCode) ?? sla.fallback;
      return [
        {
          ProcessInstance: (instanceOf.get(id) ?? null) as Record<string, unknown> | null,
          businessObject: { ...complaint, serviceSla: total === null ? null : complaint.auditDetails.createdTime + total - now },
        },
      ];
    });
    return { totalCount: Number(total.n), nearingSlaCount: Number(nearing.n), items };
  }

  return { search };
}

export type ComplaintInbox = ReturnType<typeof createComplaintInbox>;

/** `POST /inbox/v2/_search` (DIGIT's inbox v2, PGR only). */
export function complaintInboxRoutes(deps: InboxDeps) {
  const inbox = createComplaintInbox(deps);
  return (app: HttpApp) => {
    app.post(
      '/inbox/v2/_search',
      {
        schema: {
          tags: ['pgr'],
          summary: "An employee's complaint inbox (DIGIT's inbox v2, businessService PGR): complaints their roles can act on, most urgent SLA first",
          body: InboxRequest,
          response: { 200: InboxResponse },
        },
      },
      async (request) => {
        if (!request.userInfo) throw new DomainError('unauthenticated', { code: 'CustomException', message: 'Authentication required: send a valid access token' });
        return { ResponseInfo: responseInfo(request.body.RequestInfo, request.id), ...(await inbox.search(request.userInfo, request.body, request.id)) };
      },
    );
  };
}
