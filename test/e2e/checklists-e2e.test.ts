// A checklist day end to end, the whole service as a child process: the safety round is posted, 陈主任 answers
// with one failure, the repair is created and routed, the due job reminds, the grace job marks the sheet missed.
// Once over the console's JSON API, once over the local WeCom stand-in (group robot webhook out, encrypted AI bot
// callback in).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { aibotPost, aibotText, appCardClickXml, appPost } from '../helpers/wecom-callbacks.js';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, testConfig, until, type RunningService } from '../helpers/service.js';
import { wecomWorld, type WecomWorld } from '../helpers/wecom-env.js';
import type { Recorded } from '../helpers/fake-wecom.js';
import { TaskStore } from '../../src/store/tasks.js';
import { ChecklistStore } from '../../src/store/checklists.js';

/** The day's jobs run when the test says so, not when the clock does. */
function quietSchedule(cfg: Record<string, any>): void {
  const names = [
    ...cfg.checklists.flatMap((c: { id: string }) => [
      `checklist.${c.id}`,
      `checklist-due.${c.id}`,
      `checklist-missed.${c.id}`,
    ]),
    ...cfg.meals.rounds.map((r: { meal: string }) => `meal.${r.meal}`),
    'menu',
  ];
  cfg.jobs = Object.fromEntries(names.map((n) => [n, { enabled: false }]));
  for (const t of cfg.teams) delete t.onDuty;
}

const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());

