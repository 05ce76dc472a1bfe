import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';

export type BusinessServiceRow = {
  uuid: string;
  tenant_id: string;
  business_service: string;
  business: string;
  business_service_sla: number | null;
  definition: unknown;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};

export type InstanceRow = {
  id: string;
  tenant_id: string;
  business_service: string;
  business_id: string;
  sequence: number;
  action: string;
  module_name: string;
  status: string;
  previous_status: string | null;
  comment: string | null;
  assigner: string | null;
  state_sla: number | null;
  business_service_sla: number | null;
  rating: number | null;
  escalated: unknown;
  documents: unknown;
  created_by: string | null;
  created_time: number;
  last_modified_by: string | null;
  last_modified_time: number;
};

export type HeadRow = {
  tenant_id: string;
  business_service: string;
  business_id: string;
  sequence: number;
  latest_id: string;
  status: string;
  last_modified_time: number;
  created_by: string | null;
  created_time: number;
};

export type AssigneeRow = { process_instance_id: string; tenant_id: string; business_service: string; business_id: string; assignee: string };

export type WorkflowTables = {
  wf_business_service: BusinessServiceRow;
  wf_process_instance: InstanceRow;
  wf_process: HeadRow;
  wf_assignee: AssigneeRow;
};

export type Runner = Kysely<WorkflowTables>;

export type ApplicationKey = { tenantId: string; businessService: string; businessId: string };

/** What a process search asks; the service turns DIGIT's criteria and the caller into this. */
export type InstanceQuery = {
  tenantId: string;
  businessService?: string | undefined;
  moduleName?: string | undefined;
  businessIds?: readonly string[] | undefined;
  ids?: readonly string[] | undefined;
  statuses?: readonly string[] | undefined;
  /** Steps assigned to this user. */
  assignee?: string | undefined;
  fromDate?: number | undefined;
  toDate?: number | undefined;
  /** Every step rather than the latest per application. */
  history: boolean;
  escalated?: boolean | undefined;
  /** The inbox: in an actionable state and not assigned to someone else, or assigned to the user. */
  inbox?: { statuses: readonly string[]; user: string } | undefined;
  /** Applications the user started or was ever assigned (what a citizen may see). */
  ownedBy?: string | undefined;
  /** Steps last touched in this window (DIGIT's nearing-SLA count). */
  modifiedBetween?: { from: number; to: number } | undefined;
};

/** Escalation candidates: latest steps in `status` whose SLA is exceeded by more than the given ms. */
export type OverdueQuery = {
  tenantId: string;
  businessService: string;
  status: string;
  now: number;
  stateSlaExceededBy: number | null;
  businessSlaExceededBy: number | null;
};

type Eb = ExpressionBuilder<WorkflowTables & { pi: InstanceRow; h: HeadRow }, 'pi' | 'h'>;

