// A local HTTP server that plays the WeCom server APIs we call (protocols/wecom.md §3.6, §4.4, §5), strict about
// the documented request format. Every request is recorded; every format problem becomes a string in
// `violations` and is answered with the errcode the real API would give. Where wecom.md names the code we use it;
// where it names none the code is marked "plausible" and comes from WeCom's global error-code table
// (https://developer.work.weixin.qq.com/document/path/90313) or, failing that, 40058 "invalid parameter".
//
// What counts as a violation: a malformed request or one that breaks a documented usage rule the caller controls
// (content limits, card limits, single-use codes, wrong agentid, missing token). Not violations: expired/revoked
// tokens, an unknown webhook key, throttling (45009), unknown recipients, and failures injected with failNext —
// those are the world misbehaving, and the tests look at `errcode` for them.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeWecomOptions {
  corpId: string;
  corpSecret: string;
  agentId: number;
  webhookKeys: string[]; // valid group-robot keys
  knownUsers?: string[]; // if set, message/send reports others in `invaliduser` (and still sends to the rest)
  tokenTtlSeconds?: number; // expires_in for gettoken (default 7200)
  webhookPerMinute?: number; // default 20 (the documented limit); every call counts, failures too (§7.12)
}

export type RequestKind =
  | 'gettoken'
  | 'message.send'
  | 'update_template_card'
  | 'webhook.send'
  | 'response_url'
  | 'media.upload'
  | 'media.get'
  | 'media.download'
  | 'unknown';

export interface Recorded {
  kind: RequestKind;
  method: string;
  path: string;
  query: Record<string, string>;
  body: any;
  rawBody: string;
  at: number;
  errcode: number;
  violations: string[];
  /** message/send with enable_duplicate_check whose JSON matched an earlier send in the interval: WeCom takes
   * it but does not show it again (wecom.md §5.3). */
  duplicate?: boolean;
  /** response_url called again with the reply it already took: refused (errcode set), and not a violation. */
  repeat?: boolean;
  /** media/upload: the file part as received (rawBody then only names it: multipart bodies are binary). */
  media?: UploadedMedia;
}

export interface UploadedMedia {
  mediaId?: string; // set when the upload was taken
  type: string; // image | voice | video | file
  filename: string;
  contentType: string;
  bytes: number;
  md5: string;
  data: Buffer;
}

export interface MintResponseUrlOptions {
  /** The chat type of the callback that carried this response_url. With 'group', a template_card reply is a
   * violation: the 2025-12 doc mirror says template_card via response_url works in single chats only (§3.6,
   * UNCONFIRMED upstream, so it is opt-in). */
  chattype?: 'group' | 'single';
}

export interface FakeWecom {
  url: string; // http://127.0.0.1:<random port>, used as WECOM_API_BASE
  requests: Recorded[];
  /** A fresh AI-bot response_url on this server (one use, like the real one). */
  mintResponseUrl(opts?: MintResponseUrlOptions): string;
  /** A response_code as an app card click would carry (usable once with update_template_card). */
  mintClickResponseCode(): string;
  /** Resolves on a past or future match. */
  waitFor(pred: (r: Recorded) => boolean, timeoutMs?: number): Promise<Recorded>;
  /** Resolves with the first n matches once there are n (past or future). */
  waitForCount(pred: (r: Recorded) => boolean, n: number, timeoutMs?: number): Promise<Recorded[]>;
  /** Every request that broke the documented format. */
  violations(): Recorded[];
  /** Answer the next N requests of that kind with that errcode (e.g. -1, 45009, 40014); nothing is committed. */
  failNext(kind: RequestKind, errcode: number, times?: number): void;
  /** Delay the answers to the next N requests of that kind (the request itself is processed at once). */
  holdNext(kind: RequestKind, ms: number, times?: number): void;
  /** Tokens issued so far now give 42001. */
  revokeTokens(): void;
  /** A file taken by media/upload, by its media_id. */
  uploaded(mediaId: string): UploadedMedia | undefined;
  /**
   * A picture as an AI-bot callback links it (wecom.md §3.2): the returned URL serves `data` AES-256-CBC encrypted
   * with `aesKey` (the callback's EncodingAESKey; IV = the key's first 16 bytes, PKCS#7 to 32-byte blocks) for
   * `ttlMs` (default 5 minutes), then answers 403 like an expired link. Without `aesKey` the bytes go as they are.
   */
  serveImage(data: Buffer, opts?: { aesKey?: string; ttlMs?: number }): string;
  /** A picture a person sent the app: its MediaId, which GET /cgi-bin/media/get then serves (valid 3 days there). */
  userMedia(data: Buffer, type?: 'image' | 'voice' | 'video' | 'file'): string;
  close(): Promise<void>;
}

// ---- error codes -------------------------------------------------------------------------------------------
const E = {
  ok: 0,
  busy: -1, // §5.6
  invalidSecret: 40001, // §5.6
  invalidCorpId: 40013, // plausible: global table "invalid corpid"
  invalidMsgType: 40008, // §5.6
  invalidToken: 40014, // §5.6
  invalidAgentId: 40056, // plausible: global table "invalid agentid"
  invalidParam: 40058, // plausible: global table "invalid parameter" — our catch-all for format problems
  missingToken: 41001, // §5.6
  tokenExpired: 42001, // §5.6
  cardAction: 42045, // §4.2 / §5.6: Template_Card.card_action missing or invalid
  requireGet: 43001, // plausible: global table "require GET method"
  requirePost: 43002, // plausible: global table "require POST method"
  emptyContent: 44004, // §5.6
  tooLong: 45002, // §5.6
  throttled: 45009, // §5.1 / §5.6
  badJson: 47001, // plausible: global table "data format error"
  allRecipientsInvalid: 81013, // §5.6
  invalidMediaType: 40004, // plausible: global table "不合法的媒体文件类型"
  invalidFileType: 40005, // plausible: global table "不合法的文件类型"
  invalidFileSize: 40006, // plausible: global table "不合法的文件大小"
  invalidMediaId: 40007, // plausible: global table "不合法的媒体文件id"
  invalidImageSize: 40009, // plausible: global table "无效的图片大小"
  invalidWebhookKey: 93000, // §5.6
} as const;

