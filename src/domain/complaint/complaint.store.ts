import type { Kysely } from 'kysely';
import type { Database, Tx } from '../../kernel/db.js';
import { personalFields, sealStoredRows, type EncryptionService, type PersonalFieldSpec } from '../../common/encryption/index.js';

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

/**
 * The citizen's personal data, encrypted at rest under the state's key: name, mobile, the address
 * (door, street, landmark, geolocation…) and what they wrote (description, additional details).
 * Filters (tenant, locality, status, type) stay in clear; the mobile is searched by blind index.
 */
export const COMPLAINT_PII: PersonalFieldSpec<ComplaintRow> = {
  name: 'complaint',
  text: ['citizen_name', 'citizen_mobile', 'description'],
  json: ['address', 'additional_detail'],
  indexes: { citizen_mobile_bidx: (row) => row.citizen_mobile },
};

type Stored = { citizen_mobile_bidx?: string | null } & { [K in keyof ComplaintRow]: ComplaintRow[K] extends boolean ? unknown : ComplaintRow[K] extends string | number | null ? ComplaintRow[K] : unknown };
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
export function createComplaintStore(database: Database, encryption: EncryptionService) {
  const pii = personalFields(encryption, COMPLAINT_PII);
  const json = (value: unknown) => (value === null || value === undefined ? null : database.toJson(value));
  const fromJson = (value: unknown): unknown => (value === null || value === undefined ? null : database.fromJson(value));

  const decode = (row: Stored): ComplaintRow => {
    // The blind index is the store's own: the service never sees it.
    const rest: Stored = { ...row };
    delete rest.citizen_mobile_bidx;
    return {
      ...rest,
      address: fromJson(row.address) as Record<string, unknown>,
      documents: (fromJson(row.documents) ?? []) as unknown[],
      additional_detail: fromJson(row.additional_detail),
      assignees: (fromJson(row.assignees) ?? []) as string[],
      active: database.fromBool(row.active),
      rating: row.rating === null ? null : Number(row.rating),
      created_time: Number(row.created_time),
      last_modified_time: Number(row.last_modified_time),
    };
  };
  const read = async (row: Stored): Promise<ComplaintRow> => {
    const open = await pii.open(row.tenant_id, decode(row));
    return { ...open, address: (open.address ?? {}) as Record<string, unknown> };
  };
  const write = async (plain: ComplaintRow): Promise<Stored> => {
    const row = await pii.seal(plain.tenant_id, plain);
    return {
      ...(row as ComplaintRow & { citizen_mobile_bidx: string | null }),
      address: json(row.address),
      documents: json(row.documents),
      additional_detail: json(row.additional_detail),
      assignees: json(row.assignees),
      active: database.toBool(row.active),
    };
  };
  function query(db: Runner, filter: ComplaintFilter & { mobileBidx?: string | undefined }) {
    const list = (values: readonly string[]) => (values.length > 0 ? [...values] : ['']);
    let q = db.selectFrom('pgr_service').where('tenant_id', '=', filter.tenantId);
    if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
    if (filter.serviceRequestIds) q = q.where('service_request_id', 'in', list(filter.serviceRequestIds));
    if (filter.ids) q = q.where('id', 'in', list(filter.ids));
    if (filter.mobileBidx !== undefined) q = q.where('citizen_mobile_bidx', '=', filter.mobileBidx);
    if (filter.statuses) q = q.where('application_status', 'in', list(filter.statuses));
    if (filter.serviceCodes) q = q.where('service_code', 'in', list(filter.serviceCodes));
    if (filter.localities) q = q.where('locality_code', 'in', list(filter.localities));
    if (filter.fromDate !== undefined) q = q.where('created_time', '>=', filter.fromDate);
    if (filter.toDate !== undefined) q = q.where('created_time', '<=', filter.toDate);
    return q;
  }

  /** Exact search on the mobile number compares blind indexes. */
  const indexed = async (filter: ComplaintFilter) =>
    filter.mobileNumber === undefined ? filter : { ...filter, mobileBidx: await pii.blindIndex(filter.tenantId, 'citizen_mobile_bidx', filter.mobileNumber) };

  return {
    /** Loads the tenant's keys; call before a transaction that writes complaints (see PersonalFields.ready). */
    ready: (tenantId: string) => pii.ready(tenantId),
    /** Encrypts the complaints written before their citizen fields were encrypted (run at start). */
    sealStored: () => sealStoredRows(database, encryption, { table: 'pgr_service', id: 'id', tenant: 'tenant_id', read: (raw) => decode(raw as Stored), fields: pii, spec: COMPLAINT_PII }),
    runner(tx?: Tx): Runner {
      return (tx ? tx.kysely : database.kysely).withTables<Tables>() as unknown as Runner;
    },
    async insert(db: Runner, row: ComplaintRow): Promise<void> {
      await db.insertInto('pgr_service').values(await write(row)).execute();
    },
    async update(db: Runner, row: ComplaintRow): Promise<void> {
      const { id, ...rest } = await write(row);
      await db.updateTable('pgr_service').set(rest).where('id', '=', id).execute();
    },
    async byRequestId(db: Runner, tenantId: string, serviceRequestId: string): Promise<ComplaintRow | undefined> {
      const row = await db.selectFrom('pgr_service').selectAll().where('tenant_id', '=', tenantId).where('service_request_id', '=', serviceRequestId).executeTakeFirst();
      return row && read(row);
    },
    async search(db: Runner, filter: ComplaintFilter, page: { offset: number; limit: number; order: 'asc' | 'desc' }): Promise<ComplaintRow[]> {
      const rows = await query(db, await indexed(filter)).selectAll().orderBy('created_time', page.order).orderBy('id', page.order).limit(page.limit).offset(page.offset).execute();
      return Promise.all(rows.map(read));
    },
    async count(db: Runner, filter: ComplaintFilter): Promise<number> {
      const found = await query(db, await indexed(filter))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(found.n);
    },
  };
}

export type ComplaintStore = ReturnType<typeof createComplaintStore>;
