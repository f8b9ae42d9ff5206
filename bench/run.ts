// `npm run bench` — runs every part and prints one table (progress goes to stderr, the table to stdout).
//   node bin/run-ts.mjs bench/run.ts              every part
//   node bin/run-ts.mjs bench/run.ts callbacks    part 1 only (ceiling / floor / real)
//   node bin/run-ts.mjs bench/run.ts latency      part 2 only (report → claim card)
//   node bin/run-ts.mjs bench/run.ts flood        part 3 only (100 000 messages from one sender not on the roster)
//   node bin/run-ts.mjs bench/run.ts replicas     part 4 only (the hand-off waiting for a Sentinel replica)
//   node bin/run-ts.mjs bench/run.ts district     part 5, not in the default set (~6 min): a district on a Redis Cluster,
//                                                 1 and 3 instances, failover seen by a client, Redis memory per site and task
//                                                 (--district=rows,failover,memory  --rows=standalone-1,cluster-1,cluster-3,…)
// Options: --targets=bare,floor,real,real-one,real-noworkers,default,dingtalk (part 1). Environment knobs: see bench/README.md.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { benchCallbacks, defaultCallbackOptions, type CallbackRow, type TargetKey } from './callbacks.js';
import { benchLatency, defaultLatencyOptions, type LatencyResult } from './latency.js';
import { benchFlood, floodTable } from './flood.js';
import { benchReplicas } from './replicas.js';
import { benchDistrict, defaultDistrictOptions, districtTable } from './district.js';
import { takeRetry } from './lib/cpu.js';
import { REDIS_URL } from './lib/redis.js';
import { priorityPrefix } from './lib/proc.js';
import { describeStalls, measureStalls } from './lib/stalls.js';

const SERVER_CPU = '0';
const LOAD_CPU = '1';
const TARGET_P99_MS = 5;
const TARGET_CARD_P95_MS = 50;

// argv: node bin/run-ts.mjs bench/run.ts [part] [--targets=…] — the arguments after this file
const self = process.argv.findIndex((a) => /run\.ts$/.test(a));
const args = process.argv.slice(self >= 0 ? self + 1 : 2);
const parts = args.filter((a) => !a.startsWith('--'));
const doCallbacks = parts.length === 0 || parts.includes('callbacks');
const doLatency = parts.length === 0 || parts.includes('latency');
const doFlood = parts.length === 0 || parts.includes('flood');
const doReplicas = parts.length === 0 || parts.includes('replicas');
// Not in the default set: it runs ~6 min (bench/README.md, "A district").
const doDistrict = parts.includes('district');
const targetsArg = args.find((a) => a.startsWith('--targets='))?.slice('--targets='.length);
const log = (l: string) => process.stderr.write(l + '\n');

function sh(cmd: string, a: string[]): string | undefined {
  try {
    return execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function preflight(): Promise<string> {
  const missing: string[] = [];
  if (doCallbacks && !sh('which', ['wrk'])) missing.push('wrk (apt-get install -y wrk)');
  if (!sh('which', ['taskset'])) missing.push('taskset (util-linux)');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true });
  let version = '?';
  try {
    await redis.connect();
    version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  } catch (e) {
    missing.push(`Redis at ${REDIS_URL} (${(e as Error).message})`);
  } finally {
    redis.disconnect();
  }
  if (missing.length) {
    process.stderr.write(`bench: missing prerequisites:\n  ${missing.join('\n  ')}\n`);
    process.exit(2);
  }
  if (cpus().length < 2)
    log('bench: fewer than 2 CPUs — server and load generator will share a core; figures are not comparable');
  // This process (the latency client and the fake WeCom) and its children (wrk) stay off the servers' core.
  sh('taskset', ['-a', '-p', '-c', LOAD_CPU, String(process.pid)]);
  return version;
}