const ERRMSG: Record<number, string> = {
  [E.ok]: 'ok',
  [E.busy]: 'system busy',
  [E.invalidSecret]: 'invalid credential',
  [E.invalidCorpId]: 'invalid corpid',
  [E.invalidMsgType]: 'invalid message type',
  [E.invalidToken]: 'invalid access_token',
  [E.invalidAgentId]: 'invalid agentid',
  [E.invalidParam]: 'invalid parameter',
  [E.missingToken]: 'access_token missing',
  [E.tokenExpired]: 'access_token expired',
  [E.cardAction]: 'Template_Card.card_action missing or invalid',
  [E.requireGet]: 'require GET method',
  [E.requirePost]: 'require POST method',
  [E.emptyContent]: 'empty content',
  [E.tooLong]: 'content size out of limit',
  [E.throttled]: 'api freq out of limit',
  [E.badJson]: 'data format error',
  [E.allRecipientsInvalid]: 'all touser & toparty & totag invalid',
  [E.invalidWebhookKey]: 'invalid webhook url',
  [E.invalidMediaType]: 'invalid media type',
  [E.invalidFileType]: 'invalid file type',
  [E.invalidFileSize]: 'invalid file size',
  [E.invalidMediaId]: 'invalid media_id',
  [E.invalidImageSize]: 'invalid image size',
};

// The app's message/send msgtypes (§5.3) and the webhook's (§5.1).
const APP_MSGTYPES = new Set([
  'text',
  'image',
  'voice',
  'video',
  'file',
  'textcard',
  'news',
  'mpnews',
  'markdown',
  'miniprogram_notice',
  'template_card',
]);
const WEBHOOK_MSGTYPES = new Set([
  'text',
  'markdown',
  'markdown_v2',
  'image',
  'news',
  'file',
  'voice',
  'template_card',
]);
const CARD_TYPES = new Set([
  'text_notice',
  'news_notice',
  'button_interaction',
  'vote_interaction',
  'multiple_interaction',
]);
const INTERACTIVE_CARDS = new Set(['button_interaction', 'vote_interaction', 'multiple_interaction']);
const TASK_ID = /^[0-9a-zA-Z_\-@]{1,128}$/;
const MAX_BODY_BYTES = 4 * 1024 * 1024; // a webhook image may be 2 MB raw → ~2.7 MB of base64; anything beyond is not sane
const MAX_UPLOAD_BYTES = 21 * 1024 * 1024; // media/upload: files up to 20 MB plus the multipart framing
// media/upload limits per type (§5.5): all > 5 bytes; image 10 MB JPG/PNG, voice 2 MB AMR, video 10 MB MP4, file 20 MB.
const MEDIA_LIMITS: Record<string, number> = {
  image: 10 * 1024 * 1024,
  voice: 2 * 1024 * 1024,
  video: 10 * 1024 * 1024,
  file: 20 * 1024 * 1024,
};

