// One school day of checklists played in a real Chromium through /console only, as the people would: 陈主任 runs the
// safety round with 立即运行 and answers it in 后勤管理群 with one failure, the repair lands on the board and as a
// claim card in 李师傅's DM, he claims it; the canteen round is posted, 钱师傅 taps 全部正常 on its card but never
// types the fridge temperature, so its reminder reaches him and the grace job tells 陈主任 it was missed; then
// 周园长's 日报 shows that day's figures. Every assertion is on what the page shows. Screenshots land in
// test-artifacts/console/ (day-*.png).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, testConfig, until, type RunningService } from '../helpers/service.js';
import {
  closeBrowser,
  launchBrowser,
  messages,
  openConsole,
  say,
  taskRef,
  visible,
  type ConsolePage,
} from '../helpers/browser.js';

const BOT = '后勤助手';
const prefix = testPrefix('console-day');
let svc: RunningService;
let browser: Browser;
let redis: Redis;
const pages: ConsolePage[] = [];

const botSaid = (p: Page, text: string | RegExp) =>
  visible(messages(p).filter({ hasText: BOT }).filter({ hasText: text }));

/** The day's jobs run when the manager presses 立即运行, not when the clock says: every scheduled job is off. */
function quietDay(cfg: Record<string, any>): void {
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
  // Every member gets the claim card whatever the weekday; the example's SLA (remind after 30 min) keeps the
  // timers quiet while the browser clicks.
  for (const t of cfg.teams) delete t.onDuty;
}

async function open(as: string, chat: string): Promise<ConsolePage> {
  const p = await openConsole(browser, svc.url, { as, chat });
  pages.push(p);
  return p;
}

/** 立即运行 on the board's job list, and the board says it ran. */
async function runJob(p: ConsolePage, title: string): Promise<void> {
  await p.page.getByRole('button', { name: `立即运行：${title}`, exact: true }).click();
  await visible(p.page.getByRole('status').filter({ hasText: `已运行：${title}` }), 15_000);
}

async function switchChat(p: ConsolePage, chat: string, heading: string): Promise<void> {
  await p.page.getByRole('combobox', { name: '聊天' }).selectOption(chat);
  await visible(p.page.getByRole('heading', { name: heading, exact: true }));
}

beforeAll(async () => {
  redis = redisClient();
  svc = await startService({ REDIS_URL, HOUQIN_KEY_PREFIX: prefix, HOUQIN_CONFIG: testConfig(quietDay) });
  browser = await launchBrowser();
});

afterAll(async () => {
  await closeBrowser(browser, pages);
  await svc?.stop();
  if (redis) {
    await dropPrefix(redis, prefix);
    redis.disconnect();
  }
});

