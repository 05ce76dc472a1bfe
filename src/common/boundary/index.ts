import { defineModule } from '../../kernel/module.js';
import { mdmsModule, type MdmsApi } from '../mdms/index.js';
import { init } from './migrations/0001_init.js';
import { boundaryRoutes } from './boundary.routes.js';
import { seedBoundaries } from './boundary.seed.js';
import { createBoundaryService, type BoundaryService } from './boundary.service.js';
import { createBoundaryStore } from './boundary.store.js';

export type {
  Actor,
  BoundaryNode,
  BoundarySearchCriteria,
  HierarchySearchCriteria,
  RelationshipSearchCriteria,
} from './boundary.service.js';
export type { Boundary, BoundaryHierarchy, BoundaryRelation, TenantBoundary } from './boundary.schema.js';
export type { EnrichedBoundary } from './boundary.tree.js';
export type { BoundarySeedReport } from './boundary.seed.js';

export type BoundaryApi = {
  /** Reads answer from memory (invalidated through the change feed); writes follow the HTTP rules. */
  readonly service: Pick<
    BoundaryService,
    | 'createBoundaries'
    | 'updateBoundaries'
    | 'searchBoundaries'
    | 'createHierarchy'
    | 'searchHierarchies'
    | 'createRelationship'
    | 'updateRelationship'
    | 'searchRelationships'
    | 'findNode'
  >;
};

/** Where things are: hierarchies, boundaries and their relationships (DIGIT's boundary v2). */
export const boundaryModule = defineModule<BoundaryApi, { mdms: MdmsApi }>({
  name: 'boundary',
  requires: { mdms: mdmsModule },
  migrations: [init],
  create({ database, clock, outbox, changes }, { mdms }) {
    const store = createBoundaryStore(database);
    const service = createBoundaryService({ database, store, clock, outbox, changes, tenants: mdms.service.tenants });
    return {
      api: { service },
      routes: boundaryRoutes(service),
      seed: (files, actor) => seedBoundaries(database, service, files, actor),
      stop: async () => service.close(),
    };
  },
});
