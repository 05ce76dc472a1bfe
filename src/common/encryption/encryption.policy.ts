import type { RoleGrant } from '../../kernel/auth.js';
import { tenantCovers } from '../../kernel/tenancy.js';

/**
 * DIGIT's enc-client security policy (MDMS `DataSecurity.SecurityPolicy`), applied to a decrypted
 * record before it leaves: each attribute is shown PLAIN, MASKED with a pattern of
 * `DataSecurity.MaskingPatterns`, or NONE (null), by the caller's roles. Shared by every module
 * that answers personal data (individuals, complaints, notifications): see encryption.privacy.ts.
 */

export type Visibility = 'PLAIN' | 'MASKED' | 'NONE';

export type PolicyAttribute = { name: string; jsonPath: string; patternId?: string | null; defaultVisibility: Visibility };

export type SecurityPolicy = {
  model: string;
  attributes: PolicyAttribute[];
  roleBasedDecryptionPolicy?: Array<{
    roles: string[];
    attributeAccessList: Array<{ attribute: string; firstLevelVisibility: Visibility; secondLevelVisibility?: Visibility }>;
  }>;
};

const RANK: Record<Visibility, number> = { NONE: 0, MASKED: 1, PLAIN: 2 };
const VISIBILITIES: ReadonlySet<string> = new Set(['PLAIN', 'MASKED', 'NONE']);
const MASK = '*';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads a policy record leniently; undefined when it is not usable (then the caller falls back to masking all). */
export function parsePolicy(value: unknown): SecurityPolicy | undefined {
  if (!isRecord(value) || typeof value['model'] !== 'string' || !Array.isArray(value['attributes'])) return undefined;
  const attributes: PolicyAttribute[] = [];
  for (const a of value['attributes']) {
    if (!isRecord(a) || typeof a['name'] !== 'string' || typeof a['jsonPath'] !== 'string') continue;
    const visibility =
      typeof a['defaultVisibility'] === 'string' && VISIBILITIES.has(a['defaultVisibility']) ? a['defaultVisibility'] : 'MASKED';
    attributes.push({
      name: a['name'],
      jsonPath: a['jsonPath'],
      patternId: typeof a['patternId'] === 'string' ? a['patternId'] : null,
      defaultVisibility: visibility as Visibility,
    });
  }
  const rolePolicies = Array.isArray(value['roleBasedDecryptionPolicy']) ? value['roleBasedDecryptionPolicy'] : [];
  return {
    model: value['model'],
    attributes,
    roleBasedDecryptionPolicy: rolePolicies.filter(isRecord).map((p) => ({
      roles: Array.isArray(p['roles']) ? p['roles'].filter((r): r is string => typeof r === 'string') : [],
      attributeAccessList: (Array.isArray(p['attributeAccessList']) ? p['attributeAccessList'] : [])
        .filter(isRecord)
        .filter(
          (e) =>
            typeof e['attribute'] === 'string' &&
            typeof e['firstLevelVisibility'] === 'string' &&
            VISIBILITIES.has(e['firstLevelVisibility']),
        )
        .map((e) => ({ attribute: e['attribute'] as string, firstLevelVisibility: e['firstLevelVisibility'] as Visibility })),
    })),
  };
}

/**
 * Each attribute's visibility for roles granted on `tenantId` (or a parent tenant): the most open
 * of the default and every role entry that names one of the caller's roles, as DIGIT's
 * enc-client does with first-level visibility.
 */
export function visibilitiesFor(policy: SecurityPolicy, roles: readonly RoleGrant[], tenantId: string): Map<string, Visibility> {
  const held = new Set(roles.filter((r) => tenantCovers(r.tenantId, tenantId)).map((r) => r.code));
  const result = new Map<string, Visibility>(policy.attributes.map((a) => [a.name, a.defaultVisibility]));
  for (const entry of policy.roleBasedDecryptionPolicy ?? []) {
    if (!entry.roles.some((r) => held.has(r))) continue;
    for (const access of entry.attributeAccessList) {
      const now = result.get(access.attribute);
      if (now === undefined || RANK[access.firstLevelVisibility] > RANK[now]) result.set(access.attribute, access.firstLevelVisibility);
    }
  }
  return result;
}

