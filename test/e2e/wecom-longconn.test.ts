// WeCom in long-connection mode end to end: the real service as child processes dialling a local long-connection
// gateway (test/helpers/fake-wecom-longconn.ts) that checks every frame. No HTTP callback, no app, no group robot:
// everything in and out goes over the one WebSocket.
// - report → reply on the req_id → team notice and claim cards → click → card updated within 5 s → 完工 → 验收 → 评价;
// - a checklist posted into the manager group, answered there, and a checklist card tapped;
// - the weekly digest with its chart (chunked upload, then an image);
// - the connection dropped mid-flow, and the service SIGKILLed mid-flow: nothing lost, nothing handled twice;
// - three instances, one connection; SIGKILL the holder and another takes over within seconds.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskStore } from '../../src/store/tasks.js';
import { type FakeLongconn, type LcFrame, lcText, startFakeLongconn } from '../helpers/fake-wecom-longconn.js';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { fastTimers, type RunningService, startService, testConfig, until } from '../helpers/service.js';

const BOT = 'aibE2eLongconn001';
const SECRET = randomBytes(18).toString('base64');
const GROUP = 'wrXiao1Teachers';
const TEAM = 'wrTeamShuidian';
const MANAGER = 'wrManagerGroup';

let redis: Redis;
const running: RunningService[] = [];
const worlds: { fake: FakeLongconn; prefix: string }[] = [];

beforeAll(() => {
  redis = redisClient();
});

afterAll(async () => {
  for (const s of running) await s.stop('SIGKILL');
  for (const w of worlds) {
    await w.fake.close();
    await dropPrefix(redis, w.prefix);
  }
  redis.disconnect();
});

/** The day's scheduled jobs run when the test says so, not when the clock does. */
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
}

