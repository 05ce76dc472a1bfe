import type { Authenticator, UserInfo, UserType } from '../../kernel/auth.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { assertKnownTenant, stateTenantOf, type TenantDirectory } from '../../kernel/tenancy.js';
import type { OtpService } from './user.otp.js';
import { hashPassword, meetsPolicy, PASSWORD_POLICY_TEXT, verifyPassword } from './user.passwords.js';
import type { UserInput } from './user.schema.js';
import type { AuditSink, LockoutSettings, Origin, UserMasters } from './user.types.js';
import type { UserRow, UserStore } from './user.store.js';
import type { IssuedTokens, TokenService } from './user.tokens.js';

/** Refused logins all look alike to the caller; the reason goes to the audit log only. */
export class LoginRefused extends Error {
  constructor(readonly reason: string) {
    super('Invalid login credentials');
  }
}

export type SessionDeps<DigitUser> = {
  database: Database;
  store: UserStore;
  tokens: TokenService;
  otp: OtpService;
  clock: Clock;
  changes: ChangeFeed;
  audit: AuditSink;
  masters: Pick<UserMasters, 'mobilePattern'>;
  tenants: TenantDirectory;
  lockout: LockoutSettings;
  /** The change-feed topic that drops cached users. */
  usersTopic: string;
  authenticator: Authenticator;
  /** DIGIT's user objects of these rows (profile opened, roles named). */
  withRoles(rows: UserRow[]): Promise<DigitUser[]>;
};

/**
 * Login (password, OTP, refresh token), logout, token details, password change and reset, OTP
 * sending: the session half of egov-user, apart from the user records (user.service.ts).
 */
