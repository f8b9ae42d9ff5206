// The browser console end to end: the real service, a real Chromium, people driving /console by role and name
// as a screen reader would. 王丽 reports in her class group, 李师傅 claims from his DM card, finishes, she
// accepts — each page sees the others' steps live. Screenshots of every step land in test-artifacts/console/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { fastTimers, startService, testConfig, until, type RunningService } from '../helpers/service.js';
import {
  closeBrowser,
  horizontalOverflow,
  launchBrowser,
  messages,
  openConsole,
  say,
  taskRef,
  visible,
  type ConsolePage,
} from '../helpers/browser.js';

const BOT = '后勤助手';
const prefix = testPrefix('console');
const TOKEN = 'console-secret';
let svc: RunningService;
let browser: Browser;
let redis: Redis;
const pages: ConsolePage[] = [];

async function open(o: Parameters<typeof openConsole>[2]): Promise<ConsolePage> {
  const p = await openConsole(browser, svc.url, { token: TOKEN, ...o });
  pages.push(p);
  return p;
}

beforeAll(async () => {
  redis = redisClient();
  // Timers far enough out that nobody is auto-assigned or auto-accepted while the browser clicks; the board's
  // 快进 buttons bring them forward on purpose.
  const config = testConfig((cfg) => {
    fastTimers(cfg, { remind: 120, assign: 240, escalate: 360 });
    cfg.sla.autoAccept = '1h';
  });
  // With a console token, as a deployment reachable by others would run it: every call the page makes carries it.
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: config,
    HOUQIN_CONSOLE_TOKEN: TOKEN,
  });
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

