import type { UserInfo } from '../../kernel/auth.js';
import type { Tx } from '../../kernel/db.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import { createPrivacy, dataSecurityMasters, decryptionEntries, type Redactor, type TenantKeys } from '../../common/encryption/index.js';
import { ADDRESS_PII, ALL_PII_PATHS, type RowCodec } from './individual.rows.js';
import type { Address, IndividualInput, IndividualOut } from './individual.schema.js';
import type { IndividualRow } from './individual.store.js';
import { nonEmpty, type Caller, type IndividualServiceDeps } from './individual.types.js';

/**
 * Who sees what of a person: the state's security policies (MDMS), one caller's redactors, the
 * keys, and the `pii.decrypted` audit entry for every person decrypted for a caller. Also what a
 * caller may change of what it cannot see.
 */

/** A row decrypted for a caller, with the redactor that masked it (what it showed is audited). */
export type Decrypted = { row: IndividualRow; redactor: Redactor };

export function individualViewer(
  { database, mdms, audit, encryption }: Pick<IndividualServiceDeps, 'database' | 'mdms' | 'audit' | 'encryption'>,
  codec: RowCodec,
) {
  const { toDigit } = codec;

  /** A master of MDMS v1 (cached there). */
  async function master(tenantId: string, moduleName: string, name: string): Promise<unknown[]> {
    const res = await mdms.searchV1({ tenantId, moduleDetails: [{ moduleName, masterDetails: [{ name }] }] }, SYSTEM_SCOPE);
    return res[moduleName]?.[name] ?? [];
  }

  /** The state's `Individual` and `IndividualSelf` policies: one caller's redactors, per tenant and self/other. */
  const privacy = createPrivacy(
    dataSecurityMasters((criteria) => mdms.searchV1(criteria, SYSTEM_SCOPE)),
    { model: 'Individual', selfModel: 'IndividualSelf', paths: ALL_PII_PATHS },
  );
  const viewerOf = (viewer: UserInfo | null) => privacy.viewer(viewer);

  /** Keys per state, fetched before any transaction (SQLite runs one at a time on its connection). */
  function keyring() {
    const keys = new Map<string, Promise<TenantKeys>>();
    return (tenantId: string) => {
      const state = stateTenantOf(tenantId);
      let k = keys.get(state);
      if (!k) keys.set(state, (k = encryption.forTenant(state)));
      return k;
    };
  }

  /** A stored row decrypted and masked by `r`. */
  function view(row: IndividualRow, keys: TenantKeys, r: Redactor): IndividualOut {
    const record = toDigit(row, (c) => keys.decrypt(c));
    r.apply(record);
    return record;
  }

  /** Decrypts and masks stored rows for `viewer`; the audit entries are returned to be written in a transaction. */
  async function views(
    rows: readonly IndividualRow[],
    viewer: UserInfo | null,
    keysOf: (tenantId: string) => Promise<TenantKeys>,
    redactorOf = viewerOf(viewer),
  ) {
    const out: IndividualOut[] = [];
    const decrypted: Decrypted[] = [];
    for (const row of rows) {
      const keys = await keysOf(row.tenant_id);
      const r = await redactorOf(row.tenant_id, row.user_uuid);
      out.push(view(row, keys, r));
      decrypted.push({ row, redactor: r });
    }
    return { out, decrypted };
  }

  /** One `pii.decrypted` entry per person whose personal fields were decrypted for the caller. */
  async function auditDecryptions(tx: Tx, decrypted: readonly Decrypted[], caller: Caller, purpose: string): Promise<void> {
    const entries = decryptionEntries(
      decrypted.map(({ row, redactor: r }) => ({ tenantId: row.tenant_id, subject: row.id, redactor: r })),
      { model: 'Individual', purpose, actorUuid: caller.user?.uuid ?? null, correlationId: caller.correlationId ?? null },
    );
    if (entries.length > 0) await audit.appendManyInTx(tx, entries);
  }

  async function viewAudited(rows: readonly IndividualRow[], caller: Caller, purpose: string): Promise<IndividualOut[]> {
    const keysOf = keyring();
    const { out, decrypted } = await views(rows, caller.user, keysOf);
    if (decrypted.length > 0) await database.transaction((tx) => auditDecryptions(tx, decrypted, caller, purpose));
    return out;
  }

  /**
   * Collects what a transaction decrypts for `caller` and audits it just before the transaction
   * commits (a retried transaction audits only its own).
   */
  function auditedIn(caller: Caller, purpose: string) {
    const shown = new WeakMap<Tx, Decrypted[]>();
    return (tx: Tx, decrypted: Decrypted): void => {
      let list = shown.get(tx);
      if (!list) {
        const fresh: Decrypted[] = [];
        shown.set(tx, (list = fresh));
        tx.beforeCommit(() => auditDecryptions(tx, fresh, caller, purpose));
      }
      list.push(decrypted);
    };
  }

  return { master, viewerOf, keyring, view, views, auditDecryptions, auditedIn, viewAudited };
}

