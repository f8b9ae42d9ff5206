// What the service does with what people really send (issue 11): tasks named without a number, workers' notes,
// the one question when unsure, the 未识别 list, quotes, voice, and digests asked for in words. Real Redis.
import type { Redis } from 'ioredis';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/channels/envelope.js';
import { createParser } from '../../src/commands/parser.js';
import { loadSettings } from '../../src/config/load.js';
import { addWords, readOverlay, withOverlay } from '../../src/config/vocabulary.js';
import type { Outcome } from '../../src/domain/outcome.js';
import { Roster } from '../../src/domain/roster.js';
import { TaskService } from '../../src/domain/tasks/service.js';
import { keys } from '../../src/store/keys.js';
import { SideStore } from '../../src/store/side.js';
import { TaskStore } from '../../src/store/tasks.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('understand');
const { config } = loadSettings({}, 'config/example.yaml');
let redis: Redis;
let service: TaskService;
let store: TaskStore;
let side: SideStore;
let n = 0;
const wecomId: Record<string, string> = Object.fromEntries(config.people.map((p) => [p.id, p.wecom!]));

beforeAll(() => {
  redis = redisClient();
  store = new TaskStore(redis, prefix);
  side = new SideStore(redis, keys(prefix));
  service = new TaskService(store, side, new Roster(config), createParser(config));
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

function env(person: string, text: string, extra: Partial<Envelope> = {}): Envelope {
  const msgId = `u${++n}`;
  return {
    id: `wecom:aibot:${msgId}`,
    channel: 'wecom',
    surface: 'aibot',
    msgId,
    chat: { id: extra.chat?.id ?? 'group-u', type: extra.chat?.type ?? 'group' },
    sender: { platformId: wecomId[person] },
    text,
    receivedAt: Date.now(),
    ...extra,
  };
}
const say = (person: string, text: string, extra?: Partial<Envelope>) => service.handle(env(person, text, extra));
const click = (person: string, key: string) =>
  service.handle({
    ...env(person, '', { chat: { id: `single:${person}`, type: 'single' } }),
    text: undefined,
    action: { key },
  });
const replyText = (o: Outcome) =>
  o.messages
    .filter((m) => m.to.kind === 'reply')
    .map((m) => (m.message.type === 'text' ? m.message.text : ''))
    .join('\n');
const dmText = (o: Outcome, person: string) =>
  o.messages
    .filter((m) => m.to.kind === 'user' && m.to.person === person && m.message.type === 'text')
    .map((m) => (m.message.type === 'text' ? m.message.text : ''))
    .join('\n');

async function reportAndClaim(text: string, reporter: string, worker: string): Promise<number> {
  const o = await say(reporter, text);
  const id = o.route!.task;
  expect(replyText(await say(worker, `接单 ${id}`))).toContain('你已接单');
  return id;
}

describe('tasks named without a number', () => {
  it("puts a worker's note on the one task in hand and tells the reporter", async () => {
    const id = await reportAndClaim('中二班空调不制冷', 'liu_fang', 'wu_sf');
    const o = await say('wu_sf', '已通知厂家 明天上午来人');
    expect(replyText(o)).toContain(`已记在 #${id} 上`);
    expect(dmText(o, 'liu_fang')).toContain('已通知厂家');
    expect((await store.history(id)).map((e) => e.type)).toContain('noted');
  });

  it('finishes the one task in hand from "换了个开关 已经好了"; with two in hand it asks which, naming both', async () => {
    const first = (await store.forPerson('wu_sf')).find((t) => t.assignee === 'wu_sf')!.id;
    const done = await say('wu_sf', '换了个开关 已经好了');
    expect(replyText(done)).toContain(`#${first} 已完工`);
    const a = await reportAndClaim('小一班灯不亮', 'wang_li', 'wu_sf');
    const b = await reportAndClaim('大一班插座没电', 'zhao_jing', 'wu_sf');
    const ask = replyText(await say('wu_sf', '修好了'));
    expect(ask).toContain('是哪一单');
    expect(ask).toContain(`#${a}`);
    expect(ask).toContain(`#${b}`);
    expect((await store.get(a))!.state).toBe('claimed');
  });

  it('reads 刚才那个 as the reporter’s latest report', async () => {
    const o = await say('sun_yan', '大三班窗户关不上');
    const id = o.route!.task;
    expect(replyText(await say('sun_yan', '刚才那个修好了吗'))).toContain(`#${id}`);
    // With two open reports, 那个 alone is ambiguous: the bot names both and asks; 刚才那个 is the latest.
    const second = (await say('sun_yan', '大三班柜门掉了')).route!.task;
    const which = replyText(await say('sun_yan', '那个什么时候修'));
    expect(which).toContain('是哪一单');
    expect(which).toContain(`#${id}`);
    expect(which).toContain(`#${second}`);
    expect(replyText(await say('sun_yan', '刚才那个什么时候修'))).toContain(`#${second}`);
  });

  it('acts on the task of a quoted bot message: 好了 under 「#N 已完工，请验收」 accepts it', async () => {
    const id = await reportAndClaim('保健室床板断了', 'huang_ys', 'zheng_sf');
    await say('zheng_sf', `完工 ${id} 换了床板`);
    const o = await say('huang_ys', '好了', { quote: `#${id} 已完工，请验收` });
    expect(replyText(o)).toContain(`#${id} 已验收`);
    expect((await store.get(id))!.state).toBe('accepted');
  });
});

describe('asking instead of lecturing', () => {
  it('asks one question about a fault with nothing named; 是 makes the report, 不是 drops it into 未识别', async () => {
    const o = await say('wang_li', '又坏了');
    expect(replyText(o)).toMatch(/^是要报修「又坏了」吗？/);
    const card = o.messages.find((m) => m.to.kind === 'user' && m.message.type === 'card');
    expect(card?.message.type === 'card' && card.message.card.buttons.map((b) => b.key)).toEqual(['ask:yes', 'ask:no']);
    // 是: the report goes on; it still needs a place, so the bot asks for it.
    expect(replyText(await say('wang_li', '是'))).toContain('在哪里');
    expect((await say('wang_li', '小一班')).route).toBeDefined();

    await say('li_na', '坏了');
    const no = await click('li_na', 'ask:no');
    expect(replyText(no)).toContain('不登记');
    expect((await side.listUnread()).find((u) => u.person === 'li_na')).toMatchObject({
      reason: 'declined',
      text: '坏了',
    });
    expect(replyText(await click('li_na', 'ask:no'))).toContain('已经答过');
  });

  it('answers what it cannot read with one short line, not the help text, and keeps it for the manager', async () => {
    const o = await say('zhang_min', 'asdf qwer', { chat: { id: 'single:zhang_min', type: 'single' } });
    expect(replyText(o)).toContain('没太明白');
    expect(replyText(o).length).toBeLessThan(80);
    expect((await side.listUnread())[0]).toMatchObject({ person: 'zhang_min', text: 'asdf qwer', reason: 'unread' });
    expect((await say('zhang_min', '谢谢李师傅')).messages).toHaveLength(0);
  });
});

describe('the same problem reported twice', () => {
  it('folds a second report into the open task, tells the second reporter its progress, and 不是同一个 splits it', async () => {
    const first = await say('zhang_min', '中一班空调不制冷');
    const id = first.route!.task;
    const second = await say('liu_fang', '中一班的空调坏了 一直吹热风');
    expect(second.route).toBeUndefined();
    expect(replyText(second)).toContain(`#${id} 已在处理（待接单），已为你加关注`);
    expect(replyText(await say('zhang_min', '中一班空调又不制冷了'))).toContain(`你已经报过了`);
    const claimed = await say('wu_sf', `接单 ${id}`);
    expect(dmText(claimed, 'zhang_min')).toContain(`你报的 #${id} 已由吴师傅接单`);
    expect(dmText(claimed, 'liu_fang')).toContain(`你关注的 #${id} 已由吴师傅接单`);
    expect(await store.followers(id)).toEqual(['liu_fang']);
    expect(replyText(await say('zhang_min', `进度 ${id}`))).toContain('另有 1 人也报了这个问题：刘芳');

    const split = await say('liu_fang', '不是同一个');
    expect(split.route!.task).not.toBe(id);
    expect(replyText(split)).toContain('已登记');
    expect(await store.followers(id)).toEqual([]);
  });
});

describe('voice and digests in words', () => {
  it('says what it heard from a voice message', async () => {
    const o = await say('zhao_jing', '大一班水龙头一直滴水', { voice: true });
    expect(replyText(o)).toMatch(/^🎙 语音已转文字：「大一班水龙头一直滴水」\n✅ 已登记 #\d+/);
  });

  it('gives the week to 这周的汇总', async () => {
    const o = await say('zhou_yz', '这周的汇总');
    expect(replyText(o)).toMatch(/周/);
  });
});

describe('vocabulary overlay', () => {
  it('adds words under a trade without touching the config, and the rebuilt parser knows them', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'houqin-vocab-')), 'vocabulary.yaml');
    const before = createParser(withOverlay(config, readOverlay(path)));
    expect(before.parse('门厅的摇号屏黑了').trade).not.toBe('弱电');
    addWords(path, { trade: '弱电' }, ['摇号屏']);
    addWords(path, { trade: '弱电' }, ['摇号屏', '叫号屏']);
    expect(readOverlay(path).trades.弱电).toEqual(['摇号屏', '叫号屏']);
    expect(readFileSync(path, 'utf8')).toContain('叫号屏');
    const after = createParser(withOverlay(config, readOverlay(path)));
    expect(after.parse('门厅的摇号屏黑了')).toMatchObject({ intent: 'report', trade: '弱电' });
    expect(after.unknownWords('门厅的摇号屏黑了')).not.toContain('摇号屏');
  });
});
