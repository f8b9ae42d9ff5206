// A district folder: one file per site, each checked like a one-site config plus its credentials, ids from the file
// names, no bot claimed twice, and district.yaml optional. A one-site file loads as the tenant "default".
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests write ${NAME} references as a config file does
import { copyFileSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings, parseConfig } from '../../src/config/load.js';
import { loadTenants } from '../../src/config/tenants.js';
import { ConfigError } from '../../src/errors.js';
import { removeSiteFolders, siteFolder, siteYaml } from '../helpers/site-files.js';

afterAll(removeSiteFolders);

const AES_A = 'A'.repeat(43);
const AES_B = 'b'.repeat(43);
// agentId unquoted in block style, as the docs show it: the schema reads the number out of the text.
const wecomBlock = (p: string) => `wecom:
  corpId: "\${${p}_CORP}"
  aibot: { token: "\${${p}_AIBOT_TOKEN}", aesKey: "\${${p}_AIBOT_AES}" }
  app:
    token: \${${p}_APP_TOKEN}
    aesKey: \${${p}_APP_AES}
    secret: \${${p}_APP_SECRET}
    agentId: \${${p}_AGENT_ID}
`;
const env = {
  HOUQIN_VOCABULARY: '/nonexistent/vocabulary.yaml',
  A_CORP: 'ww-a',
  A_AIBOT_TOKEN: 'tok-a',
  A_AIBOT_AES: AES_A,
  A_APP_TOKEN: 'app-a',
  A_APP_AES: AES_B,
  A_APP_SECRET: 'sec-a',
  A_AGENT_ID: '1000002',
  B_DT_KEY: 'ding-b',
  B_DT_SECRET: 'dsec-b',
};
const siteA = siteYaml('阳光幼儿园', wecomBlock('A'));
const siteB = siteYaml('实验小学', 'dingtalk: { appKey: "${B_DT_KEY}", appSecret: "${B_DT_SECRET}" }\n');

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('a district folder', () => {
  it('loads one site per file, the file name being the tenant id, with credentials from ${ENV}', () => {
    const dir = siteFolder({ 'sunshine.yaml': siteA, 'no-2-primary.yml': siteB, 'README.md': '# not a site' });
    const t = loadTenants(env, dir);
    expect(t.district).toBeUndefined();
    expect([...t.sites.keys()]).toEqual(['no-2-primary', 'sunshine']);
    const a = t.sites.get('sunshine')!;
    expect(a.file).toBe(join(dir, 'sunshine.yaml'));
    expect(a.config.org.name).toBe('阳光幼儿园');
    expect(a.credentials.wecom).toEqual({
      corpId: 'ww-a',
      aibot: { token: 'tok-a', aesKey: AES_A },
      app: { token: 'app-a', aesKey: AES_B, secret: 'sec-a', agentId: 1000002 },
    });
    expect(a.credentials.dingtalk).toBeUndefined();
    const b = t.sites.get('no-2-primary')!;
    // robotCode defaults to the AppKey, mode to http, as DINGTALK_ROBOT_CODE and DINGTALK_MODE do.
    expect(b.credentials.dingtalk).toEqual({
      appKey: 'ding-b',
      appSecret: 'dsec-b',
      robotCode: 'ding-b',
      mode: 'http',
    });
    expect(b.credentials.wecom).toBeUndefined();
  });

  it('checks each file exactly as a one-site config is checked', () => {
    const dir = siteFolder({});
    copyFileSync('config/example.yaml', join(dir, 'yangguang.yaml'));
    const refs = [...readFileSync('config/example.yaml', 'utf8').matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]);
    const all = { ...env, ...Object.fromEntries(refs.map((n) => [n, `key-${n}`])) };
    const site = loadTenants(all, dir).sites.get('yangguang')!;
    expect(site.config).toEqual(parseConfig(readFileSync('config/example.yaml', 'utf8'), all).config);
    expect(site.credentials).toEqual({});
  });

  it('skips hidden files and folders, and follows symlinks (a Kubernetes ConfigMap mount)', () => {
    const dir = siteFolder({ '..data/real.yaml': siteB, '.#sunshine.yaml': 'broken: [', 'old/x.yaml': 'broken: [' });
    symlinkSync(join(dir, '..data/real.yaml'), join(dir, 'linked.yaml'));
    expect([...loadTenants(env, dir).sites.keys()]).toEqual(['linked']);
  });

  it('names a file whose name is no tenant id, and two files for one id', () => {
    const dir = siteFolder({ 'School A.yaml': siteB, 'a.yaml': siteB, 'a.yml': siteB });
    const msg = errorOf(() => loadTenants(env, dir));
    expect(msg).toContain(`${join(dir, 'School A.yaml')}: "School A" cannot be a tenant id`);
    expect(msg).toContain(`${join(dir, 'a.yaml')} and ${join(dir, 'a.yml')} are both the site "a"`);
  });

  it('stops on an unset variable, naming the file, the YAML path and the variable but no value', () => {
    const { A_APP_SECRET: _, ...less } = env;
    const dir = siteFolder({ 'sunshine.yaml': siteA, 'other.yaml': siteYaml('x', 'org2: "${NOPE}"\n') });
    const msg = errorOf(() => loadTenants({ ...less, A_CORP: '' }, dir));
    expect(msg).toContain(`unset environment variables in ${join(dir, 'sunshine.yaml')}`);
    expect(msg).toContain('wecom.corpId: environment variable A_CORP is unset or empty');
    expect(msg).toContain('wecom.app.secret: environment variable A_APP_SECRET is unset or empty');
    // Every broken file at once, not one per restart.
    expect(msg).toContain('org2: environment variable NOPE is unset or empty');
    for (const secret of ['tok-a', AES_A, 'app-a', AES_B]) expect(msg).not.toContain(secret);
  });

  it('checks credentials by the rules of the environment variables, quoting no secret', () => {
    const dir = siteFolder({ 'sunshine.yaml': siteA });
    const msg = errorOf(() =>
      loadTenants({ ...env, A_AIBOT_AES: 'too-short-key', A_CORP: ' ', A_AGENT_ID: 'x1' }, dir),
    );
    expect(msg).toContain('wecom.aibot.aesKey: must be the 43-character EncodingAESKey from the admin console');
    expect(msg).toContain('wecom.app.agentId: must be a whole number');
    expect(msg).not.toContain('too-short-key');
    const noCorp = siteFolder({ 's.yaml': siteYaml('x', `wecom: { app: { token: t, aesKey: ${AES_B} } }\n`) });
    expect(errorOf(() => loadTenants(env, noCorp))).toContain(
      'wecom.corpId: must be set: the app callback needs the corp id',
    );
    const typo = siteFolder({ 's.yaml': siteYaml('x', 'dingtalk: { appKey: k, appSecret: s, robotcode: r }\n') });
    expect(errorOf(() => loadTenants(env, typo))).toMatch(/dingtalk: Unrecognized key: "robotcode"/);
    const mode = siteFolder({ 's.yaml': siteYaml('x', 'dingtalk: { appKey: k, appSecret: s, mode: ws }\n') });
    expect(errorOf(() => loadTenants(env, mode))).toContain('dingtalk.mode: must be http or stream');
  });

  it('refuses two sites claiming one bot, naming both files', () => {
    const dir = siteFolder({
      'a.yaml': siteA,
      'b.yaml': siteYaml('b', wecomBlock('A')),
      'c.yaml': siteYaml('c', 'dingtalk: { appKey: k1, appSecret: s, robotCode: shared }\n'),
      'd.yaml': siteYaml('d', 'dingtalk: { appKey: shared, appSecret: s2 }\n'),
    });
    const msg = errorOf(() => loadTenants(env, dir));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => join(dir, `${n}.yaml`));
    expect(msg).toContain(`${a} and ${b} both use the same WeCom AI bot (wecom.corpId, wecom.aibot.token)`);
    expect(msg).toContain(`${a} and ${b} both use the same WeCom app (wecom.corpId, wecom.app.agentId)`);
    expect(msg).toContain(`${c} and ${d} both use the same DingTalk robot`);
    expect(msg).not.toContain('tok-a');
  });

  it('says so when the folder holds no site', () => {
    const dir = siteFolder({ 'district.yaml': 'name: 城关区教育局\n' });
    expect(errorOf(() => loadTenants(env, dir))).toContain('holds no site files');
  });
});

