import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import { Type } from 'typebox';
import { installAuth, type UserInfo } from './kernel/auth.js';
import { createChangeFeed, type ChangeFeed } from './kernel/changes.js';
import { systemClock, type Clock } from './kernel/clock.js';
import { ConfigError, type Config } from './kernel/config.js';
import { connectDatabase, type Database } from './kernel/db.js';
import { DomainError } from './kernel/errors.js';
import { createDispatcher, createOutbox, eventMigrations, type Dispatcher, type DispatcherOptions } from './kernel/events.js';
import type { JetStreamOptions } from './kernel/events.nats.js';
import { createHttpApp, loggableUrl, type HttpApp, type HttpAppOptions } from './kernel/http.js';
import { createMetrics, type Metrics } from './kernel/metrics.js';
import { migrate } from './kernel/migrator.js';
import type { AnyModule, ModuleContext, ModuleInstance, SeedCounts, SeededLogin, SeedResult } from './kernel/module.js';
import { createSettings, settingsMigrations, type Settings } from './kernel/settings.js';
import { changeClockMigrations } from './kernel/offline.feed.js';
import { createModules, resolveModules, type ApiOf, type ModuleListItem } from './kernel/module.registry.js';
import { loadModuleMasters } from './kernel/module.masters.js';
import { MODULES, type ModuleWiring } from './modules.js';
import { mdmsModule, type MdmsApi } from './common/mdms/index.js';
import { auditModule, type AuditApi } from './common/audit/index.js';
import { accessModule, type AccessApi } from './common/access/index.js';
import { userModule, type OtpSink, type UserApi, type UserSettings } from './common/user/index.js';
import { boundaryModule, type BoundaryApi } from './common/boundary/index.js';
import { localizationModule, type LocalizationApi } from './common/localization/index.js';
import { idgenModule, type IdgenApi } from './common/idgen/index.js';
import { workflowModule, type WorkflowApi } from './common/workflow/index.js';
import { encryptionModule, type EncryptionApi } from './common/encryption/index.js';
import { filestoreModule, type FilestoreApi } from './common/filestore/index.js';
import { shortUrlModule, type ShortUrlApi } from './common/shorturl/index.js';
import { userEventModule, type UserEventApi } from './common/userevent/index.js';
import { notificationModule, type NotificationApi } from './common/notification/index.js';
import { complaintModule, type ComplaintApi } from './domain/complaint/index.js';
import { dedupModule, type DedupApi } from './domain/dedup/index.js';
import { individualModule, type IndividualApi } from './domain/individual/index.js';
import { householdModule, type HouseholdApi } from './domain/household/index.js';
import { taskModule, type TaskApi } from './domain/task/index.js';
import { immunizationModule, type ImmunizationApi } from './domain/immunization/index.js';
import { exchangeTrustModule, type TrustApi } from './exchange/trust/index.js';
import { exchangeSubscriptionsModule, type DeliveryWorkerOptions, type SubscriptionsApi } from './exchange/subscriptions/index.js';
import { readSeedDir } from './seed.js';
import { addWebApps } from './kernel/webapp.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export type Platform = {
  readonly config: Config;
  readonly app: HttpApp;
  /** The listener for existing DIGIT modules, when INTERNAL_PORT is set. */
  readonly internalApp: HttpApp | undefined;
  readonly database: Database;
  readonly dispatcher: Dispatcher;
  readonly changes: ChangeFeed;
  readonly settings: Settings;
  /** The API of a module of the list (e.g. `platform.module(taskModule)`); throws for one not listed. */
  module<M extends AnyModule>(definition: M): ApiOf<M>;
  readonly mdms: MdmsApi;
  readonly audit: AuditApi;
  readonly access: AccessApi;
  readonly users: UserApi;
  readonly boundary: BoundaryApi;
  readonly localization: LocalizationApi;
  readonly idgen: IdgenApi;
  readonly workflow: WorkflowApi;
  readonly encryption: EncryptionApi;
  readonly filestore: FilestoreApi;
  readonly shortUrl: ShortUrlApi;
  readonly userEvent: UserEventApi;
  readonly notification: NotificationApi;
  readonly complaint: ComplaintApi;
  readonly dedup: DedupApi;
  readonly individual: IndividualApi;
  readonly household: HouseholdApi;
  readonly task: TaskApi;
  readonly immunization: ImmunizationApi;
  readonly exchangeTrust: TrustApi;
  readonly subscriptions: SubscriptionsApi;
  /** Loads a seed directory through the modules' own rules: `seed/<module>/` by each module, in dependency order. */
  seed(dir: string): Promise<Record<string, SeedCounts>>;
  /**
   * The logins created by seeding (first start or `seed`) since the last call, with their generated
   * passwords; each is answered once, for the operator to note (they are stored only hashed).
   */
  takeSeededLogins(): SeededLogin[];
  /**
   * Creates the first administrator (`admin` on the first state tenant) if there is none.
   * Answers the generated password, which is shown once, when PLINTH_ADMIN_PASSWORD is unset.
   */
  bootstrapAdmin(): Promise<{ tenantId: string; password: string | undefined } | undefined>;
  /** Starts background work (event delivery, change feed); `listen` is separate. */
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type PlatformOptions = {
  clock?: Clock;
  /** Collect Node process metrics (off in tests, which build many platforms). */
  defaultMetrics?: boolean;
  dispatcher?: DispatcherOptions;
  /** Stream name, subject prefix, partitions… when EVENT_BUS_URL is set (tests isolate themselves with these). */
  jetStream?: Partial<Omit<JetStreamOptions, 'url'>>;
  /** How often SQLite is checked for writes by other processes (default 1 s). */
  changePollMs?: number;
  /** Load `config.seedDir` when this database has never been seeded. */
  seedOnFirstStart?: boolean;
  /** Where OTPs go; by default the notification module's channels (SMS provider, e-mail). */
  otpSink?: OtpSink;
  users?: Partial<UserSettings>;
  /** Timings of the exchange delivery worker (tests shorten the backoff). */
  subscriptionWorker?: Partial<DeliveryWorkerOptions>;
  /** Where the HTTP apps log (stdout by default); tests read it. */
  logStream?: HttpAppOptions['logStream'];
  /** The module list (src/modules.ts by default); tests of the list itself pass their own. */
  modules?: ReadonlyArray<ModuleListItem<ModuleWiring>>;
};

