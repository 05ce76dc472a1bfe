import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/errors.js';
import { adminAuth, post, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { BusinessServiceInput, WorkflowCaller } from './index.js';

/**
 * Random action sequences through the seeded PGR workflow, by people of every PGR role. The
 * configuration is read from the seed file itself, independently of the engine, and is the oracle:
 * every reached state must be reachable in it, every state change must have been made by a role
 * the action permits, and the engine must accept exactly what the configuration allows.
 */

/** A copy of the seeded PGR definition under a code no module owns. */
const WF = 'PGRPROP';
const RUNS = Number(process.env['WORKFLOW_PROPERTY_RUNS'] ?? 60);

type ConfigAction = { action: string; nextState: string; roles: string[] };
type ConfigState = { state: string | null; actions?: ConfigAction[] };
const seed = JSON.parse(readFileSync('seed/workflow/PGR.json', 'utf8')) as { BusinessServices: Array<{ states: ConfigState[] }> };
const config = new Map<string | null, ConfigAction[]>(seed.BusinessServices[0]!.states.map((s) => [s.state, s.actions ?? []]));
const allRoles = new Set([...config.values()].flatMap((actions) => actions.flatMap((a) => a.roles)));
const actionIn = (state: string | null, name: string) => config.get(state)?.find((a) => a.action.toLowerCase() === name.toLowerCase());
/** Roles that can move an application out of `state`. */
const movers = (state: string) => new Set((config.get(state) ?? []).filter((a) => a.nextState !== state).flatMap((a) => a.roles));
const reachable = new Set<string | null>([null]);
for (let grew = true; grew; ) {
  grew = false;
  for (const state of [...reachable]) {
    for (const a of config.get(state) ?? []) {
      if (!reachable.has(a.nextState)) {
        reachable.add(a.nextState);
        grew = true;
      }
    }
  }
}
const UNIVERSE = [...new Set([...config.values()].flatMap((actions) => actions.map((a) => a.action))), 'CLOSE', 'FORWARD', 'apply'];

type Member = { name: string; roles: string[]; citizen: boolean; caller: WorkflowCaller };
const PEOPLE: Array<{ name: string; roles: string[]; citizen?: boolean }> = [
  { name: 'citizen-a', roles: ['CITIZEN'], citizen: true },
  { name: 'citizen-b', roles: ['CITIZEN'], citizen: true },
  { name: 'csr', roles: ['CSR', 'EMPLOYEE'] },
  { name: 'gro', roles: ['GRO', 'EMPLOYEE'] },
  { name: 'dgro', roles: ['DGRO', 'EMPLOYEE'] },
  { name: 'lme-1', roles: ['PGR_LME', 'EMPLOYEE'] },
  { name: 'lme-2', roles: ['PGR_LME', 'EMPLOYEE'] },
  { name: 'cfc', roles: ['CFC', 'EMPLOYEE'] },
  { name: 'clerk', roles: ['EMPLOYEE'] },
];

let platform: TestPlatform;
let members: Member[] = [];

beforeAll(async () => {
  platform = await testPlatform();
  const admin = await adminAuth(platform);
  members = [];
  for (const [index, p] of PEOPLE.entries()) {
    const tenantId = p.citizen ? 'pb' : 'pb.amritsar';
    const mobile = String(9600000000 + index);
    const created = await post(
      platform,
      '/user/users/_createnovalidate',
      {
        RequestInfo: {},
        user: { userName: p.citizen ? mobile : `prop.${p.name}`, name: `Prop ${p.name}`, type: p.citizen ? 'CITIZEN' : 'EMPLOYEE', tenantId, mobileNumber: mobile, roles: p.roles.map((code) => ({ code, tenantId })) },
      },
      admin,
    );
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const [user] = await platform.users.service.search({ uuids: [(created.body['user'] as Array<{ uuid: string }>)[0]!.uuid] }, { pageSize: 1 });
    members.push({ name: p.name, roles: p.roles, citizen: p.citizen ?? false, caller: { uuid: user!.uuid, type: user!.type, tenantId: user!.tenantId, roles: user!.roles } });
  }
  // PGR itself is moved only by the complaint module: the engine is exercised on a copy no module owns.
  await platform.workflow.service.createBusinessServices([{ ...seed.BusinessServices[0], businessService: WF } as unknown as BusinessServiceInput], null);
});
afterAll(async () => {
  await platform?.drop();
});

/** A step, interpreted against the model's current state when it runs. */
type Step = {
  aimed: boolean;
  actionPick: number;
  actorPick: number;
  actor: 'allowed' | 'role' | 'any';
  assignee: 'none' | 'fit' | 'any';
  assigneePick: number;
  rating: number | null;
};

/** Mostly steps the configuration allows, so that runs get deep; the rest probe the refusals. */
const weighted = (yes: number, no: number) => fc.oneof({ arbitrary: fc.constant(true), weight: yes }, { arbitrary: fc.constant(false), weight: no });

const step: fc.Arbitrary<Step> = fc.record({
  aimed: weighted(9, 1),
  actionPick: fc.nat(),
  actorPick: fc.nat(),
  actor: fc.oneof({ arbitrary: fc.constant('allowed' as const), weight: 6 }, { arbitrary: fc.constant('role' as const), weight: 2 }, { arbitrary: fc.constant('any' as const), weight: 2 }),
  assignee: fc.oneof({ arbitrary: fc.constant('fit' as const), weight: 3 }, { arbitrary: fc.constant('none' as const), weight: 2 }, { arbitrary: fc.constant('any' as const), weight: 1 }),
  assigneePick: fc.nat(),
  rating: fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: fc.integer({ min: 1, max: 5 }), weight: 1 }),
});

