import { newId } from '../../kernel/ids.js';
import { firstOfEachKey } from '../../kernel/offline.js';
import { batchKey, toErrors, type Refused } from '../../kernel/offline.batch.js';
import { createEach } from '../../kernel/offline.write.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import type { TenantKeys } from '../../common/encryption/index.js';
import { eventData, personOf, type RowCodec } from './individual.rows.js';
import type { IndividualRow } from './individual.store.js';
import { EVENT, isRecord, SOURCE, type Accepted, type BatchResult, type Caller, type IndividualServiceDeps } from './individual.types.js';
import type { IndividualValidate } from './individual.validate.js';
import { withAccountLink, type Decrypted, type IndividualViewer } from './individual.viewer.js';

const ID_NAME = 'individual.id';

/**
 * DIGIT's individual create, per record: a clientReferenceId may appear once a batch, a record
 * passes the Individual rules, and one re-sent with a stored clientReferenceId answers the stored
 * person. New people are inserted a tenant at a time in bulk, registered with deduplication (its
 * candidates come back with the answer) and announced.
 */
export function individualCreate(
  { database, store, clock, outbox, idgen, dedup }: IndividualServiceDeps,
  parts: { codec: RowCodec; views: IndividualViewer; validate: IndividualValidate },
) {
  const { codec, views, validate } = parts;

  return async function create(records: readonly unknown[], caller: Caller): Promise<BatchResult> {
    const refOf = (r: unknown) =>
      isRecord(r) && typeof r['clientReferenceId'] === 'string' && typeof r['tenantId'] === 'string'
        ? batchKey(r['tenantId'], r['clientReferenceId'])
        : null;
    const unique = firstOfEachKey(records, refOf, 'DUPLICATE_CLIENT_REFERENCE_ID');
    const refused: Refused[] = unique.refused.map((r) => ({ index: r.index, record: r.record as Refused['record'], refusal: r.refusal }));
    const { ok, refused: invalid } = await validate(
      records,
      unique.kept.map((k) => k.index),
    );
    refused.push(...invalid);

    // Keys, policies and deduplication's state before the transactions: each is its own read or transaction.
    const keysOf = views.keyring();
    const redactorOf = views.viewerOf(caller.user);
    const keys = new Map<string, TenantKeys>();
    for (const tenantId of new Set(ok.map((c) => c.record.tenantId))) {
      keys.set(tenantId, await keysOf(tenantId));
      await redactorOf(tenantId, null);
      await dedup.prepare(tenantId);
    }

    const actor = caller.user?.uuid ?? null;
    // The answers of the people this call stored, by their row (a retried transaction's rows are other objects).
    const answers = new WeakMap<IndividualRow, Omit<Accepted, 'index'>>();
    const stored = await createEach(ok, refused, {
      database,
      clock,
      byClientRef: (tx, tenantId, refs) => store.byClientReferenceIds(store.runner(tx), tenantId, refs),
      // The numbers drawn are DIGIT's individualId (format individual.id); the row's own id is a uuid.
      drawIds: (tenantId, count) => idgen.generate([{ idName: ID_NAME, tenantId, count }], SYSTEM_SCOPE),
      async insert(tx, fresh, now) {
        const tenantId = fresh[0]!.record.tenantId;
        const tenantKeys = keys.get(tenantId)!;
        const remember = new Map<string, string>();
        const built = fresh.map((item) => ({
          item,
          ...codec.toRow(
            tenantKeys,
            withAccountLink(item.record, caller, null),
            {
              id: newId(),
              tenantId,
              individualId: item.id,
              clientReferenceId: item.record.clientReferenceId ?? null,
              rowVersion: 1,
              isDeleted: false,
              createdBy: actor,
              createdTime: now,
              lastModifiedBy: actor,
              lastModifiedTime: now,
            },
            remember,
          ),
        }));
        // Stored by another request meanwhile (same client reference id): skipped here, answered with that one.
        const inserted = await store.insertMany(
          tx,
          built.map((b) => b.row),
        );
        const landed = built.filter((b) => inserted.has(b.row.id));
        await store.insertIdentifierIndexes(
          store.runner(tx),
          landed.flatMap((b) => b.identifierIndexes),
        );
        const candidates =
          landed.length > 0
            ? await dedup.register(
                tx,
                tenantId,
                landed.map((b) => ({ recordId: b.row.id, person: personOf(b.item.record) })),
                { uuid: actor },
              )
            : [];
        await outbox.appendMany(
          tx,
          landed.map((b) => ({ type: EVENT.created, source: SOURCE, subject: b.row.id, tenantId, data: eventData(b.row) })),
        );
        const reveal = (c: string) => remember.get(c) ?? tenantKeys.decrypt(c);
        const out = new Map<number, IndividualRow>();
        for (const [i, b] of landed.entries()) {
          const record = codec.toDigit(b.row, reveal, b.json);
          (await redactorOf(tenantId, b.row.user_uuid)).apply(record);
          answers.set(b.row, { record, duplicates: candidates[i] ?? [] });
          out.set(b.item.index, b.row);
        }
        return out;
      },
    });

    const accepted: Accepted[] = [];
    const resent: Decrypted[] = [];
    for (const [index, row] of [...stored.entries()].sort(([a], [b]) => a - b)) {
      const answer = answers.get(row);
      if (answer) {
        accepted.push({ index, ...answer });
        continue;
      }
      // A create sent again: the stored record, not a second one.
      const r = await redactorOf(row.tenant_id, row.user_uuid);
      accepted.push({ index, record: views.view(row, keys.get(row.tenant_id)!, r), duplicates: [] });
      resent.push({ row, redactor: r });
    }
    if (resent.length > 0) await database.transaction((tx) => views.auditDecryptions(tx, resent, caller, 'create.resent'));
    return { accepted, errors: toErrors(refused) };
  };
}
