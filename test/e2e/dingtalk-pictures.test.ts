// DingTalk pictures and custom robots end to end: the real service as a child process, the local DingTalk stand-in
// playing the robot API, oapi media/upload, the picture download and a custom robot. A teacher reports in her class
// group, then sends a photo (rich text: the @ and a picture with its downloadCode): it is fetched, kept and attached,
// and the workers on duty get it as a picture. The water-and-power team's group has only a custom robot: the team
// notice goes there, signed, its Webhook and secret coming from the environment and never logged. The weekly digest
// reaches the director with its chart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { fastTimers, startService, testConfig, until, type RunningService } from '../helpers/service.js';
import {
  robotMessage,
  signedHeaders,
  startFakeDingtalk,
  type DingRecorded,
  type FakeDingtalk,
} from '../helpers/fake-dingtalk.js';
import { png } from '../helpers/pictures.js';
import { PhotoStore } from '../../src/store/photos.js';

const APP_KEY = 'dingpicappkey01';
const APP_SECRET = randomBytes(24).toString('base64');
const ROBOT = 'dingpicrobot01';
const GROUP = 'cidXiao1Teachers0Grp+a2Q==';
const HOOK_TOKEN = randomBytes(32).toString('hex');
const HOOK_SECRET = `SEC${randomBytes(32).toString('hex')}`;
const STAFF = { wangLi: '02110001', liSf: '03110001', wuSf: '03110002', zhouYz: '01123456' };

let fake: FakeDingtalk;
let svc: RunningService;
let redis: Redis;
let photos: PhotoStore;
let mediaDir: string;
const prefix = testPrefix('e2e-dtpic');

async function post(body: Record<string, unknown>) {
  const res = await fetch(`${svc.url}/dingtalk/robot`, {
    method: 'POST',
    headers: signedHeaders(APP_SECRET),
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
}

const sessionReply = (url: string) => {
  const key = new URL(url).searchParams.get('session');
  return fake.waitFor((r) => r.kind === 'session' && r.code === '' && r.session === key, 15_000);
};
const textOf = (r: DingRecorded) => JSON.stringify(r.param ?? r.body);
/** sampleImageMsg to a person whose media_id was uploaded with these bytes. */
const pictureTo = (staffId: string, bytes?: Buffer) => (r: DingRecorded) =>
  r.kind === 'batchSend' &&
  r.status === 200 &&
  r.body.userIds[0] === staffId &&
  r.body.msgKey === 'sampleImageMsg' &&
  (!bytes || !!fake.uploaded(r.param.photoURL)?.data.equals(bytes));

beforeAll(async () => {
  fake = await startFakeDingtalk({
    appKey: APP_KEY,
    appSecret: APP_SECRET,
    robotCode: ROBOT,
    robots: [{ token: HOOK_TOKEN, secret: HOOK_SECRET }],
  });
  redis = redisClient();
  photos = new PhotoStore(redis, prefix);
  mediaDir = mkdtempSync(join(tmpdir(), 'houqin-e2e-dtpic-'));
  const config = testConfig((cfg) => {
    fastTimers(cfg, { remind: 60, assign: 120, escalate: 180 });
    cfg.jobs = { menu: { enabled: false } };
    const team = cfg.chats.find((c: { id: string }) => c.id === 'team_shuidian');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${ENV} syntax
    team.dingtalk = { webhook: '${DINGTALK_WEBHOOK_SHUIDIAN}', secret: '${DINGTALK_SECRET_SHUIDIAN}' };
  });
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: config,
    HOUQIN_MEDIA_DIR: mediaDir,
    DINGTALK_APP_KEY: APP_KEY,
    DINGTALK_APP_SECRET: APP_SECRET,
    DINGTALK_ROBOT_CODE: ROBOT,
    DINGTALK_API_BASE: fake.url,
    DINGTALK_OAPI_BASE: fake.url,
    DINGTALK_WEBHOOK_SHUIDIAN: fake.robotWebhook(HOOK_TOKEN),
    DINGTALK_SECRET_SHUIDIAN: HOOK_SECRET,
  });
});

afterAll(async () => {
  await svc?.stop();
  await fake?.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
  rmSync(mediaDir, { recursive: true, force: true });
});

describe('DingTalk pictures and custom robots, end to end', () => {
  it('a report, then a photo in the group: attached to the report, and the workers get it as a picture', async () => {
    const said = fake.mintSessionWebhook();
    await post(
      robotMessage({
        staffId: STAFF.wangLi,
        text: '报修 小一班 水龙头一直漏水',
        conversationId: GROUP,
        robotCode: ROBOT,
        session: said,
      }),
    );
    const id = Number(/#(\d+)/.exec(textOf(await sessionReply(said.url)))![1]);

    // The team's group has only a custom robot: its notice goes there, signed.
    const notice = await fake.waitFor(
      (r) => r.kind === 'robotSend' && r.code === '' && JSON.stringify(r.body).includes(`#${id}`),
      15_000,
    );
    expect(notice.query).toMatch(/&timestamp=\d{13}&sign=/);

    // In a group a picture reaches the robot with an @ to it: DingTalk sends that as rich text.
    const bytes = png({ minBytes: 12_000 });
    const shown = fake.mintSessionWebhook();
    const withPicture = robotMessage({
      staffId: STAFF.wangLi,
      text: '',
      msgtype: 'richText',
      conversationId: GROUP,
      robotCode: ROBOT,
      session: shown,
    });
    withPicture.content = {
      richText: [{ text: '@后勤助手 ' }, { type: 'picture', downloadCode: fake.pictureCode(bytes) }],
    };
    await post(withPicture);
    expect(textOf(await sessionReply(shown.url))).toContain(`照片已附到 #${id}`);
    const photo = await until('the photo on the task', async () => (await photos.list(id))[0]);
    expect(photo).toMatchObject({ kind: 'report', by: 'wang_li', size: bytes.length });
    expect(existsSync(join(mediaDir, photo.hash.slice(0, 2), photo.hash))).toBe(true);
    for (const w of [STAFF.liSf, STAFF.wuSf]) await fake.waitFor(pictureTo(w, bytes), 15_000);
    const uploads = fake.requests.filter((r) => r.kind === 'mediaUpload' && r.media?.data.equals(bytes));
    expect(uploads).toHaveLength(1); // once for both workers
    expect(fake.requests.filter((r) => r.kind === 'fileDownload').at(-1)).toMatchObject({ status: 200 });
    expect(fake.violations()).toEqual([]);
  });

  it('the weekly digest reaches the director with its chart', async () => {
    const res = await fetch(`${svc.url}/console/api/jobs/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'digest.weekly' }),
    });
    expect(res.status).toBe(200);
    await fake.waitFor(
      (r) => r.kind === 'batchSend' && r.body.userIds[0] === STAFF.zhouYz && r.body.msgKey === 'sampleMarkdown',
      15_000,
    );
    const chart = await fake.waitFor(pictureTo(STAFF.zhouYz), 15_000);
    const upload = fake.uploaded(chart.param.photoURL)!;
    expect(upload.filename).toBe('chart.png');
    expect(upload.data.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(fake.violations()).toEqual([]);
  });

  it('no log line holds the custom robot token or its secret', () => {
    const all = svc.logs.join('\n');
    expect(all).toContain('DingTalk custom robots');
    expect(all).not.toContain(HOOK_TOKEN);
    expect(all).not.toContain(HOOK_SECRET);
  });
});
