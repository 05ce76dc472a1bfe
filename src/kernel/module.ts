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

export type ModuleInstance<Api> = {
  /** The service API other modules may call. */
  readonly api: Api;
  /** Registers the module's HTTP routes. */
  readonly routes?: (app: HttpApp) => void;
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
