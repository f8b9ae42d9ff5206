// The district bench's load generator (bench/district.ts): HTTP/1.1 keep-alive over plain sockets, each request's
// bytes built before the run, spread over several instances of the app. wrk talks to one address only, and the
// failover part needs every answer's status and time, so this client records both for every request. It costs a
// few microseconds of CPU a request (no node:http parser, no per-request objects beyond a closure), and its own CPU
// is reported beside every row.
import { connect, type Socket } from 'node:net';

/** One pre-built request: its bytes, and what it carries (for the checks after the run). */
export interface RawRequest {
  bytes: Buffer;
  site: number;
  msgid: string;
}

/** Builds a POST with a JSON body. */
export function rawPost(path: string, body: string): Buffer {
  const b = Buffer.from(body);
  return Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n\r\n`,
    ),
    b,
  ]);
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection; one request at a time on it. A socket error or a timeout answers status 0. */
class Conn {
  private sock?: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private waiting?: (status: number) => void;
  private timer?: NodeJS.Timeout;

  constructor(
    private port: number,
    private timeoutMs: number,
  ) {}

  private open(): Socket {
    const s = connect({ port: this.port, host: '127.0.0.1', noDelay: true });
    s.on('data', (d: Buffer) => this.onData(d));
    // Only the current socket's end answers the request on it (one dropped after a timeout has nothing waiting).
    const fail = () => {
      if (this.sock !== s) return;
      this.sock = undefined;
      this.finish(0);
    };
    s.on('error', fail);
    s.on('close', fail);
    this.buf = Buffer.alloc(0);
    return s;
  }

  send(bytes: Buffer): Promise<number> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.sock ??= this.open();
      this.timer = setTimeout(() => {
        // The platform's deadline: the answer did not come in time. The socket goes, as WeCom's would.
        const s = this.sock;
        this.sock = undefined;
        s?.destroy();
        this.finish(0);
      }, this.timeoutMs);
      this.sock.write(bytes);
    });
  }

  private finish(status: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const w = this.waiting;
    this.waiting = undefined;
    w?.(status);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const end = this.buf.indexOf(HEAD_END);
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('latin1');
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      let total = end + 4 + (m ? Number(m[1]) : 0);
      if (!m && /\r\ntransfer-encoding:\s*chunked/i.test(head)) {
        const last = this.buf.indexOf('0\r\n\r\n', end + 4);
        if (last < 0) return;
        total = last + 5;
      }
      if (this.buf.length < total) return;
      this.buf = this.buf.subarray(total);
      this.finish(status);
    }
  }

  close(): void {
    this.sock?.destroy();
    this.sock = undefined;
  }
}

/** Per request (index into the request list): status (0 = no answer), when it was written and answered (ms). */
export interface LoopRecord {
  status: Int16Array;
  sentAt: Float64Array;
  doneAt: Float64Array;
  /** the instance it went to */
  instance: Uint8Array;
  /** how many of the requests were sent */
  count: number;
  /** requests written more than 1 ms after their slot (every connection of their instance busy) */
  late: number;
  /** performance.now() at the start */
  t0: number;
  /** performance.now() when the last answer came */
  t1: number;
}

function record(n: number): LoopRecord {
  return {
    status: new Int16Array(n),
    sentAt: new Float64Array(n),
    doneAt: new Float64Array(n),
    instance: new Uint8Array(n),
    count: 0,
    late: 0,
    t0: performance.now(),
    t1: 0,
  };
}

export interface LoopOptions {
  ports: number[];
  requests: RawRequest[];
  seconds: number;
  /** connections per instance */
  connections: number;
  /** the platform's deadline (WeCom: 5 s) */
  timeoutMs?: number;
  /** called for each answer (the failover part watches them) */
  onAnswer?: (i: number, status: number, at: number) => void;
}

/**
 * A constant rate: request k is due at t0 + k/rate and goes to instance k mod n, on a free connection of that
 * instance (a request that finds none waits for one and counts as late). Latency is from the write, as wrk's is.
 */
export async function openLoop(o: LoopOptions & { rate: number }): Promise<LoopRecord> {
  const n = o.ports.length;
  const total = Math.min(o.requests.length, Math.ceil(o.rate * o.seconds));
  const r = record(total);
  const pools = o.ports.map((p) => Array.from({ length: o.connections }, () => new Conn(p, o.timeoutMs ?? 5000)));
  const free = pools.map((p) => [...p]);
  const queued: number[][] = o.ports.map(() => []);
  const interval = 1000 / o.rate;
  let answered = 0;
  let allDone!: () => void;
  const done = new Promise<void>((res) => (allDone = res));
  const go = (k: number, c: Conn, inst: number) => {
    r.instance[k] = inst;
    r.sentAt[k] = performance.now();
    if (r.sentAt[k] - (r.t0 + k * interval) > 1) r.late++;
    void c.send(o.requests[k].bytes).then((status) => {
      const at = performance.now();
      r.status[k] = status;
      r.doneAt[k] = at;
      o.onAnswer?.(k, status, at);
      const next = queued[inst].shift();
      if (next !== undefined) go(next, c, inst);
      else free[inst].push(c);
      if (++answered === total) allDone();
    });
  };
  r.t0 = performance.now();
  let k = 0;
  while (k < total) {
    const now = performance.now();
    while (k < total && r.t0 + k * interval <= now) {
      const inst = k % n;
      const c = free[inst].pop();
      if (c) go(k, c, inst);
      else queued[inst].push(k);
      k++;
      r.count = k;
    }
    const wait = r.t0 + k * interval - performance.now();
    await new Promise((res) => setTimeout(res, Math.max(0, Math.min(wait, 1))));
  }
  if (total) await done;
  r.t1 = performance.now();
  for (const p of pools) for (const c of p) c.close();
  return r;
}

/**
 * A closed loop: `connections` per instance, each sending its next request the moment the last is answered, for
 * `seconds` (or until the requests run out).
 */
export async function closedLoop(o: LoopOptions): Promise<LoopRecord & { ranOut: boolean }> {
  const r = record(o.requests.length);
  let next = 0;
  let ranOut = false;
  const end = performance.now() + o.seconds * 1000;
  r.t0 = performance.now();
  const one = async (port: number, inst: number) => {
    const c = new Conn(port, o.timeoutMs ?? 5000);
    while (performance.now() < end) {
      if (next >= o.requests.length) {
        ranOut = true;
        break;
      }
      const k = next++;
      r.count = next;
      r.instance[k] = inst;
      r.sentAt[k] = performance.now();
      const status = await c.send(o.requests[k].bytes);
      r.status[k] = status;
      r.doneAt[k] = performance.now();
    }
    c.close();
  };
  await Promise.all(o.ports.flatMap((p, inst) => Array.from({ length: o.connections }, () => one(p, inst))));
  r.t1 = performance.now();
  return { ...r, ranOut };
}

/** Latency percentiles (ms) of the answered requests of a record, and how many were not 200. */
export function summarize(r: LoopRecord): {
  sent: number;
  ok: number;
  non200: number;
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
} {
  const lat: number[] = [];
  let ok = 0;
  for (let k = 0; k < r.count; k++) {
    if (r.status[k] === 200) ok++;
    if (r.doneAt[k]) lat.push(r.doneAt[k] - r.sentAt[k]);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.ceil((p / 100) * lat.length) - 1)] : NaN);
  return {
    sent: r.count,
    ok,
    non200: r.count - ok,
    rps: ok / ((r.t1 - r.t0) / 1000),
    p50: q(50),
    p99: q(99),
    p999: q(99.9),
    max: lat.at(-1) ?? NaN,
  };
}
