import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { DomainError } from '../../kernel/errors.js';
import type { Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { isTenantIdSyntax } from '../../kernel/tenancy.js';
import { canonicalJson, digestOf, malformedMessage, peek, type ExchangeJwsType, type Verified } from './trust.jws.js';
import type { InboxCriteria, InboxRow, TrustStore } from './trust.store.js';
import { SECRET_PREFIX, type EncryptionService, type PersonalFields } from '../../common/encryption/index.js';

/** `<header>.<payload>.<signature>` → the detached JWS and the payload. */
export function splitJws(jws: string): { detached: string; payload: string } {
  const [header = '', payload = '', signature = ''] = jws.split('.');
  return { detached: `${header}..${signature}`, payload };
}

/** The hand-over of an accepted message to this agency's handlers (docs/exchange.md). */
export const RECEIVED_EVENT = 'plinth.exchange.received.v1';
const SOURCE = '/plinth/exchange/trust';

/** The CloudEvent inside a message, as received. */
export type ReceivedCloudEvent = {
  specversion: '1.0';
  id: string;
  type: string;
  source: string;
  tenantid: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  data: unknown;
  [extension: string]: unknown;
};

export type ReceivedData = {
  messageId: string;
  sender: string;
  subscriptionId: string | null;
  receivedTime: number;
  event: ReceivedCloudEvent;
};

export type ReceiveStatus = 'ACCEPTED' | 'DUPLICATE';
export type ReceiveResult = { status: ReceiveStatus; receipt: string; messageId: string; sender: string };

/** The receipt's payload as signed (besides `iss`, set by signing). */
export type ReceiptClaims = {
  aud: string;
  jti: string;
  iat: number;
  messageId: string;
  eventId: string;
  digest: string;
  status: 'ACCEPTED';
};

export type Receiver = {
  /**
   * Verifies and records one message. `raw` is the body as received, kept (sealed) when the message
   * is refused: its first 4 KiB when the sender's signature checked out, 256 bytes otherwise.
   * Throws DomainError on refusal, after recording it.
   */
  receive(jws: string | undefined, raw: string, remoteAddress: string | null): Promise<ReceiveResult>;
  /** Deletes refusals past their retention (age, then row cap); also run on every insert (age) and every so often (cap). */
  pruneRefusals(): Promise<number>;
  /** Drops the payloads of messages received before `before` (epoch ms); answers how many. */
  purgePayloads(before: number): Promise<number>;
  /** Splits and encrypts inbox rows stored before payloads were encrypted; answers how many. */
  sealStored(): Promise<number>;
  /** Seals the body heads of refusals recorded before heads were sealed; answers how many. */
  sealStoredRefusals(): Promise<number>;
  /** For operators: accepted messages (RECEIVED) or refusals (REFUSED), newest first. */
  search(criteria: InboxSearch): Promise<{ messages: InboxMessage[]; refusals: Refusal[] }>;
};

export type InboxSearch = Partial<Omit<InboxCriteria, 'limit' | 'offset'>> & {
  kind?: 'RECEIVED' | 'REFUSED' | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
};

export type InboxMessage = {
  id: string;
  sender: string;
  messageId: string;
  kid: string;
  subscriptionId: string | null;
  eventId: string;
  eventType: string;
  tenantId: string;
  digest: string;
  jws: string;
  receipt: string;
  handoverEventId: string;
  receivedTime: number;
};

export type Refusal = {
  id: string;
  code: string;
  message: string;
  sender: string | null;
  senderVerified: boolean;
  messageId: string | null;
  remoteAddress: string | null;
  bodyHead: string;
  bodyLength: number;
  receivedTime: number;
};

export type ReceiverDeps = {
  readonly database: Database;
  readonly store: TrustStore;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly logger: FastifyBaseLogger;
  verify(jws: string, typ: ExchangeJwsType): Promise<Verified>;
  sign(payload: Record<string, unknown>, typ: ExchangeJwsType): Promise<string>;
  /** How long and how many refusals are kept; defaults: REFUSAL_RETENTION. */
  readonly refusalRetention?: Partial<RefusalRetention> | undefined;
  /** The received payload is stored encrypted under the event tenant's key (common/encryption). */
  readonly payloads: PersonalFields<{ payload: string | null }>;
  /** A refused body's head is sealed under the master key: it may hold personal data and names no trusted tenant. */
  readonly secrets: Pick<EncryptionService, 'sealSecret' | 'openSecret'>;
};

/**
 * Refusals are evidence for operators, but anyone can cause one on the open route: they are kept
 * for a while and up to a number of rows, so that junk cannot fill the database.
 */
export type RefusalRetention = {
  /** Refusals older than this are deleted (checked on every insert; the time index makes it cheap). */
  maxAgeMs: number;
  /** At most this many refusals are kept, the newest. */
  maxRows: number;
  /** The row cap is enforced on the first insert and then every this many inserts of a process (counting is not free). */
  capCheckEvery: number;
};
export const REFUSAL_RETENTION: RefusalRetention = { maxAgeMs: 30 * 24 * 3_600_000, maxRows: 100_000, capCheckEvery: 100 };

/** What is kept of a refused body: a signed (verified) sender's message is worth more than an anonymous one. */
const BODY_HEAD_VERIFIED = 4096;
const BODY_HEAD_UNVERIFIED = 256;
/** The head is bound to its refusal row: copied onto another row, it does not open. */
const headPurpose = (refusalId: string) => `exchange.refusal.body_head:${refusalId}`;
const MAX_DEPTH = 64;
const MAX_ID = 200;
// NUL and unpaired UTF-16 surrogates: PostgreSQL text and jsonb cannot hold them.
// eslint-disable-next-line no-control-regex -- NUL is exactly what is looked for
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

class InboxRace extends Error {}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Text as a refusal record can hold it: at most `maxBytes` bytes of UTF-8, NUL and lone surrogates replaced. */
export function storable(text: string, maxBytes: number): string {
  // Each UTF-16 unit is at least one byte: this many units hold at least the bytes wanted.
  let head = text.slice(0, maxBytes);
  // Do not cut a surrogate pair in two.
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1);
  head = head.replace(UNSTORABLE_ALL, '\ufffd');
  if (Buffer.byteLength(head, 'utf8') <= maxBytes) return head;
  let out = '';
  let bytes = 0;
  for (const char of head) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}

