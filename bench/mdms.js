// MDMS search over HTTP, against the node:http baseline: DIGIT's v2 search anonymous, the same
// search authenticated and authorized, and the v1 search. Goals in goals.js.

import { expect } from './harness/config.js';
import { JSON_HEADERS } from './harness/http.js';
import { MDMS_V2_SEARCH, bearer } from './harness/plinth.js';

const hasRecords = (json) => expect(Array.isArray(json?.mdms) && json.mdms.length > 0, 'answer has an empty or missing `mdms` array');

export default {
  name: 'mdms',
  targets: [
    {
      name: 'MDMS v2 _search',
      method: 'POST',
      path: '/mdms-v2/v2/_search',
      body: MDMS_V2_SEARCH,
      headers: JSON_HEADERS,
      verify: hasRecords,
    },
    {
      // DIGIT mixed mode: the same search with the admin's token is verified (EdDSA JWT), the user
      // loaded and the role-action check run (each cached) before the handler.
      name: 'MDMS v2 _search, authenticated + authorized',
      method: 'POST',
      path: '/mdms-v2/v2/_search',
      body: MDMS_V2_SEARCH,
      headers: bearer,
      verify: hasRecords,
    },
    {
      name: 'MDMS v1 _search',
      method: 'POST',
      path: '/mdms-v2/v1/_search',
      body: {
        RequestInfo: {},
        MdmsCriteria: { tenantId: 'pb.amritsar', moduleDetails: [{ moduleName: 'tenant', masterDetails: [{ name: 'tenants' }] }] },
      },
      headers: JSON_HEADERS,
      verify: (json) => {
        const tenants = json?.MdmsRes?.tenant?.tenants;
        expect(Array.isArray(tenants) && tenants.length > 0, 'answer has an empty or missing `MdmsRes.tenant.tenants`');
      },
    },
  ],
};
