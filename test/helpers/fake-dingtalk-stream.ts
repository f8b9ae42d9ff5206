// A local DingTalk Stream gateway (https://opensource.dingtalk.com/developerpedia/docs/learn/stream/protocol,
// protocols/dingtalk.md §8), strict about the documented shapes. It serves the handshake
// (POST /v1.0/gateway/connections/open: clientId, clientSecret, subscriptions → endpoint + single-use ticket) and the
// WebSocket it names; pushes robot messages as CALLBACK frames whose `data` is a JSON string, each to one open
// connection chosen at random; sends SYSTEM ping (and checks the echo) and disconnect; drops sockets; records every
// ACK and checks its shape; and delivers a message again when no ACK came within `redeliverAfterMs` (DingTalk: about
// 60 s), each time with a new headers.messageId. Every shape problem on our side becomes a string in `violations`.
// It runs on its own port (startFakeStreamGateway) or mounted on the fake DingTalk API's server, since both sit
// behind one DINGTALK_API_BASE (fake-dingtalk.ts `mounted`).
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

export const ROBOT_TOPIC = '/v1.0/im/bot/messages/get';
export const CARD_TOPIC = '/v1.0/card/instances/callback';
const OPEN_PATH = '/v1.0/gateway/connections/open';

export interface FakeStreamOptions {
  clientId: string;
  clientSecret: string;
  /** A message not ACKed this long after a delivery is delivered again (DingTalk: about 60 s). */
  redeliverAfterMs?: number;
  /** How long a ticket may wait before it is used (DingTalk: 90 s). */
  ticketTtlMs?: number;
  /** After a `disconnect` frame the gateway closes the socket this much later (DingTalk: about 10 s). */
  disconnectCloseMs?: number;
  random?: () => number;
}

export interface Handshake {
  at: number;
  status: number;
  body: any;
  ticket?: string;
}

export interface StreamConn {
  id: string;
  ws: WebSocket;
  openedAt: number;
  closedAt?: number;
  /** Sent `disconnect`: nothing more is delivered on it. */
  leaving: boolean;
  /** Answers no ws ping (a half-dead path). */
  deaf: boolean;
  /** The CALLBACK topics its handshake subscribed to: only those are pushed to it. */
  topics: string[];
}

export interface Ack {
  at: number;
  conn: string;
  messageId: string;
  code: number;
  /** The push it answers. */
  push?: string;
  frame: any;
}

interface Pending {
  id: string;
  data: string;
  topic: string;
  acked: boolean;
  deliveries: { messageId: string; conn: string; at: number }[];
  timer?: NodeJS.Timeout;
}

