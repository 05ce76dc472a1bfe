import type { Tx } from '../../kernel/db.js';
import { DomainError } from '../../kernel/errors.js';
import { namedOnce, toErrors, type Parsed, type Refused } from '../../kernel/offline.batch.js';
import { changeEach, type ChangeSpec } from '../../kernel/offline.write.js';
import { assertKnownTenant } from '../../kernel/tenancy.js';
import { changesOf, eventData, personOf, type RowCodec } from './individual.rows.js';
import type { IndividualInput } from './individual.schema.js';
import type { IndividualRow } from './individual.store.js';
import {
  EVENT,
  isRecord,
  nonEmpty,
  SOURCE,
  type Accepted,
  type BatchResult,
  type Caller,
  type IndividualServiceDeps,
} from './individual.types.js';
import type { IndividualValidate } from './individual.validate.js';
import { keepHidden, withAccountLink, type IndividualViewer } from './individual.viewer.js';

/** A record of an update or delete: named by its server id (an individual needs one), with the version the device saw. */
type Target = { tenantId: string; id: string; rowVersion: number | null | undefined; input?: IndividualInput };

/** The record's own names, as its refusal carries them. */
type Sent = { id: string | null; clientReferenceId: string | null };

function targetOf(record: unknown, index: number): { target: Parsed<Target> } | Refused {
  const sent: Sent | undefined = isRecord(record)
    ? {
        id: typeof record['id'] === 'string' ? record['id'] : null,
        clientReferenceId: typeof record['clientReferenceId'] === 'string' ? record['clientReferenceId'] : null,
      }
    : undefined;
  const refused = (code: string, message: string): Refused => ({ index, record: sent, refusal: { code, message } });
  if (!isRecord(record) || !nonEmpty(sent?.id)) return refused('NULL_ID', 'id is required to update or delete an individual');
  if (typeof record['tenantId'] !== 'string' || record['tenantId'] === '') return refused('INVALID_RECORD', 'tenantId is required');
  const rv = record['rowVersion'];
  if (rv !== undefined && rv !== null && (typeof rv !== 'number' || !Number.isInteger(rv))) {
    return refused('INVALID_RECORD', 'rowVersion must be an integer');
  }
  return { target: { index, record: { tenantId: record['tenantId'], id: sent.id, rowVersion: rv as number | null | undefined } } };
}

/**
 * DIGIT's individual update and delete, per record: the device names the person by id and sends
 * the rowVersion it last saw; a stale or deleted record is refused with the person as stored
 * (masked for the caller), the rest of the batch lands.
 */
