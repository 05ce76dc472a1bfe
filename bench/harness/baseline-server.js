// The baseline of the HTTP suites: a bare node:http server, started once as a child by the bench
// (`node bench/harness/baseline-server.js <port>`). It parses the JSON body and answers a JSON
// object shaped and sized like the MDMS v2 answer (~4 KB), serialised on every request.

import { randomUUID } from 'node:crypto';
import http from 'node:http';

function runBaselineServer(port) {
  const records = Array.from({ length: 10 }, (_, i) => ({
    id: `01a21ace-923b-75d4-8fdd-19dc9559${String(3100 + i).padStart(4, '0')}`,
    tenantId: 'pb',
    schemaCode: 'common-masters.Department',
    uniqueIdentifier: `DEPT_${i + 1}`,
    data: {
      code: `DEPT_${i + 1}`,
      name: `Department number ${i + 1}`,
      description: 'Plans and supervises the public works of the city and its contracts.',
      active: true,
    },
    isActive: true,
    auditDetails: { createdBy: null, lastModifiedBy: null, createdTime: 1795746075195, lastModifiedTime: 1795746075195 },
  }));
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health/ready') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"UP"}');
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let request;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"Errors":[{"code":"BAD_JSON"}]}');
        return;
      }
      const body = JSON.stringify({
        ResponseInfo: {
          apiId: request?.RequestInfo?.apiId ?? null,
          ver: null,
          ts: Date.now(),
          resMsgId: randomUUID(),
          msgId: null,
          status: 'successful',
        },
        mdms: records,
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(port, '127.0.0.1');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

runBaselineServer(Number(process.argv[2]));
