// What a problem description is about: its trade, whether it is urgent, and (for a sentence with no
// command word) whether it is a report at all and of which kind.
import type { Kind } from '../config/schema.js';
import {
  cleaningWords,
  foodSafetyWords,
  mealWords,
  notUrgent,
  problemWords,
  tradeWords,
  urgentWords,
} from './lexicon.js';

const tradeByFirstChar = new Map<string, [string, string | null, 1 | 2][]>();
for (const entry of [...tradeWords].sort((a, b) => b[0].length - a[0].length)) {
  const first = entry[0][0];
  tradeByFirstChar.set(first, [...(tradeByFirstChar.get(first) ?? []), entry]);
}

interface Reading {
  trades: { trade: string; tier: 1 | 2 }[];
  /** The text with every lexicon word blanked out: "消毒柜" is a thing, not a request to 消毒. */
  rest: string;
}

/** Leftmost-longest reading of the text against the trade words. */
function read(text: string): Reading {
  const lower = text.toLowerCase();
  const trades: Reading['trades'] = [];
  let rest = '';
  for (let i = 0; i < lower.length; ) {
    const entry = tradeByFirstChar.get(lower[i])?.find(([w]) => lower.startsWith(w, i));
    if (!entry) {
      rest += lower[i++];
      continue;
    }
    if (entry[1]) trades.push({ trade: entry[1], tier: entry[2] });
    rest += entry[2] === 1 ? ' ' : entry[0];
    i += entry[0].length;
  }
  return { trades, rest };
}

/** The first thing named (tier 1) wins over symptoms (tier 2): "空调漏水" → 空调, "厕所门坏了" → 门窗. */
export function detectTrade(text: string): string | undefined {
  const { trades } = read(text);
  return (trades.find((t) => t.tier === 1) ?? trades[0])?.trade;
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
  const { trades, rest } = read(text);
  const broken = has(text, problemWords) || isUrgent(text, 'repair');
  if (broken && trades.some((t) => t.tier === 1)) return 'repair';
  if (has(rest, mealWords) && (!broken || has(rest, foodSafetyWords))) return 'meal';
  if (!broken && has(rest, cleaningWords)) return 'cleaning';
  return broken ? 'repair' : undefined;
}
