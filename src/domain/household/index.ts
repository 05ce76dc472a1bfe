import { defineModule } from '../../kernel/module.js';
import type { BoundaryApi } from '../../common/boundary/index.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import type { MdmsApi } from '../../common/mdms/index.js';
import type { IndividualApi } from '../individual/index.js';

export type HouseholdApi = Record<string, never>;

export type HouseholdDeps = { mdms: MdmsApi; boundary: BoundaryApi; idgen: IdgenApi; individual: IndividualApi };

/** DIGIT's households and their members, synced from offline devices. */
export const householdModule = defineModule<HouseholdApi, HouseholdDeps>({
  name: 'household',
  migrations: [],
  create() {
    return { api: {} };
  },
});
