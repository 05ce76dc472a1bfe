import { defineModule } from '../../kernel/module.js';
import type { MdmsApi } from '../mdms/index.js';

// Skeleton: filled in by the boundary work of issue 4.
export type BoundaryApi = Record<string, never>;

/** Where things are: hierarchies, boundaries and their relationships (DIGIT's boundary v2). */
export const boundaryModule = defineModule<BoundaryApi, { mdms: MdmsApi }>({
  name: 'boundary',
  migrations: [],
  create() {
    return { api: {} };
  },
});
