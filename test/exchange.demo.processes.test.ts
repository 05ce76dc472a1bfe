import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, eventually, testDatabase, type TestDatabase } from './helpers.js';
import { childClientReferenceId } from '../src/domain/immunization/index.js';
import { deleteJetStream } from '../src/kernel/events.nats.js';
import { call, listeningPort, processEnv, runPlinth, type PlinthProcess } from './process.js';

/**
 * Issue #6's demo rule across two Plinth processes: the civil registry (`pb.civil-registry`)
 * registers births; the health agency (`pb.health`), subscribed to them, makes each child's
 * vaccination schedule as tasks in its own registry. Between them sits a recording relay of the
 * test's own, so the test can replay and tamper with real signed messages.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CIVIL = 'pb.civil-registry';
const HEALTH = 'pb.health';
const DOSES = 6; // the seeded Immunization.Schedule: BCG, OPV-0, HEPB-0 at birth; OPV-1, OPV-2, OPV-3 at 6, 10, 14 weeks

type Agency = { db: TestDatabase; run?: PlinthProcess; port?: number; token?: string; env: Record<string, string> };

async function start(agency: Agency): Promise<void> {
  agency.run = runPlinth(['start'], agency.env);
  agency.port = await listeningPort(agency.run);
  const response = await fetch(`http://127.0.0.1:${agency.port}/user/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'admin', password: ADMIN_PASSWORD, tenantId: 'pb', userType: 'EMPLOYEE', grant_type: 'password' }),
  });
  expect(response.status).toBe(200);
  agency.token = ((await response.json()) as { access_token: string }).access_token;
}

async function stop(agency: Agency, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!agency.run || agency.run.child.exitCode !== null) return;
  agency.run.child.kill(signal);
  await agency.run.exited;
}

const api = (agency: Agency, url: string, body: Json) =>
  call(agency.port!, url, { RequestInfo: { authToken: agency.token }, ...body }, { authorization: `Bearer ${agency.token}` });

/** The relay: forwards every delivery to the health agency's current port and keeps what it saw. */
function relay(target: () => number | undefined) {
  const seen: Array<{ body: string; status: number }> = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const port = target();
      if (port === undefined) {
        response.writeHead(502).end();
        return;
      }
      fetch(`http://127.0.0.1:${port}${request.url}`, {
        method: 'POST',
        headers: { 'content-type': request.headers['content-type'] ?? 'application/jose' },
        body,
      })
        .then(async (answer) => {
          const text = await answer.text();
          seen.push({ body, status: answer.status });
          response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
        })
        .catch(() => response.writeHead(502).end());
    });
  });
  return { server, seen };
}

let serial = 0;
function birth(): Json {
  serial += 1;
  return {
    tenantId: 'pb.amritsar',
    clientReferenceId: `birth-${serial}-${Math.random().toString(36).slice(2, 8)}`,
    name: { givenName: `Baby${serial}`, familyName: 'Kaur' },
    dateOfBirth: `0${(serial % 9) + 1}/11/2026`,
    gender: serial % 2 ? 'FEMALE' : 'MALE',
    address: [{ type: 'PERMANENT', addressLine1: 'Ward 4', locality: { code: 'SUN04' } }],
    identifiers: [{ identifierType: 'BIRTH_REGISTRATION', identifierId: `BR-2026-${String(serial).padStart(6, '0')}` }],
  };
}

const NATS = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const run = `${process.pid}_${Date.now()}`;

