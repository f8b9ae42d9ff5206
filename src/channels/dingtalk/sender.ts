// The DingTalk sending side: a reply goes back through the message's sessionWebhook while it is valid (about 90
// minutes), otherwise — and for everything the service sends on its own — through the robot API: groups by
// openConversationId (groupMessages/send), people by staffId (oToMessages/batchSend, at most 20 a call). A group the
// enterprise robot is not in is reached through its custom robot (robots.ts), paced to DingTalk's 20 a minute.
// Every send is an outbox job; a PlatformError says whether the outbox tries again or keeps it as failed, and
// RetryLater (a rate limit) schedules the job for when it may go.
//
// A group with both a conversationId and a custom robot: the robot API, when the app is configured. It has no
// published per-minute limit and no 10-minute block, and it carries pictures; the custom robot is the way in only
// for groups the enterprise robot cannot post to (dingtalk.md §1: the webhook is the last resort).
//
// Cards: with a card template (DINGTALK_CARD_TEMPLATE_ID) a card is an instance of it with buttons that call back
// (cards.ts), to a person's 1:1 chat or a group, updated in place later; a custom robot cannot carry one and gets the
// markdown. Without a template every card is markdown that names the words to type (render.ts cardMarkdown).
//
// Pictures (the digest's chart, people's photos) go through the robot API as `sampleImageMsg` after one upload;
// a sessionWebhook and a custom robot cannot carry an uploaded picture, so a reply with a picture takes the robot
// API, and a custom robot says in words that a picture is not shown (robots.ts).
import type { Redis } from 'ioredis';
import type { DingtalkSettings } from '../../config/load.js';
import type { Message, Outgoing, ReplyHandle, Target } from '../../domain/messages.js';
import type { Roster } from '../../domain/roster.js';
import { PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Keys } from '../../store/keys.js';
import { type MediaStore, sniffImage } from '../../store/media.js';
import { type Channel, type DeliveryContext, RetryLater } from '../channel.js';
import { DingtalkApi, SESSION_GONE } from './api.js';
import { DingtalkCards } from './cards.js';
import { type PaceOptions, RobotPace, webhookPace } from './pace.js';
import { apiMessage, imageMessage, pictureInWords, webhookBody } from './render.js';
import { CustomRobots } from './robots.js';
import { PictureUploads } from './upload.js';

/** batchSend takes at most this many userIds a call. */
export const USERS_PER_CALL = 20;
/** A sessionWebhook this close to its expiry is not trusted: the robot API is used instead. */
const WEBHOOK_MARGIN_MS = 60_000;
/** media/upload takes images up to 20 MB, jpg/gif/png/bmp (https://open.dingtalk.com/document/orgapp/upload-media-files). */
const UPLOAD_MAX_BYTES = 20 * 1024 * 1024;

export interface DingtalkOptions {
  /** Where people's photos are kept (a `photo` message names one by hash). */
  media?: MediaStore;
  /** A custom robot's window (tests shorten it). */
  pace?: PaceOptions;
  now?: () => number;
}

type ApiMessage = { msgKey: string; msgParam: string };

export class DingtalkChannel implements Channel {
  readonly name = 'dingtalk';
  /** The enterprise robot's API; absent when only custom robots are configured. */
  readonly api?: DingtalkApi;
  /** Cards with buttons; absent without a card template (cards then go as markdown). */
  readonly cards?: DingtalkCards;
  private uploads?: PictureUploads;
  private robots: CustomRobots;
  private now: () => number;

  constructor(
    private settings: DingtalkSettings | undefined,
    private roster: Roster,
    redis: Redis,
    k: Keys,
    private log: Logger,
    private opts: DingtalkOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    if (settings) {
      this.api = new DingtalkApi(
        settings.apiBase,
        settings.appKey,
        settings.appSecret,
        redis,
        k,
        log,
        undefined,
        settings.oapiBase,
      );
      this.uploads = new PictureUploads(this.api, redis, k, settings.appKey);
      if (settings.cards) this.cards = new DingtalkCards(this.api, settings, redis, k, log);
    }
    const pace = new RobotPace(redis, k, opts.pace ?? webhookPace, this.now);
    this.robots = new CustomRobots(roster.config, pace, log, this.now);
  }

  reaches(to: Target): boolean {
    switch (to.kind) {
      case 'user':
        return !!this.api && !!this.roster.person(to.person)?.dingtalk;
      case 'chat':
        return (!!this.api && !!this.conversationOf(to.chat)) || !!this.robots.of(to.chat);
      case 'reply':
        return to.handle.channel === 'dingtalk' && !!this.api;
      case 'cards':
        return !!this.cards;
      case 'clicked_card':
        return false; // the clicked card changes in the click's own answer (card-callback.ts)
    }
  }

  async deliver(out: Outgoing, ctx: DeliveryContext): Promise<void> {
    const to = out.to;
    const card = this.cards && out.message.type === 'card' ? out.message.card : undefined;
    switch (to.kind) {
      case 'user': {
        const staffId = this.roster.person(to.person)!.dingtalk!;
        if (card) return this.cards!.deliver(card, 'IM_ROBOT', staffId, to.person, ctx.jobId);
        return this.toPeople([staffId], out.message);
      }
      case 'chat': {
        const cid = this.conversationOf(to.chat);
        if (card && cid) return this.cards!.deliver(card, 'IM_GROUP', cid, `chat:${cid}`, ctx.jobId);
        if (this.api && cid) return this.toGroup(cid, out.message);
        const at = out.message.type === 'text' ? this.staffIds(out.message.mention ?? []) : [];
        return this.robots.send(to.chat, out.message, at, ctx.jobId);
      }
      case 'reply': {
        const h = to.handle;
        if (!card) return this.reply(h, out.message);
        if (h.chatType === 'group')
          return this.cards!.deliver(card, 'IM_GROUP', h.chatId, `chat:${h.chatId}`, ctx.jobId);
        const person = this.roster.fromPlatform('dingtalk', h.senderPlatformId)?.id ?? h.senderPlatformId;
        return this.cards!.deliver(card, 'IM_ROBOT', h.senderPlatformId, person, ctx.jobId);
      }
      case 'cards':
        if (card) return this.cards!.update(to.ref, to.except, card);
        return;
      default:
        return;
    }
  }

