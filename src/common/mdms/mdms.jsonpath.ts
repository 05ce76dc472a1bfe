import { JSONPath } from 'jsonpath-plus';

// `@.code IN ['A','B']` / `@.code NIN [...]`: Jayway JsonPath operators DIGIT configs use, which
// jsonpath-plus spells as JavaScript.
const IN_OPERATOR = /(@(?:\.[\w$]+|\[['"][^'"]+['"]\])+)\s+(in|nin|IN|NIN)\s+(\[[^\]]*\])/g;
// A trailing `['id','url']`: Jayway projects each matched object onto those keys.
const PROJECTION = /\[\s*('[^']*'|"[^"]*")(\s*,\s*('[^']*'|"[^"]*"))+\s*\]$/;

function toJsonPathPlus(filter: string): string {
  const path = filter.startsWith('$') ? filter : `$${filter}`;
  return path.replace(IN_OPERATOR, (_, field: string, op: string, list: string) =>
    op.toLowerCase() === 'in' ? `${list}.includes(${field})` : `!${list}.includes(${field})`,
  );
}

/**
 * Applies a DIGIT v1 `filter` to one master's records, as DIGIT's Jayway JsonPath would:
 * `[?(@.code=='X')]`, `[?(@.code IN ['A','B'])]`, `[*]['id','url']`, `$.*.code`.
 * Evaluation is jsonpath-plus's safe mode: no code can run. Throws on a malformed path.
 */
export function applyFilter(records: readonly unknown[], filter: string): unknown[] {
  const trimmed = filter.trim();
  if (trimmed === '') return [...records];
  const projection = PROJECTION.exec(trimmed);
  if (projection) {
    const keys = [...projection[0].matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2] ?? '');
    const base = trimmed.slice(0, projection.index);
    const matched = base === '' || base === '$' ? records : applyFilter(records, base);
    return matched
      .filter((record): record is Record<string, unknown> => record !== null && typeof record === 'object' && !Array.isArray(record))
      .map((source) => Object.fromEntries(keys.filter((key) => Object.hasOwn(source, key)).map((key) => [key, source[key]])));
  }
  return JSONPath({ path: toJsonPathPlus(trimmed), json: records as unknown[], wrap: true, ignoreEvalErrors: true }) as unknown[];
}
