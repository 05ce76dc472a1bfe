import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DomainError } from '../../kernel/errors.js';
import { SYSTEM_SCOPE } from '../../kernel/scope.js';
import { SEED_DIR, adminAuth, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { LocalizationTables } from './localization.store.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let platform: TestPlatform;
let admin: Record<string, string>;
beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
});
afterAll(async () => {
  await platform.drop();
});

const SEARCH = '/localization/messages/v1/_search';
const service = () => platform.localization.service;
const system = { uuid: null };

async function search(query: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await post(platform, `${SEARCH}?${new URLSearchParams(query).toString()}`, { RequestInfo: requestInfo }, headers);
  return { status: response.status, body: response.body as Json, messages: (response.body['messages'] ?? []) as Json[] };
}
const messageOf = async (tenantId: string, locale: string, code: string, module = 'test-merge') =>
  (await search({ tenantId, locale, module, codes: code })).messages.find((m) => m['code'] === code);
const upsert = (tenantId: string, messages: Json[], headers = admin) =>
  post(platform, '/localization/messages/v1/_upsert', { RequestInfo: requestInfo, tenantId, messages }, headers);
const msg = (code: string, message: string, locale = 'en_IN', module = 'test-merge') => ({ code, message, module, locale });

async function employee(userName: string, roles: Array<{ code: string; tenantId: string }>, tenantId = 'pb.amritsar') {
  const created = await post(
    platform,
    '/user/users/_createnovalidate',
    {
      RequestInfo: {},
      user: {
        userName,
        name: `Employee ${userName}`,
        password: 'Clerk@123',
        type: 'EMPLOYEE',
        tenantId,
        mobileNumber: '9812345678',
        roles,
      },
    },
    admin,
  );
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const token = await login(platform, userName, 'Clerk@123', tenantId);
  return { authorization: `Bearer ${String(token.body['access_token'])}` };
}

/** A 400 in egov-localization's legacy shape that also carries the platform's `Errors`. */
function expectRefusal(response: { status: number; body: Json }, code: string, field?: string) {
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  expect(response.body['responseInfo']).toBeNull();
  expect(response.body['error']).toMatchObject({ code: 400, description: null });
  expect(response.body['error'].fields).toContainEqual(expect.objectContaining({ code, ...(field ? { field } : {}) }));
  expect(response.body['ResponseInfo']).toBeNull();
  expect(response.body['Errors']).toContainEqual(expect.objectContaining({ code }));
}

describe('the demo messages', () => {
  it('are searchable without a token, in English and Hindi, through POST and GET', async () => {
    const hindi = await search({ tenantId: 'pb', locale: 'hi_IN', module: 'rainmaker-pgr', codes: 'SERVICEDEFS.NOSTREETLIGHT' });
    expect(hindi.status).toBe(200);
    expect(hindi.body).toEqual({
      messages: [{ code: 'SERVICEDEFS.NOSTREETLIGHT', message: 'स्ट्रीट लाइट नहीं लगी है', module: 'rainmaker-pgr', locale: 'hi_IN' }],
    });

    const get = await platform.app.inject({
      method: 'GET',
      url: '/localization/messages?tenantId=pb.amritsar&locale=en_IN&module=rainmaker-common&codes=TENANT_TENANTS_PB_AMRITSAR,COMMON_MASTERS_DEPARTMENT_DEPT_1',
    });
    expect(get.statusCode).toBe(200);
    expect((get.json() as Json)['messages'].map((m: Json) => m['message'])).toEqual(['Street Lights', 'Amritsar']);
  });

  it('answer a whole module sorted by code, and several modules at once', async () => {
    const common = await search({ tenantId: 'pb', locale: 'en_IN', module: 'rainmaker-common' });
    const codes = common.messages.map((m) => m['code'] as string);
    expect(codes.length).toBeGreaterThan(100);
    expect(codes).toEqual([...codes].sort());
    const both = await search({ tenantId: 'pb', locale: 'en_IN', module: 'rainmaker-common,egov-user' });
    expect(both.messages.length).toBe(common.messages.length + 3);
  });

  it('serve v2 search to a logged-in user with the criteria in the body', async () => {
    const body = {
      RequestInfo: requestInfo,
      MessageSearchCriteria: { tenantId: 'pb', locale: 'hi_IN', module: 'egov-user', codes: ['sms.login.otp.msg'] },
    };
    expect((await post(platform, '/localization/messages/v2/_search', body)).status).toBe(401);
    const found = await post(platform, '/localization/messages/v2/_search', body, admin);
    expect(found.status).toBe(200);
    expect((found.body['messages'] as Json[])[0]).toMatchObject({ code: 'sms.login.otp.msg', locale: 'hi_IN' });
  });
});

