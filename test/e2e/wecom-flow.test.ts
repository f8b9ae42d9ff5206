// The spine end to end: the real service as a child process, a local server playing WeCom, encrypted callbacks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  aibotCardClick,
  aibotPost,
  aibotText,
  appCardClickXml,
  appPost,
  appTextXml,
  openAibotReply,
} from '../helpers/wecom-callbacks.js';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { fastTimers, startService, testConfig, until, type RunningService } from '../helpers/service.js';
import { wecomWorld, type WecomWorld } from '../helpers/wecom-env.js';
import type { Recorded } from '../helpers/fake-wecom.js';
import { TaskStore } from '../../src/store/tasks.js';

let world: WecomWorld;
let svc: RunningService;
let redis: Redis;
let store: TaskStore;
const prefix = testPrefix('e2e');
let seq = 0;
const msgid = () => `msg-${Date.now()}-${++seq}-${randomBytes(3).toString('hex')}`;

async function aibotSay(userid: string, content: string, chatid = 'wrGroupXiao1', id = msgid()) {
  const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
  const { query, body } = aibotPost(
    world.aibot,
    aibotText({ msgid: id, userid, content: `@后勤助手 ${content}`, chatid, responseUrl }),
  );
  const res = await fetch(`${svc.url}/wecom/aibot?${query}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  return { res, responseUrl, id };
}

async function appSay(from: string, content: string) {
  const msgId = String(BigInt(Date.now()) * 1000n + BigInt(++seq));
  const { query, body } = appPost(
    world.app,
    appTextXml({ corpId: world.app.corpId, agentId: world.app.agentId, from, content, msgId }),
  );
  return fetch(`${svc.url}/wecom/app?${query}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
}

const replyTo = (url: string) => (r: Recorded) =>
  r.kind === 'response_url' && url.endsWith(r.path + '?' + new URLSearchParams(r.query).toString());
const textOf = (r: Recorded): string => JSON.stringify(r.body);

beforeAll(async () => {
  world = await wecomWorld();
  redis = redisClient();
  store = new TaskStore(redis, prefix);
  const config = testConfig((cfg) => fastTimers(cfg, { remind: 2, assign: 4, escalate: 6 }));
  svc = await startService({
    ...world.env,
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: config,
    HOUQIN_ADMIN_TOKEN: 'admin-secret',
  });
});

afterAll(async () => {
  await svc?.stop();
  await world?.fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('WeCom end to end', () => {
  it('answers the URL check with the plaintext only', async () => {
    const { verifyQuery } = await import('../helpers/wecom-callbacks.js');
    const q = verifyQuery(world.aibot, '', '1616140317555161061');
    const res = await fetch(`${svc.url}/wecom/aibot?${q}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1616140317555161061');
  });

  it('report → team notice and cards → click 接单 → other card updated → 完工 → 验收 → 评价', async () => {
    const { res, responseUrl } = await aibotSay('WangLi', '报修 小一班 空调不制冷');
    expect(res.status).toBe(200);
    const ack = await world.fake.waitFor(replyTo(responseUrl));
    expect(ack.body.msgtype).toBe('markdown');
    const id = Number(/#(\d+)/.exec(ack.body.markdown.content)![1]);
    const task = (await store.get(id))!;
    expect(task).toMatchObject({
      kind: 'repair',
      trade: '空调',
      place: '小一班',
      reporter: 'wang_li',
      team: 'shuidian',
      state: 'open',
    });

    const notice = await world.fake.waitFor(
      (r) => r.kind === 'webhook.send' && r.query.key === 'key-shuidian' && textOf(r).includes(`#${id}`),
    );
    expect(notice.body.text.mentioned_list.sort()).toEqual(['LiShiFu', 'WuShiFu']);
    const cards = await world.fake.waitForCount(
      (r) =>
        r.kind === 'message.send' &&
        r.body.msgtype === 'template_card' &&
        r.body.template_card.button_list[0].key === `claim:${id}`,
      2,
    );
    expect(cards.map((c) => c.body.touser).sort()).toEqual(['LiShiFu', 'WuShiFu']);

    // 李师傅 clicks 接单 on his card.
    const liCard = cards.find((c) => c.body.touser === 'LiShiFu')!;
    const clickCode = world.fake.mintClickResponseCode();
    const click = appPost(
      world.app,
      appCardClickXml({
        corpId: world.app.corpId,
        agentId: world.app.agentId,
        from: 'LiShiFu',
        eventKey: `claim:${id}`,
        taskId: liCard.body.template_card.task_id,
        responseCode: clickCode,
      }),
    );
    const clickRes = await fetch(`${svc.url}/wecom/app?${click.query}`, { method: 'POST', body: click.body });
    expect(clickRes.status).toBe(200);
    expect((await store.get(id))!).toMatchObject({ state: 'claimed', assignee: 'li_sf' });
    const updates = await world.fake.waitForCount((r) => r.kind === 'update_template_card' && r.errcode === 0, 2);
    expect(updates.map((u) => u.body.userids[0]).sort()).toEqual(['LiShiFu', 'WuShiFu']);
    const wuUpdate = updates.find((u) => u.body.userids[0] === 'WuShiFu')!;
    expect(wuUpdate.body.template_card.button_list[0].text).toContain('李师傅');
    await world.fake.waitFor(
      (r) => r.kind === 'message.send' && r.body.touser === 'WangLi' && textOf(r).includes('李师傅接单'),
    );

    // A second worker's late tap changes nothing.
    const late = appPost(
      world.app,
      appCardClickXml({
        corpId: world.app.corpId,
        agentId: world.app.agentId,
        from: 'WuShiFu',
        eventKey: `claim:${id}`,
        taskId: 'x',
        responseCode: world.fake.mintClickResponseCode(),
      }),
    );
    await fetch(`${svc.url}/wecom/app?${late.query}`, { method: 'POST', body: late.body });
    expect((await store.get(id))!.assignee).toBe('li_sf');

    expect((await appSay('LiShiFu', `完工 ${id} 换了电容`)).status).toBe(200);
    await until('done', async () => (await store.get(id))!.state === 'done');
    await world.fake.waitFor(
      (r) =>
        r.kind === 'message.send' &&
        r.body.touser === 'WangLi' &&
        r.body.msgtype === 'template_card' &&
        r.body.template_card.button_list[0].key === `accept:${id}`,
    );

    const a = await aibotSay('WangLi', `验收 ${id}`);
    await world.fake.waitFor(replyTo(a.responseUrl));
    const r = await aibotSay('WangLi', `评价 ${id} 5 修得很快`);
    await world.fake.waitFor(replyTo(r.responseUrl));
    const final = (await store.get(id))!;
    expect(final).toMatchObject({ state: 'accepted', rating: 5, ratingText: '修得很快', note: '换了电容' });
    const history = (await store.history(id)).map((e) => e.type);
    expect(history).toEqual(['created', 'claimed', 'done', 'accepted', 'rated']);
    expect(world.fake.violations()).toEqual([]);
  });

  it('the same msgid delivered three times makes one task', async () => {
    const before = Number(await redis.get(`${prefix}:task:seq`));
    const id = msgid();
    const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
    const payload = aibotText({
      msgid: id,
      userid: 'LiuFang',
      content: '@后勤助手 报修 中二班 厕所漏水',
      chatid: 'wrZhong2',
      responseUrl,
    });
    for (let i = 0; i < 3; i++) {
      const { query, body } = aibotPost(world.aibot, payload); // re-signed each time, like a platform retry
      expect((await fetch(`${svc.url}/wecom/aibot?${query}`, { method: 'POST', body })).status).toBe(200);
    }
    await world.fake.waitFor(replyTo(responseUrl));
    await new Promise((r) => setTimeout(r, 500));
    expect(Number(await redis.get(`${prefix}:task:seq`))).toBe(before + 1);
    expect(world.fake.requests.filter(replyTo(responseUrl))).toHaveLength(1);
  });

  it('refuses bad signatures, replays, stale and unencrypted bodies, and stores nothing', async () => {
    const before = await redis.get(`${prefix}:task:seq`);
    const payload = aibotText({
      msgid: msgid(),
      userid: 'WangLi',
      content: '报修 大门 门锁坏了',
      responseUrl: world.fake.mintResponseUrl(),
    });
    const good = aibotPost(world.aibot, payload);
    const bad = good.query.replace(
      /msg_signature=([0-9a-f])/,
      (_, c: string) => `msg_signature=${c === 'a' ? 'b' : 'a'}`,
    );
    expect((await fetch(`${svc.url}/wecom/aibot?${bad}`, { method: 'POST', body: good.body })).status).toBe(401);
    // A forged plaintext body without "encrypt" is refused like a bad signature.
    expect(
      (await fetch(`${svc.url}/wecom/aibot?${good.query}`, { method: 'POST', body: JSON.stringify(payload) })).status,
    ).toBe(401);
    const stale = aibotPost(world.aibot, payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    expect((await fetch(`${svc.url}/wecom/aibot?${stale.query}`, { method: 'POST', body: stale.body })).status).toBe(
      403,
    );
    expect((await fetch(`${svc.url}/wecom/aibot?${good.query}`, { method: 'POST', body: 'garbage{' })).status).toBe(
      401,
    );
    expect(
      (await fetch(`${svc.url}/wecom/app?${good.query}`, { method: 'POST', body: '<xml><nope/></xml>' })).status,
    ).toBe(401);
    const huge = 'x'.repeat(200 * 1024);
    expect(
      (await fetch(`${svc.url}/wecom/aibot?${good.query}`, { method: 'POST', body: JSON.stringify({ encrypt: huge }) }))
        .status,
    ).toBe(413);
    await new Promise((r) => setTimeout(r, 300));
    expect(await redis.get(`${prefix}:task:seq`)).toBe(before);
    // The genuine request still goes through once, and its replay is refused.
    expect((await fetch(`${svc.url}/wecom/aibot?${good.query}`, { method: 'POST', body: good.body })).status).toBe(200);
    expect((await fetch(`${svc.url}/wecom/aibot?${good.query}`, { method: 'POST', body: good.body })).status).toBe(409);
    // Every one of them is in the callback timings an operator scrapes, by status.
    expect((await fetch(`${svc.url}/admin/metrics`)).status).toBe(401);
    const metrics = await (
      await fetch(`${svc.url}/admin/metrics`, { headers: { authorization: 'Bearer admin-secret' } })
    ).text();
    const count = (status: number) =>
      Number(
        new RegExp(
          `houqin_callback_duration_seconds_count\\{route="POST /wecom/aibot",status="${status}"\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? 0,
      );
    expect(count(401)).toBeGreaterThanOrEqual(3);
    expect(count(403)).toBeGreaterThanOrEqual(1);
    expect(count(413)).toBeGreaterThanOrEqual(1);
    expect(count(409)).toBeGreaterThanOrEqual(1);
    expect(count(200)).toBeGreaterThanOrEqual(1);
  });

  it('an AI bot card click is answered with the updated card', async () => {
    const { responseUrl } = await aibotSay('ZhangMin', '保洁 中一班 有小朋友呕吐了');
    const ack = await world.fake.waitFor(replyTo(responseUrl));
    const id = Number(/#(\d+)/.exec(ack.body.markdown.content)![1]);
    const { query, body, nonce } = aibotPost(
      world.aibot,
      aibotCardClick({
        msgid: msgid(),
        userid: 'HeAYi',
        eventKey: `claim:${id}`,
        taskId: `t${id}_card`,
        responseUrl: world.fake.mintResponseUrl(),
      }),
    );
    const res = await fetch(`${svc.url}/wecom/aibot?${query}`, { method: 'POST', body });
    const reply = openAibotReply(world.aibot, await res.text(), nonce);
    expect(reply.response_type).toBe('update_template_card');
    expect(reply.template_card.task_id).toBe(`t${id}_card`);
    expect(reply.template_card.button_list[0].text).toBe('你已接单');
    expect((await store.get(id))!).toMatchObject({ state: 'claimed', assignee: 'he_ay' });
  });

  it('an unclaimed task is reminded, assigned to the on-duty worker, then escalated to the manager', async () => {
    const { responseUrl } = await aibotSay('ZhaoJing', '报修 大一班 桌子腿断了');
    const ack = await world.fake.waitFor(replyTo(responseUrl));
    const id = Number(/#(\d+)/.exec(ack.body.markdown.content)![1]);
    expect((await store.get(id))!.team).toBe('mugong');
    await world.fake.waitFor(
      (r) =>
        r.kind === 'webhook.send' &&
        r.query.key === 'key-mugong' &&
        textOf(r).includes('⏰') &&
        textOf(r).includes(`#${id}`),
      10_000,
    );
    await until('assigned', async () => (await store.get(id))!.assignee === 'zheng_sf', 10_000);
    expect((await store.get(id))!).toMatchObject({ state: 'claimed', assignedBy: 'system', acked: false });
    await world.fake.waitFor(
      (r) =>
        r.kind === 'message.send' &&
        r.body.touser === 'ChenZhuRen' &&
        textOf(r).includes('🚨') &&
        textOf(r).includes(`#${id}`),
      10_000,
    );
    await world.fake.waitFor(
      (r) => r.kind === 'webhook.send' && r.query.key === 'key-manager' && textOf(r).includes(`#${id}`),
    );
    const types = (await store.history(id)).map((e) => e.type);
    expect(types).toEqual(['created', 'reminded', 'assigned', 'escalated']);
  });

  it('asks for the place once and completes the report with the next message', async () => {
    const first = await aibotSay('SunYan', '报修 灯不亮了', 'wrDa3');
    const ask = await world.fake.waitFor(replyTo(first.responseUrl));
    expect(ask.body.markdown.content).toContain('在哪里');
    const second = await aibotSay('SunYan', '大三班', 'wrDa3');
    const ack = await world.fake.waitFor(replyTo(second.responseUrl));
    const id = Number(/#(\d+)/.exec(ack.body.markdown.content)![1]);
    expect((await store.get(id))!).toMatchObject({
      place: '大三班',
      trade: '电',
      text: expect.stringContaining('灯不亮'),
    });
  });

  it('keeps a message that fails for good where an operator can see and replay it', async () => {
    world.fake.failNext('message.send', 40003); // "invalid userid": not worth retrying blindly
    const { responseUrl } = await aibotSay('LiNa', '报修 小二班 插座冒火花');
    await world.fake.waitFor(replyTo(responseUrl));
    const auth = { authorization: 'Bearer admin-secret' };
    expect((await fetch(`${svc.url}/admin/outbox/failed`)).status).toBe(401);
    type Failed = { id: string; reason: string; message: unknown };
    const failed = await until('a failed message', async () => {
      const body = (await (await fetch(`${svc.url}/admin/outbox/failed`, { headers: auth })).json()) as {
        failed: Failed[];
      };
      return body.failed.length ? body.failed : undefined;
    });
    expect(failed).toHaveLength(1);
    expect(failed[0].reason).toContain('40003');
    const m = failed[0].message as { type: string; text?: string; card?: { buttons: { key: string }[] } };
    const marker = m.type === 'card' ? m.card!.buttons[0].key : m.text!.slice(0, 8);
    const delivered = () =>
      world.fake.requests.filter(
        (r) => r.kind === 'message.send' && r.errcode === 0 && JSON.stringify(r.body).includes(marker),
      ).length;
    const before = delivered();
    const res = await fetch(`${svc.url}/admin/outbox/replay`, { method: 'POST', headers: auth });
    expect(((await res.json()) as { replayed: number }).replayed).toBe(1);
    await until('replayed message delivered', () => delivered() > before);
    const after = (await (await fetch(`${svc.url}/admin/outbox/failed`, { headers: auth })).json()) as {
      failed: Failed[];
    };
    expect(after.failed).toHaveLength(0);
  });
});
