// The fake WeCom server must enforce the rules that matter (protocols/wecom.md §3.6, §4, §5), or tests built on
// it prove nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeWecom, type FakeWecom } from '../helpers/fake-wecom.js';

const CORP = { corpId: 'wwcorp0001', corpSecret: 'secret-of-the-app', agentId: 1000002 };
let fake: FakeWecom;

beforeEach(async () => {
  fake = await startFakeWecom({
    ...CORP,
    webhookKeys: ['robot-key-1', 'robot-key-2'],
    knownUsers: ['zhangsan', 'lisi'],
  });
});
afterEach(async () => {
  await fake.close();
});

async function get(path: string): Promise<any> {
  const r = await fetch(fake.url + path);
  return r.json();
}
async function post(pathOrUrl: string, body: unknown, contentType = 'application/json'): Promise<any> {
  const r = await fetch(pathOrUrl.startsWith('http') ? pathOrUrl : fake.url + pathOrUrl, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return r.json();
}
async function token(): Promise<string> {
  const r = await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.corpSecret}`);
  expect(r.errcode).toBe(0);
  return r.access_token;
}
const text = (content: string, touser = 'zhangsan') => ({
  touser,
  msgtype: 'text',
  agentid: CORP.agentId,
  text: { content },
});
const buttonCard = (over: Record<string, unknown> = {}) => ({
  card_type: 'button_interaction',
  main_title: { title: '报修单 #1024' },
  task_id: `task_${Math.random().toString(36).slice(2)}`,
  button_list: [
    { text: '接单', style: 1, key: 'claim' },
    { text: '转单', style: 2, key: 'handover' },
  ],
  ...over,
});

describe('access token flow', () => {
  it('issues a long token with expires_in; a wrong secret gives 40001', async () => {
    const r = await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.corpSecret}`);
    expect(r.access_token.length).toBeGreaterThanOrEqual(32);
    expect(r.expires_in).toBe(7200);
    expect((await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=nope`)).errcode).toBe(40001);
  });

  it('message/send: missing 41001, unknown 40014, revoked 42001, fresh works', async () => {
    expect((await post('/cgi-bin/message/send', text('hi'))).errcode).toBe(41001);
    expect((await post('/cgi-bin/message/send?access_token=made-up', text('hi'))).errcode).toBe(40014);
    const t = await token();
    expect((await post(`/cgi-bin/message/send?access_token=${t}`, text('hi'))).errcode).toBe(0);
    fake.revokeTokens();
    expect((await post(`/cgi-bin/message/send?access_token=${t}`, text('hi'))).errcode).toBe(42001);
    const t2 = await token();
    expect((await post(`/cgi-bin/message/send?access_token=${t2}`, text('hi'))).errcode).toBe(0);
    // A missing token is the caller's bug; an expired one is not.
    expect(fake.violations().map((r) => r.errcode)).toEqual([41001]);
  });

  it('a token past its expires_in gives 42001', async () => {
    const short = await startFakeWecom({ ...CORP, webhookKeys: [], tokenTtlSeconds: 0.05 });
    try {
      const r = await (
        await fetch(`${short.url}/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.corpSecret}`)
      ).json();
      await new Promise((res) => setTimeout(res, 80));
      const s = await (
        await fetch(`${short.url}/cgi-bin/message/send?access_token=${r.access_token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(text('hi')),
        })
      ).json();
      expect(s.errcode).toBe(42001);
    } finally {
      await short.close();
    }
  });
});

