import { describe, expect, it } from 'vitest';
import type { ErrorDetail } from '../../kernel/errors.js';
import { buildBusinessService, compileWorkflow } from './workflow.definition.js';
import { checkPeople, planOne } from './workflow.plan.js';
import type { BusinessServiceInput, ProcessInstanceInput } from './workflow.schema.js';
import type { HeadRow, InstanceRow } from './workflow.store.js';
import type { DigitUser, WorkflowCaller } from './workflow.types.js';

// The transition checks alone: a compiled definition, rows as the store would read them, no database.

let counter = 0;
const input: BusinessServiceInput = {
  tenantId: 'pb',
  businessService: 'LIC',
  business: 'license',
  businessServiceSla: 1000,
  states: [
    { state: null, applicationStatus: null, actions: [{ action: 'APPLY', nextState: 'OPEN', roles: ['CITIZEN'] }] },
    {
      state: 'OPEN',
      applicationStatus: 'OPEN',
      actions: [
        { action: 'APPROVE', nextState: 'DONE', roles: ['APPROVER'] },
        { action: 'COMMENT', nextState: 'OPEN', roles: ['APPROVER', 'CITIZEN'] },
      ],
    },
    { state: 'DONE', applicationStatus: 'DONE', isTerminateState: true, actions: [{ action: 'RATE', nextState: 'DONE', roles: ['CITIZEN'] }] },
  ],
};
const built = buildBusinessService(input, undefined, {
  now: 1,
  actor: null,
  newId: () => `id-${++counter}`,
  knownRoles: new Set(['CITIZEN', 'APPROVER']),
});
const workflow = compileWorkflow(built.value);
const stateUuid = (name: string) => built.value.states.find((s) => s.state === name)!.uuid;

const citizen: WorkflowCaller = { uuid: 'c-1', type: 'CITIZEN', tenantId: 'pb', roles: [{ code: 'CITIZEN', tenantId: 'pb' }] };
const approver: WorkflowCaller = { uuid: 'e-1', type: 'EMPLOYEE', tenantId: 'pb.amritsar', roles: [{ code: 'APPROVER', tenantId: 'pb.amritsar' }] };
const step = (action: string, extra: Partial<ProcessInstanceInput> = {}): ProcessInstanceInput => ({
  tenantId: 'pb.amritsar',
  businessService: 'LIC',
  businessId: 'LIC-0001',
  action,
  ...extra,
});

/** The application as stored after APPLY by `createdBy`: in OPEN. */
function openedBy(createdBy: string): { head: HeadRow; instance: InstanceRow } {
  const key = { tenant_id: 'pb.amritsar', business_service: 'LIC', business_id: 'LIC-0001' };
  return {
    head: { ...key, sequence: 1, latest_id: 'i-1', status: stateUuid('OPEN'), last_modified_time: 1, created_by: createdBy, created_time: 1 },
    instance: {
      ...key,
      id: 'i-1',
      sequence: 1,
      action: 'APPLY',
      module_name: 'license',
      status: stateUuid('OPEN'),
      previous_status: null,
      comment: null,
      assigner: createdBy,
      state_sla: null,
      business_service_sla: 1000,
      rating: null,
      escalated: false,
      documents: null,
      created_by: createdBy,
      created_time: 1,
      last_modified_by: createdBy,
      last_modified_time: 1,
    },
  };
}

const person = (uuid: string, type: string, roles: string[], tenantId = 'pb.amritsar') =>
  ({ uuid, type, active: true, tenantId, roles: roles.map((code) => ({ code, tenantId })) }) as unknown as DigitUser;

describe('planning one transition', () => {
  it('starts an application with a start action the caller holds a role for', () => {
    const errors: ErrorDetail[] = [];
    const plan = planOne(step('APPLY'), workflow, undefined, [], citizen, errors);
    expect(errors).toEqual([]);
    expect(plan).toMatchObject({ stateChanging: true, resultant: { state: 'OPEN' }, assignees: [] });
  });

  it('names the actions that would start the application when another is sent', () => {
    const errors: ErrorDetail[] = [];
    expect(planOne(step('APPROVE'), workflow, undefined, [], approver, errors)).toBeUndefined();
    expect(errors).toEqual([expect.objectContaining({ code: 'INVALID ACTION', message: expect.stringContaining('starts with APPLY') })]);
  });

  it('refuses a state-changing action to a caller without its role on the application`s tenant', () => {
    const errors: ErrorDetail[] = [];
    const elsewhere: WorkflowCaller = { ...approver, roles: [{ code: 'APPROVER', tenantId: 'pb.jalandhar' }] };
    expect(planOne(step('APPROVE'), workflow, openedBy('c-1'), [], elsewhere, errors)).toBeUndefined();
    expect(errors.map((e) => e.code)).toEqual(['INVALID ROLE']);
  });

  it('accepts a rating only with RATE, and keeps the people an in-place action was marked to', () => {
    const errors: ErrorDetail[] = [];
    expect(planOne(step('COMMENT', { rating: 5 }), workflow, openedBy('c-1'), [], citizen, errors)).toBeUndefined();
    expect(errors.map((e) => e.code)).toEqual(['INVALID_ACTION']);
    const kept = planOne(step('COMMENT'), workflow, openedBy('c-1'), ['e-2'], approver, []);
    expect(kept).toMatchObject({ stateChanging: false, assignees: ['e-2'] });
  });
});

describe('checking the people of a transition', () => {
  it('lets a citizen act only on an application they started', () => {
    const plan = planOne(step('COMMENT'), workflow, openedBy('c-2'), [], citizen, [])!;
    const errors: ErrorDetail[] = [];
    checkPeople(plan, citizen, new Map(), errors);
    expect(errors.map((e) => e.code)).toEqual(['INVALID_USER']);
    const own: ErrorDetail[] = [];
    checkPeople(planOne(step('COMMENT'), workflow, openedBy('c-1'), [], citizen, [])!, citizen, new Map(), own);
    expect(own).toEqual([]);
  });

  it('refuses assignees who do not exist, belong to another city or cannot act in the next state', () => {
    const plan = planOne(step('APPLY', { assignes: [{ uuid: 'nobody' }, { uuid: 'far' }, { uuid: 'clerk' }, { uuid: 'ok' }] }), workflow, undefined, [], citizen, [])!;
    const people = new Map([
      ['far', person('far', 'EMPLOYEE', ['APPROVER'], 'pb.jalandhar')],
      ['clerk', person('clerk', 'EMPLOYEE', ['EMPLOYEE'])],
      ['ok', person('ok', 'EMPLOYEE', ['APPROVER'])],
    ]);
    const errors: ErrorDetail[] = [];
    checkPeople(plan, citizen, people, errors);
    expect(errors.map((e) => [e.code, e.params?.[0]])).toEqual([
      ['INVALID UUID', 'nobody'],
      ['INVALID_ASSIGNEE', 'far'],
      ['INVALID_ASSIGNEE', 'clerk'],
    ]);
  });
});
