// Reads received messages from the receivers' stream (handoff.ts) and handles them at once: the common case costs
// one read and one acknowledgement per batch instead of a queue job's three scripts per message (bench/README.md).
// What fails is handed to the inbox queue, whose retries, backoff and kept failures are BullMQ's.
//
// Entries are read through a consumer group and removed only once handled or handed over, so a worker killed
// mid-batch leaves them pending; any worker takes them over after `reclaimMs` and hands them to the inbox queue
// (not handled inline: a message that kills its worker must not kill the next one too). Job ids are message ids,
// so a message handed over twice is one job.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisTopology } from '../config/redis-topology.js';
import { connect } from '../store/redis.js';
import { envelopeSchema, type Envelope } from '../channels/envelope.js';
import type { Logger } from '../log.js';
import { jobId } from './names.js';

type Entry = [id: string, fields: string[]];

const group = 'workers';
const reclaimMs = 10_000;

/**
 * A batch is finished: KEYS[1] the stream, KEYS[2] the list of unreadable entries; ARGV[1] the group, ARGV[2] how
 * many entry ids follow, then the ids, then the unreadable entries' text. One atomic step, as MULTI was.
 */
const doneLua = `
local n = tonumber(ARGV[2])
if n > 0 then
  redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3, n + 2))
  redis.call('XDEL', KEYS[1], unpack(ARGV, 3, n + 2))
end
if #ARGV > n + 2 then redis.call('RPUSH', KEYS[2], unpack(ARGV, n + 3)) end
return n`;

type Done = (stream: string, unreadable: string, ...args: string[]) => Promise<number>;

export interface PumpOptions {
  /** Messages read and handled together (concurrently); the next read waits for the batch. */
  batch?: number;
  /** After a batch that was not full, wait this long before reading again (default 5 ms). */
  lingerMs?: number;
  /** How long to wait before the next read after a batch that took `spentMs` (answers-first.ts); 0 = at once. */
  rest?: (spentMs: number) => number;
  /** The inbox job id of a message (default its id): sites that share a queue mark theirs (store/layout.ts). */
  idOf?: (env: Envelope) => string;
}

export class InboxPump {
  private conn: Redis;
  private done: Done;
  private running = false;
  private loop?: Promise<void>;
  private readonly consumer = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly batch: number;
  private readonly lingerMs: number;
  private readonly rest?: (spentMs: number) => number;
  private readonly idOf: (env: Envelope) => string;

  constructor(
    where: RedisTopology,
    /** For acks, take-overs and the dead-letter list; the blocking read has its own connection. */
    private redis: Redis,
    readonly stream: string,
    private handle: (env: Envelope) => Promise<void>,
    private inbox: Queue<Envelope>,
    private log: Logger,
    o: PumpOptions = {},
  ) {
    this.conn = connect(where, { maxRetriesPerRequest: null });
    this.batch = o.batch ?? 16;
    this.lingerMs = o.lingerMs ?? 5;
    this.rest = o.rest;
    this.idOf = o.idOf ?? ((env) => jobId(env.id));
    // A script, not MULTI: ioredis copies every script defined on a connection into each MULTI it builds, and
    // BullMQ defines 64 on this one: a third of the workers' garbage at 1 000 messages/s was those copies.
    if (!('houqinDone' in redis)) redis.defineCommand('houqinDone', { numberOfKeys: 2, lua: doneLua });
    this.done = (redis as unknown as { houqinDone: Done }).houqinDone.bind(redis);
  }

