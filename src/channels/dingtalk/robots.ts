// Custom robots (自定义机器人): a group the enterprise robot is not in can still be posted to through a robot added
// in the group's settings, by its Webhook address (chats[].dingtalk.webhook) signed with its 加签 secret
// (chats[].dingtalk.secret, SEC…) — https://open.dingtalk.com/document/orgapp/custom-robots-send-group-messages.
// Both are credentials: they come from the environment (${ENV} in the config) and never reach a log line (safeUrl).
// A custom robot is send-only and takes text, markdown and link-like cards; it cannot carry an uploaded picture.
import type { Config } from '../../config/schema.js';
import type { Message } from '../../domain/messages.js';
import { PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { RetryLater } from '../channel.js';
import { postRobotWebhook, WEBHOOK_THROTTLED } from './api.js';
import { RobotPace } from './pace.js';
import { mergedWebhookBody, pictureInWords, webhookBody, webhookParcel } from './render.js';
import { signedWebhook } from './sign.js';

/**
 * Why a picture goes as words here: a custom robot's body has no picture type of its own, a markdown picture needs a
 * URL the phone can load, and Houqin serves photos only behind the console's token.
 */
export const NO_PICTURES = '群自定义机器人发不了图片，这里只有文字说明';

export interface CustomRobot {
  webhook: string;
  secret?: string;
}

export class CustomRobots {
  constructor(
    private config: Pick<Config, 'chats'>,
    private pace: RobotPace,
    private log: Logger,
    private now: () => number = Date.now,
    private timeoutMs = 10_000,
  ) {}

  of(chat: string): CustomRobot | undefined {
    const d = this.config.chats.find((c) => c.id === chat)?.dingtalk;
    return d?.webhook ? { webhook: d.webhook, secret: d.secret } : undefined;
  }

  /**
   * Sends through the chat's custom robot within its window (pace.ts): alone while the window has room, otherwise
   * parked and merged into the next send. DingTalk's "too fast" answer closes the window and the job waits for it.
   */
  async send(chat: string, message: Message, atUserIds: string[], jobId: string): Promise<void> {
    const robot = this.of(chat);
    if (!robot) throw new PlatformError(`chat ${chat} has no custom robot webhook`, -1, false);
    const m = message.type === 'image' || message.type === 'photo' ? pictureInWords(message, NO_PICTURES) : message;
    const id = RobotPace.robotId(robot.webhook);
    try {
      await this.pace.send(id, jobId, webhookParcel(m, atUserIds), async (batch) => {
        const body = batch.length === 1 ? webhookBody(m, atUserIds) : mergedWebhookBody(batch);
        await postRobotWebhook(signedWebhook(robot.webhook, robot.secret, this.now()), body, this.timeoutMs);
        if (batch.length > 1) this.log.info({ chat, merged: batch.length }, 'custom robot: parked messages merged');
      });
    } catch (e) {
      if (e instanceof PlatformError && WEBHOOK_THROTTLED.has(e.errcode)) {
        const ms = await this.pace.block(id);
        this.log.warn(
          { chat, robot: id, errcode: e.errcode },
          'DingTalk says the custom robot sends too fast; its messages wait for the window',
        );
        throw new RetryLater(ms, e.message);
      }
      throw e;
    }
  }
}
