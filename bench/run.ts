// `npm run bench` — runs both parts and prints one table (progress goes to stderr, the table to stdout).
//   node bin/run-ts.mjs bench/run.ts              both parts
//   node bin/run-ts.mjs bench/run.ts callbacks    part 1 only (ceiling / floor / real)
//   node bin/run-ts.mjs bench/run.ts latency      part 2 only (report → claim card)
// Options: --targets=bare,floor,real,real-noworkers (part 1). Environment knobs: see bench/README.md.
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { benchCallbacks, defaultCallbackOptions, type CallbackRow, type TargetKey } from './callbacks.js';
import { benchLatency, defaultLatencyOptions, type LatencyResult } from './latency.js';
import { REDIS_URL } from './lib/redis.js';

const SERVER_CPU = '0';
const LOAD_CPU = '1';
const TARGET_P99_MS = 5;
const TARGET_CARD_P95_MS = 50;

const args = process.argv.slice(2);
const parts = args.filter((a) => !a.startsWith('--'));
const doCallbacks = parts.length === 0 || parts.includes('callbacks');
const doLatency = parts.length === 0 || parts.includes('latency');
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
  if (cpus().length < 2) log('bench: fewer than 2 CPUs — server and load generator will share a core; figures are not comparable');
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
  out.push(`1. Encrypted AI-bot callbacks — POST /wecom/aibot?msg_signature&timestamp&nonce, body {"encrypt"}; every request distinct, sent once`);
  out.push(`   closed loop: wrk -t1 -c${o.connections} for ${o.seconds}s · constant rate: ${o.rate} req/s for ${o.rateSeconds}s over ${o.rateConnections} connections`);
  out.push('');
  const h1 = `${pad('', 27)} │ ${pad('closed loop', 40)} │ constant ${o.rate} req/s`;
  const h2 = `${pad('endpoint', 27)} │ ${lpad('req/s', 7)} ${lpad('p50 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('cpu%', 5)} ${lpad('redis%', 6)} ${lpad('n≠200', 5)} │ ${lpad('req/s', 6)} ${lpad('p50 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('p99.9', 7)} ${lpad('max ms', 7)} ${lpad('late', 5)} ${lpad('cpu%', 5)} ${lpad('redis%', 6)} ${lpad('n≠200', 5)}`;
  out.push(h1, h2, '─'.repeat(h2.length));
  for (const r of rows) {
    if (r.error && !r.throughput && !r.fixed) {
      out.push(`${pad(r.label, 27)} │ FAILED: ${r.error.split('\n')[0]}`);
      continue;
    }
    const t = r.throughput;
    const c = r.fixed;
    const bad = (w?: { valid: boolean; non200: number; problems: string[] }) => (w ? (w.valid ? '0' : String(w.non200 || '!')) : '—');
    out.push(
      `${pad(r.label, 27)} │ ${lpad(f(t?.wrk.rps, 0), 7)} ${lpad(ms(t?.wrk.lat_us.p50), 7)} ${lpad(ms(t?.wrk.lat_us.p99), 7)} ${lpad(f(t?.cpu.server, 0), 5)} ${lpad(f(t?.cpu.redis, 0), 6)} ${lpad(bad(t?.wrk), 5)} │ ` +
        `${lpad(f(c?.wrk.rps, 0), 6)} ${lpad(ms(c?.wrk.lat_us.p50), 7)} ${lpad(ms(c?.wrk.lat_us.p99), 7)} ${lpad(ms(c?.wrk.lat_us.p999), 7)} ${lpad(ms(c?.wrk.lat_us.max), 7)} ${lpad(c ? String(c.wrk.late_over_1ms) : '—', 5)} ${lpad(f(c?.cpu.server, 0), 5)} ${lpad(f(c?.cpu.redis, 0), 6)} ${lpad(bad(c?.wrk), 5)}`,
    );
  }
  out.push('');
  for (const r of rows) {
    for (const [what, m] of [['closed loop', r.throughput], ['constant rate', r.fixed]] as const) {
      if (m && !m.wrk.valid) out.push(`   INVALID ${r.key} ${what}: ${m.wrk.problems.join('; ')}`);
    }
    if (r.error && (r.throughput || r.fixed)) out.push(`   ${r.key}: ${r.error.split('\n')[0]}`);
  }
  const by = (k: TargetKey) => rows.find((r) => r.key === k);
  const rps = (k: TargetKey) => {
    const m = by(k)?.throughput;
    return m && m.wrk.valid ? m.wrk.rps : undefined;
  };
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? f(a / b) : '—');
  const [ceil, floor, real, realNw] = [rps('bare'), rps('floor'), rps('real'), rps('real-noworkers')];
  out.push(`   ratios (closed-loop req/s): real/ceiling ${ratio(real, ceil)}   floor/ceiling ${ratio(floor, ceil)}   real/floor ${ratio(real, floor)}` + (realNw !== undefined ? `   (workers off: real/floor ${ratio(realNw, floor)})` : ''));
  const realRow = by('real');
  if (realRow?.backlog) out.push(`   real, workers on: ${realRow.backlog.jobs} inbox jobs still waiting when the closed loop ended, drained in ${f(realRow.backlog.drainSeconds, 1)} s`);
  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'PASS' : 'FAIL');
  if (real !== undefined || floor !== undefined) out.push(`   target real ≥ floor throughput: ${verdict(real !== undefined && floor !== undefined ? real >= floor : undefined)} (${f(real, 0)} vs ${f(floor, 0)} req/s)`);
  const rf = realRow?.fixed;
  if (rf) out.push(`   target real p99 < ${TARGET_P99_MS} ms at ${o.rate} req/s: ${verdict(rf.wrk.valid ? rf.wrk.lat_us.p99 / 1000 < TARGET_P99_MS : undefined)} (p99 ${ms(rf.wrk.lat_us.p99)} ms${rf.wrk.valid ? '' : ', run invalid'})`);
  const warn = rows.filter((r) => r.warnings).map((r) => `${r.key} ${r.warnings}`);
  if (warn.length) out.push(`   server log lines at warn/error level: ${warn.join(', ')}`);
  out.push(`   late = requests sent >1 ms after their slot (all connections busy); cpu% = server process, % of one core; redis% = the shared Redis`);
  return out;
}

