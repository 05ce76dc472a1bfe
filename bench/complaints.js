// Complaint creation over HTTP (DIGIT's POST /pgr-services/v2/request/_create): a citizen files a
// complaint. Validated against MDMS (complaint type) and the boundaries (locality), an id from
// idgen (PB-PGR-...), then one transaction: the workflow's APPLY (process instance + head), the
// complaint row, and outbox events (complaint created, workflow transitioned, the citizen's SMS and
// in-app notifications), committed before the answer. The notifications are sent by the outbox
// dispatcher in the same process, during the load; before and after every run of this target the
// bench waits until the outbox has drained (`drain`), so the backlog is the complaints' own.
//
// The citizen `9800000002` (CITIZEN on pb, with a password so that no OTP is needed) is created by
// the admin and files for themself (DIGIT's main path: the citizen app), so no user is looked up or
// created per complaint. The same body every time: complaints have no duplicate detection, and
// each gets its own id from idgen.
//
// After the load: the complaints counted by `_count` (as the admin) must be at least the 2xx
// answers autocannon counted and at most the requests it sent (requests in flight when a run
// stops are answered after autocannon stops counting), the outbox must hold one
// `plinth.complaint.created.v1` per complaint, and no event may be dead-lettered.

import { expect } from './harness/config.js';
import { AFTER_LOAD_TIMEOUT_MS, answered } from './harness/http-run.js';
import { parseJson, request } from './harness/http.js';
import { auth, bearer, bearerOf, createAndLogin } from './harness/plinth.js';
import { PGR_ID } from './idgen.js';

const CITIZEN = {
  username: '9800000002',
  password: 'Bench@2026x',
  tenantId: 'pb',
  userType: 'CITIZEN',
  mobileNumber: '9800000002',
  roles: ['CITIZEN'],
};

const COMPLAINT = {
  RequestInfo: { apiId: 'Rainmaker' },
  service: {
    tenantId: 'pb.amritsar',
    serviceCode: 'StreetLightNotWorking',
    description: 'The street light on the corner is out',
    source: 'web',
    address: { locality: { code: 'SUN04' }, geoLocation: { latitude: 31.63, longitude: 74.87 } },
  },
  workflow: { action: 'APPLY', comments: 'Streetlight not working' },
};
const COUNT_PATH = '/pgr-services/v2/request/_count?tenantId=pb.amritsar';
const NAME = 'complaints: PGR _create';

export default {
  name: 'complaints',
  // The complaints took ids from the sequence the idgen target draws from: the idgen check counts them.
  checksFirst: true,
  targets: [
    {
      name: NAME,
      method: 'POST',
      path: '/pgr-services/v2/request/_create',
      body: COMPLAINT,
      headers: bearerOf('citizenToken'),
      unit: 'complaints',
      perRequest: 1,
      drain: true,
      skippable: true,
      prepare: async ({ port }) => {
        const json = await createAndLogin(port, CITIZEN, 'Bench Citizen');
        auth.citizenToken = json.access_token;
        auth.citizenUuid = json.UserRequest?.uuid;
        expect(typeof auth.citizenUuid === 'string', `login as ${CITIZEN.username} answered no UserRequest.uuid`);
      },
      verify: (json) => {
        const wrapper = json?.ServiceWrappers?.[0];
        const svc = wrapper?.service;
        expect(json?.ServiceWrappers?.length === 1, 'answer has no `ServiceWrappers` array of one complaint');
        expect(
          PGR_ID.test(svc?.serviceRequestId ?? ''),
          `serviceRequestId "${svc?.serviceRequestId}" is not of the format PB-PGR-<date>-<n>`,
        );
        expect(
          svc.applicationStatus === 'PENDINGFORASSIGNMENT',
          `the complaint is in state ${svc.applicationStatus}, not PENDINGFORASSIGNMENT`,
        );
        expect(svc.accountId === auth.citizenUuid, `the complaint belongs to ${svc.accountId}, not to the citizen ${auth.citizenUuid}`);
        expect(wrapper.workflow?.action === 'APPLY', `the complaint's last action is ${wrapper.workflow?.action}, not APPLY`);
      },
    },
  ],
  async afterLoad({ port, probe, facts, runsOf }) {
    const res = await request(port, 'POST', COUNT_PATH, { RequestInfo: {} }, bearer(), AFTER_LOAD_TIMEOUT_MS);
    const stored = parseJson(res.text)?.count;
    const list = runsOf(NAME);
    const counted = answered(list) + 1; // + the verification's
    const sent = list.reduce((sum, r) => sum + r.sent, 0) + 1;
    const events = await probe.count('select count(*) as n from plinth_outbox where type = $1', ['plinth.complaint.created.v1']);
    const dead =
      (await probe.count('select count(*) as n from plinth_event_dead_letter')) +
      (await probe.count("select count(*) as n from plinth_outbox where status = 'dead'"));
    if (res.status !== 200 || !Number.isInteger(stored)) {
      return { line: `complaints: could not count them after the load (HTTP ${res.status}: ${res.text.slice(0, 200)})`, ok: false };
    }
    facts.complaintsStored = stored;
    const ok = stored >= counted && stored <= sent && events === stored && dead === 0;
    const line =
      `complaints: ${stored} stored (\`_count\`) for ${counted} 2xx answers counted and ${sent} requests sent ` +
      `(${stored - counted} answered after autocannon stopped counting, of ${sent - counted} in flight); ` +
      `${events} \`plinth.complaint.created.v1\` events in the outbox; ${dead} dead letters` +
      (ok ? ': every answer is a stored complaint' : ': **MISMATCH**');
    return { line, ok };
  },
};
