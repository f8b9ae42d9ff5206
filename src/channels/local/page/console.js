// 后勤助手 · 体验台 — the browser side of the local console. Plain ES module, no dependencies, no build.
// Talks to /console/api/* (JSON) and /console/api/events (Server-Sent Events). Every piece of text that comes
// from people or the server is put on the page with textContent / createTextNode, never as HTML.

const API = new URL('api/', import.meta.url); // …/console/api/ wherever the page is mounted
const params = new URLSearchParams(location.search);
const token = params.get('token') || '';

const STATE_LABEL = {
  open: '待接单',
  claimed: '处理中',
  on_hold: '已挂起',
  done: '待验收',
  accepted: '已验收',
  cancelled: '已撤销',
};
const STATE_ORDER = ['open', 'claimed', 'on_hold', 'done', 'accepted', 'cancelled'];
const KIND_LABEL = { repair: '报修', cleaning: '保洁', meal: '餐评' };
/** The site's name for a kind (运送, 医废收运 …), from the roster; the built-in names until it has loaded. */
const kindLabel = (id) => roster.kinds?.find((k) => k.id === id)?.name ?? KIND_LABEL[id] ?? id;
const STEP_LABEL = { remind: '提醒班组', assign: '按值班派单', escalate: '上报主任', autoaccept: '自动验收' };
const ROLE_LABEL = {
  teacher: '老师',
  nurse: '保健医生',
  staff: '职工',
  worker: '后勤师傅',
  canteen_manager: '食堂负责人',
  manager: '后勤主任',
  director: '园长',
};
const ROLE_GROUPS = [
  { label: '老师和保健医生', roles: ['teacher', 'nurse', 'staff'] },
  { label: '后勤师傅', roles: ['worker', 'canteen_manager'] },
  { label: '园长和后勤主任', roles: ['manager', 'director'] },
];
const CHIPS = {
  teacher: ['报修 小一班 空调不制冷', '保洁 午睡室 有呕吐物', '餐评 4 汤有点咸', '我的', '帮助'],
  worker: ['我的', '完工 ', '挂起  待配件', '帮助'],
  manager: ['我的', '日报', '转单  @吴师傅', '帮助'],
};
const DM_NAME = '私聊机器人';
const BOT_NAME = '后勤助手';

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const el = {
  org: $('org-name'),
  conn: $('conn'),
  newWindow: /** @type {HTMLAnchorElement} */ ($('new-window')),
  as: /** @type {HTMLSelectElement} */ ($('as')),
  chat: /** @type {HTMLSelectElement} */ ($('chat')),
  tabChat: $('tab-chat'),
  tabBoard: $('tab-board'),
  tabChatBadge: $('tab-chat-badge'),
  tabBoardBadge: $('tab-board-badge'),
  paneChat: $('pane-chat'),
  paneBoard: $('pane-board'),
  alert: $('alert'),
  dmNotice: $('dm-notice'),
  chatTitle: $('chat-title'),
  scroller: $('scroller'),
  messages: $('messages'),
  empty: $('empty'),
  composer: /** @type {HTMLFormElement} */ ($('composer')),
  input: /** @type {HTMLTextAreaElement} */ ($('input')),
  send: /** @type {HTMLButtonElement} */ ($('send')),
  photo: /** @type {HTMLInputElement} */ ($('photo')),
  photoBtn: $('photo-btn'),
  photoPreview: $('photo-preview'),
  photoPreviewImg: /** @type {HTMLImageElement} */ ($('photo-preview-img')),
  photoPreviewName: $('photo-preview-name'),
  photoRemove: $('photo-remove'),
  chips: $('chips'),
  refresh: $('refresh'),
  boardStatus: $('board-status'),
  tasks: $('tasks'),
  jobs: $('jobs'),
  jobsEmpty: $('jobs-empty'),
  jobDate: /** @type {HTMLInputElement} */ ($('job-date')),
  jobDateClear: $('job-date-clear'),
};

/** @type {{ org: {name: string}, people: {id: string, name: string, roles: string[], title?: string}[], chats: {id: string, name: string, type: string}[] }} */
let roster = { org: { name: '' }, people: [], chats: [] };
let me = /** @type {{id: string, name: string, roles: string[], title?: string} | undefined} */ (undefined);
let chatId = '';
/** Messages of the open chat by id, so an event and a history read never show one message twice. */
let shown = new Map();
let lastId = /** @type {string | null} */ (null);
let loadSeq = 0; // a newer chat load makes an older one's answer stale
const unread = new Map(); // chat id → messages that came while another chat was open (own DM only)
let tasks = [];
/** The photo chosen to go with the next message, as a data URL. */
let photo = /** @type {string | null} */ (null);

