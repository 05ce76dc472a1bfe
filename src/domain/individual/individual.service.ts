import type { UserInfo } from '../../kernel/auth.js';
import { SYSTEM_SCOPE, type Scope } from '../../kernel/scope.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import { DomainError } from '../../kernel/errors.js';
import type { EventInput, Outbox } from '../../kernel/events.js';
import { newId } from '../../kernel/ids.js';
import { firstOfEachKey, recordError, rowVersionRefusal, type RecordError, type Refusal } from '../../kernel/offline.js';
import { assertKnownTenant, stateTenantOf } from '../../kernel/tenancy.js';
import type { AuditLog } from '../../common/audit/index.js';
import type { BoundaryApi } from '../../common/boundary/index.js';
import type { EncryptionService, TenantKeys } from '../../common/encryption/index.js';
import type { IdgenService } from '../../common/idgen/index.js';
import type { MdmsService } from '../../common/mdms/index.js';
import type { DedupService, DuplicateCandidate, PersonForLinkage } from '../dedup/index.js';
import {
  compilePatterns,
  maskEverything,
  parsePolicy,
  redactor,
  visibilitiesFor,
  type Redactor,
  type SecurityPolicy,
} from './individual.policy.js';
import {
  individualValidator,
  schemaProblems,
  type Address,
  type IndividualInput,
  type IndividualOut,
  type IndividualSearch,
} from './individual.schema.js';
import type { IdentifierIndexRow, IndividualRow, IndividualStore, RowChanges, SearchQuery } from './individual.store.js';

/** Who is calling: the resolved user (null for the system) and the request's correlation id. */
export type Caller = { readonly user: UserInfo | null; readonly correlationId?: string | null };

export type Accepted = { index: number; record: IndividualOut; duplicates: DuplicateCandidate[] };
export type BatchResult = { accepted: Accepted[]; errors: RecordError[] };

export type SearchParams = {
  tenantId: string;
  limit?: number | undefined;
  offset?: number | undefined;
  lastChangedSince?: number | undefined;
  includeDeleted?: boolean | undefined;
};

export type IndividualServiceDeps = {
  database: Database;
  store: IndividualStore;
  clock: Clock;
  outbox: Outbox;
  mdms: MdmsService;
  audit: AuditLog;
  boundary: BoundaryApi['service'];
  idgen: IdgenService;
  encryption: EncryptionService;
  dedup: DedupService;
};

const SOURCE = '/plinth/individual';
const ID_NAME = 'individual.id';
const EVENT = {
  created: 'plinth.individual.created.v1',
  updated: 'plinth.individual.updated.v1',
  deleted: 'plinth.individual.deleted.v1',
} as const;
const REENCRYPT_BATCH = 500;

/** Personal scalar fields: column ↔ DIGIT path. Stored only as ciphertext. */
const SCALAR_PII = [
  ['given_name', 'name.givenName'],
  ['family_name', 'name.familyName'],
  ['other_names', 'name.otherNames'],
  ['date_of_birth', 'dateOfBirth'],
  ['mobile_number', 'mobileNumber'],
  ['alt_contact_number', 'altContactNumber'],
  ['email', 'email'],
  ['father_name', 'fatherName'],
  ['husband_name', 'husbandName'],
] as const satisfies ReadonlyArray<readonly [keyof IndividualRow, string]>;
type PiiColumn = (typeof SCALAR_PII)[number][0];

/** Address fields that locate a person's home: ciphertext inside the stored address JSON. */
const ADDRESS_PII = ['doorNo', 'addressLine1', 'addressLine2', 'landmark', 'buildingName', 'street'] as const;

/** Every personal path, for the mask-everything fallback when a tenant has no policy. */
const ALL_PII_PATHS = [...SCALAR_PII.map(([, path]) => path), 'identifiers.*.identifierId', ...ADDRESS_PII.map((f) => `address.*.${f}`)];

/** Blind-index purposes: one for both name parts, so `individualName` matches either. */
const PURPOSE = { name: 'individual.name', mobile: 'individual.mobile', identifier: 'individual.identifier' } as const;

export const normalizeName = (value: string) => value.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
export const normalizeMobile = (value: string) => value.replace(/\D/gu, '');
export const normalizeIdentifier = (type: string, id: string) =>
  `${type.trim().toUpperCase()}\u0000${id.normalize('NFKC').replace(/[\s-]/gu, '').toUpperCase()}`;

const keyIdOf = (ciphertext: string) => ciphertext.slice(0, Math.max(0, ciphertext.indexOf('|')));
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const nonEmpty = (value: string | null | undefined): value is string => typeof value === 'string' && value !== '';

/** `dd/MM/yyyy` that names a real day, not in the future; the problem otherwise. */
export function dateOfBirthProblem(value: string, now: number): string | undefined {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/u.exec(value);
  if (!m) return `dateOfBirth "${value}" is not dd/MM/yyyy`;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const time = Date.UTC(year, month - 1, day);
  const date = new Date(time);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || year < 1850) {
    return `dateOfBirth "${value}" is not a real date`;
  }
  if (time > now) return `dateOfBirth "${value}" is in the future`;
  return undefined;
}

/** What an update rewrites: everything but identity, creation and the tenant. */
function changesOf(row: IndividualRow): RowChanges {
  const changes: Partial<IndividualRow> = { ...row };
  delete changes.id;
  delete changes.tenant_id;
  delete changes.individual_id;
  delete changes.client_reference_id;
  delete changes.created_by;
  delete changes.created_time;
  return changes as RowChanges;
}

const refusal = (code: string, message: string, current?: unknown): Refusal =>
  current === undefined ? { code, message } : { code, message, current };

