// Word that the site's vocabulary overlay changed (the console's 未识别 list taught the parser), to every process on
// the same Redis: the workers process beside a supervised receiver, and the processes of a split deployment that
// share the overlay file. Each reads the file again; the message carries who sent it and which site's words changed
// (one subscription serves every site of a district).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { connect } from '../store/redis.js';
import type { Logger } from '../log.js';
import type { RedisTopology } from './redis-topology.js';

export class VocabularyNews {
  private sub?: Redis;
  private pub?: Redis;
  private readonly me = randomBytes(6).toString('hex');

  constructor(
    private where: RedisTopology,
    private channel: string,
    private log: Logger,
  ) {}

  /** Calls `reload` with the site whenever another process changed a site's overlay. */
  async listen(reload: (site?: string) => void): Promise<void> {
    this.sub = connect(this.where, { maxRetriesPerRequest: null });
    this.sub.on('message', (_ch: string, raw: string) => {
      const [from, site] = raw.split(' ', 2);
      if (from === this.me) return;
      try {
        reload(site || undefined);
        this.log.info('vocabulary overlay changed in another process: parser rebuilt');
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'could not read the vocabulary overlay again');
      }
    });
    await this.sub.subscribe(this.channel);
  }

  /** Tells the others (in the background: the overlay is already written, and this process has reloaded). */
  tell(site?: string): void {
    this.pub ??= connect(this.where, { maxRetriesPerRequest: 3 });
    this.pub.publish(this.channel, site ? `${this.me} ${site}` : this.me).catch((e: Error) => {
      this.log.warn({ err: e.message }, 'could not tell other processes about the new words; they read them at start');
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.sub?.quit(), this.pub?.quit()]);
  }
}
