import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobBody } from './filestore.cipher.js';

/**
 * Where file bytes live: the local disk (below) or an S3-compatible bucket (filestore.s3.ts).
 * Both promise the same: `put` makes a key visible only once all its bytes are stored, `read`
 * streams and fails for a missing key, `remove` of a missing key succeeds.
 */
export type BlobStore = {
  /** A Buffer, or bytes made chunk by chunk (a sealed file: never whole in memory). */
  put(key: string, body: Buffer | BlobBody): Promise<void>;
  read(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  remove(key: string): Promise<void>;
  /** Releases connections when the module stops. */
  close?(): void;
};

/** Keys are `<tenant>/<yyyy>/<mm>/<id>[_variant]`, relative to `root` (DATA_DIR/files). */
export function diskBlobStore(root: string): BlobStore {
  const resolve = (key: string) => {
    const full = path.resolve(root, key);
    // Keys are built by the service from checked parts; this guards against a bug, not input.
    if (!full.startsWith(path.resolve(root) + path.sep)) throw new Error(`blob key outside the store: ${key}`);
    return full;
  };
  return {
    async put(key, body) {
      const target = resolve(key);
      await fs.mkdir(path.dirname(target), { recursive: true });
      // Written under a temporary name and renamed: a reader never sees half a file.
      const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
      const handle = await fs.open(temp, 'wx');
      try {
        for (const chunk of Buffer.isBuffer(body) ? [body] : body.chunks()) await handle.write(chunk);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await fs.rename(temp, target);
      } catch (error) {
        await fs.rm(temp, { force: true });
        throw error;
      }
    },
    async read(key) {
      const file = resolve(key);
      await fs.access(file);
      return createReadStream(file);
    },
    async exists(key) {
      try {
        await fs.access(resolve(key));
        return true;
      } catch {
        return false;
      }
    },
    async remove(key) {
      await fs.rm(resolve(key), { force: true });
    },
  };
}
