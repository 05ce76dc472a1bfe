import { describe, expect, it } from 'vitest';
import { createPassLoop } from './loop.js';

/** A pass that waits for the test to let it finish. */
function gatedPass() {
  const gates: Array<() => void> = [];
  let calls = 0;
  const pass = async () => {
    calls++;
    await new Promise<void>((resolve) => gates.push(resolve));
    return 1;
  };
  const release = async () => {
    while (gates.length === 0) await new Promise((r) => setTimeout(r, 1));
    gates.shift()!();
  };
  return { pass, release, calls: () => calls };
}

describe('createPassLoop', () => {
  it('runs one pass at a time, and once more for asks that came during a pass', async () => {
    const gated = gatedPass();
    const loop = createPassLoop(gated.pass, { pollIntervalMs: 60_000 });
    const first = loop.run();
    const second = loop.run();
    const third = loop.run();
    expect(second).toBe(first);
    expect(third).toBe(first);
    await gated.release();
    await gated.release(); // the one more pass the asks called for
    expect(await first).toBe(2);
    expect(gated.calls()).toBe(2);
  });

  it('runs again while `again` says so', async () => {
    const results = [3, 2, 0];
    const loop = createPassLoop(async () => results.shift() ?? 0, { pollIntervalMs: 60_000, again: (n) => n > 0 });
    expect(await loop.run()).toBe(5);
    expect(results).toEqual([]);
  });

  it('polls while started, reports failures and keeps polling, and stop waits for the pass in progress', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const loop = createPassLoop(
      async () => {
        calls++;
        if (calls === 1) throw new Error('database away');
        return 0;
      },
      { pollIntervalMs: 5, onError: (error) => errors.push(error) },
    );
    loop.start();
    while (calls < 3) await new Promise((r) => setTimeout(r, 2));
    await loop.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(after);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('database away');
  });

  it('does nothing on a kick while stopped', async () => {
    let calls = 0;
    const loop = createPassLoop(async () => ++calls, { pollIntervalMs: 5 });
    loop.kick();
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(0);
  });
});
