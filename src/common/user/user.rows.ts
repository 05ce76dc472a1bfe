// The users tables' row types, shared by the store (which runs the SQL) and user.crypto.ts (which
// seals and opens the identity columns) without either importing the other's types in a cycle.
import type { Kysely } from 'kysely';
import type { UserType } from '../../kernel/auth.js';

/** The identity columns of a user, in clear. */
export type Identity = { user_name: string; name: string | null; mobile_number: string | null; email_id: string | null };
export type IdentityField = keyof Identity;
/** Their blind-index columns, set on every write; `user_name_bidx` is null only on a row written before sealing. */
export type IdentityIndexes = {
  user_name_bidx: string | null;
  name_bidx: string | null;
  mobile_number_bidx: string | null;
  email_id_bidx: string | null;
};

/** A user as the service sees it: identity decrypted, json decoded, booleans as booleans (the profile stays sealed, see user.crypto.ts). */
export type UserRow = {
  id: number;
  uuid: string;
  tenant_id: string;
  type: UserType;
  user_name: string;
  name: string | null;
  mobile_number: string | null;
  email_id: string | null;
  profile: Record<string, unknown>;
  password_hash: string | null;
  password_changed_time: number | null;
  active: boolean;
  account_locked: boolean;
  account_locked_time: number | null;
  /** Access tokens issued before this (epoch ms) are refused; null: none. */
  tokens_not_before: number | null;
  /** The data key the profile's personal fields are sealed under; null: written before encryption. */
  key_id: string | null;
  /** Login attempts since `login_attempts_since` without a success (see reserveLoginAttempt). */
  login_attempts: number;
  login_attempts_since: number | null;
  created_by: string | null;
  last_modified_by: string | null;
  created_time: number;
  last_modified_time: number;
};

export type RoleRow = { user_id: number; role_code: string; tenant_id: string };

type Stored<Row, Bools extends keyof Row> = Omit<Row, Bools | 'profile'> & { [K in Bools]: boolean | number } & { profile: unknown };

export type UserTables = {
  users: Omit<Stored<UserRow, 'active' | 'account_locked'>, 'id'> & { id: number } & IdentityIndexes;
  user_roles: RoleRow;
  user_login_failures: { user_id: number; time: number; ip: string | null };
  user_otps: {
    id: string;
    tenant_id: string;
    identity: string;
    purpose: string;
    code_hash: string;
    attempts: number;
    created_time: number;
    expires_time: number;
    validated_time: number | null;
    used_time: number | null;
  };
  user_refresh_tokens: {
    id: string;
    token_hash: string;
    family_id: string;
    user_id: number;
    created_time: number;
    expires_time: number;
    used_time: number | null;
    revoked_time: number | null;
  };
  user_revoked_tokens: { jti: string; expires_time: number };
  user_signing_keys: { kid: string; private_jwk: string; public_jwk: string; created_time: number; active: boolean | number };
};

export type Runner = Kysely<UserTables>;
