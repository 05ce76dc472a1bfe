import { defineModule } from '../../kernel/module.js';
import type { AuditApi } from '../../common/audit/index.js';
import type { EncryptionApi } from '../../common/encryption/index.js';
import { DAY_MS, deliveryPayloads } from './delivery.payloads.js';
import type { MdmsApi } from '../../common/mdms/index.js';
import type { IndividualApi } from '../../domain/individual/index.js';
import type { TrustApi } from '../trust/index.js';
import { createDeliveryWorker, defaultWorkerOptions, type DeliveryWorkerOptions } from './delivery.worker.js';
import { init } from './migrations/0001_init.js';
import { deliveryHeads } from './migrations/0002_delivery_heads.js';
import { subscriptionRoutes } from './subscriptions.routes.js';
import { createSubscriptionService, type SubscriptionService } from './subscriptions.service.js';
import { createSubscriptionStore } from './subscriptions.store.js';

export type { DeliveryWorkerOptions } from './delivery.worker.js';
export type { Condition, ConditionOp } from './subscriptions.rules.js';
export { exponentialBackoff, matches, project } from './subscriptions.rules.js';
export type { Delivery, DeliveryStatus, Subscription, SubscriptionStatus } from './subscriptions.schema.js';
export type { SubscriptionService } from './subscriptions.service.js';

export type SubscriptionsApi = {
  /** Create, update and search subscriptions; search, replay and retry deliveries. */
  readonly service: SubscriptionService;
  /** Sends every delivery that is due now (the worker does this on its own; tests and tools call it). */
  deliverPending(): Promise<number>;
  /** Purges sent payloads past PLINTH_EXCHANGE_PAYLOAD_RETENTION_DAYS now (the worker does it hourly); answers how many. */
  purgePayloads(): Promise<number>;
};

export type SubscriptionsDeps = {
  trust: TrustApi;
  individual: IndividualApi;
  audit: AuditApi;
  mdms: MdmsApi;
  encryption: EncryptionApi;
  /** The delivery worker's timings (tests shorten the backoff and lengthen the poll). */
  worker?: Partial<DeliveryWorkerOptions> | undefined;
};

/** The fan-out's name among event subscribers: what it handled is recorded under it. */
export const FANOUT_SUBSCRIBER = 'exchange.subscriptions';

/** Agencies subscribe to this deployment's events; deliveries are signed, retried, logged and replayable. */
export const exchangeSubscriptionsModule = defineModule<SubscriptionsApi, SubscriptionsDeps>({
  name: 'exchange-subscriptions',
  migrations: [init, deliveryHeads],
  create({ config, database, clock, dispatcher, logger }, { trust, individual, mdms, encryption, worker: workerOptions }) {
    const store = createSubscriptionStore(database);
    const payloads = deliveryPayloads(database, encryption.service);
    // Stored messages follow key rotations until they are purged.
    encryption.service.registerSealedTable({ name: 'exchange.delivery', table: 'exchange_delivery', id: 'id', json: ['message'] });
    const worker = createDeliveryWorker({
      database,
      store,
      clock,
      trust,
      logger,
      options: { ...defaultWorkerOptions, ...workerOptions },
      payloads,
      retentionMs: config.exchangePayloadRetentionDays * DAY_MS,
    });
    const service = createSubscriptionService({
      database,
      store,
      clock,
      tenants: mdms.service.tenants,
      individuals: individual.lookup,
      onQueued: () => worker.kick(),
      payloads,
    });
    // Plain subscriber: the fan-out reads (and decrypts) outside any transaction, then inserts in
    // its own short one; a redelivered event inserts nothing new.
    dispatcher.subscribe({
      name: FANOUT_SUBSCRIBER,
      types: '*',
      handle: async (event) => {
        await service.fanOut(event);
      },
    });
    return {
      api: { service, deliverPending: () => worker.deliverPending(), purgePayloads: () => worker.purge() },
      routes: subscriptionRoutes(service),
      async start() {
        // API-only processes take requests; workers send.
        if (config.role !== 'api') worker.start();
      },
      stop: () => worker.stop(),
    };
  },
});
