// What an operator can scrape (GET /admin/metrics, Prometheus text format, behind the admin token): how long the
// platform callbacks take inside this process, from the request's arrival to its answer being written. WeCom gives
// up on a callback after 5 s and retries; this is the part of that time that is ours.
import { Histogram, Registry } from 'prom-client';

/** Bucket bounds in seconds: fine below 5 ms, where a healthy receiver answers. */
const buckets = [
  0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
  5,
];

export class Metrics {
  readonly registry = new Registry();
  private callbacks = new Histogram({
    name: 'houqin_callback_duration_seconds',
    help: "Time from a platform callback's arrival to its answer being written, by route and status.",
    labelNames: ['route', 'status'] as const,
    buckets,
    registers: [this.registry],
  });

  callback(route: string, status: number, seconds: number): void {
    this.callbacks.observe({ route, status: String(status) }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
