import type { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../kernel/config.js';
import { connectDatabase, DatabaseOpenError, redactUrl } from '../kernel/db.js';
import { systemClock } from '../kernel/clock.js';
import { createEventAdmin, eventMigrations, type EventAdmin, type OutboxStatus } from '../kernel/events.js';
import { migrate } from '../kernel/migrator.js';
import type { SeededLogin } from '../kernel/module.js';
import { DomainError } from '../kernel/errors.js';
import { MigrationError } from '../kernel/migrator.js';
import { ModuleListError } from '../kernel/module.registry.js';
import { createPlatform } from '../platform.js';
import { newModule, NewModuleError } from './new-module.js';
import { formatVerifyReport } from '../common/audit/index.js';

const USAGE = `Usage: plinth <command>

Commands:
  start [--role api|worker|all]   run the platform (HTTP API and background workers)
  migrate                         apply pending database migrations and exit
  seed <dir>                      load a seed directory (e.g. seed/) idempotently
  audit verify [tenantId]         check the audit log's hash chain; names the first broken entry
  keys rotate <tenantId>          new current data and signing keys for a state tenant; old ones keep
                                  decrypting; a worker re-encrypts the records in the background
  keys reencrypt <tenantId>       move the state's records to its current key now, and report how many
  files seal                      encrypt the uploaded files stored before files were encrypted (a worker
                                  also does at start); report how many
  events list [--status pending|delivered|dead] [--type T] [--limit N]
                                  the newest outbox events, then the dead letters per subscriber
  events retry <eventId…>|--all [--subscriber NAME]
                                  send dead-lettered events back to delivery
  events replay --since <ISO time|epoch ms> [--subscriber NAME] [--type T]
                                  deliver again the events created since then (a running worker delivers)
  new-module <name>               make a registry in src/domain/<name>/ and add it to src/modules.ts
                                  (run in the project's folder; see docs/modules.md)
  help                            show this text

Configuration comes from the environment: see README.md.`;

function describe(error: unknown): string {
  if (error instanceof ConfigError) return `configuration error: ${error.message}`;
  if (
    error instanceof DatabaseOpenError ||
    error instanceof MigrationError ||
    error instanceof ModuleListError ||
    error instanceof NewModuleError
  )
    return error.message;
  if (error instanceof DomainError) return error.details.map((d) => `  ${d.code}: ${d.message}`).join('\n');
  return (error as Error)?.stack ?? String(error);
}

/** Generated passwords of seeded logins go to stdout once, never to the log. */
function printSeededLogins(logins: readonly SeededLogin[]): void {
  if (logins.length === 0) return;
  console.log(
    `\n  Seeding created ${logins.length} employee(s). Their passwords, shown only this once:\n` +
      logins.map((l) => `    ${l.userName} on ${l.tenantId} (${l.roles.join(', ')}): ${l.password}`).join('\n') +
      `\n  Log in with POST /user/oauth/token (userType EMPLOYEE and the tenantId shown).\n`,
  );
}

/**
 * Hands the garbage of start-up back to the system before the server takes traffic. Migrations,
 * seeding and compiling the routes' schemas leave tens of MB of dead objects and half-empty heap
 * pages; V8 returns them on its own only when its memory reducer's watchdog fires, about 100 s after
 * the last full collection, so a fresh process sat at 160–210 MB instead of ~120 MB for its first
 * minutes (docs/benchmarks.md, "Idle memory"). DevTools' "collect garbage" (a low-memory
 * notification: a compacting full collection that also shrinks the young generation) does it now,
 * once, through an in-process inspector session: no port is opened.
 */
async function releaseStartupMemory(): Promise<void> {
  let session: Session;
  try {
    const inspector = await import('node:inspector');
    session = new inspector.Session();
    session.connect();
  } catch {
    return; // a Node built without the inspector: V8 will get there on its own
  }
  try {
    await new Promise<void>((resolve, reject) =>
      session.post('HeapProfiler.collectGarbage', (error) => (error ? reject(error) : resolve())),
    );
  } finally {
    session.disconnect();
  }
}

async function start(config: Config): Promise<number> {
  const platform = await createPlatform(config, { defaultMetrics: true, seedOnFirstStart: true });
  const admin = await platform.bootstrapAdmin();
  if (admin?.password) {
    // Shown once, never stored in clear: the operator must note it now.
    console.log(
      `\n  First start: created user "admin" (SUPERUSER, EMPLOYEE) on tenant ${admin.tenantId}.\n` +
        `  Its password, shown only this once: ${admin.password}\n` +
        `  Log in with POST /user/oauth/token (userType EMPLOYEE, tenantId ${admin.tenantId}) and change it.\n`,
    );
  } else if (admin) {
    platform.app.log.info({ tenantId: admin.tenantId }, 'created user "admin" with PLINTH_ADMIN_PASSWORD');
  }
  printSeededLogins(platform.takeSeededLogins());
  await platform.start();
  await releaseStartupMemory();
  if (config.role !== 'worker') {
    await platform.app.listen({ port: config.port, host: config.host });
    if (platform.internalApp && config.internalPort !== undefined) {
      await platform.internalApp.listen({ port: config.internalPort, host: config.internalHost });
      platform.app.log.warn(
        { host: config.internalHost, port: config.internalPort },
        'internal listener on: it trusts RequestInfo.userInfo from DIGIT modules',
      );
    }
  }
  const where = config.databaseUrl ? redactUrl(config.databaseUrl) : path.join(config.dataDir, 'plinth.db');
  platform.app.log.info({ database: where, role: config.role }, 'Plinth is running');

  // A worker has no listening socket, and the dispatcher's timers do not hold the process open.
  const keepAlive = config.role === 'worker' ? setInterval(() => undefined, 3_600_000) : undefined;
  return new Promise((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(keepAlive);
      platform.app.log.info({ signal }, 'shutting down: finishing requests in flight');
      const force = setTimeout(() => {
        platform.app.log.error('shutdown took longer than 10 s; exiting');
        resolve(1);
      }, 10_000);
      force.unref();
      platform
        .stop()
        .then(() => resolve(0))
        .catch((error: unknown) => {
          console.error(describe(error));
          resolve(1);
        })
        .finally(() => clearTimeout(force));
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

const EVENTS_USAGE = `plinth events: \`events list [--status pending|delivered|dead] [--type T] [--limit N]\`, \`events retry <eventId…>|--all [--subscriber NAME]\` or \`events replay --since <ISO time|epoch ms> [--subscriber NAME] [--type T]\``;

/** An ISO 8601 time or epoch milliseconds; undefined when neither. */
function parseTime(raw: string): number | undefined {
  if (/^\d+$/.test(raw)) return Number(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw)) return undefined;
  const time = Date.parse(raw);
  return Number.isNaN(time) ? undefined : time;
}

const iso = (time: number | null) => (time === null ? '-' : new Date(time).toISOString());

/** Events work on the database only: a running worker (in-process or JetStream relay) delivers what they requeue. */
async function eventsCommand(args: string[]): Promise<number> {
  const [task, ...rest] = args;
  const refuse = (message: string) => {
    console.error(`${message}\n${EVENTS_USAGE}`);
    return 2;
  };
  let run: (admin: EventAdmin) => Promise<void>;
  if (task === 'list') {
    const { values } = parseArgs({
      args: rest,
      options: { status: { type: 'string' }, type: { type: 'string' }, limit: { type: 'string' } },
    });
    const statuses: readonly OutboxStatus[] = ['pending', 'delivered', 'dead'];
    const status = statuses.find((s) => s === values.status);
    if (values.status !== undefined && status === undefined)
      return refuse(`plinth events list: --status must be one of ${statuses.join(', ')}`);
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      return refuse('plinth events list: --limit must be a whole number from 1 to 10000');
    run = async (admin) => {
      const events = await admin.list({ status, type: values.type, limit });
      console.log(`${events.length} event(s), newest first:`);
      for (const e of events) {
        console.log(
          `${e.id}  ${e.status.padEnd(9)} ${e.type}  subject=${e.subject}  created=${iso(e.createdTime)}  attempts=${e.attempts}` +
            (e.targets ? `  for=${e.targets.join(',')}` : '') +
            (e.lastError ? `  last error: ${e.lastError}` : ''),
        );
      }
      const letters = (await admin.deadLetters({ limit })).filter((d) => !values.type || d.type === values.type);
      console.log(`${letters.length} dead letter(s):`);
      for (const d of letters) {
        console.log(
          `${d.eventId}  subscriber=${d.subscriber}  ${d.type}  attempts=${d.attempts}  dead=${iso(d.deadTime)}  last error: ${d.lastError ?? '-'}`,
        );
      }
    };
  } else if (task === 'retry') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { all: { type: 'boolean' }, subscriber: { type: 'string' } },
    });
    if (positionals.length === 0 && !values.all) return refuse('plinth events retry: name the event ids, or --all');
    if (positionals.length > 0 && values.all) return refuse('plinth events retry: event ids or --all, not both');
    run = async (admin) => {
      const n = await admin.retryDead({ eventIds: positionals, subscriber: values.subscriber });
      console.log(
        `sent ${n} dead-lettered event(s) back to delivery, each to the subscriber(s) that dead-lettered it; a running worker delivers them`,
      );
    };
  } else if (task === 'replay') {
    const { values } = parseArgs({
      args: rest,
      options: { since: { type: 'string' }, subscriber: { type: 'string' }, type: { type: 'string' } },
    });
    if (values.since === undefined) return refuse('plinth events replay: --since is required');
    const since = parseTime(values.since);
    if (since === undefined)
      return refuse(
        `plinth events replay: --since must be an ISO time (2026-01-31T00:00:00Z) or epoch milliseconds, got "${values.since}"`,
      );
    run = async (admin) => {
      const n = await admin.replay({ since, subscriber: values.subscriber, type: values.type });
      console.log(
        `queued ${n} event(s) since ${iso(since)} for delivery again` +
          (values.subscriber ? ` to ${values.subscriber} only` : ' to every subscriber') +
          '; a running worker delivers them',
      );
    };
  } else {
    return refuse(`plinth events: unknown task "${task ?? ''}"`);
  }
  const database = await connectDatabase(loadConfig());
  try {
    await migrate(database, [{ module: 'kernel', migrations: eventMigrations }]);
    await run(createEventAdmin(database, systemClock));
    return 0;
  } finally {
    await database.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start': {
        const { values } = parseArgs({ args: rest, options: { role: { type: 'string' } } });
        const env = values.role ? { ...process.env, PLINTH_ROLE: values.role } : process.env;
        return await start(loadConfig(env));
      }
      case 'migrate': {
        const platform = await createPlatform(loadConfig());
        await platform.stop();
        console.log('migrations are up to date');
        return 0;
      }
      case 'seed': {
        const dir = rest[0];
        if (!dir) {
          console.error('plinth seed: name the directory to load, e.g. `plinth seed seed/`');
          return 2;
        }
        const platform = await createPlatform(loadConfig());
        try {
          const report = await platform.seed(path.resolve(dir));
          for (const [module, counts] of Object.entries(report)) {
            console.log(
              `seeded ${dir} ${module}: ${Object.entries(counts)
                .map(([what, n]) => `${n} ${what}`)
                .join(', ')}`,
            );
          }
          printSeededLogins(platform.takeSeededLogins());
        } finally {
          await platform.stop();
        }
        return 0;
      }
      case 'audit': {
        if (rest[0] !== 'verify') {
          console.error('plinth audit: the only task is `plinth audit verify [tenantId]`');
          return 2;
        }
        const platform = await createPlatform(loadConfig());
        try {
          const report = await platform.audit.log.verify(rest[1]);
          console.log(formatVerifyReport(report));
          return report.ok ? 0 : 1;
        } finally {
          await platform.stop();
        }
      }
      case 'keys': {
        const [task, tenantId] = rest;
        if ((task !== 'rotate' && task !== 'reencrypt') || !tenantId) {
          console.error('plinth keys: `plinth keys rotate <tenantId>` or `plinth keys reencrypt <tenantId>` (a state tenant, e.g. pb)');
          return 2;
        }
        if (tenantId.includes('.')) {
          console.error(`plinth keys: keys belong to the state tenant; use ${tenantId.slice(0, tenantId.indexOf('.'))}, not ${tenantId}`);
          return 2;
        }
        const platform = await createPlatform(loadConfig());
        try {
          const encryption = platform.encryption.service;
          if (task === 'rotate') {
            const { keyId } = await encryption.rotateKey(tenantId);
            console.log(
              `rotated the keys of ${tenantId}: new data key ${keyId}; a running worker re-encrypts the records (or run \`plinth keys reencrypt ${tenantId}\`)`,
            );
          } else {
            const moved = await encryption.reencrypt(tenantId);
            const jobs = Object.entries(moved);
            console.log(
              jobs.length === 0
                ? `no registry holds encrypted records of ${tenantId}`
                : jobs.map(([job, n]) => `re-encrypted ${n} record(s) of ${job} for ${tenantId}`).join('\n'),
            );
          }
          return 0;
        } finally {
          await platform.stop();
        }
      }
      case 'files': {
        if (rest[0] !== 'seal') {
          console.error('plinth files: the only task is `plinth files seal`');
          return 2;
        }
        const platform = await createPlatform(loadConfig());
        try {
          const { sealed, failed } = await platform.filestore.sealStored();
          console.log(`encrypted ${sealed} file(s) stored before files were encrypted${failed > 0 ? `; ${failed} could not be (see the log), they stay readable as they are` : ''}`);
          return failed > 0 ? 1 : 0;
        } finally {
          await platform.stop();
        }
      }
      case 'events':
        return await eventsCommand(rest);
      case 'new-module': {
        const [name, ...extra] = rest;
        if (!name || extra.length > 0) {
          console.error('plinth new-module: name the module, e.g. `plinth new-module license`');
          return 2;
        }
        const made = await newModule(process.cwd(), name);
        console.log(
          `made ${made.folder}/ (${made.files.length} files; API actions from id ${made.firstId}) and added ${made.definition} to src/modules.ts.\n` +
            `Next: npx tsc --noEmit -p tsconfig.json, npx vitest run ${made.folder}, then rename the fields to your registry's (docs/modules.md).`,
        );
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
        console.log(USAGE);
        return command === undefined ? 2 : 0;
      default:
        console.error(`plinth: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    console.error(`plinth ${command}: refused\n${describe(error)}`);
    return 1;
  }
}
