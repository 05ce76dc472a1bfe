import { defineModule } from '../../kernel/module.js';
import type { MdmsApi } from '../mdms/index.js';

// Skeleton: filled in by the idgen work of issue 4.
export type IdgenApi = Record<string, never>;

/** Human-readable numbers (DIGIT's egov-idgen). */
export const idgenModule = defineModule<IdgenApi, { mdms: MdmsApi }>({
  name: 'idgen',
  migrations: [],
  create() {
    return { api: {} };
  },
});
