import type { UserInfo } from '../../kernel/auth.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { DomainError, type ErrorDetail } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import { assertInScope, type Scope } from '../../kernel/scope.js';
import { isTenantIdSyntax } from '../../kernel/tenancy.js';
import type { Action, Event, EventDetails, EventInput, Recepient } from './userevent.schema.js';
import type { Criteria, EventRow, Reader, RecipientRow, UserEventStore, Visibility } from './userevent.store.js';

/** Who acts: a user's uuid, or null for the system (another module through the API). */
export type Actor = { uuid: string | null };

export type SearchCriteria = Omit<Criteria, 'activeBroadcastsOnly'> & { offset?: number; limit?: number };

const DEFAULT_LIMIT = 100;
const MARKUP = /[<>]/;

/** A link in an event must stay inside the app (`/…`) or go to an http(s) page: never `javascript:`. */
export function isSafeActionUrl(url: string): boolean {
  if (url.startsWith('/')) return !url.startsWith('//') && !url.startsWith('/\\');
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}

function problemsOf(event: EventInput, index: number): ErrorDetail[] {
  const at = (field: string) => [`events[${index}].${field}`];
  const problems: ErrorDetail[] = [];
  if (!isTenantIdSyntax(event.tenantId)) problems.push({ code: 'INVALID_TENANTID', message: `events[${index}]: tenantId is not a tenant id`, params: at('tenantId') });
  // DIGIT's @SafeHtml: text shown in apps carries no markup.
  for (const field of ['name', 'description', 'eventCategory'] as const) {
    const value = event[field];
    if (typeof value === 'string' && MARKUP.test(value)) problems.push({ code: 'INVALID_EVENT', message: `events[${index}]: ${field} must not contain markup`, params: at(field) });
  }
  const users = event.recepient?.toUsers ?? [];
  const roles = event.recepient?.toRoles ?? [];
  if (event.eventType !== 'BROADCAST' && users.length === 0 && roles.length === 0)
    problems.push({ code: 'INVALID_RECEPIENT', message: `events[${index}]: name at least one user or role in recepient (only a BROADCAST goes to everyone)`, params: at('recepient') });
  for (const [i, item] of (event.actions?.actionUrls ?? []).entries()) {
    if (!isSafeActionUrl(item.actionUrl))
      problems.push({ code: 'INVALID_ACTION_URL', message: `events[${index}]: actionUrl must be an app path or an http(s) URL`, params: at(`actions.actionUrls[${i}].actionUrl`) });
  }
  const from = event.eventDetails?.fromDate;
  const to = event.eventDetails?.toDate;
  if (typeof from === 'number' && typeof to === 'number' && to < from)
    problems.push({ code: 'INVALID_EVENT_DATES', message: `events[${index}]: toDate is before fromDate`, params: at('eventDetails.toDate') });
  return problems;
}

function recipientsOf(eventId: string, event: EventInput): RecipientRow[] {
  const users = [...new Set(event.recepient?.toUsers ?? [])];
  const roles = [...new Set(event.recepient?.toRoles ?? [])];
  const rows: RecipientRow[] = [
    ...users.map((value) => ({ event_id: eventId, tenant_id: event.tenantId, kind: 'user' as const, value })),
    ...roles.map((value) => ({ event_id: eventId, tenant_id: event.tenantId, kind: 'role' as const, value })),
  ];
  // A BROADCAST without recipients reaches everyone on its tenant (DIGIT addresses it to the tenant).
  if (rows.length === 0) rows.push({ event_id: eventId, tenant_id: event.tenantId, kind: 'role', value: '*' });
  return rows;
}

/** The visibility a caller gets: citizens see what is addressed to them; employees also what they posted; SUPERUSER everything. */
export function visibilityOf(user: UserInfo): Visibility {
  if (user.type === 'CITIZEN') return 'addressed';
  if (user.roles.some((r) => r.code === 'SUPERUSER')) return 'all';
  return 'addressedOrPosted';
}

