import fs from 'node:fs';
import path from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import { ConfigError } from './config.js';

/** Where the master key came from, to name the right variable when it is wrong. */
export type MasterKey = {
  readonly key: Buffer;
  readonly variable: 'PLINTH_MASTER_KEY' | 'PLINTH_MASTER_KEY_FILE';
  /** The file it was read from; undefined when it came from the environment. */
  readonly file: string | undefined;
  /** True when this process generated the file just now. */
  readonly created: boolean;
};

export type MasterKeySettings = { masterKey: string | undefined; masterKeyFile: string | undefined; dataDir: string };

export const DEFAULT_MASTER_KEY_FILE = 'master.key';

function decode(text: string, variable: MasterKey['variable'], where: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new ConfigError(variable, `${where} must hold 32 random bytes in base64 (for example: openssl rand -base64 32)`);
  }
  return key;
}

/**
 * Creates `file` with a new random key unless it exists, atomically: the key is written to a
 * private temporary file that is then hard-linked into place, which fails if the name is taken. So
 * two processes starting together end up reading the same complete key, never a half-written one.
 */
function createKeyFile(file: string): boolean {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    fs.linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * PLINTH_MASTER_KEY, else the file PLINTH_MASTER_KEY_FILE, else `<dataDir>/master.key`, created
 * (mode 0600) on first use. The file named by PLINTH_MASTER_KEY_FILE is never created: a missing
 * key there is an operator's mistake, and a new key would make existing data unreadable.
 */
export function loadMasterKey(settings: MasterKeySettings): MasterKey {
  if (settings.masterKey !== undefined) {
    return {
      key: decode(settings.masterKey, 'PLINTH_MASTER_KEY', 'the value'),
      variable: 'PLINTH_MASTER_KEY',
      file: undefined,
      created: false,
    };
  }
  const named = settings.masterKeyFile !== undefined;
  const file = settings.masterKeyFile ?? path.join(settings.dataDir, DEFAULT_MASTER_KEY_FILE);
  const created = named ? false : createKeyFile(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('PLINTH_MASTER_KEY_FILE', `cannot read the master key file ${file}: ${(error as Error).message}`);
  }
  return { key: decode(text, 'PLINTH_MASTER_KEY_FILE', `the file ${file}`), variable: 'PLINTH_MASTER_KEY_FILE', file, created };
}

/** True when a file's permissions let anyone but its owner read it. */
export function readableByOthers(file: string): boolean {
  return (fs.statSync(file).mode & 0o077) !== 0;
}

/** A value that identifies the master key without revealing it: HMAC-SHA256 of a constant under the key. */
export function checkValue(key: Buffer): string {
  return createHmac('sha256', key).update('plinth master key check v1', 'utf8').digest('base64');
}
