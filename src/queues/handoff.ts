// The receiver's durable hand-off, as a group commit. While one write to Redis is in flight, the messages that
// arrive meanwhile wait and go together in the next one: at a trickle every message goes alone and at once, under
// load one round trip and one script call carry dozens. One BullMQ add per request cost more CPU than the rest of
// the request path together (bench/README.md); this script is a plain XADD.
//
// The replay check and the append happen in the same script, so a refused replay writes nothing and an accepted
// message is in Redis before its HTTP 200. The pump (pump.ts) moves the stream into the inbox queue.
import type { Redis } from 'ioredis';
import type { Envelope } from '../channels/envelope.js';

/** KEYS[1] the stream; ARGV triplets: replay key ('' = none), its ttl in ms, the envelope as JSON. 1 = taken. */
const admitLua = `
local out = {}
for i = 1, #ARGV, 3 do
  local replay = ARGV[i]
  if replay == '' or redis.call('SET', replay, '1', 'PX', ARGV[i + 1], 'NX') then
    redis.call('XADD', KEYS[1], '*', 'e', ARGV[i + 2])
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out`;

type Admit = (stream: string, ...args: string[]) => Promise<number[]>;

interface Waiting {
  args: [string, string, string];
  done: (taken: boolean) => void;
  fail: (e: unknown) => void;
}

/** The most messages one script call carries; a burst larger than this goes in several. */
const maxBatch = 256;

export class Handoff {
  private waiting: Waiting[] = [];
  private busy = false;
  private admit: Admit;

  constructor(
    private redis: Redis,
    readonly stream: string,
  ) {
    if (!('houqinAdmit' in redis)) redis.defineCommand('houqinAdmit', { numberOfKeys: 1, lua: admitLua });
    this.admit = (redis as unknown as { houqinAdmit: Admit }).houqinAdmit.bind(redis);
  }

  /**
   * Resolves true once the envelope is safe in Redis, false (and nothing written) when `replay` was seen within
   * its ttl. Rejects when Redis could not take it; then nothing was written either.
   */
  accept(env: Envelope, replay?: { key: string; ttlMs: number }): Promise<boolean> {
    return new Promise((done, fail) => {
      this.waiting.push({ args: [replay?.key ?? '', String(replay?.ttlMs ?? 0), JSON.stringify(env)], done, fail });
      if (!this.busy) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.busy = true;
    while (this.waiting.length) {
      const batch = this.waiting.splice(0, maxBatch);
      try {
        const taken = await this.admit(this.stream, ...batch.flatMap((w) => w.args));
        batch.forEach((w, i) => w.done(taken[i] === 1));
      } catch (e) {
        // Let the platform's retry in: any of these that did reach the stream is deduplicated by its message id.
        const replays = batch.map((w) => w.args[0]).filter(Boolean);
        if (replays.length) await this.redis.del(...replays).catch(() => undefined);
        for (const w of batch) w.fail(e);
      }
    }
    this.busy = false;
  }
}
