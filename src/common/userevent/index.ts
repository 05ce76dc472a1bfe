import { defineModule } from '../../kernel/module.js';
import { init } from './migrations/0001_init.js';
import { userEventRoutes } from './userevent.routes.js';
import type { Event, EventInput } from './userevent.schema.js';
import { createUserEventService, type Actor } from './userevent.service.js';
import { createUserEventStore } from './userevent.store.js';

export type { Event, EventInput } from './userevent.schema.js';
export type { Actor } from './userevent.service.js';

export type UserEventApi = {
  /**
   * Posts in-app events (DIGIT's Event shape) in one transaction; refuses the whole batch with
   * every problem named. `actor.uuid` null means the system, which may set `postedBy` itself.
   */
  create(events: readonly EventInput[], actor: Actor): Promise<Event[]>;
};

/** DIGIT's egov-user-event: in-app notifications and events for citizens and employees. */
export const userEventModule = defineModule<UserEventApi, Record<string, never>>({
  name: 'userevent',
  migrations: [init],
  create({ database, clock }) {
    const service = createUserEventService({ database, store: createUserEventStore(database), clock });
    return {
      api: { create: (events, actor) => service.create(events, actor) },
      routes: userEventRoutes(service),
    };
  },
});
