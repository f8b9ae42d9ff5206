// The console's JSON API, as a script would use it: the whole flow without any platform, timers fast-forwarded,
// and the access rules for a server reachable from outside.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { startService, testConfig, until, type RunningService } from '../helpers/service.js';

const prefix = testPrefix('console');
let svc: RunningService;
let redis: Redis;

type Msg = {
  id: string;
  from: { kind: string; name: string };
  type: string;
  text?: string;
  card?: { title: string; buttons: { text: string; key: string }[] };
};

const api = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(
    `${svc.url}/console/api${path}`,
    body === undefined
      ? { headers }
      : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } },
  );
const say = async (as: string, chat: string, text: string) =>
  expect((await api('/messages', { as, chat, text })).status).toBe(200);
const read = async (chat: string): Promise<Msg[]> =>
  ((await (await api(`/messages?chat=${encodeURIComponent(chat)}`)).json()) as { messages: Msg[] }).messages;
const botSaid = (chat: string, needle: string) =>
  until(`bot says "${needle}" in ${chat}`, async () =>
    (await read(chat)).find((m) => m.from.kind === 'bot' && JSON.stringify(m).includes(needle)),
  );

beforeAll(async () => {
  redis = redisClient();
  svc = await startService({
    REDIS_URL,
    HOUQIN_KEY_PREFIX: prefix,
    HOUQIN_CONFIG: testConfig((cfg) => {
      cfg.teams.forEach((t: { onDuty?: unknown }) => delete t.onDuty);
      cfg.jobs = { menu: { enabled: false } };
    }),
  });
});

