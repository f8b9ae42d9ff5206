// The receiver's durable hand-off, as a group commit. The messages that arrive in one turn of the event loop go
// together in one script call, and at most two calls are in flight: at a trickle every message goes alone and at
// once, and under load, while both calls are out, the messages that arrive wait and go together in the next one,
// so one round trip carries dozens. (With a single call in flight, a message that arrived while it was out waited
// for it and then made its own round trip: two round trips, the p99 at 1 000 callbacks/s.) One BullMQ add per
// request cost more CPU than the rest of the request path together (bench/README.md); this script is a plain XADD.
// One connection carries the calls, so Redis runs them in the order they were sent.
//
// The replay check, the message-id dedupe and the append happen in the same script, so a refused replay or a
// repeated delivery writes nothing and a new message is in Redis before its HTTP 200. On a replicated Redis (Sentinel)
// a WAIT after the script holds the answer until a replica has the message too, so a failover right after our 200
// loses nothing. The workers read the stream (pump.ts).
import type { Cluster, Redis } from 'ioredis';
import type { Envelope } from '../channels/envelope.js';
import { isCluster } from '../store/redis.js';

/** How long a message id is remembered against repeated deliveries (WeCom retries within seconds). */
const seenSeconds = 86_400;

/**
 * KEYS[1] the stream, then two keys per message: its replay mark (its seen key again when it has none) and its seen
 * key, so a Redis Cluster sees every key the script touches (they share the stream's hash tag: store/layout.ts).
 * ARGV groups of three: '1' when the replay mark counts, its ttl in ms, the envelope as JSON. Answers per message:
 * 1 stored, 0 a replayed request, 2 a message already stored (the platform delivered it again, e.g. because our 200
 * came late).
 */
const admitLua = `
local out = {}
local m = 0
for i = 1, #ARGV, 3 do
  m = m + 1
  if ARGV[i] == '1' and not redis.call('SET', KEYS[2 * m], '1', 'PX', ARGV[i + 1], 'NX') then
    out[m] = 0
  elseif not redis.call('SET', KEYS[2 * m + 1], '1', 'EX', ${seenSeconds}, 'NX') then
    out[m] = 2
  else
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i + 2])
    out[m] = 1
  end
end
return out`;

type Admit = (...args: (string | number)[]) => Promise<number[]>;
interface ClusterPipeline {
  houqinAdmit(...a: unknown[]): unknown;
  wait(n: number, ms: number): unknown;
  exec(): Promise<[Error | null, unknown][] | null>;
}

export type Admitted = 'stored' | 'replay' | 'duplicate';
const answers: Admitted[] = ['replay', 'stored', 'duplicate'];

interface Waiting {
  replay?: string;
  ttlMs: number;
  seen: string;
  json: string;
  done: (a: Admitted) => void;
  fail: (e: unknown) => void;
}

/** The most messages one script call carries; a burst larger than this goes in several. */
const maxBatch = 256;
/** Script calls in flight at once. */
const maxInFlight = 2;

export interface HandoffOptions {
  /** Replicas that must hold a stored message before it counts as taken (WAIT), and how long to wait for them. */
  replicas?: number;
  waitMs?: number;
}

export class Handoff {
  private waiting: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;
  private admit: Admit;
  /** Script calls whose messages fewer replicas than asked had taken when the wait ran out (answered all the same). */
  unreplicated = 0;

  constructor(
    private redis: Redis,
    readonly stream: string,
    /** The key that marks a message id as stored. */
    private seenKey: (envelopeId: string, tenant?: string) => string,
    private o: HandoffOptions = {},
  ) {
    // The number of keys varies with the batch: each call gives it first.
    if (!('houqinAdmit' in redis)) redis.defineCommand('houqinAdmit', { lua: admitLua });
    this.admit = (redis as unknown as { houqinAdmit: Admit }).houqinAdmit.bind(redis);
  }

