// Ids over HTTP: a durable write, one counter increment (an upsert on idgen_sequence) committed
// before the answer. Every call asks for one id, so ids/s = req/s.
//
// After the load, the counter is checked against the 2xx answers counted: fewer numbers than
// answers would mean a number was issued twice. More is expected: requests still in flight when a
// run ended were answered (and committed) after autocannon stopped counting. The complaints suite
// takes its numbers from the same sequence, so its stored complaints are counted too.

import { expect } from './harness/config.js';
import { AFTER_LOAD_TIMEOUT_MS, answered } from './harness/http-run.js';
import { headersOf, parseJson, request } from './harness/http.js';
import { bearer } from './harness/plinth.js';

/** One id of the PGR complaint format (MDMS common-masters.IdFormat: PB-PGR-[cy:yyyy-MM-dd]-[SEQ_EG_PGR_ID]). */
export const PGR_ID = /^PB-PGR-\d{4}-\d{2}-\d{2}-(\d+)$/;

const IDS = {
  name: 'ids: idgen _generate',
  method: 'POST',
  path: '/egov-idgen/id/_generate',
  body: { RequestInfo: {}, idRequests: [{ idName: 'pgr.servicerequestid', tenantId: 'pb.amritsar' }] },
  headers: bearer,
  unit: 'ids',
  perRequest: 1,
  verify: (json) => {
    const ids = json?.idResponses;
    expect(Array.isArray(ids) && ids.length === 1, 'answer has no `idResponses` array of one id');
    expect(typeof ids[0]?.id === 'string' && PGR_ID.test(ids[0].id), `id "${ids[0]?.id}" is not of the format PB-PGR-<date>-<n>`);
  },
};

export default {
  name: 'idgen',
  targets: [IDS],
  async afterLoad({ port, facts, runsOf }) {
    const complaintsStored = facts.complaintsStored ?? 0;
    const last = await request(port, IDS.method, IDS.path, IDS.body, headersOf(IDS), AFTER_LOAD_TIMEOUT_MS);
    const value = Number(PGR_ID.exec(parseJson(last.text)?.idResponses?.[0]?.id ?? '')?.[1]);
    // + the verification's id and this last one.
    const counted = answered(runsOf(IDS.name)) + 2 + complaintsStored;
    const ok = last.status === 200 && value >= counted;
    const line =
      last.status !== 200 || !Number.isFinite(value)
        ? `idgen counter: could not read it after the load (HTTP ${last.status}: ${last.text.slice(0, 200)})`
        : `idgen counter: ${value} numbers issued (SEQ_EG_PGR_ID) for ${counted} 2xx answers counted` +
          (complaintsStored ? ` (ids: ${counted - complaintsStored}, stored complaints: ${complaintsStored})` : '') +
          (value >= counted
            ? ` (${value - counted} more: answered after autocannon stopped counting): no number issued twice`
            : `: **${counted - value} FEWER than answers: numbers were issued twice**`);
    return { line, ok };
  },
};
