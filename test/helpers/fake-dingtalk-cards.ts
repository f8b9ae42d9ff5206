// The card platform of the fake DingTalk (fake-dingtalk.ts mounts it on its server), strict about the documented
// shapes (https://open.dingtalk.com/document/orgapp/create-and-deliver-cards, …/interactive-card-update-interface,
// …/register-card-callback-address, …/event-callback-card, …/instructions-for-filling-in-api-card-data):
//   POST /v1.0/card/instances/createAndDeliver — one template (the one "imported": its variables are read from the
//     shipped config/dingtalk-card-template.json), string values only, ≤ 1 KB each, a known openSpaceId with its
//     open space and deliver models; an outTrackId used before is `param.cardAlreadyExist`.
//   PUT /v1.0/card/instances — an existing outTrackId, data merged by key when cardUpdateOptions say so.
//   POST /v1.0/card/callbacks/register — routeKey → callback URL and apiSecret (forceUpdate to change one).
// It remembers every card's public data and each user's private data, and plays a person tapping a button: the
// click goes over HTTP (signed with the registered apiSecret, x-ddpaas-signature) or over the Stream gateway (topic
// /v1.0/card/instances/callback), and the answer — the HTTP body, or the ACK's `response` — is checked and applied
// to the card as DingTalk would. Every shape problem becomes a string in the recorded request's `violations`.
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readTemplate } from './card-template.js';
import type { FakeStreamGateway } from './fake-dingtalk-stream.js';

export const CARD_TOPIC = '/v1.0/card/instances/callback';
const CARD_PATHS = ['/v1.0/card/instances/createAndDeliver', '/v1.0/card/instances', '/v1.0/card/callbacks/register'];

export type CardKind = 'cardCreate' | 'cardUpdate' | 'cardRegister' | 'cardClick';

export interface CardRecord {
  kind: CardKind;
  path: string;
  headers: Record<string, string | undefined>;
  body: any;
  status: number;
  code: string;
  violations: string[];
  at: number;
}

export interface FakeCard {
  outTrackId: string;
  templateId: string;
  callbackType: 'STREAM' | 'HTTP';
  routeKey?: string;
  space: 'IM_ROBOT' | 'IM_GROUP';
  /** staffId or openConversationId */
  spaceId: string;
  public: Record<string, string>;
  private: Record<string, Record<string, string>>;
  updates: number;
}

export interface ClickResult {
  status: number;
  /** The answer as DingTalk got it (HTTP body, or the ACK's response). */
  answer: any;
}

interface Deps {
  templateId?: string;
  robotCode: string;
  conversations?: string[];
  staff?: string[];
  /** Answers why a request's token is no good, or undefined. */
  checkToken(headers: IncomingMessage['headers'], problems: string[]): string | undefined;
  /** A failure the test asked for (failNext), if any. */
  takeFailure(kind: CardKind): { status: number; code: string } | undefined;
  record(r: CardRecord): void;
}

const variables = new Set(readTemplate().variables.map((v) => v.name));

export class FakeCardPlatform {
  readonly cards = new Map<string, FakeCard>();
  readonly routes = new Map<string, { url: string; apiSecret?: string }>();

  constructor(private d: Deps) {}

  handles(path: string): boolean {
    return CARD_PATHS.includes(path);
  }

  /** Cards delivered to one person's 1:1 chat or one group, oldest first. */
  in(space: 'IM_ROBOT' | 'IM_GROUP', spaceId: string): FakeCard[] {
    return [...this.cards.values()].filter((c) => c.space === space && c.spaceId === spaceId);
  }

  /** What a person sees: for each variable their private value where they have one, else the public one. */
  view(card: FakeCard, userId?: string): Record<string, string> {
    const own = (userId && card.private[userId]) || {};
    const out: Record<string, string> = {};
    for (const v of variables) out[v] = own[v] !== undefined && own[v] !== '' ? own[v] : (card.public[v] ?? '');
    return out;
  }