  /**
   * Resolves 'stored' once the envelope is safe in Redis; 'replay' (nothing written) when `replay` was seen within
   * its ttl; 'duplicate' when a message with this id was stored before. Rejects when Redis could not take it.
   */
  accept(env: Envelope, replay?: { key: string; ttlMs: number }): Promise<Admitted> {
    return new Promise((done, fail) => {
      this.waiting.push({
        replay: replay?.key,
        ttlMs: replay?.ttlMs ?? 0,
        seen: this.seenKey(env.id, env.tenant),
        json: JSON.stringify(env),
        done,
        fail,
      });
      // After this turn's other callbacks, so that messages read together go together.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.send();
        });
      }
    });
  }

  private send(): void {
    while (this.waiting.length && this.inFlight < maxInFlight) {
      this.inFlight++;
      void this.write(this.waiting.splice(0, maxBatch)).finally(() => {
        this.inFlight--;
        this.send();
      });
    }
  }

  /**
   * On a Cluster a WAIT sent on its own goes to any node. In a pipeline it follows the script to the master of the
   * stream's slot, the one whose replicas must have the messages. Right after a failover the script may be told
   * MOVED; ioredis follows that for a lone command but not inside a pipeline with a keyless WAIT, so we do: the script
   * did not run on a node that answered MOVED, and trying again once the slot map is fresh writes nothing twice.
   */
  private async admitOnCluster(args: readonly (string | number)[], replicas: number): Promise<[number[], number]> {
    for (let attempt = 1; ; attempt++) {
      const p = this.redis.pipeline() as unknown as ClusterPipeline;
      p.houqinAdmit(...args);
      p.wait(replicas, this.o.waitMs ?? 200);
      let res: [Error | null, unknown][];
      try {
        res = (await p.exec()) ?? [];
      } catch (e) {
        res = [[e as Error, undefined]];
      }
      const [admitErr, taken] = res[0] ?? [new Error('no answer')];
      if (admitErr && attempt < 10 && /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN)/.test(admitErr.message)) {
        // A pipeline's MOVED does not refresh ioredis' slot map as a lone command's does: ask for the map again.
        const cluster = this.redis as unknown as Cluster;
        await new Promise<void>((r) => cluster.refreshSlotsCache(() => r()));
        await new Promise((r) => setTimeout(r, 50 * attempt));
        continue;
      }
      if (admitErr) throw admitErr;
      // A WAIT that failed (its node went away) counts as no replica: the messages are stored all the same.
      return [taken as number[], res[1]?.[0] ? 0 : Number(res[1]?.[1] ?? 0)];
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const replicas = this.o.replicas ?? 0;
      // WAIT goes right behind the script on the same connection, so it covers the script's writes, in the same
      // round trip. Short of replicas when the time runs out, the messages are still answered: refusing them would
      // lose them once the platform stops retrying, while a master dying inside that window is the rarer loss.
      const args = [
        1 + 2 * batch.length,
        this.stream,
        ...batch.flatMap((w) => [w.replay ?? w.seen, w.seen]),
        ...batch.flatMap((w) => [w.replay ? '1' : '0', String(w.ttlMs), w.json]),
      ] as const;
      const [taken, got] =
        replicas > 0 && isCluster(this.redis)
          ? await this.admitOnCluster(args, replicas)
          : await Promise.all([
              this.admit(...args),
              replicas > 0 ? this.redis.wait(replicas, this.o.waitMs ?? 200) : replicas,
            ]);
      if (got < replicas) this.unreplicated++;
      batch.forEach((w, i) => w.done(answers[taken[i]]));
    } catch (e) {
      // Let the platform's retry in. (A message that did reach the stream before the error may then be stored
      // twice; handling is idempotent per message id, as for any retried job.)
      const replays = batch.flatMap((w) => (w.replay ? [w.replay, w.seen] : [w.seen]));
      if (replays.length) await this.redis.del(...replays).catch(() => undefined);
      for (const w of batch) w.fail(e);
    }
  }
}
