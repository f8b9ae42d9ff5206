// One site's YAML: its config, checked exactly as load.ts checks a config file, and its platform credentials (the
// `wecom:` and `dingtalk:` blocks, credentials.ts). Used for each file of a district folder and for the one file of a
// one-site install when it is read as a tenant (tenants.ts).
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { type AccessBlock, credentialsSchema, type DingtalkBlock, type WecomBlock } from './credentials.js';
import { resolveEnvRefs, unsetLines } from './env-refs.js';
import { type Env, formatIssues, readYaml } from './load.js';
import { type Config, configSchema } from './schema.js';

export interface SiteFile {
  config: Config;
  /** The blocks the file gives; either may be absent. */
  credentials: { wecom?: WecomBlock; dingtalk?: DingtalkBlock; access?: AccessBlock };
  /** `${NAME}`s left unset, which leave their feature off (a one-site file only). */
  missingEnv: string[];
}

/**
 * `strict` (a district folder): any unset `${NAME}` stops the start; among hundreds of sites a hole is a deployment
 * mistake, not a choice. Otherwise (the one file) an unset name leaves its feature off as it always has, except in
 * the credentials blocks: they are new, and a site without the credentials it names is never meant.
 */
export function parseSiteFile(text: string, env: Env, file: string, strict: boolean): SiteFile {
  const { value, unset } = resolveEnvRefs(readYaml(text, file), env);
  const fatal = strict ? unset : unset.filter((u) => u.path[0] === 'wecom' || u.path[0] === 'dingtalk');
  if (fatal.length) throw new ConfigError(`unset environment variables in ${file}:\n${unsetLines(fatal).join('\n')}`);
  const config = configSchema.safeParse(value);
  // Not an object at all: configSchema already says so once.
  const credentials =
    value && typeof value === 'object' && !Array.isArray(value) ? credentialsSchema.safeParse(value) : undefined;
  const issues = [...(config.error?.issues ?? []), ...(credentials?.error?.issues ?? [])];
  if (issues.length || !config.success) throw new ConfigError(formatIssues(issues, file));
  return {
    config: config.data,
    credentials: credentials?.data ?? {},
    missingEnv: [...new Set(unset.map((u) => u.name))],
  };
}

/** The file at `file`, read and parsed as above. */
export function readSiteFile(env: Env, file: string, strict: boolean): SiteFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  return parseSiteFile(text, env, file, strict);
}
