import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../src/kernel/db.js';
import { ADMIN_PASSWORD, demoDatabase, eventually, type TestDatabase } from './helpers.js';
import { call, listeningPort, processEnv, runPlinth, type PlinthProcess } from './process.js';

/**
 * Issue #7: a complaint's SMS is sent from the outbox, so a Plinth process killed (-9) after a
 * transition committed but before its SMS was delivered sends that SMS after its restart, once.
 * The SMS gateway is an HTTP server of this test (PLINTH_SMS_PROVIDER=http) that can hold a
 * request unanswered: the kill comes while the gateway holds the transition's SMS, so at kill
 * time it has deterministically not been accepted.
 */

type Json = Record<string, unknown>;
type Sms = { mobileNumber: string; message: string; tenantId: string };

const PASSWORD = 'Field@2026x';
const BASE = '/pgr-services/v2/request';
const CITIZEN_MOBILE = '9788888888';

/** The SMS gateway: answers 202 (accepted), or holds requests without an answer. */
function gateway() {
  const received: Sms[] = [];
  const accepted: Sms[] = [];
  const held: http.ServerResponse[] = [];
  let holding = false;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const sms = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Sms;
      received.push(sms);
      if (holding) {
        held.push(response);
        return;
      }
      accepted.push(sms);
      response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"queued"}');
    });
  });
  return {
    server,
    received,
    accepted,
    hold: (on: boolean) => {
      holding = on;
    },
    close() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a complaint transition whose SMS is pending when plinth is killed with SIGKILL', () => {
  const sms = gateway();
  let db: TestDatabase;
  let env: Record<string, string>;
  let run: PlinthProcess | undefined;
  let port = 0;
  let database: Database | undefined;

  async function start(): Promise<void> {
    run = runPlinth(['start'], env);
    port = await listeningPort(run);
  }
  async function stop(signal: NodeJS.Signals): Promise<number | null> {
    if (!run || run.child.exitCode !== null || run.child.signalCode !== null) return null;
    run.child.kill(signal);
    return run.exited;
  }

  beforeAll(async () => {
    await new Promise<void>((resolve) => sms.server.listen(0, '127.0.0.1', resolve));
    db = await demoDatabase();
    env = {
      ...processEnv(db),
      PLINTH_SMS_PROVIDER: 'http',
      PLINTH_SMS_URL: `http://127.0.0.1:${(sms.server.address() as AddressInfo).port}/sms`,
    };
  });
  afterAll(async () => {
    await stop('SIGKILL');
    await database?.close();
    await sms.close();
    await db?.drop();
  });

  async function token(
    username: string,
    password: string,
    tenantId: string,
    userType: string,
  ): Promise<{ auth: Record<string, string>; uuid: string }> {
    const response = await fetch(`http://127.0.0.1:${port}/user/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ZWdvdi11c2VyLWNsaWVudDo=' },
      body: new URLSearchParams({ username, password, tenantId, userType, grant_type: 'password', scope: 'read' }),
    });
    const body = (await response.json()) as Json;
    expect(response.status, JSON.stringify(body)).toBe(200);
    return { auth: { authorization: `Bearer ${String(body['access_token'])}` }, uuid: String((body['UserRequest'] as Json)['uuid']) };
  }

  async function person(
    admin: Record<string, string>,
    userName: string,
    type: 'EMPLOYEE' | 'CITIZEN',
    roles: readonly string[],
    mobileNumber: string,
  ) {
    const tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar';
    const user = {
      userName,
      name: `Person ${userName}`,
      password: PASSWORD,
      type,
      tenantId,
      mobileNumber,
      roles: roles.map((code) => ({ code, tenantId })),
    };
    const created = await call(port, '/user/users/_createnovalidate', { RequestInfo: {}, user }, admin);
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    return token(userName, PASSWORD, tenantId, type);
  }

  async function act(path: '_create' | '_update', auth: Record<string, string>, service: Json, workflow: Json): Promise<Json> {
    const { status, body } = await call(port, `${BASE}/${path}`, { RequestInfo: {}, service, workflow }, auth);
    expect(status, JSON.stringify(body)).toBe(200);
    return ((body['ServiceWrappers'] as Json[])[0] as { service: Json }).service;
  }

  /** The notification rows and outbox events of one transition's SMS, read from the database. */
  async function smsState(id: string, action: string) {
    database ??= await connectDatabase(db.config);
    const kysely = database.kysely.withTables<{
      plinth_outbox: { type: string; subject: string; status: string };
      notification_message: { idempotency_key: string; channel: string; status: string; attempts: number };
    }>();
    const events = await kysely
      .selectFrom('plinth_outbox')
      .select('status')
      .where('type', '=', 'plinth.notification.requested.v1')
      .where('subject', 'like', `${id}:${action}:%/SMS/%`)
      .execute();
    const messages = await kysely
      .selectFrom('notification_message')
      .select(['status', 'attempts'])
      .where('idempotency_key', 'like', `${id}:${action}:%`)
      .where('channel', '=', 'SMS')
      .execute();
    return { events: events.map((e) => e.status), messages: messages.map((m) => [m.status, Number(m.attempts)]) };
  }

  it('sends the SMS of a committed transition after the restart, exactly once', { timeout: 180_000 }, async () => {
    await start();
    const admin = (await token('admin', ADMIN_PASSWORD, 'pb', 'EMPLOYEE')).auth;
    const gro = await person(admin, 'proc_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9788888801');
    const lme = await person(admin, 'proc_lme', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9788888802');
    const citizen = await person(admin, CITIZEN_MOBILE, 'CITIZEN', ['CITIZEN'], CITIZEN_MOBILE);

    // Filed while the gateway accepts: its SMS goes out.
    const filed = await act(
      '_create',
      citizen.auth,
      { tenantId: 'pb.amritsar', serviceCode: 'StreetLightNotWorking', description: 'out', address: { locality: { code: 'SUN04' } } },
      { action: 'APPLY' },
    );
    const id = String(filed['serviceRequestId']);
    const type = String((filed['additionalDetail'] as Json)['serviceName']);
    const of = (list: Sms[], text: string) =>
      list.filter((m) => m.mobileNumber === CITIZEN_MOBILE && m.message.includes(id) && m.message.includes(text));
    await eventually(async () => of(sms.accepted, 'was filed on').length === 1, 30_000, 'the filing SMS');

    // The gateway now holds what it gets; the GRO assigns; the transition commits and answers.
    sms.hold(true);
    const assigned = await act(
      '_update',
      gro.auth,
      { tenantId: 'pb.amritsar', serviceRequestId: id },
      { action: 'ASSIGN', assignes: [lme.uuid] },
    );
    expect(assigned['applicationStatus']).toBe('PENDINGATLME');
    await eventually(async () => of(sms.received, 'is now with').length === 1, 30_000, 'the assignment SMS reaching the held gateway');
    expect(await stop('SIGKILL')).toBeNull(); // killed by the signal, no exit code
    run = undefined;

    // At the kill: committed, asked of the gateway, not accepted; the event still pending.
    expect(of(sms.accepted, 'is now with')).toEqual([]);
    expect(await smsState(id, 'ASSIGN')).toEqual({ events: ['pending'], messages: [['sending', 1]] });

    // The same database, a new process, a gateway that accepts again.
    sms.hold(false);
    await start();
    const expected = `Your complaint ${id} about ${type} is now with Person proc_lme.`;
    await eventually(async () => of(sms.accepted, 'is now with').length >= 1, 60_000, 'the assignment SMS after the restart');
    // Sent again (the first attempt was never accepted), and recorded as sent.
    await eventually(async () => (await smsState(id, 'ASSIGN')).events[0] === 'delivered', 30_000, 'the assignment SMS event delivered');
    expect(await smsState(id, 'ASSIGN')).toEqual({ events: ['delivered'], messages: [['sent', 2]] });

    // Later steps still go out, and after them (and a few more dispatcher passes) nothing was sent twice.
    await act('_update', lme.auth, { tenantId: 'pb.amritsar', serviceRequestId: id }, { action: 'RESOLVE', comments: 'fixed' });
    await eventually(async () => of(sms.accepted, 'has been resolved').length === 1, 30_000, 'the resolution SMS');
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(of(sms.accepted, 'is now with').map((m) => m.message)).toEqual([expected]);
    expect(of(sms.accepted, 'was filed on')).toHaveLength(1);
    expect(of(sms.accepted, 'has been resolved')).toHaveLength(1);
    expect(sms.accepted.filter((m) => m.message.includes(id))).toHaveLength(3);
    expect(sms.accepted.every((m) => m.tenantId === 'pb.amritsar')).toBe(true);

    expect(await stop('SIGTERM')).toBe(0);
  });
});
