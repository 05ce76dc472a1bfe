import { randomUUID } from 'node:crypto';
import type { Authenticator, RoleGrant, UserInfo, UserType } from '../../kernel/auth.js';
import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database, Tx } from '../../kernel/db.js';
import type { SeededLogin } from '../../kernel/module.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { isUniqueViolation } from '../../kernel/offline.store.js';
import { assertKnownTenant, stateTenantOf, type TenantDirectory } from '../../kernel/tenancy.js';
import type { OtpService } from './user.otp.js';
import type { UserCrypto } from './user.crypto.js';
import type { TenantKeys } from '../encryption/index.js';
import { createUserRedactor } from './user.privacy.js';
import { inScope, outOfScope, ownsOrNotCitizen, type Scope } from '../../kernel/scope.js';
import { generatedPassword, hashPassword, meetsPolicy, PASSWORD_POLICY_TEXT } from './user.passwords.js';
import type { UserInput } from './user.schema.js';
import type { UserQuery, UserRow, UserStore } from './user.store.js';
import type { GrantPolicy, GrantTarget } from '../access/index.js';
import type { TokenService } from './user.tokens.js';
import { createSessions, proveNewContacts } from './user.sessions.js';
import { defaultLockout, type AuditSink, type LockoutSettings, type Origin, type UserMasters } from './user.types.js';

/** The part of the audit log the user module writes to. */
export type { AuditSink, LockoutSettings, Origin, UserMasters } from './user.types.js';
export { defaultLockout } from './user.types.js';

export { LoginRefused } from './user.sessions.js';

const PROFILE_FIELDS = [
  'salutation', 'gender', 'countryCode', 'alternatemobilenumber', 'altContactNumber', 'pan', 'aadhaarNumber',
  'permanentAddress', 'permanentCity', 'permanentPinCode', 'correspondenceAddress', 'correspondenceCity',
  'correspondencePinCode', 'locale', 'fatherOrHusbandName', 'relationship', 'signature', 'bloodGroup', 'photo',
  'identificationMark', 'dob',
] as const;

