// A district folder for the district bench (bench/district.ts): N copies of config/example.yaml, each its own site
// (s001.yaml …) with its own WeCom AI bot token and AES key, and the signed callbacks that go to them. The keys are
// bench values made here, written into the files of a temporary folder, never real ones.
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { aesKey } from '../../test/helpers/wecom-env.js';
import { aibotPost, aibotText, type AibotKeys } from '../../test/helpers/wecom-callbacks.js';
import { ROOT } from './proc.js';
import { rawPost, type RawRequest } from './raw-client.js';

export interface BenchSite {
  id: string;
  keys: AibotKeys;
}

export interface DistrictFolder {
  dir: string;
  sites: BenchSite[];
}

/**
 * `count` sites, each the example kindergarten with: its own AI bot (token and key in its file), no group robots
 * (their keys would be `${ENV}` references a district must have set), and `sla.duplicateWindow: 0`, so that every
 * report opens a task of its own (the failover check counts one task per acknowledged report).
 */
export function districtFolder(count: number): DistrictFolder {
  const dir = mkdtempSync(join(tmpdir(), 'houqin-bench-district-'));
  const base = parse(readFileSync(join(ROOT, 'config', 'example.yaml'), 'utf8')) as Record<string, any>;
  for (const c of base.chats as Record<string, unknown>[]) delete c.wecom;
  base.sla.duplicateWindow = 0;
  const sites: BenchSite[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `s${String(i).padStart(3, '0')}`;
    const keys = { token: `bench${id}${randomBytes(4).toString('hex')}`, aesKey: aesKey() };
    const cfg = structuredClone(base);
    cfg.org.name = `压测第${i}幼儿园`;
    cfg.wecom = { corpId: 'wwbenchdistrict', aibot: { token: keys.token, aesKey: keys.aesKey } };
    writeFileSync(join(dir, `${id}.yaml`), stringify(cfg));
    sites.push({ id, keys });
  }
  writeFileSync(join(dir, 'district.yaml'), stringify({ name: '压测区教育局', people: [] }));
  return { dir, sites };
}

export interface CallbackSpec {
  /** what the teacher says (after @后勤助手) */
  content: string;
  /** the reply address (WeCom's response_url); default a closed port */
  responseUrl?: (i: number) => string;
  /** the site of request i; default round-robin over the sites */
  siteOf?: (i: number) => number;
}

/**
 * `count` distinct signed, encrypted AI-bot callbacks (own msgid, nonce and random prefix each), spread over the
 * sites round-robin, from 王丽 (WangLi, on every site's roster) in a group chat. Timestamps are now: the app refuses
 * callbacks older than 300 s, so make them right before they are sent.
 */
export function districtCallbacks(sites: BenchSite[], count: number, spec: CallbackSpec): RawRequest[] {
  const tag = randomBytes(4).toString('hex');
  const nonceBase = randomInt(100_000_000, 900_000_000);
  const timestamp = Math.floor(Date.now() / 1000);
  const out: RawRequest[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const site = spec.siteOf ? spec.siteOf(i) : i % sites.length;
    const msgid = `d${tag}${i}`;
    const payload = aibotText({
      msgid,
      userid: 'WangLi',
      content: `@后勤助手 ${spec.content}`,
      chatid: 'wrBenchGroup',
      responseUrl: spec.responseUrl ? spec.responseUrl(i) : 'http://127.0.0.1:9/cgi-bin/aibot/response?response_code=b',
    });
    const { query, body } = aibotPost(sites[site].keys, payload, { timestamp, nonce: String(nonceBase + i) });
    out[i] = { bytes: rawPost(`/wecom/${sites[site].id}/aibot?${query}`, body), site, msgid };
  }
  return out;
}
