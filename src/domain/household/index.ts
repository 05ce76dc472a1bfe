import { defineModule } from '../../kernel/module.js';
import type { BoundaryApi } from '../../common/boundary/index.js';
import type { EncryptionApi } from '../../common/encryption/index.js';
import type { IdgenApi } from '../../common/idgen/index.js';
import type { MdmsApi } from '../../common/mdms/index.js';
import type { IndividualApi } from '../individual/index.js';
import { createDownsync } from './household.downsync.js';
import { householdRoutes } from './household.routes.js';
import { createHouseholdService } from './household.service.js';
import { createHouseholdStore, HOUSEHOLD_PII } from './household.store.js';
import { createMemberService } from './member.service.js';
import { init } from './migrations/0001_init.js';
import { changeTime } from './migrations/0002_change_time.js';

import type { WaitingLink } from './household.schema.js';

export type { Household, HouseholdMember, Relationship, WaitingLink } from './household.schema.js';

export type HouseholdApi = {
  /** Members and relationships still waiting for a parent (after a re-resolve pass): what sync status reports. */
  waiting(tenantId: string, clientReferenceIds?: readonly string[]): Promise<WaitingLink[]>;
};

export type HouseholdDeps = { mdms: MdmsApi; boundary: BoundaryApi; idgen: IdgenApi; individual: IndividualApi; encryption: EncryptionApi };

/** Subscriber name: delivery is recorded per name, so renaming it would re-run old events. */
const INDIVIDUAL_LINKER = 'household.link-arrived-individuals';

/** DIGIT's households and their members, synced from offline devices. */
export const householdModule = defineModule<HouseholdApi, HouseholdDeps>({
  name: 'household',
  migrations: [init, changeTime],
  create({ database, clock, outbox, dispatcher, logger }, { mdms, boundary, idgen, individual, encryption }) {
    const store = createHouseholdStore(database, encryption.service, clock);
    // Addresses follow key rotations.
    encryption.service.registerSealedTable({ name: 'household', table: 'household', id: 'id', json: HOUSEHOLD_PII.json });
    const tenants = mdms.service.tenants;
    const members = createMemberService({ database, store, clock, outbox, tenants, individual: individual.lookup });
    const households = createHouseholdService({
      database,
      store,
      clock,
      outbox,
      tenants,
      boundary,
      idgen,
      onMembersLinked: (tx, linked) => members.membersLinked(tx, linked),
    });
    const downsync = createDownsync({ store, households, members, individual: individual.lookup });
    dispatcher.subscribe({
      name: INDIVIDUAL_LINKER,
      types: ['plinth.individual.created.v1'],
      handle: (event) => members.onIndividualCreated(event),
    });
    return {
      api: {
        async waiting(tenantId, clientReferenceIds) {
          return (
            await members.syncStatus({ tenantId, clientReferenceIds: clientReferenceIds ? [...clientReferenceIds] : null, limit: 1000 })
          ).links;
        },
      },
      routes: householdRoutes(households, members, downsync),
      // Households stored before addresses were encrypted are encrypted now (idempotent).
      async start() {
        const sealed = await store.sealStored();
        if (sealed > 0) logger.info({ rows: sealed }, 'households: addresses of earlier rows encrypted');
      },
    };
  },
});
