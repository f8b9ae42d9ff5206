// DingTalk Stream mode: Houqin dials out to DingTalk instead of being called, so a school without a public address
// can run the robot (https://opensource.dingtalk.com/developerpedia/docs/learn/stream/protocol, protocols/dingtalk.md
// §8). A handshake (`POST /v1.0/gateway/connections/open`) returns a WebSocket endpoint and a single-use ticket; the
// gateway then pushes frames down the socket and we ACK each message once it is safe.
//
// Written on `ws` rather than the npm `dingtalk-stream` SDK: its 2.1.5 release schedules a retry from two places on a
// failed connect, so the handshakes double every round (1, 3, 7, 15, 31, 63 in six seconds), its disconnect() does not
// stop that loop, and its keep-alive timer outlives the socket it watched (protocols/dingtalk.md §8.6,
// https://github.com/open-dingtalk/dingtalk-stream-sdk-nodejs/issues/16). The protocol itself is small.
//
// One loop: at most one connection is being dialled or held at a time, and a single timer schedules the next dial.
// Every way a connection can end — close, error, a `disconnect` frame, a failed handshake, silence, a missing pong —
// comes to `lost()` or `fail()`, which ask `retryLater()` for that one timer.
import WebSocket from 'ws';
import type { Logger } from '../../log.js';
import {
  type AckCode,
  ackFrame,
  eventAckFrame,
  type Frame,
  frameSchema,
  openAnswerSchema,
  pingEcho,
} from './stream-frames.js';
import { readJsonFrame } from '../../util/json-frame.js';

export interface StreamTimings {
  /** The first retry waits this long; each failure in a row doubles it, up to maxRetryMs, each ±20 % at random. */
  firstRetryMs: number;
  maxRetryMs: number;
  /** A connection that stayed open this long was healthy: the next failure starts again from firstRetryMs. */
  healthyAfterMs: number;
  /** How often we ping the socket; a ping still unanswered at the next one means the connection is dead. */
  pingEveryMs: number;
  /** Nothing heard for this long (no frame, no pong) means the connection is dead. */
  silenceMs: number;
  /** The gateway POST and the WebSocket's opening handshake each get this long. */
  handshakeTimeoutMs: number;
  /** After a `disconnect` frame the gateway closes the old socket in about 10 s; we close it ourselves after this. */
  drainMs: number;
  /** stop() waits this long for messages being handed off, so their ACKs still go out. */
  stopGraceMs: number;
}

export const defaultTimings: StreamTimings = {
  firstRetryMs: 1_000,
  maxRetryMs: 60_000,
  healthyAfterMs: 60_000,
  pingEveryMs: 20_000,
  silenceMs: 90_000,
  handshakeTimeoutMs: 10_000,
  drainMs: 15_000,
  stopGraceMs: 3_000,
};

/** What to answer a CALLBACK frame: an ACK with this code, or nothing (DingTalk then delivers it again). */
export type CallbackResult = { code: AckCode; response?: unknown } | 'no-ack';

export interface StreamOptions {
  apiBase: string;
  clientId: string;
  clientSecret: string;
  /** The CALLBACK topics to subscribe to; a frame on any other topic is answered 404. */
  topics: string[];
  /** Handles one CALLBACK frame's `data` string. A rejection means "not taken": no ACK. */
  onCallback(topic: string, data: string): Promise<CallbackResult>;
  log: Logger;
  timings?: Partial<StreamTimings>;
  /** For metrics: the connection came up or went down; a new dial after a loss. */
  hooks?: { connected?(on: boolean): void; reconnecting?(): void };
  random?: () => number;
}

export type StreamState = 'idle' | 'connecting' | 'connected' | 'stopped';

export interface StreamStatus {
  state: StreamState;
  /** Why the last attempt failed, while not connected (for the start-up banner). */
  lastError?: string;
  reconnects: number;
}

interface Conn {
  ws: WebSocket;
  host: string;
  openedAt?: number;
  heardAt: number;
  pongDue: boolean;
  pinger?: NodeJS.Timeout;
  drain?: NodeJS.Timeout;
}

/** Frames larger than this close the socket; a robot message is a few kilobytes. */
const MAX_FRAME_BYTES = 1024 * 1024;