// ---- small validation toolkit -------------------------------------------------------------------------------
/** A problem found in a request: what the violation says, and what the real API would answer. */
interface Problem {
  msg: string;
  errcode: number;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
/** WeCom counts card limits in characters; a Chinese character is one. Count code points, not UTF-16 units. */
const chars = (s: string) => [...s].length;
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

class Checker {
  readonly problems: Problem[] = [];
  add(msg: string, errcode: number = E.invalidParam): void {
    this.problems.push({ msg, errcode });
  }
  /** A string field with optional byte/char limits; `required` also means non-empty. */
  str(
    v: unknown,
    path: string,
    o: { required?: boolean; maxChars?: number; maxBytes?: number; emptyCode?: number; longCode?: number } = {},
  ): void {
    if (v === undefined || v === null) {
      if (o.required) this.add(`${path} is required`, o.emptyCode);
      return;
    }
    if (typeof v !== 'string') {
      this.add(`${path} must be a string (got ${typeof v})`);
      return;
    }
    if (o.required && v.length === 0) {
      this.add(`${path} must not be empty`, o.emptyCode);
      return;
    }
    if (o.maxChars !== undefined && chars(v) > o.maxChars)
      this.add(`${path} is ${chars(v)} chars, max ${o.maxChars}`, o.longCode);
    if (o.maxBytes !== undefined && bytes(v) > o.maxBytes)
      this.add(`${path} is ${bytes(v)} bytes, max ${o.maxBytes}`, o.longCode);
  }
  arr(v: unknown, path: string, o: { required?: boolean; min?: number; max?: number } = {}): any[] | undefined {
    if (v === undefined || v === null) {
      if (o.required) this.add(`${path} is required`);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.add(`${path} must be an array`);
      return undefined;
    }
    if (o.min !== undefined && v.length < o.min) this.add(`${path} has ${v.length} items, min ${o.min}`);
    if (o.max !== undefined && v.length > o.max) this.add(`${path} has ${v.length} items, max ${o.max}`);
    return v;
  }
  obj(v: unknown, path: string, required = false): Record<string, any> | undefined {
    if (v === undefined || v === null) {
      if (required) this.add(`${path} is required`);
      return undefined;
    }
    if (!isObj(v)) {
      this.add(`${path} must be an object`);
      return undefined;
    }
    return v;
  }
  stringArray(v: unknown, path: string, max?: number): void {
    const a = this.arr(v, path, { max });
    if (a?.some((x) => typeof x !== 'string')) this.add(`${path} must contain only strings`);
  }
}

/**
 * template_card per §4.1–4.2. `where` says who receives it: the app API accepts all five types, the webhook only
 * the notice cards, response_url everything the AI bot knows. `taskIdRequired` is false on update (§4.2: task_id
 * only matters when sending).
 */
function checkCard(
  c: Checker,
  card: unknown,
  path: string,
  o: { taskIdRequired: boolean; allowed: Set<string> },
): string | undefined {
  const t = c.obj(card, path, true);
  if (!t) return undefined;
  const type = t.card_type;
  if (typeof type !== 'string' || !CARD_TYPES.has(type)) {
    c.add(`${path}.card_type ${JSON.stringify(type)} is not a documented card type`);
    return undefined;
  }
  if (!o.allowed.has(type))
    c.add(`${path}.card_type ${type} is not allowed here (allowed: ${[...o.allowed].join(', ')})`);

  const interactive = INTERACTIVE_CARDS.has(type);
  const needsTaskId = (interactive && o.taskIdRequired) || t.action_menu !== undefined;
  if (t.task_id === undefined) {
    if (needsTaskId)
      c.add(`${path}.task_id is required for ${t.action_menu !== undefined ? 'a card with action_menu' : type}`);
  } else if (typeof t.task_id !== 'string' || !TASK_ID.test(t.task_id)) {
    c.add(`${path}.task_id ${JSON.stringify(t.task_id)} must match ${TASK_ID.source}`);
  }

  const source = c.obj(t.source, `${path}.source`);
  if (source && source.desc_color !== undefined && ![0, 1, 2, 3].includes(source.desc_color))
    c.add(`${path}.source.desc_color must be 0..3`);
  const main = c.obj(t.main_title, `${path}.main_title`, type !== 'text_notice');
  if (main) {
    c.str(main.title, `${path}.main_title.title`, { required: type !== 'text_notice', maxChars: 26 });
    c.str(main.desc, `${path}.main_title.desc`, { maxChars: 30 });
  }
  c.str(t.sub_title_text, `${path}.sub_title_text`, { maxChars: 112 });
  if (type === 'text_notice' && !main?.title && !t.sub_title_text)
    c.add(`${path}: text_notice needs main_title.title or sub_title_text`);
  const emph = c.obj(t.emphasis_content, `${path}.emphasis_content`);
  if (emph) {
    c.str(emph.title, `${path}.emphasis_content.title`, { maxChars: 10 });
    c.str(emph.desc, `${path}.emphasis_content.desc`, { maxChars: 15 });
  }
  const hcl = c.arr(t.horizontal_content_list, `${path}.horizontal_content_list`, { max: 6 });
  hcl?.forEach((h, i) => {
    const p = `${path}.horizontal_content_list[${i}]`;
    if (!isObj(h)) return c.add(`${p} must be an object`);
    c.str(h.keyname, `${p}.keyname`, { required: true, maxChars: 5 });
    c.str(h.value, `${p}.value`, { maxChars: 26 });
    if (h.type !== undefined && ![0, 1, 2, 3].includes(h.type)) c.add(`${p}.type must be 0, 1, 2 or 3`);
    if (h.type === 1) c.str(h.url, `${p}.url`, { required: true });
    if (h.type === 3) c.str(h.userid, `${p}.userid`, { required: true });
  });
  const jumps = c.arr(t.jump_list, `${path}.jump_list`, { max: 3 });
  jumps?.forEach((j, i) => {
    if (!isObj(j)) return c.add(`${path}.jump_list[${i}] must be an object`);
    c.str(j.title, `${path}.jump_list[${i}].title`, { required: true, maxChars: 13 });
  });
  const vcl = c.arr(t.vertical_content_list, `${path}.vertical_content_list`, { max: 4 });
  vcl?.forEach((v, i) => {
    if (!isObj(v)) return c.add(`${path}.vertical_content_list[${i}] must be an object`);
    c.str(v.title, `${path}.vertical_content_list[${i}].title`, { required: true, maxChars: 26 });
    c.str(v.desc, `${path}.vertical_content_list[${i}].desc`, { maxChars: 112 });
  });
  const menu = c.obj(t.action_menu, `${path}.action_menu`);
  if (menu) {
    const list = c.arr(menu.action_list, `${path}.action_menu.action_list`, { required: true, min: 1, max: 3 });
    list?.forEach((a, i) => {
      if (!isObj(a)) return c.add(`${path}.action_menu.action_list[${i}] must be an object`);
      c.str(a.text, `${path}.action_menu.action_list[${i}].text`, { required: true });
      c.str(a.key, `${path}.action_menu.action_list[${i}].key`, { required: true, maxBytes: 1024 });
    });
  }

  if (type === 'text_notice' || type === 'news_notice') {
    // §4.2: required for notice cards, type 1 (url) or 2 (mini-program); 42045 otherwise.
    const action = t.card_action;
    if (!isObj(action) || ![1, 2].includes(action.type))
      c.add(`${path}.card_action is missing or its type is not 1/2`, E.cardAction);
    else if (action.type === 1 && (typeof action.url !== 'string' || !action.url))
      c.add(`${path}.card_action.url is required for type 1`, E.cardAction);
    else if (action.type === 2 && (typeof action.appid !== 'string' || !action.appid))
      c.add(`${path}.card_action.appid is required for type 2`, E.cardAction);
  }
  if (type === 'news_notice' && t.card_image === undefined && t.image_text_area === undefined)
    c.add(`${path}: news_notice needs card_image or image_text_area`);

  if (type === 'button_interaction') {
    const buttons = c.arr(t.button_list, `${path}.button_list`, { required: true, min: 1, max: 6 });
    const keys = new Set<string>();
    buttons?.forEach((b, i) => {
      const p = `${path}.button_list[${i}]`;
      if (!isObj(b)) return c.add(`${p} must be an object`);
      c.str(b.text, `${p}.text`, { required: true, maxChars: 10 });
      if (b.style !== undefined && !(isInt(b.style) && b.style >= 1 && b.style <= 4))
        c.add(`${p}.style must be an integer 1..4`);
      c.str(b.key, `${p}.key`, { required: true, maxBytes: 1024 });
      if (typeof b.key === 'string') {
        if (keys.has(b.key)) c.add(`${p}.key ${JSON.stringify(b.key)} is not unique`);
        keys.add(b.key);
      }
    });
  }
  if (type === 'vote_interaction') {
    const box = c.obj(t.checkbox, `${path}.checkbox`, true);
    if (box) {
      c.str(box.question_key, `${path}.checkbox.question_key`, { required: true, maxBytes: 1024 });
      const opts = c.arr(box.option_list, `${path}.checkbox.option_list`, { required: true, min: 1, max: 20 });
      opts?.forEach((x, i) => {
        if (!isObj(x)) return c.add(`${path}.checkbox.option_list[${i}] must be an object`);
        c.str(x.id, `${path}.checkbox.option_list[${i}].id`, { required: true, maxBytes: 128 });
        c.str(x.text, `${path}.checkbox.option_list[${i}].text`, { required: true, maxChars: 11 });
      });
    }
  }
  if (type === 'multiple_interaction') {
    const list = c.arr(t.select_list, `${path}.select_list`, { required: true, min: 1, max: 3 });
    list?.forEach((s, i) => {
      if (!isObj(s)) return c.add(`${path}.select_list[${i}] must be an object`);
      c.str(s.question_key, `${path}.select_list[${i}].question_key`, { required: true, maxBytes: 1024 });
      c.str(s.title, `${path}.select_list[${i}].title`, { maxChars: 13 });
      const opts = c.arr(s.option_list, `${path}.select_list[${i}].option_list`, { required: true, min: 1, max: 10 });
      opts?.forEach((x, k) => {
        if (!isObj(x)) return c.add(`${path}.select_list[${i}].option_list[${k}] must be an object`);
        c.str(x.id, `${path}.select_list[${i}].option_list[${k}].id`, { required: true, maxBytes: 128 });
        c.str(x.text, `${path}.select_list[${i}].option_list[${k}].text`, { required: true, maxChars: 10 });
      });
    });
  }
  if (type === 'vote_interaction' || type === 'multiple_interaction') {
    const submit = c.obj(t.submit_button, `${path}.submit_button`, true);
    if (submit) {
      c.str(submit.text, `${path}.submit_button.text`, { required: true, maxChars: 10 });
      c.str(submit.key, `${path}.submit_button.key`, { required: true, maxBytes: 1024 });
    }
  }
  return type;
}

/** text / markdown bodies: empty → 44004, too long → 45002 (§5.6). */
function checkContent(c: Checker, v: unknown, path: string, maxBytes: number): void {
  c.str(v, path, { required: true, maxBytes, emptyCode: E.emptyContent, longCode: E.tooLong });
}

/** A small multipart/form-data reader (RFC 7578): parts with their name, filename, type and bytes; null if malformed. */
export function parseMultipart(
  body: Buffer,
  boundary: string,
): { name?: string; filename?: string; contentType?: string; data: Buffer }[] | null {
  const delim = Buffer.from(`--${boundary}`);
  const parts: { name?: string; filename?: string; contentType?: string; data: Buffer }[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) return null;
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === '--') return parts; // the closing delimiter
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') return null;
    pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return null;
    const headers = body.subarray(pos, headEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) return null;
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const type = headers.find((h) => /^content-type:/i.test(h));
    parts.push({
      name: /\bname="([^"]*)"/i.exec(disposition)?.[1],
      filename: /\bfilename="([^"]*)"/i.exec(disposition)?.[1],
      contentType: type?.split(':')[1]?.trim(),
      data: body.subarray(headEnd + 4, next),
    });
    pos = next + 2;
  }
}

