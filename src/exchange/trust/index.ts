import { defineModule } from '../../kernel/module.js';
import { auditModule, type AuditApi } from '../../common/audit/index.js';
import { encryptionModule, type EncryptionApi } from '../../common/encryption/index.js';
import { signJws, verifyJws, type ExchangeJwsType, type Jwks } from './trust.jws.js';
import { createKeyRing, type Actor } from './trust.keys.js';
import { createReceiver, type InboxMessage, type InboxSearch, type Refusal } from './trust.receive.js';
import { createAgencyRegistry, type Agency, type AgencyCriteria, type AgencyInput, type AgencyUpdate, type JwksFetcher } from './trust.registry.js';
import { trustRoutes } from './trust.routes.js';
import { createTrustStore } from './trust.store.js';
import { init } from './migrations/0001_init.js';
import { jwksSetTime } from './migrations/0002_jwks_set_time.js';
import { inboxPayload } from './migrations/0003_inbox_payload.js';
import { personalFields } from '../../common/encryption/index.js';

export type { ExchangeJwsType, Jwks, PublicJwk } from './trust.jws.js';
export type { Agency, AgencyCriteria, AgencyInput, AgencyUpdate } from './trust.registry.js';
export type { InboxMessage, InboxSearch, ReceiptClaims, ReceivedCloudEvent, ReceivedData, Refusal } from './trust.receive.js';
export { RECEIVED_EVENT } from './trust.receive.js';

/** A message whose signature checked out against a trusted agency's published key. */
export type VerifiedMessage = { readonly agencyId: string; readonly kid: string; readonly payload: Record<string, unknown> };

export type TrustApi = {
  /** This deployment's agency id (config PLINTH_AGENCY_ID). */
  readonly agencyId: string;
  /**
   * Compact JWS (EdDSA, Ed25519) over `payload` with this agency's current key; `iss` is set to agencyId.
   * `iat` defaults to now; an event message without `exp` gets iat + 300 s.
   */
  sign(payload: Record<string, unknown>, typ: ExchangeJwsType): Promise<string>;
  /**
   * Verifies a compact JWS from a trusted, active agency (by `iss` and `kid`), its `typ`, and that
   * `aud` is this agency. Throws DomainError (UNKNOWN_SENDER, INVALID_SIGNATURE, MALFORMED_MESSAGE,
   * WRONG_AUDIENCE, MESSAGE_EXPIRED).
   */
  verify(jws: string, typ: ExchangeJwsType): Promise<VerifiedMessage>;
  /** This agency's published keys: the current one first, then retired ones still verifying. */
  jwks(): Promise<Jwks>;
  /** Makes a new signing key current (audited); the previous one stays published. */
  rotateKey(actor?: Actor): Promise<{ kid: string; previousKid: string | undefined }>;
  /** Stops publishing a retired key (what it signed no longer verifies once receivers refresh). */
  removeRetiredKey(kid: string): Promise<void>;
  /** The registry of trusted agencies (the routes' service): DomainError on bad input. */
  readonly agencies: {
    create(input: AgencyInput, actor?: Actor): Promise<Agency>;
    update(input: AgencyUpdate, actor?: Actor): Promise<Agency>;
    search(criteria?: AgencyCriteria): Promise<Agency[]>;
  };
  /** Received messages or refusals, for operators and tests. */
  searchInbox(criteria: InboxSearch): Promise<{ messages: InboxMessage[]; refusals: Refusal[] }>;
  /** Purges the payloads of messages received before `before` (the subscriptions worker runs it with the retention); answers how many. */
  purgePayloads(before: number): Promise<number>;
};

export type TrustDeps = {
  audit: AuditApi;
  encryption: EncryptionApi;
  /** How a trusted agency's jwksUrl is fetched (tests replace it); a bounded `fetch` by default. */
  fetchJwks?: JwksFetcher;
};

/**
 * Trust between agencies (docs/exchange.md): this agency's Ed25519 keys (sealed under the master
 * key, published as JWKS, rotatable), the registry of trusted agencies, JWS signing and
 * verification, and the receiving end that records each message and hands it over through the
 * outbox as `plinth.exchange.received.v1`.
 */
export const exchangeTrustModule = defineModule<TrustApi, TrustDeps>({
  name: 'exchange-trust',
  requires: { audit: auditModule, encryption: encryptionModule },
  migrations: [init, jwksSetTime, inboxPayload],
  create({ config, database, clock, outbox, changes, logger }, { audit, encryption, fetchJwks }) {
    const store = createTrustStore(database);
    const keys = createKeyRing({
      agencyId: config.agencyId,
      database,
      store,
      clock,
      changes,
      encryption: encryption.service,
      audit: audit.log,
      logger,
    });
    const registry = createAgencyRegistry({ store, clock, logger, fetchJwks });
    const sign = async (payload: Record<string, unknown>, typ: ExchangeJwsType) =>
      signJws(payload, typ, await keys.current(), config.agencyId, clock.now());
    const verify = (jws: string, typ: ExchangeJwsType) => verifyJws(jws, typ, config.agencyId, registry.resolveKey, clock.now());
    const payloads = personalFields<{ payload: string | null }>(encryption.service, { name: 'exchange.inbox', text: ['payload'] });
    // Received payloads follow key rotations until they are purged.
    encryption.service.registerSealedTable({ name: 'exchange.inbox', table: 'exchange_inbox', id: 'id', text: ['payload'] });
    const receiver = createReceiver({ database, store, outbox, clock, logger, verify, sign, payloads, secrets: encryption.service });
    return {
      api: {
        agencyId: config.agencyId,
        sign,
        verify,
        jwks: () => keys.jwks(),
        rotateKey: (actor) => keys.rotate(actor),
        removeRetiredKey: (kid) => keys.removeRetired(kid),
        agencies: { create: registry.create, update: registry.update, search: registry.search },
        searchInbox: (criteria) => receiver.search(criteria),
        purgePayloads: (before) => receiver.purgePayloads(before),
      },
      routes: trustRoutes(keys, registry, receiver),
      // The first key is made at start (or on first use), so the JWKS is there before anyone asks.
      start: async () => {
        await keys.current();
        await receiver.pruneRefusals();
        const sealed = await receiver.sealStored();
        if (sealed > 0) logger.info({ rows: sealed }, 'exchange: payloads of earlier received messages encrypted');
        const heads = await receiver.sealStoredRefusals();
        if (heads > 0) logger.info({ rows: heads }, 'exchange: bodies of earlier refused messages sealed');
      },
    };
  },
});