function latencyTable(r: LatencyResult): string[] {
  const out: string[] = [];
  out.push(`2. Report → claim card — houqin serve + fake WeCom; ${r.rate} reports/s for ${r.seconds}s, each "报修 <room> 空调不制冷" to a room owned by one of 120 workers`);
  out.push('');
  if (r.error) out.push(`   FAILED: ${r.error.split('\n')[0]}`);
  out.push(`   sent ${r.sent} (at ${f(r.achievedRate, 1)}/s), answered 200: ${r.ok}, claim cards seen: ${r.cards}${r.missing ? ` (${r.missing} MISSING)` : ''}`);
  const h = `   ${pad('', 34)} ${lpad('p50 ms', 7)} ${lpad('p95 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('max ms', 7)}`;
  out.push(h);
  const line = (label: string, s: LatencyResult['card']) => `   ${pad(label, 34)} ${lpad(f(s.p50, 0), 7)} ${lpad(f(s.p95, 0), 7)} ${lpad(f(s.p99, 0), 7)} ${lpad(f(s.max, 0), 7)}`;
  out.push(line('callback sent → claim card at WeCom', r.card));
  out.push(line('callback sent → reply (response_url)', r.ack));
  out.push(line('callback sent → HTTP 200 back', r.http));
  if (r.non200.length) out.push(`   INVALID: ${r.non200.length} callbacks not answered 200 (${[...new Set(r.non200)].slice(0, 5).join(', ')})`);
  out.push(`   busiest member: ${r.maxCardsPerMemberPerMinute} app messages in a 61 s window (limit 30); fake WeCom errcode≠0 during the run: ${r.fakeErrors}; format violations: ${r.violations.length ? r.violations.join(' | ') : 'none'}`);
  const valid = !r.error && !r.non200.length && r.missing === 0;
  out.push(`   target p95 < ${TARGET_CARD_P95_MS} ms: ${!valid ? 'n/a (run invalid)' : r.card.p95 < TARGET_CARD_P95_MS ? 'PASS' : 'FAIL'} (p95 ${f(r.card.p95, 0)} ms)`);
  if (r.warnings) out.push(`   server log lines at warn/error level: ${r.warnings}`);
  return out;
}

const started = Date.now();
const redisVersion = await preflight();
const cpuModel = cpus()[0]?.model ?? '?';
const commit = sh('git', ['-C', process.cwd(), 'rev-parse', '--short', 'HEAD']) ?? '?';
const dirty = sh('git', ['-C', process.cwd(), 'status', '--porcelain', '--untracked-files=no', 'src'])?.length ? ' (src/ has uncommitted changes)' : '';
const header = [
  `Houqin bench — ${new Date().toISOString()} · commit ${commit}${dirty}`,
  `node ${process.version} · ${cpus().length} × ${cpuModel} · load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
  `servers pinned to cpu ${SERVER_CPU}; wrk, the latency client and the fake WeCom pinned to cpu ${LOAD_CPU}; Redis ${redisVersion} at ${REDIS_URL} (shared, not pinned)`,
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
  const o = defaultLatencyOptions();
  o.serverCpu = SERVER_CPU;
  const r = await benchLatency(o);
  lines.push(...latencyTable(r), '');
}
lines.push(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.stdout.write(lines.join('\n') + '\n');
process.exit(0);
