// district.yaml, beside the site files of a district folder: the bureau (教育局, a hospital group) over the sites, its
// own staff, and which sites it oversees. The district's view reads it (src/domain/district/): the weekly 区域汇总
// to its people and `houqin export --district` over its sites.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { resolveEnvRefs, unsetLines } from './env-refs.js';
import { type Env, formatIssues, readYaml } from './load.js';
import { TENANT_ID, tenantIdRule } from './tenant-id.js';

const districtPerson = z
  .object({
    name: z.string().min(1),
    wecom: z.string().min(1).optional(), // WeCom userid
    dingtalk: z.string().min(1).optional(), // DingTalk staffId
    // `district`: the bureau's staff who get the district's summaries. A list, so that later roles fit beside it.
    roles: z.array(z.enum(['district'])).min(1),
  })
  .strict();

// Strict, unlike a site file: a misspelt `site:` would silently widen the bureau's view to every site.
const districtSchema = z
  .object({
    name: z.string().min(1),
    people: z.array(districtPerson).default([]),
    sites: z.array(z.string().regex(TENANT_ID, tenantIdRule)).optional(), // absent: every site of the folder
  })
  .strict();

export type DistrictPerson = z.infer<typeof districtPerson>;

export interface District {
  name: string;
  people: DistrictPerson[];
  /** The tenant ids it covers, every site of the folder unless the file lists some. */
  sites: string[];
}

/** district.yaml's text, checked against the folder's site ids (`siteIds`). */
export function parseDistrict(text: string, env: Env, file: string, siteIds: string[]): District {
  const { value, unset } = resolveEnvRefs(readYaml(text, file), env);
  if (unset.length) throw new ConfigError(`unset environment variables in ${file}:\n${unsetLines(unset).join('\n')}`);
  const r = districtSchema.safeParse(value);
  if (!r.success) throw new ConfigError(formatIssues(r.error.issues, file));
  const known = new Set(siteIds);
  const seen = new Set<string>();
  const problems: string[] = [];
  r.data.sites?.forEach((id, i) => {
    if (!known.has(id))
      problems.push(`  sites[${i}]: no site "${id}" in the folder (no ${id}.yaml or ${id}.yml beside this file)`);
    else if (seen.has(id)) problems.push(`  sites[${i}]: "${id}" is listed twice`);
    seen.add(id);
  });
  for (const platform of ['wecom', 'dingtalk'] as const) {
    const ids = new Map<string, number>();
    r.data.people.forEach((p, i) => {
      const id = p[platform];
      if (id === undefined) return;
      if (ids.has(id))
        problems.push(`  people[${i}].${platform}: "${id}" is also people[${ids.get(id)}]'s ${platform} id`);
      else ids.set(id, i);
    });
  }
  if (problems.length) throw new ConfigError(`invalid district in ${file}:\n${problems.join('\n')}`);
  return { name: r.data.name, people: r.data.people, sites: r.data.sites ?? [...siteIds] };
}