describe('merging city → state → default, and en_IN filling gaps', () => {
  beforeAll(async () => {
    // Nobody's role covers `default` over HTTP; it is written through the API (or a seed).
    await service().upsert(
      'default',
      [msg('M_ALL', 'default all'), msg('M_STATE', 'default state'), msg('M_CITY', 'default city'), msg('M_EN_ONLY', 'English only')],
      system,
      SYSTEM_SCOPE,
    );
    expect(
      (await upsert('pb', [msg('M_STATE', 'state state'), msg('M_CITY', 'state city'), msg('M_ALL', 'राज्य सब', 'hi_IN')])).status,
    ).toBe(200);
    expect((await upsert('pb.amritsar', [msg('M_CITY', 'city city')])).status).toBe(200);
  });

  it('takes the most specific tenant per code', async () => {
    expect((await messageOf('pb.amritsar', 'en_IN', 'M_CITY'))?.['message']).toBe('city city');
    expect((await messageOf('pb.amritsar', 'en_IN', 'M_STATE'))?.['message']).toBe('state state');
    expect((await messageOf('pb.amritsar', 'en_IN', 'M_ALL'))?.['message']).toBe('default all');
    expect((await messageOf('pb.jalandhar', 'en_IN', 'M_CITY'))?.['message']).toBe('state city');
    expect((await messageOf('pb', 'en_IN', 'M_CITY'))?.['message']).toBe('state city');
    expect((await messageOf('default', 'en_IN', 'M_CITY'))?.['message']).toBe('default city');
  });

  it('fills codes the locale lacks from en_IN, marked en_IN', async () => {
    const all = await search({ tenantId: 'pb.amritsar', locale: 'hi_IN', module: 'test-merge' });
    expect(all.messages).toEqual([
      { code: 'M_ALL', message: 'राज्य सब', module: 'test-merge', locale: 'hi_IN' },
      { code: 'M_CITY', message: 'city city', module: 'test-merge', locale: 'en_IN' },
      { code: 'M_EN_ONLY', message: 'English only', module: 'test-merge', locale: 'en_IN' },
      { code: 'M_STATE', message: 'state state', module: 'test-merge', locale: 'en_IN' },
    ]);
  });
});