/** Nesting depth and unstorable strings, walked without recursion (a hostile payload may nest deeply). */
function payloadProblem(value: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item === 'string') {
      if (UNSTORABLE.test(item)) return 'The message holds a NUL character or an unpaired surrogate';
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (depth >= MAX_DEPTH) return `The message nests deeper than ${MAX_DEPTH} levels`;
    for (const [key, child] of Object.entries(item)) {
      if (UNSTORABLE.test(key)) return 'The message holds a NUL character or an unpaired surrogate';
      stack.push([child, depth + 1]);
    }
  }
  return undefined;
}

const idOk = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= MAX_ID;

function checkEvent(value: unknown): ReceivedCloudEvent {
  if (!isRecord(value)) throw malformedMessage('The message has no event (a CloudEvent 1.0 object)');
  const problems: string[] = [];
  if (value['specversion'] !== '1.0') problems.push('event.specversion must be "1.0"');
  for (const field of ['id', 'type'] as const) if (!idOk(value[field])) problems.push(`event.${field} must be 1-${MAX_ID} characters`);
  const source = value['source'];
  if (typeof source !== 'string' || source === '' || source.length > 2048) problems.push('event.source must be 1-2048 characters');
  const tenant = value['tenantid'];
  if (typeof tenant !== 'string' || !isTenantIdSyntax(tenant)) problems.push('event.tenantid must be a tenant id (e.g. "pb.amritsar")');
  if (!('data' in value) || value['data'] === undefined) problems.push('event.data is required');
  for (const field of ['subject', 'time', 'datacontenttype'] as const) {
    const v = value[field];
    if (v !== undefined && (typeof v !== 'string' || v.length > 512)) problems.push(`event.${field} must be a string of at most 512 characters`);
  }
  if (problems.length > 0) {
    throw new DomainError(
      'invalid',
      problems.map((message) => ({ code: 'MALFORMED_MESSAGE', message: `Not a CloudEvent 1.0: ${message}`, params: null })),
    );
  }
  return value as ReceivedCloudEvent;
}

/**
 * The receiving end of an exchange: verify, refuse replays, record the message in the inbox and
 * hand it over through the outbox in one transaction, answer a signed receipt. Every refusal is
 * recorded. The unique (sender, message id) key decides concurrent duplicates: of two deliveries
 * of one message, one is accepted and the other answers DUPLICATE, with a single hand-over.
 */
