import { sql } from 'kysely';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { invalid } from '../../kernel/errors.js';
import { newId } from '../../kernel/ids.js';
import { entryHash, GENESIS_HASH, headMac, headMacMatches, storable, storableDetails } from './audit.chain.js';
import { createAuditStore, type AuditHeadRow, type AuditLogRow } from './audit.store.js';

/**
 * What the log records. A closed list so that a typo cannot hide an event from a search; a module
 * that needs a new kind adds it here.
 */
export type AuditAction =
  | 'user.login'
  | 'user.login.failed'
  | 'user.locked'
  | 'user.logout'
  | 'user.token.refreshed'
  | 'user.created'
  | 'user.updated'
  | 'user.password.changed'
  | 'role.changed'
  | 'access.changed'
  | 'pii.decrypted'
  | 'key.rotated';

export const AUDIT_ACTIONS: readonly AuditAction[] = [
  'user.login',
  'user.login.failed',
  'user.locked',
  'user.logout',
  'user.token.refreshed',
  'user.created',
  'user.updated',
  'user.password.changed',
  'role.changed',
  'access.changed',
  'pii.decrypted',
  'key.rotated',
];

export type AuditOutcome = 'success' | 'failure';

/**
 * One event to record. The log can never be edited or erased (that is its point), so `subject`
 * and `details` must not carry personal data in the clear: use user uuids, record ids and field
 * names, and a blind index (keyed hash) where only a login name or phone number is known.
 */
export type AuditEntryInput = {
  readonly tenantId: string;
  readonly action: AuditAction;
  /** What the event is about, e.g. the user's uuid. */
  readonly subject: string;
  readonly outcome: AuditOutcome;
  /** Who did it; null for the system or an unauthenticated caller. */
  readonly actorUuid?: string | null;
  readonly details?: Record<string, unknown>;
  readonly ip?: string | null;
  readonly correlationId?: string | null;
};

export type AuditEntry = {
  readonly id: string;
  readonly tenantId: string;
  /** Position in the tenant's chain, from 1. */
  readonly seq: number;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly actorUuid: string | null;
  readonly action: AuditAction;
  readonly subject: string;
  readonly outcome: AuditOutcome;
  readonly details: Record<string, unknown>;
  readonly ip: string | null;
  readonly correlationId: string | null;
  readonly prevHash: string;
  readonly hash: string;
};

export type AuditCriteria = {
  readonly tenantId: string;
  readonly actions?: readonly string[] | undefined;
  readonly subject?: string | undefined;
  readonly actorUuid?: string | undefined;
  /** Inclusive, epoch milliseconds. */
  readonly fromTime?: number | undefined;
  /** Inclusive, epoch milliseconds. */
  readonly toTime?: number | undefined;
  readonly offset: number;
  readonly limit: number;
};

/**
 * - hash-mismatch: the row's content no longer matches its own hash (it was altered);
 * - broken-link: the row's prev_hash is not the previous row's hash (the previous row was
 *   rewritten together with its hash, or this link was);
 * - missing-entry: the entry at `seq` is gone (a gap in the sequence, or the newest entries
 *   below the recorded head);
 * - head-mismatch: the recorded chain head disagrees with the newest entry (rows added outside
 *   the log, the newest entry rewritten with a recomputed hash, or the head itself altered);
 * - head-signature: the head agrees with the entries but is not signed with this deployment's
 *   audit key (the tail and the head were rewritten with recomputed hashes, or the signature removed).
 */
export type BrokenReason = 'hash-mismatch' | 'broken-link' | 'missing-entry' | 'head-mismatch' | 'head-signature';

export type BrokenLink = {
  readonly tenantId: string;
  readonly seq: number;
  /** The row at `seq`; null when that row is missing. */
  readonly id: string | null;
  readonly reason: BrokenReason;
  /** One sentence an operator can act on. */
  readonly message: string;
};

export type VerifyReport = {
  readonly ok: boolean;
  /** Chains checked; verify stops at the first break, so on failure these count up to it. */
  readonly tenants: number;
  readonly entries: number;
  readonly firstBroken?: BrokenLink;
};