// ---- the server ---------------------------------------------------------------------------------------------
interface Outcome {
  status?: number;
  errcode: number;
  /** Extra response fields; computed by `commit` only when the request succeeds. */
  extra?: Record<string, unknown>;
  commit?: () => Record<string, unknown> | undefined;
  problems: Problem[];
  duplicate?: boolean;
  /** A spent response_url called again with the reply it already took (refused, not a violation). */
  repeat?: boolean;
}

interface Waiter {
  pred: (r: Recorded) => boolean;
  n: number;
  resolve: (r: Recorded[]) => void;
}

const randomToken = () => randomBytes(32).toString('base64url'); // 43 chars, ≥32 as real tokens are
const randomCode = () => randomBytes(24).toString('base64url');

export async function startFakeWecom(opts: FakeWecomOptions): Promise<FakeWecom> {
  const ttl = opts.tokenTtlSeconds ?? 7200;
  const perMinute = opts.webhookPerMinute ?? 20;
  const webhookKeys = new Set(opts.webhookKeys);
  const knownUsers = opts.knownUsers ? new Set(opts.knownUsers) : undefined;

  const tokens = new Map<string, { expiresAt: number; revoked: boolean }>();
  const responseCodes = new Map<string, { used: boolean }>(); // app response_code (send + click), §4.4: once each
  // AI bot, §3.6: once each. `taken` is the JSON of the reply that used it.
  const responseUrls = new Map<string, { taken?: string; chattype?: 'group' | 'single' }>();
  const webhookCalls = new Map<string, number[]>(); // key → call times within the sliding minute
  const sentTaskIds = new Set<string>(); // §4.2: task_id unique per app
  const sentBodies = new Map<string, number>(); // enable_duplicate_check: body JSON → when it was taken
  const failures = new Map<RequestKind, { errcode: number; left: number }[]>();
  const holds = new Map<RequestKind, { ms: number; left: number }[]>();
  const requests: Recorded[] = [];
  const waiters = new Set<Waiter>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let msgSeq = 0;
  const media = new Map<string, UploadedMedia>(); // media_id → the file (valid 3 days on the real server; forever here)
  const links = new Map<string, { data: Buffer; until: number }>(); // AI-bot picture links: id → encrypted bytes

  function take<T extends { left: number }>(m: Map<RequestKind, T[]>, kind: RequestKind): T | undefined {
    const q = m.get(kind);
    const head = q?.[0];
    if (!q || !head) return undefined;
    head.left -= 1;
    if (head.left <= 0) q.shift();
    return head;
  }

  function checkToken(c: Checker, query: Record<string, string>): number | undefined {
    const t = query.access_token;
    if (!t) {
      c.add('access_token query parameter is missing', E.missingToken);
      return E.missingToken;
    }
    const info = tokens.get(t);
    if (!info) return E.invalidToken; // not a format problem: maybe an old token from another server run
    if (info.revoked || Date.now() >= info.expiresAt) return E.tokenExpired;
    return undefined;
  }

  function checkAgentId(c: Checker, v: unknown): void {
    if (!isInt(v)) c.add(`agentid must be an integer (got ${JSON.stringify(v)})`, E.invalidAgentId);
    else if (v !== opts.agentId) c.add(`agentid ${v} is not this app's (${opts.agentId})`, E.invalidAgentId);
  }

  // GET /cgi-bin/gettoken?corpid&corpsecret (§5.2)
  function gettoken(method: string, query: Record<string, string>): Outcome {
    const c = new Checker();
    if (method !== 'GET') c.add(`gettoken must be GET (got ${method})`, E.requireGet);
    if (!query.corpid) c.add('corpid is missing', E.invalidCorpId);
    if (!query.corpsecret) c.add('corpsecret is missing', E.invalidSecret);
    if (c.problems.length) return { errcode: c.problems[0].errcode, problems: c.problems };
    if (query.corpid !== opts.corpId) return { errcode: E.invalidCorpId, problems: [] };
    if (query.corpsecret !== opts.corpSecret) return { errcode: E.invalidSecret, problems: [] };
    return {
      errcode: 0,
      problems: [],
      commit: () => {
        const access_token = randomToken();
        tokens.set(access_token, { expiresAt: Date.now() + ttl * 1000, revoked: false });
        return { access_token, expires_in: ttl };
      },
    };
  }

  // POST /cgi-bin/message/send?access_token= (§5.3)
  function messageSend(query: Record<string, string>, body: any, c: Checker): Outcome {
    const tokenErr = checkToken(c, query);
    if (tokenErr) return { errcode: tokenErr, problems: c.problems };
    if (!isObj(body)) {
      c.add('body must be a JSON object', E.badJson);
      return { errcode: E.badJson, problems: c.problems };
    }
    for (const f of ['touser', 'toparty', 'totag'] as const) c.str(body[f], f);
    const users = typeof body.touser === 'string' && body.touser ? body.touser.split('|') : [];
    const parties = typeof body.toparty === 'string' && body.toparty ? body.toparty.split('|') : [];
    const tags = typeof body.totag === 'string' && body.totag ? body.totag.split('|') : [];
    if (!users.length && !parties.length && !tags.length) c.add('touser, toparty and totag are all empty');
    if (users.length > 1000) c.add(`touser has ${users.length} ids, max 1000`);
    if (parties.length > 100) c.add(`toparty has ${parties.length} ids, max 100`);
    if (tags.length > 100) c.add(`totag has ${tags.length} ids, max 100`);
    if (users.some((u: string) => !u)) c.add('touser has an empty id (stray "|")');
    checkAgentId(c, body.agentid);
    if (body.enable_duplicate_check === 1) {
      const interval = (Number(body.duplicate_check_interval) || 1800) * 1000;
      const seenAt = sentBodies.get(JSON.stringify(body));
      if (seenAt !== undefined && Date.now() - seenAt < interval) {
        return { errcode: 0, problems: [], duplicate: true, commit: () => ({ msgid: `fake-msg-dup-${++msgSeq}` }) };
      }
    }
    for (const f of ['safe', 'enable_id_trans', 'enable_duplicate_check'] as const) {
      if (body[f] !== undefined && body[f] !== 0 && body[f] !== 1) c.add(`${f} must be 0 or 1`);
    }
    const type = body.msgtype;
    let cardType: string | undefined;
    if (typeof type !== 'string' || !APP_MSGTYPES.has(type)) {
      c.add(`msgtype ${JSON.stringify(type)} is not one of ${[...APP_MSGTYPES].join(', ')}`, E.invalidMsgType);
    } else if (!isObj(body[type])) {
      c.add(`msgtype is ${type} but the "${type}" object is missing`);
    } else if (type === 'text') {
      checkContent(c, body.text.content, 'text.content', 2048);
    } else if (type === 'markdown') {
      checkContent(c, body.markdown.content, 'markdown.content', 2048);
    } else if (type === 'image' || type === 'voice' || type === 'video' || type === 'file') {
      // §5.3 / §5.5: these carry a media_id from media/upload of the matching type.
      const id = body[type].media_id;
      c.str(id, `${type}.media_id`, { required: true, emptyCode: E.invalidMediaId });
      if (typeof id === 'string' && id) {
        const m = media.get(id);
        if (!m)
          c.add(
            `${type}.media_id ${JSON.stringify(id)} was not issued by media/upload on this server`,
            E.invalidMediaId,
          );
        else if (m.type !== type)
          c.add(`${type}.media_id was uploaded as type ${m.type}, not ${type}`, E.invalidMediaId);
      }
    } else if (type === 'template_card') {
      cardType = checkCard(c, body.template_card, 'template_card', { taskIdRequired: true, allowed: CARD_TYPES });
      const taskId = body.template_card.task_id;
      if (typeof taskId === 'string' && sentTaskIds.has(taskId))
        c.add(`template_card.task_id ${taskId} was already used by this app`);
    }
    if (c.problems.length) return { errcode: c.problems[0].errcode, problems: c.problems };

    const invalid = knownUsers ? users.filter((u: string) => u !== '@all' && !knownUsers.has(u)) : [];
    if (invalid.length && invalid.length === users.length && !parties.length && !tags.length) {
      return { errcode: E.allRecipientsInvalid, extra: { invaliduser: invalid.join('|') }, problems: [] };
    }
    return {
      errcode: 0,
      problems: [],
      commit: () => {
        if (body.enable_duplicate_check === 1) sentBodies.set(JSON.stringify(body), Date.now());
        const out: Record<string, unknown> = { msgid: `fake-msg-${++msgSeq}-${randomBytes(6).toString('hex')}` };
        if (invalid.length) out.invaliduser = invalid.join('|');
        if (type === 'template_card') {
          const taskId = body.template_card.task_id;
          if (typeof taskId === 'string') sentTaskIds.add(taskId);
          if (cardType && INTERACTIVE_CARDS.has(cardType)) {
            const code = randomCode();
            responseCodes.set(code, { used: false });
            out.response_code = code;
          }
        }
        return out;
      },
    };
  }

  // POST /cgi-bin/message/update_template_card?access_token= (§4.4)
  function updateCard(query: Record<string, string>, body: any, c: Checker): Outcome {
    const tokenErr = checkToken(c, query);
    if (tokenErr) return { errcode: tokenErr, problems: c.problems };
    if (!isObj(body)) {
      c.add('body must be a JSON object', E.badJson);
      return { errcode: E.badJson, problems: c.problems };
    }
    checkAgentId(c, body.agentid);
    const code = body.response_code;
    // The doc names no errcode for a bad response_code; 40058 is our plausible stand-in.
    if (typeof code !== 'string' || !code) c.add('response_code is required');
    else if (!responseCodes.has(code)) c.add('response_code was not issued by this server');
    else if (responseCodes.get(code)!.used) c.add('response_code was already used (each code is usable once, §4.4)');
    c.stringArray(body.userids, 'userids', 1000);
    c.stringArray(body.partyids, 'partyids', 100);
    c.arr(body.tagids, 'tagids', { max: 100 });
    if (body.atall !== undefined && body.atall !== 0 && body.atall !== 1) c.add('atall must be 0 or 1');
    const hasButton = body.button !== undefined;
    const hasCard = body.template_card !== undefined;
    if (!hasButton && !hasCard) c.add('neither button nor template_card is present');
    if (hasButton && hasCard) c.add('both button and template_card are present; send one');
    if (hasButton) {
      const b = c.obj(body.button, 'button', true);
      if (b) c.str(b.replace_name, 'button.replace_name', { required: true });
    }
    if (hasCard) checkCard(c, body.template_card, 'template_card', { taskIdRequired: false, allowed: CARD_TYPES });
    if (c.problems.length) return { errcode: c.problems[0].errcode, problems: c.problems };
    return {
      errcode: 0,
      problems: [],
      commit: () => {
        responseCodes.get(code)!.used = true;
        return { invaliduser: [] };
      },
    };
  }

  // POST /cgi-bin/webhook/send?key= (§5.1)
  /** Sliding minute per robot; every call counts, the refused ones too (§7.12). True when over the limit. */
  function countWebhookCall(key: string | undefined, now: number): boolean {
    if (!key || !webhookKeys.has(key)) return false;
    const calls = (webhookCalls.get(key) ?? []).filter((t) => now - t < 60_000);
    calls.push(now);
    webhookCalls.set(key, calls);
    return calls.length > perMinute;
  }

  function webhookSend(query: Record<string, string>, body: any, c: Checker, throttled: boolean): Outcome {
    const key = query.key;
    if (!key || !webhookKeys.has(key)) return { errcode: E.invalidWebhookKey, problems: c.problems };
    if (!isObj(body)) {
      c.add('body must be a JSON object', E.badJson);
      return { errcode: E.badJson, problems: c.problems };
    }
    const type = body.msgtype;
    if (typeof type !== 'string' || !WEBHOOK_MSGTYPES.has(type)) {
      c.add(`msgtype ${JSON.stringify(type)} is not one of ${[...WEBHOOK_MSGTYPES].join(', ')}`, E.invalidMsgType);
    } else if (!isObj(body[type])) {
      c.add(`msgtype is ${type} but the "${type}" object is missing`);
    } else {
      const m = body[type];
      switch (type) {
        case 'text':
          checkContent(c, m.content, 'text.content', 2048);
          c.stringArray(m.mentioned_list, 'text.mentioned_list');
          c.stringArray(m.mentioned_mobile_list, 'text.mentioned_mobile_list');
          break;
        case 'markdown':
          checkContent(c, m.content, 'markdown.content', 4096);
          break;
        case 'markdown_v2':
          checkContent(c, m.content, 'markdown_v2.content', 4096);
          break;
        case 'image': {
          c.str(m.base64, 'image.base64', { required: true });
          c.str(m.md5, 'image.md5', { required: true });
          if (typeof m.base64 === 'string' && typeof m.md5 === 'string') {
            const raw = Buffer.from(m.base64, 'base64');
            if (raw.length > 2 * 1024 * 1024) c.add(`image is ${raw.length} bytes, max 2 MB`);
            if (createHash('md5').update(raw).digest('hex') !== m.md5.toLowerCase())
              c.add('image.md5 is not the md5 of the decoded image');
          }
          break;
        }
        case 'news': {
          const arts = c.arr(m.articles, 'news.articles', { required: true, min: 1, max: 8 });
          arts?.forEach((a, i) => {
            if (!isObj(a)) return c.add(`news.articles[${i}] must be an object`);
            c.str(a.title, `news.articles[${i}].title`, { required: true, maxBytes: 128 });
            c.str(a.description, `news.articles[${i}].description`, { maxBytes: 512 });
            c.str(a.url, `news.articles[${i}].url`, { required: true });
          });
          break;
        }
        case 'file':
        case 'voice':
          c.str(m.media_id, `${type}.media_id`, { required: true });
          break;
        case 'template_card':
          checkCard(c, m, 'template_card', { taskIdRequired: true, allowed: new Set(['text_notice', 'news_notice']) });
          break;
      }
    }
    if (throttled) return { errcode: E.throttled, problems: c.problems };
    if (c.problems.length) return { errcode: c.problems[0].errcode, problems: c.problems };
    return { errcode: 0, problems: [] };
  }

  // POST <response_url> = /cgi-bin/aibot/response?response_code= (§3.6)
  function aibotResponse(query: Record<string, string>, body: any, c: Checker): Outcome {
    const code = query.response_code;
    const entry = code ? responseUrls.get(code) : undefined;
    // The doc names no errcode for a spent or unknown response_url; 40058 is our plausible stand-in.
    if (!code) c.add('response_code query parameter is missing');
    else if (!entry) c.add('this response_url was not issued by this server');
    else if (entry.taken !== undefined) {
      // The same reply again is a sender retrying a call whose answer it never got (it died in between): WeCom
      // refuses the spent URL and nothing shows twice, which is all a sender can do. A different reply is a bug.
      if (entry.taken === JSON.stringify(body)) return { errcode: E.invalidParam, problems: [], repeat: true };
      c.add('this response_url was already used (one call per response_url, §3.6)');
    }
    if (!isObj(body)) {
      c.add('body must be a JSON object', E.badJson);
      return { errcode: c.problems[0].errcode, problems: c.problems };
    }
    if ('encrypt' in body) c.add('response_url takes plain JSON, not an encrypted envelope');
    const type = body.msgtype;
    if (type === 'markdown') {
      const m = c.obj(body.markdown, 'markdown', true);
      if (m) {
        checkContent(c, m.content, 'markdown.content', 20480);
        if (m.feedback !== undefined) {
          const f = c.obj(m.feedback, 'markdown.feedback');
          if (f) c.str(f.id, 'markdown.feedback.id', { maxBytes: 256 });
        }
      }
    } else if (type === 'template_card') {
      checkCard(c, body.template_card, 'template_card', { taskIdRequired: true, allowed: CARD_TYPES });
      if (entry?.chattype === 'group')
        c.add('template_card via response_url is for single chats only (§3.6); use markdown in groups');
    } else {
      c.add(`msgtype ${JSON.stringify(type)} must be markdown or template_card`, E.invalidMsgType);
    }
    if (c.problems.length) return { errcode: c.problems[0].errcode, problems: c.problems };
    return {
      errcode: 0,
      problems: [],
      commit: () => {
        entry!.taken = JSON.stringify(body);
        return undefined;
      },
    };
  }

  // POST /cgi-bin/media/upload?access_token=&type= (§5.5): multipart/form-data, file in the field `media`.
  function mediaUpload(
    method: string,
    query: Record<string, string>,
    contentType: string,
    raw: Buffer,
    tooBig: boolean,
  ): Outcome & { media?: UploadedMedia } {
    const c = new Checker();
    if (method !== 'POST') c.add(`media.upload must be POST (got ${method})`, E.requirePost);
    const tokenErr = checkToken(c, query);
    if (tokenErr) return { errcode: tokenErr, problems: c.problems };
    const type = query.type;
    if (!type || !(type in MEDIA_LIMITS)) {
      c.add(`type ${JSON.stringify(type)} must be one of image, voice, video, file`, E.invalidMediaType);
      return { errcode: E.invalidMediaType, problems: c.problems };
    }
    if (tooBig) {
      c.add(`body is larger than ${MAX_UPLOAD_BYTES} bytes`, E.invalidFileSize);
      return { errcode: E.invalidFileSize, problems: c.problems };
    }
    const boundary = /^multipart\/form-data\s*;.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    if (!boundary) {
      c.add(`Content-Type must be multipart/form-data with a boundary (got ${JSON.stringify(contentType)})`);
      return { errcode: c.problems[0].errcode, problems: c.problems };
    }
    const parts = parseMultipart(raw, boundary[1] ?? boundary[2]);
    if (!parts) {
      c.add('the multipart body could not be read (boundary / part headers malformed)');
      return { errcode: c.problems[0].errcode, problems: c.problems };
    }
    const part = parts.find((p) => p.name === 'media');
    if (!part) {
      c.add(`no part named "media" (got ${parts.map((p) => JSON.stringify(p.name)).join(', ') || 'none'})`);
      return { errcode: c.problems[0].errcode, problems: c.problems };
    }
    if (!part.filename) c.add('the media part has no filename (WeCom shows it as the file name)');
    const data = part.data;
    const file: UploadedMedia = {
      type,
      filename: part.filename ?? '',
      contentType: part.contentType ?? '',
      bytes: data.length,
      md5: createHash('md5').update(data).digest('hex'),
      data,
    };
    if (data.length <= 5) c.add(`the file is ${data.length} bytes; media must be more than 5 bytes`, E.invalidFileSize);
    else if (data.length > MEDIA_LIMITS[type])
      c.add(
        `the ${type} is ${data.length} bytes, max ${MEDIA_LIMITS[type]}`,
        type === 'image' ? E.invalidImageSize : E.invalidFileSize,
      );
    if (type === 'image' && data.length > 5) {
      const png = data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      const jpg = data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
      if (!png && !jpg) c.add('an image must be JPG or PNG (by its bytes)', E.invalidFileType);
    }
    if (c.problems.length) return { errcode: c.problems[0].errcode, problems: c.problems, media: file };
    return {
      errcode: 0,
      problems: [],
      media: file,
      commit: () => {
        const media_id = `fake-media-${type}-${randomBytes(12).toString('hex')}`;
        file.mediaId = media_id;
        media.set(media_id, file);
        return { type, media_id, created_at: String(Math.floor(Date.now() / 1000)) };
      },
    };
  }

  function classify(path: string): RequestKind {
    switch (path) {
      case '/cgi-bin/gettoken':
        return 'gettoken';
      case '/cgi-bin/message/send':
        return 'message.send';
      case '/cgi-bin/message/update_template_card':
        return 'update_template_card';
      case '/cgi-bin/webhook/send':
        return 'webhook.send';
      case '/cgi-bin/aibot/response':
        return 'response_url';
      case '/cgi-bin/media/upload':
        return 'media.upload';
      case '/cgi-bin/media/get':
        return 'media.get';
      default:
        return path.startsWith('/aibot/media/') ? 'media.download' : 'unknown';
    }
  }

  /**
   * GET /cgi-bin/media/get?access_token&media_id (a temporary media file, the bytes themselves; JSON with an errcode
   * when it cannot be had), and GET <picture link> (AI bot, §3.2). Both answer binary, so they are served here.
   */
  function serveMedia(
    kind: 'media.get' | 'media.download',
    method: string,
    u: URL,
    query: Record<string, string>,
    at: number,
    res: ServerResponse,
  ): void {
    const c = new Checker();
    let status = 200;
    let errcode = 0;
    let file: { data: Buffer; type: string } | undefined;
    if (method !== 'GET') c.add(`${kind} must be GET (got ${method})`, E.requireGet);
    if (kind === 'media.get') {
      const tokenErr = checkToken(c, query);
      if (tokenErr) errcode = tokenErr;
      else if (!query.media_id) c.add('media_id query parameter is missing', E.invalidMediaId);
      else if (!media.has(query.media_id))
        c.add(`media_id ${JSON.stringify(query.media_id)} was not issued by this server`, E.invalidMediaId);
      else file = { data: media.get(query.media_id)!.data, type: media.get(query.media_id)!.contentType };
    } else {
      const link = links.get(u.pathname.slice('/aibot/media/'.length));
      if (!link) status = 404;
      else if (Date.now() > link.until)
        status = 403; // the link lived its 5 minutes
      else file = { data: link.data, type: 'application/octet-stream' };
    }
    if (c.problems.length) errcode = c.problems[0].errcode;
    const injected = take(failures, kind);
    if (injected) {
      errcode = injected.errcode;
      if (kind === 'media.download') status = 500;
    }
    requests.push({
      kind,
      method,
      path: u.pathname,
      query,
      body: undefined,
      rawBody: file && !errcode && status === 200 ? `<${file.data.length} bytes>` : '',
      at,
      errcode: status === 200 ? errcode : -1,
      violations: c.problems.map((p) => p.msg),
    });
    notify();
    if (status !== 200) {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<Error><Code>${status === 403 ? 'AccessDenied' : 'NoSuchKey'}</Code></Error>`);
    } else if (errcode || !file) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ errcode: errcode || E.invalidMediaId, errmsg: ERRMSG[errcode] ?? 'invalid media_id' }));
    } else {
      res.writeHead(200, {
        'content-type': file.type || 'application/octet-stream',
        'content-length': file.data.length,
        'content-disposition': 'attachment; filename="media"',
      });
      res.end(file.data);
    }
  }

  function notify(): void {
    for (const w of [...waiters]) {
      const hits = requests.filter(w.pred);
      if (hits.length >= w.n) {
        waiters.delete(w);
        w.resolve(hits.slice(0, w.n));
      }
    }
  }

  async function readBody(req: IncomingMessage, limit: number): Promise<{ raw: string; buf: Buffer; tooBig: boolean }> {
    const parts: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) tooBig = true;
      else parts.push(chunk as Buffer);
    }
    const buf = Buffer.concat(parts);
    return { raw: buf.toString('utf8'), buf, tooBig };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const method = req.method ?? 'GET';
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string> = {};
    u.searchParams.forEach((v, k) => {
      query[k] = v;
    });
    const kind = classify(u.pathname);
    if (kind === 'media.get' || kind === 'media.download') {
      req.resume(); // no body to read; drain whatever came
      return serveMedia(kind, method, u, query, at, res);
    }
    const { raw, buf, tooBig } = await readBody(req, kind === 'media.upload' ? MAX_UPLOAD_BYTES : MAX_BODY_BYTES);
    const c = new Checker();
    let body: any;
    let outcome: Outcome;
    let uploaded: UploadedMedia | undefined;

    if (kind === 'unknown') {
      c.add(`${method} ${u.pathname} is not an endpoint this fake knows (or WeCom documents for us)`);
      // Not a documented endpoint: the real server answers 404; errcode -1 only so the record has a number.
      outcome = { status: 404, errcode: E.busy, problems: c.problems };
    } else if (kind === 'gettoken') {
      outcome = gettoken(method, query);
    } else if (kind === 'media.upload') {
      const up = mediaUpload(method, query, String(req.headers['content-type'] ?? ''), buf, tooBig);
      outcome = up;
      uploaded = up.media;
    } else {
      const throttled = kind === 'webhook.send' && countWebhookCall(query.key, at);
      if (method !== 'POST') c.add(`${kind} must be POST (got ${method})`, E.requirePost);
      const ct = String(req.headers['content-type'] ?? '');
      if (!/^application\/json\b/i.test(ct)) c.add(`Content-Type must be application/json (got ${JSON.stringify(ct)})`);
      if (tooBig) c.add(`body is larger than ${MAX_BODY_BYTES} bytes`);
      if (!tooBig) {
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch (e) {
          c.add(`body is not JSON: ${(e as Error).message}`, E.badJson);
        }
      }
      if (c.problems.length)
        outcome = { errcode: throttled ? E.throttled : c.problems[0].errcode, problems: c.problems };
      else if (kind === 'message.send') outcome = messageSend(query, body, c);
      else if (kind === 'update_template_card') outcome = updateCard(query, body, c);
      else if (kind === 'webhook.send') outcome = webhookSend(query, body, c, throttled);
      else outcome = aibotResponse(query, body, c);
    }

    let errcode = outcome.errcode;
    let extra: Record<string, unknown> = { ...(outcome.extra ?? {}) };
    const injected = kind === 'unknown' ? undefined : take(failures, kind);
    if (injected) {
      errcode = injected.errcode; // nothing is committed: no token, no msgid, the single-use codes stay unused
      extra = {};
    } else if (errcode === 0 && outcome.commit) {
      extra = { ...extra, ...(outcome.commit() ?? {}) };
    }

    const rec: Recorded = {
      kind,
      method,
      path: u.pathname,
      query,
      body,
      rawBody: uploaded ? `<multipart: ${uploaded.filename} ${uploaded.bytes} bytes>` : raw,
      at,
      errcode,
      violations: outcome.problems.map((p) => p.msg),
      ...(outcome.duplicate && !injected ? { duplicate: true } : {}),
      ...(outcome.repeat ? { repeat: true } : {}),
      ...(uploaded ? { media: uploaded } : {}),
    };
    requests.push(rec);
    notify();

    const payload = JSON.stringify({ errcode, errmsg: ERRMSG[errcode] ?? `fake error ${errcode}`, ...extra });
    const send = () => {
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(outcome.status ?? 200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(payload);
    };
    const hold = kind === 'unknown' ? undefined : take(holds, kind);
    if (hold) {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        send();
      }, hold.ms);
      pendingTimers.add(timer);
    } else send();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake-wecom crashed: ${(e as Error).stack}`);
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  function waitForCount(pred: (r: Recorded) => boolean, n: number, timeoutMs = 5000): Promise<Recorded[]> {
    return new Promise((resolve, reject) => {
      const hits = requests.filter(pred);
      if (hits.length >= n) return resolve(hits.slice(0, n));
      const timer = setTimeout(() => {
        waiters.delete(w);
        const seen = requests.map((r) => `${r.kind} ${r.errcode}`).join(', ') || 'none';
        reject(
          new Error(
            `fake-wecom: ${requests.filter(pred).length}/${n} matching requests after ${timeoutMs} ms (seen: ${seen})`,
          ),
        );
      }, timeoutMs);
      const w: Waiter = {
        pred,
        n,
        resolve: (r) => {
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
    mintResponseUrl(o?: MintResponseUrlOptions) {
      const code = randomCode();
      responseUrls.set(code, { chattype: o?.chattype });
      return `${url}/cgi-bin/aibot/response?response_code=${encodeURIComponent(code)}`;
    },
    mintClickResponseCode() {
      const code = randomCode();
      responseCodes.set(code, { used: false });
      return code;
    },
    waitFor: (pred, timeoutMs) => waitForCount(pred, 1, timeoutMs).then((r) => r[0]),
    waitForCount,
    violations: () => requests.filter((r) => r.violations.length > 0),
    failNext(kind, errcode, times = 1) {
      const q = failures.get(kind) ?? [];
      q.push({ errcode, left: times });
      failures.set(kind, q);
    },
    holdNext(kind, ms, times = 1) {
      const q = holds.get(kind) ?? [];
      q.push({ ms, left: times });
      holds.set(kind, q);
    },
    uploaded: (mediaId) => media.get(mediaId),
    serveImage(data, o = {}) {
      let body = data;
      if (o.aesKey) {
        const key = Buffer.from(`${o.aesKey}=`, 'base64');
        const n = 32 - (data.length % 32); // PKCS#7 to 32-byte blocks, a whole block when already aligned
        const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
        c.setAutoPadding(false);
        body = Buffer.concat([c.update(Buffer.concat([data, Buffer.alloc(n, n)])), c.final()]);
      }
      const id = randomBytes(12).toString('hex');
      links.set(id, { data: body, until: Date.now() + (o.ttlMs ?? 5 * 60_000) });
      return `${url}/aibot/media/${id}?sign=${randomBytes(8).toString('hex')}`;
    },
    userMedia(data, type = 'image') {
      const mediaId = `fake-user-${type}-${randomBytes(12).toString('hex')}`;
      const png = data.subarray(0, 4).toString('latin1') === '\x89PNG';
      media.set(mediaId, {
        mediaId,
        type,
        filename: 'user',
        contentType: type === 'image' ? (png ? 'image/png' : 'image/jpeg') : 'application/octet-stream',
        bytes: data.length,
        md5: createHash('md5').update(data).digest('hex'),
        data,
      });
      return mediaId;
    },
    revokeTokens() {
      for (const t of tokens.values()) t.revoked = true;
    },
    async close() {
      for (const t of pendingTimers) clearTimeout(t);
      pendingTimers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
