import type { AnyModule, ModuleContext, ModuleDefinition, ModuleInstance, Requires } from './module.js';

/**
 * How the platform turns its module list into running modules: each module's dependencies are
 * resolved once, into one order that migration, creation, seeding and start-up all follow (stop
 * reverses it). A module missing from the list, a dependency cycle or a name used twice is refused
 * before anything runs, with every problem named.
 */

/** A module in the list, with what fills its `deps`. */
export type ModuleEntry<Wiring> = {
  readonly module: AnyModule;
  /** The modules whose APIs it receives, by `deps` key (the definition's own `requires` when listed bare). */
  readonly requires: Readonly<Record<string, AnyModule>>;
  /**
   * Builds `deps` from those APIs and the platform's own wiring (settings, sinks, test hooks), for a
   * module that needs more than other modules' APIs; without it, `deps` is the APIs themselves.
   */
  readonly deps?: (apis: Readonly<Record<string, unknown>>, wiring: Wiring) => unknown;
};

/** What the module list holds: a definition that declares its own `requires`, or a wired entry. */
export type ModuleListItem<Wiring> = AnyModule | ModuleEntry<Wiring>;

/** The API a module answers. */
export type ApiOf<M> = M extends ModuleDefinition<infer Api, never> ? Api : never;
type ApisOf<R> = { readonly [K in keyof R]: ApiOf<R[K]> };

/** The module list is wrong: a dependency missing or cyclic, a name or an event type claimed twice. */
export class ModuleListError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`the module list cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** A module whose `deps` are exactly the APIs of `requires` (for a definition that does not declare them). */
export function wire<Api, Deps>(module: ModuleDefinition<Api, Deps>, requires: Requires<Deps>): ModuleEntry<unknown>;
/** A module whose `deps` are built by `deps` from the APIs of `requires` and the platform's wiring. */
export function wire<Api, Deps, R extends Readonly<Record<string, AnyModule>>, Wiring>(
  module: ModuleDefinition<Api, Deps>,
  requires: R,
  deps: (apis: ApisOf<R>, wiring: Wiring) => Deps,
): ModuleEntry<Wiring>;
export function wire(
  module: AnyModule,
  requires: Readonly<Record<string, AnyModule>>,
  deps?: (apis: never, wiring: never) => unknown,
): ModuleEntry<never> {
  return { module, requires, deps: deps as ModuleEntry<never>['deps'] };
}

const entryOf = <W>(item: ModuleListItem<W>): ModuleEntry<W> => ('create' in item ? { module: item, requires: item.requires ?? {} } : item);

/**
 * The list in dependency order: each module after the modules it requires, otherwise in the order
 * listed. Throws ModuleListError naming every problem.
 */
export function resolveModules<W>(list: ReadonlyArray<ModuleListItem<W>>): Array<ModuleEntry<W>> {
  const entries = list.map(entryOf);
  const problems: string[] = [];
  const byName = new Map<string, ModuleEntry<W>>();
  for (const entry of entries) {
    const name = entry.module.name;
    if (byName.has(name)) problems.push(`module "${name}" is listed twice`);
    else byName.set(name, entry);
  }
  for (const entry of entries) {
    for (const [key, needed] of Object.entries(entry.requires)) {
      const listed = byName.get(needed.name);
      if (!listed) problems.push(`module "${entry.module.name}" requires "${needed.name}" (as ${key}), which is not in the module list`);
      else if (listed.module !== needed)
        problems.push(`module "${entry.module.name}" requires a "${needed.name}" other than the one listed`);
    }
  }
  const owners = new Map<string, string>();
  for (const entry of entries) {
    for (const type of entry.module.events ?? []) {
      const owner = owners.get(type);
      if (owner !== undefined && owner !== entry.module.name)
        problems.push(`event type ${type} is declared by both "${owner}" and "${entry.module.name}"`);
      owners.set(type, entry.module.name);
    }
  }
  if (problems.length > 0) throw new ModuleListError(problems);

  const ordered: Array<ModuleEntry<W>> = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (entry: ModuleEntry<W>, path: readonly string[]) => {
    const name = entry.module.name;
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw new ModuleListError([`modules require each other in a cycle: ${cycle.join(' → ')}`]);
    }
    state.set(name, 'visiting');
    for (const needed of Object.values(entry.requires)) visit(byName.get(needed.name)!, [...path, name]);
    state.set(name, 'done');
    ordered.push(entry);
  };
  for (const entry of entries) visit(entry, []);
  return ordered;
}

/** Creates the modules in order, each with the APIs of the modules it requires (and its wiring). */
export function createModules<W>(
  entries: ReadonlyArray<ModuleEntry<W>>,
  context: ModuleContext,
  wiring: W,
): Array<[string, ModuleInstance<unknown>]> {
  const apis = new Map<string, unknown>();
  const created: Array<[string, ModuleInstance<unknown>]> = [];
  for (const entry of entries) {
    const required = Object.fromEntries(Object.entries(entry.requires).map(([key, needed]) => [key, apis.get(needed.name)]));
    const deps = entry.deps ? entry.deps(required, wiring) : required;
    const instance = entry.module.create(context, deps as never);
    apis.set(entry.module.name, instance.api);
    created.push([entry.module.name, instance]);
  }
  return created;
}