export function individualChange(
  { database, store, clock, outbox, mdms, dedup }: IndividualServiceDeps,
  parts: { codec: RowCodec; views: IndividualViewer; validate: IndividualValidate },
) {
  const { codec, views, validate } = parts;

  /** Targets of a batch, each named once; the refusals, and each record's own names for them. */
  function targetsOf(records: readonly unknown[]) {
    const refused: Refused[] = [];
    const targets: Array<Parsed<Target>> = [];
    const sent = new Map<number, Sent>();
    records.forEach((record, index) => {
      const t = targetOf(record, index);
      if ('target' in t) {
        targets.push(t.target);
        const ref = (record as Record<string, unknown>)['clientReferenceId'];
        sent.set(index, { id: t.target.record.id, clientReferenceId: typeof ref === 'string' ? ref : null });
      } else refused.push(t);
    });
    const kept = namedOnce(targets, refused, { entity: 'individual', verb: 'update or delete' });
    // Refusals name the record as it was sent (its clientReferenceId too, though only the id names it here).
    const answer = (accepted: Accepted[]): BatchResult => ({
      accepted,
      errors: toErrors(refused.map((r) => ({ ...r, record: sent.get(r.index) ?? r.record }))),
    });
    return { kept, refused, answer };
  }

  /** What update and delete share: people read inside the write's transaction; a refusal shows the person as the caller may see it. */
  function storedFor(caller: Caller, purpose: string) {
    const keysOf = views.keyring();
    const redactorOf = views.viewerOf(caller.user);
    const audited = views.auditedIn(caller, purpose);
    /** Decrypts and masks a stored row for the caller, and audits it with the transaction. */
    const shown = async (row: IndividualRow, tx: Tx) => {
      const r = await redactorOf(row.tenant_id, row.user_uuid);
      audited(tx, { row, redactor: r });
      return views.view(row, await keysOf(row.tenant_id), r);
    };
    /** Keys, policies and deduplication's state before the transactions: each is its own read or transaction. */
    const prepare = async (tenantId: string) => {
      await keysOf(tenantId);
      await redactorOf(tenantId, null);
      await dedup.prepare(tenantId);
    };
    const spec = {
      database,
      clock,
      entity: 'individual',
      deleted: 'report',
      byId: (tx: Tx, tenantId: string, ids: readonly string[]) => store.byIds(store.runner(tx), ids, tenantId),
      byClientRef: (tx: Tx, tenantId: string, refs: readonly string[]) => store.byClientReferenceIds(store.runner(tx), tenantId, refs),
      view: shown,
    } satisfies Omit<ChangeSpec<Target, IndividualRow>, 'change'>;
    return { keysOf, redactorOf, shown, prepare, spec };
  }

  return {
    async update(records: readonly unknown[], caller: Caller): Promise<BatchResult> {
      const { kept, refused, answer } = targetsOf(records);
      const { keysOf, redactorOf, prepare, spec } = storedFor(caller, 'update.refused');
      // Values the caller saw masked or hidden are restored from the stored record before the
      // rules run (a masked mobile number would fail its pattern). Read outside the transaction;
      // the transaction re-checks the version, so a change in between is refused, not overwritten.
      const before = new Map(
        (
          await store.byIds(
            store.runner(),
            kept.map((k) => k.record.id),
          )
        ).map((row) => [row.id, row]),
      );
      const restorers = new Map<number, (input: IndividualInput) => IndividualInput>();
      for (const { index, record: t } of kept) {
        const row = before.get(t.id);
        if (!row || row.tenant_id !== t.tenantId) continue;
        const keys = await keysOf(row.tenant_id);
        const r = await redactorOf(row.tenant_id, row.user_uuid);
        const plain = codec.toDigit(row, (c) => keys.decrypt(c));
        restorers.set(index, (input) => keepHidden(input, plain, r));
      }
      const { ok, refused: invalid } = await validate(
        records,
        kept.map((k) => k.index),
        (index, input) => restorers.get(index)?.(input) ?? input,
      );
      refused.push(...invalid);
      const inputs = new Map(ok.map((c) => [c.index, c.record]));
      const chosen = kept.filter((k) => inputs.has(k.index)).map((k) => ({ ...k, record: { ...k.record, input: inputs.get(k.index)! } }));
      for (const tenantId of new Set(chosen.map((t) => t.record.tenantId))) await prepare(tenantId);

      const actor = caller.user?.uuid ?? null;
      const answers = new WeakMap<IndividualRow, Omit<Accepted, 'index'>>();
      const changed = await changeEach(chosen, refused, {
        ...spec,
        async change(tx, target, current, now) {
          const keys = await keysOf(current.tenant_id);
          const r = await redactorOf(current.tenant_id, current.user_uuid);
          const remember = new Map<string, string>();
          const input = withAccountLink(target.input, caller, current);
          const { row, identifierIndexes, json } = codec.toRow(
            keys,
            input,
            {
              id: current.id,
              tenantId: current.tenant_id,
              individualId: current.individual_id,
              clientReferenceId: current.client_reference_id,
              rowVersion: Number(current.row_version) + 1,
              isDeleted: false,
              createdBy: current.created_by,
              createdTime: Number(current.created_time),
              lastModifiedBy: actor,
              lastModifiedTime: now,
            },
            remember,
          );
          if (!(await store.update(tx, current, Number(current.row_version), changesOf(row)))) return undefined;
          await store.replaceIdentifierIndexes(store.runner(tx), current.id, identifierIndexes);
          const duplicates = await dedup.update(tx, current.tenant_id, current.id, personOf(target.input), { uuid: actor });
          await outbox.append(tx, { type: EVENT.updated, source: SOURCE, subject: row.id, tenantId: row.tenant_id, data: eventData(row) });
          const record = codec.toDigit(row, (c) => remember.get(c) ?? keys.decrypt(c), json);
          r.apply(record);
          answers.set(row, { record, duplicates });
          return row;
        },
      });
      return answer([...changed.entries()].sort(([a], [b]) => a - b).map(([index, row]) => ({ index, ...answers.get(row)! })));
    },

    /** Soft delete: the person stays as a tombstone, which searches show only with includeDeleted. */
    async remove(records: readonly unknown[], caller: Caller): Promise<BatchResult> {
      const { kept, refused, answer } = targetsOf(records);
      const { prepare, shown, spec } = storedFor(caller, 'delete');
      for (const tenantId of new Set(kept.map((t) => t.record.tenantId))) {
        try {
          await assertKnownTenant(mdms.tenants, tenantId);
        } catch (error) {
          // No person of an unknown tenant is found: refused as NON_EXISTENT_ENTITY below.
          if (error instanceof DomainError) continue;
          throw error;
        }
        await prepare(tenantId);
      }
      const actor = caller.user?.uuid ?? null;
      const answers = new WeakMap<IndividualRow, Omit<Accepted, 'index'>>();
      const changed = await changeEach(kept, refused, {
        ...spec,
        async change(tx, _target, current, now) {
          const version = Number(current.row_version) + 1;
          const changes = {
            is_deleted: database.toBool(true) as boolean,
            row_version: version,
            last_modified_by: actor,
            last_modified_time: now,
          };
          if (!(await store.update(tx, current, Number(current.row_version), changes))) return undefined;
          await dedup.forget(tx, current.tenant_id, current.id);
          const data = eventData(current, version);
          await outbox.append(tx, { type: EVENT.deleted, source: SOURCE, subject: current.id, tenantId: current.tenant_id, data });
          const seen = await shown(current, tx);
          const record = {
            ...seen,
            isDeleted: true,
            rowVersion: version,
            auditDetails: { ...(seen['auditDetails'] as object), lastModifiedBy: actor, lastModifiedTime: now },
          };
          const row: IndividualRow = { ...current, ...changes };
          answers.set(row, { record, duplicates: [] });
          return row;
        },
      });
      return answer([...changed.entries()].sort(([a], [b]) => a - b).map(([index, row]) => ({ index, ...answers.get(row)! })));
    },
  };
}
