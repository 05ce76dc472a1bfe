import type { Clock } from './clock.js';
import type { Database, Tx } from './db.js';
import { rowVersionRefusal, type Refusal } from './offline.js';
import { byTenant, type Actor, type NamedRecord, type Parsed, type Refused } from './offline.batch.js';
import { isUniqueViolation } from './offline.store.js';

/**
 * The offline write protocol, in one place for every registry: a create re-sent with a stored
 * clientReferenceId answers the stored record; an update or delete names a stored record and
 * carries the rowVersion the device last saw; a tombstone stays; a write that loses a race to
 * another request is answered from what that request stored. The registry hands in how to read,
 * write, answer and announce its rows.
 */

/** The columns the protocol reads of a stored record. */
export type VersionedRow = {
  id: string;
  client_reference_id: string | null;
  row_version: number;
  /** A boolean, or the stored 0/1 of SQLite where a registry keeps rows as stored (individual). */
  is_deleted: boolean | number;
};

type Ref = { id?: string | null | undefined; clientReferenceId?: string | null | undefined };

/** What a registry's write callback answers for one record: the row stored, or why its rules refuse it. */
export type Outcome<Row> = Row | { refusal: Refusal };

const isRefusal = <Row>(outcome: Outcome<Row>): outcome is { refusal: Refusal } =>
  typeof outcome === 'object' && outcome !== null && 'refusal' in outcome;

/** The refusal for a record named that is not stored (or whose id and client reference id name two records). */
export function notFoundRefusal(entity: string, ref: Ref): Refusal {
  return {
    code: 'NON_EXISTENT_ENTITY',
    message: `No ${entity} ${ref.id ?? ''}${ref.id && ref.clientReferenceId ? ' / ' : ''}${ref.clientReferenceId ?? ''} in this tenant`,
  };
}

/** Stored rows by both keys; `mismatch` when a ref's id and client reference id name different rows. */
export function identityIndex<Row extends VersionedRow>(rows: readonly Row[]) {
  const byId = new Map<string, Row>();
  const byRef = new Map<string, Row>();
  const put = (row: Row) => {
    byId.set(row.id, row);
    if (row.client_reference_id !== null) byRef.set(row.client_reference_id, row);
  };
  rows.forEach(put);
  return {
    find(ref: Ref): Row | 'mismatch' | undefined {
      const a = ref.id ? byId.get(ref.id) : undefined;
      const b = ref.clientReferenceId ? byRef.get(ref.clientReferenceId) : undefined;
      if (ref.id && ref.clientReferenceId && a !== b) return 'mismatch';
      return a ?? b;
    },
    put,
  };
}

/** How a registry reads its rows inside a write's transaction. */
export type RowLookup<Row> = {
  byId(tx: Tx, tenantId: string, ids: readonly string[]): Promise<Row[]>;
  byClientRef(tx: Tx, tenantId: string, refs: readonly string[]): Promise<Row[]>;
};

/** The stored rows a batch names, by id or client reference id. */
export async function loadByIdentity<Row extends VersionedRow>(tx: Tx, tenantId: string, refs: readonly Ref[], lookup: RowLookup<Row>) {
  const ids = refs.map((r) => r.id).filter((v): v is string => typeof v === 'string');
  const clientRefs = refs.map((r) => r.clientReferenceId).filter((v): v is string => typeof v === 'string');
  return identityIndex([...(await lookup.byId(tx, tenantId, ids)), ...(await lookup.byClientRef(tx, tenantId, clientRefs))]);
}

/**
 * Runs `work` in a transaction; a unique key lost to a concurrent writer (e.g. a second head of a
 * household) retries once, and the retry sees the winner. `work` must keep its results in what it
 * returns: a retried attempt's side effects are rolled back.
 */
export async function withRetryOnRace<T>(database: Database, work: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await database.transaction(work);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    return database.transaction(work);
  }
}

/** The columns every update and delete moves on. */
export function nextVersion(current: { row_version: number }, actor: Actor, now: number) {
  return { row_version: current.row_version + 1, last_modified_by: actor.uuid, last_modified_time: now };
}

/** A new record of a create, with the server id drawn for it. */
export type Fresh<T> = Parsed<T> & { id: string };

export type CreateSpec<T, Row> = {
  database: Database;
  clock: Clock;
  /** Rows already stored under these client reference ids (`tx` undefined: outside a transaction). */
  byClientRef(tx: Tx | undefined, tenantId: string, refs: readonly string[]): Promise<Row[]>;
  /** Server ids for this many new records (drawn before the transaction: idgen commits its own). */
  drawIds(tenantId: string, count: number): Promise<string[]>;
  /**
   * Stores one tenant's new records (and announces them): per index, the row stored or the
   * registry's refusal. An index left out lost the race to a concurrent create of its
   * clientReferenceId (an insert that skipped the taken key): it is answered with the winner's row.
   */
  insert(tx: Tx, fresh: ReadonlyArray<Fresh<T>>, now: number): Promise<Map<number, Outcome<Row>>>;
};

/**
 * Creates per tenant, one transaction each. A record re-sent with a stored clientReferenceId
 * answers the stored row unchanged, so a device may resend safely; a record without one (where the
 * registry allows it) is always new. Refusals of the registry's rules go to `refused`.
 */
