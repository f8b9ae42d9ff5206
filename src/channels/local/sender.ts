// The local channel's sending side: every message a platform would carry lands in a console chat instead.
// People's direct messages go to their "私聊机器人" chat (dm:<person>), group messages to the configured chat.
import type { Redis } from 'ioredis';
import type { Channel, DeliveryContext } from '../channel.js';
import type { Message, Outgoing, Target } from '../../domain/messages.js';
import type { Roster } from '../../domain/roster.js';
import { BOT_NAME, type LocalChats } from './chats.js';

export const dmChat = (person: string) => `dm:${person}`;
const bot = { kind: 'bot' as const, name: BOT_NAME };

export class LocalChannel implements Channel {
  readonly name = 'local';

  constructor(
    private chats: LocalChats,
    private roster: Roster,
    private redis: Redis,
    private prefix: string,
  ) {}

  reaches(to: Target): boolean {
    switch (to.kind) {
      case 'user':
        return !!this.roster.person(to.person);
      case 'chat':
        return this.roster.config.chats.some((c) => c.id === to.chat);
      case 'reply':
        return to.handle.channel === 'local';
      case 'cards':
        return true;
      case 'clicked_card':
        return to.channel === 'local';
    }
  }

  async deliver(out: Outgoing, ctx: DeliveryContext): Promise<void> {
    // The outbox is at-least-once; a job retried after a crash must not post twice, nor lose what it posts: the
    // message and the job's mark go into Redis in one step (chats.ts). Card updates can simply be done again.
    const once = { key: `${this.prefix}:local:done:${ctx.jobId}`, ttlSeconds: 86_400 };
    const to = out.to;
    switch (to.kind) {
      case 'user':
        return this.post(dmChat(to.person), out.message, once, to.person);
      case 'chat':
        return this.post(to.chat, out.message, once);
      case 'reply':
        return this.post(to.handle.chatId, out.message, once);
      case 'cards': {
        if (out.message.type !== 'card') return;
        const cards = await this.redis.hgetall(this.cards(to.ref));
        for (const [person, id] of Object.entries(cards))
          if (person !== to.except) await this.chats.updateCard(dmChat(person), id, out.message.card);
        return;
      }
      case 'clicked_card':
        // For the console the "response code" is the clicked card's message id.
        if (out.message.type === 'card')
          await this.chats.updateCard(dmChat(to.person), to.responseCode, out.message.card);
        return;
    }
  }

  /** The console's message id of each card sent with a ref, by person. */
  private cards(ref: string) {
    return `${this.prefix}:local:cards:${ref}`;
  }

  private async post(
    chat: string,
    m: Message,
    once: { key: string; ttlSeconds: number },
    person?: string,
  ): Promise<void> {
    if (m.type === 'card') {
      const posted = await this.chats.postOnce(chat, bot, { type: 'card', card: m.card }, once);
      if (posted && person) {
        await this.redis.hset(this.cards(m.card.ref), person, posted.id);
        await this.redis.expire(this.cards(m.card.ref), 30 * 86_400); // a card nobody updates in a month stays as it is
      }
      return;
    }
    if (m.type === 'image') {
      const image = `data:image/png;base64,${m.png}`;
      await this.chats.postOnce(chat, bot, { type: 'image', text: m.alt, image }, once);
      return;
    }
    if (m.type === 'photo') {
      await this.chats.postOnce(chat, bot, { type: 'image', text: m.alt, photo: m.photo }, once);
      return;
    }
    let text = m.text;
    if (m.type === 'text' && m.mention?.length)
      text = `${m.mention.map((p) => `@${this.roster.name(p)}`).join(' ')} ${text}`;
    await this.chats.postOnce(chat, bot, { type: m.type, text }, once);
  }
}
