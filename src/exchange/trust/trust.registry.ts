import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../kernel/clock.js';
import { DomainError, invalid } from '../../kernel/errors.js';
import { checkJwks, publicKeyOf, type Jwks, type KeyResolution, type PublicJwk } from './trust.jws.js';
import type { AgencyRow, AgencyStatus, TrustStore } from './trust.store.js';
import type { Actor } from './trust.keys.js';

export type Agency = {
  agencyId: string;
  name: string;
  jwks: Jwks;
  jwksUrl: string | null;
  status: AgencyStatus;
  /** When jwksUrl was last fetched (epoch ms), null if never. */
  jwksFetchedTime: number | null;
  rowVersion: number;
  auditDetails: { createdBy: string | null; lastModifiedBy: string | null; createdTime: number; lastModifiedTime: number };
};

export type AgencyInput = { agencyId: string; name: string; jwks: unknown; jwksUrl?: string | null | undefined; status?: AgencyStatus | undefined };
/** Fields left out keep their value; `jwksUrl: null` removes the URL. */
export type AgencyUpdate = {
  agencyId: string;
  name?: string | undefined;
  jwks?: unknown;
  jwksUrl?: string | null | undefined;
  status?: AgencyStatus | undefined;
};
export type AgencyCriteria = { agencyIds?: readonly string[] | undefined; status?: AgencyStatus | undefined; limit?: number | undefined; offset?: number | undefined };

export type AgencyRegistry = {
  create(input: AgencyInput, actor?: Actor): Promise<Agency>;
  update(input: AgencyUpdate, actor?: Actor): Promise<Agency>;
  search(criteria?: AgencyCriteria): Promise<Agency[]>;
  /**
   * The public key `kid` of active agency `agencyId`, fetching its jwksUrl (at most once a minute)
   * when the kid is new or the stored set is over an hour old; a fetched set replaces the stored one.
   */
  resolveKey(agencyId: string, kid: string): Promise<KeyResolution>;
};

/** Fetches a JWKS document; rejects on timeout, a non-2xx answer, a body over the limit or bad JSON. */
export type JwksFetcher = (url: string) => Promise<unknown>;

export const AGENCY_ID = /^[a-z0-9][a-z0-9.-]{0,63}$/;
export const JWKS_FETCH_INTERVAL_MS = 60_000;
/** How long a key set from a jwksUrl is trusted without asking again: a key the sender stopped publishing is dropped within this. */
export const JWKS_MAX_AGE_MS = 3_600_000;
/** Hosts where a plain-http jwksUrl is allowed: the traffic never leaves the machine (the two-process demo). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const FETCH_TIMEOUT_MS = 5_000;
const MAX_JWKS_BYTES = 64 * 1024;
const MAX_URL_LENGTH = 2048;
const MAX_NAME_LENGTH = 256;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/** `fetch` with a timeout, no redirects and a size limit read as the body streams in. */
export const fetchJwks: JwksFetcher = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
  if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > MAX_JWKS_BYTES) throw new Error(`GET ${url} answered more than ${MAX_JWKS_BYTES} bytes`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
};

function agencyOf(row: AgencyRow): Agency {
  return {
    agencyId: row.agency_id,
    name: row.name,
    jwks: row.jwks as Jwks,
    jwksUrl: row.jwks_url,
    status: row.status,
    jwksFetchedTime: row.jwks_fetched_time,
    rowVersion: row.row_version,
    auditDetails: { createdBy: row.created_by, lastModifiedBy: row.last_modified_by, createdTime: row.created_time, lastModifiedTime: row.last_modified_time },
  };
}

function checkedJwks(value: unknown): Jwks {
  const checked = checkJwks(value);
  if ('problems' in checked) {
    throw new DomainError(
      'invalid',
      checked.problems.slice(0, 10).map((message) => ({ code: 'INVALID_JWKS', message, params: null })),
    );
  }
  return checked.jwks;
}

/**
 * Whether keys may be fetched from `url`: https, or http to a loopback host only. A key set over
 * plain http could be replaced by anyone on the path, and an unknown kid is enough to make us fetch.
 */
export function isFetchableJwksUrl(url: URL): boolean {
  if (url.username !== '' || url.password !== '') return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

function checkedUrl(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  let url: URL | undefined;
  try {
    url = value.length <= MAX_URL_LENGTH ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !isFetchableJwksUrl(url)) {
    throw invalid(
      'INVALID_JWKS_URL',
      `jwksUrl must be an https URL without credentials (plain http only to localhost, 127.0.0.1 or [::1]), of at most ${MAX_URL_LENGTH} characters`,
    );
  }
  return url.toString();
}

const fetchable = (value: string): boolean => {
  try {
    return isFetchableJwksUrl(new URL(value));
  } catch {
    return false;
  }
};

function checkedName(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_NAME_LENGTH) {
    throw invalid('INVALID_AGENCY_NAME', `name must be 1-${MAX_NAME_LENGTH} characters`);
  }
  return value;
}

const checkedStatus = (value: unknown): AgencyStatus => {
  if (value !== 'ACTIVE' && value !== 'INACTIVE') throw invalid('INVALID_AGENCY_STATUS', 'status must be ACTIVE or INACTIVE');
  return value;
};

