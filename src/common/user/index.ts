import type { FastifyBaseLogger } from 'fastify';
import type { Authenticator } from '../../kernel/auth.js';
import { defineModule } from '../../kernel/module.js';
import type { TenantDirectory } from '../../kernel/tenancy.js';
import type { GrantPolicy } from '../access/index.js';
import { init } from './migrations/0001_init.js';
import { sessions } from './migrations/0002_sessions.js';
import { loginAttempts } from './migrations/0003_login_attempts.js';
import { profileKey } from './migrations/0004_profile_key.js';
import { otpIdentity } from './migrations/0005_otp_identity.js';
import { sealedIdentity } from './migrations/0006_sealed_identity.js';
import { createUserCrypto } from './user.crypto.js';
import type { EncryptionApi } from '../encryption/index.js';
import { createOtpService, type OtpService, type OtpSettings, type OtpSink } from './user.otp.js';
import { userRoutes, type RateLimits } from './user.routes.js';
import { createUserService, type AuditSink, type LockoutSettings, type UserMasters, type UserService } from './user.service.js';
import { seedEmployees } from './user.seed.js';
import { createUserStore } from './user.store.js';
import { createTokenService } from './user.tokens.js';

export type { AuditSink, LockoutSettings, UserMasters, UserService } from './user.service.js';
export type { OtpSink, OtpSettings } from './user.otp.js';
export { ARGON2_PARAMS } from './user.passwords.js';

export type UserSettings = {
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  lockout: LockoutSettings;
  otp: OtpSettings;
  rateLimits: RateLimits;
};

export const defaultUserSettings: UserSettings = {
  accessTokenTtlMs: 8 * 60 * 60_000,
  refreshTokenTtlMs: 14 * 24 * 60 * 60_000,
  lockout: { maxFailures: 5, windowMs: 30 * 60_000, coolDownMs: 60 * 60_000 },
  otp: { ttlMs: 5 * 60_000, maxAttempts: 3, maxSends: 3, sendWindowMs: 15 * 60_000 },
  rateLimits: { login: { max: 30, timeWindow: 60_000 }, otp: { max: 10, timeWindow: 60_000 } }, // see PLINTH_*_RATE_LIMIT
};

/** Development delivery: the code goes to the log. Replace with an SMS gateway in production. */
export function logOtpSink(logger: FastifyBaseLogger): OtpSink {
  return {
    async send(message) {
      logger.warn({ mobileNumber: message.mobileNumber, purpose: message.purpose, code: message.code }, 'OTP (development sink: configure an SMS gateway)');
    },
  };
}

const SWEEP_INTERVAL_MS = 60 * 60_000;

export type UserApi = {
  readonly service: UserService;
  /** Deletes expired OTPs, revocations and refresh tokens; answers how many rows went. */
  sweep(): Promise<number>;
  readonly otp: OtpService;
  readonly authenticator: Authenticator;
  init(): Promise<void>;
};

export type UserDeps = {
  audit: AuditSink;
  masters: UserMasters;
  tenants: TenantDirectory;
  /** Who may grant what (the access module's role-grant policy). */
  grants: Pick<GrantPolicy, 'refusal'>;
  otpSink: OtpSink;
  settings: UserSettings;
  /** Profiles' personal fields are sealed with the state's data key. */
  encryption: EncryptionApi;
};

/** Users, login (password and OTP), tokens and lockout: DIGIT's egov-user, egov-otp and user-otp. */
export const userModule = defineModule<UserApi, UserDeps>({
  name: 'user',
  migrations: [init, sessions, loginAttempts, profileKey, otpIdentity, sealedIdentity],
  create({ database, clock, changes, config, logger }, { audit, masters, tenants, grants, otpSink, settings, encryption }) {
    const crypto = createUserCrypto(encryption.service);
    const store = createUserStore(database, crypto, tenants);
    const json = { to: (v: unknown) => database.toJson(v), from: (v: unknown) => database.fromJson<Record<string, unknown>>(v) ?? null };
    // After a rotation, identity and profile move to the new data key together (key_id names it).
    encryption.service.registerReencryption('user', (keys, tx) => crypto.reencryptBatch(keys, store.inTx(tx), json));
    const tokens = createTokenService({ database, store, clock, changes, accessTtlMs: settings.accessTokenTtlMs, refreshTtlMs: settings.refreshTokenTtlMs });
    const otp = createOtpService({ store, clock, sink: otpSink, encryption: encryption.service, settings: settings.otp });
    const service = createUserService({ database, store, tokens, otp, clock, changes, audit, masters, tenants, grants, crypto, lockout: settings.lockout });
    // Expired OTPs, revocations and refresh tokens are swept hourly by the worker role.
    const sweep = () => store.sweepExpired(store.db(), clock.now());
    let timer: NodeJS.Timeout | undefined;
    return {
      api: {
        service,
        otp,
        authenticator: service.authenticator,
        async init() {
          await tokens.init();
          // Users written in the clear before this release are sealed once, before any request is served
          // (idempotent: a null key_id marks a profile in clear, a null user_name_bidx an identity in clear).
          const sealed = await crypto.sealExisting(store.db, json);
          if (sealed > 0) logger.info({ sealed }, 'users encrypted at rest');
        },
        sweep,
      },
      routes: userRoutes(service, otp, tokens, settings.rateLimits),
      seed: (files, actor) => seedEmployees(service, tenants, files, actor),
      async start() {
        if (config.role === 'api') return;
        timer = setInterval(() => {
          sweep().catch((error: unknown) => logger.warn({ err: error }, 'sweeping expired credentials failed'));
        }, SWEEP_INTERVAL_MS);
        timer.unref();
      },
      async stop() {
        clearInterval(timer);
      },
    };
  },
});
