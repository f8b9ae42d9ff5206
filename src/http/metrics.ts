// What an operator can scrape (GET /admin/metrics, Prometheus text format, behind the admin token): how long the
// platform callbacks take inside this process, from the request's arrival to its answer being written. WeCom gives
// up on a callback after 5 s and retries; this is the part of that time that is ours. In DingTalk Stream mode, also
// whether the long connection is up and how often it had to be dialled again; the same for WeCom's long connection. And
// the outbox: messages waiting, and messages not sent because they were coalesced while they waited
// (src/queues/mailbox.ts) — both read from Redis at scrape time, so the figures are the deployment's whatever process
// sends.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MailboxStats } from '../queues/mailbox.js';

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

  /** Exposes the outbox's figures, read at each scrape. */
  watchOutbox(read: () => Promise<MailboxStats>): void {
    let last: Promise<MailboxStats> | undefined;
    // Both metrics are collected in one scrape: read Redis once for the two.
    const once = () => (last ??= read().finally(() => setTimeout(() => (last = undefined), 100)));
    new Gauge({
      name: 'houqin_outbox_waiting',
      help: 'Outgoing messages waiting to be sent (rate limits, retries), by channel.',
      labelNames: ['channel'] as const,
      registers: [this.registry],
      async collect() {
        const s = await once();
        this.reset();
        for (const [channel, n] of Object.entries(s.waiting)) this.set({ channel }, n);
      },
    });
    const seen: Record<string, number> = {};
    new Counter({
      name: 'houqin_outbox_coalesced_total',
      help: 'Outgoing messages not sent because they were coalesced while waiting: duplicate, superseded, folded.',
      labelNames: ['reason'] as const,
      registers: [this.registry],
      async collect() {
        const s = await once();
        // The totals live in Redis; a counter only goes up, by what was added since the last scrape.
        for (const [reason, n] of Object.entries(s.coalesced)) {
          const d = n - (seen[reason] ?? 0);
          if (d > 0) this.inc({ reason }, d);
          seen[reason] = n;
        }
      },
    });
  }

  /** A counter kept by this process elsewhere (the pump's rests, the hand-off's short waits), read at each scrape. */
  watchTotal(name: string, help: string, read: () => number): void {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const n = read();
        if (n > seen) this.inc(n - seen);
        seen = n;
      },
    });
  }

  callback(route: string, status: number, seconds: number): void {
    this.callbacks.observe({ route, status: String(status) }, seconds);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