export function createAgencyRegistry(deps: {
  store: TrustStore;
  clock: Clock;
  logger: FastifyBaseLogger;
  fetchJwks?: JwksFetcher | undefined;
}): AgencyRegistry {
  const { store, clock, logger } = deps;
  const fetcher = deps.fetchJwks ?? fetchJwks;

  const keyIn = (row: AgencyRow, kid: string): PublicJwk | undefined => (row.jwks as Jwks).keys.find((k) => k.kid === kid);

  /** Fetches the agency's published keys if the last fetch is a minute old; answers the row as it is afterwards. */
  async function refresh(row: AgencyRow): Promise<AgencyRow> {
    if (row.jwks_url === null) return row;
    // A URL stored before plain http was refused is not fetched either.
    if (!fetchable(row.jwks_url)) {
      logger.warn({ agencyId: row.agency_id, jwksUrl: row.jwks_url }, 'trusted agency jwksUrl is not https: its keys are not fetched');
      return row;
    }
    if (!(await store.claimJwksFetch(row.agency_id, clock.now(), JWKS_FETCH_INTERVAL_MS))) return row;
    try {
      const checked = checkJwks(await fetcher(row.jwks_url));
      if ('problems' in checked) throw new Error(checked.problems.join('; '));
      await store.setFetchedJwks(row.agency_id, checked.jwks, clock.now());
      logger.info({ agencyId: row.agency_id, kids: checked.jwks.keys.map((k) => k.kid) }, 'trusted agency keys refreshed from its jwksUrl');
    } catch (error) {
      logger.warn({ agencyId: row.agency_id, jwksUrl: row.jwks_url, err: error }, 'could not refresh a trusted agency\'s keys');
    }
    return (await store.agency(row.agency_id)) ?? row;
  }

  return {
    async create(input, actor = { uuid: null }) {
      if (typeof input.agencyId !== 'string' || !AGENCY_ID.test(input.agencyId)) {
        throw invalid('INVALID_AGENCY_ID', 'agencyId must be 1-64 lower-case letters, digits, dots or dashes, starting with a letter or digit');
      }
      const now = clock.now();
      const row: AgencyRow = {
        agency_id: input.agencyId,
        name: checkedName(input.name),
        jwks: checkedJwks(input.jwks),
        jwks_url: checkedUrl(input.jwksUrl),
        status: checkedStatus(input.status ?? 'ACTIVE'),
        jwks_fetched_time: null,
        jwks_set_time: now,
        row_version: 1,
        created_by: actor.uuid,
        last_modified_by: actor.uuid,
        created_time: now,
        last_modified_time: now,
      };
      if (!(await store.insertAgency(row))) {
        throw invalid('DUPLICATE_AGENCY', `Agency "${input.agencyId}" is registered already; update it instead`, [input.agencyId]);
      }
      logger.info({ agencyId: row.agency_id, actor: actor.uuid, kids: (row.jwks as Jwks).keys.map((k) => k.kid) }, 'trusted agency registered');
      return agencyOf(row);
    },

    async update(input, actor = { uuid: null }) {
      const current = typeof input.agencyId === 'string' ? await store.agency(input.agencyId) : undefined;
      if (!current) throw invalid('AGENCY_NOT_FOUND', `No agency "${String(input.agencyId)}" is registered`, [String(input.agencyId)]);
      const row: AgencyRow = {
        ...current,
        name: input.name === undefined ? current.name : checkedName(input.name),
        jwks: input.jwks === undefined ? current.jwks : checkedJwks(input.jwks),
        // Keys given by hand are as fresh as a fetch: the hour before the next refresh starts now.
        jwks_set_time: input.jwks === undefined ? current.jwks_set_time : clock.now(),
        jwks_url: input.jwksUrl === undefined ? current.jwks_url : checkedUrl(input.jwksUrl),
        status: input.status === undefined ? current.status : checkedStatus(input.status),
        row_version: current.row_version + 1,
        last_modified_by: actor.uuid,
        last_modified_time: clock.now(),
      };
      if (!(await store.updateAgency(row, current.row_version))) {
        throw new DomainError('conflict', { code: 'CONCURRENT_UPDATE', message: `Agency "${input.agencyId}" was changed at the same moment; search it and retry` });
      }
      logger.info({ agencyId: row.agency_id, actor: actor.uuid, status: row.status, kids: (row.jwks as Jwks).keys.map((k) => k.kid) }, 'trusted agency updated');
      return agencyOf(row);
    },

    async search(criteria = {}) {
      const limit = Math.min(Math.max(criteria.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
      const offset = Math.max(criteria.offset ?? 0, 0);
      const rows = await store.searchAgencies({ agencyIds: criteria.agencyIds, status: criteria.status, limit, offset });
      return rows.map(agencyOf);
    },

    async resolveKey(agencyId, kid) {
      let row = AGENCY_ID.test(agencyId) ? await store.agency(agencyId) : undefined;
      if (!row || row.status !== 'ACTIVE') return { kind: 'unknown-agency' };
      let jwk = keyIn(row, kid);
      // Stale: the sender may have withdrawn a key (compromised, retired); only a fresh set says it is still theirs.
      const stale = row.jwks_set_time === null || clock.now() - row.jwks_set_time > JWKS_MAX_AGE_MS;
      if ((!jwk || stale) && row.jwks_url !== null) {
        row = await refresh(row);
        if (row.status !== 'ACTIVE') return { kind: 'unknown-agency' };
        jwk = keyIn(row, kid);
      }
      return jwk ? { kind: 'key', key: publicKeyOf(jwk) } : { kind: 'unknown-key' };
    },
  };
}