type Model = { state: string | null; creator: number | null; assignees: number[] };

/** What the configuration (and DIGIT's rules) say about a step: allowed or not, and where it leads. */
function expected(model: Model, actor: number, actionName: string, assignees: number[] | undefined, rating: number | null) {
  const action = actionIn(model.state, actionName);
  if (!action) return { allowed: false as const };
  const who = members[actor]!;
  const changes = action.nextState !== model.state;
  const permitted = changes ? who.roles.some((r) => action.roles.includes(r)) : who.roles.some((r) => allRoles.has(r));
  if (!permitted) return { allowed: false as const };
  if (rating !== null && action.action !== 'RATE') return { allowed: false as const };
  if (changes && assignees?.some((a) => !members[a]!.roles.some((r) => movers(action.nextState).has(r)))) return { allowed: false as const };
  if (who.citizen && model.creator !== null) {
    const citizenAssignees = model.assignees.filter((a) => members[a]!.citizen);
    if (citizenAssignees.length > 0 ? !citizenAssignees.includes(actor) : model.creator !== actor) return { allowed: false as const };
  }
  return { allowed: true as const, action, changes };
}

let run = 0;

describe('random action sequences through the seeded PGR workflow', () => {
  it('reach only configured, reachable states, moved only by permitted roles, accepted exactly when the configuration allows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 16, size: 'medium' }), async (steps) => {
        const businessId = `PROP-${++run}-${Date.now()}`;
        const model: Model = { state: null, creator: null, assignees: [] };
        let moves = 0;
        for (const s of steps) {
          const available = config.get(model.state) ?? [];
          const actionName = s.aimed && available.length > 0 ? available[s.actionPick % available.length]!.action : UNIVERSE[s.actionPick % UNIVERSE.length]!;
          const configured = actionIn(model.state, actionName);
          const everyone = members.map((_, i) => i);
          // Allowed by every rule; or holding a role of the action (a citizen may still not be the owner); or anyone.
          const allowed = everyone.filter((i) => expected(model, i, actionName, undefined, null).allowed);
          const withRole = everyone.filter((i) => configured?.roles.some((r) => members[i]!.roles.includes(r)));
          const pool = s.actor === 'allowed' ? allowed : s.actor === 'role' ? withRole : everyone;
          const candidates = pool.length > 0 ? pool : everyone;
          const actor = candidates[s.actorPick % candidates.length]!;
          let assignees: number[] | undefined;
          if (s.assignee !== 'none') {
            const fit = configured ? members.map((_, i) => i).filter((i) => members[i]!.roles.some((r) => movers(configured.nextState).has(r))) : [];
            const pool = s.assignee === 'fit' && fit.length > 0 ? fit : members.map((_, i) => i);
            assignees = [pool[s.assigneePick % pool.length]!];
          }
          const prediction = expected(model, actor, actionName, assignees, s.rating);
          const input = {
            tenantId: 'pb.amritsar',
            businessService: WF,
            businessId,
            action: actionName,
            ...(assignees ? { assignes: assignees.map((a) => ({ uuid: members[a]!.caller.uuid! })) } : {}),
            ...(s.rating !== null ? { rating: s.rating } : {}),
          };
          let answer;
          try {
            [answer] = await platform.workflow.service.transition(members[actor]!.caller, [input]);
          } catch (error) {
            if (!(error instanceof DomainError)) throw error;
            expect(prediction.allowed, `${members[actor]!.name} ${actionName} in ${model.state} was refused: ${error.message}`).toBe(false);
            expect(['INVALID ACTION', 'INVALID ROLE', 'INVALID_ACTION', 'INVALID_ASSIGNEE', 'INVALID_USER']).toContain(error.code);
            continue;
          }
          expect(prediction.allowed, `${members[actor]!.name} ${actionName} in ${model.state} was accepted`).toBe(true);
          if (!prediction.allowed) return;
          const reached = answer!.state.state;
          expect(reached).toBe(prediction.action.nextState);
          expect(config.has(reached)).toBe(true);
          expect(reachable.has(reached)).toBe(true);
          if (reached !== model.state) expect(members[actor]!.roles.some((r) => prediction.action.roles.includes(r))).toBe(true);
          if (model.creator === null) model.creator = actor;
          model.assignees = assignees ?? (prediction.changes ? [] : model.assignees);
          model.state = reached;
          moves++;
        }

        // The stored history tells the same story: a path through the configuration from the start.
        const admin: WorkflowCaller = { uuid: members[3]!.caller.uuid, type: 'EMPLOYEE', tenantId: 'pb.amritsar', roles: [] };
        const history = (await platform.workflow.service.search(admin, { tenantId: 'pb.amritsar', businessIds: [businessId], history: true, limit: 100 })).ProcessInstances.reverse();
        expect(history).toHaveLength(moves);
        let state: string | null = null;
        for (const pi of history) {
          const action = actionIn(state, pi.action);
          expect(action, `${pi.action} is an action of ${state}`).toBeDefined();
          expect(pi.state.state).toBe(action!.nextState);
          const by = members.find((m) => m.caller.uuid === pi.assigner?.uuid)!;
          if (action!.nextState !== state) expect(by.roles.some((r) => action!.roles.includes(r)), `${by.name} moved ${state} by ${pi.action}`).toBe(true);
          state = pi.state.state;
        }
        expect(state).toBe(model.state);
      }),
      { numRuns: RUNS },
    );
  });
});
