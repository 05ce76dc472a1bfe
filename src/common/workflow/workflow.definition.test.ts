import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildBusinessService, compileWorkflow, rolesAt, type BuildContext } from './workflow.definition.js';
import type { BusinessServiceInput, StateInput } from './workflow.schema.js';

let counter = 0;
const ctx = (knownRoles: string[] = []): BuildContext => ({
  now: 1_700_000_000_000,
  actor: 'admin-uuid',
  newId: () => `id-${++counter}`,
  knownRoles: new Set(knownRoles),
});

const state = (name: string | null, actions: Array<[string, string, string[]]>, extra: Partial<StateInput> = {}): StateInput => ({
  state: name,
  applicationStatus: name,
  actions: actions.map(([action, nextState, roles]) => ({ action, nextState, roles })),
  ...extra,
});
const terminal = (name: string, actions: Array<[string, string, string[]]> = []) => state(name, actions, { isTerminateState: true });
const definition = (states: StateInput[]): BusinessServiceInput => ({ tenantId: 'pb', businessService: 'TEST', business: 'test', businessServiceSla: 1000, states });

const simple = () => definition([state(null, [['APPLY', 'OPEN', ['CITIZEN']]]), state('OPEN', [['CLOSE', 'CLOSED', ['EMPLOYEE']]]), terminal('CLOSED')]);
const codesOf = (input: BusinessServiceInput, roles: string[] = []) => buildBusinessService(input, undefined, ctx(roles)).errors.map((e) => e.code);
const messages = (input: BusinessServiceInput) => buildBusinessService(input, undefined, ctx()).errors.map((e) => e.message).join('\n');

describe('building a workflow definition', () => {
  it('gives every state and action a uuid and resolves nextState names to state uuids', () => {
    const { value, errors } = buildBusinessService(simple(), undefined, ctx(['CITIZEN', 'EMPLOYEE']));
    expect(errors).toEqual([]);
    const [start, open, closed] = value.states;
    expect(start).toMatchObject({ state: null, isStartState: true, businessServiceId: value.uuid, tenantId: 'pb' });
    expect(start!.actions![0]).toMatchObject({ action: 'APPLY', currentState: start!.uuid, nextState: open!.uuid, active: true });
    expect(open!.actions![0]!.nextState).toBe(closed!.uuid);
    expect(closed!.actions).toBeNull();
    expect(value.auditDetails).toMatchObject({ createdBy: 'admin-uuid', createdTime: 1_700_000_000_000 });
  });

  it('accepts the seeded PGR workflow of the DIGIT reference', () => {
    const seed = JSON.parse(readFileSync('seed/workflow/PGR.json', 'utf8')) as { BusinessServices: BusinessServiceInput[] };
    const roles = ['CITIZEN', 'CSR', 'GRO', 'DGRO', 'PGR_LME', 'CFC'];
    expect(buildBusinessService(seed.BusinessServices[0]!, undefined, ctx(roles)).errors).toEqual([]);
  });

  it('refuses an action whose next state does not exist', () => {
    const input = simple();
    input.states[1]!.actions![0]!.nextState = 'CLOSD';
    expect(codesOf(input)).toEqual(['INVALID NEXTSTATE']);
    expect(messages(input)).toContain('CLOSD');
  });

  it('refuses duplicate states (names compared without case) and two start states', () => {
    expect(codesOf(definition([...simple().states, terminal('closed')]))).toContain('INVALID STATE');
    expect(messages(definition([...simple().states, state('', [['APPLY', 'OPEN', ['CITIZEN']]])]))).toContain('more than one start state');
  });

  it('refuses a workflow without a start state, or whose start state starts nothing', () => {
    expect(messages(definition(simple().states.slice(1)))).toContain('no start state');
    expect(messages(definition([state(null, []), ...simple().states.slice(1)]))).toContain('no actions');
  });

  it('refuses actions without roles, unknown roles and duplicate actions', () => {
    const noRoles = simple();
    noRoles.states[1]!.actions![0]!.roles = [];
    expect(codesOf(noRoles)).toEqual(['INVALID ROLE']);
    expect(codesOf(simple(), ['CITIZEN'])).toEqual(['INVALID ROLE']);
    const twice = simple();
    twice.states[1]!.actions!.push({ action: 'close', nextState: 'CLOSED', roles: ['EMPLOYEE'] });
    expect(codesOf(twice)).toEqual(['INVALID ACTION']);
  });

  it('refuses a state that cannot be reached from the start state', () => {
    const input = definition([...simple().states, state('LIMBO', [['CLOSE', 'CLOSED', ['EMPLOYEE']]])]);
    expect(codesOf(input)).toEqual(['INVALID STATE']);
    expect(messages(input)).toContain('LIMBO of TEST (pb) cannot be reached from the start state');
  });

  it('refuses a dead end: a state without actions that is not terminal', () => {
    const input = definition([state(null, [['APPLY', 'OPEN', ['CITIZEN']]]), state('OPEN', [['PARK', 'PARKED', ['EMPLOYEE']], ['CLOSE', 'CLOSED', ['EMPLOYEE']]]), state('PARKED', []), terminal('CLOSED')]);
    expect(messages(input)).toContain('PARKED of TEST (pb) has no actions but is not marked isTerminateState');
  });

  it('refuses a cycle with no way out to a terminal state, and a workflow with no terminal state', () => {
    const trap = definition([
      state(null, [['APPLY', 'OPEN', ['CITIZEN']]]),
      state('OPEN', [['PING', 'PONG', ['EMPLOYEE']], ['CLOSE', 'CLOSED', ['EMPLOYEE']]]),
      state('PONG', [['BACK', 'PANG', ['EMPLOYEE']]]),
      state('PANG', [['FORTH', 'PONG', ['EMPLOYEE']]]),
      terminal('CLOSED'),
    ]);
    const text = messages(trap);
    expect(text).toContain('From state PONG');
    expect(text).toContain('From state PANG');
    expect(text).not.toContain('From state OPEN');
    const endless = definition([state(null, [['APPLY', 'OPEN', ['CITIZEN']]]), state('OPEN', [['AGAIN', 'OPEN', ['CITIZEN']], ['ON', 'NEXT', ['CITIZEN']]]), state('NEXT', [['BACK', 'OPEN', ['CITIZEN']]])]);
    expect(messages(endless)).toContain('no terminate state');
  });

  it('accepts cycles that can end (PGR’s REOPEN) and terminal states with actions (DIGIT marks, it does not block)', () => {
    const reopen = definition([
      state(null, [['APPLY', 'OPEN', ['CITIZEN']]]),
      state('OPEN', [['RESOLVE', 'RESOLVED', ['EMPLOYEE']]]),
      terminal('RESOLVED', [['REOPEN', 'OPEN', ['CITIZEN']], ['RATE', 'CLOSED', ['CITIZEN']]]),
      terminal('CLOSED'),
    ]);
    expect(codesOf(reopen)).toEqual([]);
  });

  it('refuses an action that leads back into the start state', () => {
    const input = simple();
    input.states[1]!.actions!.push({ action: 'UNDO', nextState: '', roles: ['EMPLOYEE'] });
    expect(codesOf(input)).toContain('INVALID NEXTSTATE');
  });
});

