import { randomInt } from 'node:crypto';
import { invalid } from '../../kernel/errors.js';

/**
 * DIGIT's ID format language (egov-idgen `IdGenerationService.getFormattedId`): literal text and
 * `[tokens]`. `[tenantid]`, `[tenant_id]` and `[TENANT_ID]` are substituted first, so a token may
 * hold them (`[SEQ_RCPT_[TENANT_ID]]`); then every `[x]` is read by its prefix, case-insensitive:
 * `seq…` a named counter, `fy:` the financial year, `cy:` a date (Java SimpleDateFormat), `city…`
 * the tenant's city code, anything else random digits (`{n}` of them, default 2).
 */
export type Token =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'seq'; readonly name: string; readonly key: string }
  | { readonly kind: 'date'; readonly pieces: readonly DatePiece[] }
  | { readonly kind: 'fy'; readonly start: number; readonly end: number | undefined }
  | { readonly kind: 'city' }
  | { readonly kind: 'random'; readonly digits: number };

export type DatePiece =
  { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'field'; readonly letter: string; readonly count: number };

/** DIGIT pads sequence numbers with `%06d` unless the format's config says otherwise. */
export const DEFAULT_PADDING = 6;
const MAX_PADDING = 32;
const MAX_RANDOM_DIGITS = 32;
/** PostgreSQL's identifier limit: DIGIT's sequences were database sequences of that name. */
const MAX_SEQUENCE_NAME = 63;
const SEQUENCE_NAME = /^seq[a-z0-9_]*$/i;

const formatError = (format: string, reason: string) => invalid('INVALID_FORMAT', `ID format "${format}": ${reason}`, [format]);

/** As DIGIT: exact-case replacement of the three tenant tokens, dots kept, or made `_`, or also upper-cased. */
export function substituteTenant(format: string, tenantId: string): string {
  const underscored = tenantId.replaceAll('.', '_');
  return format
    .replaceAll('[tenantid]', tenantId)
    .replaceAll('[tenant_id]', underscored)
    .replaceAll('[TENANT_ID]', underscored.toUpperCase());
}

/** Compiles a format for a tenant; every error (bad date pattern, bad sequence name…) is found here, before any number is drawn. */
export function parseFormat(format: string, tenantId: string): Token[] {
  if (format.trim() === '') throw invalid('IDGEN_FORMAT_ERROR', 'Blank format is not allowed');
  const text = substituteTenant(format, tenantId);
  const tokens: Token[] = [];
  // DIGIT's regex: the shortest `[...]`; text outside brackets (and an unclosed `[`) is literal.
  const pattern = /\[(.*?)\]/g;
  let last = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match.index > last) tokens.push({ kind: 'text', text: text.slice(last, match.index) });
    tokens.push(parseToken(match[1] ?? '', format));
    last = match.index + match[0].length;
  }
  if (last < text.length) tokens.push({ kind: 'text', text: text.slice(last) });
  return tokens;
}

function parseToken(attribute: string, format: string): Token {
  const lower = attribute.toLowerCase();
  if (attribute === '') throw formatError(format, 'an empty [] token');
  if (lower.startsWith('seq')) {
    if (!SEQUENCE_NAME.test(attribute) || attribute.length > MAX_SEQUENCE_NAME) {
      throw formatError(
        format,
        `sequence [${attribute}] must be SEQ followed by letters, digits or _ (at most ${MAX_SEQUENCE_NAME} characters)`,
      );
    }
    // PostgreSQL folds unquoted sequence names to lower case, so DIGIT's [SEQ_X] and [seq_x] were one sequence.
    return { kind: 'seq', name: attribute, key: lower };
  }
  if (lower.startsWith('fy')) return parseFinancialYear(attribute, format);
  if (lower.startsWith('cy')) return { kind: 'date', pieces: compileDatePattern(afterColon(attribute), format) };
  if (lower.startsWith('city')) return { kind: 'city' };
  const braces = /\{(.*?)\}/.exec(attribute);
  if (!braces) return { kind: 'random', digits: 2 };
  const digits = Number(braces[1]);
  if (!Number.isInteger(digits) || digits < 1 || digits > MAX_RANDOM_DIGITS) {
    throw formatError(format, `[${attribute}]: the number of random digits must be 1 to ${MAX_RANDOM_DIGITS}`);
  }
  return { kind: 'random', digits };
}

/** DIGIT takes what follows the first `:`, or the whole token when there is none (which then fails as a pattern). */
function afterColon(attribute: string): string {
  return attribute.slice(attribute.indexOf(':') + 1).trim();
}