describe('browser console', () => {
  let taskId = 0;

  it('report in the class group → claim from the DM card → finish → accept, live across tabs', {
    timeout: 90_000,
  }, async () => {
    const teacher = await open({ as: 'wang_li', chat: 'class_xiao1' });
    const worker = await open({ as: 'li_sf', chat: 'dm:li_sf' });
    const tp = teacher.page;
    const wp = worker.page;

    // The pickers show who and where, from the URL.
    expect(await tp.getByRole('combobox', { name: '我是' }).inputValue()).toBe('wang_li');
    expect(await tp.getByRole('combobox', { name: '聊天' }).inputValue()).toBe('class_xiao1');
    expect(await wp.getByRole('combobox', { name: '聊天' }).inputValue()).toBe('dm:li_sf');
    await visible(tp.getByRole('heading', { name: '小一班教师群' }));
    await visible(wp.getByRole('heading', { name: '私聊机器人' }));

    // 1. 王丽 reports in her class group; the bot answers there with the task number.
    await say(teacher, '报修 小一班 空调不制冷');
    const mine = await visible(messages(tp).filter({ hasText: '报修 小一班 空调不制冷' }));
    expect(await mine.innerText()).toContain('王丽');
    const ack = await visible(messages(tp).filter({ hasText: BOT }).filter({ hasText: /#\d+/ }));
    taskId = Number(/#(\d+)/.exec(await ack.innerText())![1]);
    expect(taskId).toBeGreaterThan(0);
    expect(await ack.locator('time').count()).toBe(1);
    await teacher.shot('01-teacher-reported');

    // 2. 李师傅's DM shows the claim card live, without a reload.
    const claimCard = wp.getByRole('article', { name: new RegExp(`报修 #${taskId}$`) });
    await visible(claimCard);
    expect(await messages(wp).filter({ has: claimCard }).innerText()).toContain(BOT);
    const claim = claimCard.getByRole('button', { name: '接单', exact: true });
    expect(await claim.isEnabled()).toBe(true);
    expect(await claimCard.innerText()).toContain('小一班');
    await worker.shot('02-worker-claim-card');

    // 3. He taps 接单: his card now says 你已接单 and cannot be tapped again.
    await claim.click();
    const taken = await visible(claimCard.getByRole('button', { name: '你已接单' }));
    expect(await taken.isDisabled()).toBe(true);
    await visible(
      messages(wp)
        .filter({ hasText: BOT })
        .filter({ hasText: `你已接单 #${taskId}` }),
    );
    await worker.shot('03-worker-claimed');

    // 4. The reporter hears of it in her own DM: she switches chat; the link follows.
    await tp.getByRole('combobox', { name: '聊天' }).selectOption(`dm:wang_li`);
    await visible(tp.getByRole('heading', { name: '私聊机器人' }));
    expect(new URL(tp.url()).searchParams.get('chat')).toBe('dm:wang_li');
    expect(new URL(tp.url()).searchParams.get('as')).toBe('wang_li');
    await visible(
      messages(tp)
        .filter({ hasText: BOT })
        .filter({ hasText: '李师傅接单' })
        .filter({ hasText: taskRef(taskId) }),
    );
    await teacher.shot('04-teacher-dm-claimed');

    // 5. He reports it finished by typing; her DM gets the acceptance card live.
    await say(worker, `完工 ${taskId} 换了电容`);
    await visible(
      messages(wp)
        .filter({ hasText: BOT })
        .filter({ hasText: `#${taskId} 已完工` }),
    );
    await worker.shot('05-worker-done');
    const acceptCard = tp.getByRole('article', { name: `#${taskId} 已完工，请验收` });
    await visible(acceptCard);
    expect(await acceptCard.innerText()).toContain('李师傅');
    await teacher.shot('06-teacher-accept-card');

    // 6. She taps 验收通过; the bot confirms, and 李师傅 hears of it in his DM.
    await acceptCard.getByRole('button', { name: '验收通过', exact: true }).click();
    await visible(
      messages(tp)
        .filter({ hasText: BOT })
        .filter({ hasText: `#${taskId} 已验收` }),
    );
    await visible(
      messages(wp)
        .filter({ hasText: BOT })
        .filter({ hasText: `#${taskId} 已通过验收` }),
    );
    await teacher.shot('07-teacher-accepted');
    await worker.shot('08-worker-accepted');

    // 7. The task board (beside the chat on a wide screen) shows it 已验收, or no longer among the active ones.
    const board = tp.getByRole('region', { name: '任务列表' });
    await until(
      'the board to show the task accepted',
      async () => {
        const item = board.getByRole('listitem').filter({ hasText: taskRef(taskId) });
        const n = await item.count();
        return n === 0 || (n === 1 && (await item.innerText()).includes('已验收'));
      },
      10_000,
      200,
    );
    await teacher.shot('09-teacher-board');

    for (const p of [teacher, worker]) expect(p.problems).toEqual([]);
  });

  it('the board lists an open task with its next timer and 快进 fires it', { timeout: 60_000 }, async () => {
    const manager = await open({ as: 'chen_zr', chat: 'dm:chen_zr' });
    const mp = manager.page;
    const teacher = await open({ as: 'liu_fang', chat: 'class_zhong2' });
    await say(teacher, '报修 中二班 灯不亮');
    const ack = await visible(messages(teacher.page).filter({ hasText: BOT }).filter({ hasText: /#\d+/ }));
    const id = Number(/#(\d+)/.exec(await ack.innerText())![1]);

    const board = mp.getByRole('region', { name: '任务列表' });
    const item = await visible(board.getByRole('listitem').filter({ hasText: taskRef(id) }));
    await until('the open task with its next step', async () => {
      const text = await item.innerText();
      return text.includes('待接单') && text.includes('下一步') && text.includes('中二班');
    });
    await manager.shot('10-manager-board-open');

    // Unclaimed for 2–6 minutes means remind → assign to the on-duty worker → escalate: 快进 10 分钟 does all three.
    await mp.getByRole('button', { name: '快进 10 分钟' }).click();
    await visible(mp.getByRole('status').filter({ hasText: '快进 10 分钟' }));
    await until(
      'the board to show the task assigned',
      async () => {
        const row = board.getByRole('listitem').filter({ hasText: taskRef(id) });
        return (await row.count()) === 1 && (await row.innerText()).includes('处理中');
      },
      15_000,
      200,
    );
    // The escalation reached the manager's DM live.
    await visible(
      messages(mp)
        .filter({ hasText: BOT })
        .filter({ hasText: taskRef(id) }),
      15_000,
    );
    await manager.shot('11-manager-after-fast-forward');

    // Scheduled jobs: listed with a 立即运行 button each, or 暂无定时任务.
    const res = await fetch(`${svc.url}/console/api/jobs`, { headers: { 'x-console-token': TOKEN } });
    const { jobs } = (await res.json()) as { jobs: { name: string; title: string }[] };
    if (jobs.length) {
      for (const j of jobs) await visible(mp.getByRole('button', { name: `立即运行：${j.title || j.name}` }));
      const first = jobs[0].title || jobs[0].name;
      await mp.getByRole('button', { name: `立即运行：${first}` }).click();
      await visible(mp.getByRole('status').filter({ hasText: `已运行：${first}` }), 15_000);
    } else await visible(mp.getByText('暂无定时任务'));

    for (const p of [manager, teacher]) expect(p.problems).toEqual([]);
  });

  it('fits a 390×844 phone: no horizontal scroll, large tap targets, HTML shown as text', {
    timeout: 60_000,
  }, async () => {
    const phone = await open({
      as: 'wang_li',
      chat: 'dm:wang_li',
      viewport: { width: 390, height: 844 },
      mobile: true,
    });
    const pp = phone.page;
    await visible(messages(pp).filter({ hasText: BOT }));
    expect(await horizontalOverflow(pp)).toBeLessThanOrEqual(0);

    // User text is never HTML: a tag arrives as the characters typed, and runs nothing.
    const typed = '谢谢<img src=x onerror="alert(1)"><b>辛苦了</b>';
    await say(phone, typed);
    const own = await visible(messages(pp).filter({ hasText: typed }));
    expect(await own.getByRole('img').count()).toBe(0);
    await visible(messages(pp).filter({ hasText: BOT }).last());
    expect(await horizontalOverflow(pp)).toBeLessThanOrEqual(0);

    for (const name of ['发送']) {
      const box = await pp.getByRole('button', { name, exact: true }).boundingBox();
      expect(box!.height).toBeGreaterThanOrEqual(44);
    }
    const cardButton = pp.getByRole('article').getByRole('button').first();
    if (await cardButton.count()) expect((await cardButton.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    await phone.shot('12-phone-chat');

    // The board is a tab on a phone.
    await pp.getByRole('tab', { name: '任务看板' }).click();
    await visible(pp.getByRole('button', { name: '快进 1 小时' }));
    expect(await pp.getByRole('textbox', { name: '输入消息' }).isVisible()).toBe(false);
    expect(await horizontalOverflow(pp)).toBeLessThanOrEqual(0);
    await phone.shot('13-phone-board');
    await pp.getByRole('tab', { name: '对话' }).click();
    await visible(pp.getByRole('textbox', { name: '输入消息' }));

    expect(phone.problems).toEqual([]);
  });

  it('without the token the page says how to open it', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${svc.url}/console?as=wang_li`);
      const alert = await visible(page.getByRole('alert'));
      expect(await alert.innerText()).toContain('token');
    } finally {
      await context.close();
    }
  });
});