/** Masking patterns by id, compiled once. A pattern JavaScript cannot run (DIGIT's 004 uses Java's `\G`) masks the whole value. */
export function compilePatterns(records: readonly unknown[]): Map<string, RegExp | undefined> {
  const patterns = new Map<string, RegExp | undefined>();
  for (const record of records) {
    if (!isRecord(record) || typeof record['patternId'] !== 'string' || typeof record['pattern'] !== 'string') continue;
    let compiled: RegExp | undefined;
    try {
      compiled = new RegExp(record['pattern'], 'gu');
    } catch {
      compiled = undefined;
    }
    patterns.set(record['patternId'], compiled);
  }
  return patterns;
}

export function maskValue(value: string, pattern: RegExp | undefined): string {
  if (pattern === undefined) return MASK.repeat([...value].length);
  return value.replace(pattern, MASK);
}

function pathOf(jsonPath: string): string[] {
  return jsonPath
    .replace(/^\$?[./]?/, '')
    .split(/[./]/)
    .filter((part) => part !== '');
}

/** Applies `change` to every string at `path` (`*` walks an array), in place. */
function visit(node: unknown, path: readonly string[], change: (value: string) => string | null): void {
  if (path.length === 0) return;
  const [head, ...rest] = path as [string, ...string[]];
  if (head === '*') {
    if (Array.isArray(node)) for (const item of node) visit(item, rest, change);
    return;
  }
  if (!isRecord(node)) return;
  if (rest.length === 0) {
    const value = node[head];
    if (typeof value === 'string') node[head] = change(value);
    return;
  }
  visit(node[head], rest, change);
}

/** A compiled view: applies one caller's visibilities to records of one tenant, in place. */
export type Redactor = {
  apply(record: Record<string, unknown>): void;
  /** Attribute names shown (PLAIN or MASKED), for the audit entry. */
  readonly shown: readonly string[];
  /** True when nothing is hidden or masked (no need to compare masked forms on update). */
  readonly allPlain: boolean;
  /** The form of `value` at attribute `jsonPath` this caller sees (for recognising masked values sent back). */
  seen(jsonPath: string, value: string): string | null;
};

export function redactor(
  policy: SecurityPolicy,
  visibilities: Map<string, Visibility>,
  patterns: Map<string, RegExp | undefined>,
): Redactor {
  const steps = policy.attributes
    .map((attribute) => ({
      attribute,
      path: pathOf(attribute.jsonPath),
      visibility: visibilities.get(attribute.name) ?? attribute.defaultVisibility,
    }))
    .filter((s) => s.visibility !== 'PLAIN');
  const byPath = new Map(policy.attributes.map((a) => [pathOf(a.jsonPath).join('.'), a]));
  const change = (attribute: PolicyAttribute, visibility: Visibility) => (value: string) =>
    visibility === 'NONE' ? null : visibility === 'MASKED' ? maskValue(value, patterns.get(attribute.patternId ?? '')) : value;
  return {
    apply(record) {
      for (const step of steps) visit(record, step.path, change(step.attribute, step.visibility));
    },
    shown: policy.attributes.filter((a) => (visibilities.get(a.name) ?? a.defaultVisibility) !== 'NONE').map((a) => a.name),
    allPlain: steps.length === 0,
    seen(jsonPath, value) {
      const attribute = byPath.get(pathOf(jsonPath).join('.'));
      if (!attribute) return value;
      return change(attribute, visibilities.get(attribute.name) ?? attribute.defaultVisibility)(value);
    },
  };
}

/** When the tenant has no usable policy: every personal field masked, whatever the role. */
export function maskEverything(model: string, paths: readonly string[]): SecurityPolicy {
  return {
    model,
    attributes: paths.map((jsonPath) => ({ name: jsonPath, jsonPath, patternId: null, defaultVisibility: 'MASKED' })),
  };
}