export type IndividualViewer = ReturnType<typeof individualViewer>;

/**
 * The link to a login account (`userId`, `userUuid`) decides who sees a record as their own, in
 * full (`IndividualSelf`). Only a SUPERUSER may set or change it; anyone else keeps what is stored.
 */
export function withAccountLink(input: IndividualInput, caller: Caller, stored: IndividualRow | null): IndividualInput {
  if (caller.user?.roles.some((r) => r.code === 'SUPERUSER')) return input;
  return { ...input, userId: stored?.user_id ?? null, userUuid: stored?.user_uuid ?? null };
}

/**
 * Personal values the caller could not see in full: a value sent back exactly as it was shown
 * (masked) or a hidden one keeps what is stored; anything else replaces it.
 */
export function keepHidden(input: IndividualInput, stored: IndividualOut, r: Redactor): IndividualInput {
  if (r.allPlain) return input;
  const keep = (path: string, sent: string | null | undefined, was: unknown): string | null | undefined => {
    if (typeof was !== 'string') return sent;
    const seen = r.seen(path, was);
    if (seen === null) return sent === null || sent === undefined || sent === '' ? was : sent;
    return sent === seen && seen !== was ? was : sent;
  };
  const storedName = stored['name'] as Record<string, unknown>;
  const storedIdentifiers = stored['identifiers'] as Array<Record<string, unknown>>;
  const storedAddresses = stored['address'] as Array<Record<string, unknown>>;
  return {
    ...input,
    name: {
      ...input.name,
      givenName: keep('name.givenName', input.name.givenName, storedName['givenName']),
      familyName: keep('name.familyName', input.name.familyName, storedName['familyName']),
      otherNames: keep('name.otherNames', input.name.otherNames, storedName['otherNames']),
    },
    dateOfBirth: keep('dateOfBirth', input.dateOfBirth, stored['dateOfBirth']),
    mobileNumber: keep('mobileNumber', input.mobileNumber, stored['mobileNumber']),
    altContactNumber: keep('altContactNumber', input.altContactNumber, stored['altContactNumber']),
    email: keep('email', input.email, stored['email']),
    fatherName: keep('fatherName', input.fatherName, stored['fatherName']),
    husbandName: keep('husbandName', input.husbandName, stored['husbandName']),
    identifiers: (input.identifiers ?? []).map((i) => {
      const was = storedIdentifiers.find((s) => (nonEmpty(i.id) && s['id'] === i.id) || s['identifierType'] === i.identifierType);
      return was ? { ...i, identifierId: keep('identifiers.*.identifierId', i.identifierId, was['identifierId']) ?? i.identifierId } : i;
    }),
    address: (input.address ?? []).map((a) => {
      const was = storedAddresses.find((s) => (nonEmpty(a.id) && s['id'] === a.id) || s['type'] === a.type);
      if (!was) return a;
      const out: Address = { ...a };
      for (const f of ADDRESS_PII) out[f] = keep(`address.*.${f}`, a[f], was[f]);
      return out;
    }),
  };
}
