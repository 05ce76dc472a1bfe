import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuth, login, post, requestInfo, testPlatform, type TestPlatform } from '../../../test/helpers.js';
import type { LogSmsProvider } from '../../common/notification/index.js';
import { complaintDate } from './complaint.service.js';

type Json = Record<string, unknown>;
type Who = { auth: Record<string, string>; uuid: string };

let platform: TestPlatform;
let admin: Record<string, string>;
let gro: Who;
let lme: Who;
let english: Who;
let hindi: Who;

const PASSWORD = 'Field@2026x';
const BASE = '/pgr-services/v2/request';
const sms = () => platform.notification.sms as LogSmsProvider;

/** Creates a user (with a locale) through the admin API and logs it in. */
async function person(userName: string, type: 'EMPLOYEE' | 'CITIZEN', roles: readonly string[], mobileNumber: string, locale?: string): Promise<Who> {
  const tenantId = type === 'CITIZEN' ? 'pb' : 'pb.amritsar';
  const user = { userName, name: `Person ${userName}`, password: PASSWORD, type, tenantId, mobileNumber, roles: roles.map((code) => ({ code, tenantId })), ...(locale ? { locale } : {}) };
  const created = await post(platform, '/user/users/_createnovalidate', { RequestInfo: {}, user }, admin);
  if (created.status !== 200) throw new Error(`creating ${userName}: ${created.status} ${JSON.stringify(created.body)}`);
  const { status, body } = await login(platform, userName, PASSWORD, tenantId, type);
  if (status !== 200) throw new Error(`${userName} login: ${status} ${JSON.stringify(body)}`);
  return { auth: { authorization: `Bearer ${String(body['access_token'])}` }, uuid: String((body['UserRequest'] as Json)['uuid']) };
}

beforeAll(async () => {
  platform = await testPlatform();
  admin = await adminAuth(platform);
  gro = await person('pgrn_gro', 'EMPLOYEE', ['EMPLOYEE', 'GRO'], '9711111111');
  lme = await person('pgrn_lme', 'EMPLOYEE', ['EMPLOYEE', 'PGR_LME'], '9722222222');
  english = await person('9733333333', 'CITIZEN', ['CITIZEN'], '9733333333');
  hindi = await person('9744444444', 'CITIZEN', ['CITIZEN'], '9744444444', 'hi_IN');
});
afterAll(() => platform.drop());

const ref = (id: string) => ({ tenantId: 'pb.amritsar', serviceRequestId: id });
async function call(path: '_create' | '_update', auth: Record<string, string>, service: Json, workflow: Json): Promise<Json> {
  const { status, body } = await post(platform, `${BASE}/${path}`, { RequestInfo: requestInfo, service, workflow }, auth);
  expect(status, JSON.stringify(body)).toBe(200);
  return ((body['ServiceWrappers'] as Json[])[0] as { service: Json }).service;
}
const file = (auth: Record<string, string>) =>
  call('_create', auth, { tenantId: 'pb.amritsar', serviceCode: 'StreetLightNotWorking', description: 'out', address: { locality: { code: 'SUN04' } } }, { action: 'APPLY' });

/** Delivers what the transition queued; answers the SMS texts sent for this complaint, short links replaced by LINK. */
async function smsFor(id: string, mobileNumber: string): Promise<string[]> {
  for (let i = 0; i < 3; i++) await platform.dispatcher.deliverPending();
  return sms()
    .sent()
    .filter((m) => m.mobileNumber === mobileNumber && m.message.includes(id))
    .map((m) => m.message.replace(/https?:\/\/\S+\/eus\/[A-Za-z0-9]+/g, 'LINK'));
}

async function inApp(auth: Record<string, string>, id: string): Promise<Json[]> {
  const { status, body } = await post(platform, '/egov-user-event/v1/events/_search?tenantId=pb.amritsar', { RequestInfo: requestInfo }, auth);
  expect(status, JSON.stringify(body)).toBe(200);
  return (body['events'] as Json[]).filter((e) => e['referenceId'] === id);
}

describe('complaint notifications', () => {
  it('dates messages in India', () => {
    expect(complaintDate(Date.UTC(2026, 0, 31, 20, 0))).toBe('01/02/2026');
  });

  it('tells an English citizen of each step by SMS and in-app, once', async () => {
    sms().clear();
    const svc = await file(english.auth);
    const id = String(svc['serviceRequestId']);
    const type = String((svc['additionalDetail'] as Json)['serviceName']);
    const date = complaintDate(Number((svc['auditDetails'] as Json)['createdTime']));
    expect(await smsFor(id, '9733333333')).toEqual([`Your complaint about ${type} was filed on ${date} with number ${id}. Follow it at LINK`]);

    await call('_update', gro.auth, ref(id), { action: 'ASSIGN', assignes: [lme.uuid] });
    expect((await smsFor(id, '9733333333')).at(-1)).toBe(`Your complaint ${id} about ${type} is now with Person pgrn_lme.`);
    await call('_update', lme.auth, ref(id), { action: 'RESOLVE', comments: 'fixed' });
    expect((await smsFor(id, '9733333333')).at(-1)).toBe(`Your complaint ${id} about ${type} has been resolved. Tell us how we did at LINK`);
    await call('_update', english.auth, { ...ref(id), rating: 5 }, { action: 'RATE' });
    const all = await smsFor(id, '9733333333');
    expect(all).toHaveLength(4);
    expect(all[3]).toBe(`Thank you for rating the resolution of your complaint ${id} about ${type}, filed on ${date}. It is now closed. Details: LINK`);
    // Delivering again sends nothing twice.
    expect(await smsFor(id, '9733333333')).toHaveLength(4);

    const events = await inApp(english.auth, id);
    expect(events).toHaveLength(4);
    for (const event of events) expect(event).toMatchObject({ recepient: { toUsers: [english.uuid] }, eventCategory: 'pgr' });
  });

  it('writes in Hindi to a citizen whose locale is hi_IN, and tells of a rejection', async () => {
    sms().clear();
    const svc = await file(hindi.auth);
    const id = String(svc['serviceRequestId']);
    // The complaint type's Hindi label, not its English MDMS name.
    const type = 'स्ट्रीट लाइट काम नहीं कर रही';
    const date = complaintDate(Number((svc['auditDetails'] as Json)['createdTime']));
    expect(await smsFor(id, '9744444444')).toEqual([`${type} के बारे में आपकी शिकायत ${date} को संख्या ${id} के साथ दर्ज की गई है। इसकी स्थिति LINK पर देखें।`]);

    await call('_update', gro.auth, ref(id), { action: 'REJECT', comments: 'duplicate' });
    expect((await smsFor(id, '9744444444')).at(-1)).toBe(`${type} के बारे में आपकी शिकायत ${id} अस्वीकार कर दी गई है। कारण: duplicate। आप इसे LINK पर पुनः खोल सकते हैं।`);

    const events = await inApp(hindi.auth, id);
    expect(events).toHaveLength(2);
    expect(events.map((e) => String(e['description']))).toContainEqual(expect.stringContaining(`आपकी शिकायत ${id} अस्वीकार कर दी गई है`));
  });
});
