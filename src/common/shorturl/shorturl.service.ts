import { randomInt } from 'node:crypto';
import type { Clock } from '../../kernel/clock.js';
import { invalid } from '../../kernel/errors.js';
import type { ShortUrlStore } from './shorturl.store.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 62^9 ≈ 1.3e16 ids: guessing a live one is hopeless, and collisions are rare enough to just retry. */
export const ID_LENGTH = 9;
const MAX_ATTEMPTS = 8;
export const MAX_URL_LENGTH = 4096;
/** What `GET /eus/{id}` accepts; anything else is not ours and answers 404 without a query. */
export const ID_PATTERN = /^[0-9A-Za-z]{1,32}$/;

export type ShortenOptions = {
  readonly validFrom?: number | undefined;
  readonly validTill?: number | undefined;
  readonly tenantId?: string | undefined;
  /** The user's uuid, or undefined for the system. */
  readonly actor?: string | undefined;
};

export function randomId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/** Whitespace or control characters: the URL parser would silently strip some of them. */
function hasSpaceOrControl(url: string): boolean {
  for (const char of url) if (char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f || /\s/.test(char)) return true;
  return false;
}

/**
 * Only absolute http(s) links: a short link must never lead to `javascript:`, `data:` or a file.
 * Answers the URL as the WHATWG parser serialises it: that form is what is checked, stored and
 * redirected to, so a client whose parser reads `http://host\\@evil` differently from a
 * browser's is never handed the text as typed.
 */
export function checkLongUrl(url: string): string {
  const refuse = () => invalid('URL_SHORTENING_INVALID_URL', 'Please enter a valid URL', ['url']);
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_URL_LENGTH || hasSpaceOrControl(url)) throw refuse();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse();
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') throw refuse();
  return parsed.href;
}

/** A URL prefix as configured: same origin, and the path equal to or below the prefix's path. */
function underPrefix(url: URL, prefix: string): boolean {
  const base = new URL(prefix);
  if (url.origin !== base.origin) return false;
  const path = base.pathname.replace(/\/+$/, '');
  return path === '' || url.pathname === path || url.pathname.startsWith(`${path}/`);
}

/**
 * Short links lead only into this deployment (PLINTH_PUBLIC_URL) or the places the operator
 * allowed (PLINTH_SHORTENER_ALLOWED_URLS): a link under the government's own domain must not
 * redirect a citizen to anyone's site, whoever asked for it.
 */
export function checkDestination(url: string, allowed: readonly string[]): void {
  const parsed = new URL(url);
  if (allowed.some((prefix) => underPrefix(parsed, prefix))) return;
  throw invalid('URL_SHORTENING_INVALID_URL', `Only links to ${allowed.join(', ')} can be shortened`, ['url']);
}

export function createShortUrlService(deps: { store: ShortUrlStore; clock: Clock; publicUrl: string; allowedUrls?: readonly string[]; newId?: () => string }) {
  const { store, clock, publicUrl } = deps;
  const newId = deps.newId ?? randomId;
  const destinations = [publicUrl, ...(deps.allowedUrls ?? [])];

  return {
    /** Stores the link and answers the short URL (`<PLINTH_PUBLIC_URL>/eus/<id>`); each call makes a new id, as DIGIT does. */
    async shorten(url: string, options: ShortenOptions = {}): Promise<string> {
      const canonical = checkLongUrl(url);
      checkDestination(canonical, destinations);
      const { validFrom, validTill } = options;
      for (const [name, value] of [['validFrom', validFrom], ['validTill', validTill]] as const) {
        if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) throw invalid('URL_SHORTENING_INVALID_DATE', `${name} must be epoch milliseconds`, [name]);
      }
      if (validFrom !== undefined && validTill !== undefined && validTill < validFrom)
        throw invalid('URL_SHORTENING_INVALID_DATE', 'validTill must not be before validFrom', ['validTill']);
      const now = clock.now();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const id = newId();
        const inserted = await store.insert({
          id,
          tenant_id: options.tenantId ?? null,
          url: canonical,
          valid_from: validFrom ?? null,
          valid_till: validTill ?? null,
          created_by: options.actor ?? null,
          created_time: now,
          last_modified_by: options.actor ?? null,
          last_modified_time: now,
        });
        if (inserted) return `${publicUrl}/eus/${id}`;
      }
      // Only reachable with a broken random source; say so rather than loop forever.
      throw new Error(`could not draw a free short-url id in ${MAX_ATTEMPTS} attempts`);
    },

    /** The long URL behind an id, or undefined when it is unknown, not yet valid or expired. */
    async resolve(id: string): Promise<string | undefined> {
      if (!ID_PATTERN.test(id)) return undefined;
      const row = await store.find(id);
      if (!row) return undefined;
      const now = clock.now();
      if (row.valid_from !== null && now < row.valid_from) return undefined;
      if (row.valid_till !== null && now > row.valid_till) return undefined;
      return row.url;
    },
  };
}

export type ShortUrlService = ReturnType<typeof createShortUrlService>;
