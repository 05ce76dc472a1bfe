import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { calculateJwkThumbprint } from 'jose';
import type { AuditLog } from '../../common/audit/index.js';
import type { EncryptionService } from '../../common/encryption/index.js';
import { createReadCache } from '../../kernel/cache.js';
import type { ChangeFeed } from '../../kernel/changes.js';
import type { Clock } from '../../kernel/clock.js';
import type { Database } from '../../kernel/db.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { Jwks, PublicJwk, SigningKey } from './trust.jws.js';
import type { SigningKeyRow, TrustStore } from './trust.store.js';

/** Change-feed topic: this agency's key set changed, so every process reloads it. */
export const SIGNING_KEYS_TOPIC = 'exchange-trust.keys';
const MAX_ROTATION_ATTEMPTS = 5;

export type Actor = { uuid: string | null };

type LoadedRing = { readonly current: SigningKey; readonly jwks: Jwks };

export type KeyRing = {
  /** The key to sign with now; the first one is created on first use. */
  current(): Promise<SigningKey>;
  /** The current key first, then the retired ones still published for verification. */
  jwks(): Promise<Jwks>;
  rotate(actor?: Actor): Promise<{ kid: string; previousKid: string | undefined }>;
  /** Stops publishing a retired key; the current key cannot be removed. */
  removeRetired(kid: string): Promise<void>;
};

export type KeyRingDeps = {
  readonly agencyId: string;
  readonly database: Database;
  readonly store: TrustStore;
  readonly clock: Clock;
  readonly changes: ChangeFeed;
  readonly encryption: EncryptionService;
  readonly audit: Pick<AuditLog, 'appendInTx'>;
  readonly logger: FastifyBaseLogger;
};

class RotationRace extends Error {}

/** The sealing purpose names the key: a sealed key copied onto another row does not open. */
const purposeOf = (kid: string) => `exchange-trust.signing-key:${kid}`;

/**
 * This agency's Ed25519 signing keys. Private keys are stored sealed under the master key; a
 * partial unique index allows one current key, so two processes creating the first key or
 * rotating at once end with exactly one (the loser reads what won, or retries the rotation).
 */
export function createKeyRing(deps: KeyRingDeps): KeyRing {
  const { database, store, clock, changes, encryption, logger } = deps;
  const cache = createReadCache<LoadedRing>(changes, SIGNING_KEYS_TOPIC, { maxSize: 1 });

  async function newRow(status: SigningKeyRow['status'], actor: string | null): Promise<SigningKeyRow> {
    const pair = generateKeyPairSync('ed25519');
    const exported = pair.publicKey.export({ format: 'jwk' });
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: String(exported.x) } as const;
    const kid = await calculateJwkThumbprint(jwk, 'sha256');
    const publicJwk: PublicJwk = { ...jwk, kid, alg: 'EdDSA', use: 'sig' };
    const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    return {
      kid,
      status,
      public_jwk: publicJwk,
      sealed_private_key: await encryption.sealSecret(purposeOf(kid), pkcs8),
      created_by: actor,
      created_time: clock.now(),
      retired_time: null,
    };
  }

  async function privateKeyOf(row: SigningKeyRow): Promise<KeyObject> {
    const pkcs8 = await encryption.openSecret(purposeOf(row.kid), row.sealed_private_key);
    return createPrivateKey({ key: Buffer.from(pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
  }

  async function load(): Promise<LoadedRing> {
    let rows = await store.signingKeys();
    if (!rows.some((r) => r.status === 'current')) {
      // Insert-or-nothing: of two processes starting together, one key wins and both use it.
      if (await store.insertSigningKey(undefined, await newRow('current', null))) {
        logger.info({ agencyId: deps.agencyId }, 'exchange signing key created');
      }
      rows = await store.signingKeys();
    }
    const currentRow = rows.find((r) => r.status === 'current');
    if (!currentRow) throw new Error('exchange-trust: no current signing key after creating one');
    return {
      current: { kid: currentRow.kid, privateKey: await privateKeyOf(currentRow) },
      jwks: { keys: [currentRow, ...rows.filter((r) => r !== currentRow)].map((r) => r.public_jwk as PublicJwk) },
    };
  }

  const ring = () => cache.get('ring', load);

  return {
    current: async () => (await ring()).current,
    jwks: async () => (await ring()).jwks,

    async rotate(actor = { uuid: null }) {
      await ring();
      for (let attempt = 1; attempt <= MAX_ROTATION_ATTEMPTS; attempt++) {
        const row = await newRow('current', actor.uuid);
        const rotated = await database
          .transaction(async (tx) => {
            const previousKid = await store.retireCurrent(tx, clock.now());
            // Another process rotated at the same moment and its key is current: start over from it.
            if (!(await store.insertSigningKey(tx, row))) throw new RotationRace();
            await changes.publish(tx, SIGNING_KEYS_TOPIC);
            await deps.audit.appendInTx(tx, {
              tenantId: stateTenantOf(deps.agencyId),
              action: 'key.rotated',
              subject: row.kid,
              outcome: 'success',
              actorUuid: actor.uuid,
              details: { purpose: 'exchange-signing', agencyId: deps.agencyId, previousKid: previousKid ?? null },
            });
            return { kid: row.kid, previousKid };
          })
          .catch((error: unknown) => {
            if (error instanceof RotationRace) return undefined;
            throw error;
          });
        if (rotated) {
          logger.info({ agencyId: deps.agencyId, ...rotated, actor: actor.uuid }, 'exchange signing key rotated');
          return rotated;
        }
      }
      throw new DomainError('conflict', { code: 'KEY_ROTATION_CONFLICT', message: 'Other rotations of the signing key ran at the same time; retry' });
    },

    async removeRetired(kid) {
      const current = await ring();
      if (current.current.kid === kid) throw invalid('CURRENT_KEY', `Key "${kid}" is the current signing key; rotate before removing it`, [kid]);
      const removed = await database.transaction(async (tx) => {
        if (!(await store.deleteRetiredKey(tx, kid))) return false;
        await changes.publish(tx, SIGNING_KEYS_TOPIC);
        return true;
      });
      if (!removed) throw invalid('UNKNOWN_KEY', `No retired signing key "${kid}"`, [kid]);
    },
  };
}
