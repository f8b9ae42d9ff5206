// One WebSocket connection to WeCom's long-connection gateway, from the dial to its end: subscribe with the bot id
// and secret, a `ping` every pingEveryMs, acks matched to our requests by req_id. It never redials by itself: the
// keeper (keeper.ts) decides whether and when, with the lease and the backoff, so there is exactly one place that
// can start a subscribe. Every way the connection can end — close, error, silence, a missed ping ack, WeCom's
// `disconnected_event` (a newer subscribe for this bot took over) — ends here once, in `end()`.
import WebSocket from 'ws';
import type { Logger } from '../../../log.js';
import { type Ack, ackOf, CMD, frame, type Incoming, incomingSchema, newReqId } from './frames.js';
import { readJsonFrame } from '../../../util/json-frame.js';

export interface ConnTimings {
  /** WeCom recommends a heartbeat every 30 s. */
  pingEveryMs: number;
  /** Nothing heard (no frame, no ack) for this long means the connection is dead. */
  silenceMs: number;
  /** An ack not back within this long fails its request. */
  ackTimeoutMs: number;
  /** The opening handshake and the subscribe ack together get this long. */
  openTimeoutMs: number;
}

export const defaultConnTimings: ConnTimings = {
  pingEveryMs: 30_000,
  silenceMs: 75_000,
  ackTimeoutMs: 10_000,
  openTimeoutMs: 10_000,
};

export interface ConnOptions {
  url: string;
  botId: string;
  secret: string;
  log: Logger;
  timings?: Partial<ConnTimings>;
  /** A message or event callback (not `disconnected_event`, which ends the connection). */
  onCallback(f: Incoming, conn: LongConn): void;
  /** The connection ended after it was subscribed; `kicked` when WeCom said a newer connection replaced it. */
  onEnd(reason: string, kicked: boolean): void;
  /** Aborts a dial still under way (a stop must not wait for the handshake's timeout). */
  signal?: AbortSignal;
}

/** A request could not go out, or its ack will never come: the connection is not (or no longer) up. */
export class NotConnected extends Error {}

interface Pending {
  resolve(a: Ack): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/** Frames larger than this close the socket; callbacks are a few kilobytes. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export class LongConn {
  private readonly t: ConnTimings;
  private ws: WebSocket;
  private pending = new Map<string, Pending>();
  private subscribed = false;
  private ended = false;
  private heardAt = Date.now();
  private pinger?: NodeJS.Timeout;
  private pingDue = false;

  private constructor(private o: ConnOptions) {
    this.t = { ...defaultConnTimings, ...o.timings };
    this.ws = new WebSocket(o.url, {
      handshakeTimeout: this.t.openTimeoutMs,
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
    });
  }

  /** Dials and subscribes; resolves once WeCom acked the subscribe, rejects (and closes) otherwise. */
  static open(o: ConnOptions): Promise<LongConn> {
    const c = new LongConn(o);
    return c.start().then(() => c);
  }

  get up(): boolean {
    return this.subscribed && !this.ended && this.ws.readyState === WebSocket.OPEN;
  }

