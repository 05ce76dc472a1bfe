import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';
import type { Database } from './db.js';
import type { Clock } from './clock.js';
import type { Outbox, Dispatcher } from './events.js';
import type { ChangeFeed } from './changes.js';
import type { HttpApp } from './http.js';
import type { Migration } from './migrator.js';

/** What the kernel hands every module. Other modules' services come in through `deps`. */
export type ModuleContext = {
  readonly config: Config;
  readonly database: Database;
  readonly clock: Clock;
  readonly outbox: Outbox;
  readonly dispatcher: Dispatcher;
  readonly changes: ChangeFeed;
  readonly logger: FastifyBaseLogger;
};

/** One JSON file of a module's folder in `seed/` (e.g. `seed/localization/en_IN.json`). */
export type SeedFile = { readonly file: string; readonly content: unknown };

/** What a module's seeder did, e.g. `{ created: 3, unchanged: 10 }`. */
export type SeedCounts = Readonly<Record<string, number>>;

/** A login a seeder created with a generated password: shown once to the operator, never logged or stored in clear. */
export type SeededLogin = { readonly tenantId: string; readonly userName: string; readonly roles: readonly string[]; readonly password: string };

/** A seeder that creates logins answers their one-time passwords beside its counts. */
export type SeedResult = SeedCounts | { readonly counts: SeedCounts; readonly logins: readonly SeededLogin[] };

export type ModuleInstance<Api> = {
  /** The service API other modules may call. */
  readonly api: Api;
  /** Registers the module's HTTP routes. */
  readonly routes?: (app: HttpApp) => void;
  /**
   * Loads the module's folder of a seed directory (`seed/<module name>/`), idempotently and in
   * one transaction; refuses with every failing file and record named (DomainError).
   */
  readonly seed?: (files: readonly SeedFile[], actor: { uuid: string | null }) => Promise<SeedResult>;
  readonly start?: () => Promise<void>;
  readonly stop?: () => Promise<void>;
};

export type ModuleDefinition<Api, Deps> = {
  readonly name: string;
  readonly migrations: readonly Migration[];
  create(context: ModuleContext, deps: Deps): ModuleInstance<Api>;
};

/** The module contract: a name, its migrations, and a factory that takes its dependencies explicitly. */
export function defineModule<Api, Deps = Record<string, never>>(
  definition: ModuleDefinition<Api, Deps>,
): ModuleDefinition<Api, Deps> {
  return definition;
}
