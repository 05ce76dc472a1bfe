import type { UserInfo } from '../../kernel/auth.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { auditDetailsOf } from '../../kernel/envelope.js';
import { DomainError, invalid, type ErrorDetail } from '../../kernel/errors.js';
import type { CloudEvent } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { assertInScope, SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import { isTenantIdSyntax, tenantCovers, type TenantDirectory } from '../../kernel/tenancy.js';
import type { IndividualLookup } from '../../domain/individual/index.js';
import { isPath, matches, project, type Condition } from './subscriptions.rules.js';
import type {
  Delivery,
  DeliveryCriteria,
  Subscription,
  SubscriptionCriteria,
  SubscriptionInput,
  SubscriptionStatus,
  SubscriptionUpdateInput,
} from './subscriptions.schema.js';
import type { DeliveryPayloads } from './delivery.payloads.js';
import type { DeliveryRow, SubscriptionRow, SubscriptionStore } from './subscriptions.store.js';

export type Actor = { uuid: string | null };

/** The fields of an event the wire always carries (CloudEvents attributes); `data` is projected. */
export type EventMessage = Omit<CloudEvent, 'data'> & { data: Record<string, unknown> };

export type SubscriptionServiceDeps = {
  database: Database;
  store: SubscriptionStore;
  clock: Clock;
  tenants: TenantDirectory;
  individuals: IndividualLookup;
  /** Called after deliveries were queued (the worker sends them soon). */
  onQueued: () => void;
  /** Messages are stored encrypted and purged after the retention. */
  payloads: DeliveryPayloads;
};

const AGENCY_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;
const EVENT_TYPE = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/;
const DEFAULT_MAX_ATTEMPTS = 10;
const FANOUT = 'fanout';
/** A replay bigger than this is refused: pick a narrower time range. */
const MAX_REPLAY = 10_000;
const INDIVIDUAL_EVENT = /^plinth\.individual\./;
const PATH_RULE = ' (names of letters, digits, _ and -; not __proto__, constructor or prototype)';
/** The only hosts a plain-http webhook may name (`URL.hostname` keeps IPv6 brackets). */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

type Normalized = Omit<SubscriptionRow, 'id' | 'created_by' | 'last_modified_by' | 'created_time' | 'last_modified_time'>;

/** A subscription as the worker and fan-out use it, its json columns decoded. */
export type ActiveSubscription = {
  id: string;
  tenantId: string;
  agencyId: string;
  tenantIds: string[];
  eventTypes: string[];
  conditions: Condition[];
  fields: string[];
};

/**
 * The system user in whose name a subscription reads a person's record to enrich an event. The
 * individual registry audits each such read (`pii.decrypted`) under this uuid, so every agency's
 * access to personal data stays on record. REGISTRAR is the role the demo security policy lets see
 * personal fields in full; `fields` then cuts them down to what the agreement allows.
 */
export function subscriptionViewer(subscriptionId: string, tenantId: string): UserInfo {
  const uuid = `exchange-subscription:${subscriptionId}`;
  return {
    id: 0,
    uuid,
    userName: uuid,
    name: null,
    mobileNumber: null,
    emailId: null,
    type: 'SYSTEM',
    tenantId,
    roles: [{ code: 'REGISTRAR', name: 'Registrar', tenantId }],
  };
}

/** The state of a delivery that has not been tried yet. */
function unsentState(now: number, emptyList: unknown) {
  return {
    status: 'PENDING' as const,
    attempts: 0,
    next_attempt_time: now,
    lease_owner: null,
    lease_until: null,
    last_attempt_time: null,
    last_status_code: null,
    last_error: null,
    sent_digests: emptyList,
    receipt: null,
    receipt_status: null,
    delivered_time: null,
    created_time: now,
    last_modified_time: now,
  };
}

export function createSubscriptionService(deps: SubscriptionServiceDeps) {
  const { database, store, clock, tenants, individuals, onQueued, payloads } = deps;

  const decode = <T>(value: unknown): T => database.fromJson<T>(value);
  const unsent = (now: number) => unsentState(now, database.toJson([]));

  const toSubscription = (row: SubscriptionRow): Subscription => ({
    id: row.id,
    tenantId: row.tenant_id,
    agencyId: row.agency_id,
    tenantIds: decode<string[]>(row.tenant_ids),
    eventTypes: decode<string[]>(row.event_types),
    conditions: decode<Condition[]>(row.conditions),
    fields: decode<string[]>(row.fields),
    webhookUrl: row.webhook_url,
    status: row.status,
    maxAttempts: row.max_attempts,
    auditDetails: auditDetailsOf(row),
  });

  const toDelivery = (row: DeliveryRow & { agency_id: string }): Delivery => ({
    id: row.id,
    subscriptionId: row.subscription_id,
    tenantId: row.tenant_id,
    agencyId: row.agency_id,
    eventId: row.event_id,
    eventType: row.event_type,
    eventSubject: row.event_subject,
    eventTime: row.event_time,
    replayOf: row.origin === FANOUT ? null : row.origin,
    status: row.status,
    attempts: row.attempts,
    nextAttemptTime: row.status === 'PENDING' ? row.next_attempt_time : null,
    lastAttemptTime: row.last_attempt_time,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    receipt: row.receipt,
    receiptStatus: row.receipt_status,
    deliveredTime: row.delivered_time,
    createdTime: row.created_time,
    // The message is encrypted: the callers open it (searchDeliveries) or know it (replay).
    event: null,
  });

  /** Checks everything a subscription says; every problem is named at once. */
  async function normalize(input: SubscriptionInput | SubscriptionUpdateInput): Promise<Normalized> {
    const problems: ErrorDetail[] = [];
    const problem = (code: string, message: string, param?: string) => problems.push({ code, message, params: param ? [param] : null });
    const known = await tenants.knownTenants();
    const knownTenant = (t: string) => isTenantIdSyntax(t) && (known.size === 0 || known.has(t));

    if (!knownTenant(input.tenantId)) problem('INVALID_TENANT_ID', `tenantId "${input.tenantId}" is not a tenant of this platform`, 'tenantId');
    if (!AGENCY_ID.test(input.agencyId)) {
      problem('INVALID_AGENCY_ID', 'agencyId must be 1-64 lower-case letters, digits, dots or dashes (the receiver\'s PLINTH_AGENCY_ID)', 'agencyId');
    }
    const tenantIds = [...new Set(input.tenantIds)];
    for (const t of tenantIds) {
      if (!knownTenant(t)) problem('INVALID_TENANT_ID', `tenantIds holds "${t}", which is not a tenant of this platform`, 'tenantIds');
      else if (!tenantCovers(input.tenantId, t)) {
        problem('TENANT_NOT_COVERED', `tenantIds holds "${t}", which is outside the subscription's tenant "${input.tenantId}"`, 'tenantIds');
      }
    }
    const eventTypes = [...new Set(input.eventTypes)];
    for (const type of eventTypes) {
      if (!EVENT_TYPE.test(type)) problem('INVALID_EVENT_TYPE', `eventTypes holds "${type}", not an event type such as plinth.individual.created.v1`, 'eventTypes');
    }
    const conditions = (input.conditions ?? []) as Condition[];
    for (const [i, c] of conditions.entries()) {
      if (!isPath(c.path)) {
        problem('INVALID_PATH', `conditions[${i}].path "${c.path}" is not a dot path such as identifiers.identifierType${PATH_RULE}`, `conditions.${i}.path`);
      }
    }
    const fields = [...new Set(input.fields)];
    for (const f of fields) {
      if (!isPath(f)) problem('INVALID_PATH', `fields holds "${f}", not a dot path such as dateOfBirth or name.givenName${PATH_RULE}`, 'fields');
    }
    let url: URL | undefined;
    try {
      url = new URL(input.webhookUrl);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      problem('INVALID_WEBHOOK_URL', 'webhookUrl must be an absolute http or https URL', 'webhookUrl');
    } else if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      // Messages are signed, not encrypted: personal data crosses the network only over TLS.
      problem('INVALID_WEBHOOK_URL', 'webhookUrl must be https (plain http only to localhost, 127.0.0.1 or [::1])', 'webhookUrl');
    } else if (url.username !== '' || url.password !== '') {
      // Credentials in a URL end up in logs and search answers; agencies authenticate by signature.
      problem('INVALID_WEBHOOK_URL', 'webhookUrl must not carry a user name or password', 'webhookUrl');
    }
    if (problems.length > 0) throw new DomainError('invalid', problems);
    return {
      tenant_id: input.tenantId,
      agency_id: input.agencyId,
      tenant_ids: database.toJson(tenantIds),
      event_types: database.toJson(eventTypes),
      conditions: database.toJson(conditions.map((c) => (c.op === 'exists' ? { path: c.path, op: c.op, value: c.value ?? true } : c))),
      fields: database.toJson(fields),
      webhook_url: url!.toString(),
      status: (input.status ?? 'ACTIVE') as SubscriptionStatus,
      max_attempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    };
  }

  const notFound = (id: string) => invalid('SUBSCRIPTION_NOT_FOUND', `No subscription "${id}" in this tenant`, [id]);

  /**
   * The subscription, if it exists and belongs to `tenantId` or one of its cities; 403 when it is
   * stored outside the caller's scope, whatever tenant the request names.
   */
  async function owned(tenantId: string, id: string, scope: Scope): Promise<SubscriptionRow> {
    const row = await store.subscriptionById(store.runner(), id, scope);
    if (!row || !tenantCovers(tenantId, row.tenant_id)) throw notFound(id);
    return row;
  }

  /** As stored (json columns come back as the engine hands them); the caller has just written it. */
  async function reread(id: string, scope: Scope): Promise<Subscription> {
    const row = await store.subscriptionById(store.runner(), id, scope);
    if (!row) throw notFound(id);
    return toSubscription(row);
  }

  /** `scope`: the caller's (request.scope); the subscription's tenant must lie inside it. */
  async function create(input: SubscriptionInput, actor: Actor, scope: Scope): Promise<Subscription> {
    assertInScope(scope, input.tenantId);
    const normalized = await normalize(input);
    const now = clock.now();
    const row: SubscriptionRow = {
      id: newId(),
      ...normalized,
      created_by: actor.uuid,
      last_modified_by: actor.uuid,
      created_time: now,
      last_modified_time: now,
    };
    await store.insertSubscription(store.runner(), row);
    return reread(row.id, scope);
  }

  async function update(input: SubscriptionUpdateInput, actor: Actor, scope: Scope): Promise<Subscription> {
    const existing = await owned(input.tenantId, input.id, scope);
    if (existing.tenant_id !== input.tenantId) {
      throw invalid('TENANT_MISMATCH', `Subscription "${input.id}" belongs to tenant "${existing.tenant_id}"; its tenant cannot change`, ['tenantId']);
    }
    const normalized = await normalize(input);
    const changes = { ...normalized, last_modified_by: actor.uuid, last_modified_time: clock.now() };
    await store.updateSubscription(store.runner(), existing.id, changes);
    // A subscription resumed (or given a new URL) may have deliveries waiting.
    onQueued();
    return reread(existing.id, scope);
  }

  async function search(criteria: SubscriptionCriteria, scope: Scope) {
    const { total, rows } = await store.searchSubscriptions(
      {
        tenantId: criteria.tenantId,
        ids: criteria.ids ?? undefined,
        agencyId: criteria.agencyId ?? undefined,
        status: criteria.status ?? undefined,
      },
      { offset: criteria.offset ?? 0, limit: criteria.limit ?? 100 },
      scope,
    );
    return { total, subscriptions: rows.map(toSubscription) };
  }

  // ---- fan-out ---------------------------------------------------------------------------------

  const activeOf = (row: SubscriptionRow): ActiveSubscription => ({
    id: row.id,
    tenantId: row.tenant_id,
    agencyId: row.agency_id,
    tenantIds: decode<string[]>(row.tenant_ids),
    eventTypes: decode<string[]>(row.event_types),
    conditions: decode<Condition[]>(row.conditions),
    fields: decode<string[]>(row.fields),
  });

  const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);

  /**
   * The data the subscription's conditions and fields see. An individual's event holds ids only,
   * so the record is read (decrypted, audited per subscription) — and only when the subscription
   * looks at any data field at all.
   */
  async function enrich(event: CloudEvent, subscription: ActiveSubscription): Promise<Record<string, unknown>> {
    const data = isRecord(event.data) ? event.data : {};
    if (subscription.fields.length === 0 && subscription.conditions.length === 0) return data;
    const id = data['id'];
    if (!INDIVIDUAL_EVENT.test(event.type) || typeof id !== 'string') return data;
    const [record] = await individuals.view(event.tenantid, [id], subscriptionViewer(subscription.id, event.tenantid), {
      includeDeleted: true,
    });
    // The event's own fields (ids, the rowVersion it announces) win over the current record's.
    return isRecord(record) ? { ...record, ...data } : data;
  }

  /**
   * Queues one delivery per ACTIVE subscription the event matches. The reads (and decryptions)
   * happen first, outside any transaction; then one short transaction inserts, ignoring rows that
   * exist, so an event handed over twice queues nothing new. Answers how many were queued.
   */
  async function fanOut(event: CloudEvent): Promise<number> {
    // The platform's own fan-out: every tenant's subscriptions.
    const candidates = (await store.activeSubscriptions(SYSTEM_SCOPE))
      .map(activeOf)
      .filter((s) => s.eventTypes.includes(event.type) && s.tenantIds.some((t) => tenantCovers(t, event.tenantid)));
    if (candidates.length === 0) return 0;
    const now = clock.now();
    const eventTime = Date.parse(event.time);
    const rows: DeliveryRow[] = [];
    for (const subscription of candidates) {
      const data = await enrich(event, subscription);
      if (!matches(data, subscription.conditions)) continue;
      const message: EventMessage = { ...event, data: project(data, subscription.fields) };
      rows.push({
        id: newId(),
        subscription_id: subscription.id,
        origin: FANOUT,
        event_id: event.id,
        event_type: event.type,
        event_subject: event.subject,
        event_time: Number.isFinite(eventTime) ? eventTime : now,
        tenant_id: event.tenantid,
        message: await payloads.seal(event.tenantid, message),
        ...unsent(now),
      });
    }
    if (rows.length === 0) return 0;
    const inserted = await database.transaction((tx) => store.insertDeliveries(store.runner(tx), rows));
    if (inserted > 0) onQueued();
    return inserted;
  }

  // ---- deliveries --------------------------------------------------------------------------------

  async function searchDeliveries(criteria: DeliveryCriteria, scope: Scope) {
    const { total, rows } = await store.searchDeliveries(
      {
        tenantId: criteria.tenantId,
        subscriptionId: criteria.subscriptionId ?? undefined,
        ids: criteria.ids ?? undefined,
        status: criteria.status ?? undefined,
        eventId: criteria.eventId ?? undefined,
        fromTime: criteria.fromTime ?? undefined,
        toTime: criteria.toTime ?? undefined,
      },
      { offset: criteria.offset ?? 0, limit: criteria.limit ?? 100 },
      scope,
    );
    return { total, deliveries: await Promise.all(rows.map(async (r) => ({ ...toDelivery(r), event: await payloads.open(r.tenant_id, r.message) }))) };
  }

  /**
   * Sends the subscription's events from `fromTime` on again, as new deliveries (new message
   * ids), cut to the subscription's current fields: a narrowed agreement is never widened by a replay.
   */
  async function replay(tenantId: string, id: string, fromTime: number, scope: Scope): Promise<{ replayId: string; deliveries: Delivery[] }> {
    const subscription = await owned(tenantId, id, scope);
    const fields = decode<string[]>(subscription.fields);
    const replayId = newId();
    const now = clock.now();
    const messages = new Map<string, EventMessage>();
    // The events' tenants are covered by the subscription's: their keys are loaded before the transaction.
    for (const t of decode<string[]>(subscription.tenant_ids)) await payloads.ready(t);
    const rows = await database.transaction(async (tx) => {
      const db = store.runner(tx);
      const originals = await store.originalsSince(db, subscription.id, fromTime);
      if (originals.length > MAX_REPLAY) {
        throw invalid('REPLAY_TOO_LARGE', `${originals.length} deliveries since ${fromTime}; replay at most ${MAX_REPLAY} at once (a later fromTime)`, [
          'fromTime',
        ]);
      }
      const fresh: DeliveryRow[] = [];
      for (const o of originals) {
        const stored = await payloads.open<EventMessage>(o.tenant_id, o.message);
        // Past the retention the payload is gone (only the evidence stays): nothing to send again.
        if (stored === null) continue;
        const message = { ...stored, data: project(stored.data, fields) };
        const id = newId();
        messages.set(id, message);
        fresh.push({ ...o, id, origin: replayId, message: await payloads.seal(o.tenant_id, message), ...unsent(now) });
      }
      for (let i = 0; i < fresh.length; i += 200) await store.insertDeliveries(db, fresh.slice(i, i + 200));
      return fresh;
    });
    if (rows.length > 0) onQueued();
    return {
      replayId,
      deliveries: rows.map((r) => ({ ...toDelivery({ ...r, agency_id: subscription.agency_id, message: null }), event: messages.get(r.id) })),
    };
  }

  /** Puts DEAD deliveries (by id, or all of a subscription) back in the queue with fresh attempts. */
  async function retry(tenantId: string, request: { ids?: readonly string[] | undefined; subscriptionId?: string | undefined }, scope: Scope) {
    if ((!request.ids || request.ids.length === 0) && !request.subscriptionId) {
      throw invalid('INVALID_RETRY', 'Name the DEAD deliveries (ids) or their subscription (subscriptionId)', ['ids']);
    }
    let subscriptionIds: string[];
    if (request.subscriptionId) {
      subscriptionIds = [(await owned(tenantId, request.subscriptionId, scope)).id];
    } else {
      const { rows } = await store.searchSubscriptions({ tenantId }, { offset: 0, limit: 1_000_000 }, scope);
      subscriptionIds = rows.map((r) => r.id);
    }
    if (subscriptionIds.length === 0) return [];
    const now = clock.now();
    const ids = await database.transaction(async (tx) => {
      const db = store.runner(tx);
      const dead = (await store.deadOf(db, { subscriptionIds, ids: request.ids })).map((r) => r.id);
      await store.revive(db, dead, now);
      return dead;
    });
    if (ids.length === 0) return [];
    onQueued();
    return (await searchDeliveries({ tenantId, ids, limit: 1000 }, scope)).deliveries;
  }

  return { create, update, search, fanOut, searchDeliveries, replay, retry };
}

export type SubscriptionService = ReturnType<typeof createSubscriptionService>;
