import { defineModule } from '../../kernel/module.js';
import type { OfflineSearchParams } from '../../kernel/offline.js';
import type { BulkResult } from '../../kernel/offline.batch.js';
import type { Scope } from '../../kernel/scope.js';
import { idgenModule, type IdgenApi } from '../../common/idgen/index.js';
import { mdmsModule, type MdmsApi } from '../../common/mdms/index.js';
import { init } from './migrations/0001_init.js';
import { sampleMasters } from './sample.masters.js';
import { sampleRoutes } from './sample.routes.js';
import type { Sample, SampleSearch } from './sample.schema.js';
import { createSampleService, SAMPLE_EVENTS } from './sample.service.js';
import { createSampleStore } from './sample.store.js';

export type { Sample, SampleSearch } from './sample.schema.js';
export { SAMPLE_EVENTS } from './sample.service.js';

/** What other modules may ask of the registry: through here (or its events), never its store. */
export type SampleApi = {
  /** Bulk create, answered per record; SYSTEM_SCOPE for the platform's own work. */
  create(records: readonly unknown[], scope: Scope): Promise<BulkResult<Sample>>;
  search(
    criteria: SampleSearch | null | undefined,
    params: OfflineSearchParams,
    scope: Scope,
  ): Promise<{ totalCount: number; records: Sample[] }>;
};

export type SampleDeps = { mdms: MdmsApi; idgen: IdgenApi };

/** The Sample registry: DIGIT-style create, update and search, synced from offline devices. */
export const sampleModule = defineModule<SampleApi, SampleDeps>({
  name: 'sample',
  requires: { mdms: mdmsModule, idgen: idgenModule },
  migrations: [init],
  events: Object.values(SAMPLE_EVENTS),
  masters: sampleMasters,
  create({ database, clock, outbox }, { mdms, idgen }) {
    const store = createSampleStore(database, clock);
    const service = createSampleService({ database, store, clock, outbox, tenants: mdms.service.tenants, idgen });
    return {
      api: {
        create: (records, scope) => service.create(records, scope),
        search: (criteria, params, scope) => service.search(criteria, params, scope),
      },
      routes: sampleRoutes(service),
    };
  },
});
