// The local channel's chat log: one Redis stream per chat, card states beside it, and a pub/sub channel so
// every console tab (on any instance) sees new messages and card updates live.
import type { Redis } from 'ioredis';
import type { Card } from '../../domain/messages.js';

export type Sender = { kind: 'person'; id: string; name: string } | { kind: 'bot'; name: string };

export interface LocalMessage {
  id: string;
  chat: string;
  at: number;
  from: Sender;
  type: 'text' | 'markdown' | 'card' | 'image';
  text?: string; // for an image: its description (alt)
  card?: Card;
  /** type 'image': the picture as a data URL ("data:image/png;base64,…"), usable as an <img src>. */
  image?: string;
  /** type 'image': a photo someone sent, by its hash; the page shows GET /console/api/photos/<hash>. */
  photo?: string;
}

export type LocalEvent =
  | { type: 'message'; message: LocalMessage }
  | { type: 'card'; id: string; chat: string; card: Card };

export const BOT_NAME = '后勤助手';
const KEEP = 500; // messages kept per chat

/**
 * KEYS[1] the chat, KEYS[2] the mark of the post; ARGV the chat's length, the entry, the mark's ttl in seconds. The
 * mark and the entry are written together or not at all. Returns the entry's id, or false when the mark was there.
 */
const POST_ONCE = `
if not redis.call('SET', KEYS[2], '1', 'EX', ARGV[3], 'NX') then return false end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[2])`;

type Body = { type: LocalMessage['type']; text?: string; card?: Card; image?: string; photo?: string };

export class LocalChats {
  constructor(
    private redis: Redis,
    private prefix: string,
  ) {}

  private chatKey(chat: string) {
    return `${this.prefix}:local:chat:${chat}`;
  }
  // Stream ids are unique per stream only: two chats can get the same id in the same millisecond, so a card's
  // key names its chat too.
  private cardKey(chat: string, id: string) {
    return `${this.prefix}:local:card:${chat}:${id}`;
  }
  get eventsChannel() {
    return `${this.prefix}:local:events`;
  }

  async post(chat: string, from: Sender, body: Body, at = Date.now()): Promise<LocalMessage> {
    return (await this.write(chat, from, body, at))!;
  }

  /**
   * Posts unless `once.key` (under this site's prefix) is set, and sets it in the same step, so that an outbox job
   * retried after a crash neither posts twice nor loses its message. Undefined when it had been posted.
   */
  postOnce(chat: string, from: Sender, body: Body, once: { key: string; ttlSeconds: number }) {
    return this.write(chat, from, body, Date.now(), once);
  }

  private async write(
    chat: string,
    from: Sender,
    body: Body,
    at: number,
    once?: { key: string; ttlSeconds: number },
  ): Promise<LocalMessage | undefined> {
    const data = JSON.stringify({
      at,
      from,
      type: body.type,
      text: body.text,
      ...(body.image ? { image: body.image } : {}),
      ...(body.photo ? { photo: body.photo } : {}),
      // The card as sent rides in the entry too: a reader between this XADD and the SET of its state below would
      // otherwise get a card message without a card. Its state, once set, wins (updateCard).
      ...(body.card ? { card: body.card } : {}),
    });
    const id = once
      ? ((await this.redis.eval(POST_ONCE, 2, this.chatKey(chat), once.key, KEEP, data, once.ttlSeconds)) as string)
      : ((await this.redis.xadd(this.chatKey(chat), 'MAXLEN', '~', String(KEEP), '*', 'm', data)) as string);
    if (!id) return undefined;
    const message: LocalMessage = {
      id,
      chat,
      at,
      from,
      type: body.type,
      text: body.text,
      ...(body.image ? { image: body.image } : {}),
      ...(body.photo ? { photo: body.photo } : {}),
    };
    if (body.card) {
      await this.redis.set(this.cardKey(chat, id), JSON.stringify(body.card), 'EX', 30 * 86_400);
      message.card = body.card;
    }
    await this.publish({ type: 'message', message });
    return message;
  }

  async updateCard(chat: string, id: string, card: Card): Promise<boolean> {
    const key = this.cardKey(chat, id);
    if (!(await this.redis.exists(key))) return false;
    await this.redis.set(key, JSON.stringify(card), 'KEEPTTL');
    await this.publish({ type: 'card', id, chat, card });
    return true;
  }

  /** Oldest first; `since` is exclusive. Without it: the last 100. */
  async read(chat: string, since?: string): Promise<LocalMessage[]> {
    const rows = since
      ? await this.redis.xrange(this.chatKey(chat), `(${since}`, '+', 'COUNT', 500)
      : (await this.redis.xrevrange(this.chatKey(chat), '+', '-', 'COUNT', 100)).reverse();
    const messages = rows.map(([id, fields]) => ({
      id,
      chat,
      ...(JSON.parse(fields[1]) as Omit<LocalMessage, 'id' | 'chat'>),
    }));
    const cards = messages.filter((m) => m.type === 'card');
    if (cards.length) {
      const states = await this.redis.mget(...cards.map((m) => this.cardKey(chat, m.id)));
      cards.forEach((m, i) => {
        if (states[i]) m.card = JSON.parse(states[i]!) as Card;
      });
    }
    return messages;
  }

  private async publish(e: LocalEvent): Promise<void> {
    await this.redis.publish(this.eventsChannel, JSON.stringify(e));
  }
}