afterAll(async () => {
  await svc?.stop();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('console API', () => {
  it('serves the page and the roster from the config', async () => {
    const page = await fetch(`${svc.url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const roster = (await (await api('/roster')).json()) as {
      org: { name: string };
      people: { id: string }[];
      chats: { id: string }[];
    };
    expect(roster.org.name).toBe('阳光幼儿园');
    expect(roster.people.map((p) => p.id)).toContain('li_sf');
    expect(roster.chats.map((c) => c.id)).toContain('class_xiao1');
  });

  it('plays report → card → claim → finish → accept, each person in their own chat', async () => {
    await say('wang_li', 'class_xiao1', '报修 小一班 空调不制冷');
    const ack = await botSaid('class_xiao1', '已登记');
    const id = Number(/#(\d+)/.exec(ack.text!)![1]);
    const card = await until('claim card', async () =>
      (await read('dm:li_sf')).find((m) => m.type === 'card' && m.card!.buttons[0].key === `claim:${id}`),
    );
    await botSaid('team_shuidian', `#${id}`);
    const click = (await (
      await api('/click', { as: 'li_sf', chat: 'dm:li_sf', messageId: card.id, key: `claim:${id}` })
    ).json()) as { card: { buttons: { text: string }[] } };
    expect(click.card.buttons[0].text).toBe('你已接单');
    expect((await read('dm:li_sf')).find((m) => m.id === card.id)!.card!.buttons[0].text).toBe('你已接单');
    const other = await until('other card updated', async () =>
      (await read('dm:wu_sf')).find((m) => m.card?.buttons[0].text === '李师傅已接单'),
    );
    expect(other).toBeTruthy();
    await botSaid('dm:wang_li', '李师傅接单');
    await say('li_sf', 'dm:li_sf', `完工 ${id} 换了电容`);
    const acceptCard = await until('accept card', async () =>
      (await read('dm:wang_li')).find((m) => m.card?.buttons.some((b) => b.key === `accept:${id}`)),
    );
    await api('/click', { as: 'wang_li', chat: 'dm:wang_li', messageId: acceptCard.id, key: `accept:${id}` });
    await botSaid('dm:wang_li', `#${id} 已验收`);
    const tasks = (await (await api('/tasks')).json()) as { tasks: { id: number }[] };
    expect(tasks.tasks.some((t) => t.id === id)).toBe(false);
  });

  it('shows timers on the board and fast-forwards them', async () => {
    await say('zhao_jing', 'staff', '报修 大一班 柜子门掉了');
    const ack = await botSaid('staff', '已登记');
    const id = Number(/#(\d+)/.exec(ack.text!)![1]);
    const board = await until('timers armed', async () => {
      const b = (await (await api('/tasks')).json()) as {
        tasks: { id: number; timers: { step: string; at: number }[] }[];
      };
      const t = b.tasks.find((x) => x.id === id);
      return t && t.timers.length === 3 ? t : undefined;
    });
    expect(board.timers.map((t) => t.step)).toEqual(['remind', 'assign', 'escalate']);
    const adv = (await (await api('/timers/advance', { minutes: 30 })).json()) as { promoted: number };
    expect(adv.promoted).toBeGreaterThanOrEqual(1);
    await botSaid('team_mugong', '⏰');
    await api('/timers/advance', { minutes: 180 });
    await botSaid('manager', '🚨');
  });

  it('lists the scheduled jobs with their next firing, and which are switched off', async () => {
    const { jobs } = (await (await api('/jobs')).json()) as {
      jobs: { name: string; enabled: boolean; everyDay: boolean; next?: number }[];
    };
    const menu = jobs.find((j) => j.name === 'menu')!;
    expect(menu).toMatchObject({ enabled: false, everyDay: false });
    expect(menu.next).toBeUndefined();
    const digest = jobs.find((j) => j.name === 'digest.daily')!;
    expect(digest.enabled).toBe(true);
    expect(digest.next).toBeGreaterThan(Date.now());
  });

  it('a checklist card in the DM turns into the record once typed answers leave its buttons nothing to do', async () => {
    expect((await api('/jobs/run', { name: 'checklist.safety' })).status).toBe(200);
    const card = await until('the safety card', async () =>
      (await read('dm:chen_zr')).find((m) => m.type === 'card' && !!m.card!.buttons[0]?.key.startsWith('cl:ok:')),
    );
    expect(card.card!.buttons.map((b) => b.text)).toEqual(['全部正常', '有异常，我来说明']);
    await say('chen_zr', 'manager', '全部正常，3 异常 灭火器压力不足');
    await botSaid('manager', '已记录【每日安全检查】');
    const after = await until('the card updated in place', async () =>
      (await read('dm:chen_zr')).find((m) => m.id === card.id && m.card!.buttons[0]?.text === '已记录'),
    );
    expect(after.card!.buttons).toHaveLength(1);
    expect(JSON.stringify(after.card)).toContain('已记录：正常 5 项，异常 1 项，已全部填完');
  });

  it('refuses bad input with a clear error', async () => {
    expect((await api('/messages', { as: 'nobody', chat: 'class_xiao1', text: 'hi' })).status).toBe(400);
    expect((await api('/messages', { as: 'wang_li', chat: 'dm:li_sf', text: 'hi' })).status).toBe(400); // not your DM
    const bad = await fetch(`${svc.url}/console/api/messages`, { method: 'POST', body: 'not json' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('bad request body');
    expect((await api('/jobs/run', { name: 'nope' })).status).toBe(404);
  });
});

describe('console on a reachable server', () => {
  it('is off without a token and asks for it when one is set', async () => {
    const p = testPrefix('console-exposed');
    const off = await startService({ REDIS_URL, HOUQIN_KEY_PREFIX: p, NODE_ENV: 'production' });
    try {
      expect((await fetch(`${off.url}/console/api/roster`)).status).toBe(404);
    } finally {
      await off.stop();
    }
    const on = await startService({
      REDIS_URL,
      HOUQIN_KEY_PREFIX: p,
      NODE_ENV: 'production',
      HOUQIN_CONSOLE_TOKEN: 'let-me-in',
    });
    try {
      expect((await fetch(`${on.url}/console/api/roster`)).status).toBe(401);
      expect(
        (await fetch(`${on.url}/console/api/roster`, { headers: { 'x-console-token': 'let-me-in' } })).status,
      ).toBe(200);
      expect((await fetch(`${on.url}/console/api/roster?token=let-me-in`)).status).toBe(200);
    } finally {
      await on.stop();
      await dropPrefix(redis, p);
    }
  });
});
