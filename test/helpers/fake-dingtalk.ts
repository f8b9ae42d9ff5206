// A local HTTP server that plays the DingTalk APIs the robot calls, strict about the documented request shape:
// the app access token (POST /v1.0/oauth2/accessToken), group messages (POST /v1.0/robot/groupMessages/send),
// 1:1 messages (POST /v1.0/robot/oToMessages/batchSend, at most 20 userIds) and a message's sessionWebhook
// (https://open.dingtalk.com/document/orgapp/receive-message, …/the-robot-sends-a-group-message,
// …/chatbots-send-one-on-one-chat-messages-in-batches). Every request is recorded; every shape problem becomes a
// string in `violations` and is answered as DingTalk would (HTTP 400 with `{code, message}`, or `{errcode}` on a
// sessionWebhook). Not violations: an expired session (300001), unknown staffIds (reported back in
// invalidStaffIdList) and failures injected with failNext — the world misbehaving, which tests read from `code`.
// It also signs robot callbacks (the `timestamp` / `sign` headers) as DingTalk does when it posts to the service.
//
// Pictures: oapi `POST /media/upload` (multipart, field `media`, type image) issues media_ids that `sampleImageMsg`
// must name; `POST /v1.0/robot/messageFiles/download` turns a picture's downloadCode (pictureCode()) into a link
// served by `GET /files/<id>`. Custom robots (`POST /robot/send?access_token=`, custom-robots-send-group-messages):
// the `timestamp` / `sign` query checked as DingTalk does (HMAC-SHA256 of timestamp + "\n" + secret, ±1 hour), and
// 20 accepted messages per window (a minute, shorter in tests): the next is answered 130101 and the robot stays
// blocked for `robotBlockMs` (ten minutes at DingTalk). Interactive cards (`/v1.0/card/*`, and a person tapping a
// card's button over HTTP or Stream) are played by fake-dingtalk-cards.ts, reachable as `cards`.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseMultipart } from './fake-wecom.js';
import { type CardKind, FakeCardPlatform } from './fake-dingtalk-cards.js';
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
  /** Custom robots by access_token, with their 加签 secret (SEC…) when they have one. */
  robots?: { token: string; secret?: string }[];
  /** A custom robot's counting window (default 60 000 ms) and block after the 21st message (default 10 windows). */
  robotWindowMs?: number;
  robotBlockMs?: number;
  /** The card template the admin imported (its variables are the shipped file's); cards with another id are refused. */
  cardTemplateId?: string;
  /** Another fake behind the same DINGTALK_API_BASE (the Stream gateway, fake-dingtalk-stream.ts): its paths are its. */
  mounted?: MountedFake;
}

export interface MountedFake {
  handles(path: string): boolean;
  http(req: IncomingMessage, res: ServerResponse, raw: string): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** A custom robot's messages per window (dingtalk.md §3.3). */
export const ROBOT_LIMIT = 20;

export type DingKind =
  | 'accessToken'
  | 'groupSend'
  | 'batchSend'
  | 'session'
  | 'robotSend'
  | 'mediaUpload'
  | 'fileDownload'
  | 'file'
  | CardKind
  | 'unknown';

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
  /** a custom robot's access_token (robotSend) */
  token?: string;
  /** the query string as sent, undecoded (robotSend: access_token, timestamp, sign) */
  query?: string;
  /** media/upload: the file part as received and the media_id issued */
  media?: Uploaded;
  violations: string[];
  at: number;
}

export interface Uploaded {
  filename?: string;
  contentType?: string;
  data: Buffer;
  mediaId?: string;
}

