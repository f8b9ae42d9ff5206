// The callback front (src/http/callbacks.ts) over a real socket: its routes answered by plain node:http, every
// other request handed to the next listener, a throwing handler turned into a bare 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withCallbacks, type CallbackRequest } from '../../src/http/callbacks.js';
import { signedQuery } from '../../src/channels/wecom/guard.js';
import { Metrics } from '../../src/http/metrics.js';

let server: Server;
let base: string;
const seen: CallbackRequest[] = [];
const errors: string[] = [];
const metrics = new Metrics();

beforeAll(async () => {
  const listener = withCallbacks(
    [
      {
        method: 'GET',
        path: '/cb',
        handle: (r) => {
          seen.push(r);
          return { status: 200, body: JSON.stringify(signedQuery(r.query)), type: 'json' };
        },
      },
      {
        method: 'POST',
        path: '/cb',
        handle: async (r) => ({ status: 200, body: `got ${(await r.body(16)).length} bytes from ${r.ip}` }),
      },
      { method: 'POST', path: '/boom', handle: () => Promise.reject(new Error('handler bug')) },
    ],
    (_req, res) => {
      res.writeHead(299, { 'content-type': 'text/plain' });
      res.end('next');
    },
    (e) => errors.push(e.message),
    metrics,
  );
  server = createServer(listener).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('callback routes on plain node:http', () => {
  it('answers its routes by method and path, query parsed, one value per name', async () => {
    const res = await fetch(`${base}/cb?msg_signature=abc&timestamp=1&nonce=2&nonce=3`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // a repeated parameter counts as missing, so the signature check that follows fails
    expect(await res.json()).toEqual({ signature: 'abc', timestamp: '1', nonce: '' });
  });

  it('hands every other request to the next listener (Koa)', async () => {
    for (const [path, method] of [
      ['/cb/x', 'GET'],
      ['/other', 'POST'],
      ['/cb', 'PUT'],
      ['/', 'GET'],
    ] as const) {
      const res = await fetch(`${base}${path}`, {
        method,
        body: method === 'POST' || method === 'PUT' ? 'x' : undefined,
      });
      expect([path, method, res.status, await res.text()]).toEqual([path, method, 299, 'next']);
    }
  });

  it('reads the body within the limit and names the caller behind a proxy', async () => {
    const res = await fetch(`${base}/cb`, {
      method: 'POST',
      body: '12345',
      headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' },
    });
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('got 5 bytes from 203.0.113.7');
    expect(await (await fetch(`${base}/cb`, { method: 'POST', body: 'x' })).text()).toBe('got 1 bytes from 127.0.0.1');
  });

  it('turns a handler that throws into a bare 500 and a log line, and keeps serving', async () => {
    const res = await fetch(`${base}/boom`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('internal error');
    expect(errors).toEqual(['handler bug']);
    // a body over the limit rejects inside the handler; this one does not catch it, so it is a 500 too
    expect((await fetch(`${base}/cb`, { method: 'POST', body: 'x'.repeat(17) })).status).toBe(500);
    expect(errors[1]).toMatch(/too large/);
    expect((await fetch(`${base}/cb?timestamp=5`)).status).toBe(200);
  });

  it('times every callback it answers, by route and status, and none of the requests it hands on', async () => {
    const text = await metrics.text();
    const count = (route: string, status: number) =>
      Number(
        new RegExp(`houqin_callback_duration_seconds_count\\{route="${route}",status="${status}"\\} (\\d+)`).exec(
          text,
        )?.[1] ?? 0,
      );
    expect(count('GET /cb', 200)).toBeGreaterThanOrEqual(2);
    expect(count('POST /cb', 200)).toBe(2);
    expect(count('POST /boom', 500)).toBe(1);
    expect(text).not.toMatch(/\/other|\/cb\/x/);
    expect(text).toMatch(/houqin_callback_duration_seconds_bucket\{le="\+Inf",route="POST \/cb",status="200"\} 2/);
    expect(count('POST /cb', 500)).toBe(1); // the body over the limit
  });
});