// ── HTTP ─────────────────────────────────────────────────────────────────────────────────────────────
async function api(path, body) {
  const headers = { accept: 'application/json' };
  if (token) headers['x-console-token'] = token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(new URL(path, API), {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error('连不上服务，请检查服务是否在运行。');
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const why = data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
    if (res.status === 401 || res.status === 403)
      throw new Error(
        '需要访问令牌：请用带 ?token= 的完整链接打开体验台（令牌见服务启动日志或 HOUQIN_CONSOLE_TOKEN）。',
      );
    if (res.status === 413) throw new Error('照片太大了，请换一张小一点的照片。');
    throw new Error(why);
  }
  return data;
}

let alertTimer = 0;
function showError(err) {
  el.alert.textContent = err instanceof Error ? err.message : String(err);
  el.alert.hidden = false;
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => (el.alert.hidden = true), 8000);
}

// ── small helpers ────────────────────────────────────────────────────────────────────────────────────
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null && c !== false) node.append(c);
  return node;
}

const sameDay = (a, b) =>
  a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
const hhmm = new Intl.DateTimeFormat('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false });
function clock(ms) {
  const d = new Date(ms);
  return sameDay(d, new Date()) ? hhmm.format(d) : `${d.getMonth() + 1}月${d.getDate()}日 ${hhmm.format(d)}`;
}
function fromNow(ms) {
  const s = Math.round((ms - Date.now()) / 1000);
  if (s <= 30) return '即将执行';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} 分钟后`;
  const hrs = Math.round(m / 6) / 10;
  if (hrs < 48) return `${hrs} 小时后`;
  return `${Math.round(hrs / 24)} 天后`;
}
const dmOf = (personId) => `dm:${personId}`;
const chatName = (id) => (id.startsWith('dm:') ? DM_NAME : (roster.chats.find((c) => c.id === id)?.name ?? id));
const visibleChats = () => [...roster.chats, ...(me ? [{ id: dmOf(me.id), name: DM_NAME, type: 'dm' }] : [])];
const canSee = (chat) => visibleChats().some((c) => c.id === chat);

// ── URL state ────────────────────────────────────────────────────────────────────────────────────────
function writeUrl() {
  const q = new URLSearchParams(location.search);
  if (me) q.set('as', me.id);
  if (chatId) q.set('chat', chatId);
  history.replaceState(null, '', `${location.pathname}?${q}`);
  const other = new URLSearchParams();
  if (token) other.set('token', token);
  el.newWindow.href = `${location.pathname}${other.toString() ? `?${other}` : ''}`;
  document.title = me ? `${me.name} · ${chatName(chatId)} — 后勤助手` : '后勤助手 · 体验台';
}

/** 小一班班主任 → 小一班 */
const classOf = (person) => /^(.{1,4}?班)/.exec(person?.title ?? '')?.[1];

/** Where a person would naturally be: a teacher in their class group, the manager in the manager group… */
function defaultChat(person) {
  const roles = person.roles;
  const cls = classOf(person);
  const own = cls && roster.chats.find((x) => x.type === 'class' && x.name.startsWith(cls));
  if (own) return own.id;
  const prefer = roles.includes('teacher')
    ? 'class'
    : roles.includes('manager')
      ? 'manager'
      : roles.includes('director')
        ? 'leadership'
        : '';
  const c = prefer && roster.chats.find((x) => x.type === prefer);
  return c ? c.id : dmOf(person.id);
}

// ── pickers ──────────────────────────────────────────────────────────────────────────────────────────
function fillPeople() {
  el.as.replaceChildren();
  const used = new Set();
  for (const g of ROLE_GROUPS) {
    const members = roster.people.filter((p) => !used.has(p.id) && p.roles.some((r) => g.roles.includes(r)));
    if (!members.length) continue;
    const group = h('optgroup', { label: g.label });
    for (const p of members) {
      used.add(p.id);
      group.append(
        h('option', { value: p.id, text: `${p.name} · ${p.title || ROLE_LABEL[p.roles[0]] || p.roles[0] || ''}` }),
      );
    }
    el.as.append(group);
  }
  const rest = roster.people.filter((p) => !used.has(p.id));
  if (rest.length) {
    const group = h('optgroup', { label: '其他' });
    for (const p of rest) group.append(h('option', { value: p.id, text: p.title ? `${p.name} · ${p.title}` : p.name }));
    el.as.append(group);
  }
}

function fillChats() {
  el.chat.replaceChildren();
  const groups = h('optgroup', { label: '群聊' });
  for (const c of roster.chats) groups.append(h('option', { value: c.id, text: c.name }));
  const dms = h('optgroup', { label: '私聊' });
  if (me) dms.append(h('option', { value: dmOf(me.id), text: withUnread(DM_NAME, dmOf(me.id)) }));
  el.chat.append(groups, dms);
  el.chat.value = chatId;
}

function withUnread(name, id) {
  const n = unread.get(id) || 0;
  return n ? `${name}（${n} 条新消息）` : name;
}

/** Only one's own DM counts as unread: that is where the bot tells a person what concerns them. */
function refreshUnread() {
  const dm = me ? dmOf(me.id) : '';
  const n = chatId === dm ? 0 : unread.get(dm) || 0;
  for (const opt of el.chat.options) if (opt.value === dm) opt.textContent = withUnread(DM_NAME, dm);
  el.chat.classList.toggle('has-unread', n > 0);
  el.tabChatBadge.textContent = n ? String(n) : '';
  el.tabChatBadge.hidden = !n;
  el.dmNotice.hidden = !n;
  el.dmNotice.textContent = n ? `私聊机器人有 ${n} 条新消息，点此查看` : '';
}

function openChat(id) {
  chatId = id;
  el.chat.value = id;
  writeUrl();
  loadChat();
}

function fillChips() {
  const roles = me?.roles ?? [];
  const mine = classOf(me);
  const list =
    roles.includes('manager') || roles.includes('director')
      ? CHIPS.manager
      : roles.includes('worker')
        ? CHIPS.worker
        : CHIPS.teacher.map((t) => (mine ? t.replace('小一班', mine) : t));
  el.chips.replaceChildren(
    ...list.map((text) =>
      h('button', {
        type: 'button',
        class: 'chip',
        text: text.trim(),
        'aria-label': `填入“${text.trim()}”`,
        onclick: () => {
          el.input.value = text;
          const gap = text.indexOf('  ');
          const pos = gap >= 0 ? gap + 1 : text.length;
          el.input.focus();
          el.input.setSelectionRange(pos, pos);
          autosize();
        },
      }),
    ),
  );
}

// ── messages ─────────────────────────────────────────────────────────────────────────────────────────
/** **bold**, `code`, line breaks; WeCom's <font> tags and links reduced to their text. Never HTML. */
function markdown(text) {
  const frag = document.createDocumentFragment();
  const cleaned = text.replace(/<\/?font[^>]*>/gi, '').replace(/\[([^\]]+)\]\((?:[^)]+)\)/g, '$1');
  cleaned.split('\n').forEach((raw, i) => {
    if (i) frag.append(document.createElement('br'));
    let line = raw;
    let wrap = null;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    const quote = /^>\s?(.*)$/.exec(line);
    if (heading) {
      wrap = h('strong', { class: 'md-h' });
      line = heading[1];
    } else if (quote) {
      wrap = h('span', { class: 'md-quote' });
      line = quote[1];
    }
    const target = wrap ?? frag;
    for (const part of line.split(/(\*\*[^*]+\*\*|`[^`]+`)/)) {
      if (!part) continue;
      if (part.startsWith('**') && part.endsWith('**') && part.length > 4)
        target.append(h('strong', { text: part.slice(2, -2) }));
      else if (part.startsWith('`') && part.endsWith('`') && part.length > 2)
        target.append(h('code', { text: part.slice(1, -1) }));
      else target.append(document.createTextNode(part));
    }
    if (wrap) frag.append(wrap);
  });
  return frag;
}

