// `${NAME}` in a config: whole values and parts of strings, numbers and yes/no read out of the text where the schema
// expects them, and only names and paths reported, never values.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests write ${NAME} references as a config file does
import { describe, expect, it } from 'vitest';
import { resolveEnvRefs } from '../../src/config/env-refs.js';
import { parseConfig } from '../../src/config/load.js';
import { parseSiteFile } from '../../src/config/site-file.js';
import { ConfigError } from '../../src/errors.js';
import { siteYaml } from '../helpers/site-files.js';

describe('resolveEnvRefs', () => {
  it('replaces whole values and parts, and lists what is unset with its path', () => {
    const { value, unset } = resolveEnvRefs(
      { a: '${A}', b: ['x-${B}-y', '${GONE}'], c: { d: 'pre ${EMPTY} post', n: 3, t: true }, e: '${lower}' },
      { A: 'secret-a', B: 'b', EMPTY: '' },
    );
    expect(value).toEqual({
      a: 'secret-a',
      b: ['x-b-y', undefined],
      c: { d: 'pre  post', n: 3, t: true },
      e: '${lower}',
    });
    expect(unset).toEqual([
      { path: ['b', 1], name: 'GONE' },
      { path: ['c', 'd'], name: 'EMPTY' },
    ]);
  });
});

describe('numbers, durations and yes/no from the environment', () => {
  const yaml = siteYaml(
    '"${SCHOOL}"',
    `outbox:
  recipientCap: \${CAP}
meals:
  lowRating: \${LOW}
channels:
  local: { enabled: "\${CONSOLE_ON}" }
jobs:
  digest.daily: { enabled: "\${DIGEST_ON}", everyDay: "\${EVERY_DAY}" }
`,
  ).replace('remind: 30m', 'remind: "${REMIND}"');
  const env = {
    SCHOOL: '阳光幼儿园',
    CAP: '50',
    LOW: ' 3 ',
    CONSOLE_ON: 'false',
    DIGEST_ON: 'true',
    EVERY_DAY: 'true',
    REMIND: '90',
  };

  it('reads them where the schema expects a number or a yes/no', () => {
    const { config } = parseSiteFile(yaml, env, 'site.yaml', true);
    expect(config.org.name).toBe('阳光幼儿园');
    expect(config.outbox.recipientCap).toBe(50);
    expect(config.meals.lowRating).toBe(3);
    expect(config.channels.local.enabled).toBe(false);
    expect(config.jobs['digest.daily']).toEqual({ enabled: true, everyDay: true });
    expect(config.sla.normal.remind).toBe(90_000); // a bare number is seconds, as it is unquoted in the file
    expect(parseSiteFile(yaml, { ...env, REMIND: '15m' }, 'site.yaml', true).config.sla.normal.remind).toBe(
      15 * 60_000,
    );
  });

  it('names the field when the text is no number or yes/no', () => {
    const message = (e: Record<string, string>) => {
      try {
        parseSiteFile(yaml, e, 'site.yaml', true);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(message({ ...env, CAP: 'fifty' })).toContain('outbox.recipientCap');
    expect(message({ ...env, CAP: '' })).toContain('outbox.recipientCap: environment variable CAP is unset or empty');
    expect(message({ ...env, CONSOLE_ON: 'no' })).toContain('channels.local.enabled');
    expect(message({ ...env, LOW: '9' })).toContain('meals.lowRating');
  });

  it('leaves a one-site file as it was: an unset name keeps its feature off and is listed', () => {
    const text = siteYaml('x', 'chats:\n  - { id: c, name: 群, type: staff, wecom: { webhookKey: "${HOOK}" } }\n');
    const one = parseConfig(text, {});
    expect(one.config.chats[0].wecom.webhookKey).toBeUndefined();
    expect(one.missingEnv).toEqual(['HOOK']);
    expect(parseSiteFile(text, {}, 'site.yaml', false)).toMatchObject({ config: one.config, missingEnv: ['HOOK'] });
    expect(() => parseSiteFile(text, {}, 'site.yaml', true)).toThrow(
      'chats[0].wecom.webhookKey: environment variable HOOK',
    );
  });
});
