// Part 3: a flood from one sender who is not on the roster (issue 14). 100 000 signed, encrypted AI-bot callbacks
// from one userid the config does not know, sent as fast as they are answered (64 connections, each request once),
// to `npm start` as one process and as the default two. Then, every second, the app's CPU (all its processes, from
// /proc) and what is left to read: the process is "idle again" at the first second it used < 5 % of a core with
// nothing left in the stream or the inbox. Reported: callbacks/s, seconds from the last answer to idle, outbox jobs
// left then (waiting, delayed, active; and failed), replies the sender got (a local stand-in for response_url),
// and the app's CPU in the 10 s after. Before issue 14 each message made one reply job that WeCom's 30 a minute per
// member could never drain.
import { createServer, Agent } from 'node:http';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { aesKey } from '../test/helpers/wecom-env.js';
import { childPids } from './callbacks.js';
import { writeCallbacks } from './lib/gen.js';
import { postJson } from './lib/http.js';
import { sleep, startServer } from './lib/proc.js';
import { benchPrefix, dropPrefix, pending, REDIS_URL } from './lib/redis.js';

export interface FloodRun {
  key: string;
  label: string;
  sent: number;
  non200: number;
  sendSeconds: number;
  /** seconds from the last answer until the app was idle (undefined: not within the limit) */
  idleSeconds?: number;
  outboxLeft: number;
  outboxFailed: number;
  outboxDone: number;
  replies: number;
  /** the app's CPU, % of one core, while sending and in the 10 s after idle */
  cpuSending?: number;
  cpuAfter?: number;
  listed?: number;
  error?: string;
}

const variants = [
  { key: 'one', label: 'one process (HOUQIN_PROCESSES=1)', env: { HOUQIN_PROCESSES: '1' } },
  { key: 'default', label: 'default (receiver + workers)', env: { HOUQIN_PROCESSES: '2' } },
];

function ticks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}
const cpuOf = (pids: number[]) => pids.reduce((n, p) => n + ticks(p), 0);

/** Sends every line of the file once over `connections` keep-alive connections; returns the statuses. */
async function sendAll(url: string, file: string, connections: number): Promise<{ ok: number; bad: number }> {
  const lines: string[] = [];
  for await (const l of createInterface({ input: createReadStream(file) })) if (l) lines.push(l);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const u = new URL(url);
  let next = 0;
  let ok = 0;
  let bad = 0;
  // A refused or failed request counts as not answered (0), never twice.
  const one = (line: string) => {
    const tab = line.indexOf('\t');
    return postJson(agent, new URL(line.slice(0, tab), u), line.slice(tab + 1)).catch(() => 0);
  };
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < lines.length) {
        const s = await one(lines[next++]);
        if (s === 200) ok++;
        else bad++;
      }
    }),
  );
  agent.destroy();
  return { ok, bad };
}

