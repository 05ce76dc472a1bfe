import { createHash } from 'node:crypto';
import { connect, headers, nanos, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Clock } from './clock.js';
import { createPassLoop } from './loop.js';
import type { Database } from './db.js';
import {
  createEventAdmin,
  dispatcherBasics,
  defaultBackoffMs,
  errorText,
  forEachPendingBatch,
  handleOnce,
  interestedIn,
  isTargeted,
  markFinished,
  pendingCount,
  recordDeadLetter,
  targetsOf,
  waitUntil,
  withDispatchLock,
  eventOfRow,
  type CloudEvent,
  type Dispatcher,
  type DispatcherOptions,
  type EventSubscriber,
  type OutboxRow,
} from './events.js';

export type JetStreamOptions = DispatcherOptions & {
  /** `nats://host:port` (EVENT_BUS_URL). */
  url: string;
  /** Stream name (default PLINTH_EVENTS): tests and benchmarks pass their own to stay apart. */
  stream?: string;
  /** Subjects are `<prefix>.<partition>.<event type>` (default prefix `plinth.events`). */
  subjectPrefix?: string;
  /**
   * Partitions (default 8): a record's events all go to partition hash(subject) % P and each
   * subscriber handles one event at a time per partition, so order per record holds while the
   * partitions run in parallel. Changing P remaps records: change it only with an empty stream.
   */
  partitions?: number;
  /** Unacknowledged for this long (a process died mid-handler): JetStream redelivers (default 30 s). */
  ackWaitMs?: number;
  /** How long the stream keeps messages (default 7 days); the outbox stays the record for replays. */
  maxAgeMs?: number;
  /** Connection name shown by the NATS server. */
  name?: string;
};

const GENERATION_HEADER = 'Plinth-Generation';
/** A re-queued row's targets (JSON list of subscriber names): every other consumer acks it unseen. */
const TARGETS_HEADER = 'Plinth-Targets';
const PUBLISH_TIMEOUT_MS = 10_000;

