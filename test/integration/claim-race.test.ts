// 20 workers press 接单 on one task at the same moment: exactly one wins, every time (real Redis).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';
import { TaskStore } from '../../src/store/tasks.js';
import { transitions } from '../../src/domain/tasks/task.js';

const prefix = testPrefix('race');
let redis: Redis;
let clients: Redis[];

beforeAll(() => {
  redis = redisClient();
  // Separate connections, so the claims really race instead of queueing on one socket.
  clients = Array.from({ length: 20 }, () => redisClient());
});

afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
  for (const c of clients) c.disconnect();
});

describe('claim race', () => {
  it('has exactly one winner in each of 50 rounds', async () => {
    const store = new TaskStore(redis, prefix);
    const stores = clients.map((c) => new TaskStore(c, prefix));
    for (let round = 0; round < 50; round++) {
      const { id } = await store.create(
        {
          kind: 'repair',
          text: '灯不亮',
          reporter: 'wang_li',
          team: 'shuidian',
          source: { channel: 'wecom', surface: 'aibot', chatId: 'c', chatType: 'group' },
          urgent: false,
          createdAt: Date.now(),
        },
        `race-${round}`,
      );
      const results = await Promise.all(
        stores.map((s, i) =>
          s.transition(
            id,
            {
              from: transitions.claim.from,
              actor: `w${i}`,
              set: { assignee: `w${i}`, acked: true },
              event: { at: Date.now(), by: `w${i}`, type: 'claimed' },
              index: [`w${i}`],
            },
            'claimed',
          ),
        ),
      );
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const losers = results.filter((r) => !r.ok);
      expect(losers.every((r) => !r.ok && r.reason === 'state')).toBe(true);
      const task = (await store.get(id))!;
      expect(task.state).toBe('claimed');
      expect(winners[0].ok && winners[0].task.assignee).toBe(task.assignee);
      expect((await store.history(id)).filter((e) => e.type === 'claimed')).toHaveLength(1);
      expect(task.version).toBe(2);
    }
  });

  it('creating twice from one message makes one task', async () => {
    const t = {
      kind: 'cleaning' as const,
      text: '呕吐',
      reporter: 'li_na',
      team: 'baojie',
      source: { channel: 'wecom', surface: 'aibot', chatId: 'c', chatType: 'group' as const },
      urgent: true,
      createdAt: Date.now(),
    };
    const results = await Promise.all(
      clients.slice(0, 5).map((c) => new TaskStore(c, prefix).create(t, 'same-message')),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });
});
