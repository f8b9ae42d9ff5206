// The kinds of work a site has: the built-in three (报修, 保洁, 餐评) and those its config adds under `kinds:` (a
// hospital's 运送, 医废收运). Whatever counts or shows kinds — the digest, the ledger, the console, the bot's texts —
// takes the list and the names from here.
import { builtInKindNames, builtInKinds, type Config, type Kind } from '../config/schema.js';

export interface KindInfo {
  id: Kind;
  /** What the bot calls it: 报修, 保洁, 餐评, 运送 … */
  name: string;
}

export const builtInKindList: readonly KindInfo[] = builtInKinds.map((id) => ({ id, name: builtInKindNames[id] }));

/** The built-in kinds, then the config's own, in the order written. */
export function kindsOf(config: Pick<Config, 'kinds'>): KindInfo[] {
  return [...builtInKindList, ...(config.kinds ?? []).map((k) => ({ id: k.id, name: k.name }))];
}

/**
 * Every kind name a loaded config gave, by id, for the texts that name a task's kind without the config at hand
 * (`#12 运送【5病区】…`). Filled by the Roster from its config; a kind id names one kind across the process.
 */
export const kindLabel: Record<Kind, string> = { ...builtInKindNames };

export function nameKinds(kinds: readonly KindInfo[]): void {
  for (const k of kinds) kindLabel[k.id] = k.name;
}

/** The name of a kind; an id no loaded config knows (a kind since removed) is shown as it is. */
export function kindName(id: Kind): string {
  return kindLabel[id] ?? id;
}
