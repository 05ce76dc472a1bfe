// Loaded before each file of `npm run test:fast` (see vitest.config.ts). The fast tier is the unit
// and HTTP tests, in-process: a test that starts a child process belongs in a *.processes.test.ts
// file, so starting one here fails the test instead of quietly making the tier slow.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

const STARTERS = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

for (const name of STARTERS) {
  Object.assign(childProcess, {
    [name]: () => {
      throw new Error(`${name}() in the fast tier: a test that starts a child process belongs in a *.processes.test.ts file (README, "Tests")`);
    },
  });
}
// `import { spawn } from 'node:child_process'` reads the ES module's own bindings: update them too.
syncBuiltinESMExports();
