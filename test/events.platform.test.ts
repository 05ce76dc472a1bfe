import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/kernel/clock.js';
import { createOutbox, createEventAdmin } from '../src/kernel/events.js';
import { testPlatform, type TestPlatform } from './helpers.js';

// createPlatform picks the bus from EVENT_BUS_URL; modules see the same Dispatcher either way
// (through JetStream: events.platform.nats.test.ts).

async function append(platform: TestPlatform, type: string) {
  const outbox = createOutbox(platform.database, systemClock, () => platform.dispatcher.kick());
  return platform.database.transaction((tx) =>
    outbox.append(tx, { type, source: '/plinth/test', subject: 'p1', tenantId: 'pb', data: {} }),
  );
}

describe('the platform`s event bus', () => {
  it('without it, delivers in-process; an api-role process only appends, a worker delivers', { timeout: 60_000 }, async () => {
    const api = await testPlatform({ config: { role: 'api' } });
    try {
      expect(api.dispatcher.mode).toBe('in-process');
      const type = 'plinth.test.platform.api.v1';
      const seen: string[] = [];
      api.dispatcher.subscribe({ name: 'platform-api-test', types: [type], handle: async (e) => void seen.push(e.id) });
      const event = await append(api, type);
      // The kick after commit does nothing in an api process: the event waits in the outbox.
      await new Promise((resolve) => setImmediate(resolve));
      expect(seen).toEqual([]);
      expect((await createEventAdmin(api.database, systemClock).list({ type })).map((e) => e.status)).toEqual(['pending']);
      // A worker (here: the same dispatcher started as a worker would) delivers it.
      await api.dispatcher.start();
      await api.dispatcher.settle();
      expect(seen).toEqual([event.id]);
    } finally {
      await api.dispatcher.stop();
      await api.drop();
    }
  });
});