export function createSessions<DigitUser>(deps: SessionDeps<DigitUser>) {
  const { database, store, tokens, otp, clock, changes, audit, masters, tenants, lockout, authenticator, withRoles } = deps;
  const USERS_TOPIC = deps.usersTopic;

  function tokenResponse(issued: IssuedTokens, user: DigitUser) {
    return {
      access_token: issued.accessToken,
      token_type: 'bearer',
      refresh_token: issued.refreshToken,
      expires_in: issued.expiresIn,
      scope: 'read',
      ResponseInfo: { api_id: '', ver: '', ts: '', res_msg_id: '', msg_id: '', status: 'Access Token generated successfully' },
      UserRequest: user,
    };
  }

  async function failLogin(user: UserRow, origin: Origin, reason: string): Promise<never> {
    const now = clock.now();
    await database.transaction(async (tx) => {
      const db = store.inTx(tx);
      await store.recordLoginFailure(db, user.id, now, origin.ip, now - lockout.windowMs);
      const failures = await store.countLoginFailuresSince(db, user.id, now - lockout.windowMs);
      await audit.appendInTx(tx, { tenantId: user.tenant_id, actorUuid: null, action: 'user.login.failed', subject: user.uuid, outcome: 'failure', details: { reason, failures }, ...origin });
      if (failures >= lockout.maxFailures && !user.account_locked) {
        await store.updateUser(db, user.id, { account_locked: true, account_locked_time: now });
        await audit.appendInTx(tx, { tenantId: user.tenant_id, actorUuid: null, action: 'user.locked', subject: user.uuid, outcome: 'success', details: { failures }, ...origin });
        await changes.publish(tx, USERS_TOPIC);
      }
    });
    throw new LoginRefused(reason);
  }

  async function setPassword(user: UserRow, newPassword: string, actor: string, origin: Origin) {
    if (!meetsPolicy(newPassword)) throw invalid('INVALID_PASSWORD', PASSWORD_POLICY_TEXT);
    const passwordHash = await hashPassword(newPassword);
    await database.transaction(async (tx) => {
      // Every access token issued before the change stops working (the old password may have leaked).
      const now = clock.now();
      await store.updateUser(store.inTx(tx), user.id, { password_hash: passwordHash, password_changed_time: now, tokens_not_before: now, last_modified_by: actor, last_modified_time: now });
      await audit.appendInTx(tx, { tenantId: user.tenant_id, actorUuid: actor, action: 'user.password.changed', subject: user.uuid, outcome: 'success', ...origin });
      await changes.publish(tx, USERS_TOPIC);
    });
    await tokens.revokeRefreshTokensOf(user.id);
  }

  return {
    async login(request: { username: string; password: string; tenantId: string; userType: string }, origin: Origin) {
      const type = request.userType.toUpperCase() as UserType;
      if (!['CITIZEN', 'EMPLOYEE', 'SYSTEM', 'BUSINESS'].includes(type) || !request.tenantId) throw new LoginRefused('bad request');
      const tenantId = type === 'CITIZEN' ? stateTenantOf(request.tenantId) : request.tenantId;
      const user = await store.findByLogin(store.db(), tenantId, type, request.username);
      // Every refusal costs one argon2 verification, so timing tells no unknown, inactive or locked account apart.
      if (!user) {
        await verifyPassword(null, request.password);
        throw new LoginRefused('unknown user');
      }
      if (!user.active) {
        await verifyPassword(null, request.password);
        throw new LoginRefused('inactive');
      }
      if (user.account_locked) {
        if ((user.account_locked_time ?? 0) + lockout.coolDownMs > clock.now()) {
          await verifyPassword(null, request.password);
          await audit.append({ tenantId: user.tenant_id, actorUuid: null, action: 'user.login.failed', subject: user.uuid, outcome: 'failure', details: { reason: 'locked' }, ...origin });
          throw new LoginRefused('locked');
        }
        // The cool-down is over: unlock lazily, as DIGIT does, with a clean slate.
        await database.transaction(async (tx) => {
          await store.updateUser(store.inTx(tx), user.id, { account_locked: false, account_locked_time: null });
          await store.clearLoginFailures(store.inTx(tx), user.id);
          await changes.publish(tx, USERS_TOPIC);
        });
        user.account_locked = false;
      }
      // Counted before the check, atomically: of parallel attempts only the first maxFailures are checked.
      const now = clock.now();
      const attempts = await store.reserveLoginAttempt(store.db(), user.id, now, now - lockout.windowMs);
      if (attempts > lockout.maxFailures) {
        await verifyPassword(null, request.password);
        return failLogin(user, origin, 'too many attempts');
      }
      const ok =
        (type === 'CITIZEN' && (await otp.consumeForLogin(user.tenant_id, user.mobile_number ?? user.user_name, request.password))) ||
        (user.password_hash !== null && (await verifyPassword(user.password_hash, request.password)));
      if (!ok) return failLogin(user, origin, 'wrong credentials');
      await database.transaction(async (tx) => {
        await store.clearLoginFailures(store.inTx(tx), user.id);
        await audit.appendInTx(tx, { tenantId: user.tenant_id, actorUuid: user.uuid, action: 'user.login', subject: user.uuid, outcome: 'success', ...origin });
      });
      const issued = await tokens.issue({ id: user.id, uuid: user.uuid, tenantId: user.tenant_id, type: user.type });
      return tokenResponse(issued, (await withRoles([user]))[0]!);
    },

    async refresh(refreshToken: string, origin: Origin) {
      const used = await tokens.useRefreshToken(refreshToken);
      if (used === 'replayed') throw new LoginRefused('refresh token replayed: its family and the access tokens issued before are revoked');
      if (!used) throw new LoginRefused('bad refresh token');
      const user = await store.findById(store.db(), used.userId);
      if (!user || !user.active || user.account_locked) throw new LoginRefused('user unavailable');
      await audit.append({ tenantId: user.tenant_id, actorUuid: user.uuid, action: 'user.token.refreshed', subject: user.uuid, outcome: 'success', ...origin });
      const issued = await tokens.issue({ id: user.id, uuid: user.uuid, tenantId: user.tenant_id, type: user.type }, used.familyId);
      return tokenResponse(issued, (await withRoles([user]))[0]!);
    },

    /** DIGIT's /user/_details: the token's user, for gateways. */
    async details(token: string) {
      const info = await authenticator.authenticate(token);
      if (!info) throw new DomainError('unauthenticated', { code: 'InvalidAccessTokenException', message: 'Invalid access token' });
      return { ...info, active: true, locale: null, actions: [] };
    },

    async logout(token: string, origin: Origin) {
      const claims = await tokens.verify(token);
      if (!claims) throw new DomainError('unauthenticated', { code: 'InvalidAccessTokenException', message: 'Invalid access token' });
      await tokens.revoke(claims);
      // The whole session ends: the refresh token that came with this access token, and its successors.
      if (claims.fam) await tokens.revokeFamily(claims.fam);
      await audit.append({ tenantId: claims.tid, actorUuid: claims.sub, action: 'user.logout', subject: claims.sub, outcome: 'success', ...origin });
    },

    async changePassword(caller: UserInfo, existingPassword: string, newPassword: string, origin: Origin) {
      const user = await store.findByUuid(store.db(), caller.uuid);
      if (!user || !(await verifyPassword(user.password_hash, existingPassword))) {
        throw invalid('INVALID_EXISTING_PASSWORD', 'The existing password is not correct');
      }
      await setPassword(user, newPassword, caller.uuid, origin);
    },

    async resetPassword(request: { otpReference: string; userName: string; tenantId: string; type?: string | null; newPassword: string }, origin: Origin) {
      const type = (request.type?.toUpperCase() ?? 'CITIZEN') as UserType;
      const tenantId = type === 'CITIZEN' ? stateTenantOf(request.tenantId) : request.tenantId;
      const user = await store.findByLogin(store.db(), tenantId, type, request.userName);
      const identity = user?.mobile_number ?? request.userName;
      if (!user || !(await otp.consumeReference(request.otpReference, identity, ['passwordreset']))) {
        throw invalid('INVALID_OTP_REFERENCE', 'otpReference is not a validated, unused password-reset OTP for this user');
      }
      await setPassword(user, request.newPassword, user.uuid, origin);
    },

    /** DIGIT's /user-otp/v1/_send. Answers the same whether or not the number is registered. */
    async sendOtp(request: { mobileNumber: string; tenantId: string; type: 'register' | 'login' | 'passwordreset'; userType?: string | null }) {
      const tenantId = stateTenantOf(request.tenantId);
      await assertKnownTenant(tenants, tenantId);
      const pattern = await masters.mobilePattern(tenantId);
      if (pattern && !pattern.test(request.mobileNumber)) {
        throw invalid('INVALID_MOBILE_NUMBER', `otp.mobileNumber does not match ${pattern.source}`, ['otp.mobileNumber']);
      }
      const type = ((request.userType ?? 'CITIZEN').toUpperCase() as UserType) || 'CITIZEN';
      // Within the state: its key indexes the number (the OTP is issued there too).
      const existing = (await store.findUsers(store.db(), { mobileNumber: request.mobileNumber, type, tenantRoots: [tenantId] }, { offset: 0, limit: 1 }))[0];
      const shouldSend = request.type === 'register' ? !existing : Boolean(existing?.active);
      if (shouldSend) await otp.issue(tenantId, request.mobileNumber, request.type);
      return { isSuccessful: true };
    },
  };
}

