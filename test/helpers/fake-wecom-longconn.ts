// A local WeCom long-connection gateway (protocols/wecom.md §3.7, doc 101463), strict about the documented shapes.
// It takes `aibot_subscribe` (bot id + secret, first frame of every connection), answers `ping`, keeps one live
// connection per bot (a newer subscribe gets the older one a `disconnected_event` and closes it), pushes message and
// event callbacks with fresh req_ids, and checks every frame the service sends:
// - every frame: JSON `{cmd, headers: {req_id}, body?}` with a known cmd;
// - aibot_respond_msg: the req_id of a message callback, within 24 h, once; a valid body (markdown ≤ 20 480 bytes,
//   a button card with task_id and ≤ 6 buttons, an image by a media_id we issued);
// - aibot_respond_update_msg: the req_id of a card click, within 5 s, once, response_type update_template_card and
//   the clicked card's task_id;
// - aibot_send_msg: chatid + chat_type 1|2, never msgtype text (40008), only into chats that wrote to the bot;
// - replies and proactive messages together ≤ 30 a minute and 1 000 an hour per conversation (45009 beyond);
// - the chunked media upload: sizes, chunk count, every chunk before finish, the md5;
// - subscribes: more than 5 within 10 s is a spin.
// Every problem becomes a string in `violations`. Callbacks pushed while no connection is live wait for the next one.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface FakeLongconnOptions {
  botId: string;
  secret: string;
  /** WeCom refuses a req_id issued on an earlier connection (to test the proactive fallback). Default false. */
  reqIdsDieWithConnection?: boolean;
  /** More subscribes than this within 10 s is a spin (default 5; tests with shortened backoff allow more). */
  maxSubscribesPer10s?: number;
}

export interface LcConn {
  id: string;
  ws: WebSocket;
  openedAt: number;
  closedAt?: number;
  subscribed: boolean;
  /** Got a disconnected_event because a newer connection subscribed. */
  kicked: boolean;
}

/** A frame the service sent, with the ack it got. */
export interface LcFrame {
  at: number;
  conn: string;
  cmd: string;
  reqId: string;
  body: any;
  errcode: number;
  /** For respond frames: the msgid of the message or click answered. */
  answers?: string;
}

interface Issued {
  kind: 'msg' | 'click' | 'enter';
  msgid: string;
  chat: string;
  conn?: string;
  at: number;
  used: boolean;
  taskId?: string;
}

export interface Pushed {
  msgid: string;
  reqId: string;
}