describe('message/send format', () => {
  it('reports unknown users in invaliduser and still sends', async () => {
    const t = await token();
    const r = await post(`/cgi-bin/message/send?access_token=${t}`, text('hi', 'zhangsan|ghost'));
    expect(r).toMatchObject({ errcode: 0, invaliduser: 'ghost' });
    expect(r.msgid).toBeTruthy();
  });

  it('empty text 44004, over 2048 bytes 45002, string agentid and unknown msgtype are violations', async () => {
    const t = await token();
    const url = `/cgi-bin/message/send?access_token=${t}`;
    expect((await post(url, text(''))).errcode).toBe(44004);
    expect((await post(url, text('修'.repeat(683)))).errcode).toBe(45002); // 2049 bytes, 683 chars
    expect((await post(url, text('修'.repeat(682)))).errcode).toBe(0); // 2046 bytes
    expect((await post(url, { ...text('hi'), agentid: String(CORP.agentId) })).errcode).toBe(40056);
    expect((await post(url, { ...text('hi'), msgtype: 'card' })).errcode).toBe(40008);
    expect((await post(url, { ...text('hi'), touser: '' })).errcode).not.toBe(0);
    expect((await post(url, text('hi'), 'text/plain')).errcode).not.toBe(0);
    expect(fake.violations()).toHaveLength(6);
  });

  it('a good button card returns a response_code; a bad one is recorded as a violation', async () => {
    const t = await token();
    const url = `/cgi-bin/message/send?access_token=${t}`;
    const ok = await post(url, {
      touser: 'zhangsan',
      msgtype: 'template_card',
      agentid: CORP.agentId,
      template_card: buttonCard(),
    });
    expect(ok.errcode).toBe(0);
    expect(typeof ok.response_code).toBe('string');

    const bad = buttonCard({
      main_title: { title: '这是一个非常非常非常非常非常非常非常非常长的标题超过二十六个字' },
      task_id: 'has space',
      button_list: [
        { text: '一个太长太长的按钮文字啊', key: 'a' },
        { text: 'ok', key: 'a', style: 5 },
      ],
      horizontal_content_list: [{ keyname: '报修的地点在', value: 'x' }],
    });
    const r = await post(url, {
      touser: 'zhangsan',
      msgtype: 'template_card',
      agentid: CORP.agentId,
      template_card: bad,
    });
    expect(r.errcode).not.toBe(0);
    expect(r.response_code).toBeUndefined();
    const v = fake.violations();
    expect(v).toHaveLength(1);
    const msgs = v[0].violations.join('\n');
    for (const part of ['main_title.title', 'task_id', 'button_list[0].text', 'not unique', 'style', 'keyname'])
      expect(msgs).toContain(part);
  });

  it('too many buttons, none, and a reused task_id are violations', async () => {
    const t = await token();
    const url = `/cgi-bin/message/send?access_token=${t}`;
    const seven = Array.from({ length: 7 }, (_, i) => ({ text: `b${i}`, key: `k${i}` }));
    const send = (card: object) =>
      post(url, { touser: 'lisi', msgtype: 'template_card', agentid: CORP.agentId, template_card: card });
    expect((await send(buttonCard({ button_list: seven }))).errcode).not.toBe(0);
    expect((await send(buttonCard({ button_list: [] }))).errcode).not.toBe(0);
    const { task_id, ...noTask } = buttonCard();
    expect((await send(noTask)).errcode).not.toBe(0);
    expect((await send(buttonCard({ task_id: 'same-id' }))).errcode).toBe(0);
    expect((await send(buttonCard({ task_id: 'same-id' }))).errcode).not.toBe(0);
    expect(fake.violations()).toHaveLength(4);
  });
});

describe('update_template_card', () => {
  it('a response_code works once', async () => {
    const t = await token();
    const url = `/cgi-bin/message/update_template_card?access_token=${t}`;
    const sent = await post(`/cgi-bin/message/send?access_token=${t}`, {
      touser: 'zhangsan',
      msgtype: 'template_card',
      agentid: CORP.agentId,
      template_card: buttonCard(),
    });
    const body = {
      userids: ['zhangsan'],
      agentid: CORP.agentId,
      response_code: sent.response_code,
      button: { replace_name: '已接单' },
    };
    expect((await post(url, body)).errcode).toBe(0);
    expect((await post(url, body)).errcode).not.toBe(0);
    expect(fake.violations().map((r) => r.violations[0])).toEqual([expect.stringContaining('already used')]);

    const click = fake.mintClickResponseCode();
    const card = {
      agentid: CORP.agentId,
      response_code: click,
      template_card: { ...buttonCard(), task_id: undefined },
    };
    expect((await post(url, card)).errcode).toBe(0); // task_id is optional on update
    expect((await post(url, { ...body, response_code: 'never-issued' })).errcode).not.toBe(0);
    expect((await post(url, { agentid: CORP.agentId, response_code: fake.mintClickResponseCode() })).errcode).not.toBe(
      0,
    );
  });
});

describe('webhook/send', () => {
  it('unknown key 93000; the 21st call in a minute gets 45009, failures included, per key', async () => {
    expect((await post('/cgi-bin/webhook/send?key=nope', { msgtype: 'text', text: { content: 'x' } })).errcode).toBe(
      93000,
    );
    const url = '/cgi-bin/webhook/send?key=robot-key-1';
    for (let i = 0; i < 19; i++)
      expect((await post(url, { msgtype: 'text', text: { content: `#${i}` } })).errcode).toBe(0);
    expect((await post(url, { msgtype: 'text', text: { content: '' } })).errcode).toBe(44004); // the 20th, refused, still counts
    expect((await post(url, { msgtype: 'text', text: { content: '#21' } })).errcode).toBe(45009);
    expect(
      (await post('/cgi-bin/webhook/send?key=robot-key-2', { msgtype: 'text', text: { content: 'other robot' } }))
        .errcode,
    ).toBe(0);
  });

  it('markdown ≤ 4096 bytes, mentioned_list of strings, no button cards', async () => {
    const url = '/cgi-bin/webhook/send?key=robot-key-1';
    expect((await post(url, { msgtype: 'markdown', markdown: { content: 'a'.repeat(4096) } })).errcode).toBe(0);
    expect((await post(url, { msgtype: 'markdown', markdown: { content: 'a'.repeat(4097) } })).errcode).toBe(45002);
    expect(
      (await post(url, { msgtype: 'text', text: { content: 'hi', mentioned_list: 'zhangsan' } })).errcode,
    ).not.toBe(0);
    expect((await post(url, { msgtype: 'template_card', template_card: buttonCard() })).errcode).not.toBe(0);
    const notice = {
      card_type: 'text_notice',
      main_title: { title: '停水通知' },
      card_action: { type: 1, url: 'https://example.com' },
    };
    expect((await post(url, { msgtype: 'template_card', template_card: notice })).errcode).toBe(0);
    expect(
      (await post(url, { msgtype: 'template_card', template_card: { ...notice, card_action: undefined } })).errcode,
    ).toBe(42045);
    expect(fake.violations().map((r) => r.violations.join())).toEqual([
      expect.stringContaining('4097 bytes'),
      expect.stringContaining('mentioned_list'),
      expect.stringContaining('not allowed here'),
      expect.stringContaining('card_action'),
    ]);
  });
});