const NAME_PATTERN = /^[^\\$"<>?\\\\~`!@#$%^()+={}[\]*,:;“”‘’]*$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PIN_PATTERN = /^[1-9][0-9]{5}$/;

/** An employee of a seed file, already checked: `input.userName` is set, roles are on `tenantId`. */
export type SeededEmployee = { readonly tenantId: string; readonly input: UserInput };

export type UserServiceDeps = {
  database: Database;
  store: UserStore;
  tokens: TokenService;
  otp: OtpService;
  clock: Clock;
  changes: ChangeFeed;
  audit: AuditSink;
  masters: UserMasters;
  tenants: TenantDirectory;
  grants: Pick<GrantPolicy, 'refusal'>;
  /** Seals and opens profiles' personal fields (the store seals the identity columns). */
  crypto: UserCrypto;
  lockout?: Partial<LockoutSettings>;
};

const USERS_TOPIC = 'user';

export function createUserService(deps: UserServiceDeps) {
  const { database, store, tokens, otp, clock, changes, audit, masters, tenants, grants, crypto } = deps;
  // Keys per state, fetched before each transaction that writes a profile (loading keys runs its
  // own queries, which would wait forever behind an open SQLite transaction).
  const keyring = new Map<string, TenantKeys>();
  async function prefetchKeys(tenantId: string): Promise<TenantKeys> {
    const keys = await crypto.keys(tenantId);
    keyring.set(stateTenantOf(tenantId), keys);
    return keys;
  }
  function keysNow(tenantId: string): TenantKeys {
    const keys = keyring.get(stateTenantOf(tenantId));
    if (!keys) throw new Error(`keys of ${stateTenantOf(tenantId)} were not fetched before the transaction`);
    return keys;
  }
  const duplicateUserName = (type: UserType, userName: string | null | undefined, tenantId: string) =>
    invalid('DUPLICATE_USER_NAME', `A ${type.toLowerCase()} with user name "${userName ?? ''}" already exists in ${tenantId}`, [userName ?? '']);
  /** A create that lost a race to another with the same user name meets the unique blind index: the same refusal as the check. */
  async function inserting<T>(type: UserType, userName: string | null | undefined, tenantId: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw duplicateUserName(type, userName, tenantId);
      throw error;
    }
  }
  const lockout = { ...defaultLockout, ...deps.lockout };
  const redact = createUserRedactor(masters.dataSecurity);
  // uuid → UserInfo for the auth hook; dropped whenever any user changes (here or in another process).
  // Only active, unlocked users are kept; a role change dropped mid-load is never kept (no stale rights).
  const infoCache = createReadCache<{ info: UserInfo | undefined; notBefore: number; keep: boolean }>(changes, USERS_TOPIC, { maxSize: 10_000, keep: (entry) => entry.keep });

  async function roleGrants(rows: UserRow[]): Promise<Map<number, RoleGrant[]>> {
    const roles = await store.rolesOf(store.db(), rows.map((r) => r.id));
    const byUser = new Map<number, RoleGrant[]>();
    const names = new Map<string, ReadonlyMap<string, string>>();
    for (const role of roles) {
      const state = stateTenantOf(role.tenant_id);
      if (!names.has(state)) names.set(state, await masters.roleNames(state));
      const grant: RoleGrant = { code: role.role_code, name: names.get(state)?.get(role.role_code) ?? role.role_code, tenantId: role.tenant_id };
      const list = byUser.get(Number(role.user_id)) ?? [];
      list.push(grant);
      byUser.set(Number(role.user_id), list);
    }
    return byUser;
  }

  function toUserInfo(row: UserRow, roles: RoleGrant[]): UserInfo {
    return {
      id: row.id,
      uuid: row.uuid,
      userName: row.user_name,
      name: row.name,
      mobileNumber: row.mobile_number,
      emailId: row.email_id,
      type: row.type,
      tenantId: row.tenant_id,
      roles,
    };
  }

  /** DIGIT's user object, as egov-user answers it. */
  function toDigitUser(row: UserRow, roles: RoleGrant[]) {
    return {
      ...row.profile,
      id: row.id,
      uuid: row.uuid,
      userName: row.user_name,
      name: row.name,
      mobileNumber: row.mobile_number,
      emailId: row.email_id,
      type: row.type,
      tenantId: row.tenant_id,
      active: row.active,
      accountLocked: row.account_locked,
      accountLockedDate: row.account_locked_time,
      roles,
      createdBy: row.created_by,
      lastModifiedBy: row.last_modified_by,
      createdDate: row.created_time,
      lastModifiedDate: row.last_modified_time,
      pwdExpiryDate: null,
    };
  }

  async function withRoles(rows: UserRow[]) {
    const grants = await roleGrants(rows);
    const answers: Array<ReturnType<typeof toDigitUser>> = [];
    for (const row of rows) {
      const profile = crypto.openProfile(await crypto.keys(row.tenant_id), row.profile);
      answers.push(toDigitUser({ ...row, profile }, grants.get(row.id) ?? []));
    }
    return answers;
  }

  async function validateProfile(input: UserInput, tenantId: string): Promise<void> {
    const problems: Array<[string, string]> = [];
    if (input.name && !NAME_PATTERN.test(input.name)) problems.push(['user.name', 'contains characters that are not allowed']);
    if (input.emailId && !EMAIL_PATTERN.test(input.emailId)) problems.push(['user.emailId', 'is not an email address']);
    for (const field of ['permanentPinCode', 'correspondencePinCode'] as const) {
      const value = input[field];
      if (value && !PIN_PATTERN.test(value)) problems.push([`user.${field}`, 'must be a 6-digit PIN code']);
    }
    if (input.mobileNumber) {
      const pattern = await masters.mobilePattern(stateTenantOf(tenantId));
      if (pattern && !pattern.test(input.mobileNumber)) problems.push(['user.mobileNumber', `does not match ${pattern.source}`]);
    }
    if (input.password && !meetsPolicy(input.password)) problems.push(['user.password', PASSWORD_POLICY_TEXT]);
    if (problems.length > 0) {
      throw new DomainError(
        'invalid',
        problems.map(([field, message]) => ({ code: field === 'user.password' ? 'INVALID_PASSWORD' : 'INVALID_USER_FIELD', message: `${field} ${message}`, params: [field] })),
      );
    }
  }

  /** Roles must exist on their tenants (the state's ACCESSCONTROL-ROLES). */
  async function checkRolesExist(roles: RoleGrant[]): Promise<void> {
    for (const role of roles) {
      await assertKnownTenant(tenants, role.tenantId);
      const known = await masters.roleNames(stateTenantOf(role.tenantId));
      if (!known.has(role.code)) throw invalid('INVALID_ROLE', `Role "${role.code}" does not exist for tenant ${role.tenantId}`, [role.code]);
    }
  }

  /**
   * The role-grant policy (MDMS ACCESSCONTROL-ROLES.rolegrants): may `caller` create or change
   * `target`? A refusal is audited (as a failed role change) and answers 403. No caller: the
   * platform itself (seeders, the complaint module registering a citizen), which may.
   */
  async function authorizeGrant(caller: UserInfo | null, target: GrantTarget, subject: string, origin: Origin): Promise<void> {
    if (!caller) return;
    const refused = await grants.refusal(caller, target);
    if (refused === undefined) return;
    await audit.append({
      tenantId: target.tenantId,
      actorUuid: caller.uuid,
      action: 'role.changed',
      subject,
      outcome: 'failure',
      details: { refused, roles: target.roles.map((r) => `${r.code}@${r.tenantId}`) },
      ...origin,
    });
    throw new DomainError('forbidden', { code: 'ROLE_GRANT_NOT_ALLOWED', message: `Your roles may not create or change ${refused}` });
  }

  function profileOf(input: UserInput, base: Record<string, unknown> = {}): Record<string, unknown> {
    const profile = { ...base };
    for (const field of PROFILE_FIELDS) if (input[field] !== undefined) profile[field] = input[field];
    return profile;
  }

  function normaliseRoles(input: UserInput, tenantId: string): RoleGrant[] {
    const seen = new Set<string>();
    const roles: RoleGrant[] = [];
    for (const role of input.roles ?? []) {
      const grant = { code: role.code, tenantId: role.tenantId || tenantId };
      const key = `${grant.code}@${grant.tenantId}`;
      if (!seen.has(key)) roles.push(grant);
      seen.add(key);
    }
    return roles;
  }

  /** `passwordHash`: already hashed by the caller (hashing is slow: seeding does it before its transaction). */
  async function insertUser(
    tx: Tx,
    input: UserInput,
    type: UserType,
    tenantId: string,
    roles: RoleGrant[],
    actor: string | null,
    origin: Origin,
    passwordHash?: string,
  ) {
    const userName = input.userName || input.mobileNumber;
    if (!userName) throw invalid('INVALID_USER_FIELD', 'user.userName is required', ['user.userName']);
    const db = store.inTx(tx);
    const keys = keysNow(tenantId);
    if (await store.findByLogin(db, tenantId, type, userName, keys)) throw duplicateUserName(type, userName, tenantId);
    const now = clock.now();
    const uuid = randomUUID();
    const sealed = crypto.sealProfile(keys, profileOf(input));
    const id = await store.insertUser(db, keys, {
      uuid,
      tenant_id: tenantId,
      type,
      user_name: userName,
      name: input.name ?? null,
      mobile_number: input.mobileNumber ?? null,
      email_id: input.emailId ?? null,
      profile: sealed.profile,
      key_id: sealed.keyId,
      password_hash: passwordHash ?? (input.password ? await hashPassword(input.password) : null),
      password_changed_time: passwordHash || input.password ? now : null,
      active: input.active ?? true,
      account_locked: false,
      account_locked_time: null,
      tokens_not_before: null,
      login_attempts: 0,
      login_attempts_since: null,
      created_by: actor,
      last_modified_by: actor,
      created_time: now,
      last_modified_time: now,
    });
    await store.replaceRoles(db, id, roles);
    await audit.appendInTx(tx, {
      tenantId,
      actorUuid: actor,
      action: 'user.created',
      subject: uuid,
      outcome: 'success',
      details: { type, roles: roles.map((r) => `${r.code}@${r.tenantId}`) },
      ...origin,
    });
    await changes.publish(tx, USERS_TOPIC);
    return id;
  }

  /** The user of a token issued at `issuedAt` (ms): undefined when inactive, or when the token predates the user's not-before. */
  async function userInfoByUuid(uuid: string, issuedAt: number): Promise<UserInfo | undefined> {
    const entry = await infoCache.get(uuid, async () => {
      const row = await store.findByUuid(store.db(), uuid);
      if (!row) return { info: undefined, notBefore: 0, keep: false };
      const info = toUserInfo(row, (await roleGrants([row])).get(row.id) ?? []);
      return { info: row.active ? info : undefined, notBefore: row.tokens_not_before ?? 0, keep: row.active && !row.account_locked };
    });
    return issuedAt < entry.notBefore ? undefined : entry.info;
  }

  async function search(query: UserQuery, page: { pageSize?: number | undefined; pageNumber?: number | undefined }) {
    const size = page.pageSize ?? 10;
    const rows = await store.findUsers(store.db(), query, { offset: (page.pageNumber ?? 0) * size, limit: size });
    return withRoles(rows);
  }

  const authenticator: Authenticator = {
    async authenticate(token) {
      const claims = await tokens.verify(token);
      if (!claims) return undefined;
      const info = await userInfoByUuid(claims.sub, claims.iam);
      return info;
    },
  };

  const sessions = createSessions({ database, store, tokens, otp, clock, changes, audit, masters, tenants, lockout, usersTopic: USERS_TOPIC, authenticator, withRoles });

  return {
    ...sessions,
    authenticator,
    toUserInfo,
    checkEmployee,
    createSeededEmployees,

    async create(input: UserInput, caller: UserInfo | null, origin: Origin) {
      const type = input.type ?? 'EMPLOYEE';
      const tenantId = input.tenantId ?? caller?.tenantId;
      if (!tenantId) throw invalid('INVALID_USER_FIELD', 'user.tenantId is required', ['user.tenantId']);
      await assertKnownTenant(tenants, tenantId);
      await validateProfile(input, tenantId);
      const roles = normaliseRoles(input, tenantId);
      if (roles.length === 0) throw invalid('INVALID_USER_FIELD', 'user.roles must list at least one role', ['user.roles']);
      await checkRolesExist(roles);
      await authorizeGrant(caller, { tenantId, type, roles }, 'new user', origin);
      await prefetchKeys(tenantId);
      const id = await inserting(type, input.userName || input.mobileNumber, tenantId, () =>
        database.transaction((tx) => insertUser(tx, input, type, tenantId, roles, caller?.uuid ?? null, origin)),
      );
      return (await withRoles([(await store.findById(store.db(), id))!]))[0]!;
    },

    /** Citizen self-registration: the mobile number must have been proven with an OTP. */
    async registerCitizen(input: UserInput, origin: Origin) {
      const tenantId = stateTenantOf(input.tenantId ?? '');
      await assertKnownTenant(tenants, tenantId);
      if (!input.mobileNumber) throw invalid('INVALID_USER_FIELD', 'user.mobileNumber is required', ['user.mobileNumber']);
      await validateProfile(input, tenantId);
      if (!input.otpReference || !(await otp.consumeReference(input.otpReference, input.mobileNumber, ['register']))) {
        throw invalid('INVALID_OTP_REFERENCE', 'user.otpReference is not a validated, unused OTP for this mobile number');
      }
      const roles = [{ code: 'CITIZEN', tenantId }];
      await prefetchKeys(tenantId);
      const id = await inserting('CITIZEN', input.mobileNumber, tenantId, () =>
        database.transaction((tx) => insertUser(tx, { ...input, userName: input.mobileNumber, password: input.password ?? null }, 'CITIZEN', tenantId, roles, null, origin)),
      );
      return (await withRoles([(await store.findById(store.db(), id))!]))[0]!;
    },

    /** `_updatenovalidate`: userName, type and tenantId never change; the password is changed elsewhere. */
    async update(input: UserInput, caller: UserInfo | null, origin: Origin, onlySelf: boolean, scope: Scope) {
      const db = store.db();
      const existing = input.uuid ? await store.findByUuid(db, input.uuid) : typeof input.id === 'number' ? await store.findById(db, input.id) : undefined;
      if (!existing) throw invalid('USER_NOT_FOUND', 'No user with that id or uuid', [String(input.uuid ?? input.id ?? '')]);
      // The stored user's tenant must be in the caller's scope for this action, and a citizen reaches
      // only their own record; for one's own profile the record is the caller's, wherever it lives.
      if (!onlySelf && (!inScope(scope, existing.tenant_id) || !ownsOrNotCitizen(scope, existing.uuid))) throw outOfScope();
      if (onlySelf && caller?.uuid !== existing.uuid) {
        throw new DomainError('forbidden', { code: 'PROFILE_UPDATE_NOT_ALLOWED', message: 'You can update only your own profile' });
      }
      const before = (await roleGrants([existing])).get(existing.id) ?? [];
      // The STORED user decides, never the body: its tenant and type must be within the caller's
      // reach, and the caller must be allowed to grant every role it holds (so a city SUPERUSER
      // cannot touch a Jalandhar employee or the state administrator's mobile).
      if (!onlySelf) await authorizeGrant(caller, { tenantId: existing.tenant_id, type: existing.type, roles: before }, existing.uuid, origin);
      await validateProfile({ ...input, password: null }, existing.tenant_id);
      if (onlySelf) await proveNewContacts(otp, input, existing);
      const roles = input.roles && !onlySelf ? normaliseRoles(input, existing.tenant_id) : undefined;
      if (roles) {
        if (roles.length === 0) throw invalid('INVALID_USER_FIELD', 'user.roles must list at least one role', ['user.roles']);
        await checkRolesExist(roles);
        await authorizeGrant(caller, { tenantId: existing.tenant_id, type: existing.type, roles }, existing.uuid, origin);
      }
      const active = onlySelf ? existing.active : (input.active ?? existing.active);
      const keys = await prefetchKeys(existing.tenant_id);
      const profile = crypto.sealProfile(keys, profileOf(input, crypto.openProfile(keys, existing.profile)));
      await database.transaction(async (tx) => {
        const runner = store.inTx(tx);
        await store.updateIdentity(runner, keys, existing.id, {
          user_name: existing.user_name,
          name: input.name !== undefined ? input.name : existing.name,
          mobile_number: input.mobileNumber !== undefined ? input.mobileNumber : existing.mobile_number,
          email_id: input.emailId !== undefined ? input.emailId : existing.email_id,
        });
        const changes_ = {
          profile: profile.profile,
          key_id: profile.keyId,
          active,
          // A deactivation ends every session: tokens issued before it stay dead if the account returns.
          ...(existing.active && !active ? { tokens_not_before: clock.now() } : {}),
          last_modified_by: caller?.uuid ?? null,
          last_modified_time: clock.now(),
        };
        await store.updateUser(runner, existing.id, changes_);
        if (roles) await store.replaceRoles(runner, existing.id, roles);
        await audit.appendInTx(tx, {
          tenantId: existing.tenant_id,
          actorUuid: caller?.uuid ?? null,
          action: roles ? 'role.changed' : 'user.updated',
          subject: existing.uuid,
          outcome: 'success',
          details: { fields: Object.keys(input).filter((k) => k !== 'password'), ...(roles ? { before: before.map((r) => `${r.code}@${r.tenantId}`), roles: roles.map((r) => `${r.code}@${r.tenantId}`) } : {}) },
          ...origin,
        });
        await changes.publish(tx, USERS_TOPIC);
      });
      return (await withRoles([(await store.findById(store.db(), existing.id))!]))[0]!;
    },

    search,

    /**
     * User search for a caller: a citizen finds only their own record; anyone else only users on
     * the tenants of their scope (a tenantId outside it is 403). Answers are masked by the
     * DataSecurity policy for the caller's roles; the system scope sees everything in the clear.
     */
    async searchAs(scope: Scope, query: UserQuery, page: { pageSize?: number | undefined; pageNumber?: number | undefined }) {
      if (scope.system) return search(query, page);
      if (query.tenantId && !inScope(scope, query.tenantId)) throw outOfScope();
      let scoped: UserQuery;
      if (scope.citizen) {
        const self = scope.user?.uuid;
        const uuids = query.uuids?.length ? query.uuids.filter((u) => u === self) : self ? [self] : [];
        if (uuids.length === 0) return [];
        scoped = { ...query, uuids };
      } else {
        scoped = { ...query, tenantRoots: scope.tenants };
      }
      return redact(scope.user, await search(scoped, page));
    },

    /** Creates the first administrator of a state; no-op when it exists. Returns the password only when generated. */
    async bootstrapAdmin(stateTenantId: string, password: string | undefined) {
      const existing = await store.findByLogin(store.db(), stateTenantId, 'EMPLOYEE', 'admin');
      if (existing) return { created: false as const };
      const chosen = password ?? generatedPassword();
      if (!meetsPolicy(chosen)) throw invalid('INVALID_PASSWORD', `PLINTH_ADMIN_PASSWORD: ${PASSWORD_POLICY_TEXT}`);
      await prefetchKeys(stateTenantId);
      await database.transaction((tx) =>
        insertUser(
          tx,
          { userName: 'admin', name: 'Administrator', password: chosen, type: 'EMPLOYEE' },
          'EMPLOYEE',
          stateTenantId,
          [
            { code: 'SUPERUSER', tenantId: stateTenantId },
            { code: 'EMPLOYEE', tenantId: stateTenantId },
          ],
          null,
          { ip: null, correlationId: null },
        ),
      );
      return { created: true as const, password: password ? undefined : chosen };
    },
  };

  /** Checks an employee as `create` does (tenant, fields, roles that exist), with DIGIT's errors. */
  async function checkEmployee(input: UserInput, tenantId: string): Promise<void> {
    await assertKnownTenant(tenants, tenantId);
    await validateProfile(input, tenantId);
    await checkRolesExist(normaliseRoles(input, tenantId));
  }

  /**
   * Creates the employees that do not exist yet, each with a generated password (hashed before the
   * transaction), and answers those passwords to be shown once; existing users are never touched.
   */
  async function createSeededEmployees(employees: readonly SeededEmployee[], actor: string | null) {
    const missing: SeededEmployee[] = [];
    for (const tenantId of new Set(employees.map((e) => e.tenantId))) await prefetchKeys(tenantId);
    for (const e of employees) if (!(await store.findByLogin(store.db(), e.tenantId, 'EMPLOYEE', e.input.userName!, keysNow(e.tenantId)))) missing.push(e);
    const prepared = await Promise.all(
      missing.map(async (e) => {
        const password = generatedPassword();
        return { ...e, password, passwordHash: await hashPassword(password) };
      }),
    );
    const created = await database.transaction(async (tx) => {
      const done: SeededLogin[] = [];
      for (const e of prepared) {
        // Created meanwhile by another process: left alone, like any existing user.
        if (await store.findByLogin(store.inTx(tx), e.tenantId, 'EMPLOYEE', e.input.userName!, keysNow(e.tenantId))) continue;
        const roles = normaliseRoles(e.input, e.tenantId);
        await insertUser(tx, e.input, 'EMPLOYEE', e.tenantId, roles, actor, { ip: null, correlationId: null }, e.passwordHash);
        done.push({ tenantId: e.tenantId, userName: e.input.userName!, roles: roles.map((r) => r.code), password: e.password });
      }
      return done;
    });
    return { created, existing: employees.length - created.length };
  }

}

export type UserService = ReturnType<typeof createUserService>;