const f = (n: number | undefined, d = 2) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(d));
const ms = (us: number | undefined) => f(us === undefined ? undefined : us / 1000);
const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function callbacksTable(rows: CallbackRow[], o: ReturnType<typeof defaultCallbackOptions>): string[] {
  const out: string[] = [];
  out.push(
    `1. Encrypted AI-bot callbacks — POST /wecom/aibot?msg_signature&timestamp&nonce, body {"encrypt"}; every request distinct, sent once`,
  );
  if (rows.some((r) => r.key === 'dingtalk'))
    out.push(
      `   DingTalk row: POST /dingtalk/robot with the timestamp and sign headers (HMAC-SHA256), a JSON robot message, each its own msgId`,
    );
  out.push(
    `   closed loop: wrk -t1 -c${o.connections} for ${o.seconds}s · constant rate: ${o.rate} req/s for ${o.rateSeconds}s over ${o.rateConnections} connections`,
  );
  out.push('');
  const h1 = `${pad('', 27)} │ ${pad('closed loop', 55)} │ constant ${o.rate} req/s`;
  const h2 =
    `${pad('endpoint', 27)} │ ${lpad('req/s', 6)} ${lpad('p50 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('µs/req', 6)} ${lpad('cpu%', 4)} ${lpad('wk%', 4)} ${lpad('redis%', 6)} ${lpad('other%', 6)} ${lpad('n≠200', 5)} │ ` +
    `${lpad('req/s', 5)} ${lpad('p50 ms', 6)} ${lpad('p99 ms', 6)} ${lpad('p99.9', 6)} ${lpad('max ms', 6)} ${lpad('late', 4)} ${lpad('µs/req', 6)} ${lpad('other%', 6)} ${lpad('n≠200', 5)}`;
  out.push(h1, h2, '─'.repeat(h2.length));
  const usPerReq = (m?: { wrk: { rps: number }; cpu: { server?: number } }) =>
    m && m.cpu.server !== undefined ? (m.cpu.server * 1e4) / m.wrk.rps : undefined;
  for (const r of rows) {
    if (r.error && !r.throughput && !r.fixed) {
      out.push(`${pad(r.label, 27)} │ FAILED: ${r.error.split('\n')[0]}`);
      continue;
    }
    const t = r.throughput;
    const c = r.fixed;
    const bad = (w?: { valid: boolean; non200: number }) => (w ? (w.valid ? '0' : String(w.non200 || '!')) : '—');
    out.push(
      `${pad(r.label, 27)} │ ${lpad(f(t?.wrk.rps, 0), 6)} ${lpad(ms(t?.wrk.lat_us.p50), 7)} ${lpad(ms(t?.wrk.lat_us.p99), 7)} ${lpad(f(usPerReq(t), 0), 6)} ${lpad(f(t?.cpu.server, 0), 4)} ${lpad(f(t?.cpu.workers, 0), 4)} ${lpad(f(t?.cpu.redis, 0), 6)} ${lpad(f(t?.cpu.other, 0), 6)} ${lpad(bad(t?.wrk), 5)} │ ` +
        `${lpad(f(c?.wrk.rps, 0), 5)} ${lpad(ms(c?.wrk.lat_us.p50), 6)} ${lpad(ms(c?.wrk.lat_us.p99), 6)} ${lpad(ms(c?.wrk.lat_us.p999), 6)} ${lpad(ms(c?.wrk.lat_us.max), 6)} ${lpad(c ? String(c.wrk.late_over_1ms) : '—', 4)} ${lpad(f(usPerReq(c), 0), 6)} ${lpad(f(c?.cpu.other, 0), 6)} ${lpad(bad(c?.wrk), 5)}`,
    );
  }
  out.push('');
  for (const r of rows) {
    for (const [what, m] of [
      ['closed loop', r.throughput],
      ['constant rate', r.fixed],
    ] as const) {
      if (m && !m.wrk.valid) out.push(`   INVALID ${r.key} ${what}: ${m.wrk.problems.join('; ')}`);
    }
    if (r.error && (r.throughput || r.fixed)) out.push(`   ${r.key}: ${r.error.split('\n')[0]}`);
  }
  const by = (k: TargetKey) => rows.find((r) => r.key === k);
  const rps = (k: TargetKey) => {
    const m = by(k)?.throughput;
    return m?.wrk.valid ? m.wrk.rps : undefined;
  };
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? f(a / b) : '—');
  const realRow0 = by('real');
  const [ceil, floor, real, realOne, realNw, ding] = [
    rps('bare'),
    rps('floor'),
    rps('real'),
    rps('real-one'),
    rps('real-noworkers'),
    rps('dingtalk'),
  ];
  out.push(
    `   ratios (closed-loop req/s): real/ceiling ${ratio(real, ceil)}   floor/ceiling ${ratio(floor, ceil)}   real/floor ${ratio(real, floor)}`,
  );
  if (by('dingtalk'))
    out.push(
      `   DingTalk HTTP robot (same split, signed robot callbacks) / WeCom receiver: ${ratio(ding, real)} closed-loop req/s, ` +
        `${ratio(by('dingtalk')?.fixed?.wrk.lat_us.p99, realRow0?.fixed?.wrk.lat_us.p99)} p99 at ${o.rate} req/s; DingTalk/floor ${ratio(ding, floor)}`,
    );
  if (realOne !== undefined || realNw !== undefined) {
    const parts = [
      ['one process', realOne],
      ['the receiver alone', realNw],
    ] as const;
    out.push(
      `   diagnostics, real/floor for ${parts
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}: ${ratio(v, floor)}`)
        .join(', ')}`,
    );
  }
  // Issue 14: the start everybody runs, against the floor, in this run.
  const [one, def] = [rps('real-one'), rps('default')];
  if (one !== undefined || def !== undefined)
    out.push(
      `   npm start vs the floor (closed-loop req/s): one process ${ratio(one, floor)}×, default (receiver + workers, 2 processes on cpu ${o.serverCpu}) ${ratio(def, floor)}×   (target ≥ 2×)`,
    );
  const after = rows.filter((r) => r.afterBurst);
  if (after.length) {
    const p99 = (r: CallbackRow) => (r.afterBurst!.wrk.valid ? r.afterBurst!.wrk.lat_us.p99 : undefined);
    const fp = by('floor') && p99(by('floor')!);
    out.push(
      `   right after a closed-loop burst, ${o.afterRate} req/s for ${o.afterSeconds}s: ` +
        after
          .map(
            (r) =>
              `${r.key} p99 ${ms(p99(r))} ms (late ${r.afterBurst!.wrk.late_over_1ms}${r.afterBacklog !== undefined ? `, ${r.afterBacklog} messages behind` : ''}${r.key !== 'floor' && fp ? `, ${ratio(p99(r), fp)}× the floor` : ''})`,
          )
          .join(' · ') +
        '   (target ≤ 1× the floor)',
    );
    for (const r of after)
      if (!r.afterBurst!.wrk.valid)
        out.push(`   INVALID ${r.key} after burst: ${r.afterBurst!.wrk.problems.join('; ')}`);
  }
  const realRow = by('real');
  for (const r of rows)
    if (r.backlog)
      out.push(
        `   ${r.key}: ${r.backlog.jobs} messages not yet handled by the workers when the closed loop ended, all handled ${f(r.backlog.drainSeconds, 1)} s later`,
      );
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');
  if (real !== undefined || floor !== undefined)
    out.push(
      `   target real ≥ floor throughput: ${verdict(real !== undefined && floor !== undefined ? real >= floor : undefined)} (${f(real, 0)} vs ${f(floor, 0)} req/s)`,
    );
  const rf = realRow?.fixed;
  if (rf)
    out.push(
      `   target real p99 < ${TARGET_P99_MS} ms at ${o.rate} req/s: ${verdict(rf.wrk.valid ? rf.wrk.lat_us.p99 / 1000 < TARGET_P99_MS : undefined)} (p99 ${ms(rf.wrk.lat_us.p99)} ms${rf.wrk.valid ? '' : ', run invalid'})`,
    );
  for (const r of rows) {
    const t = r.fixed?.server;
    if (t)
      out.push(
        `   ${r.key}: the app's own time per callback at ${o.rate} req/s (arrival → answer written, its /admin/metrics, ${t.count} callbacks): p50 ≤ ${t.p50} ms, p99 ≤ ${t.p99} ms, p99.9 ≤ ${t.p999} ms`,
      );
  }
  const warn = rows.filter((r) => r.warnings).map((r) => `${r.key} ${r.warnings}`);
  if (warn.length) out.push(`   server log lines at warn/error level: ${warn.join(', ')}`);
  out.push(
    `   µs/req = CPU time of the receiving process per request; cpu% = that process, wk% = the workers process of the split (on cpu ${o.loadCpu}), redis% = the shared Redis, other% = processes not ours (the machine is shared),`,
  );
  out.push(
    `   all in % of one core; late = requests sent > 1 ms after their slot (every connection busy); runs with other% > ${o.noisyPct} were repeated once (the cleaner kept; at most BENCH_RETRIES=4 repeats per bench)`,
  );
  return out;
}

