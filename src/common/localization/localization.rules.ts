import type { ErrorDetail } from '../../kernel/errors.js';

/** DIGIT's locales are language_COUNTRY: `en_IN`, `hi_IN`, `pa_IN`. */
export const LOCALE_PATTERN = /^[a-z]{2}_[A-Z]{2}$/;
/** Codes missing in the requested locale are filled from this one (DIGIT's `ENGLISH_INDIA`). */
export const FALLBACK_LOCALE = 'en_IN';
/** The tenant above every state: messages shared by all of them. */
export const DEFAULT_TENANT = 'default';

/** DIGIT's columns are varchar(255) for code and module; messages are SMS and e-mail templates too. */
export const MAX_CODE_LENGTH = 255;
export const MAX_MODULE_LENGTH = 255;
export const MAX_MESSAGE_LENGTH = 5000;
/** Per write call: a whole module of a state (DIGIT's PGR has ~320 codes) fits many times over. */
export const MAX_MESSAGES_PER_CALL = 10_000;
/** Per search: the UIs ask for a handful of modules at once. */
export const MAX_SEARCH_MODULES = 100;
export const MAX_SEARCH_CODES = 5000;

export type MessageKey = { code: string; module: string; locale: string };
export type Message = MessageKey & { message: string };

/**
 * Control characters break SMS gateways and PostgreSQL text (NUL). Line breaks and tabs stay
 * allowed in messages (`allowLayout`): SMS and e-mail templates use them.
 */
function hasControl(value: string, allowLayout: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 || c === 0x7f) && !(allowLayout && (c === 0x09 || c === 0x0a || c === 0x0d))) return true;
  }
  return false;
}
// Lone surrogates are not text: PostgreSQL and every client would see replacement characters.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const detail = (code: string, field: string, message: string): ErrorDetail => ({ code, message: `${field}: ${message}`, params: [field] });

/** Problems with a code, module or search term: required, bounded, printable. */
export function checkName(value: unknown, field: string, max: number, code: string): ErrorDetail[] {
  if (typeof value !== 'string' || value.trim() === '') return [detail(code, field, 'is required and must not be blank')];
  if (value.length > max) return [detail(code, field, `must be at most ${max} characters`)];
  if (hasControl(value, false) || LONE_SURROGATE.test(value))
    return [detail(code, field, 'must not contain control characters or broken Unicode')];
  return [];
}

export function checkLocale(value: unknown, field: string): ErrorDetail[] {
  if (typeof value !== 'string' || !LOCALE_PATTERN.test(value)) {
    return [detail('INVALID_LOCALE', field, `must be a locale like en_IN or hi_IN (got ${JSON.stringify(String(value).slice(0, 40))})`)];
  }
  return [];
}

export function checkText(value: unknown, field: string): ErrorDetail[] {
  if (typeof value !== 'string' || value === '') return [detail('INVALID_MESSAGE', field, 'is required and must not be empty')];
  if (value.length > MAX_MESSAGE_LENGTH) return [detail('INVALID_MESSAGE', field, `must be at most ${MAX_MESSAGE_LENGTH} characters`)];
  if (hasControl(value, true) || LONE_SURROGATE.test(value)) {
    return [detail('INVALID_MESSAGE', field, 'must not contain control characters (other than line breaks and tabs) or broken Unicode')];
  }
  return [];
}

/** Every problem of one message, fields named from `path` (e.g. `messages[3]`). */
export function checkMessage(
  message: { code?: unknown; message?: unknown; module?: unknown; locale?: unknown },
  path: string,
): ErrorDetail[] {
  return [
    ...checkName(message.code, `${path}.code`, MAX_CODE_LENGTH, 'INVALID_CODE'),
    ...checkText(message.message, `${path}.message`),
    ...checkName(message.module, `${path}.module`, MAX_MODULE_LENGTH, 'INVALID_MODULE'),
    ...checkLocale(message.locale, `${path}.locale`),
  ];
}

/** The unique key of a message within a tenant, as DIGIT's `(tenantid, locale, module, code)`. */
export function keyOf(message: MessageKey): string {
  return JSON.stringify([message.locale, message.module, message.code]);
}

/** `a,b` and repeated parameters alike, as Spring binds a comma-separated request parameter. */
export function splitList(values: readonly string[] | string | null | undefined): string[] {
  if (values === null || values === undefined) return [];
  const list = typeof values === 'string' ? [values] : values;
  return [
    ...new Set(
      list
        .flatMap((v) => v.split(','))
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    ),
  ];
}

export type LineageRow = Message & { tenantId: string };

/**
 * DIGIT's computed message list: per module and code, the requested locale's message from the most
 * specific tenant of `lineage` (city, then state, then `default`); codes the locale lacks are
 * filled from `en_IN` the same way. Sorted by code, then module.
 */
export function mergeMessages(rows: readonly LineageRow[], lineage: readonly string[], locale: string): Message[] {
  const rank = new Map(lineage.map((tenantId, index) => [tenantId, index]));
  const pick = (wanted: string) => {
    const best = new Map<string, { row: LineageRow; rank: number }>();
    for (const row of rows) {
      if (row.locale !== wanted) continue;
      const r = rank.get(row.tenantId);
      if (r === undefined) continue;
      const key = JSON.stringify([row.module, row.code]);
      const current = best.get(key);
      if (!current || r < current.rank) best.set(key, { row, rank: r });
    }
    return best;
  };
  const chosen = pick(locale);
  if (locale !== FALLBACK_LOCALE) {
    for (const [key, entry] of pick(FALLBACK_LOCALE)) if (!chosen.has(key)) chosen.set(key, entry);
  }
  return [...chosen.values()]
    .map(({ row }) => ({ code: row.code, message: row.message, module: row.module, locale: row.locale }))
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : a.module < b.module ? -1 : a.module > b.module ? 1 : 0));
}
