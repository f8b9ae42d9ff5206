// DingTalk custom robots, the parts without a network: the signed Webhook address against the protocol notes'
// vectors (URL-encoded exactly once), the config keys and their ${ENV} form, merged bodies, and the pictures a robot
// message carries.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { picturesOf } from '../../src/channels/dingtalk/pictures.js';
import { MERGE_SEPARATOR, mergedWebhookBody, webhookParcel } from '../../src/channels/dingtalk/render.js';
import { safeUrl } from '../../src/channels/dingtalk/api.js';
import { signedWebhook } from '../../src/channels/dingtalk/sign.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const HOOK = 'https://oapi.dingtalk.com/robot/send?access_token=0123abcd';

describe('custom robot signature', () => {
  // dingtalk.md §2.2: S1–S3, URL-encoded as the Webhook takes them.
  const vectors = [
    ['1577262236757', 'houqinTestAppSecret-0123456789abcdef', 'kyXY3TWyVXFM%2BuGgowVJMmKGWhE3DNDKQuWDk0Ih2k0%3D'],
    ['1577262236757', 'this is secret', 'hmPWwU%2B7lVdm3ZZz0r9tSfx0L4Q26jWOZr9%2BGs6EZQM%3D'],
    ['1546084445901', 'testappSecret', 'fYP0TV8RJULxGabs59wSO94FZbNekbH7ebQJu2oy%2B%2F0%3D'],
  ] as const;

  it.each(vectors)('signs %s with "%s", encoded once', (ts, secret, encoded) => {
    const url = signedWebhook(HOOK, secret, Number(ts));
    expect(url).toBe(`${HOOK}&timestamp=${ts}&sign=${encoded}`);
    expect(url).not.toContain('%25'); // never encoded twice
  });

  it('leaves an unsigned robot (keywords or IP security) as given, and hides the token and sign in logs', () => {
    expect(signedWebhook(HOOK, undefined, 1)).toBe(HOOK);
    const logged = safeUrl(signedWebhook(HOOK, 'SECx', 1577262236757));
    expect(logged).not.toContain('0123abcd');
    expect(logged).toContain('access_token=***');
    expect(logged).toContain('sign=***');
  });
});

describe('chats[].dingtalk.webhook and .secret', () => {
  // The example config with its first chat's dingtalk block replaced.
  const example = parse(readFileSync('config/example.yaml', 'utf8'));
  const yaml = (dingtalk: string) => {
    const cfg = structuredClone(example);
    cfg.chats[0].dingtalk = parse(dingtalk);
    return stringify(cfg);
  };
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${ENV} syntax
  const fromEnv = '{ webhook: "${DT_HOOK}", secret: "${DT_SECRET}" }';
  it('take the Webhook and the SEC… secret from the environment', () => {
    const { config, missingEnv } = parseConfig(yaml(fromEnv), {
      DT_HOOK: HOOK,
      DT_SECRET: 'SEC0123',
    });
    expect(config.chats[0].dingtalk).toEqual({ webhook: HOOK, secret: 'SEC0123' });
    expect(missingEnv.filter((n) => n.startsWith('DT_'))).toEqual([]);
  });

  it('an unset variable leaves the chat without a robot (and is named); a wrong value stops the start', () => {
    const { config, missingEnv } = parseConfig(yaml(fromEnv), {});
    expect(config.chats[0].dingtalk).toEqual({});
    expect(missingEnv.filter((n) => n.startsWith('DT_')).sort()).toEqual(['DT_HOOK', 'DT_SECRET']);
    expect(() => parseConfig(yaml('{ webhook: "https://oapi.dingtalk.com/robot/send" }'), {})).toThrow(
      /chats\[0\]\.dingtalk\.webhook: use the custom robot's Webhook address/,
    );
    expect(() => parseConfig(yaml(`{ webhook: "${HOOK}", secret: "abc" }`), {})).toThrow(ConfigError);
  });
});

describe('merging for one robot', () => {
  it('joins markdown in order with a rule, keeps every @ in text and in at', () => {
    const a = webhookParcel({ type: 'text', text: '第一条\n第二行', mention: ['li_sf'] }, ['03110001']);
    const b = webhookParcel({ type: 'markdown', text: '**第二条**' }, []);
    const c = webhookParcel({ type: 'text', text: '第三条' }, ['03110002', '03110001']);
    const body = mergedWebhookBody([a, b, c]) as any;
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.title).toBe('第一条（共3条）');
    expect(body.markdown.text).toBe(
      ['第一条\n\n第二行\n\n@03110001', '**第二条**', '第三条\n\n@03110002 @03110001'].join(MERGE_SEPARATOR),
    );
    expect(body.at).toEqual({ atUserIds: ['03110001', '03110002'], isAtAll: false });
  });
});

describe('pictures in a robot message', () => {
  it('a picture message and richText picture parts give their downloadCodes; other messages none', () => {
    expect(picturesOf({ msgtype: 'picture', content: { pictureDownloadCode: 'p', downloadCode: 'd' } })).toEqual([
      { downloadCode: 'd' },
    ]);
    expect(picturesOf({ msgtype: 'picture', content: { pictureDownloadCode: 'p' } })).toEqual([{ downloadCode: 'p' }]);
    expect(
      picturesOf({
        msgtype: 'richText',
        content: { richText: [{ text: '看' }, { type: 'picture', downloadCode: 'x' }, { type: 'picture' }] },
      }),
    ).toEqual([{ downloadCode: 'x' }]);
    expect(picturesOf({ msgtype: 'text', content: undefined })).toEqual([]);
    expect(picturesOf({ msgtype: 'picture', content: 'nonsense' })).toEqual([]);
  });
});
