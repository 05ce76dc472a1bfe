import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/**
 * Files at rest: AES-256-GCM in chunks under the file's own data key, so that neither sealing nor
 * opening holds a whole file and a download starts before the last byte is read (the STREAM
 * construction of Hoang, Reyhanitabar, Rogaway and Vizár, as in Tink's streaming AEAD).
 *
 *   header  = "PLNTHFS" ‖ version (1) ‖ chunk size (uint32 BE) ‖ nonce prefix (7 random bytes)
 *   chunk i = AES-256-GCM(data key, nonce = prefix ‖ i (uint32 BE) ‖ last ? 1 : 0,
 *                         aad = header ‖ blob name) ‖ tag (16)
 *
 * The counter stops chunks from being reordered, the last-chunk flag stops truncation (and
 * appending), and the blob name (`<file id>[_variant]`) in the AAD stops a blob from being read
 * as another file's or another thumbnail. Files written before carry no header and are read as
 * they are until the sealing pass encrypts them.
 */

const MAGIC = Buffer.from('PLNTHFS', 'ascii');
const VERSION = 1;
const PREFIX_BYTES = 7;
const HEADER_BYTES = MAGIC.length + 1 + 4 + PREFIX_BYTES;
const TAG_BYTES = 16;
export const CHUNK_BYTES = 64 * 1024;
/** Chunk sizes a header may declare (a larger one would make a reader buffer that much). */
const MIN_CHUNK = 1024;
const MAX_CHUNK = 4 * 1024 * 1024;

/** Bytes made on demand, chunk by chunk; `chunks()` yields the same bytes on every call. */
export type BlobBody = { readonly length: number; chunks(): Iterable<Buffer> };

/** A blob that does not open: altered or damaged in storage, or under another key. Not the caller's fault (500). */
export class BlobIntegrityError extends Error {}

const refused = (name: string, why: string) => new BlobIntegrityError(`filestore: the stored file ${name} ${why}`);

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const out = Buffer.alloc(12);
  prefix.copy(out, 0);
  out.writeUInt32BE(index, PREFIX_BYTES);
  out[11] = last ? 1 : 0;
  return out;
}

export function isSealed(bytes: Buffer): boolean {
  return bytes.length >= MAGIC.length && bytes.subarray(0, MAGIC.length).equals(MAGIC);
}

/** The stored size of `plaintextBytes` sealed in chunks of `chunkBytes`. */
export function sealedLength(plaintextBytes: number, chunkBytes = CHUNK_BYTES): number {
  return HEADER_BYTES + plaintextBytes + TAG_BYTES * Math.max(1, Math.ceil(plaintextBytes / chunkBytes));
}

/** `plaintext` sealed under `key` as blob `name`, chunk by chunk as it is written. */
export function sealBlob(key: Buffer, name: string, plaintext: Buffer, chunkBytes = CHUNK_BYTES): BlobBody {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[MAGIC.length] = VERSION;
  header.writeUInt32BE(chunkBytes, MAGIC.length + 1);
  const prefix = randomBytes(PREFIX_BYTES);
  prefix.copy(header, MAGIC.length + 5);
  const aad = Buffer.concat([header, Buffer.from(name, 'utf8')]);
  const count = Math.max(1, Math.ceil(plaintext.length / chunkBytes));
  return {
    length: sealedLength(plaintext.length, chunkBytes),
    *chunks() {
      yield header;
      for (let i = 0; i < count; i++) {
        const cipher = createCipheriv('aes-256-gcm', key, nonce(prefix, i, i === count - 1), { authTagLength: TAG_BYTES });
        cipher.setAAD(aad);
        const part = plaintext.subarray(i * chunkBytes, Math.min(plaintext.length, (i + 1) * chunkBytes));
        yield Buffer.concat([cipher.update(part), cipher.final(), cipher.getAuthTag()]);
      }
    },
  };
}

/** Reads `source` into a buffer of at least `bytes` bytes (fewer at its end). */
type Reader = { pending: Buffer; ended: boolean; fill(bytes: number): Promise<void>; take(bytes: number): Buffer };

function reader(source: Readable): Reader {
  const input = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const state: Reader = {
    pending: Buffer.alloc(0),
    ended: false,
    async fill(bytes) {
      while (!state.ended && state.pending.length < bytes) {
        const next = await input.next();
        if (next.done) state.ended = true;
        else state.pending = state.pending.length === 0 ? next.value : Buffer.concat([state.pending, next.value]);
      }
    },
    take(bytes) {
      const out = state.pending.subarray(0, bytes);
      state.pending = state.pending.subarray(bytes);
      return out;
    },
  };
  return state;
}

async function* plaintextOf(source: Readable, name: string, key: Buffer | undefined, mustBeSealed: boolean): AsyncGenerator<Buffer> {
  const input = reader(source);
  try {
    await input.fill(HEADER_BYTES);
    if (!isSealed(input.pending)) {
      // Written before files were encrypted (and not sealed yet): as it is. A sealed file never comes back to this.
      if (mustBeSealed) throw refused(name, 'is not encrypted although it was stored encrypted');
      for (;;) {
        if (input.pending.length > 0) yield input.take(input.pending.length);
        if (input.ended) return;
        await input.fill(1);
      }
    }
    if (!key) throw refused(name, 'is encrypted but its key is missing');
    if (input.pending.length < HEADER_BYTES || input.pending[MAGIC.length] !== VERSION) throw refused(name, 'has an unknown format');
    const header = Buffer.from(input.take(HEADER_BYTES));
    const chunkBytes = header.readUInt32BE(MAGIC.length + 1);
    if (chunkBytes < MIN_CHUNK || chunkBytes > MAX_CHUNK) throw refused(name, 'has an unknown format');
    const prefix = header.subarray(MAGIC.length + 5);
    const aad = Buffer.concat([header, Buffer.from(name, 'utf8')]);
    const sealedChunk = chunkBytes + TAG_BYTES;
    for (let index = 0; ; index++) {
      // One byte more than a chunk: whether anything follows tells whether this chunk is the last.
      await input.fill(sealedChunk + 1);
      const last = input.pending.length <= sealedChunk;
      const part = input.take(last ? input.pending.length : sealedChunk);
      if (part.length < TAG_BYTES) throw refused(name, 'is cut short');
      const decipher = createDecipheriv('aes-256-gcm', key, nonce(prefix, index, last), { authTagLength: TAG_BYTES });
      decipher.setAAD(aad);
      decipher.setAuthTag(part.subarray(part.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(part.subarray(0, part.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw refused(name, 'does not authenticate: it was altered, cut or belongs elsewhere');
      }
      if (plain.length > 0) yield plain;
      if (last) return;
    }
  } finally {
    source.destroy();
  }
}

/**
 * The plaintext of a stored blob, as a stream. The header and the first chunk are read and
 * authenticated before this resolves, so a damaged file is refused before an answer starts (a
 * BlobIntegrityError); damage further in ends the stream with that error. `mustBeSealed`: the
 * file is recorded as encrypted, so a blob without the header is refused, not served as it is.
 */
export async function openBlob(source: Readable, name: string, key: Buffer | undefined, mustBeSealed: boolean): Promise<Readable> {
  const plaintext = plaintextOf(source, name, key, mustBeSealed);
  const first = await plaintext.next();
  const stream = Readable.from(
    (async function* () {
      if (first.done) return;
      yield first.value;
      yield* plaintext;
    })(),
    { objectMode: false },
  );
  // An answer abandoned before its first byte still closes the stored file.
  stream.once('close', () => void plaintext.return(undefined));
  return stream;
}
