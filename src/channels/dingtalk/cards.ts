// Cards with buttons on DingTalk: instances of Houqin's card-platform template (卡片平台, protocols/dingtalk.md §7),
// created and delivered with `POST /v1.0/card/instances/createAndDeliver`, to a person's 1:1 chat with the robot
// (IM_ROBOT, by staffId) or to a group (IM_GROUP, by openConversationId), and changed later with
// `PUT /v1.0/card/instances` — https://open.dingtalk.com/document/orgapp/create-and-deliver-cards,
// …/interactive-card-update-interface. Permission: Card.Instance.Write (互动卡片实例写权限).
//
// Each instance has an outTrackId we choose: derived from the outbox job, so a send retried after a crash names the
// same card and DingTalk answers `param.cardAlreadyExist` instead of showing it twice. Redis keeps, shared by every
// instance, which cards a ref (t12, a12x1, cl.2025-03-03.safety …) was sent as and what each shows now — the update
// of everyone else's card after a click, and the answer to a click DingTalk delivers twice, read it.
//
// On a group card everyone sees the same public data, so the clicker's own view ("你已接单") goes back as their
// private data (userPrivateData) and the public view follows through the update of the ref's cards; a later update
// gives past clickers the public view too, or their private one would hide it for good.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DingtalkCardSettings, DingtalkSettings } from '../../config/load.js';
import type { Card } from '../../domain/messages.js';
import { PlatformError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Keys } from '../../store/keys.js';
import { apiError, type ApiAnswer, type DingtalkApi } from './api.js';
import { buttonKeys, type CardParams, cardParams } from './card-params.js';

/** How long Houqin remembers a card: a task on hold for parts can take weeks. */
const KEEP_SECONDS = 30 * 86_400;

export type Space = 'IM_ROBOT' | 'IM_GROUP';

export interface CardState {
  ref: string;
  space: Space;
  /** staffId (IM_ROBOT) or openConversationId (IM_GROUP). */
  spaceId: string;
  params: CardParams;
  /** The live buttons' keys by slot. */
  keys: string[];
  /** Who has private data on it (group cards). */
  privates: string[];
}

/** What a click is answered with (the Stream ACK's `response`, the HTTP callback's body), event-callback-card. */
export interface ClickAnswer {
  cardUpdateOptions: { updateCardDataByKey: boolean; updatePrivateDataByKey: boolean };
  cardData?: { cardParamMap: CardParams };
  userPrivateData?: { cardParamMap: CardParams };
}

const byKey = { updateCardDataByKey: true, updatePrivateDataByKey: true };

export class DingtalkCards {
  private readonly settings: DingtalkCardSettings;

  constructor(
    private api: DingtalkApi,
    private s: DingtalkSettings,
    private redis: Redis,
    private k: Keys,
    private log: Logger,
  ) {
    if (!s.cards) throw new Error('DingtalkCards needs DINGTALK_CARD_TEMPLATE_ID');
    this.settings = s.cards;
  }

  private stateKey(outTrackId: string) {
    return `${this.k.prefix}:dingtalk:card:${outTrackId}`;
  }
  private refKey(ref: string) {
    return `${this.k.prefix}:dingtalk:cards:${ref}`;
  }