  http(req: IncomingMessage, res: ServerResponse, raw: string, path: string): void {
    const problems: string[] = [];
    let body: any = {};
    try {
      body = JSON.parse(raw);
    } catch {
      problems.push('body is not JSON');
    }
    if (!/application\/json/.test(String(req.headers['content-type']))) problems.push('content-type is not JSON');
    const kind: CardKind =
      path === '/v1.0/card/instances/createAndDeliver'
        ? 'cardCreate'
        : path === '/v1.0/card/instances'
          ? 'cardUpdate'
          : 'cardRegister';
    const want = kind === 'cardUpdate' ? 'PUT' : 'POST';
    if (req.method !== want) problems.push(`method ${req.method}, want ${want}`);
    let status = 200;
    let code = '';
    let answer: Record<string, unknown>;
    const fail = (s: number, c: string) => {
      status = s;
      code = c;
      return { code: c, message: c, requestid: randomBytes(8).toString('hex') };
    };
    const bad = this.d.checkToken(req.headers, problems);
    const injected = this.d.takeFailure(kind);
    if (bad) answer = fail(bad === 'InvalidAuthentication' ? 401 : 400, bad);
    else if (injected) answer = fail(injected.status, injected.code);
    else if (kind === 'cardCreate') answer = this.create(body, problems, fail);
    else if (kind === 'cardUpdate') answer = this.update(body, problems, fail);
    else answer = this.register(body, problems, fail);
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
    this.d.record({ kind, path, headers, body, status, code, violations: problems, at: Date.now() });
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    res.end(JSON.stringify(answer));
  }

  private create(b: any, problems: string[], fail: (s: number, c: string) => any): Record<string, unknown> {
    if (typeof b.outTrackId !== 'string' || !b.outTrackId) {
      problems.push('outTrackId missing');
      return fail(400, 'param.outTrackIdEmpty');
    }
    if (this.cards.has(b.outTrackId)) return fail(400, 'param.cardAlreadyExist'); // a retry: the world, not a fault
    if (!this.d.templateId || b.cardTemplateId !== this.d.templateId) {
      problems.push(`cardTemplateId ${JSON.stringify(b.cardTemplateId)} is not the imported template`);
      return fail(400, 'param.templateNotExist');
    }
    if (!['STREAM', 'HTTP'].includes(b.callbackType)) problems.push(`callbackType ${JSON.stringify(b.callbackType)}`);
    if (b.callbackType === 'HTTP' && (typeof b.callbackRouteKey !== 'string' || !b.callbackRouteKey))
      problems.push('callbackType HTTP without callbackRouteKey');
    if (b.callbackType === 'STREAM' && b.callbackRouteKey !== undefined) problems.push('callbackRouteKey with STREAM');
    if (b.userIdType !== undefined && b.userIdType !== 1 && b.userIdType !== 2) problems.push('userIdType not 1 or 2');
    const params = this.paramMap(b.cardData, 'cardData', problems);
    const m = /^dtv1\.card\/\/(IM_ROBOT|IM_GROUP)\.([^;]+)$/.exec(String(b.openSpaceId ?? ''));
    if (!m) {
      problems.push(
        `openSpaceId ${JSON.stringify(b.openSpaceId)} is not dtv1.card//IM_ROBOT.<userId> or IM_GROUP.<cid>`,
      );
      return fail(400, 'param.openSpaceIdInvalid');
    }
    const [, space, spaceId] = m as unknown as [string, 'IM_ROBOT' | 'IM_GROUP', string];
    let delivered = true;
    if (space === 'IM_ROBOT') {
      if (b.imRobotOpenDeliverModel?.spaceType !== 'IM_ROBOT') problems.push('imRobotOpenDeliverModel.spaceType');
      const rc = b.imRobotOpenDeliverModel?.robotCode;
      if (rc !== undefined && rc !== this.d.robotCode) problems.push(`robotCode ${JSON.stringify(rc)} is not ours`);
      if (b.imRobotOpenSpaceModel && typeof b.imRobotOpenSpaceModel.supportForward !== 'boolean')
        problems.push('imRobotOpenSpaceModel.supportForward is required');
      if (b.imGroupOpenDeliverModel) problems.push('a group deliver model on a 1:1 card');
      if (this.d.staff && !this.d.staff.includes(spaceId)) delivered = false;
    } else {
      if (b.imGroupOpenDeliverModel?.robotCode !== this.d.robotCode)
        problems.push('imGroupOpenDeliverModel.robotCode is required and must be ours');
      if (b.imGroupOpenSpaceModel && typeof b.imGroupOpenSpaceModel.supportForward !== 'boolean')
        problems.push('imGroupOpenSpaceModel.supportForward is required');
      if (this.d.conversations && !this.d.conversations.includes(spaceId)) delivered = false;
    }
    if (problems.length) return fail(400, 'param.invalid');
    this.cards.set(b.outTrackId, {
      outTrackId: b.outTrackId,
      templateId: b.cardTemplateId,
      callbackType: b.callbackType,
      routeKey: b.callbackRouteKey,
      space,
      spaceId,
      public: params ?? {},
      private: {},
      updates: 0,
    });
    return {
      success: true,
      result: {
        outTrackId: b.outTrackId,
        deliverResults: [
          {
            spaceType: space,
            spaceId,
            success: delivered,
            ...(delivered ? { carrierId: randomBytes(8).toString('base64') } : { errorMsg: 'NOT_IN_SPACE' }),
          },
        ],
      },
    };
  }