describe('writes', () => {
  it('upsert is idempotent: the same call again changes nothing, a new text changes one message', async () => {
    const batch = [msg('U_1', 'one', 'en_IN', 'test-upsert'), msg('U_2', 'two', 'en_IN', 'test-upsert')];
    const first = await upsert('pb', batch);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ messages: batch });
    expect(await service().upsert('pb', batch, system, SYSTEM_SCOPE)).toEqual({ created: 0, updated: 0, unchanged: 2 });
    expect(await service().upsert('pb', [{ ...batch[0]!, message: 'one, changed' }, batch[1]!], system, SYSTEM_SCOPE)).toEqual({
      created: 0,
      updated: 1,
      unchanged: 1,
    });
    expect((await messageOf('pb', 'en_IN', 'U_1', 'test-upsert'))?.['message']).toBe('one, changed');
  });

  it('create refuses an existing message; update refuses a missing one; both change nothing then', async () => {
    const create = (messages: Json[]) =>
      post(platform, '/localization/messages/v1/_create', { RequestInfo: requestInfo, tenantId: 'pb', messages }, admin);
    expect((await create([msg('C_1', 'created', 'en_IN', 'test-create')])).status).toBe(200);
    expectRefusal(
      await create([msg('C_2', 'new', 'en_IN', 'test-create'), msg('C_1', 'again', 'en_IN', 'test-create')]),
      'core.DUPLICATE_MESSAGE_IDENTITY',
      'messages[1]',
    );
    expect(await messageOf('pb', 'en_IN', 'C_2', 'test-create')).toBeUndefined();

    const update = (messages: Json[]) =>
      post(
        platform,
        '/localization/messages/v1/_update',
        { RequestInfo: requestInfo, tenantId: 'pb', locale: 'en_IN', module: 'test-create', messages },
        admin,
      );
    expectRefusal(
      await update([
        { code: 'C_1', message: 'updated' },
        { code: 'C_MISSING', message: 'x' },
      ]),
      'MESSAGE_NOT_FOUND',
      'messages[1]',
    );
    expect((await messageOf('pb', 'en_IN', 'C_1', 'test-create'))?.['message']).toBe('created');
    const updated = await update([{ code: 'C_1', message: 'updated' }]);
    expect(updated.body).toEqual({ messages: [{ code: 'C_1', message: 'updated', module: 'test-create', locale: 'en_IN' }] });
    expect((await messageOf('pb', 'en_IN', 'C_1', 'test-create'))?.['message']).toBe('updated');
  });

  it('delete removes messages by key and is idempotent', async () => {
    await upsert('pb', [msg('D_1', 'delete me', 'en_IN', 'test-delete'), msg('D_2', 'keep me', 'en_IN', 'test-delete')]);
    const del = () =>
      post(
        platform,
        '/localization/messages/v1/_delete',
        { RequestInfo: requestInfo, tenantId: 'pb', messages: [{ code: 'D_1', module: 'test-delete', locale: 'en_IN' }] },
        admin,
      );
    expect((await del()).body).toEqual({ successful: true });
    expect((await search({ tenantId: 'pb', locale: 'en_IN', module: 'test-delete' })).messages.map((m) => m['code'])).toEqual(['D_2']);
    expect((await del()).body).toEqual({ successful: true });
  });

  it('announces a change in the outbox, and no event for a write that changes nothing', async () => {
    const events = async () =>
      (
        await platform.database.kysely
          .withTables<{ plinth_outbox: { type: string } }>()
          .selectFrom('plinth_outbox')
          .select('type')
          .where('type', 'like', 'plinth.localization.%')
          .execute()
      ).length;
    const before = await events();
    await upsert('pb', [msg('E_1', 'event', 'en_IN', 'test-events')]);
    expect(await events()).toBe(before + 1);
    await upsert('pb', [msg('E_1', 'event', 'en_IN', 'test-events')]);
    expect(await events()).toBe(before + 1);
  });
});

describe('the read cache', () => {
  const db = () => platform.database.kysely.withTables<LocalizationTables>() as unknown as Kysely<LocalizationTables>;

  it('is dropped by a write, so a search right after it sees it', async () => {
    expect(await messageOf('pb', 'en_IN', 'K_1', 'test-cache')).toBeUndefined(); // cached now, empty
    await upsert('pb', [msg('K_1', 'first', 'en_IN', 'test-cache')]);
    expect((await messageOf('pb', 'en_IN', 'K_1', 'test-cache'))?.['message']).toBe('first');
  });

  /**
   * On PostgreSQL our own writes come back through LISTEN a little later and drop the cache again;
   * a notification published now arrives after them (commit order), so once it is here all are.
   */
  async function settled() {
    let calls = 0;
    const off = platform.changes.subscribe('localization-test-fence', () => calls++);
    await platform.database.transaction((tx) => platform.changes.publish(tx, 'localization-test-fence'));
    await vi.waitFor(() => expect(calls).toBe(platform.database.dialect === 'postgres' ? 2 : 1), { timeout: 5000, interval: 10 });
    off();
  }

  it('serves from memory until cache-bust, which an operator calls after changing rows directly', async () => {
    await settled();
    expect((await messageOf('pb', 'en_IN', 'K_1', 'test-cache'))?.['message']).toBe('first');
    await db().updateTable('localization_message').set({ message: 'changed behind the service' }).where('code', '=', 'K_1').execute();
    expect((await messageOf('pb', 'en_IN', 'K_1', 'test-cache'))?.['message']).toBe('first');
    expect((await post(platform, '/localization/messages/cache-bust', { RequestInfo: requestInfo })).status).toBe(401);
    const bust = await post(platform, '/localization/messages/cache-bust', { RequestInfo: requestInfo }, admin);
    expect(bust.body).toEqual({ responseInfo: null, isSuccessful: true });
    expect((await messageOf('pb', 'en_IN', 'K_1', 'test-cache'))?.['message']).toBe('changed behind the service');
  });
});

