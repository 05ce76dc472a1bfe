import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accessMasters } from '../src/common/access/index.js';
import { taskModule } from '../src/domain/task/index.js';
import { defineModule } from '../src/kernel/module.js';
import { ModuleListError } from '../src/kernel/module.registry.js';
import { MODULES } from '../src/modules.js';
import { createPlatform, type Platform, type PlatformOptions } from '../src/platform.js';
import { adminAuth, employeeAuth, post, requestInfo, testDatabase, type TestDatabase } from './helpers.js';

/**
 * The platform's side of the module recipe: a broken module list stops start-up before anything
 * runs, and the masters a module declares (its roles, API actions and role-actions) are loaded at
 * start, again when they change, and not when they do not.
 */

/** A module with one route, callable by the roles its masters give (a new version may give more). */
const probe = (roles: string[]) =>
  defineModule<{ ok: true }>({
    name: 'probe',
    migrations: [],
    events: ['plinth.probe.echoed.v1'],
    masters: accessMasters({
      serviceCode: 'PROBE',
      firstId: 990_001,
      roles: [{ code: 'PROBE_USER', name: 'Probe user' }],
      actions: [{ code: 'PROBE_ECHO', url: '/probe/v1/_echo', name: 'Probe: echo', roles }],
    }),
    create: () => ({
      api: { ok: true },
      routes: (app) =>
        app.post(
          '/probe/v1/_echo',
          { schema: { body: Type.Object({ RequestInfo: Type.Optional(Type.Unknown()), tenantId: Type.String() }) } },
          async () => ({
            echoed: true,
          }),
        ),
    }),
  });

let db: TestDatabase;
beforeAll(async () => {
  db = await testDatabase({ logLevel: 'info' }, inject('plinthDemoTemplate'));
});
afterAll(() => db.drop());

/** Starts a platform on the test database with these modules; answers it and what it logged. */
async function start(modules: NonNullable<PlatformOptions['modules']>) {
  const lines: string[] = [];
  const platform = await createPlatform(db.config, { modules, logStream: { write: (line: string) => void lines.push(line) } });
  return { platform, logged: (msg: string) => lines.some((line) => (JSON.parse(line) as { msg?: string }).msg === msg) };
}

const echo = (platform: Platform, auth: Record<string, string>) =>
  post(platform, '/probe/v1/_echo', { RequestInfo: requestInfo, tenantId: 'pb.amritsar' }, auth);

describe('the module list at start-up', () => {
  it('refuses a list missing a required module, naming it, before opening the database', async () => {
    const refused = await createPlatform(
      { ...db.config, databaseUrl: 'postgres://nobody@127.0.0.1:1/none' },
      { modules: [taskModule] },
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ModuleListError);
    expect((refused as Error).message).toContain('module "task" requires "mdms" (as mdms), which is not in the module list');
  });

  it('answers a listed module`s API by its definition, and refuses one not listed', async () => {
    const plain = defineModule<{ ok: true }>({ name: 'plain', migrations: [], create: () => ({ api: { ok: true } }) });
    const { platform } = await start([...MODULES, plain]);
    try {
      expect(platform.module(plain)).toEqual({ ok: true });
      expect(platform.module(taskModule)).toBe(platform.task);
      expect(() => platform.module(defineModule({ name: 'absent', migrations: [], create: () => ({ api: {} }) }))).toThrow(
        '"absent" is not in',
      );
    } finally {
      await platform.stop();
    }
  });
});

describe('masters a module declares', () => {
  it('are loaded at start: its role may call its route, others may not', async () => {
    const { platform, logged } = await start([...MODULES, probe(['PROBE_USER'])]);
    try {
      expect(logged('module masters loaded')).toBe(true);
      const admin = await adminAuth(platform);
      const prober = await employeeAuth(platform, admin, 'probe.user', ['PROBE_USER']);
      const clerk = await employeeAuth(platform, admin, 'probe.clerk', ['EMPLOYEE']);
      expect((await echo(platform, prober)).status).toBe(200);
      expect((await echo(platform, clerk)).status).toBe(403);
    } finally {
      await platform.stop();
    }
  });

  it('are loaded again when they change, and left alone when they do not', async () => {
    const changed = await start([...MODULES, probe(['PROBE_USER', 'EMPLOYEE'])]);
    try {
      expect(changed.logged('module masters loaded')).toBe(true);
      const admin = await adminAuth(changed.platform);
      const clerk = await employeeAuth(changed.platform, admin, 'probe.clerk2', ['EMPLOYEE']);
      expect((await echo(changed.platform, clerk)).status).toBe(200);
    } finally {
      await changed.platform.stop();
    }
    const same = await start([...MODULES, probe(['PROBE_USER', 'EMPLOYEE'])]);
    await same.platform.stop();
    expect(same.logged('module masters loaded')).toBe(false);
  });
});
