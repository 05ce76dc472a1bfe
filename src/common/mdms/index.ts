import { defineModule } from '../../kernel/module.js';
import { auditModule, type AuditApi } from '../audit/index.js';
import { init } from './migrations/0001_init.js';
import { mdmsRoutes } from './mdms.routes.js';
import { createMdmsService, type MdmsService } from './mdms.service.js';
import { seedMasters } from './mdms.seed.js';
import { createMdmsStore } from './mdms.store.js';

export type { Actor, MdmsService } from './mdms.service.js';
export type { MasterFile, SeedReport } from './mdms.seed.js';
export { TENANT_SCHEMA } from './mdms.service.js';

export type MdmsApi = { readonly service: MdmsService };

/** Master data (DIGIT MDMS v2 and v1 search): JSON Schema–validated records per tenant. */
export const mdmsModule = defineModule<MdmsApi, { audit: AuditApi }>({
  name: 'mdms',
  requires: { audit: auditModule },
  migrations: [init],
  create({ database, clock, outbox, changes }, { audit }) {
    const store = createMdmsStore(database);
    const service = createMdmsService({ database, store, clock, outbox, changes, audit: audit.log });
    return {
      api: { service },
      routes: mdmsRoutes(service),
      seed: (files, actor) => seedMasters(database, service, files, actor),
    };
  },
});
