import { DomainError, invalid } from '../../kernel/errors.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { EncryptionService, TenantKeys } from '../encryption/index.js';
import { isCipherText, personalFields, type PersonalFieldSpec } from '../encryption/index.js';
import type { Identity, IdentityField, IdentityIndexes, Runner } from './user.rows.js';

export type { Identity, IdentityField, IdentityIndexes } from './user.rows.js';

/**
 * A user's personal data is ciphertext at rest (#14 Build 4), under the state's data key of the
 * encryption module, as the individual registry stores its fields:
 *
 * - the identity columns (user name, which is a citizen's mobile number, name, mobile, e-mail),
 *   each with a keyed blind index for exact search, as DIGIT's egov-user keeps `hashedusername`,
 *   `hashedname`, `hashedmobilenumber` and `hashedemailid` beside the encrypted values;
 * - identifiers (Aadhaar, PAN), addresses, other phone numbers, relatives' names, birth date and
 *   marks inside `profile`, which is never searched, so it needs no index.
 *
 * `key_id` on the row names the data key of both, for re-encryption after a rotation; null means
 * "profile written before encryption" (see sealExisting).
 */
export const SEALED_PROFILE_FIELDS = [
  'pan',
  'aadhaarNumber',
  'altContactNumber',
  'alternatemobilenumber',
  'permanentAddress',
  'permanentCity',
  'permanentPinCode',
  'correspondenceAddress',
  'correspondenceCity',
  'correspondencePinCode',
  'fatherOrHusbandName',
  'identificationMark',
  'dob',
] as const;

export const IDENTITY_FIELDS: readonly IdentityField[] = ['user_name', 'name', 'mobile_number', 'email_id'];
export const INDEX_COLUMN = {
  user_name: 'user_name_bidx',
  name: 'name_bidx',
  mobile_number: 'mobile_number_bidx',
  email_id: 'email_id_bidx',
} as const;
/** The request field of each identity column, for error messages. */
const REQUEST_FIELD: Record<IdentityField, string> = {
  user_name: 'userName',
  name: 'name',
  mobile_number: 'mobileNumber',
  email_id: 'emailId',
};

/** Exact match, as DIGIT's hashed columns and Plinth's search before: values are indexed as given. */
const IDENTITY: PersonalFieldSpec<Identity> = {
  name: 'users',
  text: [...IDENTITY_FIELDS],
  indexes: {
    user_name_bidx: (row) => row.user_name,
    name_bidx: (row) => row.name,
    mobile_number_bidx: (row) => row.mobile_number,
    email_id_bidx: (row) => row.email_id,
  },
};

const BATCH = 200;
const keyIdOf = (ciphertext: string) => ciphertext.slice(0, Math.max(0, ciphertext.indexOf('|')));

/** A sealed value keeps its JSON type: numbers (a `dob` in epoch ms) come back as numbers. */
const NUMBER_TAG = 'n:';

type Json = { to: (v: unknown) => unknown; from: (v: unknown) => Record<string, unknown> | null };

export type UserCrypto = {
  /** The state's keys, fetched before a transaction (SQLite runs one at a time on its connection). */
  keys(tenantId: string): Promise<TenantKeys>;
  sealProfile(keys: TenantKeys, profile: Record<string, unknown>): { profile: Record<string, unknown>; keyId: string };
  openProfile(keys: TenantKeys, profile: Record<string, unknown>): Record<string, unknown>;
  /** The identity in ciphertext with its blind indexes. A value shaped like a ciphertext is refused (it would be stored as is). */
  sealIdentity(keys: TenantKeys, identity: Identity): Identity & IdentityIndexes;
  openIdentity<R extends Identity>(keys: TenantKeys, row: R): R;
  /** The blind index a search compares with the field's index column. */
  index(keys: TenantKeys, field: IdentityField, value: string): string;
  /** Encrypts what is stored in the clear (rows from before this release); answers how many rows. */
  sealExisting(db: () => Runner, json: Json): Promise<number>;
  /** One batch of a state's rows under an old data key, rewritten under the current one. */
  reencryptBatch(keys: TenantKeys, db: Runner, json: Json): Promise<number>;
};

