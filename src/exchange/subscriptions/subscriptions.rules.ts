/**
 * The pure rules of a subscription: which events it wants (conditions on the event's data) and
 * which of their fields the receiving agency may have (projection), plus the retry backoff.
 */

export type Scalar = string | number | boolean | null;

export type Condition =
  | { readonly path: string; readonly op: 'eq' | 'ne'; readonly value: Scalar }
  | { readonly path: string; readonly op: 'in'; readonly value: readonly Scalar[] }
  | { readonly path: string; readonly op: 'exists'; readonly value?: boolean | null };

export type ConditionOp = Condition['op'];

/** `a.b_c.d1`: dot-separated names; no wildcards, no indexes (arrays are walked implicitly). */
export const PATH_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}(\.[A-Za-z_][A-Za-z0-9_-]{0,63}){0,15}$/;

/**
 * Names that reach a prototype when used as a key on a plain object: a subscription path holding
 * one could write to (or read from) `Object.prototype` and so change every object of the process.
 */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A dot path a subscription may use: the pattern, and no segment that names a prototype. */
export function isPath(path: string): boolean {
  return PATH_PATTERN.test(path) && path.split('.').every((part) => !FORBIDDEN_SEGMENTS.has(part));
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Every value found at `path`: arrays on the way (and at the end) are walked element by element,
 * so `identifiers.identifierType` yields the type of each identifier.
 */
export function valuesAt(node: unknown, path: string): unknown[] {
  const out: unknown[] = [];
  const walk = (value: unknown, parts: readonly string[]) => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, parts);
      return;
    }
    if (parts.length === 0) {
      if (value !== undefined && value !== null) out.push(value);
      return;
    }
    if (!isRecord(value)) return;
    const [head, ...rest] = parts as [string, ...string[]];
    if (!Object.hasOwn(value, head)) return;
    walk(value[head], rest);
  };
  walk(node, path.split('.'));
  return out;
}

/**
 * One condition against the event data. `eq` and `in` hold when any value on the path matches;
 * `ne` is the negation of `eq` (no value on the path equals it, so a missing field is `ne` anything);
 * `exists` (value true or absent) holds when the path has a non-null value, `exists false` when not.
 */
export function conditionHolds(data: unknown, condition: Condition): boolean {
  const values = valuesAt(data, condition.path);
  switch (condition.op) {
    case 'eq':
      return values.some((v) => v === condition.value);
    case 'ne':
      return !values.some((v) => v === condition.value);
    case 'in':
      return values.some((v) => condition.value.some((candidate) => candidate === v));
    case 'exists':
      return (values.length > 0) === (condition.value ?? true);
  }
}

/** All conditions hold (none: every event of the subscribed types and tenants). */
export function matches(data: unknown, conditions: readonly Condition[]): boolean {
  return conditions.every((c) => conditionHolds(data, c));
}

type FieldTree = { [key: string]: FieldTree | true };

/** Trees have no prototype and are read with `hasOwn` only: a field named `toString` is just a name. */
function fieldTree(fields: readonly string[]): FieldTree {
  const root: FieldTree = Object.create(null) as FieldTree;
  for (const field of fields) {
    // Refused when a subscription is saved; skipped here too, for rows stored before that rule.
    if (!isPath(field)) continue;
    const parts = field.split('.');
    let node = root;
    for (const [i, part] of parts.entries()) {
      const existing = Object.hasOwn(node, part) ? node[part] : undefined;
      if (existing === true) break; // A parent already goes whole.
      if (i === parts.length - 1) {
        node[part] = true;
        break;
      }
      const child: FieldTree = existing ?? (Object.create(null) as FieldTree);
      node[part] = child;
      node = child;
    }
  }
  return root;
}

function pick(value: unknown, tree: FieldTree | true): unknown {
  if (tree === true) return structuredClone(value);
  if (Array.isArray(value)) {
    const items = value.map((item) => pick(item, tree)).filter((item) => item !== undefined);
    return items;
  }
  if (!isRecord(value)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(tree)) {
    if (!Object.hasOwn(value, key)) continue;
    const picked = pick(value[key], sub);
    // defineProperty, not assignment: an own key of the data never goes through a setter of `out`.
    if (picked !== undefined) Object.defineProperty(out, key, { value: picked, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Only the listed dot paths of `data` (arrays keep their elements, each cut to the sub-paths):
 * personal data minimisation, so a receiver gets what its agreement allows and nothing else.
 */
export function project(data: unknown, fields: readonly string[]): Record<string, unknown> {
  const picked = pick(data, fieldTree(fields));
  return isRecord(picked) ? picked : {};
}

export type Backoff = (attempt: number) => number;

/** Delay before retry after failed attempt number `attempt` (1-based): doubling from `baseMs`, never above `capMs`. */
export function exponentialBackoff(baseMs: number, capMs: number): Backoff {
  return (attempt) => Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
}
