// The local channel's sending side: every message a platform would carry lands in a console chat instead.
// People's direct messages go to their "私聊机器人" chat (dm:<person>), group messages to the configured chat.
import type { Redis } from 'ioredis';
import type { Channel, DeliveryContext } from '../channel.js';
import type { Message, Outgoing, Target } from '../../domain/messages.js';
import type { Roster } from '../../domain/roster.js';
import { BOT_NAME, LocalChats } from './chats.js';

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
      case 'task_cards':
        return true;
      case 'clicked_card':
        return to.channel === 'local';
    }
  }

  async deliver(out: Outgoing, ctx: DeliveryContext): Promise<void> {
    // The outbox is at-least-once; a job retried after a crash must not post twice.
    if ((await this.redis.set(`${this.prefix}:local:done:${ctx.jobId}`, '1', 'EX', 86_400, 'NX')) !== 'OK') return;
    const to = out.to;
    switch (to.kind) {
      case 'user':
        return this.post(dmChat(to.person), out.message, to.person);
      case 'chat':
        return this.post(to.chat, out.message);
      case 'reply':
        return this.post(to.handle.chatId, out.message);
      case 'task_cards': {
        if (out.message.type !== 'card') return;
        const cards = await this.redis.hgetall(this.taskCards(to.task));
        for (const [person, id] of Object.entries(cards)) if (person !== to.except) await this.chats.updateCard(dmChat(person), id, out.message.card);
        return;
      }
      case 'clicked_card':
        // For the console the "response code" is the clicked card's message id.
        if (out.message.type === 'card') await this.chats.updateCard(dmChat(to.person), to.responseCode, out.message.card);
        return;
    }
  }

  private taskCards(task: number) {
    return `${this.prefix}:local:taskcards:${task}`;
  }

  private async post(chat: string, m: Message, person?: string): Promise<void> {
    if (m.type === 'card') {
      const posted = await this.chats.post(chat, bot, { type: 'card', card: m.card });
      const ref = /^t(\d+)$/.exec(m.card.ref);
      if (ref && person) await this.redis.hset(this.taskCards(Number(ref[1])), person, posted.id);
      return;
    }
    if (m.type === 'image') {
      await this.chats.post(chat, bot, { type: 'image', text: m.alt, image: `data:image/png;base64,${m.png}` });
      return;
    }
    let text = m.text;
    if (m.type === 'text' && m.mention?.length) text = `${m.mention.map((p) => `@${this.roster.name(p)}`).join(' ')} ${text}`;
    await this.chats.post(chat, bot, { type: m.type, text });
  }
}