const SEEDED = 'seed.loaded_time';

/** The internal caller's secret, compared in constant time; no secret configured trusts nobody. */
function internalSecretMatches(sent: unknown, expected: string | undefined): boolean {
  if (expected === undefined || typeof sent !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(sent), digest(expected));
}

/** Opens the database, migrates it, wires the modules and the HTTP app(s); listens nowhere yet. */
export async function createPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  // loadConfig refuses this too; checked again for configurations built in code.
  if (config.internalPort !== undefined && config.internalSecret === undefined) {
    throw new ConfigError('PLINTH_INTERNAL_SECRET', 'must be set when INTERNAL_PORT is: internal callers prove themselves with it');
  }
  const clock = options.clock ?? systemClock;
  // Resolved once, before anything runs: migration, creation, seeding and start-up follow this order.
  const entries = resolveModules(options.modules ?? MODULES);
  const database = await connectDatabase(config);
  try {
    await migrate(database, [
      { module: 'kernel', migrations: [...eventMigrations, ...settingsMigrations, ...changeClockMigrations] },
      ...entries.map(({ module }) => ({ module: module.name, migrations: module.migrations })),
    ]);

    const metrics = createMetrics({ defaultMetrics: options.defaultMetrics ?? false });
    const app = await createHttpApp({ config, metrics, version, logStream: options.logStream });
    const changes = createChangeFeed(database, { pollIntervalMs: options.changePollMs });
    const dispatcherOptions: DispatcherOptions = {
      ...options.dispatcher,
      onError: (error, event, subscriber) =>
        app.log.warn({ err: error, eventId: event.id, type: event.type, subscriber }, 'event delivery failed'),
    };
    // Same Dispatcher either way: modules subscribe without knowing which bus delivers.
    // The NATS client is loaded only when a bus is configured (it costs memory in every other process).
    const dispatcher = config.eventBusUrl
      ? (await import('./kernel/events.nats.js')).createJetStreamDispatcher(database, clock, {
          stream: config.eventStream,
          subjectPrefix: config.eventStream === 'PLINTH_EVENTS' ? 'plinth.events' : `plinth.${config.eventStream.toLowerCase()}`,
          ...options.jetStream,
          ...dispatcherOptions,
          url: config.eventBusUrl,
        })
      : createDispatcher(database, clock, dispatcherOptions);
    const outbox = createOutbox(database, clock, () => dispatcher.kick());
    const settings = createSettings(database);
    const context: ModuleContext = { config, database, clock, outbox, dispatcher, changes, logger: app.log };

    let instances: Array<[string, ModuleInstance<unknown>]> = [];
    const module = <M extends AnyModule>(definition: M): ApiOf<M> => {
      const found = instances.find(([name]) => name === definition.name);
      if (!found) throw new Error(`module "${definition.name}" is not in this platform's module list`);
      return found[1].api as ApiOf<M>;
    };
    instances = createModules(entries, context, {
      config,
      module,
      otpSink: options.otpSink,
      users: options.users,
      subscriptionWorker: options.subscriptionWorker,
    } satisfies ModuleWiring);
    const users = module(userModule);
    const access = module(accessModule);
    const mdms = module(mdmsModule);
    await users.init();

    const register = async (target: HttpApp, trustUserInfo: boolean) => {
      await target.register(formbody);
      // Routes that also serve callers without a token are limited for those callers, per route and
      // client address; after authentication (preHandler), so a token in the body is seen. Added
      // before the plugin, whose own onRoute hook reads the route's rateLimit.
      target.addHook('onRoute', (route) => {
        if (route.config?.anonymous !== true || route.config.rateLimit !== undefined) return;
        route.config = {
          ...route.config,
          rateLimit: {
            max: config.anonymousRateLimit,
            timeWindow: 60_000,
            hook: 'preHandler',
            allowList: (request) => request.userInfo !== null,
          },
        };
      });
      // Per client address, in this process's memory: a first line against guessing; lockout is per account.
      await target.register(rateLimit, {
        global: false,
        // Thrown by the plugin, so it reaches the kernel's error handler like any refusal.
        errorResponseBuilder: (_request, context) =>
          new DomainError('too_many_requests', {
            code: 'TOO_MANY_REQUESTS',
            message: `Too many requests from this address; retry in ${Math.ceil(context.ttl / 1000)} s`,
          }),
      });
      installAuth(target, {
        authenticator: users.authenticator,
        authorizer: access.authorizer,
        ...(trustUserInfo ? { trustRequestUserInfo: (request, claimed) => trustedUser(request, claimed) } : {}),
      });
      for (const [, instance] of instances) instance.routes?.(target);
      addOperationalRoutes(target, database, metrics);
    };

    /** Internal listener: the claimed user must exist; its roles come from our records, not the claim. */
    async function trustedUser(request: FastifyRequest, claimed: Record<string, unknown>): Promise<UserInfo | undefined> {
      // Never a bare uuid: without the shared secret nothing is trusted.
      if (!internalSecretMatches(request.headers['x-plinth-internal-secret'], config.internalSecret)) return undefined;
      const uuid = claimed['uuid'];
      if (typeof uuid !== 'string') return undefined;
      const [user] = await users.service.search({ uuids: [uuid], active: true }, { pageSize: 1 });
      if (!user) return undefined;
      request.log.info({ internalCaller: uuid, url: loggableUrl(request.url) }, 'internal call on behalf of a DIGIT module');
      return {
        id: user.id,
        uuid: user.uuid,
        userName: user.userName,
        name: user.name,
        mobileNumber: user.mobileNumber,
        emailId: user.emailId,
        type: user.type,
        tenantId: user.tenantId,
        roles: user.roles,
      };
    }

    await register(app, false);
    // The citizen portal and the employee workbench, when built (npm run build, which npm start runs first).
    if (!(await addWebApps(app, config.webDir))) app.log.debug({ webDir: config.webDir }, 'web apps not built: serving the API only');
    let internalApp: HttpApp | undefined;
    if (config.internalPort !== undefined) {
      internalApp = await createHttpApp({ config, metrics, version, logStream: options.logStream });
      await register(internalApp, true);
    }

    const seed = async (dir: string) => {
      const files = await readSeedDir(dir);
      const unknown = [...files.keys()].filter((folder) => !instances.some(([name, instance]) => name === folder && instance.seed));
      if (unknown.length > 0) {
        throw new DomainError('invalid', {
          code: 'INVALID_SEED_DIR',
          message: `no module loads seed folder(s) ${unknown.join(', ')} in ${dir}`,
        });
      }
      const report: Record<string, SeedCounts> = {};
      for (const [name, instance] of instances) {
        const own = files.get(name);
        if (!own || !instance.seed) continue;
        const result: SeedResult = await instance.seed(own, { uuid: null });
        // Passwords stay out of the report, which is logged.
        if ('logins' in result && Array.isArray(result.logins)) {
          report[name] = result.counts as SeedCounts;
          seededLogins.push(...(result.logins as SeededLogin[]));
        } else {
          report[name] = result as SeedCounts;
        }
      }
      return { ...report, ...(await loadMasters()) };
    };
    let seededLogins: SeededLogin[] = [];

    /** The masters modules declare, at every state tenant, when they changed (see loadModuleMasters). */
    async function loadMasters(): Promise<Record<string, SeedCounts>> {
      const load = instances.find(([name]) => name === mdmsModule.name)?.[1].seed;
      if (!load) return {};
      const states = [...(await mdms.service.tenants.knownTenants())].filter((t) => !t.includes('.'));
      return loadModuleMasters({ modules: entries.map((e) => e.module), states, settings, load: (files) => load(files, { uuid: null }) });
    }

    if (options.seedOnFirstStart && (await settings.get(SEEDED)) === undefined) {
      const report = await seed(config.seedDir);
      await settings.set(SEEDED, String(clock.now()));
      app.log.info({ seedDir: config.seedDir, ...report }, 'demo state loaded');
    }
    const masters = await loadMasters();
    if (Object.keys(masters).length > 0) app.log.info(masters, 'module masters loaded');
    await app.ready();
    await internalApp?.ready();

    let started = false;
    return {
      config,
      app,
      internalApp,
      database,
      dispatcher,
      changes,
      settings,
      module,
      mdms,
      audit: module(auditModule),
      access,
      users,
      boundary: module(boundaryModule),
      localization: module(localizationModule),
      idgen: module(idgenModule),
      workflow: module(workflowModule),
      encryption: module(encryptionModule),
      filestore: module(filestoreModule),
      shortUrl: module(shortUrlModule),
      userEvent: module(userEventModule),
      notification: module(notificationModule),
      complaint: module(complaintModule),
      dedup: module(dedupModule),
      individual: module(individualModule),
      household: module(householdModule),
      task: module(taskModule),
      immunization: module(immunizationModule),
      exchangeTrust: module(exchangeTrustModule),
      subscriptions: module(exchangeSubscriptionsModule),
      seed,
      takeSeededLogins() {
        const taken = seededLogins;
        seededLogins = [];
        return taken;
      },
      async bootstrapAdmin() {
        const states = [...(await mdms.service.tenants.knownTenants())].filter((t) => !t.includes('.')).sort();
        const tenantId = states[0];
        if (!tenantId) return undefined;
        const result = await users.service.bootstrapAdmin(tenantId, config.adminPassword);
        return result.created ? { tenantId, password: result.password } : undefined;
      },
      async start() {
        started = true;
        await changes.start();
        // API processes only append to the outbox; workers (and `all`) deliver or relay to JetStream.
        if (config.role !== 'api') await dispatcher.start();
        for (const [, instance] of instances) await instance.start?.();
      },
      async stop() {
        await app.close();
        await internalApp?.close();
        if (started) {
          for (const [, instance] of [...instances].reverse()) await instance.stop?.();
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

function addOperationalRoutes(app: HttpApp, database: Database, metrics: Metrics): void {
  app.get('/health/live', { schema: { hide: true }, config: { open: true } }, async () => ({ status: 'UP' }));
  const component = Type.Object({
    status: Type.String(),
    details: Type.Optional(Type.Object({ code: Type.String(), error: Type.String(), since: Type.Number() })),
  });
  const readiness = Type.Object({ status: Type.String(), components: Type.Optional(Type.Object({ db: component })) });
  app.get(
    '/health/ready',
    { schema: { hide: true, response: { 200: readiness, 503: readiness } }, config: { open: true } },
    async (_request, reply) => {
      // Spring Boot actuator's shape, as DIGIT's services answer it; the cause is a code and a fixed
      // sentence (the driver's own text, which may name hosts, goes to the log with the failure).
      const db = await database.health();
      if (db.status === 'UP') return { status: 'UP' };
      return reply.status(503).send({
        status: 'DOWN',
        components: { db: { status: 'DOWN', details: { code: db.code, error: db.message, since: db.since } } },
      });
    },
  );
  app.get('/metrics', { schema: { hide: true }, config: { open: true } }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
