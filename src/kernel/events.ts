/**
 * The event bus, as modules and the platform import it. One file per part:
 *
 * - events.types.ts: CloudEvent, EventInput, EventSubscriber, Outbox, Dispatcher, EventAdmin
 * - events.tables.ts: the outbox tables and their migrations
 * - events.sealing.ts: personal data sealed in the outbox and opened for handlers
 * - events.outbox.ts: appending in the writer's transaction
 * - events.delivery.ts: what both buses do per event and subscriber (handled marks, dead letters)
 * - events.admin.ts: the operator's list, retry and replay
 * - events.dispatcher.ts: the in-process bus (events.nats.ts is the JetStream one)
 */
export type {
  CloudEvent,
  DeadLetter,
  Dispatcher,
  DispatcherOptions,
  EventAdmin,
  EventInput,
  EventSealer,
  EventSubscriber,
  Outbox,
  OutboxEntry,
  OutboxStatus,
  ReplayCriteria,
  RetryCriteria,
} from './events.types.js';
export { eventMigrations, eventOfRow, type OutboxRow } from './events.tables.js';
export { openEvent, registerEventSealer, SEALED_KEY } from './events.sealing.js';
export { createOutbox } from './events.outbox.js';
export {
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
} from './events.delivery.js';
export { createEventAdmin, dispatcherBasics } from './events.admin.js';
export { createDispatcher } from './events.dispatcher.js';
