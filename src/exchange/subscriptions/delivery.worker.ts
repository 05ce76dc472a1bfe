import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { newId } from '../../kernel/ids.js';
import { createPassLoop } from '../../kernel/loop.js';
import type { TrustApi } from '../trust/index.js';
import { exponentialBackoff, type Backoff } from './subscriptions.rules.js';
import type { DeliveryPayloads } from './delivery.payloads.js';
import type { EventMessage } from './subscriptions.service.js';
import type { DeliveryRow, DueDelivery, SubscriptionStore } from './subscriptions.store.js';

export type DeliveryWorkerOptions = {
  /** How often pending deliveries are looked for when nothing kicks the worker. */
  pollIntervalMs: number;
  /** Delay before the next attempt after failed attempt number n. */
  backoff: Backoff;
  /** How long one POST (answer included) may take. */
  timeoutMs: number;
  /** How long a claimed delivery stays this worker's; longer than a signing plus a POST. */
  leaseMs: number;
  /** Pending rows read per pass. */
  batchSize: number;
  /** Deliveries sent at once (to different subjects or subscriptions). */
  concurrency: number;
  /** `exp` − `iat` of a signed message (the protocol says 300 s). */
  messageTtlSeconds: number;
  /** False: no polling and no kicks, only `deliverPending` calls send (tests that step the worker). */
  background: boolean;
};

export const defaultWorkerOptions: DeliveryWorkerOptions = {
  pollIntervalMs: 2_000,
  // 2 s, 4 s, 8 s … at most 30 min between attempts: a receiver down for a day still gets everything.
  backoff: exponentialBackoff(2_000, 30 * 60_000),
  timeoutMs: 10_000,
  leaseMs: 60_000,
  batchSize: 500,
  concurrency: 8,
  messageTtlSeconds: 300,
  background: true,
};

