// DingTalk card settings from the environment, and the card callback's signature (event-callback-card, 回调签名验证):
// base64(HMAC-SHA256(apiSecret, timestamp)) — vectors computed with `openssl dgst -sha256 -hmac … -binary | base64`.
import { describe, expect, it } from 'vitest';
import { cardCallbackSign, robotSign, verifyCardCallbackSign } from '../../src/channels/dingtalk/sign.js';
import { loadSettings } from '../../src/config/load.js';
import { ConfigError, StaleRequestError, VerificationError } from '../../src/errors.js';

const base = { DINGTALK_APP_KEY: 'dingkey', DINGTALK_APP_SECRET: 'dingsecret' };
const load = (env: Record<string, string>) => loadSettings({ ...base, ...env }, 'config/example.yaml').dingtalk!;

describe('DingTalk card settings', () => {
  it('no template: no cards (markdown naming the words to type)', () => {
    expect(load({}).cards).toBeUndefined();
  });

  it('stream mode: the template id is enough', () => {
    expect(load({ DINGTALK_MODE: 'stream', DINGTALK_CARD_TEMPLATE_ID: 'abc.schema' }).cards).toEqual({
      templateId: 'abc.schema',
      routeKey: 'houqin',
    });
  });

  it('http mode: needs the public callback address; the secret defaults to one derived from the app secret', () => {
    expect(() => load({ DINGTALK_CARD_TEMPLATE_ID: 'abc.schema' })).toThrow(ConfigError);
    expect(() =>
      load({ DINGTALK_CARD_TEMPLATE_ID: 'abc.schema', DINGTALK_CARD_CALLBACK_URL: 'ftp://x/dingtalk/card' }),
    ).toThrow(ConfigError);
    const c = load({ DINGTALK_CARD_TEMPLATE_ID: 'abc.schema', DINGTALK_CARD_CALLBACK_URL: 'https://h/dingtalk/card' })
      .cards!;
    expect(c).toMatchObject({ templateId: 'abc.schema', routeKey: 'houqin', callbackUrl: 'https://h/dingtalk/card' });
    expect(c.apiSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(c.apiSecret).not.toContain('dingsecret');
    const own = load({
      DINGTALK_CARD_TEMPLATE_ID: 'abc.schema',
      DINGTALK_CARD_CALLBACK_URL: 'https://h/dingtalk/card',
      DINGTALK_CARD_CALLBACK_SECRET: 'mine',
      DINGTALK_CARD_ROUTE_KEY: 'school-a',
    }).cards!;
    expect(own).toMatchObject({ apiSecret: 'mine', routeKey: 'school-a' });
    expect(() =>
      load({ DINGTALK_MODE: 'stream', DINGTALK_CARD_TEMPLATE_ID: 'a', DINGTALK_CARD_ROUTE_KEY: 'a b' }),
    ).toThrow(ConfigError);
  });
});

describe('DingTalk card callback signature', () => {
  it('matches openssl, and is not the robot formula', () => {
    expect(cardCallbackSign('1700000000000', 'houqinCardSecret-0123456789')).toBe(
      '6jBe51R9ymPas0yRTu5coEjsXu6Krqu4Iy9O3Xg+024=',
    );
    expect(cardCallbackSign('1595925864847', 'example-secret')).toBe('YeAQ/aQTH+ItQcCX+dV9W3s52oGqN7Ju5BD4sFdW3AM=');
    expect(robotSign('1700000000000', 'houqinCardSecret-0123456789')).not.toBe(
      cardCallbackSign('1700000000000', 'houqinCardSecret-0123456789'),
    );
  });

  it('refuses a missing, wrong or robot-style signature (401) and a stale one (403)', () => {
    const ts = '1700000000000';
    const secret = 'houqinCardSecret-0123456789';
    const now = 1_700_000_000_000;
    const ok = () => verifyCardCallbackSign(ts, cardCallbackSign(ts, secret), secret, now + 1000, 300_000);
    expect(ok).not.toThrow();
    expect(() => verifyCardCallbackSign(ts, undefined, secret, now, 300_000)).toThrow(VerificationError);
    expect(() => verifyCardCallbackSign(ts, robotSign(ts, secret), secret, now, 300_000)).toThrow(VerificationError);
    expect(() => verifyCardCallbackSign(ts, cardCallbackSign(ts, 'other'), secret, now, 300_000)).toThrow(
      VerificationError,
    );
    expect(() => verifyCardCallbackSign('17e11', 'x', secret, now, 300_000)).toThrow(VerificationError);
    expect(() => verifyCardCallbackSign(ts, cardCallbackSign(ts, secret), secret, now + 600_000, 300_000)).toThrow(
      StaleRequestError,
    );
  });
});
