import { defineModule } from '../../kernel/module.js';
import type { MdmsApi } from '../mdms/index.js';
import type { UserApi } from '../user/index.js';

// Skeleton: filled in by the workflow work of issue 4.
export type WorkflowApi = Record<string, never>;

/** Who may do what, in which state, within which time (DIGIT's egov-workflow-v2). */
export const workflowModule = defineModule<WorkflowApi, { mdms: MdmsApi; users: UserApi }>({
  name: 'workflow',
  migrations: [],
  create() {
    return { api: {} };
  },
});
