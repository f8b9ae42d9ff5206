// What a problem description is about: its trade, whether it is urgent, and (for a sentence with no
// command word) whether it is a report at all and of which kind.
import type { Kind } from '../config/schema.js';
import { cleaningWords, foodSafetyWords, mealWords, notUrgent, problemWords, tradeWords, urgentWords } from './lexicon.js';

const tradeByFirstChar = new Map<string, [string, string | null, 1 | 2][]>();
for (const entry of [...tradeWords].sort((a, b) => b[0].length - a[0].length)) {
  const first = entry[0][0];
  tradeByFirstChar.set(first, [...(tradeByFirstChar.get(first) ?? []), entry]);
}

/** Leftmost-longest reading of the text; the first thing named (tier 1) wins over symptoms (tier 2). */
export function detectTrade(text: string): string | undefined {
  return readTrade(text)?.trade;
}

function readTrade(text: string): { trade: string; tier: 1 | 2 } | undefined {
  const lower = text.toLowerCase();
  const found: { trade: string; tier: 1 | 2 }[] = [];
  for (let i = 0; i < lower.length; ) {
    const entry = tradeByFirstChar.get(lower[i])?.find(([w]) => lower.startsWith(w, i));
    if (!entry) {
      i++;
      continue;
    }
    if (entry[1]) found.push({ trade: entry[1], tier: entry[2] });
    i += entry[0].length;
  }
  return found.find((f) => f.tier === 1) ?? found[0];
}

const has = (text: string, words: string[]) => words.some((w) => text.includes(w));

export function isUrgent(text: string, kind: Kind): boolean {
  const t = notUrgent.reduce((s, w) => s.replaceAll(w, ' '), text);
  return has(t, urgentWords) || (kind === 'meal' && has(t, foodSafetyWords));
}

/**
 * The kind a sentence without a command word reports, or undefined when it reports nothing.
 * A broken named thing is a repair even in the kitchen ("蒸饭柜坏了"); food words make a meal comment
 * unless something is broken ("鱼缸漏水"), but food-safety words always do ("汤里有碎玻璃").
 */
export function detectKind(text: string): Kind | undefined {
  const broken = has(text, problemWords) || isUrgent(text, 'repair');
  if (broken && readTrade(text)?.tier === 1) return 'repair';
  if (has(text, mealWords) && (!broken || has(text, foodSafetyWords))) return 'meal';
  if (!broken && has(text, cleaningWords)) return 'cleaning';
  return broken ? 'repair' : undefined;
}
