import { DomainError, invalid } from './errors.js';

/** The keys that name tenants, in any case: DIGIT's `tenantId` and its plural `tenantIds`. */
const TENANT_KEY = /^tenantids?$/i;
/** Deeper bodies are refused: a tenant hidden below the walk's reach must not pass unseen. */
const MAX_DEPTH = 64;

const badTenant = (where: string) =>
  invalid('INVALID_TENANT_ID', `${where} must be a tenant id or a list of tenant ids`, [where]);

const tooDeep = () =>
  new DomainError('invalid', { code: 'INVALID_REQUEST', message: `The request body is nested deeper than ${MAX_DEPTH} levels` });

/** `"pb.amritsar, pb.jalandhar"` → both; blanks name nothing. */
function addList(found: Set<string>, text: string): void {
  for (const part of text.split(',')) {
    const tenant = part.trim();
    if (tenant !== '') found.add(tenant);
  }
}

/** A tenant field's value: a string (comma list), an array of strings, or null (names none); anything else is a 400. */
function addValue(found: Set<string>, value: unknown, where: string): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'string') return addList(found, value);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === null) continue;
      if (typeof item !== 'string') throw badTenant(where);
      addList(found, item);
    }
    return;
  }
  throw badTenant(where);
}

/**
 * Every tenant a request names, in any shape: `tenantId`/`tenantIds` keys anywhere in the body
 * (strings, comma lists, arrays of strings, nested in objects and arrays) except the top-level
 * RequestInfo, and the same keys in the query. A tenant key holding a number, boolean or object is
 * a 400: no shape can slip past the check and reach a handler. `opaque` lists body paths
 * (`SchemaDefinition.definition`) that hold documents rather than request fields, e.g. a JSON
 * Schema whose `properties.tenantId` is an object; they are not read.
 */
export function namedTenants(body: unknown, query: unknown, opaque: readonly string[] = []): string[] {
  const found = new Set<string>();
  const skip = new Set(opaque);
  const walk = (value: unknown, path: string, depth: number): void => {
    if (value === null || typeof value !== 'object') return;
    if (depth > MAX_DEPTH) throw tooDeep();
    if (Array.isArray(value)) {
      for (const item of value) walk(item, path, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      if (depth === 0 && /^requestinfo$/i.test(key)) continue;
      const at = path === '' ? key : `${path}.${key}`;
      if (skip.has(at)) continue;
      if (TENANT_KEY.test(key)) addValue(found, child, at);
      else walk(child, at, depth + 1);
    }
  };
  walk(body, '', 0);
  if (query && typeof query === 'object') {
    for (const [key, value] of Object.entries(query)) if (TENANT_KEY.test(key)) addValue(found, value, `query ${key}`);
  }
  return [...found];
}
