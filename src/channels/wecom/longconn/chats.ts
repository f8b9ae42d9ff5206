// The conversations that have written to the bot. WeCom lets aibot_send_msg post only into a chat that messaged the
// bot before (wecom.md §3.7): a group by its chatid, a person's single chat by their userid. Every instance reads
// this before a proactive send, so a notice for a chat the bot may not post into yet waits instead of failing.
import type { Redis } from 'ioredis';

export class SpokenChats {
  constructor(
    private redis: Redis,
    private key: string,
  ) {}

  /** A message came from this chat (a group chatid, or a userid for a single chat); true the first time. */
  async heard(chatid: string, at = Date.now()): Promise<boolean> {
    return (await this.redis.hset(this.key, chatid, String(at))) === 1;
  }

  async has(chatid: string): Promise<boolean> {
    return (await this.redis.hexists(this.key, chatid)) === 1;
  }
}
