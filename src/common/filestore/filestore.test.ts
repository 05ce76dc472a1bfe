import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkFileType, detectKind } from './filestore.detect.js';
import { checkLink, signLink } from './filestore.signing.js';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]);
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]);
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([1, 2, 3, 4]), Buffer.from('WEBPVP8 ')]);
const PDF = Buffer.from('%PDF-1.4\n%âãÏÓ\n');
const EXE = Buffer.concat([Buffer.from('MZ'), randomBytes(64)]);
const TEXT = Buffer.from('just some text, not a photo');
const ALL = ['jpeg', 'png', 'webp', 'pdf'] as const;

describe('detectKind', () => {
  it('names each allowed type from its magic number', () => {
    expect([JPEG, PNG, WEBP, PDF].map(detectKind)).toEqual(['jpeg', 'png', 'webp', 'pdf']);
  });
  it('knows nothing else: executables, text, empty, RIFF that is not WEBP, truncated signatures', () => {
    for (const bytes of [EXE, TEXT, Buffer.alloc(0), Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVE')]), PNG.subarray(0, 5)]) {
      expect(detectKind(bytes)).toBeUndefined();
    }
  });
});

describe('checkFileType', () => {
  it('accepts a file whose name and declared type agree with its bytes', () => {
    expect(checkFileType(JPEG, 'photo.JPG', 'image/jpeg', ALL)).toEqual({ ok: true, kind: 'jpeg', contentType: 'image/jpeg' });
    expect(checkFileType(PNG, 'a.png', 'application/octet-stream', ALL)).toMatchObject({ ok: true, contentType: 'image/png' });
    expect(checkFileType(PDF, 'scan.pdf', undefined, ALL)).toMatchObject({ ok: true, contentType: 'application/pdf' });
    expect(checkFileType(WEBP, 'x.webp', 'image/webp', ALL)).toMatchObject({ ok: true });
  });
  it('refuses an executable or text named .jpg', () => {
    expect(checkFileType(EXE, 'photo.jpg', 'image/jpeg', ALL).ok).toBe(false);
    expect(checkFileType(TEXT, 'photo.jpg', 'image/jpeg', ALL).ok).toBe(false);
  });
  it('refuses a real file under the wrong name or declared type', () => {
    expect(checkFileType(PDF, 'photo.png', 'application/pdf', ALL).ok).toBe(false);
    expect(checkFileType(JPEG, 'photo', 'image/jpeg', ALL).ok).toBe(false);
    expect(checkFileType(JPEG, 'photo.jpg', 'image/png', ALL).ok).toBe(false);
    expect(checkFileType(JPEG, 'photo.jpg', 'text/html', ALL).ok).toBe(false);
  });
  it('refuses a type the deployment does not allow', () => {
    expect(checkFileType(PDF, 'scan.pdf', 'application/pdf', ['jpeg', 'png']).ok).toBe(false);
  });
});

describe('signed links', () => {
  const key = randomBytes(32);
  const expires = 1_700_000_900_000;
  const signature = signLink(key, 'abc', expires);

  it('verifies until the expiry, and is expired after it', () => {
    expect(checkLink(key, 'abc', expires, signature, expires - 1)).toBe('valid');
    expect(checkLink(key, 'abc', expires, signature, expires)).toBe('valid');
    expect(checkLink(key, 'abc', expires, signature, expires + 1)).toBe('expired');
  });
  it('is tampered when the name, the expiry, the signature or the key changes', () => {
    expect(checkLink(key, 'abd', expires, signature, 0)).toBe('tampered');
    expect(checkLink(key, 'abc', expires + 60_000, signature, 0)).toBe('tampered');
    expect(checkLink(key, 'abc', expires, signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A'), 0)).toBe('tampered');
    expect(checkLink(key, 'abc', expires, 'short', 0)).toBe('tampered');
    expect(checkLink(randomBytes(32), 'abc', expires, signature, 0)).toBe('tampered');
  });
});
