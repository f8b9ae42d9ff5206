// The WeCom sending side: app DMs and cards (message/send), card updates (update_template_card), group robot
// webhooks, and AI bot response_url replies. Rate limits are kept here, before WeCom has to say 45009.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Channel, DeliveryContext } from '../channel.js';
import { RetryLater } from '../channel.js';
import type { Message, Outgoing, Target } from '../../domain/messages.js';
import type { Roster } from '../../domain/roster.js';
import type { WecomSettings } from '../../config/load.js';
import { PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Keys } from '../../store/keys.js';
import { RateLimiter } from '../../store/rate.js';
import { THROTTLED, WecomApi, type WecomReply } from './api.js';
import type { MediaStore } from '../../store/media.js';
import type { LongconnSender } from './longconn/sender.js';
import type { Route } from './longconn/outbound.js';
import {
  appImage,
  appMessage,
  buttonCard,
  cardTaskId,
  isJpgOrPng,
  responseUrlMessage,
  webhookImage,
  webhookMessage,
} from './render.js';

export const WEBHOOK_PER_MINUTE = 20; // wecom.md §5.1
export const APP_PER_MEMBER_PER_MINUTE = 30; // wecom.md §5.3 — excess is silently dropped by WeCom
const WINDOW_MS = 61_000; // one second of slack for clock skew between us and WeCom

interface CardEntry {
  userid: string;
  code: string;
}

export class WecomChannel implements Channel {
  readonly name = 'wecom';
  private api?: WecomApi;
  private limiter: RateLimiter;

  constructor(
    private settings: WecomSettings,
    private roster: Roster,
    private redis: Redis,
    private k: Keys,
    private log: Logger,
    /** Where people's photos are kept (a `photo` message names one by hash). */
    private media?: MediaStore,
    /** The AI bot in long-connection mode: replies, and posts into chats and single chats that wrote to it. */
    private longconn?: LongconnSender,
  ) {
    if (settings.app && settings.corpId) {
      this.api = new WecomApi(settings.apiBase, settings.corpId, settings.app.secret, redis, k, log);
    }
    this.limiter = new RateLimiter(redis);
  }

  /** For webhook and response_url calls that need no token. */
  private get plain(): WecomApi {
    return (
      this.api ?? new WecomApi(this.settings.apiBase, this.settings.corpId ?? '', '', this.redis, this.k, this.log)
    );
  }

  reaches(to: Target): boolean {
    switch (to.kind) {
      case 'user':
        return (!!this.api || !!this.longconn) && !!this.roster.person(to.person)?.wecom;
      case 'chat': {
        const c = this.roster.config.chats.find((x) => x.id === to.chat)?.wecom;
        return !!c?.webhookKey || (!!this.longconn && !!c?.chatId);
      }
      case 'reply':
        if (to.handle.channel !== 'wecom') return false;
        return to.handle.surface === 'aibot' ? !!to.handle.responseUrl || !!this.longconn : !!this.api;
      case 'cards':
        return !!this.api;
      case 'clicked_card':
        return to.channel === 'wecom' && !!this.api;
    }
  }

  async deliver(out: Outgoing, ctx: DeliveryContext): Promise<void> {
    const to = out.to;
    switch (to.kind) {
      case 'user': {
        const userid = this.roster.person(to.person)!.wecom!;
        // The bot's single chat with the person when they have written to it (or nothing else is set up); else the app.
        if (this.longconn && (!this.api || (await this.longconn.d.chats.has(userid))))
          return this.longconn.deliver({ chatid: userid, chatType: 1 }, out.message, ctx);
        return this.sendApp(userid, out.message, ctx);
      }
      case 'chat': {
        const c = this.roster.config.chats.find((x) => x.id === to.chat)!.wecom;
        if (this.longconn && c.chatId && (!c.webhookKey || (await this.longconn.d.chats.has(c.chatId))))
          return this.longconn.deliver({ chatid: c.chatId, chatType: 2 }, out.message, ctx);
        return this.sendWebhook(to.chat, out.message, ctx);
      }
      case 'reply':
        if (to.handle.surface === 'aibot' && this.longconn && (to.handle.replyRef || !to.handle.responseUrl))
          return this.longconn.deliver(replyRoute(to.handle), out.message, ctx);
        if (to.handle.surface === 'aibot') return this.replyOnce(to.handle.responseUrl!, out.message, ctx);
        return this.sendApp(to.handle.senderPlatformId, out.message, ctx);
      case 'cards':
        return this.updateCards(to.ref, to.except, out.message);
      case 'clicked_card': {
        const wecomId = this.roster.person(to.person)?.wecom;
        if (out.message.type !== 'card' || !wecomId) return;
        // A response_code works once. Mark it spent before the call: after a crash mid-call the card may stay
        // as it was (cosmetic), but WeCom never sees the code twice.
        const spent = await this.redis.set(this.k.rate(`wecom:code:${to.responseCode}`), '1', 'EX', 72 * 3600, 'NX');
        if (spent !== 'OK') return;
        await this.api!.post('/cgi-bin/message/update_template_card', {
          userids: [wecomId],
          agentid: this.settings.app!.agentId,
          response_code: to.responseCode,
          template_card: buttonCard(out.message.card),
        });
        return;
      }
    }
  }

