// The site's learned words: an overlay file beside the hand-edited config, written by the console when a manager
// turns a message the bot missed into a report ("门口电子屏黑了" → 电子屏 is 弱电). It holds only `trades:` and
// `kinds:` word lists, merged into the config's `vocabulary:` at start. Path: HOUQIN_VOCABULARY, default
// data/vocabulary.yaml (next to the Redis data `npm start` keeps), so the config file is never rewritten by a program.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Config } from './schema.js';

const word = z.string().trim().min(1).max(20);
const overlaySchema = z
  .object({
    trades: z.record(z.string().min(1), z.array(word)).default({}),
    kinds: z.record(z.string().min(1), z.array(word)).default({}),
  })
  .strict();

export type Overlay = z.infer<typeof overlaySchema>;

export function vocabularyPath(env: Record<string, string | undefined>): string {
  return env.HOUQIN_VOCABULARY || 'data/vocabulary.yaml';
}

/** The overlay, or an empty one when the file does not exist yet. A broken file stops the start with its path. */
export function readOverlay(path: string): Overlay {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { trades: {}, kinds: {} };
  }
  const r = overlaySchema.safeParse(parseYaml(text) ?? {});
  if (!r.success)
    throw new ConfigError(
      `invalid vocabulary overlay ${path}: ${r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  return r.data;
}

/** The config's vocabulary with the overlay's words added (no duplicates). */
export function withOverlay(config: Config, o: Overlay): Config {
  const merge = (a: Record<string, string[]>, b: Record<string, string[]>) => {
    const out: Record<string, string[]> = { ...a };
    for (const [k, words] of Object.entries(b)) out[k] = [...new Set([...(out[k] ?? []), ...words])];
    return out;
  };
  return {
    ...config,
    vocabulary: { trades: merge(config.vocabulary.trades, o.trades), kinds: merge(config.vocabulary.kinds, o.kinds) },
  };
}

/** Adds words under a trade or a kind and writes the file atomically (a half-written overlay would stop the start). */
export function addWords(path: string, to: { trade: string } | { kind: string }, words: string[]): Overlay {
  const o = readOverlay(path);
  const [section, key] = 'trade' in to ? (['trades', to.trade] as const) : (['kinds', to.kind] as const);
  const clean = words.map((w) => w.trim()).filter((w) => w && w.length <= 20);
  o[section][key] = [...new Set([...(o[section][key] ?? []), ...clean])];
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `# Words the managers added from the console's 未识别 list. Merged into the config's vocabulary: at start.\n${stringify(o)}`,
  );
  renameSync(tmp, path);
  return o;
}