export async function benchFlood(o: { serverCpu: string; loadCpu: string; log: (l: string) => void }) {
  const count = Number(process.env.BENCH_FLOOD || 100_000);
  const runs: FloodRun[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'houqin-flood-'));
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  let replies = 0;
  // Where the sender's replies go: WeCom's response_url, answered as WeCom does.
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      replies++;
      res.setHeader('content-type', 'application/json');
      res.end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const sinkPort = (sink.address() as { port: number }).port;
  try {
    for (const v of variants) {
      const prefix = benchPrefix(`flood-${v.key}`);
      const keys = { token: `floodToken${Math.random().toString(36).slice(2, 8)}`, aesKey: aesKey() };
      const run: FloodRun = {
        key: v.key,
        label: v.label,
        sent: 0,
        non200: 0,
        sendSeconds: 0,
        outboxLeft: 0,
        outboxFailed: 0,
        outboxDone: 0,
        replies: 0,
      };
      runs.push(run);
      replies = 0;
      let server: Awaited<ReturnType<typeof startServer>> | undefined;
      try {
        server = await startServer(
          `flood-${v.key}`,
          ['bin/houqin.mjs', 'serve'],
          {
            WECOM_AIBOT_TOKEN: keys.token,
            WECOM_AIBOT_AES_KEY: keys.aesKey,
            REDIS_URL,
            HOUQIN_KEY_PREFIX: prefix,
            HOUQIN_CONFIG: 'config/example.yaml',
            ...v.env,
          },
          o.serverCpu,
        );
        const kids = childPids(server.logs);
        const pids = [server.proc.pid!, ...[kids.receiver, kids.workers].filter((p): p is number => !!p)];
        const file = join(dir, `${v.key}.txt`);
        o.log(`[flood] ${v.key}: writing ${count} callbacks from one sender not on the roster`);
        await writeCallbacks(file, {
          keys,
          count,
          userid: 'BenchStranger',
          content: (i) => `@后勤助手 在吗 ${i}`,
          responseUrl: (i) => `http://127.0.0.1:${sinkPort}/cgi-bin/aibot/response?response_code=flood${i}`,
        });
        o.log(`[flood] ${v.key}: sending`);
        const c0 = cpuOf(pids);
        const t0 = performance.now();
        const st = await sendAll(server.url, file, 64);
        const t1 = performance.now();
        const c1 = cpuOf(pids);
        run.sent = st.ok + st.bad;
        run.non200 = st.bad;
        run.sendSeconds = (t1 - t0) / 1000;
        run.cpuSending = ((c1 - c0) / 100 / run.sendSeconds) * 100;
        // Idle: a second under 5 % of a core with nothing left to read.
        let last = c1;
        for (let s = 0; s < 180; s++) {
          await sleep(1000);
          const now = cpuOf(pids);
          const busy = now - last; // ticks of 10 ms in the last second
          last = now;
          const left = (await redis.xlen(`${prefix}:ingress`)) + (await pending(redis, `${prefix}:q`, 'inbox'));
          if (busy < 5 && left === 0) {
            run.idleSeconds = (performance.now() - t1) / 1000;
            break;
          }
        }
        run.outboxLeft = await pending(redis, `${prefix}:q`, 'outbox');
        run.outboxFailed = await redis.zcard(`${prefix}:q:outbox:failed`);
        run.outboxDone = await redis.zcard(`${prefix}:q:outbox:completed`);
        const a0 = cpuOf(pids);
        await sleep(10_000);
        run.cpuAfter = ((cpuOf(pids) - a0) / 100 / 10) * 100;
        run.replies = replies;
        run.listed = Number(await redis.hget(`${prefix}:stranger:wecom:BenchStranger`, 'count'));
        o.log(
          `[flood] ${v.key}: ${run.sent} sent in ${run.sendSeconds.toFixed(1)} s, idle ${run.idleSeconds?.toFixed(1)} s later, outbox left ${run.outboxLeft}`,
        );
      } catch (e) {
        run.error = (e as Error).message;
        o.log(`[flood] ${v.key}: FAILED ${run.error}`);
      } finally {
        await server?.stop();
        await dropPrefix(prefix);
      }
    }
  } finally {
    sink.close();
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  return runs;
}

export function floodTable(runs: FloodRun[]): string[] {
  const f = (n: number | undefined, d = 1) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(d));
  const out = [
    `3. A flood from one sender not on the roster — ${runs[0]?.sent || '?'} callbacks from one unknown userid, each once, 64 connections, the app pinned to one core`,
    '',
  ];
  for (const r of runs) {
    if (r.error) {
      out.push(`   ${r.label}: FAILED ${r.error.split('\n')[0]}`);
      continue;
    }
    out.push(
      `   ${r.label}: ${r.sent} answered (${r.non200} not 200) at ${f(r.sent / r.sendSeconds, 0)}/s, app CPU ${f(r.cpuSending, 0)}% · idle again ${f(r.idleSeconds)} s after the last answer · outbox jobs left ${r.outboxLeft} (failed ${r.outboxFailed}, sent ${r.outboxDone}) · replies to the sender ${r.replies} · messages listed for the manager ${r.listed} · app CPU in the 10 s after ${f(r.cpuAfter)}%`,
    );
  }
  out.push(
    '   targets: at most a handful of outbox jobs; idle again within a minute (idle = a second under 5 % of a core, nothing left to read)',
  );
  return out;
}
