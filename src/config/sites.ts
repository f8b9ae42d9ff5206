// The sites one deployment serves, as the rest of the service reads them: each with its config and its platform
// settings in the shape a one-site install has always had (load.ts Settings), so the code that serves one site serves
// each of many unchanged. A one-site install is the single site `default`, built from the same fields as before.
import { join, dirname } from 'node:path';
import { ConfigError } from '../errors.js';
import type { District } from './district.js';
import type { DingtalkSettings, Env, WecomSettings } from './load.js';
import type { Config } from './schema.js';
import { loadFolder } from './tenant-folder.js';
import { readOverlay, vocabularyPath, withOverlay } from './vocabulary.js';

export interface SiteSettings {
  /** The tenant id: `default` for a one-site install, the file name in a district folder. */
  id: string;
  config: Config;
  wecom: WecomSettings;
  dingtalk?: DingtalkSettings;
  consoleToken?: string;
  adminToken?: string;
  /** The site's learned-words overlay (config/vocabulary.ts). */
  vocabularyPath: string;
  /** Its addresses carry its id (/wecom/<id>/aibot, /t/<id>/console): a district's sites. */
  named: boolean;
}

export interface Hosts {
  wecomApi: string;
  dingtalkApi: string;
  dingtalkOapi: string;
}

/**
 * A district folder's sites. Each site's learned words go to their own overlay beside the one-site file
 * (data/vocabulary/<id>.yaml by default). The deployment has one key prefix: the sites' files must agree on
 * redis.keyPrefix (HOUQIN_KEY_PREFIX overrides it for all).
 */
export function folderSites(env: Env, dir: string, hosts: Hosts): { sites: SiteSettings[]; district?: District } {
  const t = loadFolder(env, dir);
  const overlays = join(dirname(vocabularyPath(env)), 'vocabulary');
  const sites = [...t.sites.values()].map((s): SiteSettings => {
    const overlay = join(overlays, `${s.id}.yaml`);
    const config = withOverlay(s.config, readOverlay(overlay));
    if (env.HOUQIN_KEY_PREFIX) config.redis.keyPrefix = env.HOUQIN_KEY_PREFIX;
    const d = s.credentials.dingtalk;
    return {
      id: s.id,
      config,
      wecom: { apiBase: hosts.wecomApi, ...s.credentials.wecom },
      dingtalk: d && { apiBase: hosts.dingtalkApi, oapiBase: hosts.dingtalkOapi, ...d },
      consoleToken: s.credentials.access?.consoleToken,
      adminToken: s.credentials.access?.adminToken,
      vocabularyPath: overlay,
      named: true,
    };
  });
  const prefixes = [...new Set(sites.map((s) => s.config.redis.keyPrefix))];
  if (prefixes.length > 1)
    throw new ConfigError(
      `the sites in ${dir} name different redis.keyPrefix values (${prefixes.join(', ')}): a deployment has one; remove it from the site files or set HOUQIN_KEY_PREFIX`,
    );
  return { sites, district: t.district };
}