describe('district.yaml', () => {
  const people = `people:
  - { name: 李科长, wecom: li_kz, dingtalk: "0123", roles: [district] }
`;
  it('covers every site when it lists none', () => {
    const dir = siteFolder({
      'a.yaml': siteB,
      'b.yaml': siteYaml('b'),
      'district.yaml': `name: 城关区教育局\n${people}`,
    });
    const t = loadTenants(env, dir);
    expect(t.district).toEqual({
      name: '城关区教育局',
      people: [{ name: '李科长', wecom: 'li_kz', dingtalk: '0123', roles: ['district'] }],
      sites: ['a', 'b'],
    });
    expect([...t.sites.keys()]).toEqual(['a', 'b']);
  });

  it('covers the sites it lists, and names one it does not know', () => {
    const files = { 'a.yaml': siteB, 'b.yaml': siteYaml('b') };
    const dir = siteFolder({ ...files, 'district.yml': 'name: 城关区教育局\nsites: [b]\n' });
    expect(loadTenants(env, dir).district!.sites).toEqual(['b']);
    const bad = siteFolder({ ...files, 'district.yaml': 'name: 城关区教育局\nsites: [b, c, b]\n' });
    const msg = errorOf(() => loadTenants(env, bad));
    expect(msg).toContain(`invalid district in ${join(bad, 'district.yaml')}`);
    expect(msg).toContain('sites[1]: no site "c" in the folder');
    expect(msg).toContain('sites[2]: "b" is listed twice');
  });

  it('is checked by its schema: misspelt keys, roles, people given twice, one district file', () => {
    const files = { 'a.yaml': siteB };
    const typo = siteFolder({ ...files, 'district.yaml': 'name: x\nsite: [a]\n' });
    expect(errorOf(() => loadTenants(env, typo))).toMatch(/Unrecognized key: "site"/);
    const role = siteFolder({ ...files, 'district.yaml': 'name: x\npeople: [{ name: 李, roles: [boss] }]\n' });
    expect(errorOf(() => loadTenants(env, role))).toContain('people[0].roles[0]');
    const twice = siteFolder({
      ...files,
      'district.yaml':
        'name: x\npeople: [{ name: 李, wecom: li, roles: [district] }, { name: 王, wecom: li, roles: [district] }]\n',
    });
    expect(errorOf(() => loadTenants(env, twice))).toContain(`people[1].wecom: "li" is also people[0]'s wecom id`);
    const two = siteFolder({ ...files, 'district.yaml': 'name: x\n', 'district.yml': 'name: y\n' });
    expect(errorOf(() => loadTenants(env, two))).toContain('has district.yaml and district.yml: keep one');
  });
});

