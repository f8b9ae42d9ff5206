// One ward's day at the example county hospital (config/example-hospital.yaml), played through the console's JSON API
// with the whole service running: 5病区's head nurse reports a call bell that does not ring, the equipment engineer
// claims it from his card and finishes, she accepts; a nurse asks for a porter (运送) and the porter team claims and
// delivers; a pickup of medical waste (医废收运) goes to the waste team; the morning 病区安全巡查 is run from the board
// and answered, its failed item becoming a waste pickup; a report made during the night shift goes to the night's
// on-duty electrician, not to the day's; and the 院长's 日报 counts the hospital's own kinds by their names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, testConfig, until, type RunningService } from '../helpers/service.js';

const prefix = testPrefix('hospital');
let svc: RunningService;
let redis: Redis;

type Msg = {
  id: string;
  from: { kind: string; name: string };
  type: string;
  text?: string;
  card?: { title: string; buttons: { text: string; key: string }[] };
};

const api = (path: string, body?: unknown) =>
  fetch(
    `${svc.url}/console/api${path}`,
    body === undefined
      ? {}
      : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
  );
const say = async (as: string, chat: string, text: string) =>
  expect((await api('/messages', { as, chat, text })).status).toBe(200);
const read = async (chat: string): Promise<Msg[]> =>
  ((await (await api(`/messages?chat=${encodeURIComponent(chat)}`)).json()) as { messages: Msg[] }).messages;
const botSaid = (chat: string, needle: string | RegExp) =>
  until(`bot says "${needle}" in ${chat}`, async () =>
    (await read(chat)).find(
      (m) =>
        m.from.kind === 'bot' &&
        (typeof needle === 'string' ? JSON.stringify(m).includes(needle) : needle.test(JSON.stringify(m))),
    ),
  );
const claimCard = (chat: string, id: number) =>
  until(`claim card for #${id} in ${chat}`, async () =>
    (await read(chat)).find((m) => m.type === 'card' && m.card!.buttons.some((b) => b.key === `claim:${id}`)),
  );
const click = async (as: string, chat: string, messageId: string, key: string) =>
  (await (await api('/click', { as, chat, messageId, key })).json()) as {
    ok: boolean;
    card?: { buttons: { text: string }[] };
  };
const taskId = (m: Msg) => Number(/#(\d+)/.exec(m.text ?? '')?.[1]);

/** HH:MM in the hospital's time zone, `minutes` from now. */
function clockIn(minutes: number): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Shanghai',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(Date.now() + minutes * 60_000));
}

const everyDay = (ids: string[]) =>
  Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, ids]));

/**
 * The hospital as it is, except: no job fires by the clock (the board runs them), every team but the electricians
 * sends its cards to all members, and the electricians' night shift is on now — 杨师傅 on every night, 刘师傅 on
 * every day — so which of them gets a report does not depend on when the test runs.
 */
function hospitalDay(cfg: Record<string, any>): void {
  const names = [
    ...cfg.checklists.flatMap((c: { id: string }) => [
      `checklist.${c.id}`,
      `checklist-due.${c.id}`,
      `checklist-missed.${c.id}`,
    ]),
    ...cfg.meals.rounds.map((r: { meal: string }) => `meal.${r.meal}`),
    'menu',
    'digest.daily',
    'digest.weekly',
    'digest.monthly',
  ];
  cfg.jobs = Object.fromEntries(names.map((n) => [n, { enabled: false }]));
  for (const t of cfg.teams) {
    delete t.onDuty;
    delete t.night;
  }
  const shuidian = cfg.teams.find((t: { id: string }) => t.id === 'shuidian');
  shuidian.onDuty = everyDay(['liu_sf']);
  shuidian.night = { from: clockIn(-60), to: clockIn(60), onDuty: everyDay(['yang_sf']) };
}

beforeAll(async () => {
  redis = redisClient();
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: testConfig(hospitalDay, 'example-hospital.yaml'),
  });
});

