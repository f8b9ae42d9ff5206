// DingTalk cards with buttons against the fake card platform and the real Redis: a card to a person's 1:1 chat and to
// a group, a send retried after DingTalk took it (no second card), the update of a ref's cards leaving out the
// clicker, a click's answer on a 1:1 card (public data) and on a group card (the clicker's private data, replaced by
// the public view at the next update), and what the outbox does with the card API's refusals.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DingtalkChannel } from '../../src/channels/dingtalk/sender.js';
import { type DingtalkSettings, loadSettings } from '../../src/config/load.js';
import type { Card } from '../../src/domain/messages.js';
import { Roster } from '../../src/domain/roster.js';
import { PlatformError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { keys } from '../../src/store/keys.js';
import { type FakeDingtalk, startFakeDingtalk } from '../helpers/fake-dingtalk.js';
import { dropPrefix, redisClient, testPrefix } from '../helpers/redis.js';

const TEMPLATE = '3c1ab7e0-5a9f-4c2e-9d1b-1f2e3d4c5b6a.schema';
const TEAM = 'cidShuidianTeam0Repair+c4g==';
const STAFF = { li: '03110001', wu: '03110002' };
const config = loadSettings({}, 'config/example.yaml').config;
const roster = new Roster(config);
let fake: FakeDingtalk;
let redis: Redis;
const prefix = testPrefix('dt-cards');
let settings: DingtalkSettings;
const channel = () => new DingtalkChannel(settings, roster, redis, keys(prefix), createLogger('silent'));

const claim: Card = {
  ref: 't12',
  title: '新报修 #12',
  description: '空调不制冷',
  fields: [{ label: '地点', value: '小一班' }],
  buttons: [{ text: '接单', key: 'claim:12', style: 'primary' }],
};
const taken = (who: string): Card => ({ ...claim, buttons: [{ text: who, key: 'noop:12', style: 'muted' }] });

beforeAll(async () => {
  fake = await startFakeDingtalk({
    appKey: 'dingappkey',
    appSecret: 'appsecret',
    robotCode: 'dingrobot',
    cardTemplateId: TEMPLATE,
    conversations: [TEAM],
  });
  redis = redisClient();
  settings = {
    apiBase: fake.url,
    oapiBase: fake.url,
    appKey: 'dingappkey',
    appSecret: 'appsecret',
    robotCode: 'dingrobot',
    mode: 'stream',
    cards: { templateId: TEMPLATE, routeKey: 'houqin' },
  };
});

afterAll(async () => {
  await fake.close();
  await dropPrefix(redis, prefix);
  redis.disconnect();
});

describe('DingTalk cards', () => {
  it('a card to a person is an instance of the template in their 1:1 chat; the same job again makes no second', async () => {
    const c = channel();
    expect(c.reaches({ kind: 'cards', ref: 't12' })).toBe(true);
    const out = { to: { kind: 'user' as const, person: 'li_sf' }, message: { type: 'card' as const, card: claim } };
    await c.deliver(out, { jobId: 'job-li', attempt: 1 });
    await c.deliver(out, { jobId: 'job-li', attempt: 2 }); // a retry after a crash: DingTalk has it already
    await c.deliver({ ...out, to: { kind: 'user', person: 'wu_sf' } }, { jobId: 'job-wu', attempt: 1 });
    const li = fake.cards.in('IM_ROBOT', STAFF.li);
    expect(li).toHaveLength(1);
    expect(li[0]).toMatchObject({ callbackType: 'STREAM', templateId: TEMPLATE });
    expect(fake.cards.view(li[0])).toMatchObject({ title: '新报修 #12', btn1_text: '接单', btn1_key: 'claim:12' });
    const creates = fake.requests.filter((r) => r.kind === 'cardCreate');
    expect(creates.map((r) => r.code)).toEqual(['', 'param.cardAlreadyExist', '']);
    expect(creates[0].body).toMatchObject({
      openSpaceId: `dtv1.card//IM_ROBOT.${STAFF.li}`,
      imRobotOpenDeliverModel: { spaceType: 'IM_ROBOT', robotCode: 'dingrobot' },
      cardData: { cardParamMap: { btn1_show: 'true', status: '' } },
    });
    expect(fake.violations()).toEqual([]);
  });

  it('a card to a group chat goes to its conversation; a click there answers with the clicker’s private view', async () => {
    const c = channel();
    await c.deliver(
      { to: { kind: 'chat', chat: 'team_shuidian' }, message: { type: 'card', card: claim } },
      { jobId: 'job-team', attempt: 1 },
    );
    const [group] = fake.cards.in('IM_GROUP', TEAM);
    expect(
      fake.requests.find((r) => r.kind === 'cardCreate' && r.body.outTrackId === group.outTrackId)!.body,
    ).toMatchObject({
      imGroupOpenDeliverModel: { robotCode: 'dingrobot' },
      imGroupOpenSpaceModel: { supportForward: false },
    });
    const answer = await c.cards!.answer(group.outTrackId, STAFF.li, taken('你已接单'));
    expect(answer).toEqual({
      cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
      userPrivateData: { cardParamMap: expect.objectContaining({ status: '你已接单', btn1_show: 'false' }) },
    });
    expect((await c.cards!.state(group.outTrackId))!.privates).toEqual([STAFF.li]);
  });

  it('the update of a ref’s cards leaves out the clicker’s and reaches the group’s, past clickers included', async () => {
    const c = channel();
    const [li] = fake.cards.in('IM_ROBOT', STAFF.li);
    const [wu] = fake.cards.in('IM_ROBOT', STAFF.wu);
    const [group] = fake.cards.in('IM_GROUP', TEAM);
    // The click's answer on 李师傅's own card (public: it is his alone).
    const mine = await c.cards!.answer(li.outTrackId, STAFF.li, taken('你已接单'));
    expect(mine.cardData!.cardParamMap.status).toBe('你已接单');
    await c.deliver(
      { to: { kind: 'cards', ref: 't12', except: 'li_sf' }, message: { type: 'card', card: taken('李师傅已接单') } },
      { jobId: 'job-upd', attempt: 1 },
    );
    const puts = fake.requests.filter((r) => r.kind === 'cardUpdate');
    expect(puts.map((p) => p.body.outTrackId).sort()).toEqual([wu.outTrackId, group.outTrackId].sort());
    expect(fake.cards.view(wu, STAFF.wu)).toMatchObject({ status: '李师傅已接单', btn1_show: 'false' });
    expect(fake.cards.view(group, STAFF.wu).status).toBe('李师傅已接单');
    // 李师傅 clicked on the group card too: his private view there now shows what everyone sees.
    expect(fake.cards.view(group, STAFF.li).status).toBe('李师傅已接单');
    expect((await c.cards!.state(wu.outTrackId))!.params.status).toBe('李师傅已接单');
    expect(fake.violations()).toEqual([]);
  });

  it('a click DingTalk delivers again is answered with the card as it is', async () => {
    const c = channel();
    const [wu] = fake.cards.in('IM_ROBOT', STAFF.wu);
    const again = await c.cards!.answer(wu.outTrackId, STAFF.wu, undefined);
    expect(again.cardData!.cardParamMap).toMatchObject({ status: '李师傅已接单', btn1_show: 'false' });
  });

  it('refusals: busy is tried again, a wrong template kept as failed, a card DingTalk lost is skipped', async () => {
    const c = channel();
    const wrong = new DingtalkChannel(
      { ...settings, cards: { templateId: 'not-imported.schema', routeKey: 'houqin' } },
      roster,
      redis,
      keys(prefix),
      createLogger('silent'),
    );
    const out = { to: { kind: 'user' as const, person: 'wu_sf' }, message: { type: 'card' as const, card: claim } };
    const err = await wrong.deliver(out, { jobId: 'job-wrong', attempt: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(PlatformError);
    expect(err.retryable).toBe(false);
    fake.failNext('cardCreate', 500, 'system.busy');
    const busy = await c.deliver(out, { jobId: 'job-busy', attempt: 1 }).catch((e) => e);
    expect(busy).toMatchObject({ retryable: true });
    await redis.hset(`${prefix}:dingtalk:cards:t12`, 'ghost|hq_t12_gone', 'hq_t12_gone');
    await c.deliver(
      { to: { kind: 'cards', ref: 't12' }, message: { type: 'card', card: taken('已撤销') } },
      { jobId: 'job-cancel', attempt: 1 },
    );
    expect(fake.requests.filter((r) => r.kind === 'cardUpdate' && r.code === 'param.cardNotExist')).toHaveLength(1);
    expect(fake.cards.view(fake.cards.in('IM_ROBOT', STAFF.li)[0]).status).toBe('已撤销');
    // the wrong template id is the one violation the fake saw: ours, on purpose
    expect(fake.violations().map((r) => r.violations[0])).toEqual([
      'cardTemplateId "not-imported.schema" is not the imported template',
    ]);
  });

  it('http mode: the click address is registered with its secret, tried again while DingTalk is busy', async () => {
    const http = new DingtalkChannel(
      {
        ...settings,
        mode: 'http',
        cards: { templateId: TEMPLATE, routeKey: 'school-a', callbackUrl: 'https://h/dingtalk/card', apiSecret: 's3' },
      },
      roster,
      redis,
      keys(prefix),
      createLogger('silent'),
    );
    fake.failNext('cardRegister', 500, 'system.busy');
    await http.cards!.registerWithRetries(new AbortController().signal, [10]);
    const regs = fake.requests.filter((r) => r.kind === 'cardRegister');
    expect(regs.map((r) => r.status)).toEqual([500, 200]);
    expect(regs[1].body).toEqual({
      callbackRouteKey: 'school-a',
      callbackUrl: 'https://h/dingtalk/card',
      apiSecret: 's3',
      forceUpdate: true,
    });
    expect(fake.cards.routes.get('school-a')).toEqual({ url: 'https://h/dingtalk/card', apiSecret: 's3' });
    // A card created in http mode names the route its clicks go to.
    await http.deliver(
      { to: { kind: 'user', person: 'wu_sf' }, message: { type: 'card', card: claim } },
      { jobId: 'job-http', attempt: 1 },
    );
    expect(fake.requests.filter((r) => r.kind === 'cardCreate').at(-1)!.body).toMatchObject({
      callbackType: 'HTTP',
      callbackRouteKey: 'school-a',
    });
  });

  it('a person holding two cards of one ref (claim card, then 确认接单 when assigned) has both updated', async () => {
    const c = channel();
    const t13: Card = { ...claim, ref: 't13', buttons: [{ text: '接单', key: 'claim:13' }] };
    const assigned: Card = { ...t13, title: '已派给你 #13', buttons: [{ text: '确认接单', key: 'claim:13' }] };
    const to = { kind: 'user' as const, person: 'wu_sf' };
    await c.deliver({ to, message: { type: 'card', card: t13 } }, { jobId: 'job-13a', attempt: 1 });
    await c.deliver({ to, message: { type: 'card', card: assigned } }, { jobId: 'job-13b', attempt: 1 });
    await c.deliver(
      {
        to: { kind: 'cards', ref: 't13' },
        message: { type: 'card', card: { ...t13, buttons: [{ text: '已撤销', key: 'noop:13' }] } },
      },
      { jobId: 'job-13c', attempt: 1 },
    );
    const both = fake.cards.in('IM_ROBOT', STAFF.wu).filter((x) => x.outTrackId.startsWith('hq_t13_'));
    expect(both).toHaveLength(2);
    for (const card of both)
      expect(fake.cards.view(card, STAFF.wu)).toMatchObject({ status: '已撤销', btn1_show: 'false' });
  });
});