export function createUserCrypto(encryption: EncryptionService): UserCrypto {
  const pii = personalFields(encryption, IDENTITY);

  function sealProfile(keys: TenantKeys, profile: Record<string, unknown>) {
    const out: Record<string, unknown> = { ...profile };
    for (const field of SEALED_PROFILE_FIELDS) {
      const value = out[field];
      if (typeof value === 'string' && value !== '' && !isCipherText(value)) out[field] = keys.encrypt(value);
      else if (typeof value === 'number') out[field] = keys.encrypt(`${NUMBER_TAG}${value}`);
    }
    return { profile: out, keyId: keyIdOf(keys.encrypt('key probe')) };
  }

  function openProfile(keys: TenantKeys, profile: Record<string, unknown>) {
    const out: Record<string, unknown> = { ...profile };
    for (const field of SEALED_PROFILE_FIELDS) {
      const value = out[field];
      if (!isCipherText(value)) continue;
      try {
        const plain = keys.decrypt(value);
        out[field] = plain.startsWith(NUMBER_TAG) && /^n:-?\d+$/.test(plain) ? Number(plain.slice(NUMBER_TAG.length)) : plain;
      } catch (error) {
        // A value that no longer decrypts is not shown as ciphertext either.
        if (error instanceof DomainError) out[field] = null;
        else throw error;
      }
    }
    return out;
  }

  function sealIdentity(keys: TenantKeys, identity: Identity): Identity & IdentityIndexes {
    // Refused, not stored as is: a copied ciphertext would otherwise be decrypted for whoever reads the user.
    for (const field of IDENTITY_FIELDS) {
      if (isCipherText(identity[field]))
        throw invalid('INVALID_USER_FIELD', `user.${REQUEST_FIELD[field]} has the form of a ciphertext`, [`user.${REQUEST_FIELD[field]}`]);
    }
    const { user_name, name, mobile_number, email_id } = identity;
    return pii.sealWith(keys, { user_name, name, mobile_number, email_id }) as Identity & IdentityIndexes;
  }

  /** A ciphertext under an old key, under the current one (a damaged one stays as it is). */
  const again = (keys: TenantKeys, value: string | null) => {
    if (!isCipherText(value) || keys.isCurrent(value)) return value;
    try {
      return keys.encrypt(keys.decrypt(value));
    } catch (error) {
      if (error instanceof DomainError) return value;
      throw error;
    }
  };

  return {
    keys: (tenantId) => encryption.forTenant(stateTenantOf(tenantId)),
    sealProfile,
    openProfile,
    sealIdentity,
    openIdentity: (keys, row) => pii.openWith(keys, row),
    index: (keys, field, value) => pii.blindIndexWith(keys, INDEX_COLUMN[field], value),

    async sealExisting(db, json) {
      let done = 0;
      for (;;) {
        const rows = await db()
          .selectFrom('users')
          .select(['id', 'tenant_id', 'profile', 'key_id', 'user_name', 'name', 'mobile_number', 'email_id', 'user_name_bidx'])
          .where((eb) => eb.or([eb('key_id', 'is', null), eb('user_name_bidx', 'is', null)]))
          .orderBy('id')
          .limit(BATCH)
          .execute();
        if (rows.length === 0) return done;
        for (const row of rows) {
          const keys = await encryption.forTenant(stateTenantOf(row.tenant_id));
          const set: Record<string, unknown> = {};
          let update = db().updateTable('users').where('id', '=', row.id);
          if (row.key_id === null) {
            const sealed = sealProfile(keys, json.from(row.profile) ?? {});
            Object.assign(set, { profile: json.to(sealed.profile), key_id: sealed.keyId });
            update = update.where('key_id', 'is', null);
          }
          if (row.user_name_bidx === null) {
            // Under the current key; a row whose profile is under an older one is moved by the rotation's job.
            const { user_name, name, mobile_number, email_id } = row;
            Object.assign(set, pii.sealWith(keys, { user_name, name, mobile_number, email_id }));
            update = update.where('user_name_bidx', 'is', null);
          }
          // Guarded by what was read: a write by the module meanwhile (which seals) wins.
          const result = await update.set(set as never).executeTakeFirst();
          done += Number(result.numUpdatedRows);
        }
      }
    },

    async reencryptBatch(keys, db, json) {
      const current = keyIdOf(keys.encrypt('key probe'));
      const state = keys.tenantId;
      const rows = await db
        .selectFrom('users')
        .select(['id', 'profile', 'user_name', 'name', 'mobile_number', 'email_id'])
        .where('key_id', 'is not', null)
        .where('key_id', '!=', current)
        .where((eb) =>
          eb.or([eb('tenant_id', '=', state), eb(eb.fn('substr', ['tenant_id', eb.val(1), eb.val(state.length + 1)]), '=', `${state}.`)]),
        )
        .orderBy('id')
        .limit(BATCH)
        .execute();
      for (const row of rows) {
        const sealed = sealProfile(keys, openProfile(keys, json.from(row.profile) ?? {}));
        // Blind indexes stay: the index key is never rotated.
        await db
          .updateTable('users')
          .set({
            profile: json.to(sealed.profile),
            key_id: sealed.keyId,
            user_name: again(keys, row.user_name) ?? row.user_name,
            name: again(keys, row.name),
            mobile_number: again(keys, row.mobile_number),
            email_id: again(keys, row.email_id),
          } as never)
          .where('id', '=', row.id)
          .execute();
      }
      return rows.length;
    },
  };
}
