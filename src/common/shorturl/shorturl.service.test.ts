import { describe, expect, it } from 'vitest';
import { checkLongUrl, createShortUrlService, ID_LENGTH, randomId } from './shorturl.service.js';
import type { ShortUrlRow, ShortUrlStore } from './shorturl.store.js';

function memoryStore(): ShortUrlStore & { rows: Map<string, ShortUrlRow> } {
  const rows = new Map<string, ShortUrlRow>();
  return {
    rows,
    find: async (id) => rows.get(id),
    insert: async (row) => {
      if (rows.has(row.id)) return false;
      rows.set(row.id, row);
      return true;
    },
  };
}

describe('short url service', () => {
  it('draws random base62 ids of fixed length that differ between calls', () => {
    const ids = new Set(Array.from({ length: 200 }, randomId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(new RegExp(`^[0-9A-Za-z]{${ID_LENGTH}}$`));
  });

  it('accepts only absolute http(s) URLs', () => {
    expect(checkLongUrl('https://example.org/a?b=1')).toBe('https://example.org/a?b=1');
    expect(checkLongUrl('http://localhost:8080/citizen')).toBe('http://localhost:8080/citizen');
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'ftp://x.org', '/relative', 'example.org', '', 'https://exa mple.org', 'http://', `https://x.org/${'a'.repeat(5000)}`]) {
      expect(() => checkLongUrl(bad), bad).toThrow(/valid URL/);
    }
  });

  it('retries on an id collision and answers the link under the public URL', async () => {
    const store = memoryStore();
    const drawn = ['AAAAAAAAA', 'AAAAAAAAA', 'BBBBBBBBB'];
    const service = createShortUrlService({ store, clock: { now: () => 1000 }, publicUrl: 'https://pb.gov.in', allowedUrls: ['https://example.org'], newId: () => drawn.shift()! });
    expect(await service.shorten('https://example.org/one')).toBe('https://pb.gov.in/eus/AAAAAAAAA');
    expect(await service.shorten('https://example.org/two')).toBe('https://pb.gov.in/eus/BBBBBBBBB');
    expect(store.rows.get('AAAAAAAAA')?.url).toBe('https://example.org/one');
    expect(await service.resolve('BBBBBBBBB')).toBe('https://example.org/two');
  });

  it('shortens only links under the public URL or an allowed prefix', async () => {
    const service = createShortUrlService({ store: memoryStore(), clock: { now: () => 1000 }, publicUrl: 'https://services.pb.gov.in', allowedUrls: ['https://pb.gov.in/forms'] });
    for (const ok of ['https://services.pb.gov.in/citizen/x?y=1', 'https://services.pb.gov.in', 'https://pb.gov.in/forms', 'https://pb.gov.in/forms/birth#top']) {
      await expect(service.shorten(ok), ok).resolves.toMatch(/^https:\/\/services\.pb\.gov\.in\/eus\//);
    }
    for (const bad of [
      'https://evil.example/phish',
      'http://services.pb.gov.in/citizen',
      'https://services.pb.gov.in.evil.example/x',
      'https://services.pb.gov.in:8443/x',
      'https://pb.gov.in/formsx',
      'https://pb.gov.in/',
      'https://evil.example/https://services.pb.gov.in',
      'https://services.pb.gov.in@evil.example/',
    ]) {
      await expect(service.shorten(bad), bad).rejects.toMatchObject({ code: 'URL_SHORTENING_INVALID_URL' });
    }
  });

  it('stores and redirects to the URL as a browser parses it, not as typed (a backslash is a slash there)', async () => {
    const store = memoryStore();
    const service = createShortUrlService({ store, clock: { now: () => 1000 }, publicUrl: 'http://localhost:8080', newId: () => 'CCCCCCCCC' });
    // Python's urlsplit reads evil.example.com as the host of the text as typed; WHATWG reads localhost.
    await service.shorten('http://localhost:8080\\@evil.example.com');
    expect(store.rows.get('CCCCCCCCC')?.url).toBe('http://localhost:8080/@evil.example.com');
    expect(await service.resolve('CCCCCCCCC')).toBe('http://localhost:8080/@evil.example.com');
  });

  it('gives the same long URL a new id each time, as DIGIT does', async () => {
    const service = createShortUrlService({ store: memoryStore(), clock: { now: () => 1000 }, publicUrl: 'http://h', allowedUrls: ['https://example.org'] });
    const a = await service.shorten('https://example.org/x');
    const b = await service.shorten('https://example.org/x');
    expect(a).not.toBe(b);
  });

  it('resolves only inside the validity window', async () => {
    let now = 1000;
    const service = createShortUrlService({ store: memoryStore(), clock: { now: () => now }, publicUrl: 'http://h', allowedUrls: ['https://example.org'], newId: () => 'WINDOW123' });
    await service.shorten('https://example.org/w', { validFrom: 2000, validTill: 3000 });
    expect(await service.resolve('WINDOW123')).toBeUndefined();
    now = 2500;
    expect(await service.resolve('WINDOW123')).toBe('https://example.org/w');
    now = 3001;
    expect(await service.resolve('WINDOW123')).toBeUndefined();
  });

  it('refuses a window that ends before it starts and ignores malformed ids', async () => {
    const service = createShortUrlService({ store: memoryStore(), clock: { now: () => 1000 }, publicUrl: 'http://h', allowedUrls: ['https://example.org'] });
    await expect(service.shorten('https://example.org', { validFrom: 5, validTill: 4 })).rejects.toThrow(/validTill/);
    expect(await service.resolve('../etc')).toBeUndefined();
    expect(await service.resolve('nope')).toBeUndefined();
  });
});