// Each agency's own events (outbox → subscriptions fan-out; received births → scheduler) go
// in-process, or through NATS JetStream with a stream of its own on the shared server.
describe.each(['in-process', 'jetstream'] as const)('two agencies (%s events): births in the civil registry become vaccination schedules at health', (bus) => {
  const busEnv = (agency: string): Record<string, string> =>
    bus === 'jetstream' ? { EVENT_BUS_URL: NATS, PLINTH_EVENT_STREAM: `DEMO_${agency}_${run}` } : {};
  const civil: Agency = { env: {} } as Agency;
  const health: Agency = { env: {} } as Agency;
  const recorder = relay(() => (health.run?.child.exitCode === null ? health.port : undefined));
  let relayPort = 0;

  beforeAll(async () => {
    civil.db = await testDatabase();
    health.db = await testDatabase();
    civil.env = { ...processEnv(civil.db), PLINTH_AGENCY_ID: CIVIL, ...busEnv('CIVIL') };
    health.env = { ...processEnv(health.db), PLINTH_AGENCY_ID: HEALTH, ...busEnv('HEALTH') };
    await new Promise<void>((resolve) => recorder.server.listen(0, '127.0.0.1', resolve));
    relayPort = (recorder.server.address() as AddressInfo).port;
    await Promise.all([start(civil), start(health)]);
  });
  afterAll(async () => {
    await Promise.all([stop(civil, 'SIGKILL'), stop(health, 'SIGKILL')]);
    await new Promise((resolve) => recorder.server.close(resolve));
    await civil.db?.drop();
    await health.db?.drop();
    if (bus === 'jetstream') for (const agency of ['CIVIL', 'HEALTH']) await deleteJetStream(NATS, `DEMO_${agency}_${run}`);
  });

  it('runs the rule end to end, survives the receiver being down, ignores duplicates and refuses tampering', async () => {
    // 1. Each agency trusts the other's published keys.
    for (const [self, other, otherId] of [
      [civil, health, HEALTH],
      [health, civil, CIVIL],
    ] as const) {
      const jwks = await call(other.port!, '/exchange/v1/.well-known/jwks.json');
      expect(jwks.status).toBe(200);
      const registered = await api(self, '/exchange/v1/agencies/_create', {
        Agency: { agencyId: otherId, name: otherId, jwks: jwks.body, status: 'ACTIVE' },
      });
      expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    }

    // 2. Health subscribes (the civil registry's operator sets it up) to births, names and dates only.
    const subscribed = await api(civil, '/exchange/v1/subscriptions/_create', {
      Subscription: {
        tenantId: 'pb',
        agencyId: HEALTH,
        tenantIds: ['pb'],
        eventTypes: ['plinth.individual.created.v1'],
        conditions: [{ path: 'identifiers.identifierType', op: 'eq', value: 'BIRTH_REGISTRATION' }],
        fields: ['individualId', 'clientReferenceId', 'tenantId', 'name', 'dateOfBirth', 'gender', 'identifiers', 'address'],
        webhookUrl: `http://127.0.0.1:${relayPort}/exchange/v1/events/_receive`,
        status: 'ACTIVE',
        maxAttempts: 50,
      },
    });
    expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(200);

    const register = async (person: Json) => {
      const created = await api(civil, '/individual/v1/_create', { Individual: person });
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      return created.body['Individual'] as Json;
    };
    const tasksOf = async (registrationNumber: string) => {
      const child = childClientReferenceId(CIVIL, 'pb.amritsar', registrationNumber);
      const found = await api(health, '/project/task/v1/_search?tenantId=pb.amritsar&limit=100&offset=0', {
        Task: { projectBeneficiaryClientReferenceId: [child] },
      });
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      return found.body['Tasks'] as Json[];
    };
    const allTasks = async () => {
      const found = await api(health, '/project/task/v1/_search?tenantId=pb.amritsar&limit=1000&offset=0', { Task: { projectId: 'PJT-UIP-PB' } });
      expect(found.status, JSON.stringify(found.body)).toBe(200);
      return found.body['Tasks'] as Json[];
    };

    // 3. Births registered while both run.
    const first = [birth(), birth()];
    for (const person of first) await register(person);
    // A person who is not a birth is not sent at all.
    await register({ ...birth(), identifiers: [{ identifierType: 'AADHAAR', identifierId: '400012345678' }], dateOfBirth: '01/01/1990' });
    await eventually(async () => (await allTasks()).length >= first.length * DOSES, 60_000, 'the first schedules');
    for (const person of first) {
      const tasks = await tasksOf(person.identifiers[0].identifierId);
      expect(tasks.map((t) => t.additionalFields?.fields?.find?.((f: Json) => f.key === 'doseCode')?.value).sort()).toEqual(
        ['BCG', 'HEPB-0', 'OPV-0', 'OPV-1', 'OPV-2', 'OPV-3'],
      );
      // OPV-1 is due six weeks after birth, at midnight in the government's time zone.
      const [day, month, year] = (person.dateOfBirth as string).split('/').map(Number);
      const opv1 = tasks.find((t) => JSON.stringify(t).includes('OPV-1'))!;
      expect(opv1.plannedStartDate).toBe(Date.UTC(year!, month! - 1, day! + 42) - 330 * 60_000);
    }
    expect((await allTasks()).length).toBe(first.length * DOSES);
    const perChild = DOSES;

    // 4. The receiver goes down; births keep being registered; nothing is lost.
    await stop(health, 'SIGKILL');
    const second = [birth(), birth(), birth()];
    for (const person of second) await register(person);
    await eventually(
      async () => {
        const deliveries = await api(civil, '/exchange/v1/deliveries/_search', { DeliveryCriteria: { tenantId: 'pb' } });
        return (deliveries.body['Deliveries'] as Json[] | undefined)?.some((d) => Number(d['attempts']) > 0 && d['status'] !== 'DELIVERED');
      },
      30_000,
      'a failed attempt while the receiver is down',
    );
    await start(health);
    await eventually(async () => (await allTasks()).length === (first.length + second.length) * perChild, 60_000, 'the schedules after the restart');

    // 5. The very same signed message again: answered DUPLICATE, no new task.
    const delivered = recorder.seen.filter((s) => s.status === 200);
    expect(delivered.length).toBeGreaterThanOrEqual(first.length + second.length);
    const again = await fetch(`http://127.0.0.1:${health.port}/exchange/v1/events/_receive`, {
      method: 'POST',
      headers: { 'content-type': 'application/jose' },
      body: delivered[0]!.body,
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Json)['status']).toBe('DUPLICATE');

    // 6. The civil registry replays everything it sent: new messages for the same births, still no duplicate task.
    const replay = await api(civil, '/exchange/v1/subscriptions/_replay', {
      tenantId: 'pb',
      id: (subscribed.body['Subscriptions'] as Json[])[0]!['id'],
      fromTime: 0,
    });
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    const seenBefore = recorder.seen.length;
    await eventually(async () => recorder.seen.length >= seenBefore + first.length + second.length, 30_000, 'the replayed messages');
    // Let the health side's dispatcher run over the replayed events.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await allTasks()).length).toBe((first.length + second.length) * perChild);

    // 7. A tampered message (the child's date of birth changed, signature kept) is refused and changes nothing.
    const [header, payload, signature] = delivered[1]!.body.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Json;
    claims['jti'] = `${String(claims['jti'])}-x`;
    claims['event']['data']['dateOfBirth'] = '01/01/2020';
    const forged = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    const refused = await fetch(`http://127.0.0.1:${health.port}/exchange/v1/events/_receive`, {
      method: 'POST',
      headers: { 'content-type': 'application/jose' },
      body: forged,
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as Json)['Errors'][0]['code']).toBe('INVALID_SIGNATURE');
    expect((await allTasks()).length).toBe((first.length + second.length) * perChild);

    // 8. The civil registry is killed (-9) right after committing a batch of births, in the middle
    //    of fanning out and sending them: after its restart every birth arrives, none twice.
    const third = Array.from({ length: 8 }, birth);
    const batch = await api(civil, '/individual/v1/bulk/_create', { Individuals: third });
    expect(batch.status, JSON.stringify(batch.body)).toBe(200);
    expect((batch.body['Individuals'] as Json[]).length).toBe(third.length);
    await stop(civil, 'SIGKILL');
    await start(civil);
    const everyone = [...first, ...second, ...third];
    await eventually(async () => (await allTasks()).length === everyone.length * perChild, 60_000, 'the schedules after the sender restarted');
    for (const person of third) expect(await tasksOf(person.identifiers[0].identifierId)).toHaveLength(DOSES);
  }, 240_000);
});