/**
 * Self-service change of the mobile number or e-mail: the new address must be proven with an OTP
 * sent to it and validated (`user.otpReference` for the mobile, `user.emailOtpReference` for the
 * e-mail), so a stolen session cannot move the account's password resets to another phone.
 */
export async function proveNewContacts(otp: OtpService, input: UserInput, existing: UserRow): Promise<void> {
  const changed = (value: string | null | undefined, stored: string | null) => value !== undefined && value !== stored;
  if (changed(input.mobileNumber, existing.mobile_number)) {
    const proven = input.mobileNumber && input.otpReference && (await otp.consumeReference(input.otpReference, input.mobileNumber, ['register']));
    if (!proven) {
      throw invalid('INVALID_OTP_REFERENCE', 'Changing your mobile number needs user.otpReference: an OTP sent to the new number (/user-otp/v1/_send, type register) and validated', ['user.otpReference']);
    }
  }
  const emailReference = (input as Record<string, unknown>)['emailOtpReference'];
  if (changed(input.emailId, existing.email_id)) {
    const proven = input.emailId && typeof emailReference === 'string' && (await otp.consumeReference(emailReference, input.emailId, ['register']));
    if (!proven) throw invalid('INVALID_OTP_REFERENCE', 'Changing your e-mail needs user.emailOtpReference: an OTP sent to the new address and validated', ['user.emailOtpReference']);
  }
}
