import { defineModule } from '../../kernel/module.js';
import { mdmsModule, type MdmsApi } from '../mdms/index.js';
import { assertTimeZone } from './idgen.format.js';
import { idgenRoutes } from './idgen.routes.js';
import { seedSequences } from './idgen.seed.js';
import { createIdgenService, type IdgenService } from './idgen.service.js';
import { createIdgenStore } from './idgen.store.js';
import { init } from './migrations/0001_init.js';

export type { Actor, IdgenService, IdRequestInput, ReservationRequest, ReservationSearch } from './idgen.service.js';
export type { Reservation } from './idgen.schema.js';
export type { SequenceSeedReport } from './idgen.seed.js';

export type IdgenApi = { readonly service: IdgenService };

/** Human-readable numbers (DIGIT's egov-idgen), plus blocks reserved for offline devices. */
export const idgenModule = defineModule<IdgenApi, { mdms: MdmsApi }>({
  name: 'idgen',
  requires: { mdms: mdmsModule },
  migrations: [init],
  create({ database, clock, config }, { mdms }) {
    // DIGIT's `id.timezone`: the calendar of `[cy:…]` and `[fy:…]` (PLINTH_TIME_ZONE).
    assertTimeZone(config.timeZone);
    const store = createIdgenStore(database);
    const service = createIdgenService({ database, store, clock, mdms: mdms.service, timeZone: config.timeZone });
    return {
      api: { service },
      routes: idgenRoutes(service),
      seed: (files) => seedSequences(database, store, clock, mdms.service.tenants, files),
    };
  },
});