describe('response_url', () => {
  it('is single use and takes plain JSON markdown', async () => {
    const url = fake.mintResponseUrl();
    expect(url.startsWith(fake.url + '/cgi-bin/aibot/response?response_code=')).toBe(true);
    expect((await post(url, { msgtype: 'markdown', markdown: { content: '已收到报修 ✅' } })).errcode).toBe(0);
    expect((await post(url, { msgtype: 'markdown', markdown: { content: 'again' } })).errcode).not.toBe(0);
    // The same reply once more (a sender retrying after it died mid-call) is refused but is no violation.
    const repeat = await post(url, { msgtype: 'markdown', markdown: { content: '已收到报修 ✅' } });
    expect(repeat.errcode).not.toBe(0);
    expect(fake.requests.at(-1)!.repeat).toBe(true);
    const other = fake.mintResponseUrl();
    expect((await post(other, { encrypt: 'abc' })).errcode).not.toBe(0);
    expect((await post(other, { msgtype: 'markdown', markdown: { content: 'x'.repeat(20481) } })).errcode).toBe(45002);
    expect((await post(other, { msgtype: 'markdown', markdown: { content: 'x'.repeat(20480) } })).errcode).toBe(0); // failures did not spend it
    expect(fake.violations()).toHaveLength(3);
  });

  it('group response_url: a template_card is a violation when minted for a group', async () => {
    const url = fake.mintResponseUrl({ chattype: 'group' });
    expect((await post(url, { msgtype: 'template_card', template_card: buttonCard() })).errcode).not.toBe(0);
  });
});

describe('fault injection and waiting', () => {
  it('failNext answers with the errcode and commits nothing; holdNext delays the answer', async () => {
    const url = fake.mintResponseUrl();
    fake.failNext('response_url', -1);
    expect((await post(url, { msgtype: 'markdown', markdown: { content: 'x' } })).errcode).toBe(-1);
    expect((await post(url, { msgtype: 'markdown', markdown: { content: 'x' } })).errcode).toBe(0);

    fake.failNext('gettoken', -1, 2);
    expect((await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.corpSecret}`)).errcode).toBe(-1);
    expect(
      (await get(`/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.corpSecret}`)).access_token,
    ).toBeUndefined();
    await token();

    fake.holdNext('webhook.send', 300);
    const t0 = Date.now();
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 100);
    await expect(
      fetch(fake.url + '/cgi-bin/webhook/send?key=robot-key-1', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ msgtype: 'text', text: { content: 'slow' } }),
        signal: ctl.signal,
      }),
    ).rejects.toThrow();
    clearTimeout(timer);
    expect(Date.now() - t0).toBeLessThan(300);
    // The request was still received and processed, as on the real server after a client timeout.
    const rec = await fake.waitFor((r) => r.kind === 'webhook.send' && r.body?.text?.content === 'slow');
    expect(rec.errcode).toBe(0);
  });

  it('waitFor / waitForCount resolve on past and future matches, and time out', async () => {
    await post('/cgi-bin/webhook/send?key=robot-key-1', { msgtype: 'text', text: { content: 'one' } });
    const future = fake.waitForCount((r) => r.kind === 'webhook.send', 3, 2000);
    await post('/cgi-bin/webhook/send?key=robot-key-1', { msgtype: 'text', text: { content: 'two' } });
    await post('/cgi-bin/webhook/send?key=robot-key-1', { msgtype: 'text', text: { content: 'three' } });
    expect((await future).map((r) => r.body.text.content)).toEqual(['one', 'two', 'three']);
    await expect(fake.waitFor((r) => r.kind === 'gettoken', 50)).rejects.toThrow(/0\/1/);
  });

  it('unknown paths are 404 and violations', async () => {
    const r = await fetch(fake.url + '/cgi-bin/appchat/send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(404);
    expect(fake.violations()[0].kind).toBe('unknown');
  });
});
