import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import type { UserInfo } from '../../kernel/auth.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { assertKnownTenant, stateTenantOf, tenantCovers, tenantLineage } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { AuditApi } from '../../common/audit/index.js';
import type { BoundaryApi } from '../../common/boundary/index.js';
import { createPrivacy, dataSecurityMasters, decryptionEntries, type Revealed } from '../../common/encryption/index.js';
import type { FilestoreApi } from '../../common/filestore/index.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import type { MdmsApi } from '../../common/mdms/index.js';
import type { Channel, NotificationApi } from '../../common/notification/index.js';
import type { UserApi } from '../../common/user/index.js';
import type { ProcessInstanceInput, WorkflowApi } from '../../common/workflow/index.js';
import type { Document, DocumentInput, SearchQuery, ServiceRequest, ServiceWrapper, UpdateRequest } from './complaint.schema.js';
import type { ComplaintFilter, ComplaintRow, ComplaintStore } from './complaint.store.js';

export const CREATED_EVENT = 'plinth.complaint.created.v1';
export const UPDATED_EVENT = 'plinth.complaint.updated.v1';
const SOURCE = '/plinth/complaint';
/** DIGIT's PGR workflow and its idgen name. */
const BUSINESS_SERVICE = 'PGR';
const MODULE_NAME = 'pgr-services';
const ID_NAME = 'pgr.servicerequestid';
const FILE_MODULE = 'PGR';
const DEFAULT_LIMIT = 100;
/** Actions leading to the states where the citizen acts next (rate or reopen). */
const CITIZEN_NEXT_ACTIONS: ReadonlySet<string> = new Set(['RESOLVE', 'REJECT']);

/**
 * The transitions the citizen is told about, as DIGIT's PGR NotificationUtil keys them:
 * `PGR_CITIZEN_{ACTION}_{STATUS}_SMS_MESSAGE` in localization module `rainmaker-pgr`.
 */
const CITIZEN_TEMPLATES: ReadonlyMap<string, string> = new Map([
  ['APPLY:PENDINGFORASSIGNMENT', 'PGR_CITIZEN_APPLY_PENDINGFORASSIGNMENT_SMS_MESSAGE'],
  ['ASSIGN:PENDINGATLME', 'PGR_CITIZEN_ASSIGN_PENDINGATLME_SMS_MESSAGE'],
  ['RESOLVE:RESOLVED', 'PGR_CITIZEN_RESOLVE_RESOLVED_SMS_MESSAGE'],
  ['REJECT:REJECTED', 'PGR_CITIZEN_REJECT_REJECTED_SMS_MESSAGE'],
  ['RATE:CLOSEDAFTERRESOLUTION', 'PGR_CITIZEN_RATE_CLOSEDAFTERRESOLUTION_SMS_MESSAGE'],
]);
const LOCALIZATION_MODULE = 'rainmaker-pgr';
const NOTIFICATION_MODULE = 'pgr';
/**
 * The security policy of a complaint's citizen (`DataSecurity.SecurityPolicy`, model `PGR` for
 * others' complaints, `PGRSelf` for a citizen's own), over `ServiceWrappers[].service`.
 */
const PRIVACY_MODEL = 'PGR';
const CITIZEN_PII_PATHS = ['citizen.name', 'citizen.mobileNumber'];

/** dd/MM/yyyy in India's time zone, as DIGIT's messages show dates. */
export function complaintDate(ms: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Kolkata', day: '2-digit', month: '2-digit', year: 'numeric' }).formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('day')}/${part('month')}/${part('year')}`;
}

/** `plinth.complaint.created|updated.v1`: one per transition, written with it (notifications read these). */
export type ComplaintEvent = {
  serviceRequestId: string;
  tenantId: string;
  action: string;
  applicationStatus: string;
  serviceCode: string;
  citizen: { uuid: string };
  assignees: string[];
};

export type Origin = { ip: string | null; correlationId: string | null };
/** What an answer of stored complaints is for (`pii.decrypted` entries name it), and its request. */
export type Reading = { purpose?: string; correlationId?: string | null };