export async function createEach<T extends { tenantId: string; clientReferenceId?: string | null | undefined }, Row extends VersionedRow>(
  items: ReadonlyArray<Parsed<T>>,
  refused: Refused[],
  spec: CreateSpec<T, Row>,
): Promise<Map<number, Row>> {
  const accepted = new Map<number, Row>();
  const refOf = (item: Parsed<T>) => item.record.clientReferenceId || undefined;
  for (const [tenantId, group] of byTenant(items)) {
    const refs = group.map(refOf).filter((ref): ref is string => ref !== undefined);
    const storedIn = async (tx: Tx | undefined, wanted: readonly string[]) =>
      new Map(wanted.length === 0 ? [] : (await spec.byClientRef(tx, tenantId, wanted)).map((row) => [row.client_reference_id, row]));
    // A resend only leaves a gap in the numbers.
    const known = await storedIn(undefined, refs);
    const fresh = group.filter((item) => !known.has(refOf(item) ?? null)).length;
    const ids = fresh === 0 ? [] : await spec.drawIds(tenantId, fresh);
    const result = await withRetryOnRace(spec.database, async (tx) => {
      const now = spec.clock.now();
      const stored = await storedIn(tx, refs);
      const out = new Map<number, Outcome<Row>>();
      const news: Array<Fresh<T>> = [];
      for (const item of group) {
        const existing = stored.get(refOf(item) ?? null);
        if (existing) {
          out.set(item.index, existing);
          continue;
        }
        const id = ids[news.length];
        // Unreachable: records only ever get stored between the two reads, never removed.
        if (id === undefined) throw new Error('offline create: fewer ids drawn than new records');
        news.push({ ...item, id });
      }
      const made = news.length === 0 ? new Map<number, Outcome<Row>>() : await spec.insert(tx, news, now);
      const lost = news.filter((item) => !made.has(item.index));
      const winners = await storedIn(
        tx,
        lost.map(refOf).filter((ref): ref is string => ref !== undefined),
      );
      for (const item of news) {
        const outcome = made.get(item.index) ?? winners.get(refOf(item) ?? null);
        if (outcome === undefined) throw new Error(`offline create: record ${item.index} was neither stored nor found stored`);
        out.set(item.index, outcome);
      }
      return out;
    });
    for (const [index, outcome] of result) {
      if (isRefusal(outcome)) refused.push({ index, record: group.find((i) => i.index === index)!.record, refusal: outcome.refusal });
      else accepted.set(index, outcome);
    }
  }
  return accepted;
}

export type ChangeSpec<T, Row> = RowLookup<Row> & {
  database: Database;
  clock: Clock;
  /** Names the record in refusals ("household member"). */
  entity: string;
  /**
   * A tombstoned record: an update `refuse`s it as unknown, a delete `answer`s it again (a re-sent
   * delete is harmless); a registry that tells the device so `report`s it as IS_DELETED with the record.
   */
  deleted: 'refuse' | 'answer' | 'report';
  /** The record as the device gets it back next to ROW_VERSION_MISMATCH or IS_DELETED. */
  view(row: Row, tx: Tx): unknown;
  /**
   * Writes the change over `current` (and announces it): the row stored, or a refusal by the
   * registry's rules; undefined when another request changed the row first (the guarded update
   * touched nothing): the record is then refused with what that request stored.
   */
  change(tx: Tx, record: T, current: Row, now: number): Promise<Outcome<Row> | undefined>;
};

/**
 * Updates or deletes per tenant, one transaction each: every record must name a stored row and
 * carry the rowVersion the device last saw; the others are refused, the rest of the batch lands.
 */
export async function changeEach<T extends NamedRecord, Row extends VersionedRow>(
  items: ReadonlyArray<Parsed<T>>,
  refused: Refused[],
  spec: ChangeSpec<T, Row>,
): Promise<Map<number, Row>> {
  const accepted = new Map<number, Row>();
  for (const [tenantId, group] of byTenant(items)) {
    const result = await withRetryOnRace(spec.database, async (tx) => {
      const now = spec.clock.now();
      const stored = await loadByIdentity(
        tx,
        tenantId,
        group.map((i) => i.record),
        spec,
      );
      const out = new Map<number, Row>();
      const refusals: Refused[] = [];
      const refuse = (item: Parsed<T>, refusal: Refusal) => refusals.push({ ...item, refusal });
      const stale = async (sent: number | null | undefined, row: Row) =>
        sent === row.row_version ? undefined : rowVersionRefusal(sent, row.row_version, await spec.view(row, tx));
      for (const item of group) {
        const current = stored.find(item.record);
        const deleted = current !== undefined && current !== 'mismatch' && Boolean(current.is_deleted);
        if (current === undefined || current === 'mismatch' || (deleted && spec.deleted === 'refuse')) {
          refuse(item, notFoundRefusal(spec.entity, item.record));
          continue;
        }
        if (deleted) {
          if (spec.deleted === 'answer') out.set(item.index, current);
          else
            refuse(item, { code: 'IS_DELETED', message: `${spec.entity} ${current.id} is deleted`, current: await spec.view(current, tx) });
          continue;
        }
        const refusal = await stale(item.record.rowVersion, current);
        if (refusal) {
          refuse(item, refusal);
          continue;
        }
        const outcome = await spec.change(tx, item.record, current, now);
        if (outcome === undefined) {
          // Lost the race: answer with what the other request stored.
          const [fresh] = await spec.byId(tx, tenantId, [current.id]);
          refuse(item, (fresh && (await stale(item.record.rowVersion, fresh))) ?? notFoundRefusal(spec.entity, item.record));
        } else if (isRefusal(outcome)) {
          refuse(item, outcome.refusal);
        } else {
          stored.put(outcome);
          out.set(item.index, outcome);
        }
      }
      return { out, refusals };
    });
    refused.push(...result.refusals);
    for (const [index, row] of result.out) accepted.set(index, row);
  }
  return accepted;
}
