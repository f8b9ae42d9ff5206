// The sites (tenants) one deployment serves, from HOUQIN_CONFIG: a file is a one-site install, a folder a district
// with a file per site and an optional district.yaml (docs/configuration.md, "A district: one folder, many sites").
// This loads and checks them; serving more than one site from one process is the next step of issue 15.
import { statSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { AccessBlock } from './credentials.js';
import type { District } from './district.js';
import {
  DEFAULT_CONFIG,
  type DingtalkSettings,
  type Env,
  type WecomSettings,
  dingtalkSettings,
  wecomFromEnv,
  withLocalOverrides,
} from './load.js';
import type { Config } from './schema.js';
import { readSiteFile } from './site-file.js';
import { loadFolder } from './tenant-folder.js';

/** A site's platform credentials; API hosts are the deployment's, not a site's. */
export interface Credentials {
  wecom?: Omit<WecomSettings, 'apiBase'>;
  dingtalk?: Omit<DingtalkSettings, 'apiBase' | 'oapiBase'>;
  /** A district site's console and /admin/export tokens (credentials.ts `access`). */
  access?: AccessBlock;
}

export interface Site {
  id: string;
  file: string;
  config: Config;
  credentials: Credentials;
  /** `${NAME}`s left unset, whose features stay off (the log names them once). Always empty in a folder. */
  missingEnv: string[];
}

export interface Tenants {
  district?: District;
  sites: Map<string, Site>;
}

/**
 * A one-site install is the tenant `default`, not its file's name: the file is called example.yaml, houqin.yaml or
 * /etc/houqin/config.yaml, names that may not be valid ids and that an admin renames freely, while the id will be
 * part of the site's Redis keys and URLs. A fixed id keeps those the same whatever the file is called; a school that
 * later joins a district folder as default.yaml keeps it too.
 */
export const SINGLE_TENANT = 'default';

export function loadTenants(env: Env, configPath = env.HOUQIN_CONFIG || DEFAULT_CONFIG): Tenants {
  let folder: boolean;
  try {
    folder = statSync(configPath).isDirectory();
  } catch (e) {
    throw new ConfigError(`cannot read ${configPath}: ${(e as Error).message} (set HOUQIN_CONFIG to a file or folder)`);
  }
  if (folder) return loadFolder(env, configPath);
  return { sites: new Map([[SINGLE_TENANT, oneSite(env, configPath)]]) };
}

/**
 * The one file, read as today's loadSettings reads it (same config, overlay and key prefix). Its credentials are
 * its `wecom:` / `dingtalk:` blocks or, the shorthand of a one-site install, the WECOM_* / DINGTALK_* variables;
 * both for one platform would leave a reader guessing which counts, so that stops the start.
 */
function oneSite(env: Env, file: string): Site {
  const site = readSiteFile(env, file, false);
  const wecomEnv = wecomFromEnv(env);
  const wecomSet = !!(wecomEnv.corpId || wecomEnv.aibot || wecomEnv.app || wecomEnv.longconn);
  const dingtalkEnv = dingtalkSettings(env);
  const both = [
    site.credentials.wecom && wecomSet ? 'wecom: and WECOM_*' : '',
    site.credentials.dingtalk && dingtalkEnv ? 'dingtalk: and DINGTALK_*' : '',
  ].filter(Boolean);
  if (both.length)
    throw new ConfigError(
      `${file} gives its credentials twice (${both.join('; ')}): keep the block in the file or the environment variables, not both`,
    );
  const dingtalk = site.credentials.dingtalk ?? withoutHosts(dingtalkEnv);
  return {
    id: SINGLE_TENANT,
    file,
    config: withLocalOverrides(site.config, env),
    credentials: { wecom: site.credentials.wecom ?? (wecomSet ? wecomEnv : undefined), dingtalk },
    missingEnv: site.missingEnv,
  };
}

function withoutHosts(d: DingtalkSettings | undefined): Credentials['dingtalk'] {
  if (!d) return undefined;
  const { apiBase: _a, oapiBase: _o, ...rest } = d;
  return rest;
}