  private conversationOf(chat: string): string | undefined {
    return this.roster.config.chats.find((c) => c.id === chat)?.dingtalk.conversationId;
  }

  private async reply(h: ReplyHandle, m: Message): Promise<void> {
    const picture = m.type === 'image' || m.type === 'photo';
    const valid = h.responseUrl && (h.responseUrlExpiresAt ?? 0) - WEBHOOK_MARGIN_MS > this.now();
    if (valid && !picture) {
      const at = m.type === 'text' ? this.staffIds(m.mention ?? []) : [];
      try {
        await throttledToRetry(() => this.api!.postWebhook(h.responseUrl!, webhookBody(m, at)));
        return;
      } catch (e) {
        if (!(e instanceof PlatformError) || e.errcode !== SESSION_GONE) throw e;
        this.log.info({ envelope: h.envelopeId }, 'dingtalk session ended early; replying through the robot API');
      }
    }
    if (h.chatType === 'group') return this.toGroup(h.chatId, m);
    return this.toPeople([h.senderPlatformId], m);
  }

  private staffIds(people: string[]): string[] {
    return people.map((p) => this.roster.person(p)?.dingtalk).filter((x): x is string => !!x);
  }

  private async toGroup(openConversationId: string, m: Message): Promise<void> {
    const msg = await this.apiMessageOf(m);
    await throttledToRetry(() =>
      this.api!.post('/v1.0/robot/groupMessages/send', {
        robotCode: this.settings!.robotCode,
        openConversationId,
        ...msg,
      }),
    );
  }

  /**
   * One message to people by staffId, in calls of at most 20. DingTalk answers which ids it did not know (kept in
   * the log: a wrong staffId in the config) and which were flow-controlled (all of them: tried again in a minute).
   */
  async toPeople(userIds: string[], m: Message): Promise<void> {
    const msg = await this.apiMessageOf(m);
    const later: string[] = [];
    for (let i = 0; i < userIds.length; i += USERS_PER_CALL) {
      const batch = userIds.slice(i, i + USERS_PER_CALL);
      const res = await throttledToRetry(() =>
        this.api!.post('/v1.0/robot/oToMessages/batchSend', {
          robotCode: this.settings!.robotCode,
          userIds: batch,
          ...msg,
        }),
      );
      const invalid = list(res.invalidStaffIdList);
      if (invalid.length)
        this.log.warn({ invalid }, 'DingTalk did not deliver to some staffIds (check people[].dingtalk in the config)');
      later.push(...list(res.flowControlledStaffIdList));
    }
    if (later.length === userIds.length) throw new RetryLater(60_000, `DingTalk flow control for ${later.join(',')}`);
    // The outbox sends to one person a job, so a partial answer only comes from a multi-person call.
    if (later.length) this.log.warn({ later }, 'DingTalk flow-controlled some staffIds; they did not get this message');
  }

  /** The robot API form of a message; a picture is uploaded (once) and goes as sampleImageMsg. */
  private async apiMessageOf(m: Message): Promise<ApiMessage> {
    if (m.type === 'image') return this.picture(m, Buffer.from(m.png, 'base64'), 'chart');
    if (m.type !== 'photo') return apiMessage(m);
    const raw = await this.opts.media?.read(m.photo);
    if (!raw) {
      this.log.warn(
        { photo: m.photo },
        'photo not found in the media folder (HOUQIN_MEDIA_DIR must be shared by every instance); its description goes instead',
      );
      return apiMessage(pictureInWords(m, '照片文件没有找到'));
    }
    return this.picture(m, raw, `photo-${m.photo.slice(0, 12)}`);
  }

  private async picture(m: Extract<Message, { type: 'image' | 'photo' }>, raw: Buffer, name: string) {
    const mime = sniffImage(raw);
    // media/upload takes jpg, gif, png and bmp up to 20 MB; anything else goes as its words.
    if ((mime !== 'image/jpeg' && mime !== 'image/png' && mime !== 'image/gif') || raw.length > UPLOAD_MAX_BYTES) {
      this.log.warn({ mime, bytes: raw.length }, 'picture DingTalk cannot take (type or size); its description goes');
      return apiMessage(pictureInWords(m, '这张图片的格式钉钉不支持'));
    }
    const ext = mime === 'image/jpeg' ? 'jpg' : mime.slice('image/'.length);
    try {
      return imageMessage(await this.uploads!.mediaId(raw, `${name}.${ext}`, mime));
    } catch (e) {
      if (!(e instanceof PlatformError) || e.retryable) throw e;
      this.log.warn({ err: e.message }, 'DingTalk refused the picture upload; its description goes instead');
      return apiMessage(pictureInWords(m, '图片没能上传到钉钉'));
    }
  }
}

/** A throttling answer (PlatformError with retryAfterMs) waits without using up an attempt: RetryLater. */
async function throttledToRetry<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof PlatformError && e.retryable && e.retryAfterMs) throw new RetryLater(e.retryAfterMs, e.message);
    throw e;
  }
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