export function createReceiver(deps: ReceiverDeps): Receiver {
  const { database, store, outbox, clock, logger } = deps;
  const retention: RefusalRetention = { ...REFUSAL_RETENTION, ...deps.refusalRetention };
  let refusalsInserted = 0;

  async function pruneByAge(): Promise<number> {
    return store.pruneRefusalsBefore(clock.now() - retention.maxAgeMs);
  }
  async function pruneRefusals(): Promise<number> {
    const removed = (await pruneByAge()) + (await store.pruneRefusalsBeyond(retention.maxRows));
    if (removed > 0) logger.info({ removed }, 'old exchange refusals pruned');
    return removed;
  }

  function answerExisting(existing: InboxRow, contentDigest: string): ReceiveResult {
    if (existing.content_digest !== contentDigest) {
      throw new DomainError('conflict', {
        code: 'MESSAGE_REPLAYED',
        message: `Message "${existing.message_id}" of "${existing.sender}" was received before with a different body`,
        params: [existing.message_id],
      });
    }
    return { status: 'DUPLICATE', receipt: existing.receipt, messageId: existing.message_id, sender: existing.sender };
  }

  async function accept(jws: string, seen: { sender?: string }): Promise<ReceiveResult> {
    const verified = await deps.verify(jws, 'plinth-event+jws');
    seen.sender = verified.agencyId;
    const { payload } = verified;
    const problem = payloadProblem(payload);
    if (problem) throw malformedMessage(problem);
    const event = checkEvent(payload['event']);
    const subscriptionId = payload['subscriptionId'];
    if (subscriptionId !== undefined && subscriptionId !== null && !idOk(subscriptionId)) {
      throw malformedMessage(`The message's subscriptionId must be 1-${MAX_ID} characters`);
    }
    const sender = verified.agencyId;
    const messageId = payload['jti'] as string;
    const digest = digestOf(jws);
    // What a retry keeps: it is signed anew (new iat/exp) but carries the same content.
    const content = Object.fromEntries(Object.entries(payload).filter(([key]) => key !== 'iat' && key !== 'exp'));
    const contentDigest = digestOf(canonicalJson(content));

    const existing = await store.inboxMessage(sender, messageId);
    if (existing) return answerExisting(existing, contentDigest);

    const now = clock.now();
    const claims: ReceiptClaims = {
      aud: sender,
      jti: newId(),
      iat: Math.floor(now / 1000),
      messageId,
      eventId: event.id,
      digest,
      status: 'ACCEPTED',
    };
    const receipt = await deps.sign(claims, 'plinth-receipt+jws');
    const data: ReceivedData = { messageId, sender, subscriptionId: subscriptionId ?? null, receivedTime: now, event };
    const parts = splitJws(jws);
    // Loaded before the transaction (the hand-over and the payload are sealed inside it).
    await deps.payloads.ready(event.tenantid);
    const sealedPayload = (await deps.payloads.seal(event.tenantid, { payload: parts.payload })).payload;
    const accepted = await database
      .transaction(async (tx) => {
        const handover = await outbox.append(tx, {
          type: RECEIVED_EVENT,
          source: SOURCE,
          subject: event.subject ?? event.id,
          tenantId: event.tenantid,
          data,
          // The received event names people: sealed in the outbox, opened for this agency's handlers.
          sealed: ['event'],
        });
        const inserted = await store.insertInbox(tx, {
          id: newId(),
          sender,
          message_id: messageId,
          kid: verified.kid,
          subscription_id: subscriptionId ?? null,
          event_id: event.id,
          event_type: event.type,
          tenant_id: event.tenantid,
          digest,
          content_digest: contentDigest,
          jws: parts.detached,
          payload: sealedPayload,
          receipt,
          handover_event_id: handover.id,
          received_time: now,
        });
        // A concurrent delivery of the same message committed first: roll this hand-over back.
        if (!inserted) throw new InboxRace();
        return true;
      })
      .catch((error: unknown) => {
        if (error instanceof InboxRace) return false;
        throw error;
      });
    if (!accepted) {
      const winner = await store.inboxMessage(sender, messageId);
      if (!winner) throw new Error('exchange-trust: a concurrent delivery won the inbox key but its row is missing');
      return answerExisting(winner, contentDigest);
    }
    logger.info({ sender, messageId, eventId: event.id, type: event.type }, 'exchange message accepted');
    return { status: 'ACCEPTED', receipt, messageId, sender };
  }

  async function recordRefusal(
    error: DomainError,
    jws: string | undefined,
    raw: string,
    remoteAddress: string | null,
    verifiedSender: string | undefined,
  ): Promise<void> {
    const claims = jws === undefined ? undefined : peek(jws)?.payload;
    const iss = verifiedSender ?? claims?.['iss'];
    const jti = claims?.['jti'];
    try {
      const id = newId();
      const head = storable(raw, verifiedSender === undefined ? BODY_HEAD_UNVERIFIED : BODY_HEAD_VERIFIED);
      await store.insertRefusal({
        id,
        code: error.code,
        message: storable(error.message, 1000),
        sender: typeof iss === 'string' ? storable(iss, MAX_ID) : null,
        sender_verified: verifiedSender !== undefined,
        message_id: typeof jti === 'string' ? storable(jti, MAX_ID) : null,
        remote_address: remoteAddress === null ? null : storable(remoteAddress, 100),
        body_head: await deps.secrets.sealSecret(headPurpose(id), head),
        body_length: raw.length,
        received_time: clock.now(),
      });
      // Opportunistic: the table stays bounded without a scheduled job.
      if (refusalsInserted++ % retention.capCheckEvery === 0) await pruneRefusals();
      else await pruneByAge();
    } catch (recordError) {
      // The refusal still reaches the sender; losing its record must not turn it into a 500.
      logger.error({ err: recordError, code: error.code }, 'could not record a refused exchange message');
    }
    logger.warn({ code: error.code, sender: iss, messageId: jti, remoteAddress }, 'exchange message refused');
  }

  /** Drops the payloads of messages received before `before`; the evidence (digests, detached JWS, receipt) stays. */
  async function purgePayloads(before: number): Promise<number> {
    const purged = await store.purgeInboxPayloads(before);
    if (purged > 0) logger.info({ purged }, 'exchange: payloads of received messages past their retention purged');
    return purged;
  }

  /** A stored head as recorded; one that is not sealed (or does not open: junk that looks sealed) as it is stored. */
  async function openHead(id: string, stored: string): Promise<string> {
    if (!stored.startsWith(SECRET_PREFIX)) return stored;
    return deps.secrets.openSecret(headPurpose(id), stored).catch(() => stored);
  }

  /** Seals the heads of refusals recorded before heads were sealed (run at start, idempotent). */
  async function sealStoredRefusals(): Promise<number> {
    let done = 0;
    let after = '';
    for (;;) {
      const rows = await store.unsealedRefusals(after, 200, SECRET_PREFIX);
      if (rows.length === 0) return done;
      after = rows[rows.length - 1]!.id;
      for (const r of rows) {
        await store.sealRefusalHead(r.id, r.body_head, await deps.secrets.sealSecret(headPurpose(r.id), r.body_head));
        done++;
      }
    }
  }

  /** Splits and encrypts inbox rows received before payloads were encrypted (run at start, idempotent). */
  async function sealStored(): Promise<number> {
    let done = 0;
    let after = '';
    for (;;) {
      const rows = await store.unsplitInbox(after, 200);
      if (rows.length === 0) return done;
      after = rows[rows.length - 1]!.id;
      for (const r of rows) {
        const parts = splitJws(r.jws);
        if (parts.payload === '') continue;
        const sealed = (await deps.payloads.seal(r.tenant_id, { payload: parts.payload })).payload!;
        await store.splitInbox(r.id, r.jws, parts.detached, sealed);
        done++;
      }
    }
  }

  return {
    pruneRefusals,
    purgePayloads,
    sealStored,
    sealStoredRefusals,
    async receive(jws, raw, remoteAddress) {
      const seen: { sender?: string } = {};
      try {
        if (jws === undefined) {
          throw malformedMessage('Send one compact JWS as the body (Content-Type: application/jose), or {"jws": "<compact JWS>"} as application/json');
        }
        return await accept(jws, seen);
      } catch (error) {
        if (error instanceof DomainError) await recordRefusal(error, jws, raw, remoteAddress, seen.sender);
        throw error;
      }
    },

    async search(criteria) {
      const query: InboxCriteria = {
        sender: criteria.sender,
        messageId: criteria.messageId,
        eventType: criteria.eventType,
        code: criteria.code,
        fromTime: criteria.fromTime,
        toTime: criteria.toTime,
        limit: Math.min(Math.max(criteria.limit ?? 100, 1), 1000),
        offset: Math.max(criteria.offset ?? 0, 0),
      };
      if (criteria.kind === 'REFUSED') {
        const rows = await store.searchRefusals(query);
        return {
          messages: [],
          refusals: await Promise.all(rows.map(async (r) => ({
            id: r.id,
            code: r.code,
            message: r.message,
            sender: r.sender,
            senderVerified: r.sender_verified,
            messageId: r.message_id,
            remoteAddress: r.remote_address,
            bodyHead: await openHead(r.id, r.body_head),
            bodyLength: r.body_length,
            receivedTime: r.received_time,
          }))),
        };
      }
      const rows = await store.searchInbox(query);
      // The whole JWS while its payload is kept; the detached JWS (evidence only) once purged.
      const jwsOf = async (r: InboxRow) => {
        if (r.payload === null) return r.jws;
        const { payload } = await deps.payloads.open(r.tenant_id, { payload: r.payload });
        const [header, , signature] = r.jws.split('.');
        return `${header}.${payload}.${signature}`;
      };
      const whole = await Promise.all(rows.map(jwsOf));
      return {
        refusals: [],
        messages: rows.map((r, i) => ({
          id: r.id,
          sender: r.sender,
          messageId: r.message_id,
          kid: r.kid,
          subscriptionId: r.subscription_id,
          eventId: r.event_id,
          eventType: r.event_type,
          tenantId: r.tenant_id,
          digest: r.digest,
          jws: whole[i]!,
          receipt: r.receipt,
          handoverEventId: r.handover_event_id,
          receivedTime: r.received_time,
        })),
      };
    },
  };
}