  /**
   * A response_url takes one call (wecom.md §3.6). If the process dies after WeCom took the reply but before the
   * outbox marked it sent, the job comes back and WeCom refuses the spent URL. Each call is remembered, so that a
   * refusal after an earlier call reads as "taken then" rather than as a failed message. A first call that is
   * refused is a real failure.
   *
   * The URL is remembered with the job that has it. A message handled again (its worker died before acknowledging
   * it) can answer differently the second time ("已经在你名下了" after "✅ 你已接单"), under another job id: that reply
   * is not sent, as WeCom would refuse it; the message's reply is the first job's.
   */
  private async replyOnce(url: string, m: Message, ctx: DeliveryContext): Promise<void> {
    const mark = this.k.rate(`wecom:rurl:${createHash('sha1').update(url).digest('hex').slice(0, 20)}`);
    const first = (await this.redis.set(mark, ctx.jobId, 'EX', 3600, 'NX')) === 'OK';
    if (!first && (await this.redis.get(mark)) !== ctx.jobId) {
      this.log.info({ job: ctx.jobId }, 'response_url already taken by another reply to this message; not sent');
      return;
    }
    try {
      await this.plain.postUrl(url, responseUrlMessage(m));
    } catch (e) {
      if (first || !(e instanceof PlatformError) || e.errcode <= 0) throw e;
      this.log.info(
        { job: ctx.jobId, errcode: e.errcode },
        'response_url refused on a later try: an earlier call took the reply',
      );
    }
  }

  private async sendApp(userid: string, m: Message, ctx: DeliveryContext): Promise<void> {
    // A booked slot: a message that must wait is scheduled once, for its own slot (store/rate.ts reserve).
    const wait = await this.limiter.reserve(
      this.k.rate(`wecom:user:${userid}`),
      APP_PER_MEMBER_PER_MINUTE,
      WINDOW_MS,
      `${ctx.jobId}:${ctx.attempt}`,
    );
    if (wait > 0) throw new RetryLater(wait, `app messages to ${userid} at the per-member limit`);
    const taskId = cardTaskId(
      m.type === 'card' ? m.card.ref : 'm',
      createHash('sha1').update(ctx.jobId).digest('hex').slice(0, 16),
    );
    const body = {
      touser: userid,
      agentid: this.settings.app!.agentId,
      ...(m.type === 'image'
        ? appImage(await this.mediaId(Buffer.from(m.png, 'base64'), 'chart.png', 'image/png'))
        : m.type === 'photo'
          ? await this.appPhoto(m)
          : appMessage(m, taskId)),
      // Identical JSON within 30 minutes is dropped by WeCom: a send retried after a crash is not shown twice.
      enable_duplicate_check: 1,
      duplicate_check_interval: 1800,
    };
    const res = await this.throttled(`wecom:user:${userid}`, APP_PER_MEMBER_PER_MINUTE, ctx, () =>
      this.api!.post('/cgi-bin/message/send', body),
    );
    if (res.invaliduser)
      this.log.warn(
        { invaliduser: res.invaliduser },
        'WeCom did not deliver to some users (check their userid in the config)',
      );
    if (m.type === 'card' && typeof res.response_code === 'string') {
      const entry: CardEntry = { userid, code: res.response_code };
      const person = this.roster.config.people.find((p) => p.wecom === userid)?.id ?? userid;
      await this.redis.hset(this.k.cards(m.card.ref), person, JSON.stringify(entry));
      await this.redis.expire(this.k.cards(m.card.ref), 72 * 3600); // response_code lives 72 h
    }
  }

  /**
   * A picture goes to a person as a media_id (media/upload, wecom.md §5.5). The id is kept for two and a half of its
   * three days, so the same chart sent to the director and the manager (or a retry) is uploaded once.
   */
  private async mediaId(raw: Buffer, filename: string, contentType: string): Promise<string> {
    const key = `${this.k.prefix}:wecom:media:${createHash('md5').update(raw).digest('hex')}`;
    const cached = await this.redis.get(key);
    if (cached) return cached;
    // A photo goes to every worker on duty at once (parallel outbox jobs, maybe on several instances): one uploads,
    // the others wait for its media_id.
    const lock = `${key}:lock`;
    if ((await this.redis.set(lock, '1', 'PX', 30_000, 'NX')) !== 'OK') {
      for (let i = 0; i < 300; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const id = await this.redis.get(key);
        if (id) return id;
        if (!(await this.redis.exists(lock))) break;
      }
    }
    try {
      const id = await this.api!.upload('image', filename, raw, contentType);
      await this.redis.set(key, id, 'EX', 60 * 3600);
      return id;
    } finally {
      await this.redis.del(lock);
    }
  }

