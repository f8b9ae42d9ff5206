// `--site <id>`: which site of a district a command is about. A one-site install needs none; in a district folder the
// commands that read one site's data ask for it rather than guess.
import { loadSettings, type Env, type Settings } from '../config/load.js';
import type { SiteSettings } from '../config/sites.js';
import { ConfigError } from '../errors.js';
import { defaultConfigPath } from './paths.js';

export interface PickedSite {
  settings: Settings;
  site: SiteSettings;
  /** The site's key prefix (store/layout.ts). */
  prefix: string;
  /** The command's own arguments, without --site. */
  args: string[];
}

/** Takes `--site ID` / `--site=ID` out of the arguments. */
export function siteOption(args: string[]): { id?: string; args: string[] } {
  const rest: string[] = [];
  let id: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split('=', 2) as [string, string | undefined];
    if (flag === '--site') id = inline ?? args[++i] ?? '';
    else rest.push(args[i]);
  }
  return { id, args: rest };
}

export function pickSite(settings: Settings, id: string | undefined): SiteSettings {
  const ids = settings.sites.map((s) => s.id);
  if (id === undefined) {
    if (settings.sites.length === 1) return settings.sites[0];
    throw new ConfigError(
      `${settings.configPath} is a district of ${ids.length} sites: say which with --site (${list(ids)})`,
    );
  }
  const site = settings.sites.find((s) => s.id === id);
  if (!site) throw new ConfigError(`no site "${id}" in ${settings.configPath} (sites: ${list(ids)})`);
  return site;
}

export function loadSite(env: Env, args: string[]): PickedSite {
  const settings = loadSettings(env, env.HOUQIN_CONFIG || defaultConfigPath());
  const o = siteOption(args);
  const site = pickSite(settings, o.id);
  return { settings, site, prefix: settings.layout.site(site.id), args: o.args };
}

function list(ids: string[]): string {
  return ids.length > 12 ? `${ids.slice(0, 12).join(', ')} … ${ids.length - 12} more` : ids.join(', ');
}
