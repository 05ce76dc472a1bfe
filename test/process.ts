import { spawn, type ChildProcess } from 'node:child_process';
import type { TestDatabase } from './helpers.js';

// The fast tier runs no child process (vitest.config.ts): a file that imports this belongs in a
// *.processes.test.ts file, which the fast tier leaves out.
if (process.env['PLINTH_TEST_TIER'] === 'fast') {
  throw new Error('test/process.ts starts child processes: the test file importing it must be named *.processes.test.ts (README, "Tests")');
}

/** A `plinth` command running in a child process, as `npm start` runs it (compiled dist/). */
export type PlinthProcess = {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
};

export function runPlinth(args: string[], env: Record<string, string>): PlinthProcess {
  const child = spawn(process.execPath, ['bin/plinth.js', ...args], {
    env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': by then the output has been read to its end.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Waits for Fastify's "Server listening" line and answers the port. */
export async function listeningPort(run: PlinthProcess): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(run.output());
    if (match) return Number(match[1]);
    if (run.child.exitCode !== null) throw new Error(`plinth exited early:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`plinth did not start:\n${run.output()}`);
}

export type CallResult = { status: number; body: Record<string, unknown> };

/** A JSON POST (or GET without a body) to a child process's port. */
export async function call(port: number, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<CallResult> {
  const response = await fetch(`http://127.0.0.1:${port}${url}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The environment that points a child process at a test database. */
export function processEnv(db: TestDatabase): Record<string, string> {
  return {
    PORT: '0',
    DATA_DIR: db.config.dataDir,
    PLINTH_SEED_DIR: db.config.seedDir,
    ...(db.config.adminPassword ? { PLINTH_ADMIN_PASSWORD: db.config.adminPassword } : {}),
    ...(db.config.databaseUrl ? { DATABASE_URL: db.config.databaseUrl } : {}),
  };
}
