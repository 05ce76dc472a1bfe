import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/errors.js';
import { isCipherText, keyIdOf, tenantKeys, type KeyMaterial } from './encryption.keys.js';

function signingPair() {
  const pair = generateKeyPairSync('ed25519');
  return {
    privateKey: pair.privateKey.export({ format: 'der', type: 'pkcs8' }),
    publicKey: pair.publicKey.export({ format: 'der', type: 'spki' }),
  };
}

function material(tenantId: string, dataKeyIds: string[], indexKey = randomBytes(32)): KeyMaterial {
  return {
    tenantId,
    dataKeys: new Map(dataKeyIds.map((id) => [id, randomBytes(32)])),
    currentDataKeyId: dataKeyIds.at(-1)!,
    indexKey,
    signingKeys: new Map([[`${tenantId}:sign:1`, signingPair()]]),
    currentSigningKeyId: `${tenantId}:sign:1`,
  };
}

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof DomainError) {
      expect(error.kind).toBe('invalid');
      return error.code;
    }
    throw error;
  }
  return undefined;
}

const pb = tenantKeys(material('pb', ['pb:data:1']));

describe('sealing values', () => {
  it('round-trips any text, under the current key id, differently each time', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        const sealed = pb.encrypt(text);
        expect(sealed.startsWith('pb:data:1|')).toBe(true);
        expect(isCipherText(sealed)).toBe(true);
        expect(pb.decrypt(sealed)).toBe(text);
      }),
    );
    expect(pb.encrypt('Gurpreet Kaur')).not.toBe(pb.encrypt('Gurpreet Kaur'));
    expect(pb.decrypt(pb.encrypt(''))).toBe('');
  });

  it('refuses a ciphertext with any single character changed, with a 400-kind code', () => {
    const sealed = pb.encrypt('9876543210 / ਗੁਰਪ੍ਰੀਤ');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=|:';
    for (let i = 0; i < sealed.length; i++) {
      const other = alphabet[(alphabet.indexOf(sealed[i]!) + 7) % alphabet.length]!;
      const tampered = sealed.slice(0, i) + other + sealed.slice(i + 1);
      expect(['MALFORMED_CIPHERTEXT', 'UNKNOWN_KEY', 'DECRYPTION_FAILED'], `position ${i}`).toContain(codeOf(() => pb.decrypt(tampered)));
    }
    // Dropping or adding bytes, too.
    expect(codeOf(() => pb.decrypt(sealed.slice(0, -4)))).toBe('DECRYPTION_FAILED');
    const longer = Buffer.concat([Buffer.from(sealed.split('|')[1]!, 'base64'), Buffer.alloc(3)]).toString('base64');
    expect(codeOf(() => pb.decrypt(`pb:data:1|${longer}`))).toBe('DECRYPTION_FAILED');
  });

  it('accepts one spelling of a ciphertext only (canonical base64), so it cannot be varied and still open', () => {
    const sealed = pb.encrypt('x'.repeat(40)); // 12 + 40 + 16 = 68 bytes: the character before "=" carries 2 unused bits
    expect(sealed).toMatch(/[^=]=$/);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const variant = `${sealed.slice(0, -2)}${alphabet[alphabet.indexOf(sealed.at(-2)!) ^ 1]}=`;
    expect(Buffer.from(variant.split('|')[1]!, 'base64')).toEqual(Buffer.from(sealed.split('|')[1]!, 'base64'));
    expect(codeOf(() => pb.decrypt(variant))).toBe('MALFORMED_CIPHERTEXT');
  });

  it('names what is wrong: malformed text, an unknown key, a value that does not authenticate', () => {
    for (const bad of ['', 'plain text', '|AAAA', 'pb:data:1|', 'pb:data:1|not base64!', 'pb:data:1|AAAA', 'a|b|c', 'pb:data:1|QUFBQQ']) {
      expect(
        codeOf(() => pb.decrypt(bad)),
        bad,
      ).toBe('MALFORMED_CIPHERTEXT');
    }
    const mz = tenantKeys(material('mz', ['mz:data:1']));
    expect(codeOf(() => mz.decrypt(pb.encrypt('x')))).toBe('UNKNOWN_KEY');
    // Same key id, another key (a restored database with regenerated keys): authentication fails.
    const impostor = tenantKeys(material('pb', ['pb:data:1']));
    expect(codeOf(() => impostor.decrypt(pb.encrypt('x')))).toBe('DECRYPTION_FAILED');
  });

  it('binds a ciphertext to its key id: relabelling it under another key of the tenant fails', () => {
    const two = tenantKeys({ ...material('pb', ['pb:data:1', 'pb:data:2']) });
    const sealed = two.encrypt('x');
    expect(codeOf(() => two.decrypt(sealed.replace('pb:data:2|', 'pb:data:1|')))).toBe('DECRYPTION_FAILED');
  });

  it('tells current ciphertexts from old ones', () => {
    const m = material('pb', ['pb:data:1']);
    const before = tenantKeys(m);
    const old = before.encrypt('x');
    const after = tenantKeys({ ...m, dataKeys: new Map([...m.dataKeys, ['pb:data:2', randomBytes(32)]]), currentDataKeyId: 'pb:data:2' });
    expect(after.isCurrent(old)).toBe(false);
    expect(after.isCurrent(after.encrypt('x'))).toBe(true);
    expect(after.decrypt(old)).toBe('x');
    expect(before.isCurrent(old)).toBe(true);
  });

  it('recognises the ciphertext shape and reads its key id', () => {
    expect(isCipherText(pb.encrypt('x'))).toBe(true);
    expect(isCipherText('1|' + Buffer.alloc(30).toString('base64'))).toBe(true);
    for (const value of [null, 42, '', 'abc', 'pb:data:1|', 'pb data|AAAA', 'x|!!!!'])
      expect(isCipherText(value), String(value)).toBe(false);
    expect(keyIdOf(pb.encrypt('x'))).toBe('pb:data:1');
    expect(keyIdOf('nope')).toBeUndefined();
  });
});