/** Kysely queries for definitions, steps, heads and assignees; no rules here. */
export function createWorkflowStore(database: Database) {
  const runner = (tx?: Tx): Runner => (tx ? tx.kysely : database.kysely).withTables<WorkflowTables>() as unknown as Runner;

  function base(db: Runner, query: InstanceQuery) {
    let q = db
      .selectFrom('wf_process_instance as pi')
      .innerJoin('wf_process as h', (join) =>
        join.onRef('h.tenant_id', '=', 'pi.tenant_id').onRef('h.business_service', '=', 'pi.business_service').onRef('h.business_id', '=', 'pi.business_id'),
      )
      .where('pi.tenant_id', '=', query.tenantId);
    if (!query.history) q = q.whereRef('pi.id', '=', 'h.latest_id');
    if (query.businessService) q = q.where('pi.business_service', '=', query.businessService);
    if (query.moduleName) q = q.where('pi.module_name', '=', query.moduleName);
    if (query.businessIds?.length) q = q.where('pi.business_id', 'in', query.businessIds);
    if (query.ids?.length) q = q.where('pi.id', 'in', query.ids);
    if (query.statuses?.length) q = q.where('pi.status', 'in', query.statuses);
    if (query.fromDate !== undefined) q = q.where('pi.last_modified_time', '>=', query.fromDate);
    if (query.toDate !== undefined) q = q.where('pi.last_modified_time', '<=', query.toDate);
    if (query.escalated !== undefined) q = q.where('pi.escalated', '=', database.toBool(query.escalated));
    if (query.modifiedBetween) {
      q = q.where('pi.last_modified_time', '>=', query.modifiedBetween.from).where('pi.last_modified_time', '<=', query.modifiedBetween.to);
    }
    const assignedTo = (eb: Eb, user: string) =>
      eb.exists(eb.selectFrom('wf_assignee as a').select('a.assignee').whereRef('a.process_instance_id', '=', 'pi.id').where('a.assignee', '=', user));
    if (query.assignee) {
      const user = query.assignee;
      q = q.where((eb) => assignedTo(eb, user));
    }
    if (query.inbox) {
      const { statuses, user } = query.inbox;
      q = q.where((eb) => {
        const mine: Expression<SqlBool> = assignedTo(eb, user);
        if (statuses.length === 0) return mine;
        const unassigned = eb.not(eb.exists(eb.selectFrom('wf_assignee as a').select('a.assignee').whereRef('a.process_instance_id', '=', 'pi.id')));
        return eb.or([eb.and([eb('pi.status', 'in', statuses), unassigned]), mine]);
      });
    }
    if (query.ownedBy) {
      const user = query.ownedBy;
      q = q.where((eb) =>
        eb.or([
          eb('h.created_by', '=', user),
          eb.exists(
            eb
              .selectFrom('wf_assignee as a')
              .select('a.assignee')
              .whereRef('a.tenant_id', '=', 'h.tenant_id')
              .whereRef('a.business_service', '=', 'h.business_service')
              .whereRef('a.business_id', '=', 'h.business_id')
              .where('a.assignee', '=', user),
          ),
        ]),
      );
    }
    return q;
  }

  return {
    runner,

    async businessServices(db: Runner, tenantIds: readonly string[], codes?: readonly string[]): Promise<BusinessServiceRow[]> {
      if (tenantIds.length === 0) return [];
      let q = db.selectFrom('wf_business_service').selectAll().where('tenant_id', 'in', tenantIds);
      if (codes?.length) q = q.where('business_service', 'in', codes);
      return q.orderBy('business_service').orderBy('tenant_id').execute();
    },

    async insertBusinessService(db: Runner, row: BusinessServiceRow): Promise<void> {
      await db.insertInto('wf_business_service').values(row).execute();
    },

    async updateBusinessService(db: Runner, row: BusinessServiceRow): Promise<void> {
      const { uuid, ...rest } = row;
      await db.updateTable('wf_business_service').set(rest).where('uuid', '=', uuid).execute();
    },

    /** The head and latest step of each application asked for (missing ones are new). */
    async latest(db: Runner, keys: readonly ApplicationKey[]): Promise<Array<{ head: HeadRow; instance: InstanceRow }>> {
      if (keys.length === 0) return [];
      const heads = await db
        .selectFrom('wf_process')
        .selectAll()
        .where((eb) =>
          eb.or(
            keys.map((k) =>
              eb.and([eb('tenant_id', '=', k.tenantId), eb('business_service', '=', k.businessService), eb('business_id', '=', k.businessId)]),
            ),
          ),
        )
        .execute();
      if (heads.length === 0) return [];
      const instances = await db
        .selectFrom('wf_process_instance')
        .selectAll()
        .where(
          'id',
          'in',
          heads.map((h) => h.latest_id),
        )
        .execute();
      const byId = new Map(instances.map((i) => [i.id, i]));
      return heads.flatMap((head) => {
        const instance = byId.get(head.latest_id);
        return instance ? [{ head, instance }] : [];
      });
    },

    async head(db: Runner, key: ApplicationKey): Promise<HeadRow | undefined> {
      return db
        .selectFrom('wf_process')
        .selectAll()
        .where('tenant_id', '=', key.tenantId)
        .where('business_service', '=', key.businessService)
        .where('business_id', '=', key.businessId)
        .executeTakeFirst();
    },

    /** Starts an application's head; false when another transition started it first. */
    async insertHead(db: Runner, head: HeadRow): Promise<boolean> {
      const result = await db
        .insertInto('wf_process')
        .values(head)
        .onConflict((oc) => oc.columns(['tenant_id', 'business_service', 'business_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    /** Moves the head from `previousSequence`; false when someone else moved it meanwhile. */
    async moveHead(db: Runner, head: HeadRow, previousSequence: number): Promise<boolean> {
      const result = await db
        .updateTable('wf_process')
        .set({ sequence: head.sequence, latest_id: head.latest_id, status: head.status, last_modified_time: head.last_modified_time })
        .where('tenant_id', '=', head.tenant_id)
        .where('business_service', '=', head.business_service)
        .where('business_id', '=', head.business_id)
        .where('sequence', '=', previousSequence)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async insertInstance(db: Runner, row: InstanceRow, assignees: readonly AssigneeRow[]): Promise<void> {
      await db.insertInto('wf_process_instance').values(row).execute();
      if (assignees.length > 0) await db.insertInto('wf_assignee').values([...assignees]).execute();
    },

    async assignees(db: Runner, instanceIds: readonly string[]): Promise<AssigneeRow[]> {
      if (instanceIds.length === 0) return [];
      return db.selectFrom('wf_assignee').selectAll().where('process_instance_id', 'in', instanceIds).orderBy('assignee').execute();
    },

    async search(db: Runner, query: InstanceQuery, page: { offset: number; limit: number }): Promise<InstanceRow[]> {
      let q = base(db, query).selectAll('pi').orderBy('pi.last_modified_time', 'desc');
      q = query.history ? q.orderBy('pi.sequence', 'desc').orderBy('pi.id', 'desc') : q.orderBy('pi.id', 'desc');
      return q.offset(page.offset).limit(page.limit).execute();
    },

    async count(db: Runner, query: InstanceQuery): Promise<number> {
      const row = await base(db, query).select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirst();
      return Number(row?.count ?? 0);
    },

    async statusCount(db: Runner, query: InstanceQuery): Promise<Array<{ status: string; business_service: string; count: number }>> {
      const rows = await base(db, query)
        .select(['pi.status as status', 'pi.business_service as business_service', (eb) => eb.fn.countAll<number>().as('count')])
        .groupBy(['pi.status', 'pi.business_service'])
        .orderBy('pi.business_service')
        .orderBy('pi.status')
        .execute();
      return rows.map((r) => ({ ...r, count: Number(r.count) }));
    },

    /** DIGIT's escalation query: time since the step minus its remaining SLA, beyond the allowance. */
    async overdue(db: Runner, query: OverdueQuery): Promise<string[]> {
      let q = db
        .selectFrom('wf_process as h')
        .innerJoin('wf_process_instance as pi', 'pi.id', 'h.latest_id')
        .select('h.business_id')
        .where('h.tenant_id', '=', query.tenantId)
        .where('h.business_service', '=', query.businessService)
        .where('h.status', '=', query.status);
      if (query.stateSlaExceededBy !== null) {
        q = q.where('pi.state_sla', 'is not', null).where(sql<SqlBool>`${query.now} - pi.last_modified_time - pi.state_sla > ${query.stateSlaExceededBy}`);
      }
      if (query.businessSlaExceededBy !== null) {
        q = q
          .where('pi.business_service_sla', 'is not', null)
          .where(sql<SqlBool>`${query.now} - pi.last_modified_time - pi.business_service_sla > ${query.businessSlaExceededBy}`);
      }
      const rows = await q.orderBy('h.last_modified_time').orderBy('h.business_id').execute();
      return rows.map((r) => r.business_id);
    },
  };
}

export type WorkflowStore = ReturnType<typeof createWorkflowStore>;

/** Unique-key violations of either engine: the loser of a race, not a server fault. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT'));
}
