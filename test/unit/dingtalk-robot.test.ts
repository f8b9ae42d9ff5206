// DingTalk HTTP mode: the callback signature (the vectors in the protocol notes), the receiver's refusals and the
// Envelope it makes, and the markdown a card becomes.
import { describe, expect, it } from 'vitest';
import { robotRoutes } from '../../src/channels/dingtalk/receiver.js';
import { cardMarkdown, apiMessage, webhookBody } from '../../src/channels/dingtalk/render.js';
import { robotSign, verifyRobotSign } from '../../src/channels/dingtalk/sign.js';
import type { Envelope } from '../../src/channels/envelope.js';
import type { Ingress } from '../../src/channels/ingress.js';
import { loadSettings } from '../../src/config/load.js';
import { ConfigError, StaleRequestError, VerificationError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { robotMessage, signedHeaders } from '../helpers/fake-dingtalk.js';

describe('robot callback signature', () => {
  // base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), checked with Node, Python hmac and openssl.
  const vectors = [
    ['1577262236757', 'houqinTestAppSecret-0123456789abcdef', 'kyXY3TWyVXFM+uGgowVJMmKGWhE3DNDKQuWDk0Ih2k0='],
    ['1577262236757', 'this is secret', 'hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM='],
    ['1546084445901', 'testappSecret', 'fYP0TV8RJULxGabs59wSO94FZbNekbH7ebQJu2oy+/0='],
  ] as const;

  it.each(vectors)('signs %s with "%s"', (ts, secret, sign) => {
    expect(robotSign(ts, secret)).toBe(sign);
    expect(() => verifyRobotSign(ts, sign, secret, Number(ts), 3_600_000)).not.toThrow();
  });

  it('refuses signatures made another way', () => {
    const ts = '1577262236757';
    const secret = 'houqinTestAppSecret-0123456789abcdef';
    for (const wrong of [
      '53031e80Mg0c4ZaSWRKuOhIL/ealjlmPlY3cIEwhxL8=', // the timestamp alone
      'tWULVXwqcdWpxdgTZwEVXc5/J9Bb52iiWmOnipGMlFw=', // CRLF between the parts
      '9325d8dd35b255714cfae1a0a305493262865a11370cd0ca42e583934221da4d', // hex, not base64
      'kyXY3TWyVXFM%2BuGgowVJMmKGWhE3DNDKQuWDk0Ih2k0%3D', // URL-encoded (that is the webhook form)
    ])
      expect(() => verifyRobotSign(ts, wrong, secret, Number(ts), 3_600_000)).toThrow(VerificationError);
    // DingTalk's other scheme (sign over the timestamp only) for S3's inputs: a good plumbing check, must fail.
    expect(() =>
      verifyRobotSign(
        '1546084445901',
        'HCbG3xNE3vzhO+u7qCUL1jS5hsu2n5r2cFhnTrtyDAE=',
        'testappSecret',
        1546084445901,
        3_600_000,
      ),
    ).toThrow(VerificationError);
  });

  it('refuses a missing header and a timestamp outside the window', () => {
    const secret = 'this is secret';
    expect(() => verifyRobotSign(undefined, 'x', secret, 0, 1000)).toThrow(VerificationError);
    expect(() => verifyRobotSign('1577262236757', undefined, secret, 0, 1000)).toThrow(VerificationError);
    const sign = 'hmPWwU+7lVdm3ZZz0r9tSfx0L4Q26jWOZr9+Gs6EZQM=';
    expect(() => verifyRobotSign('1577262236757', sign, secret, 1577262236757 + 300_001, 300_000)).toThrow(
      StaleRequestError,
    );
    expect(() => verifyRobotSign('1577262236757', sign, secret, 1577262236757 - 300_001, 300_000)).toThrow(
      StaleRequestError,
    );
    expect(() => verifyRobotSign('1577262236757', sign, secret, 1577262236757 + 299_000, 300_000)).not.toThrow();
  });
});

describe('robot receiver', () => {
  const secret = 'houqinTestAppSecret-0123456789abcdef';
  const accepted: Envelope[] = [];
  const seen = new Set<string>();
  const ingress: Ingress = {
    accept: async (env, replay) => {
      if (replay && seen.has(replay.key)) return false;
      if (replay) seen.add(replay.key);
      accepted.push(env);
      return true;
    },
    click: async () => undefined,
    firstSight: async () => true,
    forget: async () => undefined,
    maxSkewMs: 300_000,
    bodyLimitBytes: 4096,
    log: createLogger('silent'),
    now: () => Date.now(),
  };
  const route = robotRoutes(ingress, { appSecret: secret })[0];
  const post = (headers: Record<string, string>, body: string) =>
    route.handle({
      query: new URLSearchParams(),
      ip: '127.0.0.1',
      header: (n) => headers[n],
      body: async (limit) => {
        if (Buffer.byteLength(body) > limit) throw Object.assign(new Error('too large'), { type: 'entity.too.large' });
        return body;
      },
    });
  const msg = (o: Partial<Parameters<typeof robotMessage>[0]> = {}) =>
    robotMessage({
      staffId: '02110001',
      text: '报修 小一班 空调不制冷',
      conversationId: 'cidA+b/c==',
      robotCode: 'r',
      ...o,
    });

  it('takes a group @-message as an Envelope with the sessionWebhook and its expiry', async () => {
    const session = {
      url: 'https://oapi.dingtalk.com/robot/sendBySession?session=abc',
      expiresAt: Date.now() + 5_400_000,
    };
    const body = msg({ msgId: 'msgOne==', session });
    const a = await post(signedHeaders(secret), JSON.stringify(body));
    expect(a).toMatchObject({ status: 200, body: '{}' });
    expect(accepted.at(-1)).toMatchObject({
      id: 'dingtalk:robot:msgOne==',
      channel: 'dingtalk',
      surface: 'robot',
      msgId: 'msgOne==',
      chat: { id: 'cidA+b/c==', type: 'group' },
      sender: { platformId: '02110001' },
      text: '报修 小一班 空调不制冷',
      responseUrl: session.url,
      responseUrlExpiresAt: session.expiresAt,
    });
  });

  it('takes 1:1 messages and richText text parts; strips a leftover @name', async () => {
    await post(signedHeaders(secret), JSON.stringify(msg({ group: false, text: '接单 12', msgId: 'm2' })));
    expect(accepted.at(-1)).toMatchObject({ chat: { type: 'single' }, text: '接单 12' });
    const rich = msg({ msgtype: 'richText', msgId: 'm3', text: 'x' });
    rich.content = {
      richText: [{ text: '@后勤助手 中二班' }, { type: 'picture', downloadCode: 'dc' }, { text: '厕所漏水' }],
    };
    await post(signedHeaders(secret), JSON.stringify(rich));
    expect(accepted.at(-1)).toMatchObject({ text: '中二班厕所漏水', images: [{ downloadCode: 'dc' }] });
  });

  it('takes a picture message as an Envelope with its downloadCode and no text', async () => {
    const picture = {
      ...msg({ msgId: 'm9' }),
      msgtype: 'picture',
      content: { pictureDownloadCode: 'p', downloadCode: 'dc' },
    };
    delete (picture as Record<string, unknown>).text;
    expect((await post(signedHeaders(secret), JSON.stringify(picture))).status).toBe(200);
    const env = accepted.at(-1)!;
    expect(env).toMatchObject({ msgId: 'm9', images: [{ downloadCode: 'dc' }] });
    expect(env.text).toBeUndefined();
  });

  it('refuses a bad sign, a stale timestamp and an oversized body, and stores nothing', async () => {
    const n = accepted.length;
    const body = JSON.stringify(msg({ msgId: 'm4' }));
    const forged = { ...signedHeaders(secret), sign: signedHeaders('other secret').sign };
    expect((await post(forged, body)).status).toBe(401);
    expect((await post({ 'content-type': 'application/json' }, body)).status).toBe(401);
    expect((await post(signedHeaders(secret, Date.now() - 301_000), body)).status).toBe(403);
    expect((await post(signedHeaders(secret, Date.now() + 301_000), body)).status).toBe(403);
    expect(
      (await post(signedHeaders(secret), JSON.stringify(msg({ msgId: 'm5', text: '长'.repeat(2000) })))).status,
    ).toBe(413);
    expect((await post(signedHeaders(secret), 'not json{')).status).toBe(400);
    expect(accepted.length).toBe(n);
  });

  it('ignores a replayed msgId (answered, nothing stored) and messages it cannot read', async () => {
    const body = JSON.stringify(msg({ msgId: 'm6' }));
    expect((await post(signedHeaders(secret), body)).status).toBe(200);
    const n = accepted.length;
    expect((await post(signedHeaders(secret), body)).status).toBe(200);
    const noCode = { ...msg({ msgId: 'm7' }), msgtype: 'picture', content: {} };
    delete (noCode as Record<string, unknown>).text;
    expect((await post(signedHeaders(secret), JSON.stringify(noCode))).status).toBe(200);
    const external = { ...msg({ msgId: 'm8' }), senderStaffId: undefined };
    expect((await post(signedHeaders(secret), JSON.stringify(external))).status).toBe(200);
    expect(accepted.length).toBe(n);
  });
});

describe('rendering', () => {
  const card = {
    ref: 't12',
    title: '🔧 新报修 #12',
    description: '小一班 空调不制冷',
    fields: [{ label: '报修人', value: '王丽' }],
    buttons: [{ text: '接单', key: 'claim:12' }],
  };

  it('a card becomes markdown that names the text command for each button', () => {
    const md = cardMarkdown(card);
    expect(md.title).toBe('🔧 新报修 #12');
    expect(md.text).toContain('回复 「接单 12」');
    const acc = cardMarkdown({
      ...card,
      buttons: [
        { text: '验收通过', key: 'accept:12' },
        { text: '没修好', key: 'reopen:12' },
      ],
    });
    expect(acc.text).toContain('「验收 12」 或 「没修好 12」');
    expect(cardMarkdown({ ...card, buttons: [{ text: '全部正常', key: 'ok:x' }] }).text).toContain('「全部正常」');
    expect(cardMarkdown({ ...card, buttons: [{ text: '李师傅已接单', key: 'noop:12' }] }).text).toContain(
      '李师傅已接单',
    );
  });

  it('the robot API takes msgParam as a JSON string; the sessionWebhook text carries its @ list', () => {
    const m = apiMessage({ type: 'card', card });
    expect(m.msgKey).toBe('sampleMarkdown');
    expect(JSON.parse(m.msgParam)).toMatchObject({ title: card.title });
    expect(apiMessage({ type: 'text', text: 'hi' })).toEqual({ msgKey: 'sampleText', msgParam: '{"content":"hi"}' });
    expect(webhookBody({ type: 'text', text: '请接单' }, ['03110001'])).toEqual({
      msgtype: 'text',
      text: { content: '请接单\n@03110001' },
      at: { atUserIds: ['03110001'], isAtAll: false },
    });
  });
});

describe('DingTalk settings', () => {
  const load = (env: Record<string, string>) => loadSettings(env, 'config/example.yaml');
  it('is off without credentials, on with the key and secret, the robot code defaulting to the key', () => {
    expect(load({}).dingtalk).toBeUndefined();
    expect(load({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's' }).dingtalk).toEqual({
      apiBase: 'https://api.dingtalk.com',
      oapiBase: 'https://oapi.dingtalk.com',
      appKey: 'k',
      appSecret: 's',
      robotCode: 'k',
      mode: 'http',
    });
    expect(
      load({
        DINGTALK_APP_KEY: 'k',
        DINGTALK_APP_SECRET: 's',
        DINGTALK_ROBOT_CODE: 'r',
        DINGTALK_API_BASE: 'http://x/',
        DINGTALK_OAPI_BASE: 'http://y/',
      }).dingtalk,
    ).toMatchObject({ robotCode: 'r', apiBase: 'http://x', oapiBase: 'http://y' });
  });
  it('takes DINGTALK_MODE=stream', () => {
    expect(load({ DINGTALK_APP_KEY: 'k', DINGTALK_APP_SECRET: 's', DINGTALK_MODE: 'stream' }).dingtalk).toMatchObject({
      mode: 'stream',
      appKey: 'k',
    });
  });
  it('paces custom robots at 18 a 62 s window unless DINGTALK_ROBOT_PACE says otherwise, never past 20', () => {
    expect(load({}).robotPace).toEqual({ perWindow: 18, windowMs: 62_000 });
    expect(load({ DINGTALK_ROBOT_PACE: '10/60s' }).robotPace).toEqual({ perWindow: 10, windowMs: 60_000 });
    expect(load({ DINGTALK_ROBOT_PACE: ' 5 / 1500ms ' }).robotPace).toEqual({ perWindow: 5, windowMs: 1500 });
    for (const bad of ['21/60s', '0/60s', '18', '18/60', 'fast'])
      expect(() => load({ DINGTALK_ROBOT_PACE: bad }), bad).toThrow(/DINGTALK_ROBOT_PACE must be like "18\/62s"/);
  });
  it('stops the start for an unknown mode and half a set of credentials', () => {
    expect(() => load({ DINGTALK_MODE: 'ws' })).toThrow(/DINGTALK_MODE must be http or stream/);
    expect(() => load({ DINGTALK_APP_KEY: 'k' })).toThrow(/DINGTALK_APP_SECRET/);
    expect(() => load({ DINGTALK_ROBOT_CODE: 'r' })).toThrow(ConfigError);
  });
});
