import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../kernel/clock.js';
import { newId } from '../../kernel/ids.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { EncryptionService } from '../encryption/index.js';
import type { UserStore } from './user.store.js';

export type OtpPurpose = 'register' | 'login' | 'passwordreset';

/** Where one-time passwords go: an SMS gateway in production, the log in development. */
export type OtpSink = {
  send(message: { tenantId: string; mobileNumber: string; purpose: OtpPurpose; code: string; expiresInMinutes: number }): Promise<void>;
};

export type OtpSettings = {
  ttlMs: number;
  /** Wrong codes before an OTP is void. */
  maxAttempts: number;
  /** OTPs one identity may be sent within `sendWindowMs`. */
  maxSends: number;
  sendWindowMs: number;
};

export const defaultOtpSettings: OtpSettings = { ttlMs: 5 * 60_000, maxAttempts: 3, maxSends: 3, sendWindowMs: 15 * 60_000 };

// Salted with the OTP's own id, so equal codes hash differently.
const hashOf = (id: string, code: string) => createHash('sha256').update(`${id}:${code}`).digest();

/**
 * One-time passwords: stored hashed, expiring, single use, a few attempts each. The identity (a
 * mobile number) is stored only as a keyed blind index under the state's key (#14 Build 4): a plain
 * hash of a ten-digit number is reversed by trying them all.
 */
export function createOtpService(deps: { store: UserStore; clock: Clock; sink: OtpSink; encryption: EncryptionService; settings?: Partial<OtpSettings> }) {
  const { store, clock, sink, encryption } = deps;
  const settings = { ...defaultOtpSettings, ...deps.settings };
  const db = () => store.db();
  const identityKey = async (tenantId: string, identity: string) => (await encryption.forTenant(stateTenantOf(tenantId))).blindIndex('user_otps.identity', identity);

  async function latestOpen(tenantId: string, identity: string, purpose: OtpPurpose) {
    return db()
      .selectFrom('user_otps')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('identity', '=', await identityKey(tenantId, identity))
      .where('purpose', '=', purpose)
      .where('used_time', 'is', null)
      .where('expires_time', '>', clock.now())
      .orderBy('created_time', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Checks `code` against the newest open OTP; a wrong code spends an attempt. */
  async function check(tenantId: string, identity: string, purpose: OtpPurpose, code: string) {
    const otp = await latestOpen(tenantId, identity, purpose);
    if (!otp || otp.attempts >= settings.maxAttempts || !/^\d{4,8}$/.test(code)) return undefined;
    const ok = timingSafeEqual(hashOf(otp.id, code), Buffer.from(otp.code_hash, 'hex'));
    if (!ok) {
      await db().updateTable('user_otps').set({ attempts: otp.attempts + 1 }).where('id', '=', otp.id).execute();
      return undefined;
    }
    return otp;
  }

  return {
    settings,

    /** Creates and sends an OTP; false when the identity has had too many lately (nothing sent). */
    async issue(tenantId: string, identity: string, purpose: OtpPurpose): Promise<{ id: string; code: string } | undefined> {
      const since = clock.now() - settings.sendWindowMs;
      const key = await identityKey(tenantId, identity);
      const recent = await db()
        .selectFrom('user_otps')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('identity', '=', key)
        .where('created_time', '>=', since)
        .executeTakeFirst();
      if (Number(recent?.n ?? 0) >= settings.maxSends) return undefined;
      const id = newId();
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const now = clock.now();
      await db()
        .insertInto('user_otps')
        .values({
          id,
          tenant_id: tenantId,
          identity: key,
          purpose,
          code_hash: hashOf(id, code).toString('hex'),
          attempts: 0,
          created_time: now,
          expires_time: now + settings.ttlMs,
          validated_time: null,
          used_time: null,
        })
        .execute();
      await sink.send({ tenantId, mobileNumber: identity, purpose, code, expiresInMinutes: Math.round(settings.ttlMs / 60_000) });
      return { id, code };
    },

    /** Citizen login: the code is the password; it is used up on success. */
    async consumeForLogin(tenantId: string, identity: string, code: string): Promise<boolean> {
      const otp = await check(tenantId, identity, 'login', code);
      if (!otp) return false;
      const used = await db().updateTable('user_otps').set({ used_time: clock.now() }).where('id', '=', otp.id).where('used_time', 'is', null).executeTakeFirst();
      return Number(used.numUpdatedRows) === 1;
    },

    /** DIGIT's /otp/v1/_validate: marks the OTP validated; its id is then the `otpReference`. */
    async validate(tenantId: string, identity: string, code: string): Promise<string | undefined> {
      for (const purpose of ['register', 'passwordreset', 'login'] as const) {
        const otp = await check(tenantId, identity, purpose, code);
        if (otp) {
          await db().updateTable('user_otps').set({ validated_time: clock.now() }).where('id', '=', otp.id).execute();
          return otp.id;
        }
      }
      return undefined;
    },

    /** Spends a validated `otpReference` for `identity`; true once, then never again. */
    async consumeReference(reference: string, identity: string, purposes: readonly OtpPurpose[]): Promise<boolean> {
      const row = await db().selectFrom('user_otps').select('tenant_id').where('id', '=', reference).executeTakeFirst();
      if (!row) return false;
      const used = await db()
        .updateTable('user_otps')
        .set({ used_time: clock.now() })
        .where('id', '=', reference)
        .where('identity', '=', await identityKey(row.tenant_id, identity))
        .where('purpose', 'in', purposes)
        .where('validated_time', 'is not', null)
        .where('used_time', 'is', null)
        .where('expires_time', '>', clock.now())
        .executeTakeFirst();
      return Number(used.numUpdatedRows) === 1;
    },
  };
}

export type OtpService = ReturnType<typeof createOtpService>;