const latencyVariants: Record<string, { label: string; args: string[]; workers?: string[] }> = {
  real: {
    label: 'real     receiver+workers',
    args: ['bin/houqin.mjs', 'serve', '--role', 'receiver'],
    workers: ['bin/houqin.mjs', 'serve', '--role', 'workers'],
  },
  'real-one': { label: 'real, one process (diag.)', args: ['bin/houqin.mjs', 'serve', '--role', 'all'] },
};

/** The app's CPU: the one process, or receiver + workers. */
const appCpu = (r: LatencyResult) => (r.cpu?.server === undefined ? undefined : r.cpu.server + (r.cpu.workers ?? 0));

function latencyTable(runs: { key: string; r: LatencyResult }[], noisyPct: number): string[] {
  const out: string[] = [];
  const r0 = runs[0].r;
  out.push(
    `2. Report → claim card — the app + fake WeCom; ${r0.rate} reports/s for ${r0.seconds}s, each "报修 <room> 空调不制冷" to a room owned by one of 120 workers`,
  );
  out.push(
    `   measured from the callback being sent to the fake receiving: the claim card (message/send, button claim:N), the reply on the report's response_url, the HTTP 200`,
  );
  out.push('');
  const h =
    `${pad('server', 27)} │ ${lpad('sent', 5)} ${lpad('200s', 5)} ${lpad('cards', 5)} │ ${lpad('card p50', 8)} ${lpad('p95', 5)} ${lpad('p99', 5)} ${lpad('max', 5)} │ ${lpad('reply p50', 9)} ${lpad('p95', 5)} │ ` +
    `${lpad('HTTP p50', 8)} ${lpad('p99', 5)} │ ${lpad('cpu%', 4)} ${lpad('ms/rep', 6)} ${lpad('redis%', 6)} ${lpad('other%', 6)}`;
  out.push(h, '─'.repeat(h.length));
  for (const { key, r } of runs) {
    const label = (latencyVariants[key]?.label ?? key).slice(0, 27);
    if (r.error && !r.sent) {
      out.push(`${pad(label, 27)} │ FAILED: ${r.error.split('\n')[0]}`);
      continue;
    }
    out.push(
      `${pad(label, 27)} │ ${lpad(String(r.sent), 5)} ${lpad(String(r.ok), 5)} ${lpad(String(r.cards), 5)} │ ${lpad(f(r.card.p50, 0), 8)} ${lpad(f(r.card.p95, 0), 5)} ${lpad(f(r.card.p99, 0), 5)} ${lpad(f(r.card.max, 0), 5)} │ ` +
        `${lpad(f(r.ack.p50, 0), 9)} ${lpad(f(r.ack.p95, 0), 5)} │ ${lpad(f(r.http.p50, 0), 8)} ${lpad(f(r.http.p99, 0), 5)} │ ${lpad(f(appCpu(r), 0), 4)} ${lpad(f(appCpu(r) === undefined ? undefined : (appCpu(r)! * 10) / r.achievedRate, 1), 6)} ${lpad(f(r.cpu?.redis, 0), 6)} ${lpad(f(r.cpu?.other, 0), 6)}`,
    );
  }
  out.push('');
  for (const { key, r } of runs) {
    const problems: string[] = [];
    if (r.error) problems.push(r.error.split('\n')[0]);
    if (r.non200.length)
      problems.push(`${r.non200.length} callbacks not answered 200 (${[...new Set(r.non200)].slice(0, 5).join(', ')})`);
    if (r.missing) problems.push(`${r.missing} claim cards missing`);
    if (r.violations.length) problems.push(`fake WeCom format violations: ${r.violations.join(' | ')}`);
    if (problems.length) out.push(`   INVALID ${key}: ${problems.join('; ')}`);
    out.push(
      `   ${key}: sent at ${f(r.achievedRate, 1)}/s; busiest member ${r.maxCardsPerMemberPerMinute} app messages in a 61 s window (limit 30); fake WeCom errcode≠0: ${r.fakeErrors}` +
        (r.warnings ? `; server warn/error log lines: ${r.warnings}` : ''),
    );
  }
  const real = runs.find((x) => x.key === 'real')?.r;
  if (real) {
    const valid = !real.error && !real.non200.length && real.missing === 0;
    out.push(
      `   target real p95 < ${TARGET_CARD_P95_MS} ms: ${!valid ? 'n/a (run invalid)' : real.card.p95 < TARGET_CARD_P95_MS ? 'PASS' : 'FAIL'} (p95 ${f(real.card.p95, 0)} ms)`,
    );
  }
  out.push(
    `   cpu% = the app (receiver + workers for the split), redis% = the shared Redis, other% = processes not ours, % of one core while sending; ms/rep = the app's CPU time per report; runs with other% > ${noisyPct} were repeated once (the cleaner kept)`,
  );
  return out;
}