describe('who may write', () => {
  let locAdminCity: Record<string, string>;
  let clerk: Record<string, string>;
  beforeAll(async () => {
    locAdminCity = await employee('loc.amritsar', [{ code: 'LOC_ADMIN', tenantId: 'pb.amritsar' }]);
    clerk = await employee('loc.clerk', [{ code: 'EMPLOYEE', tenantId: 'pb.amritsar' }]);
  });

  it('refuses anonymous writes (401) and open searches ignore a bad token', async () => {
    for (const url of [
      '/localization/messages/v1/_upsert',
      '/localization/messages/v1/_create',
      '/localization/messages/v1/_update',
      '/localization/messages/v1/_delete',
    ]) {
      expect((await post(platform, url, { RequestInfo: requestInfo, tenantId: 'pb', messages: [msg('W', 'w')] })).status, url).toBe(401);
    }
    expect(
      (await search({ tenantId: 'pb', locale: 'en_IN', codes: 'TENANT_TENANTS_PB' }, { authorization: 'Bearer not-a-token' })).messages,
    ).toHaveLength(1);
  });

  it('lets a city LOC_ADMIN write its city but not the state, and an ordinary employee neither', async () => {
    expect((await upsert('pb.amritsar', [msg('W_CITY', 'by the city admin', 'en_IN', 'test-roles')], locAdminCity)).status).toBe(200);
    expect((await upsert('pb', [msg('W_STATE', 'by the city admin', 'en_IN', 'test-roles')], locAdminCity)).status).toBe(403);
    expect((await upsert('pb.amritsar', [msg('W_CLERK', 'by a clerk', 'en_IN', 'test-roles')], clerk)).status).toBe(403);
    expect((await post(platform, '/localization/messages/cache-bust', { RequestInfo: requestInfo }, clerk)).status).toBe(403);
    expect(await messageOf('pb', 'en_IN', 'W_STATE', 'test-roles')).toBeUndefined();
  });
});