export type AuditLog = {
  /**
   * Appends in the caller's transaction, so the entry exists exactly when the change it records
   * does. On PostgreSQL this holds the tenant's chain lock until that transaction ends: append
   * last. A failure the caller is about to roll back (a refused login) needs `append` instead,
   * or its entry rolls back with it.
   */
  appendInTx(tx: Tx, entry: AuditEntryInput): Promise<AuditEntry>;
  /**
   * `appendInTx` for many entries at once: per tenant one lock, one head read, multi-row inserts
   * and one head move; the chains come out exactly as appending the entries one by one, in input
   * order, would make them. Every entry is checked before anything is written. Answers the
   * entries in input order. Locks tenants in sorted order, so two batches cannot deadlock.
   */
  appendManyInTx(tx: Tx, entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  /** Appends in a transaction of its own. */
  append(entry: AuditEntryInput): Promise<AuditEntry>;
  /** Newest first. */
  search(criteria: AuditCriteria): Promise<AuditEntry[]>;
  /** Walks every chain (or one tenant's) and reports the first broken link. */
  verify(tenantId?: string): Promise<VerifyReport>;
};

export type AuditLogDeps = {
  readonly database: Database;
  readonly clock: Clock;
  /**
   * The key that signs chain heads (audit.chain headKeyFrom the master key), or how to get it on
   * first use. It never sits in the database, so whoever can only write the database cannot sign.
   */
  readonly headKey: Buffer | (() => Buffer);
  /** Rows read per query while verifying, so a long chain never sits in memory at once. */
  readonly batchSize?: number;
};

// The two-key advisory lock space, with our own first key, so a tenant's hashtext can never
// collide with another module's single-key lock (the two spaces do not overlap in PostgreSQL).
const CHAIN_LOCK_NAMESPACE = 7_361_204;
const MAX_LIMIT = 1000;
/** Rows per audit_log INSERT in appendManyInTx: 13 parameters each, far below both engines' limits. */
const INSERT_CHUNK = 500;
const OUTCOMES: ReadonlySet<string> = new Set<AuditOutcome>(['success', 'failure']);

function checkInput(entry: AuditEntryInput): void {
  if (typeof entry.tenantId !== 'string' || entry.tenantId === '') throw invalid('INVALID_AUDIT_ENTRY', 'An audit entry needs a tenantId');
  if (!AUDIT_ACTIONS.includes(entry.action)) throw invalid('INVALID_AUDIT_ENTRY', `Unknown audit action "${String(entry.action)}"`);
  if (typeof entry.subject !== 'string') throw invalid('INVALID_AUDIT_ENTRY', 'An audit entry needs a subject');
  if (!OUTCOMES.has(entry.outcome)) throw invalid('INVALID_AUDIT_ENTRY', `Unknown audit outcome "${String(entry.outcome)}"`);
}

const orNull = (value: string | null | undefined): string | null => (value === undefined || value === null ? null : storable(value));

/**
 * The audit log: per tenant, an append-only chain in which each entry's hash covers the previous
 * entry's hash, with the newest (seq, hash) also kept in `audit_head`.
 *
 * What this detects: altering any entry, deleting any entry (including the newest, via the head),
 * inserting rows outside this API. The head is signed (HMAC under a key derived from the master
 * key, which is not in the database), so rewriting the tail with recomputed hashes and moving the
 * head along is caught too, by anyone who lacks the master key. Not caught: putting back an older
 * head with its old signature together with the entries up to it (a rollback to an earlier state,
 * losing what came after); that needs the head published outside the deployment.
 */
export function createAuditLog({ database, clock, batchSize = 1000, headKey }: AuditLogDeps): AuditLog {
  const store = createAuditStore(database);
  let key: Buffer | undefined;
  const signingKey = (): Buffer => (key ??= typeof headKey === 'function' ? headKey() : headKey);

  /**
   * A head may be extended only if this deployment signed it: otherwise the next append would sign
   * a rewritten chain. A head from before heads were signed (no mac) is extended and so signed.
   */
  function assertSigned(head: AuditHeadRow): void {
    if (head.mac !== null && !headMacMatches(signingKey(), head.tenant_id, Number(head.seq), head.hash, head.mac)) {
      throw new Error(`the audit chain head of tenant ${head.tenant_id} is not signed with this deployment's key: nothing is appended to it (run plinth audit verify)`);
    }
  }

  /** Details as stored, or `unreadable` when the column no longer holds JSON (tampered in SQLite). */
  function readDetails(row: AuditLogRow): { readonly value: unknown } | 'unreadable' {
    try {
      return { value: database.fromJson<unknown>(row.details) };
    } catch {
      return 'unreadable';
    }
  }

  function toEntry(row: AuditLogRow): AuditEntry {
    const read = readDetails(row);
    const details = read === 'unreadable' ? { unreadable: String(row.details) } : read.value;
    return {
      id: row.id,
      tenantId: row.tenant_id,
      seq: Number(row.seq),
      time: Number(row.time),
      actorUuid: row.actor_uuid,
      action: row.action as AuditAction,
      subject: row.subject,
      outcome: row.outcome as AuditOutcome,
      details: details !== null && typeof details === 'object' && !Array.isArray(details) ? (details as Record<string, unknown>) : {},
      ip: row.ip,
      correlationId: row.correlation_id,
      prevHash: row.prev_hash,
      hash: row.hash,
    };
  }

  /** The hash of a stored row, recomputed from its columns as they read back now. */
  function recomputedHash(row: AuditLogRow): string {
    const read = readDetails(row);
    if (read === 'unreadable') return 'unreadable';
    // The raw details, not toEntry's object-only view: details swapped for an array or a string
    // must fail the hash, not be read as {}.
    return entryHash({ ...toEntry(row), details: read.value });
  }

  /** Serializes appends to a tenant's chain until the transaction ends (see appendInTx). */
  async function lockChain(tx: Tx, tenantId: string): Promise<void> {
    // Two appends reading the same head would fork the chain. PostgreSQL: serialize per tenant
    // until commit (read committed then shows the winner's head). SQLite: Kysely runs one
    // transaction at a time on its single connection; another process appending at once fails on
    // the unique (tenant_id, seq) rather than forking.
    if (database.dialect === 'postgres') {
      await sql`select pg_advisory_xact_lock(${CHAIN_LOCK_NAMESPACE}, hashtext(${tenantId}))`.execute(tx.kysely);
    }
  }

  /** The next entry of a chain whose newest entry is (`previousSeq`, `prevHash`), hashed. */
  function chained(
    input: AuditEntryInput,
    tenantId: string,
    previousSeq: number,
    prevHash: string,
    drawn: { id: string; time: number } = { id: newId(), time: clock.now() },
  ): AuditEntry {
    const entry = {
      id: drawn.id,
      tenantId,
      seq: previousSeq + 1,
      time: drawn.time,
      actorUuid: orNull(input.actorUuid),
      action: input.action,
      subject: storable(input.subject),
      outcome: input.outcome,
      details: storableDetails(input.details),
      ip: orNull(input.ip),
      correlationId: orNull(input.correlationId),
      prevHash,
    };
    return { ...entry, hash: entryHash(entry) };
  }

  const rowOf = (entry: AuditEntry): AuditLogRow => ({
    id: entry.id,
    tenant_id: entry.tenantId,
    seq: entry.seq,
    time: entry.time,
    actor_uuid: entry.actorUuid,
    action: entry.action,
    subject: entry.subject,
    outcome: entry.outcome,
    details: database.toJson(entry.details),
    ip: entry.ip,
    correlation_id: entry.correlationId,
    prev_hash: entry.prevHash,
    hash: entry.hash,
  });

  async function moveHeadTo(db: ReturnType<typeof store.runner>, newest: AuditEntry, previousSeq: number): Promise<void> {
    const mac = headMac(signingKey(), newest.tenantId, newest.seq, newest.hash);
    if (!(await store.moveHead(db, { tenant_id: newest.tenantId, seq: newest.seq, hash: newest.hash, mac }, previousSeq))) {
      throw new Error(`the audit chain head of tenant ${newest.tenantId} moved during an append; the entry was not written`);
    }
  }

  async function appendInTx(tx: Tx, input: AuditEntryInput): Promise<AuditEntry> {
    checkInput(input);
    const tenantId = storable(input.tenantId);
    const db = store.runner(tx);
    await lockChain(tx, tenantId);
    const head = await store.head(db, tenantId);
    if (head) assertSigned(head);
    const previousSeq = head ? Number(head.seq) : 0;
    const entry = chained(input, tenantId, previousSeq, head?.hash ?? GENESIS_HASH);
    await store.insertEntry(db, rowOf(entry));
    await moveHeadTo(db, entry, previousSeq);
    return entry;
  }

  async function appendManyInTx(tx: Tx, inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
    inputs.forEach(checkInput);
    // Ids and times drawn in input order, as one-by-one appends would draw them.
    const drawn = inputs.map(() => ({ id: newId(), time: clock.now() }));
    const byTenant = new Map<string, number[]>();
    inputs.forEach((input, index) => {
      const tenantId = storable(input.tenantId);
      const list = byTenant.get(tenantId);
      if (list) list.push(index);
      else byTenant.set(tenantId, [index]);
    });
    const db = store.runner(tx);
    const out: AuditEntry[] = new Array<AuditEntry>(inputs.length);
    for (const tenantId of [...byTenant.keys()].sort()) {
      const indexes = byTenant.get(tenantId)!;
      await lockChain(tx, tenantId);
      const head = await store.head(db, tenantId);
      if (head) assertSigned(head);
      const previousSeq = head ? Number(head.seq) : 0;
      let seq = previousSeq;
      let prevHash = head?.hash ?? GENESIS_HASH;
      const entries = indexes.map((index) => {
        const entry = chained(inputs[index]!, tenantId, seq, prevHash, drawn[index]);
        seq = entry.seq;
        prevHash = entry.hash;
        out[index] = entry;
        return entry;
      });
      for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
        await store.insertEntries(db, entries.slice(i, i + INSERT_CHUNK).map(rowOf));
      }
      await moveHeadTo(db, entries[entries.length - 1]!, previousSeq);
    }
    return out;
  }

  async function verifyTenant(tenantId: string): Promise<{ entries: number; broken?: BrokenLink }> {
    const db = store.runner();
    let lastSeq = 0;
    let lastHash = GENESIS_HASH;
    let lastId: string | null = null;
    let entries = 0;
    const broken = (seq: number, id: string | null, reason: BrokenReason, message: string) => ({
      entries,
      broken: { tenantId, seq, id, reason, message },
    });

    /** Walks the chain from `lastSeq` in pages, up to `toSeq` if given; the first break found, if any. */
    async function walk(toSeq?: number): Promise<{ entries: number; broken: BrokenLink } | undefined> {
      for (;;) {
        const page = await store.chainPage(db, tenantId, lastSeq, batchSize, toSeq);
        for (const row of page) {
          const seq = Number(row.seq);
          if (seq !== lastSeq + 1) {
            return broken(
              lastSeq + 1,
              null,
              'missing-entry',
              `entry ${lastSeq + 1} is missing: the chain goes from ${lastSeq} to ${seq} (id ${row.id})`,
            );
          }
          if (recomputedHash(row) !== row.hash) {
            return broken(seq, row.id, 'hash-mismatch', `entry ${seq} was altered: its content no longer matches its hash`);
          }
          if (row.prev_hash !== lastHash) {
            return broken(seq, row.id, 'broken-link', `entry ${seq} does not follow entry ${lastSeq}: one of them was rewritten`);
          }
          lastSeq = seq;
          lastHash = row.hash;
          lastId = row.id;
          entries += 1;
        }
        if (page.length < batchSize) return undefined;
      }
    }

    const early = await walk();
    if (early) return early;
    // Read after the walk, so appends committed meanwhile can only put the head ahead of what we
    // saw, never behind it: behind means tampering.
    const head = await store.head(db, tenantId);
    if (!head) {
      if (lastSeq === 0) return { entries };
      return broken(lastSeq, lastId, 'head-mismatch', `the chain has ${lastSeq} entries but no recorded head: the head was deleted`);
    }
    const headSeq = Number(head.seq);
    if (headSeq > lastSeq) {
      const late = await walk(headSeq);
      if (late) return late;
      if (lastSeq < headSeq) {
        return broken(
          lastSeq + 1,
          null,
          'missing-entry',
          `${lastSeq + 1 === headSeq ? `entry ${headSeq} is` : `entries ${lastSeq + 1} to ${headSeq} are`} missing: the head records ${headSeq} entries`,
        );
      }
    }
    if (headSeq < lastSeq) {
      const [extra] = await store.chainPage(db, tenantId, headSeq, 1);
      return broken(
        headSeq + 1,
        extra?.id ?? null,
        'head-mismatch',
        `entry ${headSeq + 1} lies beyond the recorded head (${headSeq}): it was added outside the audit log`,
      );
    }
    if (head.hash !== lastHash) {
      return broken(
        lastSeq,
        lastId,
        'head-mismatch',
        `entry ${lastSeq} differs from the recorded head: it was rewritten with a recomputed hash, or the head was altered`,
      );
    }
    if (head.mac === null) {
      return broken(lastSeq, lastId, 'head-signature', `the recorded head (entry ${lastSeq}) carries no signature: it was removed, or the head predates signing and nothing was appended since`);
    }
    if (!headMacMatches(signingKey(), tenantId, headSeq, head.hash, head.mac)) {
      return broken(
        lastSeq,
        lastId,
        'head-signature',
        `the recorded head (entry ${lastSeq}) is not signed with this deployment's audit key: the entries and the head were rewritten with recomputed hashes`,
      );
    }
    return { entries };
  }

  return {
    appendInTx,
    appendManyInTx,

    append(entry) {
      return database.transaction((tx) => appendInTx(tx, entry));
    },

    async search(criteria) {
      if (!Number.isInteger(criteria.offset) || criteria.offset < 0)
        throw invalid('INVALID_AUDIT_CRITERIA', 'offset must be a whole number, 0 or more');
      if (!Number.isInteger(criteria.limit) || criteria.limit < 1 || criteria.limit > MAX_LIMIT) {
        throw invalid('INVALID_AUDIT_CRITERIA', `limit must be a whole number from 1 to ${MAX_LIMIT}`);
      }
      const rows = await store.search(store.runner(), criteria);
      return rows.map(toEntry);
    },

    async verify(tenantId) {
      const tenants = tenantId === undefined ? await store.tenants(store.runner()) : [tenantId];
      let entries = 0;
      let checked = 0;
      for (const tenant of tenants) {
        const result = await verifyTenant(tenant);
        // A tenant asked for by name that has no chain at all is not a chain checked.
        if (result.entries > 0 || result.broken) checked += 1;
        entries += result.entries;
        if (result.broken) return { ok: false, tenants: checked, entries, firstBroken: result.broken };
      }
      return { ok: true, tenants: checked, entries };
    },
  };
}

/** The verify report as the CLI prints it: one line when intact, the broken row named otherwise. */
export function formatVerifyReport(report: VerifyReport): string {
  const scope = `${report.entries} ${report.entries === 1 ? 'entry' : 'entries'} in ${report.tenants} ${report.tenants === 1 ? 'tenant' : 'tenants'}`;
  if (report.ok || !report.firstBroken) return `audit log intact: ${scope} verified`;
  const b = report.firstBroken;
  return [
    `audit log BROKEN: tenant ${b.tenantId}, entry ${b.seq}${b.id ? ` (id ${b.id})` : ''}: ${b.reason}`,
    `  ${b.message}`,
    `  ${scope} verified before the break`,
  ].join('\n');
}