const started = Date.now();
const redisVersion = await preflight();
const cpuModel = cpus()[0]?.model ?? '?';
const commit = sh('git', ['-C', process.cwd(), 'rev-parse', '--short', 'HEAD']) ?? '?';
const dirty = sh('git', ['-C', process.cwd(), 'status', '--porcelain', '--untracked-files=no', 'src'])?.length
  ? ' (src/ has uncommitted changes)'
  : '';
const header = [
  `Houqin bench — ${new Date().toISOString()} · commit ${commit}${dirty}`,
  `node ${process.version} · ${cpus().length} × ${cpuModel} · load average at start ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
  `servers pinned to cpu ${SERVER_CPU}; the split's workers on cpu ${LOAD_CPU} under \`${priorityPrefix('idle').join(' ')}\` (part 1) and \`nice -n 10\` (part 2); wrk, the latency client and the fake WeCom pinned to cpu ${LOAD_CPU}; Redis ${redisVersion} at ${REDIS_URL} (shared, not pinned)`,
  `stalls a busy loop saw before the runs (3 s): ${describeStalls(await measureStalls([SERVER_CPU, LOAD_CPU]))}`,
];
log(header.join('\n'));

const lines: string[] = [...header, ''];
if (doCallbacks) {
  const o = defaultCallbackOptions();
  o.serverCpu = SERVER_CPU;
  o.loadCpu = LOAD_CPU;
  if (targetsArg) o.targets = targetsArg.split(',').filter(Boolean) as TargetKey[];
  const rows = await benchCallbacks(o);
  lines.push(...callbacksTable(rows, o), '');
}
if (doLatency) {
  const noisyPct = Number(process.env.BENCH_NOISY_PCT || 20);
  const runs: { key: string; r: LatencyResult }[] = [];
  for (const key of (process.env.BENCH_LATENCY_VARIANTS || 'real,real-one').split(',').filter(Boolean)) {
    const o = defaultLatencyOptions();
    o.serverCpu = SERVER_CPU;
    o.workersCpu = LOAD_CPU;
    if (latencyVariants[key]) {
      o.serverArgs = latencyVariants[key].args;
      o.workersArgs = latencyVariants[key].workers;
    } else if (key.startsWith('variant:'))
      o.serverArgs = ['bin/run-ts.mjs', 'bench/servers/real-variant.ts', ...key.slice(8).split('+')];
    else throw new Error(`unknown latency variant ${key} (real, real-one, variant:<flag>+<flag>)`);
    let best: LatencyResult | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await benchLatency(o);
      if (!best || (r.cpu?.other ?? Infinity) < (best.cpu?.other ?? Infinity)) best = r;
      if ((r.cpu?.other ?? 0) <= noisyPct || !takeRetry()) break;
      log(`[latency] ${key}: other processes used ${f(r.cpu?.other, 0)}% of a core; once more`);
    }
    runs.push({ key, r: best! });
  }
  lines.push(...latencyTable(runs, noisyPct), '');
}
if (doFlood) {
  const runs = await benchFlood({ serverCpu: SERVER_CPU, loadCpu: LOAD_CPU, log });
  lines.push(...floodTable(runs), '');
}
if (doReplicas) lines.push(...(await benchReplicas(log)), '');
if (doDistrict) {
  const o = defaultDistrictOptions(args);
  o.serverCpu = SERVER_CPU;
  o.loadCpu = LOAD_CPU;
  o.log = log;
  lines.push(...districtTable(await benchDistrict(o)));
}
lines.push(
  `stalls a busy loop saw after the runs (3 s): ${describeStalls(await measureStalls([SERVER_CPU, LOAD_CPU]))}`,
);
lines.push(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(lines.join('\n') + '\n');
process.exit(0);
