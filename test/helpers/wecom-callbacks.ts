// Build callbacks the way WeCom does (protocols/wecom.md §2–§4) and open our passive replies the way WeCom would.
// The crypto is the real WXBizMsgCrypt scheme through our own seal/sign, which the unit tests pin to the public
// vectors (§2.8) — so a callback built here is byte-compatible with one from WeCom.
import { randomBytes, randomInt } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { open, seal, sign, verifySignature } from '../../src/channels/wecom/crypto.js';

export interface AibotKeys {
  token: string;
  aesKey: string;
} // receive id "" (§2.3)
export interface AppKeys {
  token: string;
  aesKey: string;
  corpId: string;
  agentId: number;
}
export interface SignOptions {
  /** seconds; default now */
  timestamp?: number;
  /** default a random decimal string, like WeCom's */
  nonce?: string;
  /** the 16 random bytes in front of the plaintext; default random (fix it for byte-stable fixtures) */
  random?: Buffer;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const randomNonce = () => String(randomInt(100_000_000, 2_000_000_000));
/** The official samples put 16 printable characters (a decimal string in the python3 lib) in front (§2.1). */
const randomPrefix = () => Buffer.from(Array.from(randomBytes(16), (b) => String(b % 10)).join(''), 'latin1');

function signed(token: string, aesKey: string, receiveId: string, plaintext: string, opts: SignOptions = {}) {
  const timestamp = String(opts.timestamp ?? nowSeconds());
  const nonce = opts.nonce ?? randomNonce();
  const encrypt = seal({ token, aesKey, receiveId }, plaintext, opts.random ?? randomPrefix());
  const signature = sign(token, timestamp, nonce, encrypt);
  return { timestamp, nonce, encrypt, signature };
}

/**
 * An AI-bot message/event POST (§2.5): body `{"encrypt": "..."}`, query msg_signature&timestamp&nonce.
 * `payload` may be a JSON string, to send something JSON.stringify can't write (e.g. a 64-bit number literal).
 */
export function aibotPost(
  keys: AibotKeys,
  payload: object | string,
  opts?: SignOptions,
): { query: string; body: string; nonce: string; timestamp: string } {
  const plain = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const s = signed(keys.token, keys.aesKey, '', plain, opts);
  const query = new URLSearchParams({ msg_signature: s.signature, timestamp: s.timestamp, nonce: s.nonce }).toString();
  return { query, body: JSON.stringify({ encrypt: s.encrypt }), nonce: s.nonce, timestamp: s.timestamp };
}

/** A self-built app's XML POST (§2.5), envelope as in the official python Sample.py. */
export function appPost(
  keys: AppKeys,
  innerXml: string,
  opts?: SignOptions,
): { query: string; body: string; nonce: string; timestamp: string } {
  const s = signed(keys.token, keys.aesKey, keys.corpId, innerXml, opts);
  const query = new URLSearchParams({ msg_signature: s.signature, timestamp: s.timestamp, nonce: s.nonce }).toString();
  const body =
    `<xml><ToUserName>${cdata(keys.corpId)}</ToUserName><Encrypt>${cdata(s.encrypt)}</Encrypt>` +
    `<AgentID>${cdata(String(keys.agentId))}</AgentID></xml>`;
  return { query, body, nonce: s.nonce, timestamp: s.timestamp };
}

/**
 * The GET URL-verification query (§2.4), echostr encrypted for `receiveId` (corpid for apps, "" for the AI bot)
 * and percent-encoded ('+' → %2B, '/' → %2F, '=' → %3D) as WeCom sends it.
 */
export function verifyQuery(
  keys: { token: string; aesKey: string },
  receiveId: string,
  echoPlain: string,
  opts?: SignOptions,
): string {
  const s = signed(keys.token, keys.aesKey, receiveId, echoPlain, opts);
  return new URLSearchParams({
    msg_signature: s.signature,
    timestamp: s.timestamp,
    nonce: s.nonce,
    echostr: s.encrypt,
  }).toString();
}

/**
 * Opens our encrypted JSON passive reply (§2.6) as WeCom would: fields encrypt/msgsignature/timestamp/nonce,
 * the nonce must be the callback's (§2.6: "use the nonce from the callback URL"), the signature must verify and
 * the receive id must be "". Returns the parsed plaintext JSON. Throws on an empty reply — check for that first.
 */
export function openAibotReply(keys: AibotKeys, replyBody: string, nonce: string): any {
  if (!replyBody) throw new Error('empty reply (allowed by WeCom, but there is nothing to open)');
  let env: any;
  try {
    env = JSON.parse(replyBody);
  } catch {
    throw new Error(`reply is not JSON: ${replyBody.slice(0, 80)}`);
  }
  const missing = ['encrypt', 'msgsignature', 'timestamp', 'nonce'].filter(
    (k) => env?.[k] === undefined || env?.[k] === '',
  );
  if (missing.length) throw new Error(`reply lacks ${missing.join(', ')}`);
  if (typeof env.encrypt !== 'string' || typeof env.msgsignature !== 'string' || typeof env.nonce !== 'string') {
    throw new Error('reply fields encrypt, msgsignature and nonce must be strings');
  }
  // The doc shows a number; the Go lib writes a string. Either is fine if it is a decimal number of seconds.
  const ts = String(env.timestamp);
  if (!/^\d{9,11}$/.test(ts)) throw new Error(`reply timestamp ${JSON.stringify(env.timestamp)} is not unix seconds`);
  if (env.nonce !== nonce)
    throw new Error(`reply nonce ${JSON.stringify(env.nonce)} is not the callback's ${JSON.stringify(nonce)}`);
  const k = { token: keys.token, aesKey: keys.aesKey, receiveId: '' };
  verifySignature(k, env.msgsignature, ts, env.nonce, env.encrypt);
  return JSON.parse(open(k, env.encrypt));
}

const replyParser = new XMLParser({ parseTagValue: false, ignoreAttributes: true, trimValues: true });

/** Opens our encrypted XML passive reply (§2.6) as WeCom would and returns the decrypted inner XML. */
export function openAppReply(keys: AppKeys, replyXml: string, expectNonce?: string): string {
  if (!replyXml) throw new Error('empty reply (allowed by WeCom, but there is nothing to open)');
  const doc = replyParser.parse(replyXml);
  const x = doc?.xml;
  if (!x || typeof x !== 'object') throw new Error('reply is not an <xml> document');
  const get = (k: string): string => {
    const v = x[k];
    if (typeof v !== 'string' || !v) throw new Error(`reply lacks <${k}>`);
    return v;
  };
  const encrypt = get('Encrypt');
  const signature = get('MsgSignature');
  const ts = get('TimeStamp');
  const nonce = get('Nonce');
  if (!/^\d{9,11}$/.test(ts)) throw new Error(`reply TimeStamp ${JSON.stringify(ts)} is not unix seconds`);
  if (expectNonce !== undefined && nonce !== expectNonce) throw new Error(`reply Nonce ${nonce} is not ${expectNonce}`);
  const k = { token: keys.token, aesKey: keys.aesKey, receiveId: keys.corpId };
  verifySignature(k, signature, ts, nonce, encrypt);
  return open(k, encrypt);
}

/** A text message to the AI bot (§3.2). `chatid` only in group chats; chattype defaults from it. */
export function aibotText(p: {
  msgid: string;
  userid: string;
  content: string;
  chatid?: string;
  chattype?: 'group' | 'single';
  responseUrl: string;
  aibotid?: string;
}): object {
  const chattype = p.chattype ?? (p.chatid ? 'group' : 'single');
  return {
    msgid: p.msgid,
    aibotid: p.aibotid ?? 'AIBOTID',
    ...(chattype === 'group' ? { chatid: p.chatid ?? 'CHATID' } : {}),
    chattype,
    from: { userid: p.userid },
    response_url: p.responseUrl,
    msgtype: 'text',
    text: { content: p.content },
  };
}

/** A button click on an AI-bot card (§3.3, template_card_event; field names as in the doc's JSON examples). */
export function aibotCardClick(p: {
  msgid: string;
  userid: string;
  eventKey: string;
  taskId: string;
  responseUrl: string;
  chatid?: string;
  chattype?: 'group' | 'single';
  aibotid?: string;
  createTime?: number;
  cardType?: 'button_interaction' | 'vote_interaction' | 'multiple_interaction' | 'text_notice' | 'news_notice';
}): object {
  const chattype = p.chattype ?? (p.chatid ? 'group' : 'single');
  return {
    msgid: p.msgid,
    create_time: p.createTime ?? nowSeconds(),
    aibotid: p.aibotid ?? 'AIBOTID',
    ...(chattype === 'group' ? { chatid: p.chatid ?? 'CHATID' } : {}),
    chattype,
    from: { userid: p.userid },
    response_url: p.responseUrl,
    msgtype: 'event',
    event: {
      eventtype: 'template_card_event',
      template_card_event: { card_type: p.cardType ?? 'button_interaction', event_key: p.eventKey, task_id: p.taskId },
    },
  };
}

/** CDATA that survives a "]]>" inside the text (split it across two sections). */
function cdata(s: string): string {
  return `<![CDATA[${s.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;
}

function digits(name: string, v: string | number): string {
  const s = String(v);
  if (!/^\d+$/.test(s)) throw new Error(`${name} must be decimal digits, got ${JSON.stringify(v)}`);
  return s;
}

/**
 * A 1:1 text message to the app (decrypted inner XML). MsgId is a 64-bit id (§7.8): pass it as a string, it is
 * written verbatim as a bare number like WeCom does, so a receiver that parses tag values as numbers loses digits.
 */
export function appTextXml(p: {
  corpId: string;
  agentId: number;
  from: string;
  content: string;
  msgId: string;
  createTime?: number;
}): string {
  return (
    `<xml><ToUserName>${cdata(p.corpId)}</ToUserName><FromUserName>${cdata(p.from)}</FromUserName>` +
    `<CreateTime>${p.createTime ?? nowSeconds()}</CreateTime><MsgType>${cdata('text')}</MsgType>` +
    `<Content>${cdata(p.content)}</Content><MsgId>${digits('msgId', p.msgId)}</MsgId>` +
    `<AgentID>${p.agentId}</AgentID></xml>`
  );
}

/** A button click on an app card (§4.3), decrypted inner XML. */
export function appCardClickXml(p: {
  corpId: string;
  agentId: number;
  from: string;
  eventKey: string;
  taskId: string;
  responseCode: string;
  createTime?: number;
  cardType?: string;
}): string {
  return (
    `<xml><ToUserName>${cdata(p.corpId)}</ToUserName><FromUserName>${cdata(p.from)}</FromUserName>` +
    `<CreateTime>${p.createTime ?? nowSeconds()}</CreateTime><MsgType>${cdata('event')}</MsgType>` +
    `<Event>${cdata('template_card_event')}</Event><EventKey>${cdata(p.eventKey)}</EventKey>` +
    `<TaskId>${cdata(p.taskId)}</TaskId><CardType>${cdata(p.cardType ?? 'button_interaction')}</CardType>` +
    `<ResponseCode>${cdata(p.responseCode)}</ResponseCode><AgentID>${p.agentId}</AgentID></xml>`
  );
}