function renderCard(msg) {
  const card = msg.card ?? { ref: '', title: '（卡片）', fields: [], buttons: [] };
  const titleId = `card-${msg.id}-title`;
  const buttons = card.buttons ?? [];
  const box = h(
    'article',
    { class: 'card', 'aria-labelledby': titleId, 'data-ref': card.ref },
    h('h3', { class: 'card-title', id: titleId, text: card.title }),
    card.description ? h('p', { class: 'card-desc', text: card.description }) : null,
    card.fields?.length
      ? h(
          'dl',
          { class: 'card-fields' },
          ...card.fields.map((f) =>
            h('div', { class: 'card-field' }, h('dt', { text: f.label }), h('dd', { text: f.value })),
          ),
        )
      : null,
  );
  if (buttons.length) {
    const row = h('div', { class: 'card-actions' });
    for (const b of buttons) {
      const noop = b.key.startsWith('noop:');
      const style = noop ? 'muted' : b.style || 'default';
      row.append(
        h('button', {
          type: 'button',
          class: `btn card-btn btn-${style}`,
          text: b.text,
          disabled: noop,
          'data-key': b.key,
          onclick: () => click(msg, b, box),
        }),
      );
    }
    box.append(row);
  }
  return box;
}

const SAFE_IMAGE = /^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/;
const PHOTO_HASH = /^[0-9a-f]{64}$/;