describe('blind indexes and derived keys', () => {
  it('are deterministic, differ per purpose, and survive a data-key rotation', () => {
    const m = material('pb', ['pb:data:1']);
    const a = tenantKeys(m);
    const rotated = tenantKeys({ ...m, dataKeys: new Map([...m.dataKeys, ['pb:data:2', randomBytes(32)]]), currentDataKeyId: 'pb:data:2' });
    expect(a.blindIndex('mobileNumber', '9876543210')).toBe(a.blindIndex('mobileNumber', '9876543210'));
    expect(a.blindIndex('mobileNumber', '9876543210')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.blindIndex('mobileNumber', '9876543210')).not.toBe(a.blindIndex('identifier', '9876543210'));
    expect(a.blindIndex('mobileNumber', '9876543210')).not.toBe(a.blindIndex('mobileNumber', '9876543211'));
    expect(rotated.blindIndex('mobileNumber', '9876543210')).toBe(a.blindIndex('mobileNumber', '9876543210'));
    expect(Buffer.from(rotated.derivedKey('dedup:program-1'))).toEqual(Buffer.from(a.derivedKey('dedup:program-1')));
    expect(a.derivedKey('dedup:program-1')).toHaveLength(32);
    expect(Buffer.from(a.derivedKey('dedup:program-1'))).not.toEqual(Buffer.from(a.derivedKey('dedup:program-2')));
  });

  it('differ between tenants, and a caller cannot change the next caller’s derived key', () => {
    const other = tenantKeys(material('mz', ['mz:data:1']));
    expect(other.blindIndex('mobileNumber', '1')).not.toBe(pb.blindIndex('mobileNumber', '1'));
    const key = pb.derivedKey('p');
    key.fill(0);
    expect(pb.derivedKey('p').some((byte) => byte !== 0)).toBe(true);
  });

  it('keep purpose and value apart: no purpose may hold the separator', () => {
    expect(codeOf(() => pb.blindIndex('a\u0000b', 'c'))).toBe('INVALID_PURPOSE');
    expect(pb.blindIndex('ab', 'c')).not.toBe(pb.blindIndex('a', 'bc'));
  });
});

describe('signatures', () => {
  it('verify under the key they name, and fail for another value, another tenant or a changed signature', () => {
    const signature = pb.sign('{"amount":100}');
    expect(signature.startsWith('pb:sign:1|')).toBe(true);
    expect(pb.verify('{"amount":100}', signature)).toBe(true);
    expect(pb.verify('{"amount":101}', signature)).toBe(false);
    expect(tenantKeys(material('mz', ['mz:data:1'])).verify('{"amount":100}', signature)).toBe(false);
    const bytes = Buffer.from(signature.split('|')[1]!, 'base64');
    bytes[0] = bytes[0]! ^ 1;
    expect(pb.verify('{"amount":100}', `pb:sign:1|${bytes.toString('base64')}`)).toBe(false);
    expect(pb.verify('x', 'garbage')).toBe(false);
  });
});
