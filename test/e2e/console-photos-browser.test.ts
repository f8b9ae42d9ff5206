// Photos in the browser console: 王丽 picks a photo with 📷, sends it with her report; the chat shows the thumbnail
// (loaded through the token-protected photo route), the task board shows it, 李师傅 sees it after his claim card.
// Screenshots land in test-artifacts/console/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, testConfig, type RunningService } from '../helpers/service.js';
import { closeBrowser, launchBrowser, messages, openConsole, visible, type ConsolePage } from '../helpers/browser.js';
import { png } from '../helpers/pictures.js';

const prefix = testPrefix('cphotob');
const TOKEN = 'photo-browser-token';
let svc: RunningService;
let browser: Browser;
let redis: Redis;
let mediaDir: string;
const pages: ConsolePage[] = [];

beforeAll(async () => {
  redis = redisClient();
  mediaDir = mkdtempSync(join(tmpdir(), 'houqin-browser-media-'));
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONSOLE_TOKEN: TOKEN,
    HOUQIN_MEDIA_DIR: mediaDir,
    HOUQIN_CONFIG: testConfig((cfg) => {
      cfg.teams.forEach((t: { onDuty?: unknown }) => delete t.onDuty);
      cfg.jobs = { menu: { enabled: false } };
    }),
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
  rmSync(mediaDir, { recursive: true, force: true });
});

/** True once every matching <img> has loaded a real picture. */
const loaded = (p: ConsolePage, selector: string) =>
  p.page.waitForFunction(
    (sel) => {
      const imgs = [...document.querySelectorAll(sel)] as HTMLImageElement[];
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    },
    selector,
    { timeout: 10_000 },
  );

describe('console photos in the browser', () => {
  it('📷 with a report: thumbnail in the chat and on the board, and in the worker’s DM after the card', async () => {
    const teacher = await openConsole(browser, svc.url, { as: 'wang_li', chat: 'class_xiao1', token: TOKEN });
    pages.push(teacher);
    const { page } = teacher;
    await page.locator('#photo').setInputFiles({
      name: 'tap.png',
      mimeType: 'image/png',
      buffer: png({ side: 120, rgb: [40, 120, 200] }),
    });
    await visible(page.getByRole('img', { name: '要发送的照片' }));
    expect(await page.locator('#photo-preview-name').textContent()).toBe('tap.png');
    await page.getByRole('textbox', { name: '输入消息' }).fill('报修 小一班 水龙头漏水');
    await page.getByRole('button', { name: '发送', exact: true }).click();
    await visible(messages(page).filter({ hasText: '报修 小一班 水龙头漏水' }).locator('img.thumb'));
    await loaded(teacher, '.messages img.thumb');
    expect(await page.locator('#photo-preview').isHidden()).toBe(true); // sent: the preview is cleared
    await visible(messages(page).filter({ hasText: '已登记' }));

    // From 900 px wide the task board sits beside the chat.
    await visible(page.locator('.task-photos img.thumb'));
    await loaded(teacher, '.task-photos img.thumb');
    await teacher.shot('photo-1-teacher');

    const worker = await openConsole(browser, svc.url, { as: 'li_sf', chat: 'dm:li_sf', token: TOKEN });
    pages.push(worker);
    await visible(messages(worker.page).locator('.card'));
    await visible(messages(worker.page).filter({ hasText: '现场照片' }).locator('img.thumb'));
    await loaded(worker, '.messages img.thumb');
    await worker.shot('photo-2-worker');
    expect([...teacher.problems, ...worker.problems]).toEqual([]);
  });
});