/** A stored photo, served by the console API (behind the same token as the rest of it). */
function photoUrl(hash) {
  const url = new URL(`photos/${hash}`, API);
  if (token) url.searchParams.set('token', token);
  return url.toString();
}

/** A thumbnail that opens the full photo in a new tab. */
function thumb(hash, alt) {
  return h(
    'a',
    { href: photoUrl(hash), target: '_blank', rel: 'noopener', 'aria-label': `查看大图：${alt}` },
    h('img', { class: 'thumb', src: photoUrl(hash), alt, loading: 'lazy' }),
  );
}

function renderBody(msg) {
  if (msg.type === 'card') return renderCard(msg);
  if (msg.type === 'image' && typeof msg.photo === 'string' && PHOTO_HASH.test(msg.photo)) {
    // A photo someone sent (or the bot passed on): a thumbnail, with the words that came with it.
    const alt = msg.text || '照片';
    const fig = h(
      'figure',
      { class: 'photo' },
      thumb(msg.photo, alt),
      msg.text ? h('figcaption', { text: msg.text }) : null,
    );
    fig.querySelector('img')?.addEventListener('load', () => nearBottom(400) && toBottom());
    return fig;
  }
  if (msg.type === 'image' && typeof msg.image === 'string' && SAFE_IMAGE.test(msg.image)) {
    // A chart from the bot (e.g. the digest), embedded in the message itself: nothing is fetched.
    return h(
      'figure',
      { class: 'picture' },
      h('img', { src: msg.image, alt: msg.text || '图片', onload: () => nearBottom(400) && toBottom() }),
      msg.text ? h('figcaption', { text: msg.text }) : null,
    );
  }
  const bubble = h('div', { class: 'bubble' });
  if (msg.type === 'markdown') bubble.append(markdown(msg.text ?? ''));
  else bubble.textContent = msg.text ?? '';
  if (me && msg.text?.includes(`@${me.name}`)) bubble.classList.add('mentions-me');
  return bubble;
}

function renderMessage(msg) {
  const bot = msg.from.kind === 'bot';
  const mine = !bot && me && msg.from.id === me.id;
  const name = bot ? msg.from.name || BOT_NAME : msg.from.name;
  const li = h(
    'li',
    {
      class: `msg ${bot ? 'msg-bot' : mine ? 'msg-me' : 'msg-person'}${msg.type === 'card' || msg.type === 'image' ? ' msg-card' : ''}`,
      'data-id': msg.id,
      'data-at': msg.at,
    },
    h('span', { class: 'avatar', 'aria-hidden': 'true', text: bot ? '助' : ([...name][0] ?? '?') }),
    h(
      'div',
      { class: 'msg-main' },
      h(
        'div',
        { class: 'meta' },
        h('span', { class: 'sender', text: name }),
        h('time', { datetime: new Date(msg.at).toISOString(), text: clock(msg.at) }),
      ),
      renderBody(msg),
    ),
  );
  return li;
}

function nearBottom(slack = 160) {
  const s = el.scroller;
  return s.scrollHeight - s.scrollTop - s.clientHeight < slack;
}
function toBottom() {
  el.scroller.scrollTop = el.scroller.scrollHeight;
}

/** Adds a message of the open chat in time order; ignores one already shown. */
function addMessage(msg, { scroll = false } = {}) {
  if (msg.chat !== chatId || shown.has(msg.id)) return;
  const stick = scroll || nearBottom() || (msg.from.kind === 'person' && msg.from.id === me?.id);
  shown.set(msg.id, msg);
  const li = renderMessage(msg);
  let before = null;
  for (let n = el.messages.lastElementChild; n; n = n.previousElementSibling) {
    if (Number(n.getAttribute('data-at')) <= msg.at) break;
    before = n;
  }
  el.messages.insertBefore(li, before);
  if (!lastId || before === null) lastId = msg.id;
  el.empty.hidden = true;
  if (stick) toBottom();
}