  private update(b: any, problems: string[], fail: (s: number, c: string) => any): Record<string, unknown> {
    const card = this.cards.get(b.outTrackId);
    if (!card) {
      if (typeof b.outTrackId !== 'string' || !b.outTrackId) problems.push('outTrackId missing');
      return fail(400, 'param.cardNotExist');
    }
    if (b.userIdType !== undefined && b.userIdType !== 1 && b.userIdType !== 2) problems.push('userIdType not 1 or 2');
    const pub = b.cardData === undefined ? undefined : this.paramMap(b.cardData, 'cardData', problems);
    const priv: Record<string, Record<string, string>> = {};
    if (b.privateData !== undefined) {
      if (!b.privateData || typeof b.privateData !== 'object') problems.push('privateData is not an object');
      else
        for (const [u, v] of Object.entries(b.privateData))
          priv[u] = this.paramMap(v, `privateData.${u}`, problems) ?? {};
    }
    if (!pub && !Object.keys(priv).length) return fail(400, 'param.cardDataAndPrivateDataBothEmpty');
    const opts = this.options(b.cardUpdateOptions, problems);
    if (problems.length) return fail(400, 'param.invalid');
    this.apply(card, pub, priv, opts);
    return { success: true, result: true };
  }

  private register(b: any, problems: string[], fail: (s: number, c: string) => any): Record<string, unknown> {
    if (typeof b.callbackRouteKey !== 'string' || !b.callbackRouteKey) return fail(400, 'param.callbackRouteKeyEmpty');
    if (typeof b.callbackUrl !== 'string' || !b.callbackUrl) return fail(400, 'param.callbackUrlEmpty');
    if (b.apiSecret !== undefined && typeof b.apiSecret !== 'string') problems.push('apiSecret is not a string');
    if (b.forceUpdate !== undefined && typeof b.forceUpdate !== 'boolean') problems.push('forceUpdate not boolean');
    const had = this.routes.get(b.callbackRouteKey);
    // Without forceUpdate an existing route stays as it was, and its registration is answered (the doc's
    // second-confirmation rule).
    if (!had || b.forceUpdate === true)
      this.routes.set(b.callbackRouteKey, { url: b.callbackUrl, apiSecret: b.apiSecret });
    const now = this.routes.get(b.callbackRouteKey)!;
    return { success: true, result: { callbackUrl: now.url, apiSecret: now.apiSecret } };
  }

  /** `{cardParamMap: {…}}` with the template's variables, string values, ≤ 1 KB each. */
  private paramMap(v: any, where: string, problems: string[]): Record<string, string> | undefined {
    const map = v?.cardParamMap;
    if (!map || typeof map !== 'object' || Array.isArray(map)) {
      problems.push(`${where}.cardParamMap missing`);
      return undefined;
    }
    for (const [k, x] of Object.entries(map)) {
      if (!variables.has(k)) problems.push(`${where}: ${k} is not a variable of the template`);
      if (typeof x !== 'string') problems.push(`${where}: ${k} is not a string`);
      else if (Buffer.byteLength(x) > 1024) problems.push(`${where}: ${k} is over 1 KB`);
      if (k.endsWith('_show') && x !== 'true' && x !== 'false') problems.push(`${where}: ${k} is not "true"/"false"`);
    }
    return map as Record<string, string>;
  }

  private options(o: any, problems: string[]): { data: boolean; priv: boolean } {
    if (o === undefined) return { data: false, priv: false };
    for (const k of Object.keys(o ?? {}))
      if (!['updateCardDataByKey', 'updatePrivateDataByKey'].includes(k) || typeof o[k] !== 'boolean')
        problems.push(`cardUpdateOptions.${k}`);
    return { data: o?.updateCardDataByKey === true, priv: o?.updatePrivateDataByKey === true };
  }

  /** By key: merged; otherwise the map is replaced (the doc's 覆盖更新). */
  private apply(
    card: FakeCard,
    pub: Record<string, string> | undefined,
    priv: Record<string, Record<string, string>>,
    opts: { data: boolean; priv: boolean },
  ): void {
    if (pub) card.public = opts.data ? { ...card.public, ...pub } : { ...pub };
    for (const [u, m] of Object.entries(priv)) card.private[u] = opts.priv ? { ...card.private[u], ...m } : { ...m };
    card.updates++;
  }

