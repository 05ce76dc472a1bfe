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
export type SeededLogin = {
  readonly tenantId: string;
  readonly userName: string;
  readonly roles: readonly string[];
  readonly password: string;
};

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

/** Any module, whatever its API and dependencies: what lists and `requires` hold. */
export type AnyModule = ModuleDefinition<unknown, never>;

/**
 * Master data a module brings, in the shape of a `seed/mdms/` file without its tenant: its API
 * actions and role-actions, id formats, its own masters (see `apiActions` in module.masters.ts).
 */
export type ModuleMaster = {
  readonly schemaCode: string;
  readonly description?: string;
  /** The master's JSON Schema, for a master the module defines (omit it to add records to an existing master). */
  readonly definition?: Readonly<Record<string, unknown>>;
  readonly data: ReadonlyArray<Readonly<Record<string, unknown>>>;
};

/** The keys of `Deps` a caller must fill (optional ones, such as test hooks, are not modules). */
type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];

/** For each dependency of `Deps`, the module whose API fills it. */
export type Requires<Deps> = { readonly [K in RequiredKeys<Deps>]: ModuleDefinition<Deps[K], never> };

export type ModuleDefinition<Api, Deps> = {
  readonly name: string;
  /**
   * The modules whose APIs `create` receives, under the key of `deps` each fills. The platform
   * creates, seeds and starts them first, and refuses to start when one is not in its module list.
   */
  readonly requires?: Readonly<Record<string, AnyModule>>;
  readonly migrations: readonly Migration[];
  /** The CloudEvent types this module appends: its published contract (one module per type). */
  readonly events?: readonly string[];
  /**
   * Master data the module needs at each state tenant, loaded into MDMS (validated like `seed/mdms/`)
   * at start-up whenever what it answers changes; the operator may change the records afterwards.
   */
  readonly masters?: (stateTenantId: string) => readonly ModuleMaster[];
  create(context: ModuleContext, deps: Deps): ModuleInstance<Api>;
};

/**
 * The module contract: a name, the modules it requires, its migrations, events and masters, and a
 * factory that takes its dependencies explicitly. `requires` is checked against `Deps`.
 */
export function defineModule<Api, Deps = Record<string, never>>(
  definition: ModuleDefinition<Api, Deps> & { readonly requires?: Requires<Deps> },
): ModuleDefinition<Api, Deps> {
  return definition;
}