function updateCard(id, chat, card) {
  if (chat !== chatId) return;
  const msg = shown.get(id);
  const li = el.messages.querySelector(`li[data-id="${CSS.escape(id)}"]`);
  if (!msg || !li) return;
  msg.card = card;
  li.querySelector('.card')?.replaceWith(renderCard(msg));
}

async function loadChat() {
  const seq = ++loadSeq;
  const chat = chatId;
  shown = new Map();
  lastId = null;
  el.messages.replaceChildren();
  el.empty.hidden = true;
  el.chatTitle.textContent = chatName(chat);
  unread.delete(chat);
  refreshUnread();
  el.messages.setAttribute('aria-busy', 'true'); // a screen reader reads the history once, not message by message
  try {
    const data = await api(`messages?chat=${encodeURIComponent(chat)}`);
    if (seq !== loadSeq) return;
    for (const m of data.messages) addMessage({ ...m, chat });
    if (data.last) lastId = data.last;
    el.empty.hidden = shown.size > 0;
    toBottom();
  } catch (err) {
    if (seq === loadSeq) showError(err);
  } finally {
    if (seq === loadSeq) el.messages.removeAttribute('aria-busy');
  }
}

/** After a reconnect: what the open chat missed while the event stream was down. */
async function catchUp() {
  const chat = chatId;
  try {
    const q = new URLSearchParams({ chat });
    if (lastId) q.set('since', lastId);
    const data = await api(`messages?${q}`);
    if (chat !== chatId) return;
    for (const m of data.messages) addMessage({ ...m, chat });
    el.empty.hidden = shown.size > 0;
  } catch {
    /* the next event or reconnect tries again */
  }
}

// ── actions ──────────────────────────────────────────────────────────────────────────────────────────
async function send(e) {
  e?.preventDefault();
  const text = el.input.value.trim();
  if ((!text && !photo) || !me || el.send.disabled) return;
  el.send.disabled = true;
  const chat = chatId;
  try {
    const body = { as: me.id, chat };
    if (text) body.text = text;
    if (photo) body.image = photo;
    const { id } = await api('messages', body);
    el.input.value = '';
    setPhoto(null);
    autosize();
    toBottom();
    // The message comes back as an event; should the stream be down, read it from the chat instead.
    setTimeout(() => id && chat === chatId && !shown.has(id) && catchUp(), 1500);
  } catch (err) {
    showError(err);
  } finally {
    el.send.disabled = false;
    el.input.focus();
  }
}

async function click(msg, button, box) {
  if (!me) return;
  const buttons = [...box.querySelectorAll('button')];
  buttons.forEach((b) => (b.disabled = true));
  box.setAttribute('aria-busy', 'true');
  try {
    const res = await api('click', { as: me.id, chat: msg.chat, messageId: msg.id, key: button.key });
    if (res?.card) updateCard(msg.id, msg.chat, res.card);
    else {
      // The server kept the card as it was: say the tap went through, and let it be tapped again.
      buttons.forEach((b) => (b.disabled = b.getAttribute('data-key')?.startsWith('noop:') ?? false));
      box.removeAttribute('aria-busy');
      box.querySelector('.card-note')?.remove();
      box.append(h('p', { class: 'card-note', text: `已点“${button.text}”` }));
    }
  } catch (err) {
    buttons.forEach((b) => (b.disabled = b.getAttribute('data-key')?.startsWith('noop:') ?? false));
    box.removeAttribute('aria-busy');
    showError(err);
  }
}

/** Chooses (or with null, drops) the photo that goes with the next message. */
function setPhoto(dataUrl, name = '') {
  photo = dataUrl;
  el.photoPreview.hidden = !dataUrl;
  el.photoPreviewImg.src = dataUrl ?? '';
  el.photoPreviewName.textContent = dataUrl ? name || '照片' : '';
  if (!dataUrl) el.photo.value = '';
}

function pickPhoto() {
  const file = el.photo.files?.[0];
  if (!file) return;
  if (!/^image\/(jpeg|png|gif|webp)$/.test(file.type)) {
    showError('只能发 JPG、PNG、GIF 或 WebP 照片。');
    el.photo.value = '';
    return;
  }
  const reader = new FileReader();
  reader.onload = () => {
    setPhoto(String(reader.result), file.name);
    el.input.focus();
  };
  reader.onerror = () => showError('这张照片读不出来，请换一张。');
  reader.readAsDataURL(file);
}