/**
 * `[fy:yyyy-yy]` → `2024-25`: the year the financial year (April to March, as DIGIT) starts in,
 * then the year it ends in, each printed with its own year pattern. DIGIT prints `2024-0` for a
 * single pattern (`[fy:yyyy]`, found in its demo data) and drops the zero of `-09`; here a single
 * pattern prints the starting year and two-letter years keep two digits.
 */
function parseFinancialYear(attribute: string, format: string): Token {
  const parts = afterColon(attribute)
    .split('-')
    .map((part) => part.trim());
  const widths = parts.map((part) => (/^y+$/.test(part) ? part.length : undefined));
  if (parts.length > 2 || widths.some((w) => w === undefined)) {
    throw formatError(format, `[${attribute}]: a financial year is one or two year patterns joined by "-", e.g. fy:yyyy-yy`);
  }
  return { kind: 'fy', start: widths[0]!, end: widths[1] };
}

// Java SimpleDateFormat letters, less the week-based ones (Y, w, W, F), whose results depend on the JVM's locale.
const DATE_LETTERS = new Set('GyMLdDEuaHkKhmsSzZX');

/** Java SimpleDateFormat: runs of a letter are fields, `'…'` is quoted text (`''` a quote), anything else literal. */
export function compileDatePattern(pattern: string, format: string): DatePiece[] {
  if (pattern === '') throw formatError(format, 'an empty date pattern');
  const pieces: DatePiece[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') pieces.push({ kind: 'literal', text: literal });
    literal = '';
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        literal += "'";
        i += 2;
        continue;
      }
      let j = i + 1;
      let closed = false;
      while (j < pattern.length) {
        if (pattern[j] === "'") {
          if (pattern[j + 1] !== "'") {
            closed = true;
            break;
          }
          literal += "'";
          j += 2;
        } else {
          literal += pattern[j];
          j++;
        }
      }
      if (!closed) throw formatError(format, `unterminated quote in date pattern "${pattern}"`);
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      if (!DATE_LETTERS.has(c)) throw formatError(format, `date pattern "${pattern}" has the unsupported letter '${c}'`);
      let j = i;
      while (pattern[j] === c) j++;
      if (c === 'X' && j - i > 3) throw formatError(format, `date pattern "${pattern}": X may be repeated at most 3 times`);
      flush();
      pieces.push({ kind: 'field', letter: c, count: j - i });
      i = j;
      continue;
    }
    literal += c;
    i++;
  }
  flush();
  return pieces;
}

/** The calendar fields of an instant in a time zone. */
export type LocalTime = {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
  /** 1 = Monday … 7 = Sunday (Java's `u`). */
  readonly weekday: number;
  readonly dayOfYear: number;
  readonly offsetMinutes: number;
  readonly zoneShort: string;
  readonly zoneLong: string;
};

const partFormatters = new Map<string, Intl.DateTimeFormat>();
const zoneNameFormatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = partFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partFormatters.set(timeZone, formatter);
  }
  return formatter;
}

function zoneName(epochMs: number, timeZone: string, style: 'short' | 'long'): string {
  const key = `${timeZone}|${style}`;
  let formatter = zoneNameFormatters.get(key);
  if (!formatter) {
    // en-IN names Indian time "IST", as Java does.
    formatter = new Intl.DateTimeFormat('en-IN', { timeZone, timeZoneName: style });
    zoneNameFormatters.set(key, formatter);
  }
  return formatter.formatToParts(epochMs).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
}

/** Throws RangeError for a time zone the runtime does not know. */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

export function localTime(epochMs: number, timeZone: string): LocalTime {
  const parts = formatterFor(timeZone).formatToParts(epochMs);
  const field = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? NaN);
  const year = field('year');
  const month = field('month');
  const day = field('day');
  const hour = field('hour');
  const minute = field('minute');
  const second = field('second');
  const millisecond = ((epochMs % 1000) + 1000) % 1000;
  const midnight = Date.UTC(year, month - 1, day);
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    millisecond,
    weekday: ((new Date(midnight).getUTCDay() + 6) % 7) + 1,
    dayOfYear: Math.round((midnight - Date.UTC(year, 0, 1)) / 86_400_000) + 1,
    offsetMinutes: Math.round((asUtc - epochMs) / 60_000),
    get zoneShort() {
      return zoneName(epochMs, timeZone, 'short');
    },
    get zoneLong() {
      return zoneName(epochMs, timeZone, 'long');
    },
  };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

const pad = (value: number, width: number) => String(value).padStart(width, '0');

