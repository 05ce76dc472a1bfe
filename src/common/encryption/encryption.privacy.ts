import type { UserInfo } from '../../kernel/userinfo.js';
import { stateTenantOf } from '../../kernel/tenancy.js';
import type { AuditEntryInput } from '../audit/index.js';
import {
  compilePatterns,
  maskEverything,
  parsePolicy,
  redactor,
  visibilitiesFor,
  type Redactor,
  type SecurityPolicy,
} from './encryption.policy.js';

/**
 * What a module that answers decrypted personal data needs, in one place: the state's security
 * policies read from MDMS, one redactor per viewer, tenant and self/other, and the `pii.decrypted`
 * audit entries of an answer (DIGIT's enc-client decrypts by policy and audits each decryption).
 */

/** A state's policy records: MDMS `DataSecurity.SecurityPolicy` and `DataSecurity.MaskingPatterns`. */
export type DataSecurityMasters = (stateTenantId: string) => Promise<{ policies: readonly unknown[]; patterns: readonly unknown[] }>;

type MasterCriteria = { tenantId: string; moduleDetails: Array<{ moduleName: string; masterDetails: Array<{ name: string }> }> };

/** The masters through MDMS v1 search (its answers are cached, so the same arrays come back until they change). */
export function dataSecurityMasters(
  searchV1: (criteria: MasterCriteria) => Promise<Record<string, Record<string, unknown[]> | undefined>>,
): DataSecurityMasters {
  return async (stateTenantId) => {
    const read = await searchV1({
      tenantId: stateTenantId,
      moduleDetails: [{ moduleName: 'DataSecurity', masterDetails: [{ name: 'SecurityPolicy' }, { name: 'MaskingPatterns' }] }],
    });
    return { policies: read['DataSecurity']?.['SecurityPolicy'] ?? [], patterns: read['DataSecurity']?.['MaskingPatterns'] ?? [] };
  };
}

export type PrivacyModels = {
  /** The policy for someone looking at another person's record, e.g. `Individual`. */
  readonly model: string;
  /** The policy for people looking at their own record, e.g. `IndividualSelf`; `model` when absent. */
  readonly selfModel?: string;
  /** Every personal path of the record: all masked when the state has no usable `model` policy. */
  readonly paths: readonly string[];
};

export type Privacy = {
  /**
   * One viewer's redactors, by the record's tenant and owner (cached for the life of the returned
   * function: one answer). The owner sees their own record through `selfModel`. No viewer: no
   * roles, so every attribute at its default visibility.
   */
  viewer(viewer: UserInfo | null): (tenantId: string, ownerUuid?: string | null) => Promise<Redactor>;
};

type Policies = { other: SecurityPolicy; self: SecurityPolicy | undefined; patterns: Map<string, RegExp | undefined> };

export function createPrivacy(masters: DataSecurityMasters, models: PrivacyModels): Privacy {
  // Keyed by the MDMS answer's arrays: a change to the policies comes back as new arrays.
  const cache = new WeakMap<object, Policies>();

  async function policiesOf(tenantId: string): Promise<Policies> {
    const { policies, patterns } = await masters(stateTenantOf(tenantId));
    const cached = cache.get(policies);
    if (cached && cache.get(patterns) === cached) return cached;
    const byModel = (model: string) => policies.map(parsePolicy).find((p) => p?.model === model);
    const built: Policies = {
      other: byModel(models.model) ?? maskEverything(models.model, models.paths),
      self: models.selfModel === undefined ? undefined : byModel(models.selfModel),
      patterns: compilePatterns(patterns),
    };
    cache.set(policies, built);
    cache.set(patterns, built);
    return built;
  }

  return {
    viewer(viewer) {
      const redactors = new Map<string, Redactor>();
      return async (tenantId, ownerUuid) => {
        const self = viewer !== null && typeof ownerUuid === 'string' && ownerUuid !== '' && viewer.uuid === ownerUuid;
        const key = `${tenantId}|${self}`;
        let found = redactors.get(key);
        if (!found) {
          const p = await policiesOf(tenantId);
          const policy = self && p.self ? p.self : p.other;
          found = redactor(policy, visibilitiesFor(policy, viewer?.roles ?? [], tenantId), p.patterns);
          redactors.set(key, found);
        }
        return found;
      };
    },
  };
}

/** One record whose personal fields were decrypted for an answer, and how its viewer saw them. */
export type Revealed = { readonly tenantId: string; readonly subject: string; readonly redactor: Redactor };

export type DecryptionContext = {
  /** The policy model, e.g. `Individual`, `PGR`. */
  readonly model: string;
  /** What the answer was for, e.g. `search`, `update`. */
  readonly purpose: string;
  readonly actorUuid: string | null;
  readonly correlationId: string | null;
};

/**
 * One `pii.decrypted` entry per record of which the viewer was shown something (plain or masked),
 * naming the attributes shown; records of which nothing was shown leave none. Append them in the
 * transaction of the answer's reads where there is one.
 */
export function decryptionEntries(revealed: readonly Revealed[], context: DecryptionContext): AuditEntryInput[] {
  return revealed
    .filter(({ redactor: r }) => r.shown.length > 0)
    .map(({ tenantId, subject, redactor: r }) => ({
      tenantId,
      action: 'pii.decrypted' as const,
      subject,
      outcome: 'success' as const,
      actorUuid: context.actorUuid,
      details: { model: context.model, purpose: context.purpose, fields: r.shown },
      correlationId: context.correlationId,
    }));
}