function autosize() {
  el.input.style.height = 'auto';
  el.input.style.height = `${Math.min(el.input.scrollHeight, 140)}px`;
}

// ── board ────────────────────────────────────────────────────────────────────────────────────────────
/** Timers that can still act in this state: a reminder left over from before the claim is not "next". The
 *  escalation of a claimed task only acts while the assignee has not confirmed (`acked: false`, if the API says). */
const LIVE_STEPS = { open: ['remind', 'assign', 'escalate'], done: ['autoaccept'] };

function renderTask(t) {
  const live = t.state === 'claimed' && t.acked === false ? ['escalate'] : (LIVE_STEPS[t.state] ?? []);
  const next = (t.timers ?? []).filter((x) => live.includes(x.step)).sort((a, b) => a.at - b.at)[0];
  const text = t.place && !t.text.includes(t.place) ? `${t.place} · ${t.text}` : t.text;
  const people = [`报修人 ${t.reporter?.name ?? ''}`, t.assignee ? `处理人 ${t.assignee.name}` : null]
    .filter(Boolean)
    .join(' · ');
  return h(
    'li',
    { class: `task task-${t.state}`, 'data-task': t.id },
    h(
      'div',
      { class: 'task-top' },
      h('span', { class: 'task-id', text: `#${t.id}` }),
      h('span', { class: 'tag', text: kindLabel(t.kind) }),
      t.urgent ? h('span', { class: 'tag tag-urgent', text: '紧急' }) : null,
      h('span', { class: `state state-${t.state}`, text: STATE_LABEL[t.state] ?? t.state }),
    ),
    h('p', { class: 'task-text', text }),
    h('p', { class: 'task-meta', text: `${people} · ${clock(t.createdAt)}` }),
    t.photos?.length
      ? h(
          'div',
          { class: 'task-photos', 'aria-label': `#${t.id} 的照片` },
          ...t.photos
            .filter((p) => PHOTO_HASH.test(p.hash))
            .map((p) => {
              const kind = p.kind === 'done' ? '完工' : '现场';
              const link = thumb(p.hash, `#${t.id} ${kind}照片`);
              link.append(h('span', { class: 'photo-kind', text: kind, 'aria-hidden': 'true' }));
              return link;
            }),
        )
      : null,
    next
      ? h('p', {
          class: 'task-next',
          text: `下一步：${STEP_LABEL[next.step] ?? next.step} · ${fromNow(next.at)}（${clock(next.at)}）`,
        })
      : null,
  );
}

function renderBoard() {
  const active = tasks.filter((t) => t.state !== 'accepted' && t.state !== 'cancelled').length;
  el.tabBoardBadge.textContent = active ? String(active) : '';
  el.tabBoardBadge.hidden = !active;
  if (!tasks.length) {
    el.tasks.replaceChildren(
      h('p', { class: 'hint board-empty', text: '现在没有进行中的任务。到对话里发一条“报修 小一班 空调不制冷”试试。' }),
    );
    return;
  }
  const sections = [];
  for (const state of STATE_ORDER) {
    const list = tasks.filter((t) => t.state === state).sort((a, b) => b.createdAt - a.createdAt);
    if (!list.length) continue;
    const id = `state-${state}`;
    sections.push(
      h(
        'section',
        { class: 'state-group', 'aria-labelledby': id },
        h(
          'h3',
          { class: 'state-title', id },
          h('span', { class: `dot state-${state}`, 'aria-hidden': 'true' }),
          document.createTextNode(`${STATE_LABEL[state]} `),
          h('span', { class: 'count', text: String(list.length) }),
        ),
        h('ul', { class: 'task-list', 'aria-labelledby': id }, ...list.map(renderTask)),
      ),
    );
  }
  el.tasks.replaceChildren(...sections);
}

let boardTimer = 0;
let boardBusy = false;
let boardAgain = false;
/** At most one board read per burst of events, and never later than `delay` after the first of them. */
function refreshBoardSoon(delay = 300) {
  if (boardTimer) return;
  boardTimer = setTimeout(() => {
    boardTimer = 0;
    refreshBoard();
  }, delay);
}
async function refreshBoard() {
  if (boardBusy) {
    boardAgain = true;
    return;
  }
  boardBusy = true;
  try {
    const data = await api('tasks');
    tasks = Array.isArray(data.tasks) ? data.tasks : [];
    renderBoard();
  } catch (err) {
    showError(err);
  } finally {
    boardBusy = false;
    if (boardAgain) {
      boardAgain = false;
      refreshBoardSoon(0);
    }
  }
}

