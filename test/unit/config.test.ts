// A bad config stops start-up with a message naming the exact field; secrets come from the environment.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseConfig, loadSettings } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const example = readFileSync('config/example.yaml', 'utf8');

function errorOf(text: string, env = {}): string {
  try {
    parseConfig(text, env, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('loads the example kindergarten', () => {
    const { config } = parseConfig(example, {});
    expect(config.org.name).toBe('阳光幼儿园');
    expect(config.places.map((p) => p.name)).toContain('中二班');
    expect(config.sla.urgent.remind).toBe(5 * 60_000);
    expect(config.sla.autoAccept).toBe(48 * 3600_000);
  });

  it('names the field: an unknown team member', () => {
    expect(errorOf(example.replace('members: [zheng_sf]', 'members: [zheng_shifu]'))).toContain(
      'teams[1].members[0]: no person with id "zheng_shifu"',
    );
  });

  it('names the field: a bad duration, a bad role, a missing route', () => {
    expect(errorOf(example.replace('remind: 30m', 'remind: soon'))).toContain(
      'sla.normal.remind: not a duration: "soon"',
    );
    expect(errorOf(example.replace('roles: [director]', 'roles: [boss]'))).toMatch(/people\[0\]\.roles\[0\]/);
    expect(errorOf(example.replace('  - { kind: meal, team: shitang }\n', ''))).toContain('no route for kind "meal"');
  });

  it('says when the YAML itself is broken', () => {
    expect(errorOf('org: [unclosed')).toContain('cannot read YAML in test.yaml');
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the test's name quotes the config syntax
  it('reads ${NAME} from the environment and reports what is unset', () => {
    const { config, missingEnv } = parseConfig(example, { WECOM_WEBHOOK_SHUIDIAN: 'abc' });
    expect(config.chats.find((c) => c.id === 'team_shuidian')!.wecom.webhookKey).toBe('abc');
    expect(config.chats.find((c) => c.id === 'team_mugong')!.wecom.webhookKey).toBeUndefined();
    expect(missingEnv).toContain('WECOM_WEBHOOK_MUGONG');
  });

  it('takes settings from the environment passed in, never from process.env', () => {
    const s = loadSettings(
      { PORT: '4100', WECOM_AIBOT_TOKEN: 't', WECOM_AIBOT_AES_KEY: 'a'.repeat(43), HOUQIN_KEY_PREFIX: 'x' },
      'config/example.yaml',
    );
    expect(s.port).toBe(4100);
    expect(s.wecom.aibot).toEqual({ token: 't', aesKey: 'a'.repeat(43) });
    expect(s.wecom.app).toBeUndefined();
    expect(s.config.redis.keyPrefix).toBe('x');
    expect(() => loadSettings({ WECOM_AIBOT_TOKEN: 't', WECOM_AIBOT_AES_KEY: 'short' }, 'config/example.yaml')).toThrow(
      /43-character/,
    );
    expect(() =>
      loadSettings({ WECOM_APP_TOKEN: 't', WECOM_APP_AES_KEY: 'a'.repeat(43) }, 'config/example.yaml'),
    ).toThrow(/WECOM_CORP_ID/);
    expect(() => loadSettings({ PORT: 'abc' }, 'config/example.yaml')).toThrow(/PORT/);
    expect(() => loadSettings({}, 'config/nope.yaml')).toThrow(/cannot read config file config\/nope.yaml/);
  });
});