export type ComplaintServiceDeps = {
  database: Database;
  store: ComplaintStore;
  clock: Clock;
  outbox: Outbox;
  mdms: MdmsApi;
  idgen: IdgenApi;
  workflow: WorkflowApi;
  boundary: BoundaryApi;
  users: UserApi;
  filestore: FilestoreApi;
  notification: NotificationApi;
  audit: AuditApi;
  /** Where citizens reach this deployment: the base of the track link in messages. */
  publicUrl: string;
};

type ServiceDef = { serviceCode: string; name?: string; department?: string; slaHours?: number; active?: boolean };
type Citizen = { uuid: string; name: string | null; mobileNumber: string | null };

const splitCsv = (value: string | undefined) => {
  const parts = value?.split(',').map((v) => v.trim()).filter(Boolean);
  return parts && parts.length > 0 ? parts : undefined;
};

export function createComplaintService(deps: ComplaintServiceDeps) {
  const { database, store, clock, outbox, mdms, idgen, workflow, boundary, users, filestore, notification, audit, publicUrl } = deps;
  const privacy = createPrivacy(dataSecurityMasters((criteria) => mdms.service.searchV1(criteria, SYSTEM_SCOPE)), {
    model: PRIVACY_MODEL,
    selfModel: `${PRIVACY_MODEL}Self`,
    paths: CITIZEN_PII_PATHS,
  });
  // PGR's applications are complaints: only this module moves them, so workflow and complaint agree.
  const pgr = workflow.service.claimBusinessService(BUSINESS_SERVICE, { owner: MODULE_NAME, via: '/pgr-services/v2/request/_create and _update' });
  // A complaint's files are its citizen's to read, whoever attached them (the LME's photo of the repair).
  filestore.registerRecordOwner(FILE_MODULE, async (tenantId, referenceId, userUuid) => (await store.byRequestId(store.runner(), tenantId, referenceId))?.account_id === userUuid);

  /** The citizen's e-mail address, read before the transaction (EMAIL is sent only when there is one). */
  async function emailOf(uuid: string): Promise<string | undefined> {
    const [user] = await users.service.search({ uuids: [uuid] }, { pageSize: 1 });
    return user?.emailId ?? undefined;
  }

  /** The name of the employee a complaint is assigned to (`{emp_name}`); read before the transaction. */
  async function nameOf(uuid: string | undefined): Promise<string | undefined> {
    if (!uuid) return undefined;
    const [user] = await users.service.search({ uuids: [uuid] }, { pageSize: 1 });
    return user?.name ?? undefined;
  }

  /**
   * Queues the citizen's message for this transition in its transaction, so it exists exactly when
   * the transition commits. The locale is left to notification: the one stored on the citizen user.
   */
  async function notifyCitizen(tx: Tx, row: ComplaintRow, emailId: string | undefined, extra: Record<string, string> = {}): Promise<void> {
    const templateKey = CITIZEN_TEMPLATES.get(`${row.last_action}:${row.application_status}`);
    if (!templateKey) return;
    const channels: Channel[] = emailId ? ['SMS', 'EMAIL', 'IN_APP'] : ['SMS', 'IN_APP'];
    const serviceName = (row.additional_detail as { serviceName?: unknown } | null)?.serviceName;
    await notification.notify(tx, {
      tenantId: row.tenant_id,
      templateKey,
      localizationModule: LOCALIZATION_MODULE,
      params: { id: row.service_request_id, complaint_type: typeof serviceName === 'string' && serviceName ? serviceName : row.service_code, date: complaintDate(row.created_time), ...extra },
      // The type's label in the citizen's language (DIGIT's SERVICEDEFS code); the MDMS name when it has none.
      labels: { complaint_type: `SERVICEDEFS.${row.service_code.toUpperCase()}` },
      // The complaint's page in the citizen portal (web/), served by this deployment.
      links: { download_link: `${publicUrl}/citizen/complaints/${encodeURIComponent(row.service_request_id)}?tenantId=${encodeURIComponent(row.tenant_id)}` },
      recipients: [{ userUuid: row.account_id, ...(row.citizen_mobile ? { mobileNumber: row.citizen_mobile } : {}), ...(emailId ? { emailId } : {}) }],
      channels,
      module: NOTIFICATION_MODULE,
      referenceId: row.service_request_id,
      idempotencyKey: `${row.service_request_id}:${row.last_action}:${row.last_modified_time}`,
    });
  }

  async function serviceDef(tenantId: string, code: string): Promise<ServiceDef> {
    const res = await mdms.service.searchV1({ tenantId: stateTenantOf(tenantId), moduleDetails: [{ moduleName: 'RAINMAKER-PGR', masterDetails: [{ name: 'ServiceDefs' }] }] }, SYSTEM_SCOPE);
    const defs = (res['RAINMAKER-PGR']?.['ServiceDefs'] ?? []) as ServiceDef[];
    const def = defs.find((d) => d.serviceCode === code && d.active !== false);
    if (!def) throw invalid('INVALID_SERVICECODE', `service.serviceCode "${code}" is not an active complaint type (RAINMAKER-PGR.ServiceDefs) of ${stateTenantOf(tenantId)}`, ['service.serviceCode']);
    return def;
  }

  async function assertLocality(tenantId: string, code: string): Promise<void> {
    for (const tenant of tenantLineage(tenantId)) {
      const hits = await boundary.service.searchBoundaries({ tenantId: tenant, codes: [code], limit: 1 }, SYSTEM_SCOPE).catch(() => []);
      if (hits.length > 0) return;
    }
    throw invalid('INVALID_BOUNDARY', `service.address.locality.code "${code}" is not a boundary of tenant ${tenantId}`, ['service.address.locality.code']);
  }

  /**
   * The files exist in the tenant; a citizen attaches only files they uploaded (or already on this
   * complaint): attaching would make them readable to the complaint's citizen, so attaching someone
   * else's file id must not be a way to read it. Refused alike whether the file is missing or not theirs.
   */
  async function assertFiles(tenantId: string, documents: readonly DocumentInput[], caller: UserInfo, serviceRequestId?: string): Promise<void> {
    for (const doc of documents) {
      const refused = () => invalid('INVALID_FILESTOREID', `fileStoreId ${doc.fileStoreId} is not a file of tenant ${tenantId} that you may attach`, ['workflow.verificationDocuments']);
      // Checked before anything is written; `claim` checks again inside the transaction.
      const meta = await filestore.metadata(tenantId, doc.fileStoreId).catch(() => {
        throw refused();
      });
      const onThis = serviceRequestId !== undefined && meta.owner?.module === FILE_MODULE && meta.owner.referenceId === serviceRequestId;
      if (caller.type === 'CITIZEN' && meta.createdBy !== caller.uuid && !onThis) throw refused();
    }
  }

  /** The citizen a complaint belongs to: the caller, or (employee filing) the CITIZEN user with that mobile, created when missing. */
  async function citizenOf(caller: UserInfo, input: ServiceRequest['service'], origin: Origin): Promise<Citizen> {
    if (caller.type === 'CITIZEN') return { uuid: caller.uuid, name: caller.name, mobileNumber: caller.mobileNumber };
    const mobile = input.citizen?.mobileNumber;
    if (!mobile) throw invalid('INVALID_CITIZEN', 'service.citizen.mobileNumber is required when an employee files a complaint on behalf of a citizen', ['service.citizen.mobileNumber']);
    const state = stateTenantOf(input.tenantId);
    const found = await users.service.search({ tenantId: state, mobileNumber: mobile, type: 'CITIZEN' }, { pageSize: 1 });
    const existing = found[0];
    if (existing) return { uuid: existing.uuid, name: existing.name, mobileNumber: existing.mobileNumber };
    // No password: the citizen logs in by OTP. Created with no caller because it is the platform,
    // not the employee, that grants CITIZEN (an employee of a city may not grant on the state).
    const created = await users.service.create(
      { userName: mobile, mobileNumber: mobile, name: input.citizen?.name ?? mobile, type: 'CITIZEN', tenantId: state, roles: [{ code: 'CITIZEN', tenantId: state }] },
      null,
      origin,
    );
    return { uuid: created.uuid, name: created.name, mobileNumber: created.mobileNumber };
  }

  function documentsOf(list: readonly DocumentInput[] | null | undefined): Document[] {
    return (list ?? []).map((d) => ({ id: newId(), documentType: d.documentType ?? null, fileStoreId: d.fileStoreId, documentUid: d.documentUid ?? null, additionalDetails: d.additionalDetails ?? null }));
  }

  function wrap(row: ComplaintRow, comments: string | null = null): ServiceWrapper {
    const documents = row.documents as Document[];
    return {
      service: {
        active: row.active,
        citizen: { uuid: row.account_id, name: row.citizen_name, mobileNumber: row.citizen_mobile, type: 'CITIZEN' },
        id: row.id,
        tenantId: row.tenant_id,
        serviceCode: row.service_code,
        serviceRequestId: row.service_request_id,
        description: row.description,
        accountId: row.account_id,
        rating: row.rating,
        additionalDetail: row.additional_detail,
        applicationStatus: row.application_status,
        source: row.source,
        address: row.address,
        documents,
        auditDetails: { createdBy: row.created_by, lastModifiedBy: row.last_modified_by, createdTime: row.created_time, lastModifiedTime: row.last_modified_time },
      },
      workflow: { action: row.last_action, assignes: row.assignees, comments, verificationDocuments: documents },
    };
  }

  /**
   * The answers as `caller` may see them: each complaint's citizen shown by the policy for the
   * caller's roles on its tenant (a citizen's own through `PGRSelf`). With the rows it was shown.
   */
  async function viewed(caller: UserInfo, rows: readonly ComplaintRow[], comments: string | null = null): Promise<{ wrappers: ServiceWrapper[]; revealed: Revealed[] }> {
    const redactorOf = privacy.viewer(caller);
    const wrappers: ServiceWrapper[] = [];
    const revealed: Revealed[] = [];
    for (const row of rows) {
      const redactor = await redactorOf(row.tenant_id, row.account_id);
      const wrapper = wrap(row, comments);
      redactor.apply(wrapper.service as unknown as Record<string, unknown>);
      wrappers.push(wrapper);
      revealed.push({ tenantId: row.tenant_id, subject: row.service_request_id, redactor });
    }
    return { wrappers, revealed };
  }

  /** One `pii.decrypted` entry per stored complaint whose citizen was shown to the caller. */
  const decryptions = (caller: UserInfo, revealed: readonly Revealed[], reading: Reading) =>
    decryptionEntries(revealed, { model: PRIVACY_MODEL, purpose: reading.purpose ?? 'search', actorUuid: caller.uuid, correlationId: reading.correlationId ?? null });

  function eventOf(row: ComplaintRow): ComplaintEvent {
    return {
      serviceRequestId: row.service_request_id,
      tenantId: row.tenant_id,
      action: row.last_action,
      applicationStatus: row.application_status,
      serviceCode: row.service_code,
      citizen: { uuid: row.account_id },
      assignees: row.assignees,
    };
  }

  function processInput(row: { tenant_id: string; service_request_id: string }, wf: ServiceRequest['workflow'], documents: Document[], rating: number | null): ProcessInstanceInput {
    return {
      tenantId: row.tenant_id,
      businessService: BUSINESS_SERVICE,
      businessId: row.service_request_id,
      action: wf.action,
      moduleName: MODULE_NAME,
      comment: wf.comments ?? null,
      documents: documents.map((d) => ({ documentType: d.documentType, fileStoreId: d.fileStoreId, documentUid: d.documentUid })),
      ...(wf.assignes ? { assignes: wf.assignes.map((uuid) => ({ uuid })) } : {}),
      ...(rating !== null ? { rating } : {}),
    };
  }

  /** Employees act only on their tenants; a citizen only on their own complaints. */
  function assertMayAct(caller: UserInfo, row: ComplaintRow): void {
    const mine = caller.type === 'CITIZEN' ? row.account_id === caller.uuid : caller.roles.some((r) => tenantCovers(r.tenantId, row.tenant_id));
    if (!mine) throw new DomainError('forbidden', { code: 'INVALID_USER', message: `You may not act on complaint ${row.service_request_id}` });
  }

  return {
    async create(caller: UserInfo, request: ServiceRequest, origin: Origin): Promise<ServiceWrapper> {
      const { service: input, workflow: wf } = request;
      if (wf.action !== 'APPLY') throw invalid('INVALID_ACTION', `workflow.action must be APPLY to file a complaint, not ${wf.action}`, ['workflow.action']);
      await assertKnownTenant(mdms.service.tenants, input.tenantId);
      if (stateTenantOf(input.tenantId) === input.tenantId) throw invalid('INVALID_TENANT', 'service.tenantId must be a city, not the state', ['service.tenantId']);
      const def = await serviceDef(input.tenantId, input.serviceCode);
      await assertLocality(input.tenantId, input.address.locality.code);
      const documents = documentsOf(wf.verificationDocuments);
      await assertFiles(input.tenantId, documents, caller);
      const citizen = await citizenOf(caller, input, origin);

      const [serviceRequestId] = await idgen.service.generate([{ idName: ID_NAME, tenantId: input.tenantId }], SYSTEM_SCOPE);
      if (!serviceRequestId) throw new Error('idgen answered no id');
      const now = clock.now();
      const extra = input.additionalDetail && typeof input.additionalDetail === 'object' && !Array.isArray(input.additionalDetail) ? input.additionalDetail : {};
      const row: ComplaintRow = {
        id: newId(),
        tenant_id: input.tenantId,
        service_request_id: serviceRequestId,
        service_code: def.serviceCode,
        description: input.description ?? null,
        account_id: citizen.uuid,
        citizen_name: citizen.name,
        citizen_mobile: citizen.mobileNumber,
        rating: null,
        application_status: '',
        source: input.source ?? null,
        locality_code: input.address.locality.code,
        address: { ...input.address, tenantId: input.tenantId },
        documents,
        // DIGIT merges the department and the type's name from MDMS.
        additional_detail: { ...extra, department: def.department ?? null, serviceName: def.name ?? null },
        last_action: wf.action,
        assignees: [],
        active: true,
        created_by: caller.uuid,
        last_modified_by: caller.uuid,
        created_time: now,
        last_modified_time: now,
      };
      const prepared = await pgr.prepareTransition(caller, [processInput(row, wf, documents, null)]);
      const emailId = await emailOf(citizen.uuid);
      await store.ready(row.tenant_id);
      await database.transaction(async (tx) => {
        const [instance] = await pgr.commitTransition(tx, prepared);
        row.application_status = instance?.state.applicationStatus ?? instance?.state.state ?? '';
        row.assignees = (instance?.assignes ?? []).map((u) => u.uuid);
        await store.insert(store.runner(tx), row);
        if (documents.length > 0) await filestore.claim(row.tenant_id, documents.map((d) => d.fileStoreId), { module: FILE_MODULE, referenceId: serviceRequestId }, tx);
        await outbox.append(tx, { type: CREATED_EVENT, source: SOURCE, subject: serviceRequestId, tenantId: row.tenant_id, data: eventOf(row) });
        await notifyCitizen(tx, row, emailId);
      });
      // What the caller sent or the citizen's account holds (nothing decrypted from complaints): not audited.
      const { wrappers } = await viewed(caller, [row], wf.comments ?? null);
      return wrappers[0]!;
    },

    async update(caller: UserInfo, request: UpdateRequest, reading: Reading = {}): Promise<ServiceWrapper> {
      const { service: input, workflow: wf } = request;
      if (wf.action === 'APPLY') throw invalid('INVALID_ACTION', 'APPLY files a new complaint: use _create', ['workflow.action']);
      const existing = await store.byRequestId(store.runner(), input.tenantId, input.serviceRequestId);
      if (!existing || (caller.type === 'CITIZEN' && existing.account_id !== caller.uuid)) {
        throw invalid('INVALID_UPDATE', `No complaint ${input.serviceRequestId} of tenant ${input.tenantId} that you may act on`, ['service.serviceRequestId']);
      }
      assertMayAct(caller, existing);
      const rating = wf.action === 'RATE' ? (input.rating ?? wf.rating ?? null) : null;
      if (wf.action === 'RATE' && rating === null) throw invalid('INVALID_RATING', 'service.rating (1 to 5) is required to RATE', ['service.rating']);
      const documents = documentsOf(wf.verificationDocuments);
      await assertFiles(existing.tenant_id, documents, caller, existing.service_request_id);
      // The workflow lets a citizen act only on applications they filed or that are marked to them:
      // a complaint filed on their behalf is marked to them when it reaches the states where they
      // rate or reopen it (as DIGIT's PGR marks it back to the citizen).
      const onBehalf = existing.created_by !== existing.account_id;
      const toCitizen = onBehalf && CITIZEN_NEXT_ACTIONS.has(wf.action) && !wf.assignes?.length ? { ...wf, assignes: [existing.account_id] } : wf;
      const prepared = await pgr.prepareTransition(caller, [processInput(existing, toCitizen, documents, rating)]);
      const row: ComplaintRow = {
        ...existing,
        rating: rating ?? existing.rating,
        documents: [...existing.documents, ...documents],
        last_action: wf.action,
        last_modified_by: caller.uuid,
        last_modified_time: clock.now(),
      };
      const emailId = await emailOf(existing.account_id);
      const assigneeName = await nameOf(wf.assignes?.[0]);
      // DIGIT's ASSIGN and REJECT texts name the employee and the reason (the workflow comment).
      const extra = { emp_name: assigneeName ?? '', reason: wf.comments ?? '' };
      await store.ready(row.tenant_id);
      // The policy is read before the transaction (on SQLite it holds the one connection).
      const redactor = await privacy.viewer(caller)(row.tenant_id, row.account_id);
      await database.transaction(async (tx) => {
        const [instance] = await pgr.commitTransition(tx, prepared);
        row.application_status = instance?.state.applicationStatus ?? instance?.state.state ?? existing.application_status;
        row.assignees = (instance?.assignes ?? []).map((u) => u.uuid);
        await store.update(store.runner(tx), row);
        if (documents.length > 0) await filestore.claim(row.tenant_id, documents.map((d) => d.fileStoreId), { module: FILE_MODULE, referenceId: row.service_request_id }, tx);
        await outbox.append(tx, { type: UPDATED_EVENT, source: SOURCE, subject: row.service_request_id, tenantId: row.tenant_id, data: eventOf(row) });
        await notifyCitizen(tx, row, emailId, extra);
        // The answer shows the stored citizen: its decryption is recorded with the change.
        const entries = decryptions(caller, [{ tenantId: row.tenant_id, subject: row.service_request_id, redactor }], { purpose: 'update', ...reading });
        if (entries.length > 0) await audit.log.appendManyInTx(tx, entries);
      });
      const answer = wrap(row, wf.comments ?? null);
      redactor.apply(answer.service as unknown as Record<string, unknown>);
      return answer;
    },

    /** Complaints as `caller` may see them; each one whose citizen was shown is audited (`pii.decrypted`). */
    async search(caller: UserInfo, query: SearchQuery, reading: Reading = {}): Promise<ServiceWrapper[]> {
      const rows = await store.search(store.runner(), filterOf(caller, query), {
        offset: query.offset ?? 0,
        limit: query.limit ?? DEFAULT_LIMIT,
        order: query.sortOrder === 'ASC' ? 'asc' : 'desc',
      });
      const { wrappers, revealed } = await viewed(caller, rows);
      const entries = decryptions(caller, revealed, reading);
      if (entries.length > 0) await database.transaction((tx) => audit.log.appendManyInTx(tx, entries));
      return wrappers;
    },

    count: (caller: UserInfo, query: SearchQuery): Promise<number> => store.count(store.runner(), filterOf(caller, query)),

    /** One complaint by its human id, for other modules (no access rules: the caller applies its own). */
    get: (tenantId: string, serviceRequestId: string) => store.byRequestId(store.runner(), tenantId, serviceRequestId).then((row) => row && wrap(row)),
  };
}

/** A citizen sees only their own complaints; an employee those of the tenant (the gateway checked the tenant). */
function filterOf(caller: UserInfo, query: SearchQuery): ComplaintFilter {
  return {
    tenantId: query.tenantId,
    ...(caller.type === 'CITIZEN' ? { accountId: caller.uuid } : {}),
    serviceRequestIds: splitCsv(query.serviceRequestId),
    ids: splitCsv(query.ids),
    mobileNumber: query.mobileNumber,
    statuses: splitCsv(query.applicationStatus),
    serviceCodes: splitCsv(query.serviceCode),
    localities: splitCsv(query.locality),
    fromDate: query.fromDate,
    toDate: query.toDate,
  };
}

export type ComplaintService = ReturnType<typeof createComplaintService>;