/** FNV-1a: stable across processes and versions, so every process sends a record to the same partition. */
export function partitionOf(subject: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < subject.length; i++) {
    hash ^= subject.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

/** An event type as NATS subject tokens: no wildcards, spaces or empty tokens. */
export function typeToken(type: string): string {
  return type
    .split('.')
    .map((token) => token.replace(/[^A-Za-z0-9_-]/g, '_') || '_')
    .join('.');
}

/** A durable consumer name: NATS allows no dots or wildcards; the hash keeps `a.b` and `a_b` apart. */
export function consumerName(subscriber: string, partition: number): string {
  const safe = subscriber.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const hash = createHash('sha256').update(subscriber).digest('hex').slice(0, 8);
  return `${safe}-${hash}-p${partition}`;
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

/**
 * The JetStream bus. A relay publishes pending outbox rows in id order (one at a time per record,
 * many records at once) with `Nats-Msg-Id = <id>.<generation>`, so a relay killed between publish
 * and marking republishes into JetStream's duplicate window without a duplicate, then marks them
 * delivered. Each subscriber has one durable pull consumer per partition (max_ack_pending 1, so a
 * record's events are handled in order); processes binding the same durable consumers share the
 * work. Handler, handled mark, ack; a mark already there: ack without running; a failure: nak with
 * backoff; after maxAttempts: dead letter and term. Retries and replays requeue the outbox row with
 * the next generation, which the relay publishes again, with the subscribers it is for in a header
 * when it is aimed at some: the other consumers ack it without running.
 */
export function createJetStreamDispatcher(database: Database, clock: Clock, options: JetStreamOptions): Dispatcher {
  const stream = options.stream ?? 'PLINTH_EVENTS';
  const prefix = options.subjectPrefix ?? 'plinth.events';
  const partitions = options.partitions ?? 8;
  const maxAttempts = options.maxAttempts ?? 8;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const backoffMs = options.backoffMs ?? defaultBackoffMs;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 7 * 24 * 3600_000;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 1024)
    throw new Error(`partitions must be 1..1024, got ${partitions}`);

  const admin = createEventAdmin(database, clock);
  const subscribers: EventSubscriber[] = [];
  const consumers: Array<{ subscriber: EventSubscriber; name: string }> = [];
  const loops: Array<{ messages: ConsumerMessages; done: Promise<void> }> = [];
  const attaching = new Set<Promise<void>>();
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let jsm: JetStreamManager | undefined;
  let stopped = true;
  let inFlight = 0;
  let filterSubjectsSupported = false;

  async function ensureStream(manager: JetStreamManager): Promise<void> {
    try {
      await manager.streams.info(stream);
      return;
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    }
    try {
      await manager.streams.add({
        name: stream,
        subjects: [`${prefix}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(maxAgeMs),
        duplicate_window: nanos(120_000),
      });
    } catch (error) {
      // Another process created it meanwhile.
      await manager.streams.info(stream).catch(() => {
        throw error;
      });
    }
  }

  function filterOf(subscriber: EventSubscriber, partition: number): Pick<ConsumerConfig, 'filter_subject' | 'filter_subjects'> {
    const base = `${prefix}.${partition}`;
    if (subscriber.types === '*') return { filter_subject: `${base}.>` };
    const subjects = [...new Set(subscriber.types.map((type) => `${base}.${typeToken(type)}`))];
    if (subjects.length === 1) return { filter_subject: subjects[0]! };
    // NATS before 2.10 has a single filter: take the partition and skip other types when they arrive.
    return filterSubjectsSupported ? { filter_subjects: subjects } : { filter_subject: `${base}.>` };
  }

  async function ensureConsumer(manager: JetStreamManager, subscriber: EventSubscriber, partition: number): Promise<string> {
    const name = consumerName(subscriber.name, partition);
    const filter = filterOf(subscriber, partition);
    const wanted: Partial<ConsumerConfig> = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      // Only events committed from now on: a subscriber added later starts at the present, as in-process.
      deliver_policy: DeliverPolicy.New,
      max_ack_pending: 1,
      max_deliver: -1,
      ack_wait: nanos(ackWaitMs),
      ...filter,
    };
    try {
      const info = await manager.consumers.info(stream, name);
      const same =
        info.config.filter_subject === filter.filter_subject &&
        JSON.stringify(info.config.filter_subjects ?? []) === JSON.stringify(filter.filter_subjects ?? []) &&
        info.config.ack_wait === wanted.ack_wait;
      if (!same) {
        await manager.consumers.update(stream, name, {
          ack_wait: wanted.ack_wait,
          ...(filter.filter_subjects
            ? { filter_subjects: filter.filter_subjects, filter_subject: '' }
            : { filter_subject: filter.filter_subject, filter_subjects: [] }),
        });
      }
      return name;
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    }
    // Adding an identical durable consumer is idempotent, so two processes starting together both succeed.
    await manager.consumers.add(stream, wanted);
    return name;
  }

  async function handleMessage(subscriber: EventSubscriber, msg: JsMsg): Promise<void> {
    let event: CloudEvent;
    try {
      event = JSON.parse(new TextDecoder().decode(msg.data)) as CloudEvent;
    } catch {
      // Not ours or corrupt: it can never succeed, so it must not hold the partition.
      msg.term();
      return;
    }
    // Not for this subscriber (another type, or a retry or replay aimed at others): acked unseen,
    // with no handled mark, so a later replay aimed at it still runs it.
    if (!interestedIn(subscriber, event.type) || !isTargeted(targetsOf(msg.headers?.get(TARGETS_HEADER)), subscriber.name)) {
      msg.ack();
      return;
    }
    const generation = Number(msg.headers?.get(GENERATION_HEADER) ?? 0) || 0;
    inFlight++;
    // A handler slower than ack_wait must not be redelivered to another process while it runs.
    const keepAlive = setInterval(() => msg.working(), Math.max(1000, Math.floor(ackWaitMs / 3)));
    try {
      const ran = await handleOnce(database, clock, subscriber, event);
      msg.ack();
      if (ran) options.onHandled?.(subscriber.name, event);
    } catch (error) {
      options.onError?.(error, event, subscriber.name);
      const attempts = msg.info.deliveryCount;
      try {
        if (attempts >= maxAttempts) {
          await recordDeadLetter(database, clock, subscriber.name, event, attempts, error);
          await database.kysely
            .withTables<{ plinth_outbox: Pick<OutboxRow, 'id' | 'generation' | 'status' | 'attempts' | 'last_error'> }>()
            .updateTable('plinth_outbox')
            .set({ status: 'dead', attempts, last_error: errorText(error) })
            .where('id', '=', event.id)
            .where('generation', '=', generation)
            .execute();
          // No reason text: NATS before 2.10 does not parse `+TERM <reason>` and would leave the message pending.
          msg.term();
          options.onDeadLetter?.(subscriber.name, event, error);
        } else {
          msg.nak(backoffMs(attempts));
        }
      } catch {
        // The database is unreachable: let JetStream redeliver later.
        msg.nak(backoffMs(attempts));
      }
    } finally {
      clearInterval(keepAlive);
      inFlight--;
    }
  }

  async function attach(subscriber: EventSubscriber): Promise<void> {
    const client = js!;
    for (let partition = 0; partition < partitions; partition++) {
      const name = await ensureConsumer(jsm!, subscriber, partition);
      consumers.push({ subscriber, name });
      if (stopped) return;
      const consumer = await client.consumers.get(stream, name);
      const messages = await consumer.consume({ max_messages: 1 });
      const done = (async () => {
        for await (const msg of messages) await handleMessage(subscriber, msg);
      })().catch((error: unknown) => {
        if (!stopped) options.onError?.(error, { id: '', type: '', subject: '' } as CloudEvent, subscriber.name);
      });
      loops.push({ messages, done });
    }
  }

  function track(work: Promise<void>): Promise<void> {
    attaching.add(work);
    return work.finally(() => attaching.delete(work));
  }

  async function publish(client: JetStreamClient, row: OutboxRow): Promise<void> {
    const event = eventOfRow(database, row);
    const h = headers();
    h.set(GENERATION_HEADER, String(row.generation));
    if (row.targets !== null) h.set(TARGETS_HEADER, row.targets);
    h.set('Content-Type', 'application/cloudevents+json');
    await client.publish(`${prefix}.${partitionOf(row.subject, partitions)}.${typeToken(row.type)}`, JSON.stringify(event), {
      msgID: `${row.id}.${row.generation}`,
      headers: h,
      expect: { streamName: stream },
      timeout: PUBLISH_TIMEOUT_MS,
    });
  }

  /** One relay pass: every pending row published in order per record, then marked delivered. */
  async function relayPass(): Promise<number> {
    const client = js;
    if (!client) return 0;
    // A subscriber added after start gets its consumers (DeliverPolicy.New) before anything more is
    // published, so an event committed after subscribe() reaches it, as in-process.
    await Promise.allSettled([...attaching]);
    let published = 0;
    await forEachPendingBatch(database, async (rows) => {
      // Records in parallel, each record's events one after another: a failed publish stops its record.
      const chains = new Map<string, Promise<boolean>>();
      const done: OutboxRow[] = [];
      let failure: unknown;
      for (const row of rows) {
        const previous = chains.get(row.subject) ?? Promise.resolve(true);
        chains.set(
          row.subject,
          previous.then(async (ok) => {
            if (!ok) return false;
            try {
              await publish(client, row);
              done.push(row);
              return true;
            } catch (error) {
              failure = error;
              return false;
            }
          }),
        );
      }
      await Promise.all(chains.values());
      await markFinished(database, clock, done, 'delivered');
      published += done.length;
      if (failure !== undefined) throw failure;
    });
    return published;
  }

  const loop = createPassLoop(() => withDispatchLock(database, relayPass), { pollIntervalMs });
  const deliverPending = loop.run;
  const basics = dispatcherBasics(subscribers, admin, loop.kick);

  async function idle(): Promise<boolean> {
    await deliverPending();
    if (inFlight > 0 || attaching.size > 0) return false;
    if ((await pendingCount(database)) > 0) return false;
    for (const { name } of consumers) {
      const info = await jsm!.consumers.info(stream, name);
      if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
    }
    return inFlight === 0;
  }

  return {
    mode: 'jetstream',
    subscribe(subscriber) {
      basics.register(subscriber);
      if (!stopped && js) void track(attach(subscriber));
    },
    kick: loop.kick,
    deliverPending,
    replayDead: basics.replayDead,
    retryDead: basics.retryDead,
    replay: basics.replay,
    async settle({ timeoutMs = 30_000 } = {}) {
      if (!js) throw new Error('the JetStream dispatcher is not started');
      await waitUntil(idle, timeoutMs, 'event delivery through JetStream (settle)');
    },
    async start() {
      if (!stopped) return;
      nc = await connect({ servers: options.url, name: options.name ?? 'plinth', maxReconnectAttempts: -1 });
      const [major = 0, minor = 0] = (nc.info?.version ?? '0.0').split('.').map(Number);
      filterSubjectsSupported = major > 2 || (major === 2 && minor >= 10);
      jsm = await jetstreamManager(nc);
      js = jetstream(nc);
      await ensureStream(jsm);
      stopped = false;
      // Consumers before the first publish: they deliver only what is published after they exist.
      for (const subscriber of subscribers) await track(attach(subscriber));
      loop.start();
    },
    async stop() {
      if (stopped && !nc) return;
      stopped = true;
      await Promise.allSettled([...attaching]);
      await loop.stop();
      for (const loop of loops) await loop.messages.close().catch(() => undefined);
      await Promise.allSettled(loops.map((loop) => loop.done));
      loops.length = 0;
      consumers.length = 0;
      await nc?.drain().catch(() => undefined);
      nc = undefined;
      js = undefined;
      jsm = undefined;
    },
  };
}

/** Deletes a stream (tests and benchmarks clean up after themselves). */
export async function deleteJetStream(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const manager = await jetstreamManager(nc);
    await manager.streams.delete(stream).catch((error: unknown) => {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    });
  } finally {
    await nc.close();
  }
}