async function world() {
  const fake = await startFakeLongconn({ botId: BOT, secret: SECRET });
  const prefix = testPrefix('e2e-wecom-lc');
  const config = testConfig((cfg) => {
    fastTimers(cfg, { remind: 120, assign: 240, escalate: 360 });
    quietSchedule(cfg);
    cfg.sla.duplicateWindow = '0s';
    // The groups are known by their AI-bot chatid; no group robot keys at all.
    const chat = (id: string) => cfg.chats.find((c: { id: string }) => c.id === id);
    chat('team_shuidian').wecom = { chatId: TEAM };
    chat('manager').wecom = { chatId: MANAGER };
    chat('class_xiao1').wecom = { chatId: GROUP };
  });
  worlds.push({ fake, prefix });
  const env = {
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: config,
    WECOM_AIBOT_MODE: 'longconn',
    WECOM_AIBOT_ID: BOT,
    WECOM_AIBOT_SECRET: SECRET,
    WECOM_AIBOT_WS_URL: fake.url,
  };
  const start = async (extra: Record<string, string> = {}) => {
    const s = await startService({ ...env, ...extra });
    running.push(s);
    return s;
  };
  const run = async (svc: RunningService, name: string) => {
    const res = await fetch(`${svc.url}/console/api/jobs/run`, {
      method: 'POST',
      body: JSON.stringify({ name }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
  };
  return { fake, prefix, start, run, store: new TaskStore(redis, prefix) };
}

/** The reply to one message: on its req_id, or (fallback) a proactive message into its chat naming it. */
const replyTo = (reqId: string) => (f: LcFrame) =>
  f.cmd === 'aibot_respond_msg' && f.reqId === reqId && f.errcode === 0;
const sentTo = (chatid: string, needle?: string) => (f: LcFrame) =>
  f.cmd === 'aibot_send_msg' && f.errcode === 0 && f.body.chatid === chatid && (!needle || lcText(f).includes(needle));
const taskNo = (f: LcFrame) => Number(/#(\d+)/.exec(lcText(f))![1]);
const seq = async (prefix: string) => Number((await redis.get(`${prefix}:task:seq`)) ?? 0);

describe('WeCom end to end (long-connection mode)', () => {
  it('report → claim card → click → update within 5 s → 完工 → 验收 → 评价; checklist; digest with its chart', async () => {
    const w = await world();
    const svc = await w.start({ HOUQIN_ADMIN_TOKEN: 'admin-secret' });
    const ready = JSON.parse(svc.logs.find((l) => l.includes('houqin listening on port'))!);
    expect(ready.channels).toContain('WeCom AI bot');
    expect(ready.wecomLongconn).toBe('connected');
    expect(w.fake.live()).toHaveLength(1);
    // No callback route in this mode.
    expect((await fetch(`${svc.url}/wecom/aibot`, { method: 'POST', body: '{}' })).status).toBe(404);
    const metrics = await (
      await fetch(`${svc.url}/admin/metrics`, { headers: { authorization: 'Bearer admin-secret' } })
    ).text();
    expect(metrics).toMatch(/^houqin_wecom_longconn_connected 1$/m);
    expect(metrics).toMatch(/^houqin_wecom_longconn_subscribes_total 1$/m);

    // The chats the bot will post into have written to it once (WeCom's rule for aibot_send_msg).
    for (const userid of ['LiShiFu', 'WuShiFu', 'WangLi', 'ZhouYuanZhang', 'QianShiFu', 'ChenZhuRen'])
      await w.fake.waitFor(`help to ${userid}`, replyTo(w.fake.say({ userid, text: '帮助' }).reqId));
    w.fake.say({ userid: 'LiShiFu', text: '帮助', chatid: TEAM });
    w.fake.say({ userid: 'ChenZhuRen', text: '帮助', chatid: MANAGER });

    const report = w.fake.say({ userid: 'WangLi', text: '报修 小一班 空调不制冷', chatid: GROUP });
    const ack = await w.fake.waitFor('the reply', replyTo(report.reqId));
    expect(ack.body.msgtype).toBe('markdown');
    const id = taskNo(ack);
    expect(await w.store.get(id)).toMatchObject({
      kind: 'repair',
      place: '小一班',
      reporter: 'wang_li',
      state: 'open',
    });
    await w.fake.waitFor('the team notice', sentTo(TEAM, `#${id}`));
    const cardTo = (userid: string) => (f: LcFrame) =>
      sentTo(userid)(f) &&
      f.body.msgtype === 'template_card' &&
      f.body.template_card.button_list[0].key === `claim:${id}`;
    const liCard = await w.fake.waitFor('李师傅’s card', cardTo('LiShiFu'));
    await w.fake.waitFor('吴师傅’s card', cardTo('WuShiFu'));
    expect(liCard.body.chat_type).toBe(1);

    const click = w.fake.click({ userid: 'LiShiFu', key: `claim:${id}`, taskId: liCard.body.template_card.task_id });
    const clickedAt = Date.now();
    const update = await w.fake.waitFor('the card update', (f) => f.cmd === 'aibot_respond_update_msg');
    expect(update.reqId).toBe(click.reqId);
    expect(update.errcode).toBe(0); // the fake refuses (and flags) an update later than 5 s
    expect(update.at - clickedAt).toBeLessThan(5_000);
    expect(update.body.template_card.task_id).toBe(liCard.body.template_card.task_id);
    expect(await w.store.get(id)).toMatchObject({ state: 'claimed', assignee: 'li_sf' });
    await w.fake.waitFor('the reporter told', sentTo('WangLi', '李师傅接单'));

    const done = w.fake.say({ userid: 'LiShiFu', text: `完工 ${id} 换了电容` });
    await w.fake.waitFor('完工 answered', replyTo(done.reqId));
    await until('done', async () => (await w.store.get(id))!.state === 'done');
    await w.fake.waitFor(
      'the accept card',
      (f) => sentTo('WangLi')(f) && f.body.msgtype === 'template_card' && lcText(f).includes(`accept:${id}`),
    );
    await w.fake.waitFor('验收', replyTo(w.fake.say({ userid: 'WangLi', text: `验收 ${id}`, chatid: GROUP }).reqId));
    await w.fake.waitFor(
      '评价',
      replyTo(w.fake.say({ userid: 'WangLi', text: `评价 ${id} 5 修得很快`, chatid: GROUP }).reqId),
    );
    expect(await w.store.get(id)).toMatchObject({
      state: 'accepted',
      rating: 5,
      ratingText: '修得很快',
      note: '换了电容',
    });
    expect((await w.store.history(id)).map((e) => e.type)).toEqual(['created', 'claimed', 'done', 'accepted', 'rated']);

    // A checklist posted into the manager group and answered there.
    await w.run(svc, 'checklist.safety');
    await w.fake.waitFor('the checklist post', sentTo(MANAGER, '每日安全检查'));
    const answer = w.fake.say({ userid: 'ChenZhuRen', text: '1 正常 2 正常 3 异常 灭火器压力不足', chatid: MANAGER });
    const recorded = await w.fake.waitFor('the checklist answer', replyTo(answer.reqId));
    const fire = Number(/已报修 #(\d+)/.exec(lcText(recorded))![1]);
    expect(await w.store.get(fire)).toMatchObject({ kind: 'repair', checklist: 'safety:fire', reporter: 'chen_zr' });
    // A checklist card tapped in the single chat: recorded, and the card replaced within 5 s.
    await w.run(svc, 'checklist.canteen');
    const card = await w.fake.waitFor(
      'the canteen card',
      (f) => sentTo('QianShiFu')(f) && f.body.msgtype === 'template_card',
    );
    const okKey = card.body.template_card.button_list[0].key as string;
    expect(okKey).toMatch(/^cl:ok:/);
    const tap = w.fake.click({ userid: 'QianShiFu', key: okKey, taskId: card.body.template_card.task_id });
    const replaced = await w.fake.waitFor('the canteen card replaced', (f) => f.reqId === tap.reqId);
    expect(replaced).toMatchObject({ cmd: 'aibot_respond_update_msg', errcode: 0 });
    expect(lcText(replaced)).toContain('已记录');

    // The weekly digest reaches the director, with its chart uploaded in chunks and sent as an image.
    await w.run(svc, 'digest.weekly');
    await w.fake.waitFor('the digest', sentTo('ZhouYuanZhang', '周报'), 20_000);
    const chart = await w.fake.waitFor(
      'the chart',
      (f) => sentTo('ZhouYuanZhang')(f) && f.body.msgtype === 'image',
      20_000,
    );
    const png = w.fake.media.get(chart.body.image.media_id)!;
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(w.fake.frames.some((f) => f.cmd === 'aibot_upload_media_finish' && f.errcode === 0)).toBe(true);

    expect(w.fake.violations).toEqual([]);
    expect(svc.logs.join('\n')).not.toContain(SECRET);
    await svc.stop('SIGTERM');
    expect(svc.logs.join('\n')).toContain('wecom long connection stopped');
    await w.fake.until('closed', () => w.fake.live().length === 0);
  }, 120_000);

  it('the connection dropped and the service SIGKILLed mid-flow: every report one task, every reporter one reply', async () => {
    const w = await world();
    // One process, so SIGKILL kills what holds the connection (a supervised start's children outlive their supervisor
    // and stop gracefully; test/e2e/supervised.test.ts covers that).
    let svc = await w.start({ HOUQIN_PROCESSES: '1' });
    const teachers = ['WangLi', 'LiNa', 'ZhangMin', 'LiuFang', 'ZhaoJing', 'SunYan'];
    const places = ['小一班', '小二班', '中一班', '中二班', '大一班', '大三班'];
    const reports: { reqId: string; msgid: string }[] = [];
    const say = (i: number) =>
      reports.push(
        w.fake.say({
          userid: teachers[i % 6],
          text: `报修 ${places[i % 6]} 第${i}号插座没电`,
          chatid: `wrClass${i % 6}`,
        }),
      );
    // 1. Ten reports, the connection cut in the middle of them; the rest wait at the gateway for the redial.
    const inRedis = (from: number, to: number) =>
      until(
        `reports ${from}–${to - 1} in Redis`,
        async () =>
          (await redis.exists(...reports.slice(from, to).map((r) => `${w.prefix}:seen:wecom:aibot:${r.msgid}`))) ===
          to - from,
        10_000,
        5,
      );
    for (let i = 0; i < 5; i++) say(i);
    await inRedis(0, 5);
    w.fake.drop(); // while their replies and the workers' cards are on their way out
    for (let i = 5; i < 10; i++) say(i);
    await w.fake.until('redialled', () => w.fake.live().length === 1, 20_000);
    await until('10 tasks', async () => (await seq(w.prefix)) >= 10, 30_000);

    // 2. Ten more, and the service killed as soon as they are safe in Redis, before most replies went out.
    for (let i = 10; i < 20; i++) say(i);
    await inRedis(10, 20);
    await svc.stop('SIGKILL');
    // Ten more while nobody is connected: the gateway keeps them for the next connection.
    for (let i = 20; i < 30; i++) say(i);
    svc = await w.start({ HOUQIN_PROCESSES: '1' });
    await until('30 tasks', async () => (await seq(w.prefix)) >= 30, 60_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await seq(w.prefix)).toBe(30);
    const tasks = await w.store.getMany(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(new Set(tasks.map((t) => t.text)).size).toBe(30);

    // Every reporter answered, exactly once: on the req_id (still valid after the restart) or, failing that, by a
    // proactive message into the group naming the task.
    const answered = (r: { reqId: string; msgid: string }, i: number) => {
      const id = tasks.find((t) => t.text.includes(`第${i}号`))!.id;
      return w.fake
        .delivered()
        .filter((f) => replyTo(r.reqId)(f) || (sentTo(`wrClass${i % 6}`)(f) && lcText(f).includes(`#${id}`)));
    };
    await until('every reply', () => reports.every((r, i) => answered(r, i).length >= 1), 60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    for (const [i, r] of reports.entries()) expect(answered(r, i), `report ${i}`).toHaveLength(1);
    expect(w.fake.violations).toEqual([]);
  }, 150_000);

  it('messages taken in before a SIGKILL are answered after the restart on their own req_id', async () => {
    const w = await world();
    // A receiver alone: it takes messages into Redis and answers nothing (no workers), then dies.
    const receiver = await w.start({ HOUQIN_ROLE: 'receiver' });
    const reports = ['小一班', '小二班', '中一班', '中二班', '大一班'].map((place, i) =>
      w.fake.say({ userid: 'WangLi', text: `报修 ${place} 门把手掉了`, chatid: `wrKill${i}` }),
    );
    await until(
      'in Redis',
      async () =>
        (await redis.exists(...reports.map((r) => `${w.prefix}:seen:wecom:aibot:${r.msgid}`))) === reports.length,
    );
    const before = w.fake.live()[0];
    await receiver.stop('SIGKILL');
    expect(w.fake.delivered()).toHaveLength(0);
    await w.start();
    for (const r of reports) {
      const reply = await w.fake.waitFor(`the reply to ${r.msgid}`, replyTo(r.reqId), 20_000);
      expect(reply.conn).not.toBe(before.id); // answered over the new connection, on the message's own req_id
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(w.fake.delivered()).toHaveLength(reports.length);
    expect(await seq(w.prefix)).toBe(reports.length);
    expect(w.fake.violations).toEqual([]);
  }, 60_000);

  it('three instances, one connection; SIGKILL the holder and another takes over within seconds', async () => {
    const w = await world();
    const all = [await w.start(), await w.start(), await w.start()];
    await new Promise((r) => setTimeout(r, 2_000));
    expect(w.fake.live()).toHaveLength(1);
    expect(w.fake.subscribes).toHaveLength(1); // the others watch the lease instead of fighting
    const holds = (s: RunningService) => s.logs.some((l) => l.includes('this instance holds the lease'));
    expect(all.filter(holds)).toHaveLength(1);
    const holder = all.find(holds)!;
    const first = w.fake.live()[0];

    await holder.stop('SIGKILL');
    const killedAt = Date.now();
    await w.fake.until('another instance connected', () => w.fake.live().some((c) => c !== first), 15_000);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(10_000); // lease ttl 5 s + a watch period + the dial
    expect(w.fake.live()).toHaveLength(1);
    expect(w.fake.subscribes).toHaveLength(2);
    expect(w.fake.connections.some((c) => c.kicked)).toBe(false); // nobody was kicked: no fight
    // The new holder's log line comes through its supervisor's pipe, possibly after the fake saw its connection.
    await w.fake.until('the new holder says so', () => all.some((s) => s !== holder && holds(s)), 5_000);
    expect(all.filter((s) => s !== holder && holds(s))).toHaveLength(1);

    // The flow goes on through the new holder, whichever instance's workers take the jobs.
    const r = w.fake.say({ userid: 'WangLi', text: '报修 小一班 窗户关不上', chatid: GROUP });
    const ack = await w.fake.waitFor('the reply', replyTo(r.reqId), 20_000);
    expect(await w.store.get(taskNo(ack))).toMatchObject({ place: '小一班', reporter: 'wang_li' });
    expect(w.fake.violations).toEqual([]);
  }, 90_000);
});