function offset(minutes: number, separator: string, withMinutes: boolean): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${withMinutes ? `${separator}${pad(abs % 60, 2)}` : ''}`;
}

function field(letter: string, count: number, t: LocalTime): string {
  switch (letter) {
    case 'G':
      return 'AD';
    case 'y':
      return count === 2 ? pad(t.year % 100, 2) : pad(t.year, count);
    case 'M':
    case 'L':
      return count >= 4 ? MONTHS[t.month - 1]! : count === 3 ? MONTHS[t.month - 1]!.slice(0, 3) : pad(t.month, count);
    case 'd':
      return pad(t.day, count);
    case 'D':
      return pad(t.dayOfYear, count);
    case 'E':
      return count >= 4 ? DAYS[t.weekday - 1]! : DAYS[t.weekday - 1]!.slice(0, 3);
    case 'u':
      return pad(t.weekday, count);
    case 'a':
      return t.hour < 12 ? 'AM' : 'PM';
    case 'H':
      return pad(t.hour, count);
    case 'k':
      return pad(t.hour === 0 ? 24 : t.hour, count);
    case 'K':
      return pad(t.hour % 12, count);
    case 'h':
      return pad(t.hour % 12 === 0 ? 12 : t.hour % 12, count);
    case 'm':
      return pad(t.minute, count);
    case 's':
      return pad(t.second, count);
    case 'S':
      return pad(t.millisecond, count);
    case 'z':
      return count >= 4 ? t.zoneLong : t.zoneShort;
    case 'Z':
      return offset(t.offsetMinutes, '', true);
    case 'X':
      return t.offsetMinutes === 0 ? 'Z' : offset(t.offsetMinutes, count === 3 ? ':' : '', count > 1);
    default:
      return '';
  }
}

export function formatDate(pieces: readonly DatePiece[], t: LocalTime): string {
  return pieces.map((p) => (p.kind === 'literal' ? p.text : field(p.letter, p.count, t))).join('');
}

/** The Indian financial year, April to March (DIGIT: month > 3 starts a new one). */
export function formatFinancialYear(start: number, end: number | undefined, t: LocalTime): string {
  const first = t.month > 3 ? t.year : t.year - 1;
  const year = (value: number, width: number) => (width === 2 ? pad(value % 100, 2) : pad(value, width));
  return end === undefined ? year(first, start) : `${year(first, start)}-${year(first + 1, end)}`;
}

/** Uniform random decimal digits from the operating system's generator (DIGIT used java.util.Random). */
export function randomDigits(n: number): string {
  let digits = '';
  for (let i = 0; i < n; i++) digits += String(randomInt(10));
  return digits;
}

export function padSequence(value: number, padding: number): string {
  return String(value).padStart(padding, '0');
}

/** DIGIT reads an optional `padding` of the format's config; anything unusable means the default. */
export function paddingOf(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= MAX_PADDING ? n : DEFAULT_PADDING;
}

export type RenderInput = {
  readonly tokens: readonly Token[];
  readonly count: number;
  readonly time: LocalTime;
  readonly padding: number;
  readonly cityCode: string | undefined;
  /** Per sequence key, `count` values in issue order. */
  readonly sequences: ReadonlyMap<string, readonly number[]>;
};

/** The ids of one request. Tokens with the same sequence name share a value within an id, as in DIGIT. */
export function renderIds({ tokens, count, time, padding, cityCode, sequences }: RenderInput): string[] {
  // Date parts are the same for every id of the request; compute them once.
  const fixed = tokens.map((token) => {
    switch (token.kind) {
      case 'text':
        return token.text;
      case 'date':
        return formatDate(token.pieces, time);
      case 'fy':
        return formatFinancialYear(token.start, token.end, time);
      case 'city':
        return cityCode ?? '';
      default:
        return undefined;
    }
  });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    let id = '';
    tokens.forEach((token, index) => {
      if (token.kind === 'seq') id += padSequence(sequences.get(token.key)![i]!, padding);
      else if (token.kind === 'random') id += randomDigits(token.digits);
      else id += fixed[index]!;
    });
    ids.push(id);
  }
  return ids;
}

export function sequenceKeys(tokens: readonly Token[]): string[] {
  return [...new Set(tokens.flatMap((t) => (t.kind === 'seq' ? [t.key] : [])))];
}

export const usesCity = (tokens: readonly Token[]) => tokens.some((t) => t.kind === 'city');

/** Validates a sequence name as a `[SEQ…]` token would (for the seed file). */
export function sequenceKeyOf(name: string): string | undefined {
  return SEQUENCE_NAME.test(name) && name.length <= MAX_SEQUENCE_NAME ? name.toLowerCase() : undefined;
}
