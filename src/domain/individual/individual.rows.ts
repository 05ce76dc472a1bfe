import { DomainError } from '../../kernel/errors.js';
import type { Database } from '../../kernel/db.js';
import { newId } from '../../kernel/ids.js';
import type { TenantKeys } from '../../common/encryption/index.js';
import type { PersonForLinkage } from '../dedup/index.js';
import type { Address, IndividualInput, IndividualOut } from './individual.schema.js';
import type { IdentifierIndexRow, IndividualRow, RowChanges } from './individual.store.js';
import { isRecord, nonEmpty } from './individual.types.js';

/**
 * A person's row and DIGIT's Individual, both ways: personal fields encrypted into the row with
 * blind indexes for exact search, and decrypted back out of it.
 */

/** Personal scalar fields: column ↔ DIGIT path. Stored only as ciphertext. */
export const SCALAR_PII = [
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
export type PiiColumn = (typeof SCALAR_PII)[number][0];

/** Address fields that locate a person's home: ciphertext inside the stored address JSON. */
export const ADDRESS_PII = ['doorNo', 'addressLine1', 'addressLine2', 'landmark', 'buildingName', 'street'] as const;

/** Every personal path, for the mask-everything fallback when a tenant has no policy. */
export const ALL_PII_PATHS = [
  ...SCALAR_PII.map(([, path]) => path),
  'identifiers.*.identifierId',
  ...ADDRESS_PII.map((f) => `address.*.${f}`),
];

/** Blind-index purposes: one for both name parts, so `individualName` matches either. */
export const PURPOSE = { name: 'individual.name', mobile: 'individual.mobile', identifier: 'individual.identifier' } as const;

export const normalizeName = (value: string) => value.normalize('NFKC').trim().replace(/\s+/gu, ' ').toLowerCase();
export const normalizeMobile = (value: string) => value.replace(/\D/gu, '');
export const normalizeIdentifier = (type: string, id: string) =>
  `${type.trim().toUpperCase()}\u0000${id.normalize('NFKC').replace(/[\s-]/gu, '').toUpperCase()}`;

export const keyIdOf = (ciphertext: string) => ciphertext.slice(0, Math.max(0, ciphertext.indexOf('|')));

/** What a row keeps whatever the record sent says: identity, version, flags and audit. */
export type Fixed = {
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
export type JsonColumns = { addresses: unknown[]; identifiers: unknown[]; skills: unknown[] };
export type Built = { row: IndividualRow; identifierIndexes: IdentifierIndexRow[]; json: JsonColumns };

/** What an update rewrites: everything but identity, creation and the tenant. */
export function changesOf(row: IndividualRow): RowChanges {
  const changes: Partial<IndividualRow> = { ...row };
  delete changes.id;
  delete changes.tenant_id;
  delete changes.individual_id;
  delete changes.client_reference_id;
  delete changes.created_by;
  delete changes.created_time;
  return changes as RowChanges;
}

/** A json column, read back or still as written (PostgreSQL hands back objects, but a row built in memory holds the JSON text). */
export const readJson = (value: unknown): unknown => (typeof value === 'string' ? (JSON.parse(value) as unknown) : value);
export const jsonArray = (value: unknown): Array<Record<string, unknown>> => {
  const parsed = readJson(value);
  return Array.isArray(parsed) ? parsed.filter(isRecord) : [];
};

/** The person as deduplication encodes it (plain, in memory only). */
export function personOf(input: IndividualInput): PersonForLinkage {
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

export const eventData = (row: IndividualRow, rowVersion = Number(row.row_version)) => ({
  id: row.id,
  individualId: row.individual_id,
  clientReferenceId: row.client_reference_id,
  tenantId: row.tenant_id,
  rowVersion,
});

/** Rows from records and back, with the engine's encoding of json and booleans. */
export function rowCodec(database: Pick<Database, 'toJson' | 'toBool' | 'fromBool'>) {
  /**
   * Encrypts a record into its row and blind indexes. `remember` maps each ciphertext back to its
   * plaintext so the answer can be built without decrypting what was just encrypted.
   */
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
      // Replaced by the commit's change time (kernel/offline.feed.ts).
      change_time: fixed.lastModifiedTime,
    };
    row.key_id = keyId;
    return { row, identifierIndexes, json: { addresses, identifiers, skills } };
  }

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

  return { toRow, toDigit };
}

export type RowCodec = ReturnType<typeof rowCodec>;