describe('bad input is refused with a clear 400 and changes nothing', () => {
  it.each([
    ['a locale that is not language_COUNTRY', { locale: 'english' }, 'INVALID_LOCALE', 'messages[0].locale'],
    ['a blank code', { code: '  ' }, 'INVALID_CODE', 'messages[0].code'],
    ['a control character in the module', { module: 'test-\u0007bad' }, 'INVALID_MODULE', 'messages[0].module'],
    ['a message over 5000 characters', { message: 'x'.repeat(5001) }, 'INVALID_REQUEST', 'messages.0.message'],
    ['a missing message', { message: undefined }, 'INVALID_REQUEST', 'messages.0.message'],
  ])('an upsert with %s', async (_what, change, code, field) => {
    const response = await upsert('pb', [
      msg('B_OK', 'fine', 'en_IN', 'test-bad'),
      { ...msg('B_BAD', 'bad', 'en_IN', 'test-bad'), ...change },
    ]);
    expectRefusal(response, code, field.replace('[0]', '[1]').replace('.0.', '.1.'));
    expect((await search({ tenantId: 'pb', locale: 'en_IN', module: 'test-bad' })).messages).toEqual([]);
  });

  it('one call naming the same message twice, each refusal listed', async () => {
    const response = await upsert('pb', [
      msg('B_DUP', 'a', 'en_IN', 'test-bad'),
      msg('B_DUP', 'b', 'en_IN', 'test-bad'),
      msg('B_X', 'c', 'xx', 'test-bad'),
    ]);
    expectRefusal(response, 'core.DUPLICATE_MESSAGE_IDENTITY', 'messages[1]');
    expect((response.body as Json)['error'].fields).toContainEqual(
      expect.objectContaining({ code: 'INVALID_LOCALE', field: 'messages[2].locale' }),
    );
    expect((await search({ tenantId: 'pb', locale: 'en_IN', module: 'test-bad' })).messages).toEqual([]);
  });

  it('an unknown or malformed tenant, and an empty list', async () => {
    expectRefusal(await upsert('pb.nowhere', [msg('T', 't')]), 'INVALID_TENANT_ID', 'tenantId');
    await expect(service().upsert('../x', [msg('T', 't')], system, SYSTEM_SCOPE)).rejects.toMatchObject({ code: 'INVALID_TENANT_ID' });
    expectRefusal(await upsert('pb', []), 'INVALID_REQUEST', 'messages');
  });

  it('searches without locale or tenant, with a bad locale, an unknown tenant or too many modules', async () => {
    expectRefusal(await search({ tenantId: 'pb' }), 'INVALID_REQUEST', 'locale');
    expectRefusal(await search({ locale: 'en_IN' }), 'INVALID_REQUEST', 'tenantId');
    expectRefusal(await search({ tenantId: 'pb', locale: 'EN' }), 'INVALID_LOCALE', 'locale');
    expectRefusal(await search({ tenantId: 'xx', locale: 'en_IN' }), 'INVALID_TENANT_ID', 'tenantId');
    expectRefusal(
      await search({ tenantId: 'pb', locale: 'en_IN', module: Array.from({ length: 101 }, (_, i) => `m${i}`).join(',') }),
      'INVALID_MODULE',
      'module',
    );
    expectRefusal(await search({ tenantId: 'pb', locale: 'en_IN', module: 'a\u0007' }), 'INVALID_MODULE', 'module');
    expectRefusal(await search({ tenantId: '../x', locale: 'en_IN' }), 'INVALID_TENANT_ID', 'tenantId');
  });

  it('keeps the platform shape for what the gateway answers: malformed JSON', async () => {
    const broken = await post(platform, '/localization/messages/v1/_upsert', '{"tenantId":', admin);
    expect(broken.status).toBe(400);
    expect((broken.body as Json)['Errors'][0].code).toBe('JsonParseException');
    expect(broken.body['error']).toBeUndefined();
  });
});

describe('the seed', () => {
  it('loads again without changing anything', async () => {
    const report = await platform.seed(SEED_DIR);
    expect(report['localization']).toMatchObject({ created: 0, updated: 0 });
    expect(report['localization']?.['unchanged']).toBeGreaterThan(600);
  });

  it('refuses a bad folder whole, naming every bad file and message', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-loc-seed-'));
    try {
      await fs.mkdir(path.join(dir, 'localization'));
      const write = (name: string, content: unknown) => fs.writeFile(path.join(dir, 'localization', name), JSON.stringify(content));
      await write('good.json', { tenantId: 'pb', locale: 'en_IN', module: 'test-seed', messages: [{ code: 'S_GOOD', message: 'fine' }] });
      await write('bad.json', {
        tenantId: 'pb',
        locale: 'en_IN',
        module: 'test-seed',
        messages: [
          { code: 'S_2', message: '' },
          { code: 'S_GOOD', message: 'twice' },
        ],
      });
      await write('nowhere.json', { tenantId: 'zz', locale: 'en_IN', module: 'test-seed', messages: [{ code: 'S_3', message: 'x' }] });
      await write('shape.json', { tenantId: 'pb', locale: 'en_IN', messages: 'none' });
      const error = await platform.seed(dir).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DomainError);
      const messages = (error as DomainError).details.map((d) => d.message);
      expect(messages).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^localization\/bad\.json message 1 \(S_2\): .*message/),
          expect.stringMatching(/^localization\/good\.json message 1: .*also localization\/bad\.json message 2/),
          expect.stringMatching(/^localization\/nowhere\.json: .*zz/),
          expect.stringMatching(/^localization\/shape\.json: "messages"/),
        ]),
      );
      expect(await messageOf('pb', 'en_IN', 'S_GOOD', 'test-seed')).toBeUndefined();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
