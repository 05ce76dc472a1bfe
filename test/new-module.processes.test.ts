import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeActionBlock, newModule, NewModuleError, renamer } from '../src/cli/new-module.js';

/**
 * `plinth new-module`: the recipe's promise is a working registry with no edit outside its folder
 * but its entry in the module list. Proved on a copy of the project: generate `license` with the
 * real command, check that nothing else changed, then type-check the copy and run the generated
 * tests there (they boot the platform `npm start` runs, on this run's database engine).
 */

const run = promisify(execFile);
const ROOT = path.resolve('.');
const PLINTH = path.join(ROOT, 'bin', 'plinth.js');

describe('naming a new module', () => {
  it('renames the template`s sample in every spelling', () => {
    const rename = renamer('trade-license');
    expect(rename("export const sampleModule = defineModule<SampleApi>({ name: 'sample',")).toBe(
      "export const tradeLicenseModule = defineModule<TradeLicenseApi>({ name: 'trade-license',",
    );
    expect(rename("Samples: [], createTable('samples'), 'SAMPLE_REGISTRAR', '/sample/v1/_create', 'plinth.sample.created.v1'")).toBe(
      "TradeLicenses: [], createTable('trade_licenses'), 'TRADE_LICENSE_REGISTRAR', '/trade-license/v1/_create', 'plinth.trade-license.created.v1'",
    );
    expect(renamer('property')('Samples samples')).toBe('Properties properties');
  });

  it('takes a block of action ids above every one the seed and the modules use', async () => {
    const seedIds: number[] = [];
    for (const file of await fs.readdir('seed/mdms', { recursive: true })) {
      if (!file.endsWith('.json')) continue;
      const content = JSON.parse(await fs.readFile(path.join('seed/mdms', file), 'utf8')) as {
        schemaCode?: string;
        data?: Array<{ id?: unknown }>;
      };
      if (content.schemaCode?.startsWith('ACCESSCONTROL-ACTIONS'))
        seedIds.push(...(content.data ?? []).map((a) => a.id).filter((id): id is number => typeof id === 'number'));
    }
    const first = await freeActionBlock(ROOT);
    expect(first).toBeGreaterThan(Math.max(...seedIds));
    expect(first % 100).toBe(1);
  });

  it('refuses a name that is not one, or that a module has already', async () => {
    await expect(newModule(ROOT, 'Trade_License')).rejects.toThrow(NewModuleError);
    await expect(newModule(ROOT, 'task')).rejects.toThrow('src/domain/task exists already');
  });
});

describe('npx plinth new-module license, on a copy of the project', () => {
  let copy: string;
  const hashes = async (dir: string) => {
    const out = new Map<string, string>();
    for (const top of ['src', 'test', 'seed']) {
      for (const entry of await fs.readdir(path.join(dir, top), { withFileTypes: true, recursive: true })) {
        if (!entry.isFile()) continue;
        const file = path.relative(dir, path.join(entry.parentPath, entry.name));
        out.set(
          file,
          createHash('sha256')
            .update(await fs.readFile(path.join(dir, file)))
            .digest('hex'),
        );
      }
    }
    return out;
  };

  beforeAll(async () => {
    copy = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-recipe-'));
    for (const dir of ['src', 'test', 'seed', 'bin']) await fs.cp(path.join(ROOT, dir), path.join(copy, dir), { recursive: true });
    for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'vitest.config.ts'])
      await fs.copyFile(file, path.join(copy, file));
    await fs.symlink(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  });
  afterAll(() => fs.rm(copy, { recursive: true, force: true }));

  it(
    'makes a registry whose tests pass, with no edit outside its folder but its entry in the module list',
    { timeout: 900_000 },
    async () => {
      const before = await hashes(copy);
      const made = await run(process.execPath, [PLINTH, 'new-module', 'license'], { cwd: copy });
      expect(made.stdout).toContain('made src/domain/license/');

      const after = await hashes(copy);
      const changed = [...after.keys()].filter((file) => before.get(file) !== after.get(file)).sort();
      const created = changed.filter((file) => file.startsWith(path.join('src', 'domain', 'license') + path.sep));
      expect(changed.filter((file) => !created.includes(file))).toEqual([path.join('src', 'modules.ts')]);
      expect(created).toEqual(
        expect.arrayContaining(
          [
            'index.ts',
            'license.service.ts',
            'license.store.ts',
            'license.routes.ts',
            'license.http.test.ts',
            'migrations/0001_init.ts',
          ].map((f) => path.join('src', 'domain', 'license', f)),
        ),
      );
      const original = (await fs.readFile(path.join(ROOT, 'src', 'modules.ts'), 'utf8')).split('\n');
      const registered = (await fs.readFile(path.join(copy, 'src', 'modules.ts'), 'utf8')).split('\n');
      expect(registered.filter((line) => !original.includes(line))).toEqual([
        "import { licenseModule } from './domain/license/index.js';",
        '  licenseModule,',
      ]);
      expect(original.filter((line) => !registered.includes(line))).toEqual([]);
      // A second run refuses rather than overwrite.
      await expect(run(process.execPath, [PLINTH, 'new-module', 'license'], { cwd: copy })).rejects.toMatchObject({ code: 1 });

      // The whole copy type-checks (the module, its tests and the module list) …
      await run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: copy });
      // … and the generated tests pass on this run's database, against the platform with the module registered.
      const project = process.env['PLINTH_TEST_DB'] === 'postgres' ? 'postgres' : 'sqlite';
      const tests = await run(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', 'src/domain/license', '--project', project, '--reporter', 'verbose'],
        {
          cwd: copy,
          // A run of its own: none of this run's vitest settings leak in.
          env: {
            ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST'))),
            PLINTH_TEST_WORKERS: '1',
            NO_COLOR: '1',
          },
          maxBuffer: 32 * 1024 * 1024,
        },
      );
      expect(tests.stdout).toMatch(/Tests\s+9 passed \(9\)/);
      expect(tests.stdout).toContain('is in the module list of the platform `npm start` runs');
    },
  );
});