export interface FakeLongconn {
  url: string;
  connections: LcConn[];
  subscribes: { at: number; conn: string; ok: boolean }[];
  frames: LcFrame[];
  violations: string[];
  media: Map<string, Buffer>;
  /** Subscribed, open connections. */
  live(): LcConn[];
  /** A person writes to the bot: in a group (chatid, text starts with "@后勤助手 ") or in the single chat. */
  say(o: { userid: string; text: string; chatid?: string; msgid?: string }): Pushed;
  /** A card button tapped. */
  click(o: { userid: string; key: string; taskId: string; chatid?: string }): Pushed;
  enterChat(userid: string): Pushed;
  /** Any body as a callback (shapes the service must survive). */
  pushRaw(cmd: string, body: unknown): Pushed;
  /** Cuts the live connection without a word (a network failure). */
  drop(conn?: LcConn): void;
  /** Delivered messages (ack errcode 0) of respond/send. */
  delivered(): LcFrame[];
  waitFor(what: string, pred: (f: LcFrame) => boolean, timeoutMs?: number): Promise<LcFrame>;
  until(what: string, fn: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const KNOWN = new Set([
  'aibot_subscribe',
  'ping',
  'aibot_respond_msg',
  'aibot_respond_welcome_msg',
  'aibot_respond_update_msg',
  'aibot_send_msg',
  'aibot_upload_media_init',
  'aibot_upload_media_chunk',
  'aibot_upload_media_finish',
]);
const REPLY_WINDOW_MS = 24 * 3_600_000;
const CLICK_WINDOW_MS = 5_000;
const CHUNK = 512 * 1024;

export async function startFakeLongconn(o: FakeLongconnOptions): Promise<FakeLongconn> {
  const connections: LcConn[] = [];
  const subscribes: FakeLongconn['subscribes'] = [];
  const frames: LcFrame[] = [];
  const violations: string[] = [];
  const media = new Map<string, Buffer>();
  const issued = new Map<string, Issued>();
  const spoken = new Set<string>();
  const perConv = new Map<string, number[]>();
  const uploads = new Map<string, { type: string; size: number; chunks: number; md5: string; parts: Buffer[] }>();
  const waiting: string[] = [];
  let seq = 0;

  const server: Server = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A socket whose close has begun takes no more frames (ws drops a send on it silently): what arrives then waits for
  // the next connection, as WeCom keeps undelivered callbacks for the bot's next subscribe.
  const live = () =>
    connections.filter((c) => c.subscribed && c.closedAt === undefined && !c.kicked && c.ws.readyState === c.ws.OPEN);
  const ack = (c: LcConn, reqId: string, errcode = 0, errmsg = 'ok', body?: unknown) =>
    c.ws.send(JSON.stringify({ headers: { req_id: reqId }, errcode, errmsg, ...(body ? { body } : {}) }));

  function push(text: string) {
    const c = live()[0];
    if (!c) waiting.push(text);
    else c.ws.send(text);
  }

  function callback(cmd: string, body: Record<string, unknown>, meta: Omit<Issued, 'at' | 'used' | 'msgid'>): Pushed {
    const reqId = `req_${++seq}_${randomBytes(6).toString('hex')}`;
    const msgid = (body.msgid as string) ?? `msg_${seq}_${randomBytes(4).toString('hex')}`;
    body.msgid = msgid;
    issued.set(reqId, { ...meta, msgid, at: Date.now(), used: false, conn: live()[0]?.id });
    push(JSON.stringify({ cmd, headers: { req_id: reqId }, body }));
    return { msgid, reqId };
  }

  function checkCard(tc: any, where: string) {
    if (!tc || typeof tc !== 'object') return void violations.push(`${where}: template_card missing`);
    if (typeof tc.card_type !== 'string') violations.push(`${where}: card_type missing`);
    if (tc.card_type === 'button_interaction') {
      if (!tc.main_title?.title) violations.push(`${where}: main_title.title missing`);
      if (!Array.isArray(tc.button_list) || !tc.button_list.length || tc.button_list.length > 6)
        violations.push(`${where}: button_list must hold 1 to 6 buttons`);
      if (typeof tc.task_id !== 'string' || !/^[0-9a-zA-Z_\-@]{1,128}$/.test(tc.task_id))
        violations.push(`${where}: task_id missing or not [0-9a-zA-Z_-@]{1,128}: ${tc.task_id}`);
      for (const b of tc.button_list ?? [])
        if (typeof b.key !== 'string' || !b.key || typeof b.text !== 'string')
          violations.push(`${where}: a button without text or key`);
    }
  }

  /** The message body of respond/send; returns an errcode. */
  function checkMessage(b: any, where: string, proactive: boolean): number {
    const types = proactive
      ? ['markdown', 'template_card', 'image', 'file', 'voice', 'video']
      : ['markdown', 'template_card', 'stream', 'image', 'file', 'voice', 'video'];
    if (b?.msgtype === 'text' && proactive) {
      violations.push(`${where}: msgtype text is refused by aibot_send_msg (40008)`);
      return 40008;
    }
    if (!types.includes(b?.msgtype)) {
      violations.push(`${where}: msgtype ${b?.msgtype} not allowed`);
      return 40008;
    }
    if (b.msgtype === 'markdown') {
      const c = b.markdown?.content;
      if (typeof c !== 'string' || !c) violations.push(`${where}: markdown.content empty`);
      else if (Buffer.byteLength(c) > 20_480) violations.push(`${where}: markdown.content over 20480 bytes`);
    }
    if (b.msgtype === 'template_card') checkCard(b.template_card, where);
    if (b.msgtype === 'image' && !media.has(b.image?.media_id)) {
      violations.push(`${where}: image.media_id ${b.image?.media_id} was never issued`);
      return 40007;
    }
    return 0;
  }

  function countConv(chat: string): boolean {
    const now = Date.now();
    const list = (perConv.get(chat) ?? []).filter((t) => now - t < 3_600_000);
    const lastMinute = list.filter((t) => now - t < 60_000).length;
    if (lastMinute >= 30 || list.length >= 1000) {
      violations.push(`conversation ${chat}: over 30/min or 1000/h`);
      perConv.set(chat, list);
      return false;
    }
    list.push(now);
    perConv.set(chat, list);
    return true;
  }

  function onFrame(c: LcConn, text: string) {
    let f: any;
    try {
      f = JSON.parse(text);
    } catch {
      violations.push(`not JSON: ${text.slice(0, 80)}`);
      return;
    }
    const reqId = f?.headers?.req_id;
    if (typeof f?.cmd !== 'string' || !KNOWN.has(f.cmd) || typeof reqId !== 'string' || !reqId) {
      violations.push(`bad frame: ${text.slice(0, 160)}`);
      return;
    }
    const rec: LcFrame = { at: Date.now(), conn: c.id, cmd: f.cmd, reqId, body: f.body, errcode: 0 };
    frames.push(rec);
    const answer = (errcode = 0, errmsg = 'ok', body?: unknown) => {
      rec.errcode = errcode;
      ack(c, reqId, errcode, errmsg, body);
    };
    if (f.cmd === 'aibot_subscribe') {
      const recent = subscribes.filter((s) => Date.now() - s.at < 10_000).length;
      if (recent >= (o.maxSubscribesPer10s ?? 5))
        violations.push(`subscribe spin: ${recent + 1} subscribes within 10 s`);
      const ok = f.body?.bot_id === o.botId && f.body?.secret === o.secret;
      subscribes.push({ at: Date.now(), conn: c.id, ok });
      if (c.subscribed) violations.push('subscribed twice on one connection');
      if (!ok) {
        answer(40001, 'invalid bot_id or secret');
        setTimeout(() => c.ws.close(1008, 'auth'), 20);
        return;
      }
      for (const old of live()) {
        // One live connection per bot: the older one is told and closed.
        old.kicked = true;
        old.ws.send(
          JSON.stringify({
            cmd: 'aibot_event_callback',
            headers: { req_id: `kick_${++seq}` },
            body: {
              msgid: `kick_${seq}`,
              create_time: Math.floor(Date.now() / 1000),
              aibotid: o.botId,
              msgtype: 'event',
              event: { eventtype: 'disconnected_event' },
            },
          }),
        );
        setTimeout(() => old.ws.terminate(), 100);
      }
      c.subscribed = true;
      answer();
      for (const w of waiting.splice(0)) c.ws.send(w);
      return;
    }
    if (!c.subscribed) {
      violations.push(`${f.cmd} before aibot_subscribe`);
      answer(40001, 'not subscribed');
      return;
    }
    if (c.kicked) {
      violations.push(`${f.cmd} on a connection that got disconnected_event`);
      answer(40001, 'connection replaced');
      return;
    }
    switch (f.cmd) {
      case 'ping':
        return answer();
      case 'aibot_respond_msg':
      case 'aibot_respond_welcome_msg':
      case 'aibot_respond_update_msg': {
        const it = issued.get(reqId);
        const want = f.cmd === 'aibot_respond_msg' ? 'msg' : f.cmd === 'aibot_respond_update_msg' ? 'click' : 'enter';
        if (!it || it.kind !== want) {
          violations.push(`${f.cmd} on a req_id that is not a ${want} callback's: ${reqId}`);
          return answer(846605, 'invalid req_id');
        }
        rec.answers = it.msgid;
        if (o.reqIdsDieWithConnection && it.conn !== c.id) return answer(846605, 'req_id expired');
        const window = want === 'msg' ? REPLY_WINDOW_MS : CLICK_WINDOW_MS;
        if (Date.now() - it.at > window) {
          violations.push(`${f.cmd} ${Date.now() - it.at} ms after its callback (limit ${window})`);
          return answer(846608, 'expired');
        }
        if (it.used) {
          violations.push(`${f.cmd}: req_id ${reqId} answered twice`);
          return answer(846609, 'already answered');
        }
        it.used = true;
        if (want === 'click') {
          if (f.body?.response_type !== 'update_template_card') violations.push('update without response_type');
          checkCard(f.body?.template_card, 'aibot_respond_update_msg');
          if (f.body?.template_card?.task_id !== it.taskId)
            violations.push(`update task_id ${f.body?.template_card?.task_id} ≠ clicked ${it.taskId}`);
          return answer();
        }
        if (want === 'enter') {
          if (!['text', 'template_card'].includes(f.body?.msgtype)) violations.push('welcome must be text or card');
          return answer();
        }
        const code = checkMessage(f.body, f.cmd, false);
        if (code) return answer(code, 'bad message');
        if (!countConv(it.chat)) return answer(45009, 'api freq out of limit');
        return answer();
      }
      case 'aibot_send_msg': {
        const b = f.body ?? {};
        if (typeof b.chatid !== 'string' || !b.chatid) violations.push('aibot_send_msg without chatid');
        if (b.chat_type !== 1 && b.chat_type !== 2) violations.push(`aibot_send_msg chat_type ${b.chat_type}`);
        if (!spoken.has(b.chatid)) {
          violations.push(`aibot_send_msg into ${b.chatid}, which never wrote to the bot`);
          return answer(846607, 'chat not allowed');
        }
        const code = checkMessage(b, 'aibot_send_msg', true);
        if (code) return answer(code, 'bad message');
        if (!countConv(b.chatid)) return answer(45009, 'api freq out of limit');
        return answer();
      }
      case 'aibot_upload_media_init': {
        const b = f.body ?? {};
        const chunks = Math.ceil((b.total_size ?? 0) / CHUNK);
        if (!['image', 'file', 'voice', 'video'].includes(b.type)) violations.push(`upload type ${b.type}`);
        if (typeof b.filename !== 'string' || !b.filename) violations.push('upload without filename');
        if (!(b.total_size > 0) || b.total_chunks !== chunks || chunks > 100)
          violations.push(`upload sizes: ${b.total_size} bytes in ${b.total_chunks} chunks`);
        if (!/^[0-9a-f]{32}$/.test(b.md5 ?? '')) violations.push('upload md5 is not 32 hex digits');
        const id = `up_${++seq}`;
        uploads.set(id, { type: b.type, size: b.total_size, chunks: b.total_chunks, md5: b.md5, parts: [] });
        return answer(0, 'ok', { upload_id: id });
      }
      case 'aibot_upload_media_chunk': {
        const u = uploads.get(f.body?.upload_id);
        const i = f.body?.chunk_index;
        if (!u || !Number.isInteger(i) || i < 0 || i >= u.chunks) {
          violations.push(`upload chunk for an unknown upload or index: ${f.body?.upload_id} ${i}`);
          return answer(40001, 'bad chunk');
        }
        const part = Buffer.from(f.body.base64_data ?? '', 'base64');
        if (part.length > CHUNK || !part.length) violations.push(`upload chunk ${i} of ${part.length} bytes`);
        u.parts[i] = part;
        return answer();
      }
      case 'aibot_upload_media_finish': {
        const u = uploads.get(f.body?.upload_id);
        if (!u) return answer(40001, 'unknown upload');
        const all = Buffer.concat(u.parts.filter(Boolean));
        if (u.parts.filter(Boolean).length !== u.chunks || all.length !== u.size)
          violations.push('upload finished before every chunk came');
        if (createHash('md5').update(all).digest('hex') !== u.md5) violations.push('upload md5 does not match');
        const id = `media_${++seq}_${randomBytes(4).toString('hex')}`;
        media.set(id, all);
        return answer(0, 'ok', { type: u.type, media_id: id, created_at: Math.floor(Date.now() / 1000) });
      }
    }
  }

  wss.on('connection', (ws) => {
    const c: LcConn = { id: `c${connections.length + 1}`, ws, openedAt: Date.now(), subscribed: false, kicked: false };
    connections.push(c);
    ws.on('message', (raw) => onFrame(c, raw.toString()));
    ws.on('close', () => (c.closedAt = Date.now()));
    ws.on('error', () => undefined);
  });

  const fake: FakeLongconn = {
    url,
    connections,
    subscribes,
    frames,
    violations,
    media,
    live,
    say({ userid, text, chatid, msgid }) {
      const chat = chatid ?? userid;
      spoken.add(chat);
      const body: Record<string, unknown> = {
        ...(msgid ? { msgid } : {}),
        aibotid: o.botId,
        ...(chatid ? { chatid } : {}),
        chattype: chatid ? 'group' : 'single',
        from: { userid },
        msgtype: 'text',
        text: { content: chatid ? `@后勤助手 ${text}` : text },
      };
      return callback('aibot_msg_callback', body, { kind: 'msg', chat });
    },
    click({ userid, key, taskId, chatid }) {
      const body = {
        create_time: Math.floor(Date.now() / 1000),
        aibotid: o.botId,
        ...(chatid ? { chatid } : {}),
        chattype: chatid ? 'group' : 'single',
        from: { userid },
        msgtype: 'event',
        event: {
          eventtype: 'template_card_event',
          template_card_event: { card_type: 'button_interaction', event_key: key, task_id: taskId },
        },
      };
      return callback('aibot_event_callback', body, { kind: 'click', chat: chatid ?? userid, taskId });
    },
    enterChat(userid) {
      const body = {
        create_time: Math.floor(Date.now() / 1000),
        aibotid: o.botId,
        chattype: 'single',
        from: { userid },
        msgtype: 'event',
        event: { eventtype: 'enter_chat' },
      };
      return callback('aibot_event_callback', body, { kind: 'enter', chat: userid });
    },
    pushRaw(cmd, body) {
      const b = body as any;
      const click = b?.event?.eventtype === 'template_card_event';
      const taskId = b?.event?.template_card_event?.task_id ?? b?.event?.task_id;
      const chat = b?.chatid ?? b?.from?.userid ?? '?';
      return callback(cmd, b, click ? { kind: 'click', chat, taskId } : { kind: 'msg', chat });
    },
    drop(conn) {
      const c = conn ?? live()[0];
      if (!c) return;
      c.closedAt = Date.now(); // at once: what is pushed from now on waits for the next connection
      c.ws.terminate();
    },
    delivered() {
      return frames.filter((f) => (f.cmd === 'aibot_respond_msg' || f.cmd === 'aibot_send_msg') && f.errcode === 0);
    },
    async waitFor(what, pred, timeoutMs = 15_000) {
      let found: LcFrame | undefined;
      await fake.until(what, () => !!(found = frames.find(pred)), timeoutMs);
      return found!;
    },
    async until(what, fn, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      while (!fn()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      for (const c of connections) c.ws.terminate();
      wss.close();
      await new Promise((r) => server.close(r));
    },
  };
  return fake;
}

/** The text of a delivered message (markdown content, card title and buttons), for matching. */
export function lcText(f: LcFrame): string {
  return JSON.stringify(f.body ?? {});
}
