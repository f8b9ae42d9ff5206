// Platform callbacks served by plain node:http, in front of Koa. A callback is the one request WeCom (and
// DingTalk) sends for every message, so it is the hot path: without Koa's context, router and query parsing the
// receiver spent half as long collecting garbage (bench/README.md). Everything else (health, console, admin) stays
// on Koa. Handlers see only this small request/answer shape, so they know nothing of either framework.
import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import type { Metrics } from './metrics.js';

export interface CallbackRequest {
  /** the query string, parsed */
  query: URLSearchParams;
  /** the caller's address (the first X-Forwarded-For hop behind a proxy), for logs */
  ip: string;
  /** one request header by its lower-case name (optional so hand-made requests in tests need not give it) */
  header?(name: string): string | undefined;
  /** the body as UTF-8; rejects with `type: 'entity.too.large'` beyond `limit` bytes */
  body(limit: number): Promise<string>;
}

export interface CallbackAnswer {
  status: number;
  body: string;
  /** default text/plain */
  type?: 'text' | 'json';
}

export interface CallbackRoute {
  method: 'GET' | 'POST';
  path: string;
  handle(req: CallbackRequest): Promise<CallbackAnswer> | CallbackAnswer;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

const types = { text: 'text/plain; charset=utf-8', json: 'application/json; charset=utf-8' };

/** The callback routes by method and path; a district's site added at run time adds its own (app.ts reload). */
export class CallbackTable {
  private table = new Map<string, CallbackRoute>();

  constructor(routes: CallbackRoute[] = []) {
    this.add(routes);
  }

  add(routes: CallbackRoute[]): void {
    for (const r of routes) this.table.set(`${r.method} ${r.path}`, r);
  }

  get(name: string): CallbackRoute | undefined {
    return this.table.get(name);
  }
}

/** A request listener that answers the callback routes itself and passes every other request to `next` (Koa). */
export function withCallbacks(
  routes: CallbackRoute[] | CallbackTable,
  next: Listener,
  onError: (e: Error) => void,
  metrics?: Metrics,
): Listener {
  const table = routes instanceof CallbackTable ? routes : new CallbackTable(routes);
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const name = `${req.method} ${q < 0 ? url : url.slice(0, q)}`;
    const route = table.get(name);
    if (!route) return next(req, res);
    const started = performance.now();
    if (metrics) res.once('finish', () => metrics.callback(name, res.statusCode, (performance.now() - started) / 1000));
    const request: CallbackRequest = {
      query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
      ip: clientIp(req),
      header: (n) => {
        const v = req.headers[n];
        return typeof v === 'string' ? v : undefined;
      },
      body: (limit) => getRawBody(req, { limit, encoding: 'utf8', length: req.headers['content-length'] }),
    };
    Promise.resolve()
      .then(() => route.handle(request))
      .then(
        (a) => send(res, a),
        (e: Error) => {
          // Handlers answer their own errors; this is the last guard, never a stack trace to the caller.
          onError(e);
          send(res, { status: 500, body: 'internal error' });
        },
      );
  };
}

function send(res: ServerResponse, a: CallbackAnswer): void {
  if (res.headersSent) return;
  res.writeHead(a.status, { 'content-type': types[a.type ?? 'text'], 'content-length': Buffer.byteLength(a.body) });
  res.end(a.body);
}

function clientIp(req: IncomingMessage): string {
  const fwd = req.headers['x-forwarded-for'];
  const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
  return first || req.socket.remoteAddress || '';
}
