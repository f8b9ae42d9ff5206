// 未识别: the messages the bot could not read (and reports people said 不是 to). A manager turns one into a report
// with a tap, and may teach the bot the words it did not know. A module of its own beside console.js; it reads the
// person picked in 我是 from the page and talks to …/console/api/unread*.
const params = new URLSearchParams(location.search);
const token = params.get('token') || '';
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** The site's kinds of work (报修, 保洁, 餐评, and its own such as 运送), from the roster. */
let kinds = [
  ['repair', '报修'],
  ['cleaning', '保洁'],
  ['meal', '餐评'],
];
const trades = [
  '水',
  '电',
  '空调',
  '暖气',
  '燃气',
  '消防',
  '网络',
  '弱电',
  '电梯',
  '家电',
  '门窗',
  '桌椅',
  '床',
  '柜子',
  '木',
  '土建',
  '玩具',
  '医疗设备',
];

async function api(path, body) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers['x-console-token'] = token;
  const res = await fetch(
    new URL(`api/${path}`, import.meta.url), // …/console/api/ wherever the page is mounted
    body ? { method: 'POST', headers, body: JSON.stringify(body) } : { headers },
  );
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== false && v !== undefined) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
  return e;
}

const me = () => /** @type {HTMLSelectElement} */ ($('as')).value;

function select(options, label) {
  return h('select', { 'aria-label': label }, ...options.map(([v, t]) => h('option', { value: v }, t)));
}

function renderItem(u) {
  const kind = select(kinds, '类别');
  const trade = select([['', '工种（可不选）'], ...trades.map((t) => [t, t])], '工种');
  const place = h('input', { type: 'text', placeholder: '地点（可不填）', 'aria-label': '地点', maxlength: '40' });
  const words = (u.words || []).map((w) =>
    h('label', { class: 'word' }, h('input', { type: 'checkbox', value: w }), w),
  );
  const status = h('span', { class: 'hint', role: 'status' });
  const act = async (path, body, button) => {
    button.disabled = true;
    try {
      const r = await api(path, body);
      status.textContent = r.task
        ? `已登记为 #${r.task}${r.learned?.length ? `，记住了：${r.learned.join('、')}` : ''}`
        : '已忽略';
      setTimeout(load, 1200);
    } catch (err) {
      status.textContent = `没成功：${err.message}`;
      button.disabled = false;
    }
  };
  const toReport = h('button', { type: 'button', class: 'btn btn-small btn-primary' }, '转为报修');
  toReport.addEventListener('click', () => {
    const chosen = words
      .map((l) => l.querySelector('input'))
      .filter((i) => i.checked)
      .map((i) => i.value);
    const body = { as: me(), id: u.id, kind: kind.value, words: chosen };
    if (trade.value) body.trade = trade.value;
    if (place.value.trim()) body.place = place.value.trim();
    if (chosen.length && !trade.value && kind.value === 'repair') {
      status.textContent = '要记住生词，请先选工种。';
      return;
    }
    act('unread/report', body, toReport);
  });
  const dismiss = h('button', { type: 'button', class: 'btn btn-small' }, '忽略');
  dismiss.addEventListener('click', () => act('unread/dismiss', { as: me(), id: u.id }, dismiss));
  const why = u.reason === 'declined' ? `说“不是”（猜的是${u.guess || '报修'}）` : '没看懂';
  return h(
    'li',
    { class: 'unread-item' },
    h('p', {}, h('strong', {}, u.name), ` · ${new Date(u.at).toLocaleString('zh-CN')} · ${why}`),
    h('p', { class: 'unread-text' }, u.text),
    words.length ? h('p', { class: 'hint' }, '生词（勾选后登记时一并记住）：', ...words) : null,
    h('div', { class: 'unread-actions' }, kind, trade, place, toReport, dismiss, status),
  );
}

async function load() {
  const list = $('unread');
  if (!list) return;
  try {
    const roster = await api('roster');
    if (Array.isArray(roster.kinds)) kinds = roster.kinds.map((k) => [k.id, k.name]);
    const { items } = await api('unread');
    $('unread-empty').hidden = items.length > 0;
    list.replaceChildren(...items.map(renderItem));
  } catch (err) {
    $('unread-empty').hidden = false;
    $('unread-empty').textContent = `读不到未识别列表：${err.message}`;
  }
}

// 名册外: people not on the roster who wrote; one line each with how many messages and their last texts.
function renderStranger(s) {
  const status = h('span', { class: 'hint', role: 'status' });
  const dismiss = h('button', { type: 'button', class: 'btn btn-small' }, '移出列表');
  dismiss.addEventListener('click', async () => {
    dismiss.disabled = true;
    try {
      await api('strangers/dismiss', { as: me(), id: s.id });
      status.textContent = '已移出';
      setTimeout(loadStrangers, 800);
    } catch (err) {
      status.textContent = `没成功：${err.message}`;
      dismiss.disabled = false;
    }
  });
  const when = (t) => new Date(t).toLocaleString('zh-CN');
  return h(
    'li',
    { class: 'unread-item' },
    h('p', {}, h('strong', {}, s.id), ` · ${s.count} 条 · ${when(s.first)} – ${when(s.last)}`),
    ...s.texts.map((t) => h('p', { class: 'unread-text' }, t)),
    h('div', { class: 'unread-actions' }, dismiss, status),
  );
}

async function loadStrangers() {
  const list = $('strangers');
  if (!list) return;
  try {
    const { items } = await api('strangers');
    $('strangers-empty').hidden = items.length > 0;
    list.replaceChildren(...items.map(renderStranger));
  } catch (err) {
    $('strangers-empty').hidden = false;
    $('strangers-empty').textContent = `读不到名册外列表：${err.message}`;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('unread-refresh')?.addEventListener('click', load);
  $('strangers-refresh')?.addEventListener('click', loadStrangers);
  $('tab-board')?.addEventListener('click', () => {
    load();
    loadStrangers();
  });
  load();
  loadStrangers();
});
