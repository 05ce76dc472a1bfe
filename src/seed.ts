import fs from 'node:fs/promises';
import path from 'node:path';
import { DomainError, type ErrorDetail } from './kernel/errors.js';
import type { SeedFile } from './kernel/module.js';

/** A seed directory: one folder per module (`mdms/`, `localization/`, …), JSON files inside. */
export type SeedFiles = ReadonlyMap<string, SeedFile[]>;

async function jsonFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
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
  let folders: string[];
  try {
    folders = (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    throw new DomainError('invalid', { code: 'SEED_DIR_NOT_FOUND', message: `seed directory ${dir} does not exist` });
  }
  const errors: ErrorDetail[] = [];
  const byModule = new Map<string, SeedFile[]>();
  for (const folder of folders.sort()) {
    const files: SeedFile[] = [];
    for (const file of await jsonFiles(path.join(dir, folder))) {
      const name = path.relative(dir, file);
      try {
        files.push({ file: name, content: JSON.parse(await fs.readFile(file, 'utf8')) as unknown });
      } catch (error) {
        errors.push({ code: 'INVALID_SEED_FILE', message: `${name}: not valid JSON (${(error as Error).message})`, params: [name] });
      }
    }
    byModule.set(folder, files);
  }
  if (errors.length > 0) throw new DomainError('invalid', errors);
  return byModule;
}
