import { parseArgs } from 'node:util';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../kernel/config.js';
import { DatabaseOpenError, redactUrl } from '../kernel/db.js';
import { DomainError } from '../kernel/errors.js';
import { MigrationError } from '../kernel/migrator.js';
import { createPlatform } from '../platform.js';
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
  help                            show this text

Configuration comes from the environment: see README.md.`;

function describe(error: unknown): string {
  if (error instanceof ConfigError) return `configuration error: ${error.message}`;
  if (error instanceof DatabaseOpenError || error instanceof MigrationError) return error.message;
  if (error instanceof DomainError) return error.details.map((d) => `  ${d.code}: ${d.message}`).join('\n');
  return (error as Error)?.stack ?? String(error);
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
  await platform.start();
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

  return new Promise((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
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