  /**
   * One card to one place. `holder` names it within its ref: the person for a 1:1 card (so an update can leave out
   * the clicker, whose card the click's answer already changed), `chat:<id>` for a group card.
   */
  async deliver(card: Card, space: Space, spaceId: string, holder: string, jobId: string): Promise<void> {
    const outTrackId = this.trackId(card.ref, jobId);
    const params = cardParams(card);
    const http = this.s.mode === 'http';
    const lastMessageI18n = { ZH_CN: card.title.slice(0, 40) };
    const body = {
      cardTemplateId: this.settings.templateId,
      outTrackId,
      callbackType: http ? 'HTTP' : 'STREAM',
      ...(http ? { callbackRouteKey: this.settings.routeKey } : {}),
      cardData: { cardParamMap: params },
      openSpaceId: `dtv1.card//${space}.${spaceId}`,
      ...(space === 'IM_ROBOT'
        ? {
            imRobotOpenSpaceModel: { supportForward: false, lastMessageI18n },
            imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: this.s.robotCode },
          }
        : {
            imGroupOpenSpaceModel: { supportForward: false, lastMessageI18n },
            imGroupOpenDeliverModel: { robotCode: this.s.robotCode },
          }),
      userIdType: 1,
    };
    const res = await this.api.send('POST', '/v1.0/card/instances/createAndDeliver', body);
    const code = String(res.body.code ?? '');
    if (res.status === 200) checkDelivered(res, space);
    // The same outbox job again (a crash after DingTalk took it): the card is there already.
    else if (code === 'param.cardAlreadyExist')
      this.log.info({ ref: card.ref, outTrackId }, 'dingtalk card was created by an earlier try');
    else throw cardError('/v1.0/card/instances/createAndDeliver', res);
    const state: CardState = { ref: card.ref, space, spaceId, params, keys: buttonKeys(card), privates: [] };
    await this.redis
      .multi()
      .set(this.stateKey(outTrackId), JSON.stringify(state), 'EX', KEEP_SECONDS)
      // One field per card: a person can hold two cards of one ref (the claim card, then 确认接单 when assigned).
      .hset(this.refKey(card.ref), `${holder}|${outTrackId}`, outTrackId)
      .expire(this.refKey(card.ref), KEEP_SECONDS)
      .exec();
  }

  /**
   * Every card sent with this ref, except the one `except` holds, now shows `card` (PUT /v1.0/card/instances). A
   * card DingTalk no longer knows is skipped; a failure that may pass is thrown after the others were tried, so the
   * outbox tries again (an update is the same data again: harmless twice).
   */
  async update(ref: string, except: string | undefined, card: Card): Promise<void> {
    const holders = await this.redis.hgetall(this.refKey(ref));
    const params = cardParams(card);
    let retry: PlatformError | undefined;
    for (const [field, outTrackId] of Object.entries(holders)) {
      const holder = field.slice(0, field.lastIndexOf('|'));
      if (holder === except) continue;
      const state = await this.state(outTrackId);
      const privateData = Object.fromEntries((state?.privates ?? []).map((u) => [u, { cardParamMap: params }]));
      const res = await this.api.send('PUT', '/v1.0/card/instances', {
        outTrackId,
        cardData: { cardParamMap: params },
        ...(state?.privates.length ? { privateData } : {}),
        cardUpdateOptions: byKey,
        userIdType: 1,
      });
      if (res.status !== 200 || res.body.success === false) {
        const e = cardError('/v1.0/card/instances', res);
        this.log.warn({ ref, holder, outTrackId, err: e.message }, 'could not update a dingtalk card');
        if (e.retryable) retry = e;
        continue;
      }
      if (state) await this.save(outTrackId, { ...state, params, keys: buttonKeys(card) });
    }
    if (retry) throw retry;
  }

  async state(outTrackId: string): Promise<CardState | undefined> {
    const raw = await this.redis.get(this.stateKey(outTrackId));
    return raw ? (JSON.parse(raw) as CardState) : undefined;
  }

  /**
   * The answer to a click: the card the clicker should see now (from the click's handling), or — a click handled
   * before, or one that changed nothing — the card as it is.
   */
  async answer(outTrackId: string, userId: string, card: Card | undefined): Promise<ClickAnswer> {
    const state = await this.state(outTrackId);
    if (!card) return { cardUpdateOptions: byKey, ...(state ? { cardData: { cardParamMap: state.params } } : {}) };
    const params = cardParams(card);
    if (state?.space === 'IM_GROUP') {
      const privates = state.privates.includes(userId) ? state.privates : [...state.privates, userId];
      await this.save(outTrackId, { ...state, privates });
      return { cardUpdateOptions: byKey, userPrivateData: { cardParamMap: params } };
    }
    if (state) await this.save(outTrackId, { ...state, params, keys: buttonKeys(card) });
    return { cardUpdateOptions: byKey, cardData: { cardParamMap: params } };
  }

  /**
   * HTTP mode: tells DingTalk where clicks go (POST /v1.0/card/callbacks/register, register-card-callback-address)
   * and the secret it signs them with. forceUpdate: the address is ours, and every start says the same.
   */
  async register(): Promise<void> {
    const { callbackUrl, apiSecret, routeKey } = this.settings;
    if (!callbackUrl || !apiSecret) return;
    const res = await this.api.send('POST', '/v1.0/card/callbacks/register', {
      callbackRouteKey: routeKey,
      callbackUrl,
      apiSecret,
      forceUpdate: true,
    });
    if (res.status !== 200) throw cardError('/v1.0/card/callbacks/register', res);
    this.log.info({ routeKey, callbackUrl }, 'dingtalk card callback registered');
  }

  /**
   * register(), tried again after 5 s, 30 s, 2 and 10 minutes when DingTalk cannot be reached or refuses for now;
   * logged either way, never thrown (the service runs on; its cards' buttons wait for the address).
   */
  async registerWithRetries(signal: AbortSignal, delaysMs = [5_000, 30_000, 120_000, 600_000]): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.register();
        return;
      } catch (e) {
        const err = e as PlatformError;
        const last = i >= delaysMs.length || !(err instanceof PlatformError && err.retryable);
        this.log.error(
          { err: err.message, ...(last ? {} : { retryInMs: delaysMs[i] }) },
          'dingtalk card callback not registered: card buttons do nothing until it is (docs/setup-dingtalk.md)',
        );
        if (last || signal.aborted) return;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delaysMs[i]);
          const cancel = () => {
            clearTimeout(t);
            resolve();
          };
          signal.addEventListener('abort', cancel, { once: true });
        });
        if (signal.aborted) return;
      }
    }
  }

  private async save(outTrackId: string, state: CardState): Promise<void> {
    await this.redis.set(this.stateKey(outTrackId), JSON.stringify(state), 'EX', KEEP_SECONDS);
  }

  /** Ours, stable for one outbox job, unique across deployments sharing an app (the key prefix is in it). */
  private trackId(ref: string, jobId: string): string {
    const h = createHash('sha256').update(`${this.k.prefix}\n${jobId}`).digest('hex').slice(0, 20);
    return `hq_${ref.replace(/[^\w-]/g, '_').slice(0, 40)}_${h}`;
  }
}

/** createAndDeliver answers 200 with a result per place; a place it could not deliver to is a failure. */
function checkDelivered(res: ApiAnswer, space: Space): void {
  const result = res.body.result as { deliverResults?: { success?: boolean; errorMsg?: string }[] } | undefined;
  const failed = (result?.deliverResults ?? []).filter((r) => r.success === false);
  if (res.body.success === false || failed.length)
    throw new PlatformError(
      `dingtalk card not delivered to ${space}: ${failed.map((f) => f.errorMsg ?? '?').join(', ') || 'success false'}`,
      -1,
      false,
    );
}

/** The card API's refusals as the outbox reads them: busy and throttled again, a wrong template or place kept. */
function cardError(path: string, res: ApiAnswer): PlatformError {
  const e = apiError(path, res);
  if (String(res.body.code ?? '') === 'system.busy') return new PlatformError(e.message, -1, true);
  return e;
}
