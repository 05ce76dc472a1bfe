// The load: autocannon, in this process, against one target; with the CPU used meanwhile by the
// server, by this process, by PostgreSQL and by everything else on the machine (noise).

import autocannon from 'autocannon';
import { CONFIG } from './config.js';
import { bodyOf, bodyText, headersOf, parseJson, request } from './http.js';
import { cpuSecondsOf, machineBusySeconds, postgresCpu, postgresCpuBetween } from './processes.js';

/** Runs autocannon against one target for `seconds`; answers rates, latencies, errors and CPU shares. */
export async function load(port, target, seconds, serverPid, { postgres = false } = {}) {
  globalThis.gc?.();
  const serverCpu0 = cpuSecondsOf(serverPid);
  const loaderCpu0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  const pg0 = postgres ? postgresCpu() : undefined;
  const t0 = process.hrtime.bigint();
  const dynamicBody = typeof target.body === 'function';
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${target.path}`,
    method: target.method,
    headers: headersOf(target),
    body: dynamicBody ? undefined : bodyText(target.body),
    // A body built for every request (autocannon calls setupRequest before each one it sends).
    requests: dynamicBody
      ? [{ method: target.method, path: target.path, setupRequest: (req) => ({ ...req, body: bodyText(target.body()) }) }]
      : undefined,
    connections: target.connections ?? CONFIG.connections,
    pipelining: CONFIG.pipelining,
    duration: seconds,
    timeout: 10,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const loaderCpu = process.cpuUsage(loaderCpu0);
  const serverCpu = (cpuSecondsOf(serverPid) - serverCpu0) / wall;
  const loaderCpuShare = (loaderCpu.user + loaderCpu.system) / 1e6 / wall;
  const postgresCpuShare = postgres ? postgresCpuBetween(pg0, postgresCpu()) / wall : 0;
  return {
    serverCpu,
    loaderCpu: loaderCpuShare,
    postgresCpu: postgresCpuShare,
    // CPU that neither the server, nor the load generator, nor PostgreSQL used: other processes on the machine (noise).
    otherCpu: Math.max(0, (machineBusySeconds() - machine0) / wall - serverCpu - loaderCpuShare - postgresCpuShare),
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    total: result.requests.total,
    sent: result.requests.sent,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
  };
}

/** Requests a target once and checks the answer is the real thing; answers its size in bytes. */
export async function verify(port, target) {
  const sent = bodyOf(target);
  const res = await request(port, target.method, target.path, sent, headersOf(target));
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${target.name}: ${target.method} ${target.path} answered HTTP ${res.status}: ${res.text.slice(0, 500)}`);
  }
  const json = parseJson(res.text);
  if (json === undefined) throw new Error(`${target.name}: answer is not JSON: ${res.text.slice(0, 500)}`);
  try {
    target.verify?.(json, sent);
  } catch (error) {
    throw new Error(`${target.name}: ${error.message}: ${res.text.slice(0, 500)}`);
  }
  return Buffer.byteLength(res.text);
}
