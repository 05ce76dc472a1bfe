import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../kernel/clock.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { stateTenantOf, tenantCovers } from '../../kernel/tenancy.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { MdmsService } from '../mdms/index.js';
import type { WorkflowCaller, WorkflowService } from './workflow.service.js';

/** The role DIGIT's escalation employee holds; the escalation actions must allow it. */
export const AUTO_ESCALATE_ROLE = 'AUTO_ESCALATE';
const DAY_MS = 24 * 60 * 60 * 1000;
/** egov.wf.escalation.batch.size */
const BATCH = 50;

/** One active record of MDMS Workflow.AutoEscalation, SLAs converted from days to ms. */
type Escalation = {
  businessService: string;
  state: string;
  action: string;
  module: string | null;
  topic: string;
  stateSlaExceededBy: number | null;
  businessSlaExceededBy: number | null;
};

export type EscalationResult = { tenantId: string; businessId: string; action: string; state: string };

export type EscalationDeps = {
  service: WorkflowService;
  mdms: MdmsService;
  clock: Clock;
  logger: FastifyBaseLogger;
};

const days = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value * DAY_MS) : null);

/**
 * DIGIT's auto-escalation: for each active Workflow.AutoEscalation record of a business service,
 * the applications whose latest step sits in the record's state with its state (or business) SLA
 * exceeded by more than the allowance take the record's action, marked escalated. A failing batch
 * is retried one application at a time, and what still fails is skipped and logged.
 */
