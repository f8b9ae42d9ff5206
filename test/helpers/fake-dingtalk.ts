// A local HTTP server that plays the DingTalk APIs the robot calls, strict about the documented request shape:
// the app access token (POST /v1.0/oauth2/accessToken), group messages (POST /v1.0/robot/groupMessages/send),
// 1:1 messages (POST /v1.0/robot/oToMessages/batchSend, at most 20 userIds) and a message's sessionWebhook
// (https://open.dingtalk.com/document/orgapp/receive-message, …/the-robot-sends-a-group-message,
// …/chatbots-send-one-on-one-chat-messages-in-batches). Every request is recorded; every shape problem becomes a
// string in `violations` and is answered as DingTalk would (HTTP 400 with `{code, message}`, or `{errcode}` on a
// sessionWebhook). Not violations: an expired session (300001), unknown staffIds (reported back in
// invalidStaffIdList) and failures injected with failNext — the world misbehaving, which tests read from `code`.
// It also signs robot callbacks (the `timestamp` / `sign` headers) as DingTalk does when it posts to the service.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface FakeDingtalkOptions {
  appKey: string;
  appSecret: string;
  robotCode: string;
  /** Conversations the robot is in; a group send elsewhere is refused (robotCode.notExsit, "机器人是否在群内"). */
  conversations?: string[];
  /** staffIds in the app's visible range; others come back in invalidStaffIdList. */
  staff?: string[];
  tokenTtlSeconds?: number; // expireIn (default 7200)
  /** Another fake behind the same DINGTALK_API_BASE (the Stream gateway, fake-dingtalk-stream.ts): its paths are its. */
  mounted?: MountedFake;
}

