import type { Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';

/** A complaint row as the service sees it: json decoded, booleans as booleans, times as numbers. */
export type ComplaintRow = {
  id: string;
  tenant_id: string;
  service_request_id: string;
  service_code: string;
  description: string | null;
  account_id: string;
  citizen_name: string | null;
  citizen_mobile: string | null;
  rating: number | null;
  application_status: string;
  source: string | null;
  locality_code: string;
  address: Record<string, unknown>;
  documents: unknown[];
  additional_detail: unknown;
  last_action: string;
  assignees: string[];
  active: boolean;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

type Stored = { [K in keyof ComplaintRow]: ComplaintRow[K] extends boolean ? unknown : ComplaintRow[K] extends string | number | null ? ComplaintRow[K] : unknown };
type Tables = { pgr_service: Stored };
export type Runner = Kysely<Tables>;

export type ComplaintFilter = {
  tenantId: string;
  accountId?: string | undefined;
  serviceRequestIds?: readonly string[] | undefined;
  ids?: readonly string[] | undefined;
  mobileNumber?: string | undefined;
  statuses?: readonly string[] | undefined;
  serviceCodes?: readonly string[] | undefined;
  localities?: readonly string[] | undefined;
  fromDate?: number | undefined;
  toDate?: number | undefined;
};

/** Kysely queries for complaints; no rules here (see the service). */
export function createComplaintStore(database: Database) {
  const json = (value: unknown) => (value === null || value === undefined ? null : database.toJson(value));
  const fromJson = (value: unknown): unknown => (value === null || value === undefined ? null : database.fromJson(value));

  const read = (row: Stored): ComplaintRow => ({
    ...row,
    address: (fromJson(row.address) ?? {}) as Record<string, unknown>,
    documents: (fromJson(row.documents) ?? []) as unknown[],
    additional_detail: fromJson(row.additional_detail),
    assignees: (fromJson(row.assignees) ?? []) as string[],
    active: database.fromBool(row.active),
    rating: row.rating === null ? null : Number(row.rating),
    created_time: Number(row.created_time),
    last_modified_time: Number(row.last_modified_time),
  });
  const write = (row: ComplaintRow): Stored => ({
    ...row,
    address: json(row.address),
    documents: json(row.documents),
    additional_detail: json(row.additional_detail),
    assignees: json(row.assignees),
    active: database.toBool(row.active),
  });

  function query(db: Runner, filter: ComplaintFilter) {
    const list = (values: readonly string[]) => (values.length > 0 ? [...values] : ['']);
    let q = db.selectFrom('pgr_service').where('tenant_id', '=', filter.tenantId);
    if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
    if (filter.serviceRequestIds) q = q.where('service_request_id', 'in', list(filter.serviceRequestIds));
    if (filter.ids) q = q.where('id', 'in', list(filter.ids));
    if (filter.mobileNumber !== undefined) q = q.where('citizen_mobile', '=', filter.mobileNumber);
    if (filter.statuses) q = q.where('application_status', 'in', list(filter.statuses));
    if (filter.serviceCodes) q = q.where('service_code', 'in', list(filter.serviceCodes));
    if (filter.localities) q = q.where('locality_code', 'in', list(filter.localities));
    if (filter.fromDate !== undefined) q = q.where('created_time', '>=', filter.fromDate);
    if (filter.toDate !== undefined) q = q.where('created_time', '<=', filter.toDate);
    return q;
  }

  return {
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<Tables>() as unknown as Runner;
    },
    async insert(db: Runner, row: ComplaintRow): Promise<void> {
      await db.insertInto('pgr_service').values(write(row)).execute();
    },
    async update(db: Runner, row: ComplaintRow): Promise<void> {
      const { id, ...rest } = write(row);
      await db.updateTable('pgr_service').set(rest).where('id', '=', id).execute();
    },
    async byRequestId(db: Runner, tenantId: string, serviceRequestId: string): Promise<ComplaintRow | undefined> {
      const row = await db.selectFrom('pgr_service').selectAll().where('tenant_id', '=', tenantId).where('service_request_id', '=', serviceRequestId).executeTakeFirst();
      return row && read(row);
    },
    async search(db: Runner, filter: ComplaintFilter, page: { offset: number; limit: number; order: 'asc' | 'desc' }): Promise<ComplaintRow[]> {
      const rows = await query(db, filter).selectAll().orderBy('created_time', page.order).orderBy('id', page.order).limit(page.limit).offset(page.offset).execute();
      return rows.map(read);
    },
    async count(db: Runner, filter: ComplaintFilter): Promise<number> {
      const found = await query(db, filter)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(found.n);
    },
  };
}

export type ComplaintStore = ReturnType<typeof createComplaintStore>;
