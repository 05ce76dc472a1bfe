import { defineModule } from '../../kernel/module.js';
import type { Scope } from '../../kernel/scope.js';
import { encryptionModule, type EncryptionApi } from '../encryption/index.js';
import { init } from './migrations/0001_init.js';
import { personalEncrypted } from './migrations/0002_personal_encrypted.js';
import { userEventRoutes } from './userevent.routes.js';
import type { Event, EventInput } from './userevent.schema.js';
import { createUserEventService, type Actor } from './userevent.service.js';
import { createUserEventStore, EVENT_PII } from './userevent.store.js';

export type { Event, EventInput } from './userevent.schema.js';
export type { Actor } from './userevent.service.js';

export type UserEventApi = {
  /**
   * Posts in-app events (DIGIT's Event shape) in one transaction; refuses the whole batch with
   * every problem named. `actor.uuid` null means the system, which may set `postedBy` itself.
   * Every event's tenant must lie inside `scope` (SYSTEM_SCOPE for another module's own events).
   */
  create(events: readonly EventInput[], actor: Actor, scope: Scope): Promise<Event[]>;
};

/** DIGIT's egov-user-event: in-app notifications and events for citizens and employees. */
export const userEventModule = defineModule<UserEventApi, { encryption: EncryptionApi }>({
  name: 'userevent',
  requires: { encryption: encryptionModule },
  migrations: [init, personalEncrypted],
  create({ database, clock, logger }, { encryption }) {
    const store = createUserEventStore(database, encryption.service);
    // Titles, texts and details follow key rotations.
    encryption.service.registerSealedTable({ name: 'userevent', table: 'user_event', id: 'id', text: EVENT_PII.text, json: EVENT_PII.json });
    const service = createUserEventService({ database, store, clock });
    return {
      api: { create: (events, actor, scope) => service.create(events, actor, scope) },
      routes: userEventRoutes(service),
      // Events stored before their personal fields were encrypted are encrypted now (idempotent).
      async start() {
        const sealed = await store.sealStored();
        if (sealed > 0) logger.info({ rows: sealed }, 'user events: personal fields of earlier events encrypted');
      },
    };
  },
});