export type DeliveryWorker = {
  /** A send pass soon (after deliveries were queued). */
  kick(): void;
  /** Sends what is due now, until nothing more is; answers how many were delivered. */
  deliverPending(): Promise<number>;
  /** Purges the payloads past their retention now (the pass loop does it hourly); answers how many. */
  purge(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
};

export type DeliveryWorkerDeps = {
  database: Database;
  store: SubscriptionStore;
  clock: Clock;
  trust: TrustApi;
  logger: FastifyBaseLogger;
  options: DeliveryWorkerOptions;
  payloads: DeliveryPayloads;
  /** Payloads of finished deliveries older than this are purged (PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS). */
  retentionMs: number;
};

/** How often the worker looks for payloads past their retention. */
export const PURGE_EVERY_MS = 60 * 60_000;

type Outcome =
  | { ok: true; statusCode: number; receipt: string; receiptStatus: string }
  | { ok: false; statusCode: number | null; error: string };

const RECEIPT_STATUSES: ReadonlySet<unknown> = new Set(['ACCEPTED', 'DUPLICATE']);
/** Digests kept per delivery: a DUPLICATE receipt names the first message the receiver took. */
const MAX_DIGESTS = 100;
const MAX_ERROR = 1000;
/** The most of a receiver's answer read: a receipt is a few hundred bytes; more is refused unread. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** Text fit for a log and a search answer: runs of control, format and white-space characters (escapes, NULs, newlines) become one space. */
export function printable(text: string, max = MAX_ERROR): string {
  return Array.from(text.replace(/[\p{C}\s]+/gu, ' ').trim()).slice(0, max).join('');
}

export class AnswerTooLarge extends Error {}

/** The answer's body as text, at most `limit` bytes; beyond that the transfer is cancelled. */
export async function readBounded(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new AnswerTooLarge(`the answer declares ${declared} bytes, more than ${limit}`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new AnswerTooLarge(`the answer is longer than ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const digestOf = (jws: string) => createHash('sha256').update(jws).digest('base64url');

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, MAX_ERROR);

/** DIGIT's error body, as `CODE: message`, or the start of whatever the receiver answered. */
function errorOfBody(text: string): string {
  try {
    const body = JSON.parse(text) as { Errors?: Array<{ code?: unknown; message?: unknown }> };
    const first = body.Errors?.[0];
    if (first && typeof first.code === 'string') return `${first.code}: ${String(first.message ?? '')}`.slice(0, MAX_ERROR);
  } catch {
    // Not JSON: keep the text itself.
  }
  return text.slice(0, MAX_ERROR);
}

/**
 * Sends queued deliveries: per (subscription, event subject) strictly in event order — a failing
 * delivery holds back the later ones of its subject for that subscription only —, signed anew on
 * every attempt with the delivery's fixed message id, each answer's receipt verified before the
 * delivery counts as delivered; failures retry with backoff until the subscription's maxAttempts,
 * then DEAD. Rows are claimed with a lease, so several processes can run workers side by side.
 */
export function createDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const { database, store, clock, trust, logger, options, payloads } = deps;
  const owner = newId();
  let purgedAt: number | undefined;

  /** Purges the payloads past their retention; runs from the pass loop at most once every PURGE_EVERY_MS. */
  async function purge(): Promise<number> {
    purgedAt = clock.now();
    const before = purgedAt - deps.retentionMs;
    // What this agency sent, then what it received (the trust module's inbox).
    const purged = (await payloads.purge(before)) + (await trust.purgePayloads(before));
    if (purged > 0) logger.info({ purged, retentionDays: deps.retentionMs / 86_400_000 }, 'exchange: payloads past their retention purged');
    return purged;
  }

  async function send(row: DueDelivery, digests: string[]): Promise<Outcome> {
    const message = await payloads.open<EventMessage>(row.tenant_id, row.message);
    if (message === null) return { ok: false, statusCode: null, error: 'PAYLOAD_PURGED: the message is past its retention; only its evidence is kept' };
    const iat = Math.floor(clock.now() / 1000);
    let jws: string;
    try {
      jws = await trust.sign(
        { aud: row.agency_id, jti: row.id, iat, exp: iat + options.messageTtlSeconds, subscriptionId: row.subscription_id, event: message },
        'plinth-event+jws',
      );
    } catch (error) {
      return { ok: false, statusCode: null, error: `SIGNING_FAILED: ${describe(error)}` };
    }
    digests.push(digestOf(jws));
    let status: number;
    let text: string;
    const abort = new AbortController();
    try {
      const response = await fetch(row.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/jose', accept: 'application/json' },
        body: jws,
        // A receiver is answered by its own URL or not at all: no following redirects elsewhere.
        redirect: 'manual',
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(options.timeoutMs)]),
      });
      status = response.status;
      try {
        text = await readBounded(response, MAX_ANSWER_BYTES);
      } catch (error) {
        if (!(error instanceof AnswerTooLarge)) throw error;
        // Nothing more of it is read: the connection goes, and the attempt counts as failed.
        abort.abort();
        return { ok: false, statusCode: status, error: `ANSWER_TOO_LARGE: ${error.message}` };
      }
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
      return { ok: false, statusCode: null, error: `UNREACHABLE: ${describe(error)}${cause}`.slice(0, MAX_ERROR) };
    }
    if (status !== 200) return { ok: false, statusCode: status, error: errorOfBody(text) };
    let receipt: unknown;
    try {
      receipt = (JSON.parse(text) as { receipt?: unknown }).receipt;
    } catch {
      receipt = undefined;
    }
    if (typeof receipt !== 'string') return { ok: false, statusCode: status, error: 'BAD_RECEIPT: the answer holds no receipt' };
    try {
      const verified = await trust.verify(receipt, 'plinth-receipt+jws');
      const p = verified.payload;
      const wrong =
        verified.agencyId !== row.agency_id
          ? `signed by "${verified.agencyId}", not the subscribed agency "${row.agency_id}"`
          : p['messageId'] !== row.id
            ? 'messageId is not this delivery'
            : p['eventId'] !== message.id
              ? 'eventId is not this event'
              : typeof p['digest'] !== 'string' || !digests.includes(p['digest'])
                ? 'digest matches no message sent'
                : !RECEIPT_STATUSES.has(p['status'])
                  ? 'status is neither ACCEPTED nor DUPLICATE'
                  : undefined;
      if (wrong) return { ok: false, statusCode: status, error: `BAD_RECEIPT: ${wrong}` };
      return { ok: true, statusCode: status, receipt, receiptStatus: p['status'] as string };
    } catch (error) {
      return { ok: false, statusCode: status, error: `BAD_RECEIPT: ${describe(error)}` };
    }
  }

  /** One attempt at one delivery; true when it was delivered. */
  async function attempt(row: DueDelivery): Promise<boolean> {
    const claimedAt = clock.now();
    if (!(await store.claim(row.id, owner, claimedAt, claimedAt + options.leaseMs))) return false;
    const digests = [...database.fromJson<string[]>(row.sent_digests)];
    const outcome = await send(row, digests);
    const now = clock.now();
    const attempts = row.attempts + 1;
    const common: Partial<DeliveryRow> = {
      attempts,
      last_attempt_time: now,
      last_status_code: outcome.statusCode,
      sent_digests: database.toJson(digests.slice(-MAX_DIGESTS)),
      last_modified_time: now,
    };
    const changes: Partial<DeliveryRow> = outcome.ok
      ? { ...common, status: 'DELIVERED', last_error: null, receipt: outcome.receipt, receipt_status: outcome.receiptStatus, delivered_time: now }
      : {
          ...common,
          status: attempts >= row.max_attempts ? 'DEAD' : 'PENDING',
          last_error: printable(outcome.error),
          next_attempt_time: now + options.backoff(attempts),
        };
    if (!outcome.ok) logger.warn({ deliveryId: row.id, subscriptionId: row.subscription_id, attempts, error: printable(outcome.error) }, 'delivery failed');
    const recorded = await store.finishAttempt(row.id, owner, changes);
    return outcome.ok && recorded;
  }

  async function pass(): Promise<number> {
    if (purgedAt === undefined || clock.now() - purgedAt >= PURGE_EVERY_MS) await purge();
    // Heads of their groups only, due and unleased: a later delivery of a subject waits behind its head.
    const heads = await store.dueHeads(options.batchSize, clock.now());
    let delivered = 0;
    let next = 0;
    const lane = async () => {
      while (next < heads.length) {
        const row = heads[next++]!;
        try {
          if (await attempt(row)) delivered++;
        } catch (error) {
          // The database failed under us: the lease lapses and another pass tries again.
          logger.error({ err: error, deliveryId: row.id }, 'delivery attempt could not be recorded');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency, heads.length) }, lane));
    return delivered;
  }

  const loop = createPassLoop(pass, {
    pollIntervalMs: options.pollIntervalMs,
    // A delivered head lets the next delivery of its group go at once.
    again: (delivered) => delivered > 0,
    onError: (error) => logger.error({ err: error }, 'delivery pass failed'),
  });

  return {
    kick: loop.kick,
    deliverPending: loop.run,
    purge,
    start() {
      if (options.background) loop.start();
    },
    stop: loop.stop,
  };
}
