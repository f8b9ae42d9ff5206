// The DingTalk sending side: a reply goes back through the message's sessionWebhook while it is valid (about 90
// minutes), otherwise — and for everything the service sends on its own — through the robot API: groups by
// openConversationId (groupMessages/send), people by staffId (oToMessages/batchSend, at most 20 a call).
// Every send is an outbox job; a PlatformError says whether the outbox tries again or keeps it as failed.
import type { Redis } from 'ioredis';
import type { DingtalkSettings } from '../../config/load.js';
import type { Message, Outgoing, ReplyHandle, Target } from '../../domain/messages.js';
import type { Roster } from '../../domain/roster.js';
import { PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Keys } from '../../store/keys.js';
import { type Channel, type DeliveryContext, RetryLater } from '../channel.js';
import { DingtalkApi, SESSION_GONE } from './api.js';
import { apiMessage, webhookBody } from './render.js';

/** batchSend takes at most this many userIds a call. */
export const USERS_PER_CALL = 20;
/** A sessionWebhook this close to its expiry is not trusted: the robot API is used instead. */
const WEBHOOK_MARGIN_MS = 60_000;

export class DingtalkChannel implements Channel {
  readonly name = 'dingtalk';
  readonly api: DingtalkApi;

  constructor(
    private settings: DingtalkSettings,
    private roster: Roster,
    redis: Redis,
    k: Keys,
    private log: Logger,
    private now: () => number = Date.now,
  ) {
    this.api = new DingtalkApi(settings.apiBase, settings.appKey, settings.appSecret, redis, k, log);
  }

  reaches(to: Target): boolean {
    switch (to.kind) {
      case 'user':
        return !!this.roster.person(to.person)?.dingtalk;
      case 'chat':
        return !!this.conversationOf(to.chat);
      case 'reply':
        return to.handle.channel === 'dingtalk';
      case 'cards':
      case 'clicked_card':
        return false; // card updates need the card template (a later step)
    }
  }

  async deliver(out: Outgoing, _ctx: DeliveryContext): Promise<void> {
    const to = out.to;
    switch (to.kind) {
      case 'user':
        return this.toPeople([this.roster.person(to.person)!.dingtalk!], out.message);
      case 'chat':
        return this.toGroup(this.conversationOf(to.chat)!, out.message);
      case 'reply':
        return this.reply(to.handle, out.message);
      default:
        return;
    }
  }

  private conversationOf(chat: string): string | undefined {
    return this.roster.config.chats.find((c) => c.id === chat)?.dingtalk.conversationId;
  }

  private async reply(h: ReplyHandle, m: Message): Promise<void> {
    const valid = h.responseUrl && (h.responseUrlExpiresAt ?? 0) - WEBHOOK_MARGIN_MS > this.now();
    if (valid) {
      const at = m.type === 'text' ? this.staffIds(m.mention ?? []) : [];
      try {
        await this.api.postWebhook(h.responseUrl!, webhookBody(m, at));
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
    await this.api.post('/v1.0/robot/groupMessages/send', {
      robotCode: this.settings.robotCode,
      openConversationId,
      ...apiMessage(m),
    });
  }

  /**
   * One message to people by staffId, in calls of at most 20. DingTalk answers which ids it did not know (kept in
   * the log: a wrong staffId in the config) and which were flow-controlled (all of them: tried again in a minute).
   */
  async toPeople(userIds: string[], m: Message): Promise<void> {
    const msg = apiMessage(m);
    const later: string[] = [];
    for (let i = 0; i < userIds.length; i += USERS_PER_CALL) {
      const batch = userIds.slice(i, i + USERS_PER_CALL);
      const res = await this.api.post('/v1.0/robot/oToMessages/batchSend', {
        robotCode: this.settings.robotCode,
        userIds: batch,
        ...msg,
      });
      const invalid = list(res.invalidStaffIdList);
      if (invalid.length)
        this.log.warn({ invalid }, 'DingTalk did not deliver to some staffIds (check people[].dingtalk in the config)');
      later.push(...list(res.flowControlledStaffIdList));
    }
    if (later.length === userIds.length) throw new RetryLater(60_000, `DingTalk flow control for ${later.join(',')}`);
    // The outbox sends to one person a job, so a partial answer only comes from a multi-person call.
    if (later.length) this.log.warn({ later }, 'DingTalk flow-controlled some staffIds; they did not get this message');
  }
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