  // ---- a person tapping a button -------------------------------------------------------------------------------

  /** The callback DingTalk sends when `userId` taps button slot `slot` (1-based) as they see it. */
  clickPayload(outTrackId: string, userId: string, slot: number): Record<string, unknown> {
    const card = this.cards.get(outTrackId);
    if (!card) throw new Error(`fake card platform: no card ${outTrackId}`);
    const seen = this.view(card, userId);
    if (seen[`btn${slot}_show`] !== 'true') throw new Error(`fake card platform: ${userId} sees no button ${slot}`);
    return {
      type: 'actionCallback',
      outTrackId,
      corpId: 'dingcorp0001',
      userId,
      userIdType: 1,
      spaceType: card.space,
      spaceId: card.spaceId,
      extension: '{}',
      content: JSON.stringify({
        cardPrivateData: { actionIds: [`btn${slot}`], params: { key: seen[`btn${slot}_key`] } },
      }),
    };
  }

  /**
   * Over HTTP: to the URL registered for the card's route (or `url`, the service's address in a test), signed with
   * the registered apiSecret. The answer is applied to the card when it is a 200.
   */
  async clickOverHttp(
    outTrackId: string,
    userId: string,
    slot: number,
    o: { url?: string; timestamp?: number; secret?: string; payload?: Record<string, unknown> } = {},
  ): Promise<ClickResult> {
    const card = this.cards.get(outTrackId);
    if (!card) throw new Error(`fake card platform: no card ${outTrackId}`);
    if (card.callbackType !== 'HTTP') throw new Error(`card ${outTrackId} was created with ${card.callbackType}`);
    const route = this.routes.get(card.routeKey ?? '');
    if (!route) throw new Error(`fake card platform: route ${card.routeKey} was never registered`);
    const payload = o.payload ?? this.clickPayload(outTrackId, userId, slot);
    const ts = String(o.timestamp ?? Date.now());
    const secret = o.secret ?? route.apiSecret;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (secret) {
      headers['x-ddpaas-signature-timestamp'] = ts;
      headers['x-ddpaas-signature'] = createHmac('sha256', secret).update(ts).digest('base64');
    }
    const res = await fetch(o.url ?? route.url, { method: 'POST', headers, body: JSON.stringify(payload) });
    const text = await res.text();
    let answer: any;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = text;
    }
    if (res.status === 200) this.answered(card, userId, answer, 'HTTP answer');
    return { status: res.status, answer };
  }

  /** Over Stream: pushed on the card topic; resolves with the ACK's response once it came, applied to the card. */
  async clickOverStream(gw: FakeStreamGateway, outTrackId: string, userId: string, slot: number): Promise<ClickResult> {
    const card = this.cards.get(outTrackId);
    if (!card) throw new Error(`fake card platform: no card ${outTrackId}`);
    if (card.callbackType !== 'STREAM') throw new Error(`card ${outTrackId} was created with ${card.callbackType}`);
    const push = gw.push(this.clickPayload(outTrackId, userId, slot), { topic: CARD_TOPIC });
    await gw.until('the card click ACKed', () => gw.acked(push));
    const ack = gw.acks.find((a) => a.push === push)!;
    const answer = JSON.parse(ack.frame.data).response;
    if (ack.code === 200) this.answered(card, userId, answer, 'Stream ACK response');
    return { status: ack.code, answer };
  }

  /** The answer to a click (event-callback-card, 事件回调响应): checked, then applied as an update by the clicker. */
  private answered(card: FakeCard, userId: string, a: any, where: string): void {
    const problems: string[] = [];
    if (!a || typeof a !== 'object' || Array.isArray(a)) problems.push(`${where} is not an object`);
    else {
      for (const k of Object.keys(a))
        if (!['cardData', 'userPrivateData', 'cardUpdateOptions'].includes(k)) problems.push(`${where}: unknown ${k}`);
      const pub = a.cardData === undefined ? undefined : this.paramMap(a.cardData, `${where}.cardData`, problems);
      const own =
        a.userPrivateData === undefined
          ? undefined
          : this.paramMap(a.userPrivateData, `${where}.userPrivateData`, problems);
      const opts = this.options(a.cardUpdateOptions, problems);
      if (!problems.length) this.apply(card, pub, own ? { [userId]: own } : {}, opts);
    }
    this.d.record({
      kind: 'cardClick',
      path: card.outTrackId,
      headers: {},
      body: a,
      status: 200,
      code: '',
      violations: problems,
      at: Date.now(),
    });
  }
}
