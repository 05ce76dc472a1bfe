import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 over the blob name and the expiry, so neither can be changed without the key. */
export function signLink(key: Buffer, name: string, expires: number): string {
  return createHmac('sha256', key).update(`${name}\n${expires}`).digest('base64url');
}

export type LinkCheck = 'valid' | 'expired' | 'tampered';

export function checkLink(key: Buffer, name: string, expires: number, signature: string, now: number): LinkCheck {
  const expected = Buffer.from(signLink(key, name, expires));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'tampered';
  return expires < now ? 'expired' : 'valid';
}
