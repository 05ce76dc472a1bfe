import { defineModule } from '../../kernel/module.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { mdmsModule, type MdmsApi } from '../../common/mdms/index.js';
import { individualModule, type IndividualApi } from '../individual/index.js';
import { taskModule, type Task, type TaskApi } from '../task/index.js';
import { childClientReferenceId, RECEIVED_EVENT } from './immunization.schedule.js';
import { createScheduler } from './immunization.scheduler.js';

export { childClientReferenceId, doseClientReferenceId, doseWindow, localMidnight } from './immunization.schedule.js';
export type { Dose, ScheduleConfig } from './immunization.schedule.js';
export type { ScheduleOutcome } from './immunization.scheduler.js';

export type ImmunizationApi = {
  /** The clientReferenceId this agency gives the child of a birth received from `sender` (also its tasks' projectBeneficiaryClientReferenceId). */
  childClientReferenceId(sender: string, tenantId: string, registrationNumber: string): string;
  /** A child's vaccination tasks (not deleted), earliest due first. */
  schedule(tenantId: string, childClientReferenceId: string): Promise<Task[]>;
};

export type ImmunizationDeps = { mdms: MdmsApi; individual: IndividualApi; task: TaskApi };

/** Subscriber name: delivery is recorded per name, so renaming it would re-run old events. */
const BIRTH_SCHEDULER = 'immunization.schedule-received-births';

/** A child's vaccination schedule, made from MDMS when a birth arrives from the civil registry. */
export const immunizationModule = defineModule<ImmunizationApi, ImmunizationDeps>({
  name: 'immunization',
  requires: { mdms: mdmsModule, individual: individualModule, task: taskModule },
  migrations: [],
  create({ config, dispatcher, logger }, { mdms, individual, task }) {
    const scheduler = createScheduler({ mdms, individual, task, timeZone: config.timeZone, logger });
    // Plain (not inTransaction): registering the child and its tasks draws idgen numbers and runs
    // their own transactions; every write is keyed by the birth, so running again changes nothing.
    dispatcher.subscribe({
      name: BIRTH_SCHEDULER,
      types: [RECEIVED_EVENT],
      handle: async (event) => {
        await scheduler.onReceived(event);
      },
    });
    return {
      api: {
        childClientReferenceId,
        async schedule(tenantId, childRef) {
          // The platform's own read (the scheduler's answer), not a caller's: every tenant is in scope.
          const { tasks } = await task.search({ projectBeneficiaryClientReferenceId: [childRef] }, { tenantId, limit: 1000, offset: 0 }, SYSTEM_SCOPE);
          return tasks.sort(
            (a, b) => (a.plannedStartDate ?? 0) - (b.plannedStartDate ?? 0) || a.clientReferenceId.localeCompare(b.clientReferenceId),
          );
        },
      },
    };
  },
});
