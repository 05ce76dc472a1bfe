import { accessMasters } from '../../common/access/index.js';
import type { ModuleMaster } from '../../kernel/module.js';
import { BASE } from './sample.routes.js';
import { ID_NAME } from './sample.service.js';

/** Who may call what: every route is denied unless a role-action allows it (DIGIT's egov-accesscontrol). */
const access = accessMasters({
  serviceCode: 'SAMPLE',
  // A block of action ids no other module or seed file uses (npx plinth new-module picks one).
  firstId: 990_101,
  roles: [{ code: 'SAMPLE_REGISTRAR', name: 'Sample registrar', description: 'Registers and corrects Sample records.' }],
  actions: [
    { code: 'SAMPLE_CREATE', url: `${BASE}/_create`, name: 'Sample: create one', roles: ['SAMPLE_REGISTRAR', 'SUPERUSER'] },
    { code: 'SAMPLE_BULK_CREATE', url: `${BASE}/bulk/_create`, name: 'Sample: create many', roles: ['SAMPLE_REGISTRAR', 'SUPERUSER'] },
    { code: 'SAMPLE_UPDATE', url: `${BASE}/_update`, name: 'Sample: update one', roles: ['SAMPLE_REGISTRAR', 'SUPERUSER'] },
    { code: 'SAMPLE_BULK_UPDATE', url: `${BASE}/bulk/_update`, name: 'Sample: update many', roles: ['SAMPLE_REGISTRAR', 'SUPERUSER'] },
    { code: 'SAMPLE_SEARCH', url: `${BASE}/_search`, name: 'Sample: search', roles: ['SAMPLE_REGISTRAR', 'EMPLOYEE', 'SUPERUSER'] },
  ],
});

/**
 * The master data the registry needs at each state tenant, loaded into MDMS at start-up whenever
 * it changes (the operator may change the records afterwards through MDMS): its role, API actions
 * and role-actions, and the format of its numbers.
 */
export function sampleMasters(stateTenantId: string): ModuleMaster[] {
  return [
    ...access(stateTenantId),
    { schemaCode: 'common-masters.IdFormat', data: [{ idname: ID_NAME, format: 'SAMPLE-[cy:yyyy-MM-dd]-[SEQ_SAMPLE_ID]' }] },
  ];
}
