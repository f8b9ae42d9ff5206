// A district on one deployment: the real service serving a folder of two sites, each with its own WeCom AI bot
// keys, webhook robots, console and admin tokens; its messages go through shared, sharded queues. Nothing of one
// site reaches the other: not by its callback URL, not with the other's keys, not with a guessed task number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { parse, stringify } from 'yaml';
import { aibotPost, aibotText, type AibotKeys } from '../helpers/wecom-callbacks.js';
import { dropPrefix, keysMatching, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, until, type RunningService } from '../helpers/service.js';
import { aesKey, webhookKeys } from '../helpers/wecom-env.js';
import { startFakeWecom, type FakeWecom, type Recorded } from '../helpers/fake-wecom.js';
import { layout } from '../../src/store/layout.js';
import { TaskStore } from '../../src/store/tasks.js';

const prefix = testPrefix('district');
const lay = layout({ base: prefix, tagged: true, shards: 2 });
const corpId = 'wwdistrict0001';
const appSecret = randomBytes(8).toString('hex');
const metricsToken = randomBytes(12).toString('hex');
const southHooks = Object.fromEntries(
  Object.keys(webhookKeys).map((n) => [`SOUTH_${n}`, `s-${webhookKeys[n as keyof typeof webhookKeys]}`]),
);
const sites = {
  north: { token: `north${randomBytes(4).toString('hex')}`, aesKey: aesKey() },
  south: { token: `south${randomBytes(4).toString('hex')}`, aesKey: aesKey() },
  east: { token: `east${randomBytes(4).toString('hex')}`, aesKey: aesKey() },
} satisfies Record<string, AibotKeys>;
const access = {
  north: { consoleToken: randomBytes(12).toString('hex'), adminToken: randomBytes(12).toString('hex') },
  south: { consoleToken: randomBytes(12).toString('hex'), adminToken: randomBytes(12).toString('hex') },
};

let fake: FakeWecom;
let svc: RunningService;
let dir: string;
let redis: Redis;
let north: TaskStore;
let south: TaskStore;
let seq = 0;

/** A site file: the example kindergarten, with its own bot keys (from the environment) and tokens. */
function siteFile(dir: string, id: 'north' | 'south' | 'east'): void {
  let text = readFileSync('config/example.yaml', 'utf8');
  if (id !== 'north') text = text.replaceAll('${WECOM_WEBHOOK_', '${SOUTH_WECOM_WEBHOOK_');
  const cfg = parse(text) as Record<string, any>;
  const up = id.toUpperCase();
  cfg.wecom = { corpId, aibot: { token: `\${${up}_AIBOT_TOKEN}`, aesKey: `\${${up}_AIBOT_AES_KEY}` } };
  // South alone has the WeCom app (it can send to a person): the district's summary goes out through it.
  if (id === 'south') cfg.wecom.app = { token: 'southApp', aesKey: aesKey(), secret: appSecret, agentId: 1000002 };
  if (id !== 'east') cfg.access = access[id];
  writeFileSync(join(dir, `${id}.yaml`), stringify(cfg));
}

async function say(site: 'north' | 'south' | 'east', userid: string, content: string, keys: AibotKeys = sites[site]) {
  const responseUrl = fake.mintResponseUrl({ chattype: 'group' });
  const msgid = `d-${Date.now()}-${++seq}`;
  const { query, body } = aibotPost(
    keys,
    aibotText({ msgid, userid, content: `@后勤助手 ${content}`, chatid: 'wrGroupXiao1', responseUrl }),
  );
  const res = await fetch(`${svc.url}/wecom/${site}/aibot?${query}`, { method: 'POST', body });
  return { res, responseUrl };
}

const replyTo = (url: string) => (r: Recorded) =>
  r.kind === 'response_url' && url.endsWith(r.path + '?' + new URLSearchParams(r.query).toString());