export interface FakeStreamGateway {
  /** Set when started on its own port. */
  url: string;
  handshakes: Handshake[];
  connections: StreamConn[];
  acks: Ack[];
  violations: string[];
  /** Open connections still given messages. */
  live(): StreamConn[];
  /**
   * Pushes a CALLBACK frame (a robot message by default) to a random live connection subscribed to its topic, or to
   * the next one that opens (`conn` forces one); returns the push's id. Pushing the same data twice is DingTalk
   * delivering one message twice.
   */
  push(data: object | string, o?: { conn?: StreamConn; topic?: string }): string;
  /** Sends any text down a connection (bad frames). */
  sendRaw(text: string, conn?: StreamConn): void;
  /** Sends a SYSTEM ping; resolves true when the echo came back right, false when wrong or not in time. */
  ping(conn?: StreamConn, timeoutMs?: number): Promise<boolean>;
  /** Sends SYSTEM disconnect: the connection gets nothing more and is closed disconnectCloseMs later. */
  disconnect(conn?: StreamConn): void;
  /** Cuts a connection without a word (a network failure). */
  drop(conn?: StreamConn): void;
  /** Stops (or resumes) answering ws pings on a connection. */
  deafen(conn: StreamConn, on?: boolean): void;
  /** Answers every handshake with this HTTP status until called with undefined. */
  refuse(status?: number): void;
  /** Holds handshake answers this long (a slow gateway). */
  delayHandshakes(ms: number): void;
  acked(push: string): boolean;
  /** Pushes not ACKed yet. */
  unacked(): string[];
  /** Deliveries so far (first ones and redeliveries). */
  deliveries(): number;
  until(what: string, fn: () => boolean, timeoutMs?: number): Promise<void>;
  /** For mounting on another fake's server. */
  handles(path: string): boolean;
  http(req: IncomingMessage, res: ServerResponse, raw: string): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

export function fakeStreamGateway(o: FakeStreamOptions): FakeStreamGateway {
  const redeliverAfterMs = o.redeliverAfterMs ?? 60_000;
  const ticketTtlMs = o.ticketTtlMs ?? 90_000;
  const disconnectCloseMs = o.disconnectCloseMs ?? 10_000;
  const random = o.random ?? Math.random;
  const handshakes: Handshake[] = [];
  const connections: StreamConn[] = [];
  const acks: Ack[] = [];
  const violations: string[] = [];
  const tickets = new Map<string, { until: number; used: boolean; topics: string[] }>();
  const pending = new Map<string, Pending>();
  const byMessageId = new Map<string, Pending>();
  const pings = new Map<string, { data: string; done: (ok: boolean) => void }>();
  const waiting: Pending[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let refusing: number | undefined;
  let handshakeDelay = 0;
  let deliveredCount = 0;
  const wss = new WebSocketServer({ noServer: true, autoPong: false });

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const live = () => connections.filter((c) => c.closedAt === undefined && !c.leaving);
  const pick = (conn?: StreamConn, topic?: string) => {
    const open = live().filter((c) => !topic || c.topics.includes(topic));
    return conn ?? open[Math.floor(random() * open.length)];
  };

  function deliver(p: Pending, conn?: StreamConn) {
    // Only connections that subscribed to the topic get it (protocols/dingtalk.md §8.1); a test naming the
    // connection forces it (a gateway misbehaving).
    const c = conn && conn.closedAt === undefined ? conn : pick(undefined, p.topic);
    if (!c) {
      waiting.push(p); // nobody connected: the next connection gets it
      return;
    }
    const messageId = `${randomBytes(4).toString('hex')}_${p.deliveries.length}_${Date.now().toString(16)}`;
    p.deliveries.push({ messageId, conn: c.id, at: Date.now() });
    byMessageId.set(messageId, p);
    deliveredCount++;
    c.ws.send(
      JSON.stringify({
        specVersion: '1.0',
        type: 'CALLBACK',
        headers: {
          appId: 'fake-app-id',
          connectionId: c.id,
          contentType: 'application/json',
          messageId,
          time: String(Date.now()),
          topic: p.topic,
        },
        data: p.data,
      }),
    );
    clearTimeout(p.timer);
    p.timer = later(redeliverAfterMs, () => {
      if (!p.acked) deliver(p);
    });
  }

  function onClientFrame(c: StreamConn, text: string) {
    let f: any;
    try {
      f = JSON.parse(text);
    } catch {
      violations.push(`client sent a frame that is not JSON: ${text.slice(0, 80)}`);
      return;
    }
    const messageId = f?.headers?.messageId;
    if (typeof messageId !== 'string') {
      violations.push(`client frame without headers.messageId: ${text.slice(0, 120)}`);
      return;
    }
    const problems: string[] = [];
    if (![200, 400, 404, 500].includes(f.code)) problems.push(`code ${JSON.stringify(f.code)}`);
    if (f.headers.contentType !== 'application/json') problems.push('headers.contentType is not application/json');
    if (typeof f.message !== 'string') problems.push('message is not a string');
    if (typeof f.data !== 'string') problems.push('data is not a string');
    const ping = pings.get(messageId);
    if (ping) {
      pings.delete(messageId);
      if (f.data !== ping.data) problems.push('ping echo data differs from the ping');
      if (f.code !== 200) problems.push('ping echo code is not 200');
      for (const p of problems) violations.push(`ping echo: ${p}`);
      ping.done(problems.length === 0);
      return;
    }
    const p = byMessageId.get(messageId);
    if (!p) {
      violations.push(`ACK for a messageId never sent: ${messageId}`);
      return;
    }
    let data: any;
    try {
      data = JSON.parse(f.data);
    } catch {
      problems.push('data is not a JSON string');
    }
    if (f.code === 200 && p.topic === ROBOT_TOPIC && !(data && typeof data === 'object' && 'response' in data))
      problems.push('a robot ACK carries data {"response": …}');
    // A card click's ACK carries the card's new data as the response object (event-callback-card, 事件回调响应).
    if (f.code === 200 && p.topic === CARD_TOPIC && !(data?.response && typeof data.response === 'object'))
      problems.push('a card ACK carries data {"response": {cardData …}}');
    for (const x of problems) violations.push(`ACK ${messageId}: ${x}`);
    acks.push({ at: Date.now(), conn: c.id, messageId, code: f.code, push: p.id, frame: f });
    // 500 means "our fault, try again"; anything else settles the message.
    if (f.code !== 500) {
      p.acked = true;
      clearTimeout(p.timer);
    }
  }

  function http(req: IncomingMessage, res: ServerResponse, raw: string) {
    const answer = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const problems: string[] = [];
    let body: any = {};
    if (req.method !== 'POST') problems.push(`handshake method ${req.method}, want POST`);
    if (!/application\/json/.test(String(req.headers['content-type'])))
      problems.push('handshake content-type not JSON');
    if (!/application\/json/.test(String(req.headers.accept)))
      problems.push('handshake without Accept: application/json');
    try {
      body = JSON.parse(raw);
    } catch {
      problems.push('handshake body is not JSON');
    }
    if (typeof body.clientId !== 'string' || typeof body.clientSecret !== 'string')
      problems.push('handshake body needs clientId and clientSecret');
    const subs = body.subscriptions;
    if (!Array.isArray(subs) || subs.length === 0) problems.push('handshake without subscriptions');
    else {
      for (const s of subs) {
        if (!['EVENT', 'CALLBACK'].includes(s?.type) || typeof s?.topic !== 'string')
          problems.push(`bad subscription ${JSON.stringify(s)}`);
        if (s?.type === 'EVENT' && s.topic !== '*') problems.push('an EVENT subscription must have topic "*"');
      }
      if (!subs.some((s: any) => s?.type === 'CALLBACK' && s.topic === ROBOT_TOPIC))
        problems.push('handshake does not subscribe to the robot topic');
    }
    violations.push(...problems);
    const at = Date.now();
    const finish = () => {
      if (refusing !== undefined) {
        handshakes.push({ at, status: refusing, body });
        return answer(refusing, { code: 'ServiceUnavailable', message: 'refused by the test' });
      }
      if (problems.length) {
        handshakes.push({ at, status: 400, body });
        return answer(400, { code: 'invalidParameter', message: problems.join('; ') });
      }
      if (body.clientId !== o.clientId || body.clientSecret !== o.clientSecret) {
        handshakes.push({ at, status: 400, body });
        return answer(400, { code: 'invalidClientIdOrSecret', message: '无效的clientId或者clientSecret' });
      }
      const ticket = randomUUID();
      const topics = (subs as any[]).filter((x) => x?.type === 'CALLBACK').map((x) => String(x.topic));
      tickets.set(ticket, { until: Date.now() + ticketTtlMs, used: false, topics });
      handshakes.push({ at, status: 200, body, ticket });
      answer(200, { endpoint: `ws://${req.headers.host}/connect`, ticket });
    };
    if (handshakeDelay) later(handshakeDelay, finish);
    else finish();
  }

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const u = new URL(req.url ?? '/', 'http://x');
    const ticket = u.searchParams.get('ticket') ?? '';
    const known = tickets.get(ticket);
    const refuseUpgrade = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (u.pathname !== '/connect') return refuseUpgrade(404, 'Not Found');
    if (!known) {
      violations.push(`connect with an unknown ticket ${JSON.stringify(ticket)}`);
      return refuseUpgrade(401, 'Unauthorized');
    }
    if (known.used) {
      violations.push('connect with a ticket already used (tickets are single-use)');
      return refuseUpgrade(401, 'Unauthorized');
    }
    known.used = true;
    if (known.until < Date.now()) return refuseUpgrade(401, 'Unauthorized'); // too late: the client's slowness
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: StreamConn = {
        id: randomUUID(),
        ws,
        openedAt: Date.now(),
        leaving: false,
        deaf: false,
        topics: known.topics,
      };
      connections.push(c);
      ws.on('message', (raw) => onClientFrame(c, raw.toString()));
      ws.on('ping', (data) => {
        if (!c.deaf) ws.pong(data);
      });
      ws.on('error', () => undefined);
      ws.on('close', () => {
        c.closedAt = Date.now();
      });
      for (const p of waiting.splice(0)) deliver(p, c.topics.includes(p.topic) ? c : undefined);
    });
  }

  function until(what: string, fn: () => boolean, timeoutMs = 5_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      const tick = () => {
        if (fn()) return resolve();
        if (Date.now() > end)
          return reject(
            new Error(
              `fake stream gateway: timed out waiting for ${what} (handshakes ${handshakes.length}, connections ${connections.length}, acks ${acks.length}, violations ${violations.join('; ') || 'none'})`,
            ),
          );
        later(20, tick);
      };
      tick();
    });
  }

  return {
    url: '',
    handshakes,
    connections,
    acks,
    violations,
    live,
    push(data, opts = {}) {
      const p: Pending = {
        id: randomUUID(),
        data: typeof data === 'string' ? data : JSON.stringify(data),
        topic: opts.topic ?? ROBOT_TOPIC,
        acked: false,
        deliveries: [],
      };
      pending.set(p.id, p);
      deliver(p, opts.conn);
      return p.id;
    },
    sendRaw(text, conn) {
      pick(conn)?.ws.send(text);
    },
    ping(conn, timeoutMs = 2_000) {
      const c = pick(conn);
      if (!c) return Promise.resolve(false);
      const messageId = randomUUID();
      const data = JSON.stringify({ opaque: randomBytes(6).toString('hex') });
      return new Promise((resolve) => {
        const t = later(timeoutMs, () => {
          pings.delete(messageId);
          resolve(false);
        });
        pings.set(messageId, {
          data,
          done: (ok) => {
            clearTimeout(t);
            timers.delete(t);
            resolve(ok);
          },
        });
        c.ws.send(
          JSON.stringify({
            specVersion: '1.0',
            type: 'SYSTEM',
            headers: { contentType: 'application/json', messageId, time: String(Date.now()), topic: 'ping' },
            data,
          }),
        );
      });
    },
    disconnect(conn) {
      const c = pick(conn);
      if (!c) return;
      c.leaving = true;
      c.ws.send(
        JSON.stringify({
          specVersion: '1.0',
          type: 'SYSTEM',
          headers: {
            contentType: 'application/json',
            messageId: randomUUID(),
            time: String(Date.now()),
            topic: 'disconnect',
          },
          data: JSON.stringify({ reason: 'connection is expired' }),
        }),
      );
      later(disconnectCloseMs, () => c.ws.close(1000, 'expired'));
    },
    drop(conn) {
      pick(conn)?.ws.terminate();
    },
    deafen(conn, on = true) {
      conn.deaf = on;
    },
    refuse(status) {
      refusing = status;
    },
    delayHandshakes(ms) {
      handshakeDelay = ms;
    },
    acked: (id) => pending.get(id)?.acked ?? false,
    unacked: () => [...pending.values()].filter((p) => !p.acked).map((p) => p.id),
    deliveries: () => deliveredCount,
    until,
    handles: (path) => path === OPEN_PATH,
    http,
    upgrade,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const p of pending.values()) clearTimeout(p.timer);
      for (const c of connections) c.ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

/** The gateway on a port of its own: its url is the DINGTALK_API_BASE to use. */
export async function startFakeStreamGateway(o: FakeStreamOptions): Promise<FakeStreamGateway> {
  const g = fakeStreamGateway(o);
  const sockets = new Set<Socket>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://x');
    if (g.handles(u.pathname)) return g.http(req, res, Buffer.concat(chunks).toString('utf8'));
    g.violations.push(`no such API on the gateway: ${req.method} ${u.pathname}`);
    res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => g.upgrade(req, socket, head));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const close = g.close;
  return Object.assign(g, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}
