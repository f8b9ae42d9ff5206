// Senders who are not on the roster, on real Redis through the real TaskService: one polite reply an hour, and their
// messages kept for the manager as one line per sender, bounded however many they send.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../src/channels/envelope.js';
import { createParser } from '../../src/commands/parser.js';
import { loadSettings } from '../../src/config/load.js';
import { Roster } from '../../src/domain/roster.js';
import { TaskService } from '../../src/domain/tasks/service.js';
import { keys } from '../../src/store/keys.js';
import { SideStore } from '../../src/store/side.js';
import { StrangerStore } from '../../src/store/strangers.js';
import { TaskStore } from '../../src/store/tasks.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

let redis: Redis;
const prefix = testPrefix('strangers');
let service: TaskService;

beforeAll(() => {
  redis = redisClient();
  const config = loadSettings({}, 'config/example.yaml').config;
  const roster = new Roster(config);
  service = new TaskService(
    new TaskStore(redis, prefix),
    new SideStore(redis, keys(prefix)),
    roster,
    createParser(config),
  );
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

const env = (n: number, sender = 'NewTeacher', text = `报修 小一班 灯不亮 ${n}`): Envelope => ({
  id: `wecom:app:s${sender}${n}`,
  channel: 'wecom',
  surface: 'app',
  msgId: `s${n}`,
  chat: { id: sender, type: 'single' },
  sender: { platformId: sender },
  text,
  receivedAt: 1,
});

describe('senders not on the roster', () => {
  it('get one polite reply an hour and nothing else; the manager sees one line with the count and last texts', async () => {
    const t0 = Date.UTC(2026, 10, 2, 1, 0);
    const first = await service.handle(env(1), t0);
    expect(first.messages).toHaveLength(1);
    expect(first.messages[0]).toMatchObject({ info: true, message: { text: expect.stringContaining('不在后勤名册') } });
    expect(first.routes).toEqual([]);
    for (let i = 2; i <= 300; i++) {
      const o = await service.handle(env(i), t0 + i);
      expect(o.messages.length + o.routes.length + o.timers.length).toBe(0);
    }
    const other = await service.handle(env(1, 'Visitor', '你好'), t0 + 500);
    expect(other.messages).toHaveLength(1); // their own hour

    const list = await new StrangerStore(redis, prefix).list();
    expect(list.map((s) => s.id)).toEqual(['wecom:Visitor', 'wecom:NewTeacher']);
    const teacher = list[1];
    expect(teacher).toMatchObject({ channel: 'wecom', platformId: 'NewTeacher', count: 300, first: t0 + 0 });
    expect(teacher.texts).toHaveLength(5);
    expect(teacher.texts[0]).toBe('报修 小一班 灯不亮 300');

    // An hour later (the gate is a Redis expiry): one more reply.
    await redis.del(`${prefix}:stranger-replied:wecom:NewTeacher`);
    expect((await service.handle(env(301), t0 + 3_600_000)).messages).toHaveLength(1);

    expect(await new StrangerStore(redis, prefix).dismiss('wecom:NewTeacher')).toBe(true);
    expect((await new StrangerStore(redis, prefix).list()).map((s) => s.id)).toEqual(['wecom:Visitor']);
  });
});
