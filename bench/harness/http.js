// One HTTP request at a time (set-up, checks, verification): the load itself is autocannon's (load.js).

import http from 'node:http';

export const JSON_HEADERS = { 'content-type': 'application/json' };
export const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

export const bodyText = (body) => (body === undefined || typeof body === 'string' ? body : JSON.stringify(body));
/** A target's headers: a function is called when the load starts (e.g. for a token obtained at run time). */
export const headersOf = (target) => (typeof target.headers === 'function' ? target.headers() : target.headers);
/** A target's body for one request: a function body is called each time (e.g. a new businessId). */
export const bodyOf = (target) => (typeof target.body === 'function' ? target.body() : target.body);

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Answers `{ status, text }`; an object body is sent as JSON, a string as is. The checks after a
 * load wait longer: requests still in flight when autocannon stopped are served before them.
 */
export function request(port, method, urlPath, body, headers = {}, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const payload = bodyText(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        headers: payload === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(payload) },
        agent: false,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${urlPath} timed out after ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