export class DingtalkStream {
  private readonly t: StreamTimings;
  private state: StreamState = 'idle';
  private current?: Conn;
  /** Sockets the gateway asked us to leave (`disconnect`): kept until they close, so late ACKs still go out. */
  private draining = new Set<Conn>();
  private retryTimer?: NodeJS.Timeout;
  private dialing?: AbortController;
  private failures = 0;
  private inFlight = new Set<Promise<void>>();
  private lastError?: string;
  private reconnects = 0;
  private settleFirst?: () => void;

  constructor(private o: StreamOptions) {
    this.t = { ...defaultTimings, ...o.timings };
  }

  status(): StreamStatus {
    return {
      state: this.state,
      ...(this.state !== 'connected' && this.lastError ? { lastError: this.lastError } : {}),
      reconnects: this.reconnects,
    };
  }

  /** Starts the loop; resolves once the first attempt connected or failed, or after waitMs, whichever is first. */
  async start(waitMs = 5_000): Promise<void> {
    if (this.state !== 'idle') return;
    this.state = 'connecting';
    const first = new Promise<void>((r) => (this.settleFirst = r));
    void this.dial();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([first, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
  }

  /** Stops for good: no timer, no socket and no dial left; messages being handed off get stopGraceMs to be ACKed. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasOn = this.state === 'connected';
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.dialing?.abort();
    this.settle();
    if (this.inFlight.size) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.inFlight]),
        new Promise((r) => (timer = setTimeout(r, this.t.stopGraceMs))),
      ]);
      clearTimeout(timer);
    }
    const conns = [...(this.current ? [this.current] : []), ...this.draining];
    this.current = undefined;
    this.draining.clear();
    await Promise.all(conns.map((c) => this.close(c)));
    if (wasOn) this.o.hooks?.connected?.(false);
    this.o.log.info('dingtalk stream stopped');
  }

  // ---- the loop ------------------------------------------------------------------------------------------------

  private async dial(): Promise<void> {
    const abort = new AbortController();
    this.dialing = abort;
    let target: { url: string; host: string };
    try {
      target = await this.open(abort.signal);
    } catch (e) {
      this.dialing = undefined;
      if (this.state !== 'stopped') this.fail(`handshake failed: ${(e as Error).message}`);
      return;
    }
    this.dialing = undefined;
    if (this.state === 'stopped') return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(target.url, {
        handshakeTimeout: this.t.handshakeTimeoutMs,
        perMessageDeflate: false,
        maxPayload: MAX_FRAME_BYTES,
      });
    } catch (e) {
      this.fail(`cannot open the endpoint: ${(e as Error).message}`);
      return;
    }
    const conn: Conn = { ws, host: target.host, heardAt: Date.now(), pongDue: false };
    this.current = conn;
    ws.on('open', () => this.opened(conn));
    ws.on('message', (raw) => this.frame(conn, raw.toString()));
    ws.on('pong', () => {
      conn.heardAt = Date.now();
      conn.pongDue = false;
    });
    ws.on('ping', () => (conn.heardAt = Date.now())); // ws answers it by itself
    ws.on('error', (e) => this.lost(conn, `socket error: ${e.message}`));
    ws.on('close', (code, reason) => this.lost(conn, `socket closed (${code}${reason.length ? ` ${reason}` : ''})`));
  }

  /** The handshake: which socket to open, with a ticket good for one connection. */
  private async open(signal: AbortSignal): Promise<{ url: string; host: string }> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error('no answer in time')), this.t.handshakeTimeoutMs);
    const onStop = () => timeout.abort(new Error('stopped'));
    signal.addEventListener('abort', onStop, { once: true });
    try {
      const res = await fetch(`${this.o.apiBase}/v1.0/gateway/connections/open`, {
        method: 'POST',
        // Without Accept the gateway may answer XML (a note in DingTalk's own SDK).
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          clientId: this.o.clientId,
          clientSecret: this.o.clientSecret,
          ua: 'houqin',
          subscriptions: this.o.topics.map((topic) => ({ type: 'CALLBACK', topic })),
        }),
        signal: timeout.signal,
      });
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!res.ok) {
        const b = (body ?? {}) as { code?: unknown; message?: unknown };
        const code = typeof b.code === 'string' ? ` ${b.code}` : '';
        const message = typeof b.message === 'string' ? `: ${b.message.slice(0, 200)}` : '';
        throw new Error(`HTTP ${res.status}${code}${message}`);
      }
      const answer = openAnswerSchema.safeParse(body);
      if (!answer.success) throw new Error('the gateway answered without a ws endpoint and a ticket');
      const url = new URL(answer.data.endpoint);
      url.searchParams.set('ticket', answer.data.ticket);
      return { url: url.toString(), host: url.host };
    } catch (e) {
      if (timeout.signal.aborted) throw timeout.signal.reason as Error;
      // fetch says only "fetch failed"; the cause names it (ENOTFOUND, ECONNREFUSED, a TLS error …).
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw cause ? new Error(`${(e as Error).message}: ${cause.code ?? cause.message}`) : e;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onStop);
    }
  }

  private opened(conn: Conn): void {
    if (conn !== this.current || this.state === 'stopped') {
      conn.ws.terminate();
      return;
    }
    conn.openedAt = conn.heardAt = Date.now();
    this.state = 'connected';
    this.lastError = undefined;
    conn.pinger = setInterval(() => this.watch(conn), this.t.pingEveryMs);
    this.o.log.info({ endpoint: conn.host }, 'dingtalk stream connected');
    this.o.hooks?.connected?.(true);
    this.settle();
  }

  /** The keep-alive check, every pingEveryMs. */
  private watch(conn: Conn): void {
    const quiet = Date.now() - conn.heardAt;
    // A pong counts as hearing from the gateway: a quiet school may send the robot nothing for hours, and a rule on
    // message frames alone reconnected healthy idle connections every minute
    // (https://github.com/soimy/openclaw-channel-dingtalk/pull/336).
    if (quiet >= this.t.silenceMs) this.lost(conn, `nothing heard for ${Math.round(quiet / 1000)} s`);
    else if (conn.pongDue) this.lost(conn, 'no pong to the last ping');
    else {
      conn.pongDue = true;
      conn.ws.ping();
    }
  }

  /** A connection ended. Only the current one leads to a new dial; a draining one just goes. */
  private lost(conn: Conn, why: string): void {
    if (this.draining.delete(conn)) {
      clearTimeout(conn.drain);
      conn.ws.terminate();
      return;
    }
    if (conn !== this.current || this.state === 'stopped') return;
    this.current = undefined;
    clearInterval(conn.pinger);
    conn.ws.terminate(); // no-op when already closed; a late 'error' or 'close' from it then finds nothing to do
    if (conn.openedAt !== undefined) {
      if (Date.now() - conn.openedAt >= this.t.healthyAfterMs) this.failures = 0;
      this.o.hooks?.connected?.(false);
    }
    this.lastError = why;
    if (conn.openedAt === undefined) this.fail(why);
    else {
      this.o.log.warn({ endpoint: conn.host, reason: why }, 'dingtalk stream connection lost; reconnecting');
      this.retryLater();
    }
  }

  /** The gateway asked us to move (`disconnect`): dial a new connection now and let this one drain. */
  private rotate(conn: Conn, reason: string): void {
    if (conn !== this.current) return;
    this.current = undefined;
    clearInterval(conn.pinger);
    this.draining.add(conn);
    conn.drain = setTimeout(() => this.lost(conn, 'drained'), this.t.drainMs);
    const openFor = Date.now() - (conn.openedAt ?? Date.now());
    if (openFor >= this.t.healthyAfterMs) this.failures = 0;
    this.o.hooks?.connected?.(false);
    this.o.log.info({ endpoint: conn.host, reason }, 'dingtalk stream: the gateway asks for a new connection');
    // At once, as the gateway stops delivering on the old socket; but never in a tight loop if it keeps asking.
    this.retryLater(openFor >= this.t.firstRetryMs);
  }

  private fail(why: string): void {
    this.lastError = why;
    this.o.log.warn({ reason: why }, 'dingtalk stream could not connect; retrying');
    this.retryLater();
  }

  /** The one timer. Whoever asks while a dial is pending, running or connected is already covered by it. */
  private retryLater(now = false): void {
    this.settle();
    if (this.state === 'stopped' || this.retryTimer || this.dialing || this.current) return;
    this.state = 'connecting';
    const delay = now ? 0 : this.nextDelay();
    if (delay) this.o.log.info({ inMs: delay }, 'dingtalk stream: next attempt scheduled');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.reconnects++;
      this.o.hooks?.reconnecting?.();
      void this.dial();
    }, delay);
  }

  private nextDelay(): number {
    const nominal = Math.min(this.t.maxRetryMs, this.t.firstRetryMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const jitter = 0.8 + 0.4 * (this.o.random ?? Math.random)();
    return Math.min(this.t.maxRetryMs, Math.round(nominal * jitter));
  }

  private settle(): void {
    this.settleFirst?.();
    this.settleFirst = undefined;
  }

  private close(conn: Conn): Promise<void> {
    clearInterval(conn.pinger);
    clearTimeout(conn.drain);
    const ws = conn.ws;
    if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      // A polite close first; a gateway that does not answer it within a second is cut off.
      const timer = setTimeout(() => ws.terminate(), 1_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'bye');
      else ws.terminate();
    });
  }

  // ---- frames --------------------------------------------------------------------------------------------------

  private frame(conn: Conn, text: string): void {
    conn.heardAt = Date.now();
    if (this.state === 'stopped') return; // not taken: DingTalk delivers it again, to another instance or to us later
    const f = readJsonFrame(text, frameSchema, (o, m) => this.o.log.warn(o, m), 'dingtalk stream frame');
    if (!f) return;
    if (f.type === 'SYSTEM') {
      if (f.headers.topic === 'ping') this.send(conn, pingEcho(f));
      else if (f.headers.topic === 'disconnect') this.rotate(conn, reasonOf(f));
      else this.o.log.debug({ topic: f.headers.topic }, 'dingtalk stream system frame; nothing to do');
    } else if (f.type === 'CALLBACK') this.callback(conn, f);
    else if (f.type === 'EVENT') {
      // We subscribe to no events; one that comes anyway is taken, or it would come back every minute.
      this.o.log.info({ topic: f.headers.topic }, 'dingtalk stream event not subscribed to; acknowledged');
      this.send(conn, eventAckFrame(f.headers.messageId));
    } else this.o.log.warn({ type: f.type }, 'dingtalk stream frame of an unknown type; ignored');
  }

  private callback(conn: Conn, f: Frame): void {
    const id = f.headers.messageId;
    const topic = f.headers.topic ?? '';
    if (!this.o.topics.includes(topic)) {
      this.o.log.warn({ topic }, 'dingtalk stream callback on a topic we did not subscribe to; answered 404');
      this.send(conn, ackFrame(id, 404));
      return;
    }
    if (f.data === undefined) {
      this.o.log.warn({ topic }, 'dingtalk stream callback without data; answered 400');
      this.send(conn, ackFrame(id, 400));
      return;
    }
    const job = this.o.onCallback(topic, f.data).then(
      (result) => {
        if (result !== 'no-ack') this.send(conn, ackFrame(id, result.code, result.response ?? null));
      },
      (e: Error) =>
        this.o.log.error(
          { topic, err: e.message },
          'dingtalk stream message not taken; not acknowledged, so DingTalk delivers it again',
        ),
    );
    this.inFlight.add(job);
    void job.finally(() => this.inFlight.delete(job));
  }

  private send(conn: Conn, text: string): void {
    if (conn.ws.readyState !== WebSocket.OPEN) {
      this.o.log.info(
        'dingtalk stream answer not sent: its connection has closed (DingTalk delivers the message again)',
      );
      return;
    }
    conn.ws.send(text, (err) => {
      if (err) this.o.log.warn({ err: err.message }, 'dingtalk stream answer not sent');
    });
  }
}

function reasonOf(f: Frame): string {
  try {
    const reason = (JSON.parse(f.data ?? '{}') as { reason?: unknown }).reason;
    return typeof reason === 'string' ? reason.slice(0, 200) : 'no reason given';
  } catch {
    return 'no reason given';
  }
}
