import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BlobIntegrityError, CHUNK_BYTES, isSealed, openBlob, sealBlob, sealedLength } from './filestore.cipher.js';

const key = randomBytes(32);
const stored = (plaintext: Buffer, name = 'f1', chunk = 1024) => Buffer.concat([...sealBlob(key, name, plaintext, chunk).chunks()]);
/** The stored bytes as a store streams them: in reads of `size` bytes. */
const streamOf = (bytes: Buffer, size = 777) =>
  Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
const open = async (bytes: Buffer, name = 'f1', mustBeSealed = true) => readAll(await openBlob(streamOf(bytes), name, key, mustBeSealed));

describe('files sealed in chunks', () => {
  it('round-trip at every size around the chunk boundaries, the stored length known in advance', async () => {
    for (const size of [0, 1, 1023, 1024, 1025, 2048, 5000]) {
      const plaintext = randomBytes(size);
      const bytes = stored(plaintext);
      expect(bytes.length).toBe(sealedLength(size, 1024));
      expect(isSealed(bytes)).toBe(true);
      expect(await open(bytes)).toEqual(plaintext);
    }
    const body = sealBlob(key, 'f1', randomBytes(3 * CHUNK_BYTES + 5));
    // The same bytes each time the body is read (S3 reads it for its checksum, then sends it).
    expect(Buffer.concat([...body.chunks()])).toEqual(Buffer.concat([...body.chunks()]));
    expect(Buffer.concat([...body.chunks()]).length).toBe(body.length);
  });

  it('hold no plaintext: a marker in the file is not in the stored bytes', () => {
    const marker = `MARKER-${randomBytes(8).toString('hex')}`;
    const bytes = stored(Buffer.from(`%PDF-1.4 ${marker} ${marker}`));
    expect(bytes.includes(Buffer.from(marker))).toBe(false);
  });

  it('refuse any change before the answer starts: a flipped byte, a cut, a swapped or dropped chunk, another name or key', async () => {
    const plaintext = randomBytes(3000);
    const bytes = stored(plaintext);
    const refusals: Array<[string, () => Promise<unknown>]> = [];
    const flipped = Buffer.from(bytes);
    flipped[40] = flipped[40]! ^ 1;
    refusals.push(['flipped', () => open(flipped)]);
    // Chunks of 1024 + 16 after a 19-byte header.
    const [h, c0, c1, c2] = [bytes.subarray(0, 19), bytes.subarray(19, 1059), bytes.subarray(1059, 2099), bytes.subarray(2099)];
    refusals.push(['swapped', () => open(Buffer.concat([h, c1, c0, c2]))]);
    refusals.push(['cut after a whole chunk', () => open(Buffer.concat([h, c0, c1]))]);
    refusals.push(['cut inside a chunk', () => open(bytes.subarray(0, bytes.length - 5))]);
    refusals.push(['another name', () => open(bytes, 'f2')]);
    refusals.push(['another key', async () => readAll(await openBlob(streamOf(bytes), 'f1', randomBytes(32), true))]);
    refusals.push(['header only', () => open(h)]);
    const broken = Buffer.from(bytes);
    broken[0] = 0x25; // the magic changed: no longer looks sealed, but the file is recorded as sealed
    refusals.push(['magic', () => open(broken)]);
    for (const [what, result] of refusals) await expect(result(), what).rejects.toBeInstanceOf(BlobIntegrityError);
  });

  it('refuse damage in a later chunk by ending the stream with an error, after the good chunks', async () => {
    const bytes = stored(randomBytes(5000));
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 3] = damaged[damaged.length - 3]! ^ 0xff;
    const stream = await openBlob(streamOf(damaged), 'f1', key, true);
    await expect(readAll(stream)).rejects.toBeInstanceOf(BlobIntegrityError);
  });

  it('read a file stored before encryption as it is, unless it is recorded as sealed', async () => {
    const legacy = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(4000)]);
    expect(await open(legacy, 'f1', false)).toEqual(legacy);
    expect(await readAll(await openBlob(streamOf(legacy), 'f1', undefined, false))).toEqual(legacy);
    expect(await readAll(await openBlob(streamOf(Buffer.from('%P')), 'f1', undefined, false))).toEqual(Buffer.from('%P'));
    await expect(open(legacy, 'f1', true)).rejects.toBeInstanceOf(BlobIntegrityError);
    // Sealed, but no key recorded: refused, never answered as ciphertext.
    await expect(openBlob(streamOf(stored(legacy)), 'f1', undefined, false)).rejects.toBeInstanceOf(BlobIntegrityError);
  });
});