describe('checklists over the console API', () => {
  const prefix = testPrefix('cl-console');
  let svc: RunningService;
  let redis: Redis;
  type Msg = { id: string; from: { kind: string }; type: string; text?: string };
  const api = (path: string, body?: unknown) =>
    fetch(
      `${svc.url}/console/api${path}`,
      body === undefined
        ? {}
        : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
    );
  const read = async (chat: string): Promise<Msg[]> =>
    ((await (await api(`/messages?chat=${encodeURIComponent(chat)}`)).json()) as { messages: Msg[] }).messages;
  const botSaid = (chat: string, needle: string) =>
    until(`bot says "${needle}" in ${chat}`, async () =>
      (await read(chat)).find((m) => m.from.kind === 'bot' && (m.text ?? '').includes(needle)),
    );
  const run = async (name: string) => expect((await api('/jobs/run', { name })).status).toBe(200);

  beforeAll(async () => {
    redis = redisClient();
    svc = await startService({ REDIS_URL, HOUQIN_KEY_PREFIX: prefix, HOUQIN_CONFIG: testConfig(quietSchedule) });
  });

  afterAll(async () => {
    await svc?.stop();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('post → answer with one failure → task on the board → reminder → missed', async () => {
    await run('checklist.safety');
    const post = await botSaid('manager', '每日安全检查');
    expect(post.text).toContain('@陈主任');
    expect(post.text).toContain('3. 消防器材与通道');

    expect(
      (await api('/messages', { as: 'chen_zr', chat: 'manager', text: '1 正常 2 正常 3 异常 灭火器压力不足' })).status,
    ).toBe(200);
    const ack = await botSaid('manager', '已报修 #');
    const id = Number(/已报修 #(\d+)/.exec(ack.text!)![1]);
    expect(ack.text).toContain('还差 3 项');
    const board = await until('task on the board', async () => {
      const b = (await (await api('/tasks')).json()) as {
        tasks: { id: number; kind: string; text: string; reporter: { id: string }; timers: unknown[] }[];
      };
      const t = b.tasks.find((x) => x.id === id);
      return t && t.timers.length === 3 ? t : undefined; // routed: the SLA timers are armed
    });
    expect(board).toMatchObject({
      kind: 'repair',
      text: '每日安全检查：消防器材与通道 异常：灭火器压力不足',
      reporter: { id: 'chen_zr' },
    });
    await botSaid('team_shuidian', `#${id}`);

    await run('checklist-due.safety');
    await botSaid('dm:chen_zr', '还差 3 项：4 大型玩具、5 燃气、6 饮水设备');
    await botSaid('manager', '每日安全检查还没填完');
    await run('checklist-missed.safety');
    await botSaid('dm:chen_zr', '未按时完成');
    const sheet = (await new ChecklistStore(redis, prefix).get(today(), 'safety'))!;
    expect(sheet).toMatchObject({ status: 'missed', reminded: true });
    expect(sheet.items[2]).toMatchObject({ key: 'fire', ok: false, by: 'chen_zr', task: id });
  });
});

describe('checklists over WeCom', () => {
  const prefix = testPrefix('cl-wecom');
  let world: WecomWorld;
  let svc: RunningService;
  let redis: Redis;
  let seq = 0;

  async function aibotSay(userid: string, content: string, chatid: string) {
    const responseUrl = world.fake.mintResponseUrl({ chattype: 'group' });
    const msgid = `msg-${Date.now()}-${++seq}-${randomBytes(3).toString('hex')}`;
    const { query, body } = aibotPost(
      world.aibot,
      aibotText({ msgid, userid, content: `@后勤助手 ${content}`, chatid, responseUrl }),
    );
    const res = await fetch(`${svc.url}/wecom/aibot?${query}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    return responseUrl;
  }
  const replyTo = (url: string) => (r: Recorded) =>
    r.kind === 'response_url' && url.endsWith(r.path + '?' + new URLSearchParams(r.query).toString());
  const textOf = (r: Recorded): string => JSON.stringify(r.body);
  const run = async (name: string) =>
    expect(
      (
        await fetch(`${svc.url}/console/api/jobs/run`, {
          method: 'POST',
          body: JSON.stringify({ name }),
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(200);

  beforeAll(async () => {
    world = await wecomWorld();
    redis = redisClient();
    const config = testConfig((cfg) => {
      quietSchedule(cfg);
      cfg.chats.find((c: { id: string }) => c.id === 'manager').wecom.chatId = 'wrManagerGroup';
    });
    svc = await startService({ ...world.env, REDIS_URL, HOUQIN_KEY_PREFIX: prefix, HOUQIN_CONFIG: config });
  });

  afterAll(async () => {
    await svc?.stop();
    await world?.fake.close();
    await dropPrefix(redis, prefix);
    redis.disconnect();
  });

  it('the post reaches the manager group’s robot; the answer comes back as an AI bot callback', async () => {
    await run('checklist.safety');
    const post = await world.fake.waitFor(
      (r) => r.kind === 'webhook.send' && r.query.key === 'key-manager' && textOf(r).includes('每日安全检查'),
    );
    expect(post.body.msgtype).toBe('text');
    expect(post.body.text.mentioned_list).toEqual(['ChenZhuRen']);

    const responseUrl = await aibotSay('ChenZhuRen', '1 正常 2 正常 3 异常 灭火器压力不足', 'wrManagerGroup');
    const ack = await world.fake.waitFor(replyTo(responseUrl));
    const id = Number(/已报修 #(\d+)/.exec(ack.body.markdown.content)![1]);
    expect(await new TaskStore(redis, prefix).get(id)).toMatchObject({
      kind: 'repair',
      trade: '消防',
      team: 'shuidian',
      reporter: 'chen_zr',
      checklist: 'safety:fire',
    });
    await world.fake.waitFor(
      (r) => r.kind === 'webhook.send' && r.query.key === 'key-shuidian' && textOf(r).includes(`#${id}`),
    );

    await run('checklist-due.safety');
    await world.fake.waitFor(
      (r) => r.kind === 'message.send' && r.body.touser === 'ChenZhuRen' && textOf(r).includes('还差 3 项'),
    );
    await world.fake.waitFor(
      (r) => r.kind === 'webhook.send' && r.query.key === 'key-manager' && textOf(r).includes('还没填完'),
    );

    // The rest typed in the group: the card in his DM has nothing left to do and shows the record instead.
    expect(world.fake.requests.some((r) => r.kind === 'update_template_card')).toBe(false);
    await world.fake.waitFor(replyTo(await aibotSay('ChenZhuRen', '4 正常 5 正常 6 正常', 'wrManagerGroup')));
    const retired = await world.fake.waitFor(
      (r) => r.kind === 'update_template_card' && r.body.userids?.[0] === 'ChenZhuRen',
    );
    expect(retired.errcode).toBe(0);
    expect(retired.body.template_card.sub_title_text).toBe('已记录：正常 5 项，异常 1 项，已全部填完');
    expect(retired.body.template_card.button_list).toEqual([expect.objectContaining({ text: '已记录' })]);
    expect(world.fake.violations()).toEqual([]);
  });

  it('the card reaches the person by app DM; a tap on 全部正常 is recorded and the card updated in place', async () => {
    await run('checklist.canteen');
    const key = `cl:ok:${today()}:canteen`;
    const card = await world.fake.waitFor(
      (r) => r.kind === 'message.send' && r.body.touser === 'QianShiFu' && r.body.msgtype === 'template_card',
    );
    expect(card.body.template_card.button_list.map((b: { text: string; key: string }) => [b.text, b.key])).toEqual([
      ['全部正常', key],
      ['有异常，我来说明', `cl:explain:${today()}:canteen`],
    ]);
    const code = world.fake.mintClickResponseCode();
    const click = appPost(
      world.app,
      appCardClickXml({
        corpId: world.app.corpId,
        agentId: world.app.agentId,
        from: 'QianShiFu',
        eventKey: key,
        taskId: card.body.template_card.task_id,
        responseCode: code,
      }),
    );
    expect((await fetch(`${svc.url}/wecom/app?${click.query}`, { method: 'POST', body: click.body })).status).toBe(200);
    const update = await world.fake.waitFor((r) => r.kind === 'update_template_card' && r.body.response_code === code);
    expect(update.errcode).toBe(0);
    expect(update.body.template_card.button_list).toEqual([expect.objectContaining({ text: '已记录' })]);
    expect(update.body.template_card.sub_title_text).toContain('还差 1 项：4 冷藏温度');
    await world.fake.waitFor(
      (r) => r.kind === 'message.send' && r.body.touser === 'QianShiFu' && textOf(r).includes('已记录【食堂卫生检查】'),
    );
    const sheet = (await new ChecklistStore(redis, prefix).get(today(), 'canteen'))!;
    expect(sheet.items.map((e) => e.ok)).toEqual([true, true, true, undefined]);
    expect(world.fake.violations()).toEqual([]);
  });
});