describe('updating a workflow definition', () => {
  const existing = buildBusinessService(simple(), undefined, ctx()).value;

  it('keeps the uuids of states and actions matched by name, gives new ones theirs, and accepts nextState uuids', () => {
    const input = simple();
    input.states[1]!.actions!.push({ action: 'HOLD', nextState: 'ON_HOLD', roles: ['EMPLOYEE'] });
    input.states.push(state('ON_HOLD', [['RESUME', existing.states[1]!.uuid, ['EMPLOYEE']]]));
    const { value, errors } = buildBusinessService(input, existing, ctx());
    expect(errors).toEqual([]);
    expect(value.uuid).toBe(existing.uuid);
    expect(value.states.slice(0, 3).map((s) => s.uuid)).toEqual(existing.states.map((s) => s.uuid));
    expect(value.states[1]!.actions![0]!.uuid).toBe(existing.states[1]!.actions![0]!.uuid);
    expect(value.states[3]!.actions![0]!.nextState).toBe(existing.states[1]!.uuid);
    expect(value.states[1]!.auditDetails).toMatchObject({ createdTime: existing.states[1]!.auditDetails!.createdTime });
  });

  it('refuses to drop a state; an action left out is retired (inactive), not deleted', () => {
    const dropped = definition(simple().states.slice(0, 2));
    expect(buildBusinessService(dropped, existing, ctx()).errors.map((e) => e.message).join()).toContain('states cannot be removed');

    const withExit = definition([state(null, [['APPLY', 'OPEN', ['CITIZEN']]]), state('OPEN', [['CLOSE', 'CLOSED', ['EMPLOYEE']], ['DROP', 'CLOSED', ['EMPLOYEE']]]), terminal('CLOSED')]);
    const base = buildBusinessService(withExit, undefined, ctx()).value;
    const { value, errors } = buildBusinessService(simple(), base, ctx());
    expect(errors).toEqual([]);
    expect(value.states[1]!.actions!.map((a) => [a.action, a.active])).toEqual([
      ['CLOSE', true],
      ['DROP', false],
    ]);
  });

  it('refuses a uuid that is not one of the definition’s', () => {
    const input = simple();
    input.states[1]!.uuid = 'not-a-state';
    expect(buildBusinessService(input, existing, ctx()).errors.map((e) => e.code)).toContain('INVALID UUID');
  });
});

describe('a compiled workflow', () => {
  it('expands "*" to every role of the workflow and knows which roles move an application on', () => {
    const input = definition([
      state(null, [['APPLY', 'OPEN', ['CITIZEN']]]),
      state('OPEN', [['COMMENT', 'OPEN', ['*']], ['CLOSE', 'CLOSED', ['EMPLOYEE']]]),
      terminal('CLOSED'),
    ]);
    const workflow = compileWorkflow(buildBusinessService(input, undefined, ctx()).value);
    const open = workflow.stateNamed('open')!;
    expect([...workflow.actionRoles(workflow.action(open, 'comment')!)].sort()).toEqual(['CITIZEN', 'EMPLOYEE']);
    expect([...workflow.transitionRoles(open)]).toEqual(['EMPLOYEE']);
    expect(workflow.isStateChanging(workflow.action(open, 'COMMENT')!)).toBe(false);
  });

  it('counts roles granted on the tenant or its state, not on another city', () => {
    const roles = [
      { code: 'GRO', tenantId: 'pb.amritsar' },
      { code: 'CITIZEN', tenantId: 'pb' },
      { code: 'PGR_LME', tenantId: 'pb.jalandhar' },
    ];
    expect([...rolesAt(roles, 'pb.amritsar')].sort()).toEqual(['CITIZEN', 'GRO']);
  });
});
