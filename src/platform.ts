import { createRequire } from 'node:module';
import { Type } from 'typebox';
import { createChangeFeed, type ChangeFeed } from './kernel/changes.js';
import { systemClock, type Clock } from './kernel/clock.js';
import type { Config } from './kernel/config.js';
import { connectDatabase, type Database } from './kernel/db.js';
import { createDispatcher, createOutbox, eventMigrations, type Dispatcher, type DispatcherOptions } from './kernel/events.js';
import { createHttpApp, type HttpApp } from './kernel/http.js';
import { createMetrics } from './kernel/metrics.js';
import { migrate } from './kernel/migrator.js';
import type { ModuleContext } from './kernel/module.js';
import { createSettings, settingsMigrations, type Settings } from './kernel/settings.js';
import { mdmsModule, type MdmsApi, type SeedReport } from './common/mdms/index.js';
import { readSeedDir } from './seed.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export type Platform = {
  readonly config: Config;
  readonly app: HttpApp;
  readonly database: Database;
  readonly dispatcher: Dispatcher;
  readonly changes: ChangeFeed;
  readonly settings: Settings;
  readonly mdms: MdmsApi;
  /** Loads a seed directory through the modules' own rules. */
  seed(dir: string): Promise<{ mdms: SeedReport }>;
  /** Starts background work (event delivery, change feed); `listen` is separate. */
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type PlatformOptions = {
  clock?: Clock;
  /** Collect Node process metrics (off in tests, which build many platforms). */
  defaultMetrics?: boolean;
  dispatcher?: DispatcherOptions;
  /** How often SQLite is checked for writes by other processes (default 1 s). */
  changePollMs?: number;
  /** Load `config.seedDir` when this database has never been seeded. */
  seedOnFirstStart?: boolean;
};

const SEEDED = 'seed.loaded_time';
const SYSTEM = { uuid: null };

/** Opens the database, migrates it, wires the modules and the HTTP app; listens nowhere yet. */
export async function createPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const clock = options.clock ?? systemClock;
  const database = await connectDatabase(config);
  try {
    const modules = [mdmsModule];
    await migrate(database, [
      { module: 'kernel', migrations: [...eventMigrations, ...settingsMigrations] },
      ...modules.map((m) => ({ module: m.name, migrations: m.migrations })),
    ]);

    const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? false });
    const app = await createHttpApp({ config, metrics, version });
    const changes = createChangeFeed(database, { pollIntervalMs: options.changePollMs });
    const dispatcher = createDispatcher(database, clock, {
      ...options.dispatcher,
      onError: (error, event) => app.log.warn({ err: error, eventId: event.id, type: event.type }, 'event delivery failed'),
    });
    const outbox = createOutbox(database, clock, () => dispatcher.kick());
    const settings = createSettings(database);
    const context: ModuleContext = { config, database, clock, outbox, dispatcher, changes, logger: app.log };

    const mdms = mdmsModule.create(context, {});
    const instances = [mdms];
    for (const instance of instances) instance.routes?.(app);

    app.get('/health/live', { schema: { hide: true }, config: { open: true } }, async () => ({ status: 'UP' }));
    app.get(
      '/health/ready',
      { schema: { hide: true, response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String() }) } }, config: { open: true } },
      async (_request, reply) => {
        try {
          await database.ping();
          return { status: 'UP' };
        } catch {
          return reply.status(503).send({ status: 'DOWN' });
        }
      },
    );
    app.get('/metrics', { schema: { hide: true }, config: { open: true } }, async (_request, reply) =>
      reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );

    const seed = async (dir: string) => {
      const files = await readSeedDir(dir);
      return { mdms: await mdms.api.seed(files.mdms, SYSTEM) };
    };

    if (options.seedOnFirstStart && (await settings.get(SEEDED)) === undefined) {
      const report = await seed(config.seedDir);
      await settings.set(SEEDED, String(clock.now()));
      app.log.info({ seedDir: config.seedDir, ...report.mdms }, 'demo state loaded');
    }
    await app.ready();

    let started = false;
    return {
      config,
      app,
      database,
      dispatcher,
      changes,
      settings,
      mdms: mdms.api,
      seed,
      async start() {
        started = true;
        await changes.start();
        if (config.role !== 'api') dispatcher.start();
        for (const instance of instances) await instance.start?.();
      },
      async stop() {
        await app.close();
        if (started) {
          for (const instance of [...instances].reverse()) await instance.stop?.();
          await dispatcher.stop();
          await changes.stop();
        }
        await database.close();
      },
    };
  } catch (error) {
    await database.close().catch(() => undefined);
    throw error;
  }
}