const WEEKDAY = '日一二三四五六日';
/** Five-field cron in words, for the common shapes ("30 7 * * 1-5" → 周一至周五 07:30); anything else as written. */
function cronText(expr, everyDay) {
  const f = String(expr ?? '')
    .trim()
    .split(/\s+/);
  if (f.length !== 5) return expr ?? '';
  const [mi, hr, dom, mon, dow] = f;
  if (!/^\d+$/.test(mi) || !/^\d+(,\d+)*$/.test(hr) || mon !== '*') return expr;
  const times = hr
    .split(',')
    .map((x) => `${x.padStart(2, '0')}:${mi.padStart(2, '0')}`)
    .join('、');
  let days;
  if (dom === '*' && dow === '*') days = everyDay === false ? '每个上学日' : '每天';
  else if (dom === '*' && dow === '1-5') days = '周一至周五';
  else if (dom === '*' && /^[0-7](,[0-7])*$/.test(dow))
    days = `每周${dow
      .split(',')
      .map((d) => WEEKDAY[Number(d)])
      .join('、')}`;
  else if (/^\d+$/.test(dom) && dow === '*') days = `每月${dom}日`;
  else return expr;
  if (everyDay === false && !days.includes('上学日')) days += '（上学日）';
  return `${days} ${times}`;
}

async function loadJobs() {
  try {
    const { jobs } = await api('jobs');
    el.jobs.replaceChildren(
      ...(jobs ?? []).map((j) =>
        h(
          'li',
          { class: 'job' },
          h(
            'div',
            { class: 'job-text' },
            h('span', { class: 'job-title', text: j.title || j.name }),
            h('span', {
              class: 'job-schedule',
              title: j.schedule || '',
              text: [
                cronText(j.schedule, j.everyDay),
                j.enabled === false ? '已停用' : j.next ? `下次 ${clock(j.next)}` : '',
              ]
                .filter(Boolean)
                .join(' · '),
            }),
          ),
          h('button', {
            type: 'button',
            class: 'btn btn-small',
            'aria-label': `立即运行：${j.title || j.name}`,
            text: '立即运行',
            onclick: (e) => runJob(j, e.currentTarget),
          }),
        ),
      ),
    );
    el.jobsEmpty.hidden = (jobs ?? []).length > 0;
    el.jobs.hidden = !(jobs ?? []).length;
  } catch (err) {
    el.jobs.replaceChildren();
    el.jobs.hidden = true;
    el.jobsEmpty.hidden = false;
    showError(err);
  }
}

