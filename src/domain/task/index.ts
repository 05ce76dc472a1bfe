import { defineModule } from '../../kernel/module.js';
import type { OfflineSearchParams } from '../../kernel/offline.js';
import type { Scope } from '../../kernel/scope.js';
import { idgenModule, type IdgenApi } from '../../common/idgen/index.js';
import { mdmsModule, type MdmsApi } from '../../common/mdms/index.js';
import { init } from './migrations/0001_init.js';
import { changeTime } from './migrations/0002_change_time.js';
import { taskRoutes } from './task.routes.js';
import type { Task, TaskSearch } from './task.schema.js';
import { createTaskService, type Actor, type BulkResult } from './task.service.js';
import { createTaskStore } from './task.store.js';

export type { Task, TaskResource, TaskSearch, TaskStatus } from './task.schema.js';
export { TASK_STATUSES } from './task.schema.js';
export type { Actor as TaskActor, BulkResult as TaskBulkResult } from './task.service.js';
export { TASK_EVENTS } from './task.service.js';

/** What other modules may ask of the task registry (e.g. a scheduler creating a child's vaccinations). */
export type TaskApi = {
  /**
   * DIGIT's bulk create, answered per record: a record whose clientReferenceId is already stored
   * answers the stored task unchanged, so a scheduler acting on a redelivered event creates nothing twice.
   * `actor.uuid` is null for the system.
   */
  create(records: readonly unknown[], actor: Actor): Promise<BulkResult<Task>>;
  /** DIGIT's _search, as the HTTP route runs it. */
  search(criteria: TaskSearch | null | undefined, params: OfflineSearchParams, scope: Scope): Promise<{ totalCount: number; tasks: Task[] }>;
};

export type TaskDeps = { mdms: MdmsApi; idgen: IdgenApi };

/** DIGIT's project task registry (`/project/task/v1/…`): what a program does for a beneficiary. */
export const taskModule = defineModule<TaskApi, TaskDeps>({
  name: 'task',
  requires: { mdms: mdmsModule, idgen: idgenModule },
  migrations: [init, changeTime],
  create({ database, clock, outbox }, { mdms, idgen }) {
    const store = createTaskStore(database, clock);
    const service = createTaskService({ database, store, clock, outbox, tenants: mdms.service.tenants, idgen });
    return {
      api: {
        create: (records, actor) => service.create(records, actor),
        search: (criteria, params, scope) => service.search(criteria, params, scope),
      },
      routes: taskRoutes(service),
    };
  },
});