export function createEscalationService({ service, mdms, clock, logger }: EscalationDeps) {
  async function configs(stateTenant: string, businessService: string): Promise<Escalation[]> {
    let records: unknown[] = [];
    try {
      const result = await mdms.searchV1({ tenantId: stateTenant, moduleDetails: [{ moduleName: 'Workflow', masterDetails: [{ name: 'AutoEscalation' }] }] }, SYSTEM_SCOPE);
      records = result['Workflow']?.['AutoEscalation'] ?? [];
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
    }
    const out: Escalation[] = [];
    for (const record of records as Array<Record<string, unknown>>) {
      if (record['active'] !== true && record['active'] !== 'true') continue;
      if (typeof record['businessService'] !== 'string' || record['businessService'].toLowerCase() !== businessService.toLowerCase()) continue;
      if (typeof record['state'] !== 'string' || typeof record['action'] !== 'string') continue;
      const escalation: Escalation = {
        businessService: record['businessService'],
        state: record['state'],
        action: record['action'],
        module: typeof record['module'] === 'string' ? record['module'] : null,
        topic: typeof record['topic'] === 'string' ? record['topic'] : 'workflow-auto-escalation',
        stateSlaExceededBy: days(record['stateSLA']),
        businessSlaExceededBy: days(record['businessSLA']),
      };
      if (escalation.stateSlaExceededBy === null && escalation.businessSlaExceededBy === null) {
        logger.warn({ businessService, state: escalation.state }, 'auto-escalation record has neither stateSLA nor businessSLA; skipped');
        continue;
      }
      out.push(escalation);
    }
    return out;
  }

  async function candidates(tenantId: string, escalation: Escalation, businessService: string): Promise<string[]> {
    const workflow = await service.resolve(tenantId, businessService);
    const state = workflow?.stateNamed(escalation.state);
    if (!workflow || !state) return [];
    return service.overdue({
      tenantId,
      businessService,
      status: state.uuid,
      now: clock.now(),
      stateSlaExceededBy: escalation.stateSlaExceededBy,
      businessSlaExceededBy: escalation.businessSlaExceededBy,
    });
  }

  /**
   * The tenants to look at: every known tenant of the states the caller holds roles in. Whether the
   * caller may take the escalation action is the transition's own role check.
   */
  async function tenantsFor(caller: WorkflowCaller): Promise<{ state: string; tenants: string[] }[]> {
    const known = [...(await mdms.tenants.knownTenants())].sort();
    const states = [...new Set(caller.roles.map((r) => stateTenantOf(r.tenantId)))].sort();
    return states.map((state) => ({ state, tenants: known.filter((t) => tenantCovers(state, t)) }));
  }

  async function run(caller: WorkflowCaller, businessService: string, dryRun: boolean): Promise<EscalationResult[]> {
    // An owned business service (PGR) is moved only by its module, which keeps its record in step;
    // escalating it here would leave the two disagreeing. Its module escalates it, or nobody does.
    const owned = service.ownerOf(businessService);
    if (owned) {
      throw invalid('BUSINESSSERVICE_OWNED', `${businessService} applications are moved only through ${owned.owner}; the workflow service does not escalate them`, [businessService]);
    }
    const done: EscalationResult[] = [];
    for (const { state, tenants } of await tenantsFor(caller)) {
      for (const escalation of await configs(state, businessService)) {
        for (const tenantId of tenants) {
          let ids: string[];
          try {
            ids = await candidates(tenantId, escalation, businessService);
          } catch (error) {
            logger.error({ err: error, businessService, tenantId }, 'auto-escalation could not list overdue applications; next tenant');
            continue;
          }
          if (dryRun) {
            done.push(...ids.map((businessId) => ({ tenantId, businessId, action: escalation.action, state: escalation.state })));
            continue;
          }
          for (let i = 0; i < ids.length; i += BATCH) {
            const batch = ids.slice(i, i + BATCH);
            const instances = (chunk: string[]) =>
              chunk.map((businessId) => ({ tenantId, businessService, businessId, action: escalation.action, moduleName: escalation.module }));
            try {
              await service.transition(caller, instances(batch), { escalation: { topic: escalation.topic } });
              done.push(...batch.map((businessId) => ({ tenantId, businessId, action: escalation.action, state: escalation.state })));
            } catch {
              // A transition is all-or-nothing: find the applications that fail, let the others through.
              for (const businessId of batch) {
                try {
                  await service.transition(caller, instances([businessId]), { escalation: { topic: escalation.topic } });
                  done.push({ tenantId, businessId, action: escalation.action, state: escalation.state });
                } catch (error) {
                  logger.warn({ err: error, businessService, tenantId, businessId, action: escalation.action }, 'auto-escalation of an application failed; skipped');
                }
              }
            }
          }
        }
      }
    }
    return done;
  }

  return {
    /** Escalates as `caller` (who must hold AUTO_ESCALATE); answers what was escalated. */
    escalate: (caller: WorkflowCaller, businessService: string) => run(caller, businessService, false),
    /** What `escalate` would do now, changing nothing (DIGIT's `_test`). */
    dryRun: (caller: WorkflowCaller, businessService: string) => run(caller, businessService, true),
    /**
     * One pass of the background worker, as the platform itself holding AUTO_ESCALATE in every
     * state, over every business service that has active escalation records.
     */
    async runOnce(): Promise<EscalationResult[]> {
      const states = [...(await mdms.tenants.knownTenants())].filter((t) => !t.includes('.')).sort();
      const done: EscalationResult[] = [];
      for (const state of states) {
        const system: WorkflowCaller = { uuid: null, type: 'SYSTEM', tenantId: state, roles: [{ code: AUTO_ESCALATE_ROLE, tenantId: state }] };
        let records: unknown[] = [];
        try {
          const result = await mdms.searchV1({ tenantId: state, moduleDetails: [{ moduleName: 'Workflow', masterDetails: [{ name: 'AutoEscalation' }] }] }, SYSTEM_SCOPE);
          records = result['Workflow']?.['AutoEscalation'] ?? [];
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
        }
        const codes = new Set(
          (records as Array<Record<string, unknown>>)
            .filter((r) => (r['active'] === true || r['active'] === 'true') && typeof r['businessService'] === 'string')
            .map((r) => r['businessService'] as string),
        );
        for (const code of [...codes].sort()) {
          if (service.ownerOf(code)) {
            logger.warn({ businessService: code, owner: service.ownerOf(code)?.owner }, 'active auto-escalation records for a business service another module owns are not run');
            continue;
          }
          done.push(...(await run(system, code, false)));
        }
      }
      return done;
    },
  };
}

export type EscalationService = ReturnType<typeof createEscalationService>;

/** Runs `pass` every `intervalMs` until stopped; a stop waits for the pass in flight. */
export function createWorker(pass: () => Promise<unknown>, intervalMs: number, onError: (error: unknown) => void) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass()
        .catch(onError)
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, intervalMs);
    timer.unref();
  };
  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
