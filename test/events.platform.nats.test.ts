import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../src/kernel/clock.js';
import { createOutbox, type CloudEvent } from '../src/kernel/events.js';
import { deleteJetStream } from '../src/kernel/events.nats.js';
import { testPlatform } from './helpers.js';

/** createPlatform picks the bus from EVENT_BUS_URL; modules see the same Dispatcher either way (in-process: events.platform.test.ts). */
const NATS_URL = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const streams: string[] = [];
afterAll(async () => {
  for (const stream of streams) await deleteJetStream(NATS_URL, stream);
});

function jetStreamOptions() {
  const id = randomBytes(5).toString('hex');
  const stream = `PLINTH_PLATFORM_${id}`;
  streams.push(stream);
  return { stream, subjectPrefix: `plinth.platform.${id}`, partitions: 2 };
}

describe('the platform`s event bus', () => {
  it('with EVENT_BUS_URL, delivers through JetStream to a subscriber registered on the platform', { timeout: 60_000 }, async () => {
    const platform = await testPlatform({ config: { eventBusUrl: NATS_URL }, jetStream: jetStreamOptions() });
    try {
      expect(platform.dispatcher.mode).toBe('jetstream');
      const seen: CloudEvent[] = [];
      const type = 'plinth.test.platform.v1';
      platform.dispatcher.subscribe({ name: 'platform-test', types: [type], handle: async (e) => void seen.push(e) });
      const outbox = createOutbox(platform.database, systemClock, () => platform.dispatcher.kick());
      const event = await platform.database.transaction((tx) =>
        outbox.append(tx, { type, source: '/plinth/test', subject: 'p1', tenantId: 'pb', data: {} }),
      );
      await platform.dispatcher.settle();
      expect(seen.map((e) => e.id)).toEqual([event.id]);
    } finally {
      await platform.drop();
    }
  });
});