const taskNumber = (r: Recorded) => Number(/#(\d+)/.exec(JSON.stringify(r.body))![1]);

beforeAll(async () => {
  fake = await startFakeWecom({
    corpId,
    corpSecret: appSecret,
    agentId: 1000002,
    webhookKeys: [...Object.values(webhookKeys), ...Object.values(southHooks)],
  });
  dir = mkdtempSync(join(tmpdir(), 'houqin-district-'));
  siteFile(dir, 'north');
  siteFile(dir, 'south');
  writeFileSync(
    join(dir, 'district.yaml'),
    stringify({ name: '测试区教育局', people: [{ name: '李科长', wecom: 'LiKeZhang', roles: ['district'] }] }),
  );
  redis = redisClient();
  north = new TaskStore(redis, lay.site('north'));
  south = new TaskStore(redis, lay.site('south'));
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: dir,
    HOUQIN_SHARDS: '2',
    HOUQIN_ADMIN_TOKEN: metricsToken,
    HOUQIN_VOCABULARY: join(dir, 'data', 'vocabulary.yaml'),
    WECOM_API_BASE: fake.url,
    NORTH_AIBOT_TOKEN: sites.north.token,
    NORTH_AIBOT_AES_KEY: sites.north.aesKey,
    SOUTH_AIBOT_TOKEN: sites.south.token,
    SOUTH_AIBOT_AES_KEY: sites.south.aesKey,
    // A site that joins later (SIGHUP): its variables are there from the start, as they must be.
    EAST_AIBOT_TOKEN: sites.east.token,
    EAST_AIBOT_AES_KEY: sites.east.aesKey,
    ...webhookKeys,
    ...southHooks,
  });
});