export interface MountedFake {
  handles(path: string): boolean;
  http(req: IncomingMessage, res: ServerResponse, raw: string): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export type DingKind = 'accessToken' | 'groupSend' | 'batchSend' | 'session' | 'unknown';

export interface DingRecorded {
  kind: DingKind;
  path: string;
  headers: Record<string, string | undefined>;
  body: any;
  /** the sessionWebhook's session key (session calls) */
  session?: string;
  /** msgParam parsed (robot API sends) */
  param?: any;
  status: number;
  /** the error code answered ('' when it went through); a sessionWebhook's errcode as a string */
  code: string;
  violations: string[];
  at: number;
}

export interface FakeDingtalk {
  url: string; // DINGTALK_API_BASE
  requests: DingRecorded[];
  /** A sessionWebhook as a callback carries it, working until `expiresAt` (ms). */
  mintSessionWebhook(expiresAt?: number): { url: string; expiresAt: number };
  waitFor(pred: (r: DingRecorded) => boolean, timeoutMs?: number): Promise<DingRecorded>;
  waitForCount(pred: (r: DingRecorded) => boolean, n: number, timeoutMs?: number): Promise<DingRecorded[]>;
  violations(): DingRecorded[];
  /** Answer the next N requests of that kind with this HTTP status and code (nothing is delivered). */
  failNext(kind: DingKind, status: number, code: string, times?: number): void;
  /** Tokens issued so far now answer InvalidAuthentication. */
  revokeTokens(): void;
  /** Tokens issued so far. */
  tokensIssued(): number;
  close(): Promise<void>;
}

/** msgKey → the msgParam fields it needs (robot-message-types). */
const CATALOG: Record<string, string[]> = {
  sampleText: ['content'],
  sampleMarkdown: ['title', 'text'],
  sampleImageMsg: ['photoURL'],
  sampleLink: ['text', 'title', 'picUrl', 'messageUrl'],
  sampleActionCard: ['title', 'text', 'singleTitle', 'singleURL'],
};

export async function startFakeDingtalk(o: FakeDingtalkOptions): Promise<FakeDingtalk> {
  const requests: DingRecorded[] = [];
  const tokens = new Map<string, { until: number; revoked: boolean }>();
  const sessions = new Map<string, number>();
  const failures = new Map<DingKind, { status: number; code: string; left: number }[]>();
  const waiters = new Set<{ pred: (r: DingRecorded) => boolean; n: number; resolve: (r: DingRecorded[]) => void }>();
  const sockets = new Set<Socket>();

  function record(r: DingRecorded) {
    requests.push(r);
    for (const w of [...waiters]) {
      const hits = requests.filter(w.pred);
      if (hits.length >= w.n) {
        waiters.delete(w);
        w.resolve(hits.slice(0, w.n));
      }
    }
  }

  function takeFailure(kind: DingKind) {
    const q = failures.get(kind);
    const f = q?.[0];
    if (!f) return undefined;
    if (--f.left <= 0) q!.shift();
    return f;
  }

  function checkToken(headers: IncomingMessage['headers'], problems: string[]): string | undefined {
    const t = headers['x-acs-dingtalk-access-token'];
    if (typeof t !== 'string' || !t) {
      problems.push('no x-acs-dingtalk-access-token header');
      return 'AuthenticationFailed.MissingParameter';
    }
    const known = tokens.get(t);
    if (!known) {
      problems.push('unknown access token');
      return 'InvalidAuthentication';
    }
    if (known.revoked || known.until < Date.now()) return 'InvalidAuthentication'; // expired: the world, not us
    return undefined;
  }

  function checkMessage(body: any, problems: string[]): any {
    if (typeof body.msgKey !== 'string' || !CATALOG[body.msgKey]) {
      problems.push(`msgKey ${JSON.stringify(body.msgKey)} is not in the catalog`);
      return undefined;
    }
    if (typeof body.msgParam !== 'string') {
      problems.push('msgParam must be a JSON string');
      return undefined;
    }
    if (Buffer.byteLength(body.msgParam) > 15_000) problems.push('msgParam over 15 000 bytes');
    let param: any;
    try {
      param = JSON.parse(body.msgParam);
    } catch {
      problems.push('msgParam is not JSON');
      return undefined;
    }
    for (const f of CATALOG[body.msgKey])
      if (typeof param?.[f] !== 'string' || !param[f]) problems.push(`msgParam.${f} missing for ${body.msgKey}`);
    return param;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://x');
    if (o.mounted?.handles(u.pathname)) return o.mounted.http(req, res, raw);
    const problems: string[] = [];
    let body: any = {};
    if (req.method !== 'POST') problems.push(`method ${req.method}, want POST`);
    if (!/application\/json/.test(String(req.headers['content-type']))) problems.push('content-type is not JSON');
    try {
      body = JSON.parse(raw);
    } catch {
      problems.push('body is not JSON');
    }
    const kind: DingKind =
      u.pathname === '/v1.0/oauth2/accessToken'
        ? 'accessToken'
        : u.pathname === '/v1.0/robot/groupMessages/send'
          ? 'groupSend'
          : u.pathname === '/v1.0/robot/oToMessages/batchSend'
            ? 'batchSend'
            : u.pathname === '/robot/sendBySession'
              ? 'session'
              : 'unknown';
    let status = 200;
    let answer: Record<string, unknown> = {};
    let code = '';
    let param: any;
    const fail = (s: number, c: string, message: string) => {
      status = s;
      code = c;
      answer = { code: c, message, requestid: randomBytes(8).toString('hex') };
    };
    const injected = kind === 'unknown' ? undefined : takeFailure(kind);
    if (kind === 'unknown') {
      problems.push(`no such API: ${u.pathname}`);
      fail(404, 'InvalidAction.NotFound', 'not found');
    } else if (kind === 'accessToken') {
      if (typeof body.appKey !== 'string' || typeof body.appSecret !== 'string')
        problems.push('accessToken body needs appKey and appSecret');
      if (injected) fail(injected.status, injected.code, 'injected');
      else if (body.appKey !== o.appKey || body.appSecret !== o.appSecret)
        fail(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
      else {
        const t = randomBytes(16).toString('hex');
        const ttl = o.tokenTtlSeconds ?? 7200;
        tokens.set(t, { until: Date.now() + ttl * 1000, revoked: false });
        answer = { accessToken: t, expireIn: ttl };
      }
    } else if (kind === 'session') {
      const session = u.searchParams.get('session') ?? '';
      const until = sessions.get(session);
      const mt = body.msgtype;
      if (mt === 'text') {
        if (typeof body.text?.content !== 'string' || !body.text.content) problems.push('text.content missing');
      } else if (mt === 'markdown') {
        if (typeof body.markdown?.title !== 'string' || !body.markdown.title) problems.push('markdown.title missing');
        if (typeof body.markdown?.text !== 'string' || !body.markdown.text) problems.push('markdown.text missing');
      } else problems.push(`sessionWebhook msgtype ${JSON.stringify(mt)}: text or markdown only`);
      if (
        body.at !== undefined &&
        (typeof body.at !== 'object' || (body.at.atUserIds && !Array.isArray(body.at.atUserIds)))
      )
        problems.push('at.atUserIds must be an array');
      if (Buffer.byteLength(raw) > 20_000) problems.push('sessionWebhook body over 20 000 bytes');
      if (injected) answer = { errcode: Number(injected.code), errmsg: 'injected' };
      else if (until === undefined || until < Date.now()) answer = { errcode: 300001, errmsg: 'session 不存在' };
      else answer = { errcode: 0, errmsg: 'ok' };
      code = answer.errcode === 0 ? '' : String(answer.errcode);
    } else {
      const bad = checkToken(req.headers, problems);
      if (body.robotCode !== o.robotCode) problems.push(`robotCode ${JSON.stringify(body.robotCode)} is not ours`);
      param = checkMessage(body, problems);
      if (kind === 'groupSend') {
        if (typeof body.openConversationId !== 'string' || !body.openConversationId)
          problems.push('openConversationId missing');
      } else {
        if (!Array.isArray(body.userIds) || body.userIds.length === 0) problems.push('userIds missing or empty');
        else if (body.userIds.length > 20) problems.push(`userIds has ${body.userIds.length}, at most 20`);
      }
      if (bad) fail(bad === 'InvalidAuthentication' ? 401 : 400, bad, '不合法的access_token');
      else if (injected) fail(injected.status, injected.code, 'injected');
      else if (kind === 'batchSend' && Array.isArray(body.userIds) && body.userIds.length > 20)
        fail(400, 'invalidParameter.userIds.overMax', 'userIds over 20');
      else if (problems.length) fail(400, 'invalidParameter.param.invalid', problems.join('; '));
      else if (kind === 'groupSend' && o.conversations && !o.conversations.includes(body.openConversationId))
        fail(400, 'invalidParameter.robotCode.notExsit', '请检查机器人是否在群内');
      else if (kind === 'groupSend') answer = { processQueryKey: randomBytes(10).toString('base64') };
      else
        answer = {
          processQueryKey: randomBytes(10).toString('base64'),
          invalidStaffIdList: o.staff ? body.userIds.filter((x: string) => !o.staff!.includes(x)) : [],
          flowControlledStaffIdList: [],
        };
    }
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
    const session = kind === 'session' ? (u.searchParams.get('session') ?? '') : undefined;
    record({
      kind,
      path: u.pathname,
      headers,
      body,
      session,
      param,
      status,
      code,
      violations: problems,
      at: Date.now(),
    });
    const payload = JSON.stringify(answer);
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    res.end(payload);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake-dingtalk crashed: ${(e as Error).stack}`);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    if (o.mounted) o.mounted.upgrade(req, socket, head);
    else socket.destroy();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function waitForCount(pred: (r: DingRecorded) => boolean, n: number, timeoutMs = 5000): Promise<DingRecorded[]> {
    return new Promise((resolve, reject) => {
      const hits = requests.filter(pred);
      if (hits.length >= n) return resolve(hits.slice(0, n));
      const timer = setTimeout(() => {
        waiters.delete(w);
        const seen = requests.map((r) => `${r.kind} ${r.status}${r.code ? ` ${r.code}` : ''}`).join(', ') || 'none';
        reject(
          new Error(
            `fake-dingtalk: ${requests.filter(pred).length}/${n} matching after ${timeoutMs} ms (seen: ${seen})`,
          ),
        );
      }, timeoutMs);
      const w = {
        pred,
        n,
        resolve: (r: DingRecorded[]) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      waiters.add(w);
    });
  }

  return {
    url,
    requests,
    mintSessionWebhook(expiresAt = Date.now() + 90 * 60_000) {
      const session = randomBytes(16).toString('hex');
      sessions.set(session, expiresAt);
      return { url: `${url}/robot/sendBySession?session=${session}`, expiresAt };
    },
    waitFor: (pred, timeoutMs) => waitForCount(pred, 1, timeoutMs).then((r) => r[0]),
    waitForCount,
    violations: () => requests.filter((r) => r.violations.length > 0),
    failNext(kind, status, code, times = 1) {
      const q = failures.get(kind) ?? [];
      q.push({ status, code, left: times });
      failures.set(kind, q);
    },
    revokeTokens() {
      for (const t of tokens.values()) t.revoked = true;
    },
    tokensIssued: () => tokens.size,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- the callbacks DingTalk posts to the service -------------------------------------------------------------

/** The `timestamp` and `sign` headers of a robot callback (HTTP mode). */
export function signedHeaders(appSecret: string, timestamp = Date.now()): Record<string, string> {
  const ts = String(timestamp);
  return {
    'content-type': 'application/json; charset=utf-8',
    timestamp: ts,
    sign: createHmac('sha256', appSecret).update(`${ts}\n${appSecret}`).digest('base64'),
  };
}

export interface RobotTextOptions {
  staffId: string;
  text: string;
  conversationId: string;
  group?: boolean;
  msgId?: string;
  robotCode: string;
  session?: { url: string; expiresAt: number };
  msgtype?: 'text' | 'richText';
}

/** A robot message body as DingTalk posts it (receive-message): in a group the @name is gone, a space stays. */
export function robotMessage(o: RobotTextOptions): Record<string, unknown> {
  const now = Date.now();
  const group = o.group ?? true;
  const body: Record<string, unknown> = {
    conversationId: o.conversationId,
    atUsers: group ? [{ dingtalkId: '$:LWCP_v1:$robot' }] : [],
    chatbotCorpId: 'dingcorp0001',
    chatbotUserId: '$:LWCP_v1:$robot',
    msgId: o.msgId ?? `msg${randomBytes(12).toString('base64')}`,
    senderNick: o.staffId,
    isAdmin: false,
    senderStaffId: o.staffId,
    sessionWebhookExpiredTime: o.session?.expiresAt ?? now + 90 * 60_000,
    createAt: now,
    senderCorpId: 'dingcorp0001',
    conversationType: group ? '2' : '1',
    senderId: `$:LWCP_v1:$${o.staffId}`,
    isInAtList: group,
    sessionWebhook: o.session?.url ?? 'https://oapi.dingtalk.com/robot/sendBySession?session=unused',
    robotCode: o.robotCode,
    msgtype: o.msgtype ?? 'text',
  };
  if (group) body.conversationTitle = '测试群';
  if ((o.msgtype ?? 'text') === 'text') body.text = { content: ` ${o.text}` };
  else body.content = { richText: [{ text: o.text }] };
  return body;
}
