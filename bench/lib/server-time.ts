// The server's own share of a callback's latency, from the app's Prometheus histogram (GET /admin/metrics): the
// buckets read before and after a run, subtracted, give that run's distribution of request → answer written, inside
// the process. What the load generator measures on top of it is the machine: the sockets, and the cores being
// taken away (bench/lib/stalls.ts).

export type Buckets = Map<number, number>; // upper bound in seconds → cumulative count

export async function readBuckets(url: string, token: string, route = 'POST /wecom/aibot'): Promise<Buckets> {
  const res = await fetch(`${url}/admin/metrics`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`/admin/metrics answered ${res.status}`);
  const out: Buckets = new Map();
  const line = /^houqin_callback_duration_seconds_bucket\{le="([^"]+)",route="([^"]+)",status="\d+"\} (\d+)$/;
  for (const l of (await res.text()).split('\n')) {
    const m = line.exec(l);
    if (!m || m[2] !== route) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    out.set(le, (out.get(le) ?? 0) + Number(m[3])); // summed over statuses
  }
  return out;
}

export interface ServerTime {
  count: number;
  /** upper bounds (ms) of the buckets holding these quantiles */
  p50: number;
  p99: number;
  p999: number;
}

export function between(before: Buckets, after: Buckets): ServerTime | undefined {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const count = counts.at(-1) ?? 0;
  if (!count) return undefined;
  const q = (p: number) => 1000 * bounds[counts.findIndex((c) => c >= p * count)];
  return { count, p50: q(0.5), p99: q(0.99), p999: q(0.999) };
}