afterAll(async () => {
  await svc?.stop();
  if (redis) {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
});

describe('a ward’s day at the county hospital', () => {
  it('the console knows the hospital’s kinds of work by name', async () => {
    const roster = (await (await api('/roster')).json()) as {
      org: { name: string };
      kinds: { id: string; name: string }[];
    };
    expect(roster.org.name).toBe('清河县人民医院');
    expect(roster.kinds).toEqual([
      { id: 'repair', name: '报修' },
      { id: 'cleaning', name: '保洁' },
      { id: 'meal', name: '餐评' },
      { id: 'porter', name: '运送' },
      { id: 'medical_waste', name: '医废收运' },
    ]);
  });

  it('a call bell: reported by the head nurse, claimed from the card, finished, accepted', async () => {
    await say('li_jing', 'ward_5', '5病区12床呼叫器不响了');
    const ack = await botSaid('ward_5', '已登记');
    const id = taskId(ack);
    expect(ack.text).toContain(`#${id} 报修【5病区】`);
    expect(ack.text).toContain('电梯设备组');
    await botSaid('team_shebei', `#${id}`);
    const card = await claimCard('dm:tang_gong', id);
    expect(card.card!.title).toBe(`新报修 #${id}`);
    await claimCard('dm:gao_sf', id);
    const clicked = await click('tang_gong', 'dm:tang_gong', card.id, `claim:${id}`);
    expect(clicked.card!.buttons[0].text).toBe('你已接单');
    await botSaid('dm:li_jing', '唐工接单');
    await say('tang_gong', 'dm:tang_gong', `完工 ${id} 换了呼叫按钮`);
    const acceptCard = await until('accept card', async () =>
      (await read('dm:li_jing')).find((m) => m.card?.buttons.some((b) => b.key === `accept:${id}`)),
    );
    await click('li_jing', 'dm:li_jing', acceptCard.id, `accept:${id}`);
    await botSaid('dm:li_jing', `#${id} 已验收`);
  });

  it('运送: a porter task goes to the porter team, is claimed and delivered', async () => {
    await say('zhou_ting', 'ward_5', '运送 5病区3床 去CT室 需要推床');
    const ack = await botSaid('ward_5', /已登记 #\d+ 运送/);
    const id = taskId(ack);
    expect(ack.text).toContain(`#${id} 运送【5病区】3床 去CT室`);
    expect(ack.text).toContain('运送中心');
    const notice = await botSaid('team_yunsong', `#${id}`);
    expect(notice.text).toContain(`#${id} 运送【5病区】`);
    const card = await claimCard('dm:han_sf', id);
    expect(card.card!.title).toBe(`新运送 #${id}`);
    expect((await click('han_sf', 'dm:han_sf', card.id, `claim:${id}`)).card!.buttons[0].text).toBe('你已接单');
    await botSaid('dm:zhou_ting', '韩师傅接单');
    const board = (await (await api('/tasks')).json()) as { tasks: { id: number; kind: string; state: string }[] };
    expect(board.tasks.find((t) => t.id === id)).toMatchObject({ kind: 'porter', state: 'claimed' });
    await say('han_sf', 'dm:han_sf', `完工 ${id} 已送到CT室`);
    await botSaid('dm:zhou_ting', `#${id}`);
    await say('zhou_ting', 'dm:zhou_ting', `验收 ${id}`);
    await botSaid('dm:zhou_ting', `#${id} 已验收`);
  });

  it('医疗废物: a pickup in plain words goes to the waste team', async () => {
    await say('li_jing', 'ward_5', '5病区有两箱医疗废物要收');
    const ack = await botSaid('ward_5', /已登记 #\d+ 医废收运/);
    const id = taskId(ack);
    expect(ack.text).toContain('医废收运组');
    await botSaid('team_yifei', `#${id} 医废收运【5病区】`);
    const card = await claimCard('dm:peng_sf', id);
    expect(card.card!.title).toBe(`新医废收运 #${id}`);
    await claimCard('dm:jiang_sf', id);
    // Not the porters' nor the cleaners' work.
    expect((await read('team_yunsong')).some((m) => m.text?.includes(`#${id} `))).toBe(false);
    expect((await read('team_baojie')).some((m) => m.text?.includes(`#${id} `))).toBe(false);
    await click('peng_sf', 'dm:peng_sf', card.id, `claim:${id}`);
    await botSaid('dm:li_jing', '彭师傅接单');
  });

  it('病区安全巡查: run from the board, answered in the ward group; the full sharps box becomes a waste pickup', async () => {
    expect((await api('/jobs/run', { name: 'checklist.ward_safety' })).status).toBe(200);
    const post = await botSaid('ward_5', '📋 病区安全巡查');
    expect(post.text).toContain('@李静');
    expect(post.text).toContain('3. 床头呼叫系统');
    expect(post.text).toContain('8. 利器盒不超过四分之三');
    await say('li_jing', 'ward_5', '全部正常，8 异常 利器盒满了');
    const ack = await botSaid('ward_5', '已记录【病区安全巡查');
    expect(ack.text).toContain('❌ 8 利器盒不超过四分之三 异常：利器盒满了');
    const id = Number(/已转医废收运 #(\d+)/.exec(ack.text ?? '')?.[1]);
    expect(id).toBeGreaterThan(0);
    expect(ack.text).toContain('已通知医废收运组');
    await botSaid('team_yifei', `#${id} 医废收运【5病区】`);
    // The other wards got their own sheets, in their own groups.
    expect((await botSaid('ward_3', '📋 病区安全巡查')).text).toContain('@陈敏');
  });

  it('a report during the night shift goes to the night’s electrician, and the job to him when nobody claims', async () => {
    await say('wu_qian', 'ward_5', '5病区走廊灯不亮');
    const ack = await botSaid('ward_5', /已登记 #\d+ 报修【5病区】走廊灯不亮/);
    const id = taskId(ack);
    expect(ack.text).toContain('水电班');
    await claimCard('dm:yang_sf', id);
    const notice = await botSaid('team_shuidian', `#${id}`);
    expect(notice.text).toContain('@杨师傅');
    expect(notice.text).not.toContain('@刘师傅');
    for (const dayWorker of ['dm:liu_sf', 'dm:ma_sf', 'dm:guo_sf'])
      expect((await read(dayWorker)).some((m) => m.card?.buttons.some((b) => b.key === `claim:${id}`))).toBe(false);
    // Nobody claims for 30 minutes: the night's on-duty man gets the job itself.
    await api('/timers/advance', { minutes: 40 });
    await botSaid('dm:wu_qian', `#${id} 已派给值班的杨师傅`);
    await until('assigned card', async () =>
      (await read('dm:yang_sf')).find((m) => m.card?.title === `已派给你 #${id}`),
    );
  });

  it('the 院长’s 日报 counts 运送 and 医废收运 by name', async () => {
    expect((await api('/jobs/run', { name: 'digest.daily' })).status).toBe(200);
    const digest = await botSaid('dm:zhao_yz', '后勤日报');
    expect(digest.text).toContain('**清河县人民医院 · 后勤日报**');
    expect(digest.text).toMatch(/运送　报 1 · 接 1 · 完 1 · 验 1/);
    expect(digest.text).toMatch(/医废收运　报 2 · 接 2/);
    expect(digest.text).toMatch(/报修　报 2 · 接 2 · 完 1 · 验 1/);
  });
});
