import fs from 'node:fs/promises';
import path from 'node:path';
import { DomainError, type ErrorDetail } from './kernel/errors.js';
import type { MasterFile } from './common/mdms/index.js';

export type SeedFiles = { mdms: MasterFile[] };

async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/**
 * Reads a seed directory (see seed/README.md). Files that are not JSON are refused together,
 * each named, before anything is loaded.
 */
export async function readSeedDir(dir: string): Promise<SeedFiles> {
  try {
    await fs.access(dir);
  } catch {
    throw new DomainError('invalid', { code: 'SEED_DIR_NOT_FOUND', message: `seed directory ${dir} does not exist` });
  }
  const errors: ErrorDetail[] = [];
  const mdms: MasterFile[] = [];
  for (const file of await jsonFiles(path.join(dir, 'mdms'))) {
    const name = path.relative(dir, file);
    try {
      mdms.push({ file: name, content: JSON.parse(await fs.readFile(file, 'utf8')) as unknown });
    } catch (error) {
      errors.push({ code: 'INVALID_SEED_FILE', message: `${name}: not valid JSON (${(error as Error).message})`, params: [name] });
    }
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);
  return { mdms };
}