export function createUserEventService(deps: { database: Database; store: UserEventStore; clock: Clock }) {
  const { database, store, clock } = deps;

  // Rows we just built hold encoded JSON text on both engines; rows read back from PostgreSQL hold objects.
  const decode = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : database.fromJson<T>(value));
  const toEvent = (row: EventRow): Event => ({
    id: row.id,
    tenantId: row.tenant_id,
    source: row.source,
    eventType: row.event_type,
    eventCategory: row.category,
    name: row.name,
    description: row.description,
    status: row.status,
    postedBy: row.posted_by,
    referenceId: row.reference_id,
    recepient: decode<Recepient | null>(row.recepient),
    actions: decode<Action | null>(row.actions),
    eventDetails: decode<EventDetails | null>(row.event_details),
    auditDetails: { createdBy: row.created_by, createdTime: row.created_time, lastModifiedBy: row.last_modified_by, lastModifiedTime: row.last_modified_time },
  });

  const rowOf = (id: string, event: EventInput, actor: Actor, now: number, created: { by: string | null; time: number; postedBy: string | null }): EventRow => ({
    id,
    tenant_id: event.tenantId,
    source: event.source,
    event_type: event.eventType,
    category: event.eventCategory ?? null,
    name: event.name,
    description: event.description,
    status: event.status ?? 'ACTIVE',
    reference_id: event.referenceId ?? null,
    posted_by: created.postedBy,
    recepient: database.toJson({ toRoles: event.recepient?.toRoles ?? [], toUsers: event.recepient?.toUsers ?? [] }),
    actions: database.toJson(event.actions ? { ...event.actions, id: event.actions.id ?? newId(), eventId: id, tenantId: event.tenantId } : null),
    event_details: database.toJson(event.eventDetails ? { ...event.eventDetails, id: event.eventDetails.id ?? newId(), eventId: id } : null),
    created_by: created.by,
    created_time: created.time,
    last_modified_by: actor.uuid,
    last_modified_time: now,
  });

  const refuseProblems = (events: readonly EventInput[]) => {
    const problems = events.flatMap(problemsOf);
    if (problems.length > 0) throw new DomainError('invalid', problems);
  };

  return {
    /**
     * Stores the events in one transaction (all or none); answers them with ids and audit. Every
     * event's tenant must lie inside `scope` (the caller's; SYSTEM_SCOPE for another module).
     */
    async create(events: readonly EventInput[], actor: Actor, scope: Scope): Promise<Event[]> {
      refuseProblems(events);
      for (const event of events) assertInScope(scope, event.tenantId);
      // Keys before the transaction: on SQLite a key load inside it would wait for its one connection.
      for (const tenantId of new Set(events.map((e) => e.tenantId))) await store.ready(tenantId);
      const now = clock.now();
      const rows = events.map((event) => {
        const id = newId();
        // As DIGIT: the poster is the caller; only the system may name another (an integrated module).
        const postedBy = actor.uuid ?? event.postedBy ?? null;
        return { row: rowOf(id, event, actor, now, { by: actor.uuid, time: now, postedBy }), recipients: recipientsOf(id, event) };
      });
      await database.transaction(async (tx) => {
        for (const { row, recipients } of rows) await store.insert(tx, row, recipients, scope);
      });
      return rows.map(({ row }) => toEvent(row));
    },

    /** Changes events by id; an event STORED outside `scope` is refused (403), whatever tenant the body names. */
    async update(events: readonly EventInput[], actor: Actor, scope: Scope): Promise<Event[]> {
      const problems: ErrorDetail[] = events.flatMap(problemsOf);
      const ids = events.map((e) => e.id ?? '');
      const existing = new Map((await store.findByIds(ids.filter((id) => id !== ''), scope)).map((row) => [row.id, row]));
      events.forEach((event, i) => {
        const found = existing.get(ids[i] ?? '');
        if (!found) problems.push({ code: 'INVALID_EVENT_ID', message: `events[${i}]: no event with this id`, params: [`events[${i}].id`] });
        else if (found.tenant_id !== event.tenantId) problems.push({ code: 'INVALID_TENANTID', message: `events[${i}]: an event cannot move to another tenant`, params: [`events[${i}].tenantId`] });
      });
      if (new Set(ids).size !== ids.length) problems.push({ code: 'INVALID_EVENT_ID', message: 'the same event is updated twice in one request', params: ['events'] });
      if (problems.length > 0) throw new DomainError('invalid', problems);
      for (const tenantId of new Set(events.map((e) => e.tenantId))) await store.ready(tenantId);
      const now = clock.now();
      const rows = events.map((event, i) => {
        const before = existing.get(ids[i]!)!;
        const row = rowOf(before.id, event, actor, now, { by: before.created_by, time: before.created_time, postedBy: before.posted_by });
        return { row, recipients: recipientsOf(before.id, event) };
      });
      await database.transaction(async (tx) => {
        for (const { row, recipients } of rows) await store.update(tx, row, recipients, scope);
      });
      return rows.map(({ row }) => toEvent(row));
    },

    /** The events the caller may see (visibilityOf), on the tenants of `scope` and above them. */
    async search(criteria: SearchCriteria, user: UserInfo, scope: Scope): Promise<{ events: Event[]; totalCount: number }> {
      const citizen = user.type === 'CITIZEN';
      const { offset, limit, ...filters } = criteria;
      const effective: Criteria = {
        ...filters,
        // DIGIT replaces a citizen's userids with their own.
        ...(citizen ? { userids: [] } : {}),
        status: filters.status && filters.status.length > 0 ? filters.status : ['ACTIVE', 'INACTIVE'],
        activeBroadcastsOnly: citizen,
      };
      const { rows, total } = await store.search(effective, readerOf(user), visibilityOf(user), { offset: offset ?? 0, limit: limit ?? DEFAULT_LIMIT }, scope);
      return { events: rows.map(toEvent), totalCount: total };
    },

    /** All events addressed to the user, and the ACTIVE ones changed since they last looked. */
    async count(tenantId: string, user: UserInfo, scope: Scope): Promise<{ totalCount: number; unreadCount: number }> {
      const since = await store.lastAccess(user.uuid);
      const { total, unread } = await store.count({ tenantId }, readerOf(user), since, scope);
      return { totalCount: total, unreadCount: unread };
    },

    /** DIGIT's `lat/_update`: the user has seen their notifications now. */
    async markSeen(tenantId: string, user: UserInfo): Promise<void> {
      await store.setLastAccess(user.uuid, tenantId, clock.now());
    },
  };
}

export function readerOf(user: UserInfo): Reader {
  return { uuid: user.uuid, roles: user.roles.map((r) => ({ code: r.code, tenantId: r.tenantId })) };
}

export type UserEventService = ReturnType<typeof createUserEventService>;
