// The console's chat log on real Redis: a card message always carries its card, also when it is read in the moment
// between its entry and its state being written (seen once as a flaky e2e: a claim card read without a card).
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChats } from '../../src/channels/local/chats.js';
import type { Card } from '../../src/domain/messages.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

let redis: Redis;
const prefix = testPrefix('local-chats');
const bot = { kind: 'bot' as const, name: '后勤助手' };
const card: Card = {
  ref: 'c1',
  title: '新报修 #7',
  description: '小一班 灯不亮',
  fields: [],
  buttons: [{ text: '接单', key: 'claim:7', style: 'primary' }],
};

beforeAll(() => {
  redis = redisClient();
});
afterAll(async () => {
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('LocalChats', () => {
  it('reads a card message with its card even before the card state is written, and with its state after an update', async () => {
    const chats = new LocalChats(redis, prefix);
    const posted = await chats.post('dm:li', bot, { type: 'card', card });
    // What a reader between the XADD and the SET saw: no state yet.
    await redis.del(`${prefix}:local:card:dm:li:${posted.id}`);
    expect((await chats.read('dm:li')).find((m) => m.id === posted.id)?.card?.buttons[0].key).toBe('claim:7');
    // A card whose state exists reads as its latest state.
    const again = await chats.post('dm:li', bot, { type: 'card', card });
    await chats.updateCard('dm:li', again.id, { ...card, title: '#7 已被李师傅接单', buttons: [] });
    const read = (await chats.read('dm:li')).find((m) => m.id === again.id);
    expect(read?.card).toMatchObject({ title: '#7 已被李师傅接单', buttons: [] });
  });
});
