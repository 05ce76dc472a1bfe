import { JSONPath } from 'jsonpath-plus';

// `@.code IN ['A','B']` / `@.code NIN [...]`: Jayway JsonPath operators DIGIT configs use, which
// jsonpath-plus spells as JavaScript.
const IN_OPERATOR = /(@(?:\.[\w$]+|\[['"][^'"]+['"]\])+)\s+(in|nin|IN|NIN)\s+(\[[^\]]*\])/g;
// A trailing `['id','url']`: Jayway projects each matched object onto those keys.
const PROJECTION = /\[\s*('[^']*'|"[^"]*")(\s*,\s*('[^']*'|"[^"]*"))+\s*\]$/;

/** Brackets and parentheses nested deeper than this make no sense in a master-data filter. */
export const MAX_FILTER_NESTING = 8;

/** A recursive descent (`..`) inside another makes a path quadratic in the data: one is allowed. */
export const MAX_RECURSIVE_DESCENTS = 1;

/** A filter whose shape or work is beyond what one search may cost. */
export class FilterTooExpensive extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterTooExpensive';
  }
}

/** A filter (or a whole search) needed more steps than its budget allows. */
export class FilterBudgetExceeded extends FilterTooExpensive {
  constructor(readonly limit: number) {
    super(`the filters need more than ${limit} steps of work (records and properties read)`);
    this.name = 'FilterBudgetExceeded';
  }
}

/**
 * Work allowed for the filters of one search, in steps: a record handed out, a property read, a
 * key listed. Shared by every filter of a request, so many cheap filters add up too.
 */
export type FilterBudget = { readonly limit: number; used: number; spend(steps: number): void };

export function filterBudget(limit: number): FilterBudget {
  return {
    limit,
    used: 0,
    spend(steps) {
      this.used += steps;
      if (this.used > limit) throw new FilterBudgetExceeded(limit);
    },
  };
}

function toJsonPathPlus(filter: string): string {
  const path = filter.startsWith('$') ? filter : `$${filter}`;
  return path.replace(IN_OPERATOR, (_, field: string, op: string, list: string) =>
    op.toLowerCase() === 'in' ? `${list}.includes(${field})` : `!${list}.includes(${field})`,
  );
}

/** How deeply `[`/`(` nest in a filter, and how many recursive descents (`..`) it has, quoted text aside. */
export function filterShape(filter: string): { nesting: number; descents: number } {
  let depth = 0;
  let nesting = 0;
  let descents = 0;
  let quote: string | undefined;
  let previous = '';
  for (const char of filter) {
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '[' || char === '(') nesting = Math.max(nesting, ++depth);
    else if (char === ']' || char === ')') depth = Math.max(0, depth - 1);
    else if (char === '.' && previous === '.') {
      descents += 1;
      previous = '';
      continue;
    }
    previous = quote ? '' : char;
  }
  return { nesting, descents };
}

/**
 * The records seen through proxies that charge the budget for every property read and key
 * listing, so that an expensive path (`$..*..*` is quadratic in the size of the data) stops at
 * the budget instead of holding the event loop; evaluation order is jsonpath-plus's own.
 */
function metered(records: readonly unknown[], budget: FilterBudget) {
  const proxies = new WeakMap<object, object>();
  const originals = new WeakMap<object, object>();
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    let proxy = proxies.get(value);
    if (!proxy) {
      proxy = new Proxy(value, {
        get(target, key) {
          budget.spend(1);
          const child: unknown = Reflect.get(target, key);
          // A proxy must hand out a frozen property as it is.
          const own = Reflect.getOwnPropertyDescriptor(target, key);
          return own && !own.configurable && !own.writable ? child : wrap(child);
        },
        ownKeys(target) {
          const keys = Reflect.ownKeys(target);
          budget.spend(keys.length);
          return keys;
        },
      });
      proxies.set(value, proxy);
      originals.set(proxy, value);
    }
    return proxy;
  };
  return { json: wrap(records) as unknown[], unwrap: (value: unknown) => (value !== null && typeof value === 'object' ? (originals.get(value) ?? value) : value) };
}

/**
 * Applies a DIGIT v1 `filter` to one master's records, as DIGIT's Jayway JsonPath would:
 * `[?(@.code=='X')]`, `[?(@.code IN ['A','B'])]`, `[*]['id','url']`, `$.*.code`.
 * Evaluation is jsonpath-plus's safe mode: no code can run. Throws on a malformed path, and
 * FilterTooExpensive for a path nested too deep or with nested descents, or when the work would
 * go beyond `budget` (default: unbounded).
 */
export function applyFilter(records: readonly unknown[], filter: string, budget: FilterBudget = filterBudget(Infinity)): unknown[] {
  const trimmed = filter.trim();
  budget.spend(records.length);
  if (trimmed === '') return [...records];
  const shape = filterShape(trimmed);
  if (shape.nesting > MAX_FILTER_NESTING) throw new FilterTooExpensive(`brackets nest deeper than ${MAX_FILTER_NESTING}`);
  if (shape.descents > MAX_RECURSIVE_DESCENTS) throw new FilterTooExpensive(`a filter may use at most ${MAX_RECURSIVE_DESCENTS} recursive descent (..)`);
  const projection = PROJECTION.exec(trimmed);
  if (projection) {
    const keys = [...projection[0].matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2] ?? '');
    const base = trimmed.slice(0, projection.index);
    const matched = base === '' || base === '$' ? records : applyFilter(records, base, budget);
    return matched
      .filter((record): record is Record<string, unknown> => record !== null && typeof record === 'object' && !Array.isArray(record))
      .map((source) => Object.fromEntries(keys.filter((key) => Object.hasOwn(source, key)).map((key) => [key, source[key]])));
  }
  const { json, unwrap } = metered(records, budget);
  const found = JSONPath({ path: toJsonPathPlus(trimmed), json, wrap: true, ignoreEvalErrors: true }) as unknown[];
  // ignoreEvalErrors swallows what a `[?(…)]` script throws, the budget's refusal included.
  if (budget.used > budget.limit) throw new FilterBudgetExceeded(budget.limit);
  return found.map(unwrap);
}