  async start(): Promise<void> {
    try {
      // From the start of the stream: messages taken before the first worker ever ran are not skipped.
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
        const res = (await this.conn.xreadgroup(
          'GROUP',
          group,
          this.consumer,
          'COUNT',
          this.batch,
          'BLOCK',
          1000,
          'STREAMS',
          this.stream,
          '>',
        )) as [string, Entry[]][] | null;
        const got = res?.[0]?.[1] ?? [];
        const began = performance.now();
        if (got.length) await this.take(got, true);
        // Under a steady stream, reading again at once takes one or two messages per round trip, and every round
        // trip is a Redis call the receivers' hand-offs queue behind. A short pause lets a batch gather; a message
        // that comes to an idle worker is still read at once (the blocking read returns for it). A receiver in this
        // process that needs the event loop makes it longer (answers-first.ts).
        const rest = got.length ? (this.rest?.(performance.now() - began) ?? 0) : 0;
        const linger = got.length && got.length < this.batch ? this.lingerMs : 0;
        if (Math.max(rest, linger) > 0 && this.running) await new Promise((r) => setTimeout(r, Math.max(rest, linger)));
      } catch (e) {
        if (!this.running) break;
        this.log.error({ err: (e as Error).message }, 'inbox stream: read failed, retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Entries a stopped worker had read but not finished: into the inbox queue. */
  private async reclaim(): Promise<void> {
    let cursor = '0-0';
    for (let round = 0; round < 100; round++) {
      const [next, entries] = (await this.redis.xautoclaim(
        this.stream,
        group,
        this.consumer,
        reclaimMs,
        cursor,
        'COUNT',
        100,
      )) as [string, Entry[]];
      const live = entries.filter((e) => e?.[1]); // entries deleted meanwhile come back as null
      if (live.length) {
        this.log.warn(
          { count: live.length },
          'inbox stream: taking over messages a stopped worker had read; they go through the inbox queue',
        );
        await this.take(live, false);
      }
      if (next === '0-0') return;
      cursor = next;
    }
  }

  private async take(entries: Entry[], inline: boolean): Promise<void> {
    const envs: Envelope[] = [];
    const bad: string[] = [];
    for (const [, fields] of entries) {
      const raw = fields[fields.indexOf('e') + 1] ?? '';
      const parsed = envelopeSchema.safeParse(safeJson(raw));
      if (parsed.success) envs.push(parsed.data);
      else bad.push(raw);
    }
    const queued = inline ? await this.handleAll(envs) : envs;
    if (queued.length)
      await this.inbox.addBulk(queued.map((env) => ({ name: 'envelope', data: env, opts: { jobId: this.idOf(env) } })));
    // Never dropped: something we wrote ourselves and cannot read is kept for an operator.
    if (bad.length)
      this.log.error(
        { count: bad.length, key: `${this.stream}:unreadable` },
        'inbox stream: unreadable entries kept aside',
      );
    await this.done(
      this.stream,
      `${this.stream}:unreadable`,
      group,
      String(entries.length),
      ...entries.map(([id]) => id),
      ...bad,
    );
  }

  /**
   * Handles a batch: one person's messages in the order they came, different people's concurrently. A teacher
   * typing fast sends "报修 水管漏了" and then the place; the second must find the question the first one asked.
   * Returns the messages that failed, for the inbox queue to retry.
   */
  private async handleAll(envs: Envelope[]): Promise<Envelope[]> {
    const failed: Envelope[] = [];
    const bySender = new Map<string, Envelope[]>();
    for (const env of envs) {
      const who = `${env.channel}:${env.surface}:${env.sender.platformId}`;
      bySender.set(who, [...(bySender.get(who) ?? []), env]);
    }
    await Promise.all(
      [...bySender.values()].map(async (mine) => {
        for (const env of mine) {
          await this.handle(env).catch((e: Error) => {
            this.log.warn(
              { id: env.id, err: e.message },
              'message failed on first try; retried through the inbox queue',
            );
            failed.push(env);
          });
        }
      }),
    );
    return failed;
  }

  isRunning(): boolean {
    return this.running;
  }

  /** Finishes the batch in hand, then stops reading. */
  async stop(): Promise<void> {
    this.running = false;
    this.conn.disconnect(); // ends a blocking read at once; a batch being handled uses the other connection
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
