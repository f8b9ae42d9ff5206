// The site's learned words: an overlay file beside the hand-edited config, written by the console when a manager
// turns a message the bot missed into a report ("门口电子屏黑了" → 电子屏 is 弱电). It holds `trades:` and `kinds:`
// word lists and `examples:` (whole messages with what they meant, which the parser's learned second opinion learns),
// merged into the config's `vocabulary:` at start. Path: HOUQIN_VOCABULARY, default
// data/vocabulary.yaml (next to the Redis data `npm start` keeps), so the config file is never rewritten by a program.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type Config, vocabularyExample } from './schema.js';

const word = z.string().trim().min(1).max(20);
const overlaySchema = z
  .object({
    trades: z.record(z.string().min(1), z.array(word)).default({}),
    kinds: z.record(z.string().min(1), z.array(word)).default({}),
    examples: z.array(vocabularyExample).default([]),
  })
  .strict();

/** The most examples the overlay keeps: the oldest go first (a site's way of writing drifts). */
export const MAX_EXAMPLES = 2000;

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
    return { trades: {}, kinds: {}, examples: [] };
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
    vocabulary: {
      trades: merge(config.vocabulary.trades, o.trades),
      kinds: merge(config.vocabulary.kinds, o.kinds),
      examples: [...config.vocabulary.examples, ...o.examples],
    },
  };
}

/** Adds words under a trade or a kind and writes the file atomically (a half-written overlay would stop the start). */
export function addWords(path: string, to: { trade: string } | { kind: string }, words: string[]): Overlay {
  const o = readOverlay(path);
  const [section, key] = 'trade' in to ? (['trades', to.trade] as const) : (['kinds', to.kind] as const);
  const clean = words.map((w) => w.trim()).filter((w) => w && w.length <= 20);
  o[section][key] = [...new Set([...(o[section][key] ?? []), ...clean])];
  write(path, o);
  return o;
}

/** Keeps a message with what a manager said it meant; the same text again replaces the earlier answer. */
export function addExample(path: string, e: Overlay['examples'][number]): Overlay {
  const o = readOverlay(path);
  const text = e.text.trim().slice(0, 500);
  o.examples = [...o.examples.filter((x) => x.text !== text), { ...e, text }].slice(-MAX_EXAMPLES);
  write(path, o);
  return o;
}

function write(path: string, o: Overlay): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `# What the managers taught the bot from the console's 未识别 list. Merged into the config's vocabulary: at start.\n${stringify(o)}`,
  );
  renameSync(tmp, path);
}