  /** A photo someone sent, read from the media folder; its description when it cannot go as a picture. */
  private async photoBytes(m: Extract<Message, { type: 'photo' }>): Promise<Buffer | undefined> {
    const raw = await this.media?.read(m.photo);
    if (!raw)
      this.log.warn(
        { photo: m.photo },
        'photo not found in the media folder (HOUQIN_MEDIA_DIR must be shared by every instance); its description goes instead',
      );
    return raw;
  }

  /** To a person: uploaded once (media/upload takes JPG or PNG up to 10 MB), then msgtype image. */
  private async appPhoto(m: Extract<Message, { type: 'photo' }>): Promise<Record<string, unknown>> {
    const raw = await this.photoBytes(m);
    if (!raw || !isJpgOrPng(raw) || raw.length > 10 * 1024 * 1024) return appMessage(m, '');
    const png = raw[0] === 0x89;
    const name = `photo-${m.photo.slice(0, 12)}.${png ? 'png' : 'jpg'}`;
    return appImage(await this.mediaId(raw, name, png ? 'image/png' : 'image/jpeg'));
  }

  private async sendWebhook(chatId: string, m: Message, ctx: DeliveryContext): Promise<void> {
    const key = this.roster.config.chats.find((c) => c.id === chatId)!.wecom.webhookKey!;
    const bucket = `wecom:webhook:${createHash('sha1').update(key).digest('hex').slice(0, 12)}`;
    const wait = await this.limiter.reserve(
      this.k.rate(bucket),
      WEBHOOK_PER_MINUTE,
      WINDOW_MS,
      `${ctx.jobId}:${ctx.attempt}`,
    );
    if (wait > 0) throw new RetryLater(wait, `group robot ${chatId} at ${WEBHOOK_PER_MINUTE} messages/minute`);
    const mentions =
      m.type === 'text'
        ? (m.mention ?? []).map((p) => this.roster.person(p)?.wecom).filter((x): x is string => !!x)
        : [];
    // A photo goes inline when it fits the robot's 2 MB (JPG/PNG), else as its description.
    const photo = m.type === 'photo' ? await this.photoBytes(m) : undefined;
    const body = (photo && webhookImage(photo)) || webhookMessage(m, mentions);
    await this.throttled(bucket, WEBHOOK_PER_MINUTE, ctx, () =>
      this.plain.postUrl(`${this.settings.apiBase}/cgi-bin/webhook/send?key=${encodeURIComponent(key)}`, body),
    );
  }

  /** Each stored response_code works once: it is removed when used, so a retry skips cards already updated. */
  private async updateCards(ref: string, except: string | undefined, m: Message): Promise<void> {
    if (m.type !== 'card') return;
    const entries = await this.redis.hgetall(this.k.cards(ref));
    for (const [person, raw] of Object.entries(entries)) {
      if (person === except) continue;
      const e = JSON.parse(raw) as CardEntry;
      await this.redis.hdel(this.k.cards(ref), person);
      try {
        await this.api!.post('/cgi-bin/message/update_template_card', {
          userids: [e.userid],
          agentid: this.settings.app!.agentId,
          response_code: e.code,
          template_card: buttonCard(m.card),
        });
      } catch (err) {
        // A used or expired code cannot be retried; the card just stays as it was. Log and go on.
        this.log.warn({ ref, person, err: (err as Error).message }, 'could not update a card');
      }
    }
  }

  /** When WeCom says "too many" anyway, close the window for a minute and try again then. */
  private async throttled(
    bucket: string,
    limit: number,
    ctx: DeliveryContext,
    call: () => Promise<WecomReply>,
  ): Promise<WecomReply> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof PlatformError && THROTTLED.has(e.errcode)) {
        await this.limiter.block(this.k.rate(bucket), WINDOW_MS, limit);
        // Its slot was refused: it books a new one, after the block, when it wakes.
        await this.limiter.release(this.k.rate(bucket), `${ctx.jobId}:${ctx.attempt}`);
        throw new RetryLater(e.retryAfterMs ?? 60_000, e.message);
      }
      throw e;
    }
  }
}

/** A reply over the long connection: on the message's req_id while it works, else into the chat it came from. */
function replyRoute(h: Extract<Target, { kind: 'reply' }>['handle']): Route {
  const group = h.chatType === 'group';
  return {
    chatid: group ? h.chatId : h.senderPlatformId,
    chatType: group ? 2 : 1,
    ...(h.replyRef ? { respond: { reqId: h.replyRef, until: h.replyRefExpiresAt ?? 0 } } : {}),
  };
}