export function createIndividualService(deps: IndividualServiceDeps) {
  const { database, store, clock, outbox, mdms, audit, boundary, idgen, encryption, dedup } = deps;

  // ---- master data -------------------------------------------------------------------------

  type Policies = { other: SecurityPolicy; self: SecurityPolicy | undefined; patterns: Map<string, RegExp | undefined> };
  const policyCache = new WeakMap<object, Policies>();

  async function master(tenantId: string, moduleName: string, name: string): Promise<unknown[]> {
    const res = await mdms.searchV1({ tenantId, moduleDetails: [{ moduleName, masterDetails: [{ name }] }] }, SYSTEM_SCOPE);
    return res[moduleName]?.[name] ?? [];
  }

  /** The state's `Individual` and `IndividualSelf` policies and masking patterns (MDMS answers are cached and stable). */
  async function policiesOf(tenantId: string): Promise<Policies> {
    const state = stateTenantOf(tenantId);
    const policies = await master(state, 'DataSecurity', 'SecurityPolicy');
    const patterns = await master(state, 'DataSecurity', 'MaskingPatterns');
    const key = policies;
    const cached = policyCache.get(key);
    if (cached && policyCache.get(patterns) === cached) return cached;
    const byModel = (model: string) => policies.map(parsePolicy).find((p) => p?.model === model);
    const built: Policies = {
      other: byModel('Individual') ?? maskEverything(ALL_PII_PATHS),
      self: byModel('IndividualSelf'),
      patterns: compilePatterns(patterns),
    };
    policyCache.set(key, built);
    policyCache.set(patterns, built);
    return built;
  }

  /** One caller's redactors, per tenant and self/other. */
  function viewerOf(viewer: UserInfo | null) {
    const cache = new Map<string, Redactor>();
    return async (tenantId: string, userUuid: string | null | undefined): Promise<Redactor> => {
      const self = viewer !== null && nonEmpty(userUuid) && viewer.uuid === userUuid;
      const key = `${tenantId}|${self}`;
      let r = cache.get(key);
      if (!r) {
        const p = await policiesOf(tenantId);
        const policy = self && p.self ? p.self : p.other;
        r = redactor(policy, visibilitiesFor(policy, viewer?.roles ?? [], tenantId), p.patterns);
        cache.set(key, r);
      }
      return r;
    };
  }

  async function mobilePattern(tenantId: string): Promise<RegExp | undefined> {
    type Rule = { pattern?: string; mobileNumberRegex?: string; rules?: { pattern?: string }; default?: boolean; isDefault?: boolean };
    const rules = (await master(stateTenantOf(tenantId), 'common-masters', 'MobileNumberValidation')) as Rule[];
    const rule = rules.find((r) => r.default === true || r.isDefault === true) ?? rules[0];
    const pattern = rule?.rules?.pattern ?? rule?.mobileNumberRegex ?? rule?.pattern;
    if (typeof pattern !== 'string') return undefined;
    try {
      return new RegExp(pattern, 'u');
    } catch {
      return undefined;
    }
  }

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

  // ---- validation --------------------------------------------------------------------------

  type Checked = { index: number; input: IndividualInput };

  /** Schema and rules of §1.1 per record; refusals per record, the rest goes on. */
  async function validate(
    records: readonly unknown[],
    indexes: readonly number[],
    prepare: (index: number, input: IndividualInput) => IndividualInput = (_index, input) => input,
  ): Promise<{ ok: Checked[]; refused: RecordError[] }> {
    const ok: Checked[] = [];
    const refused: RecordError[] = [];
    const now = clock.now();
    const known = new Map<string, Promise<DomainError | undefined>>();
    const knownTenant = (tenantId: string) => {
      let p = known.get(tenantId);
      if (!p) {
        p = assertKnownTenant(mdms.tenants, tenantId).then(
          () => undefined,
          (error: unknown) => (error instanceof DomainError ? error : Promise.reject(error)),
        );
        known.set(tenantId, p);
      }
      return p;
    };
    const patterns = new Map<string, Promise<RegExp | undefined>>();
    const candidates: Checked[] = [];
    for (const index of indexes) {
      const record = records[index];
      const asRef = isRecord(record)
        ? {
            clientReferenceId: typeof record['clientReferenceId'] === 'string' ? record['clientReferenceId'] : null,
            id: typeof record['id'] === 'string' ? record['id'] : null,
          }
        : undefined;
      if (!individualValidator.Check(record)) {
        refused.push(
          recordError(
            index,
            asRef,
            refusal('INVALID_RECORD', schemaProblems(record).join('; ') || 'the record does not match the Individual schema'),
          ),
        );
        continue;
      }
      const input = prepare(index, record);
      const tenantError = await knownTenant(input.tenantId);
      if (tenantError) {
        refused.push(recordError(index, input, refusal(tenantError.code, tenantError.details[0]?.message ?? 'unknown tenant')));
        continue;
      }
      const problems: Array<[string, string]> = [];
      if (!nonEmpty(input.name.givenName) && !nonEmpty(input.name.familyName))
        problems.push(['INVALID_NAME', 'name needs a givenName or a familyName']);
      if (nonEmpty(input.dateOfBirth)) {
        const p = dateOfBirthProblem(input.dateOfBirth, now);
        if (p) problems.push(['INVALID_DATE_OF_BIRTH', p]);
      }
      if (nonEmpty(input.mobileNumber)) {
        let p = patterns.get(input.tenantId);
        if (!p) patterns.set(input.tenantId, (p = mobilePattern(input.tenantId)));
        const pattern = await p;
        if (pattern && !pattern.test(input.mobileNumber))
          problems.push(['INVALID_MOBILE_NUMBER', `mobileNumber does not match the pattern ${pattern.source}`]);
      }
      const types = (input.address ?? []).map((a) => a.type);
      if (new Set(types).size !== types.length) problems.push(['DUPLICATE_ADDRESS_TYPE', 'at most one address of each type']);
      const idTypes = (input.identifiers ?? []).map((i) => i.identifierType.trim().toUpperCase());
      if (new Set(idTypes).size !== idTypes.length)
        problems.push(['DUPLICATE_IDENTIFIER_TYPE', 'at most one identifier of each identifierType']);
      if (problems.length > 0) {
        refused.push(recordError(index, input, refusal(problems[0]![0], problems.map((p) => p[1]).join('; '))));
        continue;
      }
      candidates.push({ index, input });
    }
    // Localities and wards must be boundaries of the record's tenant: one search per tenant.
    const codesByTenant = new Map<string, Set<string>>();
    for (const { input } of candidates) {
      for (const a of input.address ?? []) {
        for (const ref of [a.locality, a.ward]) {
          if (ref) {
            const set = codesByTenant.get(input.tenantId) ?? new Set<string>();
            set.add(ref.code);
            codesByTenant.set(input.tenantId, set);
          }
        }
      }
    }
    const existing = new Map<string, Set<string>>();
    for (const [tenantId, codes] of codesByTenant) {
      const found = new Set<string>();
      const list = [...codes];
      for (let i = 0; i < list.length; i += 500) {
        const part = list.slice(i, i + 500);
        for (const b of await boundary.searchBoundaries({ tenantId, codes: part, limit: part.length }, SYSTEM_SCOPE)) found.add(b.code);
      }
      existing.set(tenantId, found);
    }
    for (const c of candidates) {
      const found = existing.get(c.input.tenantId);
      const missing = (c.input.address ?? [])
        .flatMap((a) => [a.locality?.code, a.ward?.code])
        .filter((code): code is string => code !== undefined && !found?.has(code));
      if (missing.length > 0) {
        refused.push(
          recordError(
            c.index,
            c.input,
            refusal(
              'INVALID_BOUNDARY',
              `boundary code(s) ${[...new Set(missing)].join(', ')} are not boundaries of tenant ${c.input.tenantId}`,
            ),
          ),
        );
      } else {
        ok.push(c);
      }
    }
    return { ok, refused };
  }

  // ---- rows <-> DIGIT ----------------------------------------------------------------------

  type Fixed = {
    id: string;
    tenantId: string;
    individualId: string;
    clientReferenceId: string | null;
    rowVersion: number;
    isDeleted: boolean;
    createdBy: string | null;
    createdTime: number;
    lastModifiedBy: string | null;
    lastModifiedTime: number;
  };

  /** The JSON columns of a row built in memory, as objects: an answer need not parse what was just serialized. */
  type JsonColumns = { addresses: unknown[]; identifiers: unknown[]; skills: unknown[] };
  type Built = { row: IndividualRow; identifierIndexes: IdentifierIndexRow[]; json: JsonColumns };

  /**
   * Encrypts a record into its row and blind indexes. `remember` maps each ciphertext back to its
   * plaintext so the answer can be built without decrypting what was just encrypted.
   */
  /**
   * The link to a login account (`userId`, `userUuid`) decides who sees a record as their own, in
   * full (`IndividualSelf`). Only a SUPERUSER may set or change it; anyone else keeps what is stored.
   */
  function withAccountLink(input: IndividualInput, caller: Caller, stored: IndividualRow | null): IndividualInput {
    if (caller.user?.roles.some((r) => r.code === 'SUPERUSER')) return input;
    return { ...input, userId: stored?.user_id ?? null, userUuid: stored?.user_uuid ?? null };
  }

  function toRow(keys: TenantKeys, input: IndividualInput, fixed: Fixed, remember?: Map<string, string>): Built {
    let keyId: string | null = null;
    const enc = (value: string | null | undefined): string | null => {
      if (!nonEmpty(value)) return null;
      const c = keys.encrypt(value);
      keyId ??= keyIdOf(c);
      remember?.set(c, value);
      return c;
    };
    const audit = {
      createdBy: fixed.createdBy,
      lastModifiedBy: fixed.lastModifiedBy,
      createdTime: fixed.createdTime,
      lastModifiedTime: fixed.lastModifiedTime,
    };
    const boundaryRef = (ref: Address['locality']) =>
      ref ? { ...(nonEmpty(ref.id) ? { id: ref.id } : {}), tenantId: ref.tenantId ?? fixed.tenantId, code: ref.code } : null;
    const addresses = (input.address ?? []).map((a) => ({
      id: a.id ?? newId(),
      clientReferenceId: a.clientReferenceId ?? null,
      individualId: fixed.id,
      tenantId: a.tenantId ?? fixed.tenantId,
      doorNo: enc(a.doorNo),
      latitude: a.latitude ?? null,
      longitude: a.longitude ?? null,
      locationAccuracy: a.locationAccuracy ?? null,
      type: a.type,
      addressLine1: enc(a.addressLine1),
      addressLine2: enc(a.addressLine2),
      landmark: enc(a.landmark),
      city: a.city ?? null,
      pincode: a.pincode ?? null,
      buildingName: enc(a.buildingName),
      street: enc(a.street),
      locality: boundaryRef(a.locality),
      ward: boundaryRef(a.ward),
      isDeleted: a.isDeleted ?? false,
      auditDetails: audit,
    }));
    const identifierIndexes: IdentifierIndexRow[] = [];
    const identifiers = (input.identifiers ?? []).map((i) => {
      if (!i.isDeleted) {
        identifierIndexes.push({
          individual_id: fixed.id,
          tenant_id: fixed.tenantId,
          identifier_bidx: keys.blindIndex(PURPOSE.identifier, normalizeIdentifier(i.identifierType, i.identifierId)),
        });
      }
      return {
        id: i.id ?? newId(),
        clientReferenceId: i.clientReferenceId ?? null,
        individualId: fixed.id,
        individualClientReferenceId: i.individualClientReferenceId ?? fixed.clientReferenceId,
        identifierType: i.identifierType,
        identifierId: enc(i.identifierId),
        isDeleted: i.isDeleted ?? false,
        auditDetails: audit,
      };
    });
    const skills = (input.skills ?? []).map((s) => ({
      id: s.id ?? newId(),
      clientReferenceId: s.clientReferenceId ?? null,
      individualId: fixed.id,
      type: s.type ?? null,
      level: s.level ?? null,
      experience: s.experience ?? null,
      isDeleted: s.isDeleted ?? false,
      auditDetails: audit,
    }));
    const bidx = (purpose: string, value: string | null | undefined, normalize: (v: string) => string) => {
      if (!nonEmpty(value)) return null;
      const normalized = normalize(value);
      return normalized === '' ? null : keys.blindIndex(purpose, normalized);
    };
    const firstAddress = (input.address ?? []).find((a) => !a.isDeleted);
    const row: IndividualRow = {
      id: fixed.id,
      tenant_id: fixed.tenantId,
      individual_id: fixed.individualId,
      client_reference_id: fixed.clientReferenceId,
      user_id: input.userId ?? null,
      user_uuid: input.userUuid ?? null,
      given_name: enc(input.name.givenName),
      family_name: enc(input.name.familyName),
      other_names: enc(input.name.otherNames),
      date_of_birth: enc(input.dateOfBirth),
      mobile_number: enc(input.mobileNumber),
      alt_contact_number: enc(input.altContactNumber),
      email: enc(input.email),
      father_name: enc(input.fatherName),
      husband_name: enc(input.husbandName),
      gender: input.gender ?? null,
      blood_group: input.bloodGroup ?? null,
      relationship: input.relationship ?? null,
      photo: input.photo ?? null,
      addresses: database.toJson(addresses),
      identifiers: database.toJson(identifiers),
      skills: database.toJson(skills),
      locality_code: firstAddress?.locality?.code ?? null,
      ward_code: firstAddress?.ward?.code ?? null,
      given_name_bidx: bidx(PURPOSE.name, input.name.givenName, normalizeName),
      family_name_bidx: bidx(PURPOSE.name, input.name.familyName, normalizeName),
      mobile_bidx: bidx(PURPOSE.mobile, input.mobileNumber, normalizeMobile),
      key_id: null,
      is_system_user: database.toBool(input.isSystemUser ?? false) as boolean,
      is_system_user_active: database.toBool(input.isSystemUserActive ?? true) as boolean,
      source: input.source ?? null,
      application_id: input.applicationId ?? null,
      additional_fields: input.additionalFields ? database.toJson(input.additionalFields) : null,
      client_audit: input.clientAuditDetails ? database.toJson(input.clientAuditDetails) : null,
      row_version: fixed.rowVersion,
      is_deleted: database.toBool(fixed.isDeleted) as boolean,
      created_by: fixed.createdBy,
      last_modified_by: fixed.lastModifiedBy,
      created_time: fixed.createdTime,
      last_modified_time: fixed.lastModifiedTime,
    };
    row.key_id = keyId;
    return { row, identifierIndexes, json: { addresses, identifiers, skills } };
  }

  /** A json column, read back or still as written (PostgreSQL hands back objects, but a row built in memory holds the JSON text). */
  const readJson = (value: unknown): unknown => (typeof value === 'string' ? (JSON.parse(value) as unknown) : value);
  const jsonArray = (value: unknown): Array<Record<string, unknown>> => {
    const parsed = readJson(value);
    return Array.isArray(parsed) ? parsed.filter(isRecord) : [];
  };

  /** DIGIT's Individual from a row, personal fields revealed by `reveal` (decryption or a remembered plaintext). */
  function toDigit(row: IndividualRow, reveal: (ciphertext: string) => string, json?: JsonColumns): IndividualOut {
    // A stored value that does not decrypt (altered, or under a key this tenant lost) is answered
    // as null with DIGIT's hasErrors flag: one damaged record must not fail a whole search.
    let damaged = false;
    const open = (value: unknown): string | null => {
      if (typeof value !== 'string' || value === '') return null;
      try {
        return reveal(value);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        damaged = true;
        return null;
      }
    };
    const audit = {
      createdBy: row.created_by,
      lastModifiedBy: row.last_modified_by,
      createdTime: Number(row.created_time),
      lastModifiedTime: Number(row.last_modified_time),
    };
    return {
      id: row.id,
      individualId: row.individual_id,
      tenantId: row.tenant_id,
      clientReferenceId: row.client_reference_id,
      userId: row.user_id,
      userUuid: row.user_uuid,
      name: { givenName: open(row.given_name), familyName: open(row.family_name), otherNames: open(row.other_names) },
      dateOfBirth: open(row.date_of_birth),
      gender: row.gender,
      bloodGroup: row.blood_group,
      mobileNumber: open(row.mobile_number),
      altContactNumber: open(row.alt_contact_number),
      email: open(row.email),
      fatherName: open(row.father_name),
      husbandName: open(row.husband_name),
      relationship: row.relationship,
      photo: row.photo,
      address: (json ? (json.addresses as Array<Record<string, unknown>>) : jsonArray(row.addresses)).map((a) => {
        const out: Record<string, unknown> = { ...a };
        for (const f of ADDRESS_PII) out[f] = open(a[f]);
        return out;
      }),
      identifiers: (json ? (json.identifiers as Array<Record<string, unknown>>) : jsonArray(row.identifiers)).map((i) => ({
        ...i,
        identifierId: open(i['identifierId']),
      })),
      skills: json ? (json.skills as Array<Record<string, unknown>>) : jsonArray(row.skills),
      isDeleted: database.fromBool(row.is_deleted),
      isSystemUser: database.fromBool(row.is_system_user),
      isSystemUserActive: database.fromBool(row.is_system_user_active),
      rowVersion: Number(row.row_version),
      source: row.source,
      applicationId: row.application_id,
      hasErrors: damaged,
      additionalFields: row.additional_fields === null ? null : readJson(row.additional_fields),
      auditDetails: audit,
      clientAuditDetails: row.client_audit === null ? null : readJson(row.client_audit),
    };
  }

  /** The person as deduplication encodes it (plain, in memory only). */
  function personOf(input: IndividualInput): PersonForLinkage {
    const address = (input.address ?? []).find((a) => !a.isDeleted);
    return {
      givenName: input.name.givenName ?? null,
      familyName: input.name.familyName ?? null,
      otherNames: input.name.otherNames ?? null,
      dateOfBirth: input.dateOfBirth ?? null,
      gender: input.gender ?? null,
      locality: address?.locality?.code ?? null,
      mobileNumber: input.mobileNumber ?? null,
    };
  }

  const eventData = (row: IndividualRow, rowVersion = Number(row.row_version)) => ({
    id: row.id,
    individualId: row.individual_id,
    clientReferenceId: row.client_reference_id,
    tenantId: row.tenant_id,
    rowVersion,
  });

  // ---- views: decrypt, mask, audit ---------------------------------------------------------

  type Decrypted = { row: IndividualRow; redactor: Redactor };

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
      const record = toDigit(row, (c) => keys.decrypt(c));
      r.apply(record);
      out.push(record);
      decrypted.push({ row, redactor: r });
    }
    return { out, decrypted };
  }

  /** One `pii.decrypted` entry per person whose personal fields were decrypted for the caller. */
  async function auditDecryptions(tx: Tx, decrypted: readonly Decrypted[], caller: Caller, purpose: string): Promise<void> {
    const entries = decrypted
      .filter(({ redactor: r }) => r.shown.length > 0)
      .map(({ row, redactor: r }) => ({
        tenantId: row.tenant_id,
        action: 'pii.decrypted' as const,
        subject: row.id,
        outcome: 'success' as const,
        actorUuid: caller.user?.uuid ?? null,
        details: { model: 'Individual', purpose, fields: r.shown },
        correlationId: caller.correlationId ?? null,
      }));
    if (entries.length > 0) await audit.appendManyInTx(tx, entries);
  }

  async function viewAudited(rows: readonly IndividualRow[], caller: Caller, purpose: string): Promise<IndividualOut[]> {
    const keysOf = keyring();
    const { out, decrypted } = await views(rows, caller.user, keysOf);
    if (decrypted.length > 0) await database.transaction((tx) => auditDecryptions(tx, decrypted, caller, purpose));
    return out;
  }

  // ---- create ------------------------------------------------------------------------------

  async function create(records: readonly unknown[], caller: Caller): Promise<BatchResult> {
    const errors: RecordError[] = [];
    const refOf = (r: unknown) =>
      isRecord(r) && typeof r['clientReferenceId'] === 'string' && typeof r['tenantId'] === 'string'
        ? `${r['tenantId']}\u0000${r['clientReferenceId']}`
        : null;
    const { kept, refused } = firstOfEachKey(records, refOf, 'DUPLICATE_CLIENT_REFERENCE_ID');
    for (const r of refused) errors.push(recordError(r.index, r.record as { clientReferenceId?: string }, r.refusal));
    const { ok, refused: invalid } = await validate(
      records,
      kept.map((k) => k.index),
    );
    errors.push(...invalid);

    const keysOf = keyring();
    const redactorOf = viewerOf(caller.user);
    const byTenant = new Map<string, Checked[]>();
    for (const c of ok) {
      const list = byTenant.get(c.input.tenantId);
      if (list) list.push(c);
      else byTenant.set(c.input.tenantId, [c]);
    }

    // Numbers, keys and policies before the transaction: each is its own read or transaction.
    const prepared = new Map<string, { keys: TenantKeys; ids: string[] }>();
    for (const [tenantId, list] of byTenant) {
      const keys = await keysOf(tenantId);
      await redactorOf(tenantId, null);
      await dedup.prepare(tenantId);
      const ids = await idgen.generate([{ idName: ID_NAME, tenantId, count: list.length }]);
      prepared.set(tenantId, { keys, ids });
    }

    const now = clock.now();
    const actor = caller.user?.uuid ?? null;
    const accepted: Accepted[] = [];
    await database.transaction(async (tx) => {
      const db = store.runner(tx);
      const stored: Decrypted[] = [];
      for (const [tenantId, list] of byTenant) {
        const { keys, ids } = prepared.get(tenantId)!;
        const refs = list.map((c) => c.input.clientReferenceId).filter(nonEmpty);
        const existing = new Map(
          (refs.length > 0 ? await store.byClientReferenceIds(db, tenantId, refs) : []).map((row) => [row.client_reference_id!, row]),
        );
        const remember = new Map<string, string>();
        const fresh: Array<{ c: Checked } & Built> = [];
        list.forEach((c, i) => {
          if (nonEmpty(c.input.clientReferenceId) && existing.has(c.input.clientReferenceId)) return;
          const fixed: Fixed = {
            id: newId(),
            tenantId,
            individualId: ids[i]!,
            clientReferenceId: c.input.clientReferenceId ?? null,
            rowVersion: 1,
            isDeleted: false,
            createdBy: actor,
            createdTime: now,
            lastModifiedBy: actor,
            lastModifiedTime: now,
          };
          fresh.push({ c, ...toRow(keys, withAccountLink(c.input, caller, null), fixed, remember) });
        });
        const inserted = await store.insertMany(
          db,
          fresh.map((f) => f.row),
        );
        // Stored by another request meanwhile (same client reference id): answer that one.
        const raced = fresh.filter((f) => !inserted.has(f.row.id)).map((f) => f.c.input.clientReferenceId!);
        if (raced.length > 0)
          for (const row of await store.byClientReferenceIds(db, tenantId, raced)) existing.set(row.client_reference_id!, row);
        const landed = fresh.filter((f) => inserted.has(f.row.id));
        await store.insertIdentifierIndexes(
          db,
          landed.flatMap((f) => f.identifierIndexes),
        );
        const candidates =
          landed.length > 0
            ? await dedup.register(
                tx,
                tenantId,
                landed.map((f) => ({ recordId: f.row.id, person: personOf(f.c.input) })),
                { uuid: actor },
              )
            : [];
        await outbox.appendMany(
          tx,
          landed.map((f) => ({ type: EVENT.created, source: SOURCE, subject: f.row.id, tenantId, data: eventData(f.row) })),
        );
        const reveal = (c: string) => remember.get(c) ?? keys.decrypt(c);
        for (const [i, f] of landed.entries()) {
          const record = toDigit(f.row, reveal, f.json);
          (await redactorOf(tenantId, f.row.user_uuid)).apply(record);
          accepted.push({ index: f.c.index, record, duplicates: candidates[i] ?? [] });
        }
        // A create sent again: the stored record, not a second one.
        for (const c of list) {
          const row = nonEmpty(c.input.clientReferenceId) ? existing.get(c.input.clientReferenceId) : undefined;
          if (!row) continue;
          const r = await redactorOf(tenantId, row.user_uuid);
          const record = toDigit(row, (x) => keys.decrypt(x));
          r.apply(record);
          accepted.push({ index: c.index, record, duplicates: [] });
          stored.push({ row, redactor: r });
        }
      }
      await auditDecryptions(tx, stored, caller, 'create.resent');
    });
    accepted.sort((a, b) => a.index - b.index);
    errors.sort((a, b) => a.index - b.index);
    return { accepted, errors };
  }

  // ---- update and delete -------------------------------------------------------------------

  /**
   * Personal values the caller could not see in full: a value sent back exactly as it was shown
   * (masked) or a hidden one keeps what is stored; anything else replaces it.
   */
  function keepHidden(input: IndividualInput, stored: IndividualOut, r: Redactor): IndividualInput {
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

  type Target = { index: number; id: string; tenantId: string; rowVersion: number | null | undefined };

  function targetOf(record: unknown, index: number): Target | RecordError {
    const ref = isRecord(record)
      ? {
          id: typeof record['id'] === 'string' ? record['id'] : null,
          clientReferenceId: typeof record['clientReferenceId'] === 'string' ? record['clientReferenceId'] : null,
        }
      : undefined;
    if (!isRecord(record) || !nonEmpty(ref?.id))
      return recordError(index, ref, refusal('NULL_ID', 'id is required to update or delete an individual'));
    if (typeof record['tenantId'] !== 'string' || record['tenantId'] === '')
      return recordError(index, ref, refusal('INVALID_RECORD', 'tenantId is required'));
    const rv = record['rowVersion'];
    if (rv !== undefined && rv !== null && (typeof rv !== 'number' || !Number.isInteger(rv)))
      return recordError(index, ref, refusal('INVALID_RECORD', 'rowVersion must be an integer'));
    return { index, id: ref.id, tenantId: record['tenantId'], rowVersion: rv as number | null | undefined };
  }

  /** Shared by update and delete: duplicate ids refused, stored rows loaded, stale or deleted ones refused with the current record. */
  async function loadTargets(
    tx: Tx,
    targets: readonly Target[],
    keysOf: (t: string) => Promise<TenantKeys>,
    redactorOf: ReturnType<typeof viewerOf>,
    shown: Decrypted[],
  ) {
    const db = store.runner(tx);
    const rows = new Map(
      (
        await store.byIds(
          db,
          targets.map((t) => t.id),
        )
      ).map((r) => [r.id, r]),
    );
    const ready: Array<{
      target: Target;
      row: IndividualRow;
      current: IndividualOut;
      redactor: Redactor;
      plain: IndividualOut;
      keys: TenantKeys;
    }> = [];
    const errors: RecordError[] = [];
    for (const target of targets) {
      const row = rows.get(target.id);
      if (!row || row.tenant_id !== target.tenantId) {
        errors.push(
          recordError(
            target.index,
            { id: target.id },
            refusal('NON_EXISTENT_ENTITY', `no individual ${target.id} in tenant ${target.tenantId}`),
          ),
        );
        continue;
      }
      const keys = await keysOf(row.tenant_id);
      const r = await redactorOf(row.tenant_id, row.user_uuid);
      const plain = toDigit(row, (c) => keys.decrypt(c));
      const current = structuredClone(plain);
      r.apply(current);
      const ref = { id: row.id, clientReferenceId: row.client_reference_id };
      if (database.fromBool(row.is_deleted)) {
        shown.push({ row, redactor: r });
        errors.push(recordError(target.index, ref, refusal('IS_DELETED', `individual ${row.id} is deleted`, current)));
        continue;
      }
      const stale = rowVersionRefusal(target.rowVersion, Number(row.row_version), current);
      if (stale) {
        shown.push({ row, redactor: r });
        errors.push(recordError(target.index, ref, stale));
        continue;
      }
      ready.push({ target, row, current, redactor: r, plain, keys });
    }
    return { ready, errors };
  }

  async function update(records: readonly unknown[], caller: Caller): Promise<BatchResult> {
    const errors: RecordError[] = [];
    const targets: Target[] = [];
    records.forEach((record, index) => {
      const t = targetOf(record, index);
      if ('errorCode' in t) errors.push(t);
      else targets.push(t);
    });
    const { kept, refused } = firstOfEachKey(targets, (t) => t.id, 'DUPLICATE_ENTITY');
    for (const r of refused) errors.push(recordError(r.record.index, { id: r.record.id }, r.refusal));

    // Values the caller saw masked or hidden are restored from the stored record before the
    // rules run (a masked mobile number would fail its pattern). Read outside the transaction;
    // the transaction re-checks the version, so a change in between is refused, not overwritten.
    const keysOf = keyring();
    const redactorOf = viewerOf(caller.user);
    const storedBefore = new Map(
      (
        await store.byIds(
          store.runner(),
          kept.map((k) => k.record.id),
        )
      ).map((row) => [row.id, row]),
    );
    const restorers = new Map<number, (input: IndividualInput) => IndividualInput>();
    for (const { record: t } of kept) {
      const row = storedBefore.get(t.id);
      if (!row || row.tenant_id !== t.tenantId) continue;
      const keys = await keysOf(row.tenant_id);
      const r = await redactorOf(row.tenant_id, row.user_uuid);
      const plain = toDigit(row, (c) => keys.decrypt(c));
      restorers.set(t.index, (input) => keepHidden(input, plain, r));
    }
    const { ok, refused: invalid } = await validate(
      records,
      kept.map((k) => k.record.index),
      (index, input) => restorers.get(index)?.(input) ?? input,
    );
    errors.push(...invalid);
    const valid = new Set(ok.map((c) => c.index));
    const inputs = new Map(ok.map((c) => [c.index, c.input]));
    const chosen = kept.map((k) => k.record).filter((t) => valid.has(t.index));
    for (const t of chosen) {
      await keysOf(t.tenantId);
      await redactorOf(t.tenantId, null);
      await dedup.prepare(t.tenantId);
    }
    const now = clock.now();
    const actor = caller.user?.uuid ?? null;
    const accepted: Accepted[] = [];
    await database.transaction(async (tx) => {
      const db = store.runner(tx);
      const shown: Decrypted[] = [];
      const events: Array<EventInput<ReturnType<typeof eventData>>> = [];
      const { ready, errors: refusedNow } = await loadTargets(tx, chosen, keysOf, redactorOf, shown);
      errors.push(...refusedNow);
      for (const { target, row, redactor: r, keys } of ready) {
        const input = inputs.get(target.index)!;
        const version = Number(row.row_version) + 1;
        const remember = new Map<string, string>();
        const fixed: Fixed = {
          id: row.id,
          tenantId: row.tenant_id,
          individualId: row.individual_id,
          clientReferenceId: row.client_reference_id,
          rowVersion: version,
          isDeleted: false,
          createdBy: row.created_by,
          createdTime: Number(row.created_time),
          lastModifiedBy: actor,
          lastModifiedTime: now,
        };
        const { row: next, identifierIndexes, json } = toRow(keys, withAccountLink(input, caller, row), fixed, remember);
        if (!(await store.update(db, row.id, Number(row.row_version), changesOf(next)))) {
          // Another request changed it between our read and write (PostgreSQL): refuse with what is there now.
          const [fresh] = await viewFresh(db, row.id, keys, r);
          errors.push(
            recordError(
              target.index,
              { id: row.id, clientReferenceId: row.client_reference_id },
              rowVersionRefusal(target.rowVersion, fresh?.rowVersion ?? -1, fresh) ??
                refusal('ROW_VERSION_MISMATCH', 'the record changed meanwhile', fresh),
            ),
          );
          if (fresh) shown.push({ row, redactor: r });
          continue;
        }
        await store.replaceIdentifierIndexes(db, row.id, identifierIndexes);
        const duplicates = await dedup.update(tx, row.tenant_id, row.id, personOf(input), { uuid: actor });
        events.push({ type: EVENT.updated, source: SOURCE, subject: row.id, tenantId: row.tenant_id, data: eventData(next) });
        const record = toDigit(next, (c) => remember.get(c) ?? keys.decrypt(c), json);
        r.apply(record);
        accepted.push({ index: target.index, record, duplicates });
      }
      await outbox.appendMany(tx, events);
      await auditDecryptions(tx, shown, caller, 'update.refused');
    });
    accepted.sort((a, b) => a.index - b.index);
    errors.sort((a, b) => a.index - b.index);
    return { accepted, errors };
  }

  async function viewFresh(db: ReturnType<IndividualStore['runner']>, id: string, keys: TenantKeys, r: Redactor): Promise<IndividualOut[]> {
    return (await store.byIds(db, [id])).map((row) => {
      const record = toDigit(row, (c) => keys.decrypt(c));
      r.apply(record);
      return record;
    });
  }

  async function remove(records: readonly unknown[], caller: Caller): Promise<BatchResult> {
    const errors: RecordError[] = [];
    const targets: Target[] = [];
    records.forEach((record, index) => {
      const t = targetOf(record, index);
      if ('errorCode' in t) errors.push(t);
      else targets.push(t);
    });
    const { kept, refused } = firstOfEachKey(targets, (t) => t.id, 'DUPLICATE_ENTITY');
    for (const r of refused) errors.push(recordError(r.record.index, { id: r.record.id }, r.refusal));
    const chosen = kept.map((k) => k.record);
    const keysOf = keyring();
    const redactorOf = viewerOf(caller.user);
    for (const t of chosen) {
      try {
        await assertKnownTenant(mdms.tenants, t.tenantId);
      } catch (error) {
        if (error instanceof DomainError) continue;
        throw error;
      }
      await keysOf(t.tenantId);
      await redactorOf(t.tenantId, null);
      await dedup.prepare(t.tenantId);
    }
    const now = clock.now();
    const actor = caller.user?.uuid ?? null;
    const accepted: Accepted[] = [];
    await database.transaction(async (tx) => {
      const db = store.runner(tx);
      const shown: Decrypted[] = [];
      const events: Array<EventInput<ReturnType<typeof eventData>>> = [];
      const { ready, errors: refusedNow } = await loadTargets(tx, chosen, keysOf, redactorOf, shown);
      errors.push(...refusedNow);
      for (const { target, row, current, redactor: r } of ready) {
        const version = Number(row.row_version) + 1;
        const changes = {
          is_deleted: database.toBool(true) as boolean,
          row_version: version,
          last_modified_by: actor,
          last_modified_time: now,
        };
        if (!(await store.update(db, row.id, Number(row.row_version), changes))) {
          errors.push(
            recordError(
              target.index,
              { id: row.id, clientReferenceId: row.client_reference_id },
              refusal('ROW_VERSION_MISMATCH', 'the record changed meanwhile; search it and send the delete again'),
            ),
          );
          continue;
        }
        await dedup.forget(tx, row.tenant_id, row.id);
        events.push({ type: EVENT.deleted, source: SOURCE, subject: row.id, tenantId: row.tenant_id, data: eventData(row, version) });
        const record = {
          ...current,
          isDeleted: true,
          rowVersion: version,
          auditDetails: { ...(current['auditDetails'] as object), lastModifiedBy: actor, lastModifiedTime: now },
        };
        shown.push({ row, redactor: r });
        accepted.push({ index: target.index, record, duplicates: [] });
      }
      await outbox.appendMany(tx, events);
      await auditDecryptions(tx, shown, caller, 'delete');
    });
    accepted.sort((a, b) => a.index - b.index);
    errors.sort((a, b) => a.index - b.index);
    return { accepted, errors };
  }

  // ---- search ------------------------------------------------------------------------------

  async function search(
    criteria: IndividualSearch | null | undefined,
    params: SearchParams,
    caller: Caller,
    scope: Scope,
  ): Promise<{ total: number; records: IndividualOut[] }> {
    await assertKnownTenant(mdms.tenants, params.tenantId);
    const c = criteria ?? {};
    const needsKeys = Boolean(c.name || c.individualName || c.mobileNumber?.length || c.identifier);
    const keys = needsKeys ? await encryption.forTenant(stateTenantOf(params.tenantId)) : undefined;
    const hash = (purpose: string, value: string) => keys!.blindIndex(purpose, value);
    const nameHash = (value: string | null | undefined) => (nonEmpty(value) ? hash(PURPOSE.name, normalizeName(value)) : undefined);
    const query: SearchQuery = {
      scope,
      tenantId: params.tenantId,
      ids: c.id ?? undefined,
      clientReferenceIds: c.clientReferenceId ?? undefined,
      individualIds: c.individualId ?? undefined,
      givenNameBidx: nameHash(c.name?.givenName),
      familyNameBidx: nameHash(c.name?.familyName),
      anyNameBidx: nameHash(c.individualName),
      mobileBidxs: c.mobileNumber?.map((m) => hash(PURPOSE.mobile, normalizeMobile(m))),
      identifierBidx: c.identifier
        ? hash(PURPOSE.identifier, normalizeIdentifier(c.identifier.identifierType, c.identifier.identifierId))
        : undefined,
      gender: c.gender ?? undefined,
      localityCode: c.boundaryCode ?? undefined,
      wardCode: c.wardCode ?? undefined,
      userIds: c.userId ?? undefined,
      userUuids: c.userUuid ?? undefined,
      createdFrom: c.createdFrom ?? undefined,
      createdTo: c.createdTo ?? undefined,
      lastChangedSince: params.lastChangedSince,
      includeDeleted: params.includeDeleted ?? false,
      offset: params.offset ?? 0,
      limit: params.limit ?? 100,
    };
    const { rows, total } = await store.search(store.runner(), query);
    return { total, records: await viewAudited(rows, caller, 'search') };
  }

  // ---- re-encryption -----------------------------------------------------------------------

  /** One batch of a state's rows still under an old data key, rewritten under the current one. */
  async function reencryptBatch(keys: TenantKeys, tx: Tx): Promise<number> {
    const current = keyIdOf(keys.encrypt('key probe'));
    const db = store.runner(tx);
    const rows = await store.underOldKey(db, keys.tenantId, current, REENCRYPT_BATCH);
    for (const row of rows) {
      // A value that no longer decrypts (damaged) stays as it is: toDigit reports it with hasErrors.
      const again = (value: unknown): string | null => {
        if (typeof value !== 'string' || value === '') return null;
        if (keys.isCurrent(value)) return value;
        try {
          return keys.encrypt(keys.decrypt(value));
        } catch (error) {
          if (error instanceof DomainError) return value;
          throw error;
        }
      };
      const changes: Partial<Record<PiiColumn, string | null>> = {};
      for (const [column] of SCALAR_PII) changes[column] = again(row[column]);
      const addresses = jsonArray(row.addresses).map((a) => {
        const out: Record<string, unknown> = { ...a };
        for (const f of ADDRESS_PII) out[f] = again(a[f]);
        return out;
      });
      const identifiers = jsonArray(row.identifiers).map((i) => ({ ...i, identifierId: again(i['identifierId']) }));
      // Not a change of the person: row version and change time stay, devices need not download it again.
      await store.update(db, row.id, Number(row.row_version), {
        ...changes,
        addresses: database.toJson(addresses),
        identifiers: database.toJson(identifiers),
        key_id: current,
      });
    }
    return rows.length;
  }

  // ---- lookups for other registries --------------------------------------------------------

  const lookup = {
    async idsByClientReferenceId(tenantId: string, clientReferenceIds: readonly string[]): Promise<Map<string, string>> {
      if (clientReferenceIds.length === 0) return new Map();
      const rows = await store.idsByClientReferenceIds(store.runner(), tenantId, [...new Set(clientReferenceIds)]);
      return new Map(rows.map((r) => [r.client_reference_id!, r.id]));
    },
    async existingIds(tenantId: string, ids: readonly string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      return new Set(await store.existingIds(store.runner(), tenantId, [...new Set(ids)]));
    },
    async view(tenantId: string, ids: readonly string[], viewer: UserInfo, options?: { includeDeleted?: boolean }): Promise<unknown[]> {
      if (ids.length === 0) return [];
      const rows = (await store.byIds(store.runner(), [...new Set(ids)], tenantId)).filter(
        (r) => options?.includeDeleted || !database.fromBool(r.is_deleted),
      );
      const order = new Map(ids.map((id, i) => [id, i]));
      rows.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
      return viewAudited(rows, { user: viewer }, 'view');
    },
  };

  return { create, update, remove, search, reencryptBatch, lookup };
}

export type IndividualService = ReturnType<typeof createIndividualService>;
