// A district for end-to-end tests: a folder of many sites, each a copy of config/example.yaml with its own WeCom AI
// bot keys and group-robot keys (as ${ENV} references, so every notice can be told apart by its robot), and the
// platform's side of its callbacks: a signed POST to /wecom/<site>/aibot that, like WeCom, tries again with the same
// msgid when no 200 came (here on another instance, as a load balancer in front of several would send it).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { aibotPost, aibotText, type AibotKeys } from './wecom-callbacks.js';
import { aesKey, webhookKeys } from './wecom-env.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The example's group robots, by the name of their variable (WECOM_WEBHOOK_<TEAM>). */
export type Robot = keyof typeof webhookKeys;

export interface DistrictSite {
  id: string;
  aibot: AibotKeys;
  /** Its group robots' keys: every site's are its own. */
  hooks: Record<Robot, string>;
  consoleToken: string;
  adminToken: string;
}

export interface DistrictFolder {
  dir: string;
  sites: DistrictSite[];
  /** What the service needs in its environment for the sites' ${ENV} references. */
  env: Record<string, string>;
  /** Every group-robot key of every site, for the fake WeCom. */
  hookKeys: string[];
  /** The site and robot (WECOM_WEBHOOK_…) a webhook key belongs to. */
  robotOf(key: string): { site: string; robot: Robot } | undefined;
}

/**
 * Writes `count` site files s01, s02 … (and a district.yaml). Each is config/example.yaml changed by `change`, with
 * `wecom.aibot` and the group robots' keys read from the environment under the site's own names (S01_AIBOT_TOKEN,
 * S01_WECOM_WEBHOOK_SHUIDIAN …).
 */
export function districtFolder(
  count: number,
  change: (cfg: Record<string, any>, site: string) => void = () => undefined,
  corpId = 'wwdistrict0001',
): DistrictFolder {
  const dir = mkdtempSync(join(tmpdir(), 'houqin-district-'));
  const example = readFileSync(join(ROOT, 'config', 'example.yaml'), 'utf8');
  const sites: DistrictSite[] = [];
  const env: Record<string, string> = {};
  const owners = new Map<string, { site: string; robot: Robot }>();
  for (let i = 1; i <= count; i++) {
    const id = `s${String(i).padStart(2, '0')}`;
    const up = id.toUpperCase();
    const site: DistrictSite = {
      id,
      aibot: { token: `${id}${randomBytes(6).toString('hex')}`, aesKey: aesKey() },
      hooks: Object.fromEntries(
        Object.entries(webhookKeys).map(([name, key]) => [name, `${id}-${key}`]),
      ) as DistrictSite['hooks'],
      consoleToken: randomBytes(12).toString('hex'),
      adminToken: randomBytes(12).toString('hex'),
    };
    const cfg = parse(example.replaceAll('${WECOM_WEBHOOK_', `\${${up}_WECOM_WEBHOOK_`)) as Record<string, any>;
    cfg.wecom = { corpId, aibot: { token: `\${${up}_AIBOT_TOKEN}`, aesKey: `\${${up}_AIBOT_AES_KEY}` } };
    cfg.access = { consoleToken: site.consoleToken, adminToken: site.adminToken };
    change(cfg, id);
    writeFileSync(join(dir, `${id}.yaml`), stringify(cfg));
    env[`${up}_AIBOT_TOKEN`] = site.aibot.token;
    env[`${up}_AIBOT_AES_KEY`] = site.aibot.aesKey;
    for (const [name, key] of Object.entries(site.hooks)) {
      env[`${up}_${name}`] = key;
      owners.set(key, { site: id, robot: name as Robot });
    }
    sites.push(site);
  }
  writeFileSync(join(dir, 'district.yaml'), stringify({ name: '测试区教育局', people: [] }));
  return { dir, sites, env, hookKeys: [...owners.keys()], robotOf: (key) => owners.get(key) };
}

/** One try of a callback: which instance, when it went, and what came back (a status, or why nothing did). */
export interface Attempt {
  instance: number;
  at: number;
  answeredAt: number;
  status?: number;
  error?: string;
}

export interface Delivery {
  site: string;
  msgid: string;
  attempts: Attempt[];
  /** The 200 that ended it, if one came. */
  ok?: Attempt;
}

export interface PlatformOptions {
  /** How long WeCom waits for an answer (5 s, protocols/wecom.md). */
  timeoutMs?: number;
  /** First try and retries: WeCom sends a callback at most 4 times. */
  tries?: number;
  /** Pause before a retry. */
  retryAfterMs?: number;
}

/**
 * The platform in front of several instances. Each try is signed afresh (new timestamp and nonce, as WeCom does), the
 * payload and its msgid stay the same; a try that gets no 200 in time is sent again to the next instance.
 */
export function platform(urls: () => (string | undefined)[], o: PlatformOptions = {}) {
  const timeoutMs = o.timeoutMs ?? 5000;
  const tries = o.tries ?? 4;
  const retryAfterMs = o.retryAfterMs ?? 100;
  return async function deliver(site: DistrictSite, payload: { msgid: string }, first: number): Promise<Delivery> {
    const d: Delivery = { site: site.id, msgid: payload.msgid, attempts: [] };
    for (let t = 0; t < tries; t++) {
      const list = urls();
      const instance = (first + t) % list.length;
      const base = list[instance];
      const a: Attempt = { instance, at: Date.now(), answeredAt: 0 };
      d.attempts.push(a);
      try {
        if (!base) throw new Error('instance down');
        const { query, body } = aibotPost(site.aibot, payload);
        const res = await fetch(`${base}/wecom/${site.id}/aibot?${query}`, {
          method: 'POST',
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.arrayBuffer();
        a.status = res.status;
      } catch (e) {
        a.error =
          (e as Error).name === 'TimeoutError' ? 'timeout' : ((e as Error).cause as Error)?.message || String(e);
      }
      a.answeredAt = Date.now();
      if (a.status === 200) {
        d.ok = a;
        return d;
      }
      await new Promise((r) => setTimeout(r, retryAfterMs));
    }
    return d;
  };
}

/** A group message that @-mentions the bot, as the AI bot's callback carries it. */
export function groupText(msgid: string, userid: string, content: string, responseUrl: string, chatid = 'wrStaff') {
  return aibotText({ msgid, userid, content: `@后勤助手 ${content}`, chatid, responseUrl }) as { msgid: string };
}
