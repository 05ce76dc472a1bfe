import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { httpSmsProvider, logSmsProvider } from './notification.channels.js';

const received: unknown[] = [];
let answer = 200;
const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  const chunks: Buffer[] = [];
  request.on('data', (c: Buffer) => chunks.push(c));
  request.on('end', () => {
    received.push({ contentType: request.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
    response.statusCode = answer;
    response.end('ok');
  });
});
let url: string;

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/send`;
});
afterAll(() => server.close());

describe('the http SMS provider', () => {
  it('POSTs the message as JSON and resolves on 2xx', async () => {
    answer = 202;
    await httpSmsProvider(url).send({ mobileNumber: '9812345678', message: 'नमस्ते {x}', tenantId: 'pb.amritsar' });
    expect(received.at(-1)).toEqual({ contentType: 'application/json', body: { mobileNumber: '9812345678', message: 'नमस्ते {x}', tenantId: 'pb.amritsar' } });
  });

  it('rejects when the gateway refuses, so the dispatcher retries', async () => {
    answer = 503;
    await expect(httpSmsProvider(url).send({ mobileNumber: '9812345678', message: 'hi', tenantId: 'pb' })).rejects.toThrow(/503/);
  });

  it('rejects when the gateway cannot be reached', async () => {
    await expect(httpSmsProvider('http://127.0.0.1:1/send', 2000).send({ mobileNumber: '1', message: 'hi', tenantId: 'pb' })).rejects.toThrow();
  });
});

describe('the log SMS provider (development)', () => {
  it('logs the number masked, never in clear, and keeps the message for tests', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const provider = logSmsProvider(logger);
    await provider.send({ mobileNumber: '9812345678', message: 'OTP 123456', tenantId: 'pb.amritsar' });
    expect(lines.join('')).not.toContain('9812345678');
    expect(lines.join('')).toContain('******5678');
    expect(provider.sent()).toEqual([{ mobileNumber: '9812345678', message: 'OTP 123456', tenantId: 'pb.amritsar' }]);
  });
});
