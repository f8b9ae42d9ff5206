// Sends from instances that do not hold the connection. Outbox workers run everywhere, but only the lease holder has
// the socket: another instance pushes its send onto a Redis list, the holder pops it (BRPOP on a connection of its
// own), carries it out (outbound.ts) and leaves the result under the request's id, which the sender polls. No holder
// within the wait (the connection is down, a takeover is under way) means "try again shortly": the outbox job goes
// back to the delayed set without using up an attempt, so a send waits for the connection and is never dropped.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../../../log.js';
import type { SendRequest, SendResult } from './outbound.js';

/** The holder does not start a request older than this; the sender waits a little longer than that for its result. */
const HAND_MS = 10_000;
const WAIT_MS = 16_000;
const POLL_MS = 50;
/** Requests carried out at once by the holder. */
const CONCURRENCY = 16;

export class Relay {
  private serving?: { stop: () => void; done: Promise<void> };

  constructor(
    private redis: Redis,
    /** `<prefix>:wecom:lc` */
    private keyPrefix: string,
    private log: Logger,
  ) {}

  private get list(): string {
    return `${this.keyPrefix}:sends`;
  }

  private resultKey(id: string): string {
    return `${this.keyPrefix}:result:${id}`;
  }

  /** Hands a send to the holder; undefined when no holder answered in time. */
  async hand(req: Omit<SendRequest, 'id' | 'deadline'>): Promise<SendResult | undefined> {
    // Nobody's connection is up (down, or a takeover under way): no use waiting for an answer now.
    if (!(await this.redis.exists(`${this.keyPrefix}:up`))) return undefined;
    const full: SendRequest = { ...req, id: randomBytes(8).toString('hex'), deadline: Date.now() + HAND_MS };
    const payload = JSON.stringify(full);
    await this.redis.lpush(this.list, payload);
    const until = Date.now() + WAIT_MS;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const got = await this.redis.get(this.resultKey(full.id));
      if (got) {
        await this.redis.del(this.resultKey(full.id));
        return JSON.parse(got) as SendResult;
      }
    }
    // Not taken: leave no stale request behind (the holder would skip it anyway, past its deadline).
    await this.redis.lrem(this.list, 1, payload).catch(() => undefined);
    return undefined;
  }

  /** On the holder while its connection is up: take requests off the list and carry them out. */
  serve(blocking: Redis, perform: (req: SendRequest) => Promise<SendResult>): void {
    if (this.serving) return;
    let stopped = false;
    const running = new Set<Promise<void>>();
    const loop = async () => {
      while (!stopped) {
        if (running.size >= CONCURRENCY) {
          await Promise.race(running);
          continue;
        }
        let popped: [string, string] | null;
        try {
          popped = await blocking.brpop(this.list, 1);
        } catch (e) {
          if (stopped) break;
          this.log.warn({ err: (e as Error).message }, 'wecom long connection: cannot read the send list');
          await new Promise((r) => setTimeout(r, 1_000));
          continue;
        }
        if (!popped) continue;
        let req: SendRequest;
        try {
          req = JSON.parse(popped[1]) as SendRequest;
        } catch {
          continue;
        }
        if (stopped || Date.now() > req.deadline) {
          // Its sender has given up (it tries again later); a request popped as we stop goes back for the next holder.
          if (stopped && Date.now() <= req.deadline)
            await this.redis.rpush(this.list, popped[1]).catch(() => undefined);
          continue;
        }
        const job = perform(req)
          .then((r) => this.redis.set(this.resultKey(req.id), JSON.stringify(r), 'EX', 60))
          .then(
            () => undefined,
            (e: Error) =>
              this.log.error({ job: req.jobId, err: e.message }, 'wecom long connection: relay send failed'),
          );
        running.add(job);
        void job.finally(() => running.delete(job));
      }
      await Promise.allSettled([...running]);
    };
    this.serving = { stop: () => (stopped = true), done: loop() };
  }

  async stopServing(): Promise<void> {
    const s = this.serving;
    this.serving = undefined;
    s?.stop();
    await s?.done;
  }
}