async function runJob(job, button) {
  button.disabled = true;
  // "Run now" as of a chosen day (the API's `date`): a past day's 日报, a checklist of another day.
  const date = /^\d{4}-\d{2}-\d{2}$/.test(el.jobDate.value) ? el.jobDate.value : '';
  try {
    await api('jobs/run', date ? { name: job.name, date } : { name: job.name });
    el.boardStatus.textContent = `已运行：${job.title || job.name}${date ? `（按 ${Number(date.slice(5, 7))}月${Number(date.slice(8))}日）` : ''}`;
    refreshBoardSoon(500);
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

async function advance(minutes, button) {
  button.disabled = true;
  try {
    const { promoted } = await api('timers/advance', { minutes });
    el.boardStatus.textContent = `已${button.textContent}：${promoted ? `触发了 ${promoted} 个定时器` : '这段时间里没有到期的定时器'}`;
    refreshBoardSoon(500);
  } catch (err) {
    showError(err);
  } finally {
    button.disabled = false;
  }
}

// ── live events ──────────────────────────────────────────────────────────────────────────────────────
function setConn(state) {
  el.conn.dataset.state = state;
  el.conn.textContent = state === 'open' ? '已连接' : state === 'connecting' ? '连接中…' : '重新连接中…';
}

function connect() {
  const url = new URL('events', API);
  if (token) url.searchParams.set('token', token);
  const es = new EventSource(url);
  let dropped = false;
  es.addEventListener('open', () => {
    setConn('open');
    if (dropped) {
      dropped = false;
      catchUp();
      refreshBoardSoon(0);
    }
  });
  es.addEventListener('error', () => {
    dropped = true;
    setConn(es.readyState === EventSource.CLOSED ? 'closed' : 'retrying');
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 3000); // e.g. a 401/500 answer: EventSource gives up by itself
  });
  es.addEventListener('message', (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    if (!msg?.chat) return;
    if (msg.chat === chatId) addMessage(msg);
    else if (me && msg.chat === dmOf(me.id)) {
      unread.set(msg.chat, (unread.get(msg.chat) || 0) + 1);
      refreshUnread();
    }
    refreshBoardSoon();
  });
  es.addEventListener('card', (e) => {
    try {
      const { id, chat, card } = JSON.parse(e.data);
      updateCard(id, chat, card);
    } catch {
      return;
    }
    refreshBoardSoon();
  });
}

// ── tabs (phone) ─────────────────────────────────────────────────────────────────────────────────────
function selectTab(which) {
  const board = which === 'board';
  el.tabChat.setAttribute('aria-selected', String(!board));
  el.tabBoard.setAttribute('aria-selected', String(board));
  el.tabChat.tabIndex = board ? -1 : 0;
  el.tabBoard.tabIndex = board ? 0 : -1;
  el.paneChat.dataset.active = String(!board);
  el.paneBoard.dataset.active = String(board);
  if (board) refreshBoardSoon(0);
  else toBottom();
}

// ── start ────────────────────────────────────────────────────────────────────────────────────────────
function choosePerson(id) {
  const prev = me;
  me = roster.people.find((p) => p.id === id) ?? roster.people[0];
  if (!me) return;
  el.as.value = me.id;
  if (prev && chatId === dmOf(prev.id))
    chatId = dmOf(me.id); // from one's own DM to the new person's own DM
  else if (!canSee(chatId)) chatId = defaultChat(me);
  unread.clear(); // the last person's unread DM is not this one's
  fillChats();
  fillChips();
}

async function start() {
  el.composer.addEventListener('submit', send);
  el.input.addEventListener('keydown', (e) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms a Chinese IME candidate does nothing.
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) send(e);
  });
  el.input.addEventListener('input', autosize);
  el.photoBtn.addEventListener('click', () => el.photo.click());
  el.photo.addEventListener('change', pickPhoto);
  el.photoRemove.addEventListener('click', () => setPhoto(null));
  el.as.addEventListener('change', () => {
    choosePerson(el.as.value);
    writeUrl();
    loadChat();
  });
  el.chat.addEventListener('change', () => openChat(el.chat.value));
  el.dmNotice.addEventListener('click', () => me && openChat(dmOf(me.id)));
  el.tabChat.addEventListener('click', () => selectTab('chat'));
  el.tabBoard.addEventListener('click', () => selectTab('board'));
  for (const t of [el.tabChat, el.tabBoard])
    t.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      const other = t === el.tabChat ? el.tabBoard : el.tabChat;
      other.focus();
      selectTab(other === el.tabBoard ? 'board' : 'chat');
    });
  el.jobDateClear.addEventListener('click', () => (el.jobDate.value = ''));
  el.refresh.addEventListener('click', () => {
    refreshBoard();
    loadJobs();
  });
  for (const b of el.paneBoard.querySelectorAll('button[data-minutes]'))
    b.addEventListener('click', () => advance(Number(b.getAttribute('data-minutes')), b));
  setInterval(() => tasks.length && renderBoard(), 30_000); // "3 分钟后" stays true

  try {
    roster = await api('roster');
  } catch (err) {
    showError(err);
    setConn('closed');
    return;
  }
  roster.chats = (roster.chats ?? []).filter((c) => !c.id.startsWith('dm:')); // the DM is added per person here
  el.org.textContent = roster.org?.name ? `${roster.org.name} · 后勤助手` : '后勤助手';
  fillPeople();

  const wantAs = params.get('as');
  const wantChat = params.get('chat');
  const first = roster.people.find((p) => p.roles.includes('teacher')) ?? roster.people[0];
  me = roster.people.find((p) => p.id === wantAs) ?? first;
  if (!me) {
    showError('名册里还没有人：请先在配置文件的 people 里添加。');
    return;
  }
  el.as.value = me.id;
  chatId = wantChat && canSee(wantChat) ? wantChat : wantChat?.startsWith('dm:') ? dmOf(me.id) : defaultChat(me);
  fillChats();
  fillChips();
  writeUrl();
  connect();
  await loadChat();
  refreshBoard();
  loadJobs();
}

start();
