import { DomainError } from '../../kernel/errors.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { EncryptionService, TenantKeys } from '../encryption/index.js';
import { isCipherText } from '../encryption/index.js';
import type { Runner } from './user.store.js';

/**
 * Personal data in a user's `profile` is ciphertext at rest (#14 Build 4), under the state's data
 * key of the encryption module, as the individual registry stores its fields: identifiers
 * (Aadhaar, PAN), addresses, other phone numbers, relatives' names, birth date, marks. The
 * profile is never searched, so it needs no blind index. `key_id` on the row names the key, for
 * re-encryption after a rotation; null means "written before encryption" (see sealExisting).
 */
export const SEALED_PROFILE_FIELDS = [
  'pan', 'aadhaarNumber', 'altContactNumber', 'alternatemobilenumber', 'permanentAddress', 'permanentCity', 'permanentPinCode',
  'correspondenceAddress', 'correspondenceCity', 'correspondencePinCode', 'fatherOrHusbandName', 'identificationMark', 'dob',
] as const;

const BATCH = 200;
const keyIdOf = (ciphertext: string) => ciphertext.slice(0, Math.max(0, ciphertext.indexOf('|')));

/** A sealed value keeps its JSON type: numbers (a `dob` in epoch ms) come back as numbers. */
const NUMBER_TAG = 'n:';

export type ProfileCrypto = {
  /** The state's keys, fetched before a transaction (SQLite runs one at a time on its connection). */
  keys(tenantId: string): Promise<TenantKeys>;
  seal(keys: TenantKeys, profile: Record<string, unknown>): { profile: Record<string, unknown>; keyId: string };
  open(keys: TenantKeys, profile: Record<string, unknown>): Record<string, unknown>;
  /** Encrypts the profiles stored in the clear (rows from before this release); answers how many. */
  sealExisting(db: () => Runner, toJson: (v: unknown) => unknown, fromJson: (v: unknown) => Record<string, unknown> | null): Promise<number>;
  /** One batch of a state's rows under an old data key, rewritten under the current one. */
  reencryptBatch(keys: TenantKeys, db: Runner, toJson: (v: unknown) => unknown, fromJson: (v: unknown) => Record<string, unknown> | null): Promise<number>;
};

export function createProfileCrypto(encryption: EncryptionService): ProfileCrypto {
  function seal(keys: TenantKeys, profile: Record<string, unknown>) {
    const out: Record<string, unknown> = { ...profile };
    for (const field of SEALED_PROFILE_FIELDS) {
      const value = out[field];
      if (typeof value === 'string' && value !== '' && !isCipherText(value)) out[field] = keys.encrypt(value);
      else if (typeof value === 'number') out[field] = keys.encrypt(`${NUMBER_TAG}${value}`);
    }
    return { profile: out, keyId: keyIdOf(keys.encrypt('key probe')) };
  }

  function open(keys: TenantKeys, profile: Record<string, unknown>) {
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

  /** Values under an old key are decrypted and encrypted again; plain ones are sealed. */
  function again(keys: TenantKeys, profile: Record<string, unknown>) {
    return seal(keys, open(keys, profile));
  }

  return {
    keys: (tenantId) => encryption.forTenant(stateTenantOf(tenantId)),
    seal,
    open,
    async sealExisting(db, toJson, fromJson) {
      let done = 0;
      for (;;) {
        const rows = await db().selectFrom('users').select(['id', 'tenant_id', 'profile']).where('key_id', 'is', null).orderBy('id').limit(BATCH).execute();
        if (rows.length === 0) return done;
        for (const row of rows) {
          const keys = await encryption.forTenant(stateTenantOf(row.tenant_id));
          const sealed = seal(keys, fromJson(row.profile) ?? {});
          await db()
            .updateTable('users')
            .set({ profile: toJson(sealed.profile), key_id: sealed.keyId } as never)
            .where('id', '=', row.id)
            .where('key_id', 'is', null)
            .execute();
          done++;
        }
      }
    },
    async reencryptBatch(keys, db, toJson, fromJson) {
      const current = keyIdOf(keys.encrypt('key probe'));
      const state = keys.tenantId;
      const rows = await db
        .selectFrom('users')
        .select(['id', 'profile'])
        .where('key_id', 'is not', null)
        .where('key_id', '!=', current)
        .where((eb) => eb.or([eb('tenant_id', '=', state), eb(eb.fn('substr', ['tenant_id', eb.val(1), eb.val(state.length + 1)]), '=', `${state}.`)]))
        .orderBy('id')
        .limit(BATCH)
        .execute();
      for (const row of rows) {
        const sealed = again(keys, fromJson(row.profile) ?? {});
        await db.updateTable('users').set({ profile: toJson(sealed.profile), key_id: sealed.keyId } as never).where('id', '=', row.id).execute();
      }
      return rows.length;
    },
  };
}
