// Workflow transitions over HTTP: a durable write, APPLY of a new application in a copy of the
// seeded PGR workflow, i.e. a process instance (and its head row) written in one transaction
// before the answer. Each request has a new businessId.
//
// PGR itself is owned by the complaint module (issue #14: only pgr-services moves it, a direct
// `_transition` is refused), so the bench drives a copy of the seeded definition under a code no
// module owns, created by the admin before the load. In the seeded PGR workflow
// (seed/workflow/PGR.json) APPLY is allowed to CITIZEN and CSR, and the route (action 908) to
// CITIZEN, EMPLOYEE and GRO; the admin is SUPERUSER only. So the bench creates a call-centre
// employee, CSR + EMPLOYEE on the city, and logs in as it.

import fs from 'node:fs';
import path from 'node:path';
import { ROOT, expect } from './harness/config.js';
import { request } from './harness/http.js';
import { auth, bearer, bearerOf, createAndLogin } from './harness/plinth.js';

const BENCH_WORKFLOW = 'BENCHPGR';

const CSR = {
  username: 'bench.csr',
  password: 'Bench@2026x',
  tenantId: 'pb.amritsar',
  userType: 'EMPLOYEE',
  mobileNumber: '9800000001',
  roles: ['CSR', 'EMPLOYEE'],
};

/** Every transition files a new application: a businessId never used before (this run's tag + a counter). */
const RUN_TAG = `${Date.now().toString(36)}${process.pid.toString(36)}`.toUpperCase();
let applications = 0;
const applyBody = () => ({
  RequestInfo: { apiId: 'Rainmaker' },
  ProcessInstances: [
    {
      tenantId: 'pb.amritsar',
      businessService: BENCH_WORKFLOW,
      moduleName: 'pgr-services',
      businessId: `BENCH-${RUN_TAG}-${++applications}`,
      action: 'APPLY',
      comment: 'Streetlight not working',
    },
  ],
});

export default {
  name: 'workflow',
  targets: [
    {
      name: 'transitions: workflow APPLY',
      method: 'POST',
      path: '/egov-workflow-v2/egov-wf/process/_transition',
      body: applyBody,
      headers: bearerOf('csrToken'),
      unit: 'transitions',
      perRequest: 1,
      skippable: true,
      prepare: async ({ port }) => {
        // The bench's own copy of the PGR workflow (a fresh database each time), as the admin.
        const seeded = JSON.parse(fs.readFileSync(path.join(ROOT, 'seed/workflow/PGR.json'), 'utf8'));
        const copy = { ...seeded.BusinessServices[0], businessService: BENCH_WORKFLOW };
        const created = await request(
          port,
          'POST',
          '/egov-workflow-v2/egov-wf/businessservice/_create',
          { RequestInfo: {}, BusinessServices: [copy] },
          bearer(),
        );
        expect(
          created.status === 200,
          `creating the ${BENCH_WORKFLOW} workflow answered HTTP ${created.status}: ${created.text.slice(0, 300)}`,
        );
        auth.csrToken = (await createAndLogin(port, CSR, 'Bench CSR')).access_token;
      },
      verify: (json, sent) => {
        const pi = json?.ProcessInstances?.[0];
        const businessId = sent.ProcessInstances[0].businessId;
        expect(json?.ProcessInstances?.length === 1, 'answer has no `ProcessInstances` array of one instance');
        expect(pi.businessId === businessId, `answer is for businessId ${pi.businessId}, not ${businessId}`);
        expect(
          pi.action === 'APPLY' && pi.businessService === BENCH_WORKFLOW,
          `answer is action ${pi.action} of ${pi.businessService}, not APPLY of ${BENCH_WORKFLOW}`,
        );
        expect(pi.state?.state === 'PENDINGFORASSIGNMENT', `the new application is in state ${pi.state?.state}, not PENDINGFORASSIGNMENT`);
      },
    },
  ],
};
