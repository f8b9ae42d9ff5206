// Moves received messages from the receivers' stream (handoff.ts) into the inbox queue, in batches.
// It runs with the workers. Entries are read through a consumer group and removed only after the inbox has them,
// so a pump killed mid-batch leaves them pending; any pump claims them back after `reclaimMs` and adds them again,
// which BullMQ ignores for ids it already has (the job id is the message id).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { envelopeSchema, type Envelope } from '../channels/envelope.js';
import type { Logger } from '../log.js';
import { jobId } from './names.js';

type Entry = [id: string, fields: string[]];

const group = 'pump';
const batch = 20;
const reclaimMs = 10_000;

export class InboxPump {
  private conn: Redis;
  private running = false;
  private loop?: Promise<void>;
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

  constructor(
    redisUrl: string,
    /** For acks and the dead-letter list; the blocking read has its own connection. */
    private redis: Redis,
    readonly stream: string,
    private inbox: Queue<Envelope>,
    private log: Logger,
  ) {
    this.conn = new Redis(redisUrl, { maxRetriesPerRequest: null });
  }

  async start(): Promise<void> {
    try {
      // From the start of the stream: messages taken before the first pump ever ran are not skipped.
      await this.redis.xgroup('CREATE', this.stream, group, '0', 'MKSTREAM');
    } catch (e) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
    }
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let reclaimAt = 0;
    while (this.running) {
      try {
        if (Date.now() >= reclaimAt) {
          reclaimAt = Date.now() + reclaimMs / 2;
          await this.reclaim();
        }
        const res = (await this.conn.xreadgroup('GROUP', group, this.consumer, 'COUNT', batch, 'BLOCK', 1000, 'STREAMS', this.stream, '>')) as [string, Entry[]][] | null;
        if (res?.[0]?.[1].length) await this.move(res[0][1]);
      } catch (e) {
        if (!this.running) break;
        this.log.error({ err: (e as Error).message }, 'inbox pump: read failed, retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Entries another pump read but never acknowledged (it crashed): take them over. */
  private async reclaim(): Promise<void> {
    let cursor = '0-0';
    for (let round = 0; round < 100; round++) {
      const [next, entries] = (await this.redis.xautoclaim(this.stream, group, this.consumer, reclaimMs, cursor, 'COUNT', batch)) as [string, Entry[]];
      const live = entries.filter((e) => e && e[1]); // entries deleted meanwhile come back as null
      if (live.length) {
        this.log.warn({ count: live.length }, 'inbox pump: taking over messages a stopped instance had read');
        await this.move(live);
      }
      if (next === '0-0') return;
      cursor = next;
    }
  }

  private async move(entries: Entry[]): Promise<void> {
    const jobs: { name: string; data: Envelope; opts: { jobId: string } }[] = [];
    const bad: string[] = [];
    for (const [, fields] of entries) {
      const raw = fields[fields.indexOf('e') + 1] ?? '';
      const parsed = envelopeSchema.safeParse(safeJson(raw));
      if (parsed.success) jobs.push({ name: 'envelope', data: parsed.data, opts: { jobId: jobId(parsed.data.id) } });
      else bad.push(raw);
    }
    if (jobs.length) await this.inbox.addBulk(jobs);
    const ids = entries.map(([id]) => id);
    const tx = this.redis.multi().xack(this.stream, group, ...ids).xdel(this.stream, ...ids);
    // Never dropped: something we wrote ourselves and cannot read is kept for an operator.
    if (bad.length) {
      tx.rpush(`${this.stream}:unreadable`, ...bad);
      this.log.error({ count: bad.length, key: `${this.stream}:unreadable` }, 'inbox pump: unreadable entries kept aside');
    }
    await tx.exec();
  }

  isRunning(): boolean {
    return this.running;
  }

  /** Finishes the batch in hand, then stops reading. */
  async stop(): Promise<void> {
    this.running = false;
    this.conn.disconnect(); // ends a blocking read at once; a batch being moved uses the other connection
    await this.loop;
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