  private start(): Promise<void> {
    const ws = this.ws;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.o.signal?.removeEventListener('abort', onAbort);
        this.end(why, false);
        ws.terminate(); // a socket that opened but was not subscribed in time is not left behind
        reject(new Error(why));
      };
      const onAbort = () => fail('stopped while dialling');
      if (this.o.signal?.aborted) return onAbort();
      this.o.signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => fail('no subscribe ack in time'), this.t.openTimeoutMs);
      ws.on('open', () => {
        // The secret goes in this one frame and nowhere else (never in a log line).
        this.request(CMD.subscribe, { bot_id: this.o.botId, secret: this.o.secret }).then(
          (ack) => {
            if (ack.errcode !== 0) return fail(`subscribe refused: ${ack.errcode} ${ack.errmsg}`.trim());
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            this.o.signal?.removeEventListener('abort', onAbort);
            this.subscribed = true;
            this.heardAt = Date.now();
            this.pinger = setInterval(() => this.heartbeat(), this.t.pingEveryMs);
            resolve();
          },
          (e: Error) => fail(`subscribe failed: ${e.message}`),
        );
      });
      ws.on('message', (raw) => this.receive(raw.toString()));
      ws.on('ping', () => (this.heardAt = Date.now())); // ws answers it by itself
      ws.on('pong', () => (this.heardAt = Date.now()));
      ws.on('error', (e) => (settled ? this.end(`socket error: ${e.message}`, false) : fail(e.message)));
      ws.on('close', (code, reason) => {
        const why = `socket closed (${code}${reason.length ? ` ${reason}` : ''})`;
        if (settled) this.end(why, false);
        else fail(why);
      });
    });
  }

  /**
   * Sends a frame and resolves with WeCom's ack (whatever its errcode). Rejects with NotConnected when it cannot go
   * out or the connection ends before the ack, and with a timeout error when no ack comes in ackTimeoutMs.
   */
  request(cmd: string, body?: unknown, reqId = newReqId(cmd), timeoutMs = this.t.ackTimeoutMs): Promise<Ack> {
    if (this.ended || this.ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new NotConnected('the long connection is not up'));
    if (cmd !== CMD.subscribe && !this.subscribed)
      return Promise.reject(new NotConnected('the long connection is not subscribed yet'));
    return new Promise<Ack>((resolve, reject) => {
      // One request per req_id at a time: a second one would steal the first one's ack.
      if (this.pending.has(reqId)) return reject(new Error(`a request with req_id ${reqId} is already waiting`));
      const timer = setTimeout(() => {
        this.pending.delete(reqId);
        reject(new Error(`no ack for ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(reqId, { resolve, reject, timer });
      this.ws.send(frame(cmd, reqId, body), (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(reqId);
        reject(new NotConnected(`could not send ${cmd}: ${err.message}`));
      });
    });
  }

  /**
   * Closes politely; a gateway that does not answer the close within a second is cut off. Callbacks that arrive until
   * the gateway has answered are still taken: WeCom counts a frame it wrote to this socket as delivered and never sends
   * it again, so one written just before our close must not be dropped here.
   */
  async close(): Promise<void> {
    const ws = this.ws;
    if (ws.readyState === WebSocket.CLOSED) return this.end('closed by us', false);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => ws.terminate(), 1_000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'bye');
      else ws.terminate();
    });
    this.end('closed by us', false);
  }

  private heartbeat(): void {
    const quiet = Date.now() - this.heardAt;
    if (quiet >= this.t.silenceMs) {
      this.kill(`nothing heard for ${Math.round(quiet / 1000)} s`);
      return;
    }
    if (this.pingDue) {
      this.kill('no ack to the last ping');
      return;
    }
    this.pingDue = true;
    this.request(CMD.ping).then(
      (ack) => {
        this.pingDue = false;
        if (ack.errcode !== 0) this.o.log.warn({ errcode: ack.errcode }, 'wecom long connection: ping refused');
      },
      () => undefined, // a lost ack is caught by the next heartbeat (pingDue) or by the close
    );
  }

  private kill(why: string): void {
    this.end(why, false);
    this.ws.terminate();
  }

  private receive(text: string): void {
    this.heardAt = Date.now();
    const f = readJsonFrame(text, incomingSchema, (o, m) => this.o.log.warn(o, m), 'wecom long connection frame');
    if (!f) return;
    if (!f.cmd) {
      const p = this.pending.get(f.headers.req_id);
      if (!p) {
        this.o.log.debug({ reqId: f.headers.req_id }, 'wecom long connection: an ack nobody waits for');
        return;
      }
      clearTimeout(p.timer);
      this.pending.delete(f.headers.req_id);
      p.resolve(ackOf(f));
      return;
    }
    if (f.cmd === CMD.eventCallback && eventType(f.body) === 'disconnected_event') {
      // WeCom keeps one connection per bot: a newer subscribe took over and this socket is about to be closed.
      // Redialling at once would kick the other one in turn; the keeper waits (wecom.md §3.3).
      this.end('WeCom says a newer connection replaced this one (disconnected_event)', true);
      this.ws.terminate();
      return;
    }
    if (f.cmd === CMD.msgCallback || f.cmd === CMD.eventCallback) {
      // Not waiting for `subscribed`: WeCom may push right behind the subscribe ack, in the same read, before the
      // promise that sets it has run; a callback only ever comes on a subscribed connection.
      if (!this.ended) this.o.onCallback(f, this);
      return;
    }
    this.o.log.info({ cmd: f.cmd }, 'wecom long connection: a command we do not know; ignored');
  }

  private end(why: string, kicked: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.pinger);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new NotConnected(`the connection ended before the ack of ${id}: ${why}`));
    }
    this.pending.clear();
    if (this.subscribed) this.o.onEnd(why, kicked);
  }
}

function eventType(body: unknown): string | undefined {
  const e = (body as { event?: { eventtype?: unknown } } | undefined)?.event;
  return typeof e?.eventtype === 'string' ? e.eventtype : undefined;
}
