import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { newId } from '../../kernel/ids.js';
import type { UserType } from '../../kernel/auth.js';
import type { UserStore } from './user.store.js';

/** `iam`: issued-at in milliseconds (checked against the user's not-before); `fam`: the refresh family the token belongs to. */
export type AccessClaims = { sub: string; jti: string; tid: string; typ: UserType; exp: number; iam: number; fam: string | null };

export type IssuedTokens = {
  accessToken: string;
  refreshToken: string;
  /** Seconds, as OAuth2's expires_in. */
  expiresIn: number;
  claims: AccessClaims;
};

const ISSUER = 'plinth';
const REVOCATIONS = 'user.tokens';
/** The user module's change topic: the authenticator's user cache (with the not-before) listens to it. */
const USERS_TOPIC = 'user';

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Access tokens are EdDSA-signed JWTs (public keys at /.well-known/jwks.json); refresh tokens are
 * random, stored hashed, single-use and rotated within a family: presenting a used one revokes
 * the family (it was stolen or replayed). Logout revokes an access token's jti.
 */
export function createTokenService(deps: {
  database: Database;
  store: UserStore;
  clock: Clock;
  changes: ChangeFeed;
  accessTtlMs: number;
  refreshTtlMs: number;
}) {
  const { database, store, clock, changes } = deps;
  let signing: { kid: string; key: CryptoKey } | undefined;
  let publicJwks: JWK[] = [];
  let keySet: ReturnType<typeof createLocalJWKSet> | undefined;
  let revoked = new Set<string>();
  // Verifying an Ed25519 signature costs ~50 µs; a token seen before is only checked for expiry and revocation.
  const verified = new LRUCache<string, AccessClaims>({ max: 20_000 });

  async function loadRevocations(): Promise<void> {
    const rows = await store.db().selectFrom('user_revoked_tokens').select('jti').where('expires_time', '>', clock.now()).execute();
    revoked = new Set(rows.map((r) => r.jti));
  }

  async function loadKeys(): Promise<void> {
    const rows = await store.db().selectFrom('user_signing_keys').selectAll().orderBy('created_time', 'desc').execute();
    const active = rows.find((r) => database.fromBool(r.active));
    if (active) {
      signing = { kid: active.kid, key: (await importJWK(JSON.parse(active.private_jwk) as JWK, 'EdDSA')) as CryptoKey };
    }
    publicJwks = rows.map((r) => ({ ...(JSON.parse(r.public_jwk) as JWK), kid: r.kid, alg: 'EdDSA', use: 'sig' }));
    keySet = createLocalJWKSet({ keys: publicJwks });
  }

  return {
    /** Loads (or on first start creates) the signing key and the revocation list. */
    async init(): Promise<void> {
      await loadKeys();
      if (!signing) {
        const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
        const kid = newId();
        await store
          .db()
          .insertInto('user_signing_keys')
          .values({
            kid,
            private_jwk: JSON.stringify(await exportJWK(privateKey)),
            public_jwk: JSON.stringify(await exportJWK(publicKey)),
            created_time: clock.now(),
            active: database.toBool(true),
          })
          .execute();
        await loadKeys();
      }
      await loadRevocations();
      changes.subscribe(REVOCATIONS, () => void loadRevocations().catch(() => undefined));
      changes.subscribe('*', () => {
        verified.clear();
        void loadRevocations().catch(() => undefined);
      });
    },

    jwks(): { keys: JWK[] } {
      return { keys: publicJwks };
    },

    async issue(user: { id: number; uuid: string; tenantId: string; type: UserType }, familyId?: string): Promise<IssuedTokens> {
      if (!signing) throw new Error('token service not initialised');
      const now = clock.now();
      const exp = Math.floor((now + deps.accessTtlMs) / 1000);
      const family = familyId ?? newId();
      const claims: AccessClaims = { sub: user.uuid, jti: newId(), tid: user.tenantId, typ: user.type, exp, iam: now, fam: family };
      const accessToken = await new SignJWT({ tid: claims.tid, typ: claims.typ, iam: claims.iam, fam: family })
        .setProtectedHeader({ alg: 'EdDSA', kid: signing.kid, typ: 'JWT' })
        .setIssuer(ISSUER)
        .setSubject(claims.sub)
        .setJti(claims.jti)
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(exp)
        .sign(signing.key);
      const refreshToken = randomBytes(32).toString('base64url');
      await store
        .db()
        .insertInto('user_refresh_tokens')
        .values({
          id: newId(),
          token_hash: sha256(refreshToken),
          family_id: family,
          user_id: user.id,
          created_time: now,
          expires_time: now + deps.refreshTtlMs,
          used_time: null,
          revoked_time: null,
        })
        .execute();
      return { accessToken, refreshToken, expiresIn: Math.floor(deps.accessTtlMs / 1000), claims };
    },

    /** The claims of a currently valid access token, or undefined (forged, expired, revoked, malformed). */
    async verify(token: string): Promise<AccessClaims | undefined> {
      const nowSeconds = clock.now() / 1000;
      let claims = verified.get(token);
      if (!claims) {
        if (token.length > 4096 || !keySet) return undefined;
        let payload: JWTPayload;
        try {
          ({ payload } = await jwtVerify(token, keySet, { algorithms: ['EdDSA'], issuer: ISSUER, currentDate: new Date(clock.now()) }));
        } catch {
          return undefined;
        }
        if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') return undefined;
        const iam = typeof payload['iam'] === 'number' ? payload['iam'] : (payload.iat ?? 0) * 1000;
        const fam = typeof payload['fam'] === 'string' ? payload['fam'] : null;
        claims = { sub: payload.sub, jti: payload.jti, exp: payload.exp, tid: String(payload['tid']), typ: payload['typ'] as UserType, iam, fam };
        verified.set(token, claims);
      }
      if (claims.exp <= nowSeconds || revoked.has(claims.jti)) return undefined;
      return claims;
    },

    async revoke(claims: AccessClaims): Promise<void> {
      await database.transaction(async (tx) => {
        await store
          .inTx(tx)
          .insertInto('user_revoked_tokens')
          .values({ jti: claims.jti, expires_time: claims.exp * 1000 })
          .onConflict((oc) => oc.column('jti').doNothing())
          .execute();
        await changes.publish(tx, REVOCATIONS);
      });
      revoked.add(claims.jti);
    },

    /**
     * Uses a refresh token once: answers the user id and the family to issue the next pair in,
     * or undefined. A token already used is a replay: the whole family is revoked.
     */
    async useRefreshToken(refreshToken: string): Promise<{ userId: number; familyId: string } | 'replayed' | undefined> {
      if (refreshToken.length > 512) return undefined;
      const now = clock.now();
      return database.transaction(async (tx) => {
        const db = store.inTx(tx);
        const row = await db.selectFrom('user_refresh_tokens').selectAll().where('token_hash', '=', sha256(refreshToken)).executeTakeFirst();
        if (!row || row.revoked_time !== null || row.expires_time <= now) return undefined;
        if (row.used_time !== null) {
          // A replay: the token was stolen or copied. The family ends, and so does every access
          // token of the user issued until now (the thief may hold one).
          await db.updateTable('user_refresh_tokens').set({ revoked_time: now }).where('family_id', '=', row.family_id).execute();
          await db.updateTable('users').set({ tokens_not_before: now }).where('id', '=', row.user_id).execute();
          await changes.publish(tx, USERS_TOPIC);
          return 'replayed' as const;
        }
        const claimed = await db
          .updateTable('user_refresh_tokens')
          .set({ used_time: now })
          .where('id', '=', row.id)
          .where('used_time', 'is', null)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) return undefined;
        return { userId: Number(row.user_id), familyId: row.family_id };
      });
    },

    /** Ends one session: every refresh token of the family (logout). */
    async revokeFamily(familyId: string): Promise<void> {
      await store.db().updateTable('user_refresh_tokens').set({ revoked_time: clock.now() }).where('family_id', '=', familyId).where('revoked_time', 'is', null).execute();
    },

    /** Ends every session of a user (password change, lockout by an administrator). */
    async revokeRefreshTokensOf(userId: number): Promise<void> {
      await store.db().updateTable('user_refresh_tokens').set({ revoked_time: clock.now() }).where('user_id', '=', userId).where('revoked_time', 'is', null).execute();
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