export interface FakeDingtalk {
  url: string; // DINGTALK_API_BASE and DINGTALK_OAPI_BASE
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
  /** A custom robot's Webhook address, as its group settings show it. */
  robotWebhook(token: string): string;
  /** What media/upload took under this media_id. */
  uploaded(mediaId: string): Uploaded | undefined;
  /** A picture someone sent the robot: the downloadCode its message carries. */
  pictureCode(bytes: Buffer, contentType?: string): string;
  /** The card platform: cards as they stand, and people tapping their buttons. */
  cards: FakeCardPlatform;
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
  const robots = new Map((o.robots ?? []).map((r) => [r.token, { ...r, sent: [] as number[], blockedUntil: 0 }]));
  const robotWindowMs = o.robotWindowMs ?? 60_000;
  const robotBlockMs = o.robotBlockMs ?? 10 * robotWindowMs;
  const uploads = new Map<string, Uploaded>();
  const pictures = new Map<string, { bytes: Buffer; contentType: string }>();
  const files = new Map<string, { bytes: Buffer; contentType: string }>();

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
    // The picture is a media_id from media/upload, or a URL the client can load.
    const photo = param?.photoURL;
    if (
      body.msgKey === 'sampleImageMsg' &&
      typeof photo === 'string' &&
      !uploads.has(photo) &&
      !/^https?:\/\//.test(photo)
    )
      problems.push(`photoURL ${JSON.stringify(photo)} is neither an uploaded media_id nor a URL`);
    return param;
  }

  const cards = new FakeCardPlatform({
    templateId: o.cardTemplateId,
    robotCode: o.robotCode,
    conversations: o.conversations,
    staff: o.staff,
    checkToken,
    takeFailure,
    record,
  });

  function headersOf(req: IncomingMessage): Record<string, string | undefined> {
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(',') : v;
    return headers;
  }

  function answerJson(res: ServerResponse, status: number, answer: unknown) {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8' });
    res.end(JSON.stringify(answer));
  }

  /** GET /files/<id>: a picture's bytes, as the downloadUrl of messageFiles/download points to. */
  function serveFile(req: IncomingMessage, u: URL, res: ServerResponse) {
    const f = files.get(u.pathname.slice('/files/'.length));
    const problems = req.method === 'GET' ? [] : [`method ${req.method}, want GET`];
    record({
      kind: 'file',
      path: u.pathname,
      headers: headersOf(req),
      body: undefined,
      status: f ? 200 : 404,
      code: f ? '' : '404',
      violations: problems,
      at: Date.now(),
    });
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': f.contentType, 'content-length': String(f.bytes.length) });
    res.end(f.bytes);
  }

  /**
   * oapi POST /media/upload?access_token=&type=image (upload-media-files): multipart/form-data, the file in `media`,
   * `type` in the form (or the query). Images: jpg, gif, png, bmp up to 20 MB. Errors as oapi answers them.
   */
  function mediaUpload(req: IncomingMessage, u: URL, raw: Buffer, res: ServerResponse) {
    const problems: string[] = [];
    let answer: Record<string, unknown>;
    let media: Uploaded | undefined;
    const injected = takeFailure('mediaUpload');
    const token = u.searchParams.get('access_token') ?? '';
    const known = tokens.get(token);
    const ct = String(req.headers['content-type'] ?? '');
    const boundary = /^multipart\/form-data\s*;.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(ct);
    const parts = boundary ? parseMultipart(raw, boundary[1] ?? boundary[2]) : null;
    const file = parts?.find((p) => p.name === 'media');
    const type = parts?.find((p) => p.name === 'type')?.data.toString('utf8') ?? u.searchParams.get('type');
    if (req.method !== 'POST') problems.push(`method ${req.method}, want POST`);
    if (!known) {
      if (!token) problems.push('media/upload without access_token');
      else problems.push('unknown access token');
      answer = { errcode: 88, sub_code: '40014', errmsg: '不合法的access_token' };
    } else if (known.revoked || known.until < Date.now()) {
      answer = { errcode: 88, sub_code: '40014', errmsg: '不合法的access_token' };
    } else if (!parts) {
      problems.push('body is not multipart/form-data');
      answer = { errcode: 43008, errmsg: '参数需要multipart类型' };
    } else if (!file?.filename) {
      problems.push('no file part named "media" with a filename');
      answer = { errcode: 40004, errmsg: '不合法的媒体文件类型' };
    } else if (type !== 'image' || !imageKind(file.data) || file.data.length > 20 * 1024 * 1024) {
      problems.push(`type ${JSON.stringify(type)} with ${file.data.length} bytes is not an image DingTalk takes`);
      answer = { errcode: 40004, errmsg: '不合法的媒体文件类型' };
    } else if (injected) {
      answer = { errcode: Number(injected.code), errmsg: 'injected' };
    } else {
      const mediaId = `@lADP${randomBytes(12).toString('base64url')}`;
      media = { filename: file.filename, contentType: file.contentType, data: Buffer.from(file.data), mediaId };
      uploads.set(mediaId, media);
      answer = { errcode: 0, errmsg: 'ok', type: 'image', media_id: mediaId, created_at: Date.now() };
    }
    if (!media && file)
      media = { filename: file.filename, contentType: file.contentType, data: Buffer.from(file.data) };
    const status = injected && injected.status !== 200 ? injected.status : 200;
    record({
      kind: 'mediaUpload',
      path: u.pathname,
      headers: headersOf(req),
      body: { type },
      media,
      status,
      code: answer.errcode === 0 ? '' : String(answer.errcode),
      violations: problems,
      at: Date.now(),
    });
    answerJson(res, status, answer);
  }

  /**
   * POST /robot/send?access_token=&timestamp=&sign= — a custom robot. The sign is checked as DingTalk does, from the
   * query as decoded once (an unencoded "+" becomes a space, a doubly encoded one stays "%2B": both fail).
   */
  function robotSend(req: IncomingMessage, u: URL, raw: string, res: ServerResponse) {
    const problems: string[] = [];
    const now = Date.now();
    const token = u.searchParams.get('access_token') ?? '';
    const robot = robots.get(token);
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      problems.push('body is not JSON');
    }
    if (req.method !== 'POST') problems.push(`method ${req.method}, want POST`);
    if (!/application\/json/.test(String(req.headers['content-type']))) problems.push('content-type is not JSON');
    checkRobotBody(body, raw, problems);
    let answer: { errcode: number; errmsg: string };
    const injected = takeFailure('robotSend');
    const ok = { errcode: 0, errmsg: 'ok' };
    if (!robot) {
      problems.push('unknown custom robot token');
      answer = { errcode: 300001, errmsg: 'token is not exist' };
    } else if (robot.secret && !validSign(u, robot.secret)) {
      problems.push('sign does not match');
      answer = {
        errcode: 310000,
        errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]',
      };
    } else if (robot.secret && Math.abs(now - Number(u.searchParams.get('timestamp'))) > 3_600_000) {
      problems.push('timestamp more than an hour away');
      answer = { errcode: 310000, errmsg: 'invalid timestamp' };
    } else if (Buffer.byteLength(raw) > 20_000) {
      answer = { errcode: 460101, errmsg: 'body 大小不合法' };
    } else if (problems.length) {
      answer = { errcode: 40035, errmsg: `缺少参数 ${problems.join('; ')}` };
    } else if (injected) {
      answer = { errcode: Number(injected.code), errmsg: 'injected' };
    } else {
      robot.sent = robot.sent.filter((t) => t > now - robotWindowMs);
      if (now < robot.blockedUntil || robot.sent.length >= ROBOT_LIMIT) {
        if (now >= robot.blockedUntil) robot.blockedUntil = now + robotBlockMs;
        answer = { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' };
      } else {
        robot.sent.push(now);
        answer = ok;
      }
    }
    record({
      kind: 'robotSend',
      path: u.pathname,
      headers: headersOf(req),
      body,
      token,
      query: (req.url ?? '').split('?')[1] ?? '',
      status: 200,
      code: answer.errcode === 0 ? '' : String(answer.errcode),
      violations: problems,
      at: now,
    });
    answerJson(res, 200, answer);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBytes = Buffer.concat(chunks);
    const raw = rawBytes.toString('utf8');
    const u = new URL(req.url ?? '/', 'http://x');
    if (o.mounted?.handles(u.pathname)) return o.mounted.http(req, res, raw);
    if (u.pathname.startsWith('/files/')) return serveFile(req, u, res);
    if (u.pathname === '/media/upload') return mediaUpload(req, u, rawBytes, res);
    if (u.pathname === '/robot/send') return robotSend(req, u, raw, res);
    if (cards.handles(u.pathname)) return cards.http(req, res, raw, u.pathname);
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
              : u.pathname === '/v1.0/robot/messageFiles/download'
                ? 'fileDownload'
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
    } else if (kind === 'fileDownload') {
      // download-the-file-content-of-the-robot-receiving-message: {downloadCode, robotCode} → {downloadUrl}.
      const bad = checkToken(req.headers, problems);
      if (body.robotCode !== o.robotCode) problems.push(`robotCode ${JSON.stringify(body.robotCode)} is not ours`);
      if (typeof body.downloadCode !== 'string' || !body.downloadCode) problems.push('downloadCode missing');
      const picture = pictures.get(body.downloadCode);
      if (bad) fail(bad === 'InvalidAuthentication' ? 401 : 400, bad, '不合法的access_token');
      else if (injected) fail(injected.status, injected.code, 'injected');
      else if (problems.length) fail(400, 'invalidParameter.param.invalid', problems.join('; '));
      else if (!picture)
        fail(400, 'invalidParameter.downloadCode.invalid', 'downloadCode 无效'); // code: UNCONFIRMED
      else {
        const id = randomBytes(12).toString('hex');
        files.set(id, picture);
        answer = { downloadUrl: `${url}/files/${id}` };
      }
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
    robotWebhook: (token) => `${url}/robot/send?access_token=${token}`,
    uploaded: (mediaId) => uploads.get(mediaId),
    cards,
    pictureCode(bytes, contentType = 'image/png') {
      const code = `${randomBytes(90).toString('base64')}+/=`; // long, with the characters real codes carry
      pictures.set(code, { bytes, contentType });
      return code;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The sign a custom robot request carries, against the one its secret makes (constant time, as we verify). */
function validSign(u: URL, secret: string): boolean {
  const ts = u.searchParams.get('timestamp');
  const sign = u.searchParams.get('sign');
  if (!ts || !sign || !/^\d{1,16}$/.test(ts)) return false;
  const want = Buffer.from(createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64'));
  const got = Buffer.from(sign);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A custom robot's body (custom-robots-send-group-messages, robot-message-type). */
function checkRobotBody(body: any, raw: string, problems: string[]): void {
  if (!body || typeof body !== 'object') return;
  const mt = body.msgtype;
  if (mt === 'text') {
    if (typeof body.text?.content !== 'string' || !body.text.content) problems.push('text.content missing');
  } else if (mt === 'markdown') {
    if (typeof body.markdown?.title !== 'string' || !body.markdown.title) problems.push('markdown.title missing');
    if (typeof body.markdown?.text !== 'string' || !body.markdown.text) problems.push('markdown.text missing');
  } else if (!['link', 'actionCard', 'feedCard'].includes(mt)) problems.push(`msgtype ${JSON.stringify(mt)}`);
  if (
    body.at !== undefined &&
    (typeof body.at !== 'object' || (body.at.atUserIds && !Array.isArray(body.at.atUserIds)))
  )
    problems.push('at.atUserIds must be an array');
  if (Buffer.byteLength(raw) > 20_000) problems.push('body over 20 000 bytes');
}

/** The picture formats media/upload takes, by their first bytes. */
function imageKind(b: Buffer): string | undefined {
  if (b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length > 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png';
  if (b.length > 6 && /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1'))) return 'gif';
  if (b.length > 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return undefined;
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
  msgtype?: 'text' | 'richText' | 'picture';
  /** picture: the code fake.pictureCode() gave */
  downloadCode?: string;
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
  else if (o.msgtype === 'picture')
    body.content = { pictureDownloadCode: o.downloadCode, downloadCode: o.downloadCode };
  else body.content = { richText: [{ text: o.text }] };
  return body;
}