describe('one file', () => {
  const example = 'config/example.yaml';

  it('is the tenant "default", loaded exactly as loadSettings loads it, credentials from the environment', () => {
    const e = {
      ...env,
      HOUQIN_KEY_PREFIX: 'x',
      WECOM_WEBHOOK_SHUIDIAN: 'abc',
      WECOM_CORP_ID: 'ww1',
      WECOM_AIBOT_TOKEN: 't',
      WECOM_AIBOT_AES_KEY: AES_A,
      DINGTALK_APP_KEY: 'k',
      DINGTALK_APP_SECRET: 's',
    };
    const t = loadTenants(e, example);
    const settings = loadSettings(e, example);
    expect(t.district).toBeUndefined();
    expect([...t.sites.keys()]).toEqual(['default']);
    const site = t.sites.get('default')!;
    expect(site.file).toBe(example);
    expect(site.config).toEqual(settings.config);
    expect(site.missingEnv).toEqual(settings.missingEnv);
    const { apiBase: _, ...wecom } = settings.wecom;
    expect(site.credentials.wecom).toEqual(wecom);
    const { apiBase: _a, oapiBase: _o, ...dingtalk } = settings.dingtalk!;
    expect(site.credentials.dingtalk).toEqual(dingtalk);
    expect(
      loadTenants({ HOUQIN_VOCABULARY: env.HOUQIN_VOCABULARY }, example).sites.get('default')!.credentials,
    ).toEqual({
      wecom: undefined,
      dingtalk: undefined,
    });
  });

  it('may carry the credential blocks instead of the variables, but not both', () => {
    const dir = siteFolder({ 'houqin.yaml': siteA });
    const file = join(dir, 'houqin.yaml');
    expect(loadTenants(env, file).sites.get('default')!.credentials.wecom!.app!.agentId).toBe(1000002);
    expect(errorOf(() => loadTenants({ ...env, WECOM_CORP_ID: 'ww' }, file))).toContain(
      `${file} gives its credentials twice (wecom: and WECOM_*)`,
    );
    // Unset names elsewhere leave a feature off, as they always have; in a credentials block they stop the start.
    expect(errorOf(() => loadTenants({ ...env, A_AIBOT_TOKEN: '' }, file))).toContain(
      'wecom.aibot.token: environment variable A_AIBOT_TOKEN is unset or empty',
    );
  });

  it('serves a folder as a district through loadSettings: each site named, keys tagged', () => {
    const dir = siteFolder({ 'a.yaml': siteB });
    const s = loadSettings(env, dir);
    expect(s.sites.map((x) => [x.id, x.named])).toEqual([['a', true]]);
    expect(s.layout.site('a')).toBe(`${s.layout.base}:{t:a}`);
    expect(loadSettings(env, 'config/example.yaml').layout.site('default')).toBe('houqin');
    expect(errorOf(() => loadTenants(env, join(dir, 'nope.yaml')))).toContain('cannot read');
  });
});
