// What an operator can scrape (GET /admin/metrics, Prometheus text format, behind the admin token): how long the
// platform callbacks take inside this process, from the request's arrival to its answer being written. WeCom gives
// up on a callback after 5 s and retries; this is the part of that time that is ours. In DingTalk Stream mode, also
// whether the long connection is up and how often it had to be dialled again; the same for WeCom's long connection.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

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

  private streamUp = new Gauge({
    name: 'houqin_dingtalk_stream_connected',
    help: '1 while the DingTalk Stream connection of this process is open, 0 otherwise.',
    registers: [this.registry],
  });
  private streamRedials = new Counter({
    name: 'houqin_dingtalk_stream_reconnects_total',
    help: 'New DingTalk Stream connections dialled after one was lost, refused or rotated by the gateway.',
    registers: [this.registry],
  });

  private longconnUp = new Gauge({
    name: 'houqin_wecom_longconn_connected',
    help: "1 while this process holds the WeCom AI bot's long connection and it is subscribed, 0 otherwise.",
    registers: [this.registry],
  });
  private longconnSubscribes = new Counter({
    name: 'houqin_wecom_longconn_subscribes_total',
    help: 'WeCom long connections this process subscribed (the first, and each after a loss or a takeover).',
    registers: [this.registry],
  });

  /** Hooks for the WeCom AI bot's long connection (src/channels/wecom/longconn/). */
  readonly longconn = {
    connected: (on: boolean) => {
      this.longconnUp.set(on ? 1 : 0);
      if (on) this.longconnSubscribes.inc();
    },
  };

  /** Hooks for the DingTalk Stream connection (src/channels/dingtalk/stream.ts). */
  readonly stream = {
    connected: (on: boolean) => this.streamUp.set(on ? 1 : 0),
    reconnecting: () => this.streamRedials.inc(),
  };

  callback(route: string, status: number, seconds: number): void {
    this.callbacks.observe({ route, status: String(status) }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