describe('a checklist day in the browser console', () => {
  it('post → answer with one failure → repair claimed → card tap → reminder → missed → 日报', {
    timeout: 120_000,
  }, async () => {
    const manager = await open('chen_zr', 'manager');
    const worker = await open('li_sf', 'dm:li_sf');
    const canteen = await open('qian_sf', 'team_shitang');
    const mp = manager.page;
    await visible(mp.getByRole('heading', { name: '后勤管理群', exact: true }));
    const board = mp.getByRole('region', { name: '任务列表' });

    // 1. 陈主任 posts the safety round from the board: it appears in 后勤管理群, addressed to him.
    await runJob(manager, '发布检查表：每日安全检查');
    const post = await botSaid(mp, '📋 每日安全检查');
    const postText = await post.innerText();
    expect(postText).toContain('@陈主任');
    expect(postText).toContain('3. 消防器材与通道');
    expect(postText).toContain('6. 饮水设备');
    expect(postText).toMatch(/08:30前完成/);
    await manager.shot('day-01-safety-posted');

    // 2. He answers in the group: everything fine except the fire extinguisher.
    await say(manager, '全部正常，3 异常 灭火器压力不足');
    const ack = await botSaid(mp, '📝 已记录【每日安全检查】');
    const ackText = await ack.innerText();
    const id = Number(/已报修 #(\d+)/.exec(ackText)?.[1]);
    expect(id).toBeGreaterThan(0);
    expect(ackText).toContain('❌ 3 消防器材与通道 异常：灭火器压力不足');
    expect(ackText).toContain('已通知水电维修');
    expect(ackText).toContain('🎉 6 项全部填完');
    await manager.shot('day-02-safety-answered');

    // 3. The repair is on the task board, waiting to be claimed…
    const row = board.getByRole('listitem').filter({ hasText: taskRef(id) });
    await until(
      'the repair on the board',
      async () => (await row.count()) === 1 && (await row.innerText()).includes('待接单'),
      10_000,
      200,
    );
    const rowText = await row.innerText();
    expect(rowText).toContain('每日安全检查：消防器材与通道 异常：灭火器压力不足');
    expect(rowText).toContain('报修人 陈主任');
    await manager.shot('day-03-board-open');

    // …and its claim card reached 李师傅's DM live; he claims it there.
    const wp = worker.page;
    const card = wp.getByRole('article', { name: new RegExp(`报修 #${id}$`) });
    await visible(card);
    expect(await card.innerText()).toContain('灭火器压力不足');
    await worker.shot('day-04-worker-claim-card');
    await card.getByRole('button', { name: '接单', exact: true }).click();
    await visible(card.getByRole('button', { name: '你已接单' }));
    await botSaid(wp, `你已接单 #${id}`);
    await until(
      'the board to show it claimed',
      async () => (await row.count()) === 1 && (await row.innerText()).includes('处理中'),
      10_000,
      200,
    );
    await worker.shot('day-05-worker-claimed');

    // 4. The canteen round is posted to 食堂群; 钱师傅 also gets its card in his DM and taps 全部正常 there. The
    //    fridge temperature is a number, so it is still to be typed — and he does not.
    const cp = canteen.page;
    await runJob(manager, '发布检查表：食堂卫生检查');
    const canteenPost = await botSaid(cp, '📋 食堂卫生检查');
    expect(await canteenPost.innerText()).toContain('@钱师傅');
    await cp.getByRole('button', { name: /私聊机器人有 \d+ 条新消息/ }).click();
    await visible(cp.getByRole('heading', { name: '私聊机器人', exact: true }));
    const sheetCard = cp.getByRole('article', { name: '📋 食堂卫生检查' });
    await visible(sheetCard);
    expect(await sheetCard.innerText()).toContain('1 生熟分开');
    await canteen.shot('day-06-canteen-card');
    await sheetCard.getByRole('button', { name: '全部正常', exact: true }).click();
    const recorded = await visible(sheetCard.getByRole('button', { name: '已记录' }));
    expect(await recorded.isDisabled()).toBe(true);
    expect(await sheetCard.innerText()).toContain('已记录：正常 3 项，还差 1 项：4 冷藏温度（℃）');
    const cardAck = await botSaid(cp, '📝 已记录【食堂卫生检查】');
    expect(await cardAck.innerText()).toContain('✅ 1 生熟分开、2 食品留样48小时、3 从业人员晨检 正常');
    await canteen.shot('day-07-canteen-card-recorded');

    // 5. Due time: the reminder job nudges 钱师傅 himself and the group, for the one item still missing.
    await runJob(manager, '检查表催填：食堂卫生检查');
    const dmNudge = await botSaid(cp, '⏰ 食堂卫生检查还没填完');
    expect(await dmNudge.innerText()).toContain('还差 1 项：4 冷藏温度（℃）');
    await switchChat(canteen, 'team_shitang', '食堂群');
    const nudge = await botSaid(cp, '⏰ 食堂卫生检查还没填完');
    expect(await nudge.innerText()).toContain('钱师傅，差 1 项');
    await canteen.shot('day-08-canteen-reminded');

    // 6. The grace period passes: the sheet is missed and 陈主任 is told in his DM.
    await runJob(manager, '检查表漏检登记：食堂卫生检查');
    await mp.getByRole('button', { name: /私聊机器人有 \d+ 条新消息/ }).click();
    await visible(mp.getByRole('heading', { name: '私聊机器人', exact: true }));
    const missed = await botSaid(mp, '食堂卫生检查未按时完成');
    expect(await missed.innerText()).toContain('钱师傅，还差 1 项');
    await manager.shot('day-09-manager-missed');

    // 7. The day's digest: 陈主任 runs 园长日报; 周园长 reads it in his DM.
    const director = await open('zhou_yz', 'dm:zhou_yz');
    const dp = director.page;
    await runJob(manager, '园长日报');
    const digest = await botSaid(dp, '后勤日报');
    const text = await digest.innerText();
    expect(text).toContain('阳光幼儿园 · 后勤日报');
    expect(text).toContain('报修　报 1 · 接 1 · 完 0 · 验 0 · 超时 0');
    expect(text).toMatch(/接单　平均 \d+分钟 · 目标 30分钟 · 超时 0\/1/);
    expect(text).toContain('在办　待接单 0 · 处理中 1 · 挂起 0 · 待验收 0 · 超时 0');
    expect(text).toMatch(new RegExp(`#${id} 报修.*处理中`));
    expect(text).toContain('检查　完成 1/2 · 漏检 1 · 有异常 1');
    expect(text).toContain(`每日安全检查 · 消防器材与通道 异常 → #${id}`);
    expect(text).toContain('食堂卫生检查 漏检（钱师傅）');
    await director.shot('day-10-director-digest');

    // He can also ask for it himself, in 园领导群: the same figures, as plain text.
    await switchChat(director, 'leaders', '园领导群');
    await say(director, '日报');
    const asked = await botSaid(dp, '后勤日报');
    const askedText = await asked.innerText();
    expect(askedText).toContain('检查　完成 1/2 · 漏检 1 · 有异常 1');
    expect(askedText).toContain('报修　报 1 · 接 1');
    await director.shot('day-11-director-asked');

    // 8. The day before, as of its own end: 陈主任 picks yesterday on the board and runs 园长日报 again. Nothing had
    //    been reported yet then, so today's repair is not in its 在办.
    const yesterday = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(
      new Date(Date.now() - 86_400_000),
    );
    const label = `${Number(yesterday.slice(5, 7))}月${Number(yesterday.slice(8))}日`;
    await mp.getByLabel('按哪天运行').fill(yesterday);
    await runJob(manager, '园长日报');
    await visible(mp.getByRole('status').filter({ hasText: `已运行：园长日报（按 ${label}）` }));
    await dp.getByRole('button', { name: /私聊机器人有 \d+ 条新消息/ }).click();
    const before = await botSaid(dp, `${label}（`);
    const beforeText = await before.innerText();
    expect(beforeText).toContain('在办　待接单 0 · 处理中 0 · 挂起 0 · 待验收 0 · 超时 0');
    expect(beforeText).not.toMatch(taskRef(id));
    expect(beforeText).toContain('检查　无记录');
    await director.shot('day-12-director-yesterday');

    for (const p of pages) expect(p.problems).toEqual([]);
  });
});