afterAll(async () => {
  await svc?.stop();
  await fake?.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('a district of two sites on one deployment', () => {
  it('starts saying how many sites it serves', () => {
    expect(svc.logs.join('\n')).toMatch(/"sites":2/);
  });

  it("takes each site's reports on its own URL into its own tasks, numbered on their own", async () => {
    const a = await say('north', 'WangLi', '报修 小一班 空调不制冷');
    expect(a.res.status).toBe(200);
    const idA = taskNumber(await fake.waitFor(replyTo(a.responseUrl)));
    const b = await say('north', 'LiNa', '报修 小二班 灯不亮');
    const idB = taskNumber(await fake.waitFor(replyTo(b.responseUrl)));
    const c = await say('south', 'WangLi', '报修 小一班 水龙头漏水');
    const idC = taskNumber(await fake.waitFor(replyTo(c.responseUrl)));
    expect([idA, idB, idC]).toEqual([1, 2, 1]);
    expect(await north.get(1)).toMatchObject({ place: '小一班', trade: '空调', reporter: 'wang_li' });
    expect(await south.get(1)).toMatchObject({ place: '小一班', trade: '水', reporter: 'wang_li' });
    expect(await south.get(2)).toBeNull();
    // Each site's team notice goes to that site's own group robot.
    await fake.waitFor(
      (r) => r.kind === 'webhook.send' && r.query.key === 'key-shuidian' && JSON.stringify(r.body).includes('空调'),
    );
    await fake.waitFor(
      (r) => r.kind === 'webhook.send' && r.query.key === 's-key-shuidian' && JSON.stringify(r.body).includes('水龙头'),
    );
    expect(
      fake.requests.some(
        (r) => r.kind === 'webhook.send' && r.query.key === 's-key-shuidian' && JSON.stringify(r.body).includes('空调'),
      ),
    ).toBe(false);
    // Every key of a site carries the site's hash tag; the shared queues sit under the deployment's prefix.
    const keys = await keysMatching(redis, `${prefix}:*`);
    expect(
      keys.filter((k) => k.includes(':task:')).every((k) => k.includes('{t:north}') || k.includes('{t:south}')),
    ).toBe(true);
    expect(keys.some((k) => k.startsWith(`${prefix}:task`))).toBe(false);
  });

  it("never lets one site's people act on the other's task, even with a guessed number", async () => {
    // North has #2; south does not. South's worker says he takes #2.
    const { responseUrl } = await say('south', 'LiShiFu', '2号我来修');
    const reply = await fake.waitFor(replyTo(responseUrl));
    expect(JSON.stringify(reply.body)).not.toContain('灯不亮');
    expect((await north.get(2))!.state).toBe('open');
    expect(await south.get(2)).toBeNull();
  });

  it("refuses a callback signed with the other site's keys, and the one-site URL", async () => {
    const forged = await say('north', 'WangLi', '报修 大一班 门坏了', sites.south);
    expect(forged.res.status).toBeGreaterThanOrEqual(400);
    const { query, body } = aibotPost(
      sites.north,
      aibotText({ msgid: 'x1', userid: 'WangLi', content: '报修 门坏了', chatid: 'c', responseUrl: 'http://x/' }),
    );
    expect((await fetch(`${svc.url}/wecom/aibot?${query}`, { method: 'POST', body })).status).toBe(404);
    await new Promise((r) => setTimeout(r, 300));
    expect(await north.get(3)).toBeNull();
  });

  it("opens each site's console and ledger with that site's token only", async () => {
    const tasks = (site: string, token: string) => fetch(`${svc.url}/t/${site}/console/api/tasks?token=${token}`);
    const mine = await tasks('north', access.north.consoleToken);
    expect(mine.status).toBe(200);
    const listed = ((await mine.json()) as { tasks: { place: string; trade: string }[] }).tasks;
    expect(listed.map((t) => t.trade).sort()).toEqual(['电', '空调']);
    expect((await tasks('north', access.south.consoleToken)).status).toBe(401);
    const page = await fetch(`${svc.url}/t/south/console`);
    expect(await page.text()).toContain('/t/south/console/console.js');
    const ledger = (site: string, token: string) =>
      fetch(`${svc.url}/t/${site}/admin/export?month=2026-12`, { headers: { authorization: `Bearer ${token}` } });
    expect((await ledger('south', access.north.adminToken)).status).toBe(401);
    const ok = await ledger('south', access.south.adminToken);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('spreadsheetml');
    await ok.arrayBuffer();
  });

  it("opens the deployment's metrics with HOUQIN_ADMIN_TOKEN, and no site's data with it", async () => {
    const get = (path: string, token: string) =>
      fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const m = await get('/admin/metrics', metricsToken);
    expect(m.status).toBe(200);
    expect(await m.text()).toContain('houqin_handoff_unreplicated_total');
    expect((await get('/admin/metrics', access.north.adminToken)).status).toBe(401);
    expect((await get('/admin/outbox/failed', metricsToken)).status).toBe(404);
    expect((await get('/t/north/admin/export?month=2026-12', metricsToken)).status).toBe(401);
  });

  it("runs a site's scheduled job for that site only, through the shared queues", async () => {
    const run = await fetch(`${svc.url}/t/south/console/api/jobs/run?token=${access.south.consoleToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'digest.daily' }),
    });
    expect(run.status).toBe(200);
    // The daily digest goes to the director by DM: south has no WeCom app, so it reaches her in south's console.
    const dm = (site: string, token: string) =>
      fetch(`${svc.url}/t/${site}/console/api/messages?chat=dm:zhou_yz&token=${token}`)
        .then((r) => r.json())
        .then((b: { messages: { text?: string }[] }) => JSON.stringify(b.messages));
    await until('the digest reached the south director', async () =>
      (await dm('south', access.south.consoleToken)).includes('日报'),
    );
    expect(await dm('north', access.north.consoleToken)).not.toContain('日报');
  });

  it('sends the bureau its weekly 区域汇总 of every site, through the site that can reach a person', async () => {
    const run = await fetch(`${svc.url}/t/south/console/api/jobs/run?token=${access.south.consoleToken}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'district.weekly' }),
    });
    expect(run.status).toBe(200);
    const sent = await fake.waitFor(
      (r) => r.kind === 'message.send' && r.body.touser === 'LiKeZhang' && r.body.msgtype === 'markdown',
    );
    expect(sent.body.markdown.content).toContain('测试区教育局');
    // Both sites are copies of the example kindergarten: named by their org.name.
    expect(sent.body.markdown.content).toContain('2 个单位');
    expect(sent.body.markdown.content).toContain('阳光幼儿园');
    // The bureau is no one's colleague: north has no such job, and the bureau's id opens nothing in a site.
    const jobs = await fetch(`${svc.url}/t/north/console/api/jobs?token=${access.north.consoleToken}`).then((r) =>
      r.json(),
    );
    expect(JSON.stringify(jobs)).not.toContain('district.weekly');
  });

  it('serves a site added to the folder on SIGHUP, without a restart', async () => {
    siteFile(dir, 'east');
    svc.proc.kill('SIGHUP');
    // Both processes (receiver and workers) read the folder again.
    await until(
      'both processes added the site',
      () => svc.logs.filter((l) => l.includes('1 site(s) added')).length >= 2,
    );
    const a = await say('east', 'WangLi', '报修 小一班 窗户关不上');
    expect(a.res.status).toBe(200);
    expect(taskNumber(await fake.waitFor(replyTo(a.responseUrl)))).toBe(1);
    const east = new TaskStore(redis, lay.site('east'));
    expect(await east.get(1)).toMatchObject({ trade: '门窗', reporter: 'wang_li' });
  });
});
