import type { Tx } from './db.js';

// The event contracts modules and buses share: what an event is, how it is appended, who consumes
// it, and what the dispatcher and the operator's admin offer. The implementations are in
// events.outbox.ts, events.dispatcher.ts, events.admin.ts and events.nats.ts.

/** CloudEvents 1.0, with the tenant as an extension attribute. */
export type CloudEvent<T = unknown> = {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  tenantid: string;
  data: T;
};

export type EventInput<T = unknown> = {
  /** e.g. `plinth.mdms.data.created.v1` */
  type: string;
  /** e.g. `/plinth/mdms` */
  source: string;
  /** The aggregate's id: events of one subject are delivered in order. */
  subject: string;
  tenantId: string;
  data: T;
  /**
   * Top-level keys of `data` that carry personal data: written to the outbox (and JetStream) as one
   * ciphertext under the tenant's key (`data.$sealed`) and opened again before any handler sees the
   * event. Appending with `sealed` fails when no sealer is registered: never PII in clear.
   *
   * Why sealed data and not only references: most events already carry ids only (individual,
   * household, complaint) and handlers read the record. Two cannot: a queued notification is the
   * only copy of what to send to whom (a bare mobile number has no record to read), and a received
   * exchange message is handed over as it was signed. Sealing keeps them self-contained, works the
   * same on JetStream (the stream holds ciphertext too), and handlers do not change.
   */
  sealed?: readonly string[];
};

/** Encrypts and decrypts sealed event data; the encryption module registers one per database. */
export type EventSealer = {
  /** `tx`: the transaction the event is appended in (keys may have to be read through it). */
  seal(tenantId: string, plaintext: string, tx: Tx): Promise<string>;
  open(tenantId: string, ciphertext: string): Promise<string>;
};

/**
 * An in-process consumer of events. Stable `name`: what it handled is recorded per subscriber, so
 * a redelivery never runs a handler twice for the same event.
 *
 * - Plain: `handle(event)` runs, then the event is recorded as handled (a crash between the two
 *   runs it again: the handler must itself be idempotent, e.g. move only what is left to move).
 * - `inTransaction: true`: the handler's writes and the handled record commit in one transaction
 *   (`tx`); the handler must write through `tx` only and must not open its own transaction.
 */
export type EventSubscriber =
  | {
      readonly name: string;
      readonly types: readonly string[] | '*';
      readonly inTransaction?: false;
      handle(event: CloudEvent): Promise<void>;
    }
  | {
      readonly name: string;
      readonly types: readonly string[] | '*';
      readonly inTransaction: true;
      handle(event: CloudEvent, tx: Tx): Promise<void>;
    };

export type OutboxStatus = 'pending' | 'delivered' | 'dead';

export type Outbox = {
  /** Writes the event in the caller's transaction: it exists exactly when the change does. */
  append<T>(tx: Tx, input: EventInput<T>): Promise<CloudEvent<T>>;
  /**
   * `append` for many events at once (multi-row inserts): the same rows, ids drawn in input order,
   * so the dispatcher delivers them exactly as if they had been appended one by one.
   */
  appendMany<T>(tx: Tx, inputs: readonly EventInput<T>[]): Promise<Array<CloudEvent<T>>>;
};

export type DeadLetter = {
  subscriber: string;
  eventId: string;
  type: string;
  subject: string;
  attempts: number;
  lastError: string | null;
  deadTime: number;
};

export type OutboxEntry = {
  id: string;
  type: string;
  subject: string;
  tenantId: string;
  status: OutboxStatus;
  attempts: number;
  generation: number;
  createdTime: number;
  deliveredTime: number | null;
  lastError: string | null;
  /** A re-queued row waiting for these subscribers only; null: for every subscriber. */
  targets: string[] | null;
};

export type RetryCriteria = {
  /** Dead letters of these events; every dead letter when absent or empty. */
  eventIds?: readonly string[];
  /** Only this subscriber's dead letters. */
  subscriber?: string;
};

export type ReplayCriteria = {
  /** Events created at or after this time (epoch ms). */
  since: number;
  /**
   * Re-run only this subscriber: the others, even those registered since, do not see the events.
   * When absent, every subscriber interested in them runs them again.
   */
  subscriber?: string;
  type?: string;
};

export type Dispatcher = {
  /** Which bus delivers: in this process from the outbox, or through NATS JetStream. */
  readonly mode: 'in-process' | 'jetstream';
  subscribe(subscriber: EventSubscriber): void;
  /** Asks for a delivery pass soon (after a commit). */
  kick(): void;
  /**
   * One pass over the outbox; returns how many events it finished. In-process: delivered to the
   * subscribers (tests call it directly). JetStream: published to the stream (handlers run later).
   */
  deliverPending(): Promise<number>;
  /**
   * Puts dead-lettered events back to delivery, for the subscribers that dead-lettered them only;
   * all of them when no ids are given. Answers how many events.
   */
  replayDead(ids?: readonly string[]): Promise<number>;
  /** `replayDead` with a subscriber filter: only that subscriber's dead letters go back. */
  retryDead(criteria?: RetryCriteria): Promise<number>;
  /** Delivers again the events since a time, dropping the handled marks that would skip them. */
  replay(criteria: ReplayCriteria): Promise<number>;
  /**
   * Resolves once every committed event has been handled or dead-lettered by every subscriber
   * (tests, benchmarks); rejects after `timeoutMs` (default 30 s). Needs a clock that moves.
   */
  settle(options?: { timeoutMs?: number }): Promise<void>;
  start(): Promise<void>;
  /** Finishes the handler in progress, then stops; nothing is lost (undelivered events stay queued). */
  stop(): Promise<void>;
};

export type DispatcherOptions = {
  /** Attempts per subscriber and event before the pair goes to the dead-letter table (default 8). */
  maxAttempts?: number;
  pollIntervalMs?: number;
  /** Delay before retry number `attempt` (1-based). */
  backoffMs?: (attempt: number) => number;
  onError?: (error: unknown, event: CloudEvent, subscriber: string) => void;
  /** Called after a handler ran and its handled mark is written (benchmarks time delivery with it). */
  onHandled?: (subscriber: string, event: CloudEvent) => void;
  onDeadLetter?: (subscriber: string, event: CloudEvent, error: unknown) => void;
};

/**
 * The operator's view of the outbox and the dead letters, and the two ways back to delivery. Pure
 * database work, the same for both buses: a re-queued row is picked up by the running dispatcher
 * (in-process) or republished by its relay with the next generation (JetStream).
 */
export type EventAdmin = {
  list(criteria?: { status?: OutboxStatus; type?: string; limit?: number }): Promise<OutboxEntry[]>;
  deadLetters(criteria?: { subscriber?: string; eventIds?: readonly string[]; limit?: number }): Promise<DeadLetter[]>;
  retryDead(criteria?: RetryCriteria): Promise<number>;
  replay(criteria: ReplayCriteria): Promise<number>;
};
