import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { channelStates } from '../../src/app.js';
import { banner } from '../../src/cli/banner.js';
import { loadSettings } from '../../src/config/load.js';
import { createLogger, logFormat } from '../../src/log.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

describe('log format', () => {
  it('is pretty on a terminal, JSON when piped or in production, and LOG_FORMAT wins', () => {
    expect(logFormat({}, true)).toBe('pretty');
    expect(logFormat({}, false)).toBe('json');
    expect(logFormat({ NODE_ENV: 'production' }, true)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ LOG_FORMAT: 'pretty' }, false)).toBe('pretty');
  });

  it('writes one readable line in pretty mode and one JSON object otherwise; secrets redacted in both', () => {
    const p = sink();
    createLogger('info', p.stream, 'pretty').info({ app: { secret: 's3cr3t' }, n: 1 }, 'hello there');
    const line = stripVTControlCharacters(p.text());
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: hello there \{.*"n":1/);
    expect(line.trim().split('\n')).toHaveLength(1);
    expect(line).not.toContain('s3cr3t');

    const j = sink();
    createLogger('info', j.stream, 'json').info({ app: { secret: 's3cr3t' } }, 'hello there');
    const obj = JSON.parse(j.text());
    expect(obj).toMatchObject({ msg: 'hello there', svc: 'houqin', app: { secret: '[redacted]' } });
  });
});

describe('start-up banner', () => {
  it('names the console URL, each channel with what to set, and Redis persistence without its password', () => {
    const text = banner(
      {
        port: 3000,
        console: true,
        consoleUrl: 'http://127.0.0.1:3000/console',
        role: 'all',
        channels: [
          { name: 'WeCom AI bot', on: false, detail: 'off: set WECOM_AIBOT_TOKEN' },
          { name: 'console', on: true, detail: 'local chat simulator' },
        ],
        redis: { appendonly: 'no', policy: 'noeviction' },
      },
      'redis://:pw@127.0.0.1:6379',
      false,
    );
    expect(text).toContain('http://127.0.0.1:3000/console');
    expect(text).toMatch(/· WeCom AI bot +off: set WECOM_AIBOT_TOKEN/);
    expect(text).toMatch(/✓ console +local chat simulator/);
    expect(text).toContain('AOF no: a Redis restart loses data');
    expect(text).not.toContain(':pw@');
    expect(text.split('\n').length).toBeLessThan(12);
  });
});

describe('start-up banner in DingTalk Stream mode', () => {
  const settings = loadSettings(
    { DINGTALK_APP_KEY: 'dingkey', DINGTALK_APP_SECRET: 'dingsecret', DINGTALK_MODE: 'stream' },
    'config/example.yaml',
  );
  const line = (stream: Parameters<typeof channelStates>[2]) => {
    const text = banner(
      {
        port: 3000,
        console: false,
        role: 'all',
        channels: channelStates(settings, false, stream),
        redis: { appendonly: 'yes', policy: 'noeviction' },
      },
      'redis://127.0.0.1:6379',
      false,
    );
    return text.split('\n').find((l) => l.includes('DingTalk robot'))!;
  };

  it('says stream mode and whether the connection is up, with the last error while it is not', () => {
    expect(line({ state: 'connected', reconnects: 0 })).toMatch(
      /✓ DingTalk robot +stream mode, connected to DingTalk \(robot dingkey\)/,
    );
    const connecting = line({ state: 'connecting', reconnects: 2, lastError: 'handshake failed: HTTP 400' });
    expect(connecting).toMatch(
      /stream mode, connecting to DingTalk \(robot dingkey; last try: handshake failed: HTTP 400\)/,
    );
    expect(connecting).not.toContain('/dingtalk/robot');
    expect(connecting).not.toContain('dingsecret');
  });
});

describe('start-up banner: DingTalk cards', () => {
  const line = (env: Record<string, string>) => {
    const settings = loadSettings(
      { DINGTALK_APP_KEY: 'dingkey', DINGTALK_APP_SECRET: 'dingsecret', DINGTALK_MODE: 'stream', ...env },
      'config/example.yaml',
    );
    return channelStates(settings, false).find((c) => c.name === 'DingTalk cards')!;
  };

  it('says whether buttons are on, and what to set when they are not', () => {
    expect(line({ DINGTALK_CARD_TEMPLATE_ID: 'tpl.schema' })).toMatchObject({
      on: true,
      detail: 'buttons by template tpl.schema, clicks over the stream',
    });
    const off = line({});
    expect(off.on).toBe(false);
    expect(off.detail).toContain('set DINGTALK_CARD_TEMPLATE_ID');
  });
});
