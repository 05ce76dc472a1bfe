import { describe, expect, it } from 'vitest';
import type { AnyModule, ModuleContext } from './module.js';
import { createModules, ModuleListError, resolveModules, wire } from './module.registry.js';

// Modules that only say who they are and record what they were given.
type Api = { name: string; got: Record<string, unknown> };
const made: string[] = [];
const mod = (name: string, requires: Record<string, AnyModule> = {}, events: string[] = []): AnyModule => ({
  name,
  requires,
  events,
  migrations: [],
  create(_context: ModuleContext, deps: never) {
    made.push(name);
    return { api: { name, got: deps as Record<string, unknown> } };
  },
});

const names = (list: Parameters<typeof resolveModules>[0]) => resolveModules(list).map((e) => e.module.name);
const problems = (list: Parameters<typeof resolveModules>[0]) => {
  try {
    resolveModules(list);
  } catch (error) {
    expect(error).toBeInstanceOf(ModuleListError);
    return (error as ModuleListError).problems;
  }
  throw new Error('the list was accepted');
};

describe('the module list', () => {
  const a = mod('a');
  const b = mod('b', { a });
  const c = mod('c', { first: a, second: b });

  it('keeps the listed order when it already follows the dependencies', () => {
    expect(names([a, b, c])).toEqual(['a', 'b', 'c']);
  });

  it('puts a module after the modules it requires, wherever it is listed', () => {
    expect(names([c, b, a])).toEqual(['a', 'b', 'c']);
    const d = mod('d');
    expect(names([d, c, a, b])).toEqual(['d', 'a', 'b', 'c']);
  });

  it('refuses a module whose dependency is not listed, naming both and the key', () => {
    expect(problems([b, c])).toEqual([
      'module "b" requires "a" (as a), which is not in the module list',
      'module "c" requires "a" (as first), which is not in the module list',
    ]);
  });

  it('refuses a dependency cycle, naming it', () => {
    const x: { requires: Record<string, AnyModule> } & AnyModule = { ...mod('x'), requires: {} };
    const y = mod('y', { x });
    x.requires['y'] = y;
    expect(problems([a, x, y])).toEqual(['modules require each other in a cycle: x → y → x']);
  });

  it('refuses a name listed twice, another module under a listed name, and an event type declared twice', () => {
    const otherA = mod('a');
    const e1 = mod('e1', {}, ['plinth.e.happened.v1']);
    const e2 = mod('e2', {}, ['plinth.e.happened.v1']);
    expect(problems([a, otherA, mod('needs-other', { a: otherA }), e1, e2])).toEqual([
      'module "a" is listed twice',
      'module "needs-other" requires a "a" other than the one listed',
      'event type plinth.e.happened.v1 is declared by both "e1" and "e2"',
    ]);
  });

  it('creates each module once, in order, with the APIs it requires under its own keys, or as its wiring builds them', () => {
    made.length = 0;
    const wired = wire(mod('w'), { base: a }, (apis, wiring: { suffix: string }) => ({
      built: `${(apis.base as Api).name}${wiring.suffix}`,
    }));
    const created = createModules(resolveModules([c, wired, b, a]), {} as ModuleContext, { suffix: '!' });
    expect(made).toEqual(['a', 'b', 'c', 'w']);
    const api = (name: string) => created.find(([n]) => n === name)![1].api as Api;
    expect(api('c').got).toEqual({ first: api('a'), second: api('b') });
    expect(api('w').got).toEqual({ built: 'a!' });
  });
});
