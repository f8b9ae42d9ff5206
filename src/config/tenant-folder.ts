// A district folder: every *.yaml / *.yml in it but district.yaml is one site, its file name the tenant id. Each
// file is checked like a one-site config, plus its credentials; then what only the whole folder can tell: ids given
// twice, two sites claiming one bot, district.yaml's list of sites. Every broken file is reported at once, so an
// admin with hundreds of sites fixes them in one go rather than one restart each.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { type District, parseDistrict } from './district.js';
import type { Env } from './load.js';
import { readSiteFile } from './site-file.js';
import { TENANT_ID, tenantIdRule } from './tenant-id.js';
import type { Site, Tenants } from './tenants.js';

const YAML = /\.ya?ml$/i;
const DISTRICT = /^district\.ya?ml$/i;

export function loadFolder(env: Env, dir: string): Tenants {
  // Hidden names are skipped: Kubernetes mounts a ConfigMap as symlinks into a hidden ..data folder, editors leave
  // .#site.yaml locks. statSync follows symlinks, so a mounted file counts as the file it points to.
  const names = list(dir)
    .filter(
      (n) => YAML.test(n) && !n.startsWith('.') && !statSync(join(dir, n), { throwIfNoEntry: false })?.isDirectory(),
    )
    .sort();
  const districtFiles = names.filter((n) => DISTRICT.test(n));
  const siteNames = names.filter((n) => !DISTRICT.test(n));
  const errors: string[] = [];
  if (districtFiles.length > 1) errors.push(`${dir} has ${districtFiles.join(' and ')}: keep one`);
  if (!siteNames.length) errors.push(`${dir} holds no site files (one <tenant>.yaml per site)`);
  const sites = new Map<string, Site>();
  for (const name of siteNames) {
    const id = name.replace(YAML, '');
    const file = join(dir, name);
    const twin = sites.get(id);
    if (!TENANT_ID.test(id)) errors.push(`${file}: "${id}" cannot be a tenant id: ${tenantIdRule}`);
    else if (twin) errors.push(`${twin.file} and ${file} are both the site "${id}": keep one`);
    try {
      const site = readSiteFile(env, file, true);
      if (!twin) sites.set(id, { id, file, config: site.config, credentials: site.credentials, missingEnv: [] });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e.message);
    }
  }
  errors.push(...identityClashes([...sites.values()]));
  let district: District | undefined;
  if (districtFiles.length === 1) {
    const file = join(dir, districtFiles[0]);
    try {
      // Every file's id, not only those that loaded: a broken site file is reported once, not again as unknown here.
      const ids = [...new Set(siteNames.map((n) => n.replace(YAML, '')))];
      district = parseDistrict(readFileSync(file, 'utf8'), env, file, ids);
    } catch (e) {
      errors.push(e instanceof ConfigError ? e.message : `cannot read ${file}: ${(e as Error).message}`);
    }
  }
  if (errors.length) throw new ConfigError(`the district in ${dir} cannot start:\n\n${errors.join('\n\n')}`);
  return { district, sites };
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    throw new ConfigError(`cannot read the folder ${dir}: ${(e as Error).message}`);
  }
}

/**
 * Two sites may not claim one bot: its messages could only ever reach one of them. What identifies a bot: a WeCom
 * AI bot by its corp and callback token, a WeCom app by its corp and agent id, a DingTalk robot by its RobotCode.
 * The message names the files and the fields, never the values (tokens are secrets).
 */
function identityClashes(sites: Site[]): string[] {
  const owners = new Map<string, Site>();
  const clashes: string[] = [];
  const claim = (key: string, what: string, site: Site) => {
    const first = owners.get(key);
    if (first) clashes.push(`${first.file} and ${site.file} both use ${what}: each site needs its own`);
    else owners.set(key, site);
  };
  for (const site of sites) {
    const { wecom, dingtalk } = site.credentials;
    const corp = wecom?.corpId ?? '';
    if (wecom?.aibot)
      claim(
        `wecom-aibot\n${corp}\n${wecom.aibot.token}`,
        'the same WeCom AI bot (wecom.corpId, wecom.aibot.token)',
        site,
      );
    if (wecom?.app?.agentId)
      claim(`wecom-app\n${corp}\n${wecom.app.agentId}`, 'the same WeCom app (wecom.corpId, wecom.app.agentId)', site);
    if (dingtalk)
      claim(
        `dingtalk\n${dingtalk.robotCode}`,
        'the same DingTalk robot (dingtalk.robotCode, which defaults to appKey)',
        site,
      );
  }
  return clashes;
}
