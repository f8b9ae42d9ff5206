// What a problem description is about: its trade, whether it is urgent, and (for a sentence with no command word)
// whether it is a report at all and of which kind. The words are data (vocabulary/); a site adds its own through
// the config's `vocabulary:`, so createClassifier takes them. The plain functions use the built-in words only.
import type { Kind } from '../config/schema.js';
import {
  atRisk,
  cannotPattern,
  cleaningWords,
  dangerPairs,
  faultCode,
  faultWords,
  foodSafetyWords,
  foodUrgentWords,
  mealWords,
  messWords,
  notFaults,
  notUrgent,
  repairAsks,
  urgentWords,
} from './vocabulary/faults.js';
import { decisive, notThings, symptoms, things } from './vocabulary/trades.js';
import { memo } from './memo.js';
import { wordSet } from './words.js';

type Entry = [word: string, trade: string | null, tier: 0 | 1 | 2];

export interface Reading {
  /** Trades in the order named; tier 1 is a thing, tier 2 a symptom or a room. */
  trades: { trade: string; tier: 0 | 1 | 2; word: string; index: number; where?: true }[];
  /** The text with every thing blanked out: "消毒柜" is a thing, not a request to 消毒. */
  rest: string;
}

export interface Vocabulary {
  /** Extra thing words per trade. */
  trades?: Record<string, string[]>;
  /** Extra words per kind: for cleaning and meal they count as cleaning or food words; for repair, as faults. */
  kinds?: Record<string, string[]>;
  /**
   * Kinds the site adds (a hospital's 运送, 医废收运), each with the words that make a message that kind when nothing
   * is broken ("5病区有两箱医疗废物要收"); a broken thing stays a repair ("推床的轮子坏了").
   */
  added?: { id: Kind; words: string[] }[];
}

export interface Classifier {
  read(text: string): Reading;
  detectTrade(text: string): string | undefined;
  isUrgent(text: string, kind: Kind): boolean;
  /** Says something is broken: a fault word, a "关不上"-style phrase, a request to repair, or danger. */
  isBroken(text: string): boolean;
  detectKind(text: string): Kind | undefined;
  /** The text with every word the classifier knows (things, faults, food, mess, danger) blanked out. */
  blankKnown(text: string): string;
  /** The text without urgency and haste words: what is left says whether anything is actually wrong. */
  calm(text: string): string;
  /** Every word the classifier knows as a thing (for sound-alike matching). */
  thingWords(): string[];
}

export function createClassifier(vocabulary: Vocabulary = {}): Classifier {
  const entries: Entry[] = [];
  const add = (trade: string | null, tier: 0 | 1 | 2, words: string[]) => {
    for (const w of words) entries.push([w.toLowerCase(), trade, tier]);
  };
  for (const [trade, words] of Object.entries(vocabulary.trades ?? {})) add(trade, 1, words);
  for (const [trade, words] of Object.entries(things)) add(trade, 1, words);
  for (const [trade, words] of Object.entries(decisive)) add(trade, 0, words);
  for (const [trade, words] of Object.entries(symptoms)) add(trade, 2, words);
  add(null, 2, notThings);
  // Leftmost-longest: per first character, longest first; on equal words the site's own come first.
  const byFirst = new Map<string, Entry[]>();
  for (const e of [...entries].sort((a, b) => b[0].length - a[0].length)) {
    const list = byFirst.get(e[0][0]) ?? [];
    if (!list.some((x) => x[0] === e[0])) list.push(e);
    byFirst.set(e[0][0], list);
  }
  const extra = vocabulary.kinds ?? {};
  const faults = wordSet([...faultWords, ...(extra.repair ?? [])]);
  const cleaning = wordSet([...cleaningWords, ...(extra.cleaning ?? [])]);
  const meal = wordSet([...mealWords, ...(extra.meal ?? [])]);
  const added = (vocabulary.added ?? [])
    .filter((k) => k.words.length)
    .map((k) => ({ id: k.id, words: wordSet(k.words.map((w) => w.toLowerCase())) }));

  // The same text is read several times per message (kind, trade, anchors).
  const read = memo(readOnce);

  function readOnce(text: string): Reading {
    const lower = text.toLowerCase();
    const trades: Reading['trades'] = [];
    let rest = '';
    for (let i = 0; i < lower.length; ) {
      const entry = byFirst.get(lower[i])?.find(([w]) => lower.startsWith(w, i));
      if (!entry) {
        rest += lower[i++];
        continue;
      }
      // "天花板上的吊灯", "柜子里的": a thing named only to say where the broken one is.
      const where = entry[2] === 1 && locative.test(lower.slice(i + entry[0].length)) ? true : undefined;
      if (entry[1]) trades.push({ trade: entry[1], tier: entry[2], word: entry[0], index: i, where });
      rest += entry[2] === 1 ? ' ' : entry[0];
      i += entry[0].length;
    }
    return { trades, rest };
  }

  const urgentRepair = memo((text: string) => urgentOnce(text, 'repair'));
  const isUrgent = (text: string, kind: Kind) => (kind === 'repair' ? urgentRepair(text) : urgentOnce(text, kind));

  function urgentOnce(text: string, kind: Kind): boolean {
    const t = calm.blank(text);
    if (urgent.test(t) || shock.test(t)) return true;
    if (kind === 'meal') return foodUrgent.test(t);
    return dangerPairs.some(([thing, state, needsSomeone]) => {
      const m = thing.exec(t);
      if (!m || !state.test(t.slice(0, m.index) + ' ' + t.slice(m.index + m[0].length))) return false;
      return !needsSomeone || atRisk.test(t);
    });
  }

  const isBroken = memo(brokenOnce);

  function brokenOnce(text: string): boolean {
    const t = calmFaults.blank(text);
    return faults.test(t) || cannotPattern.test(t) || faultCode.test(t) || asks.test(t) || isUrgent(text, 'repair');
  }

  return {
    read,
    isUrgent,
    isBroken,
    /** The first thing named (tier 1) wins over symptoms (tier 2): "空调漏水" → 空调, "厕所门坏了" → 门窗. */
    detectTrade(text) {
      if (shock.test(text)) return '电';
      const { trades } = read(text);
      return (
        trades.find((t) => t.tier === 0) ??
        trades.find((t) => t.tier === 1 && !t.where) ??
        trades.find((t) => t.tier === 1) ??
        trades[0]
      )?.trade;
    },
    /**
     * A broken named thing is a repair even in the kitchen ("蒸饭柜坏了"); food words make a meal comment unless
     * something is broken ("鱼缸漏水"), but food-safety words always do ("汤里有碎玻璃"). Cleaning words make a
     * cleaning request unless a thing is broken ("马桶堵了" is a repair, "地上有呕吐物" is cleaning).
     */
    detectKind(text) {
      const { trades, rest } = read(text);
      const thing = trades.some((t) => t.tier <= 1);
      // Faults are read with the things blanked ("消毒柜" is no request to 消毒); danger with them ("插座上全是水").
      const isBrokenHere = () => isBroken(rest) || isUrgent(text, 'repair') || (thing && isBroken(text));
      // A site's own kind by its words ("送标本", "医疗废物"), found in the whole text (推床 is a thing and a 运送
      // word), unless something is broken ("推床的轮子坏了" is a repair).
      const own = added.length ? added.find((k) => k.words.test(text.toLowerCase())) : undefined;
      if (own && !isBrokenHere()) return own.id;
      // A mess decides before anything else, unless something is broken besides the mess words themselves.
      // Food-safety words only count against a mess when the message is about food ("沙池里有碎玻璃" is a mess).
      // "吃完午点有三个孩子吐了": illness after a meal is about the food, not a mess to clean.
      if (ateThenIll.test(text) && !/拖|擦|扫|清理|收拾|保洁/.test(text)) return 'meal';
      const aboutFood = meal.test(rest) && foodSafetyNotVomit.test(rest);
      if (mess.test(rest) && !aboutFood && !faults.test(calmFaults.blank(mess.blank(rest)))) return 'cleaning';
      const broken = isBrokenHere();
      // Food with a food-safety sign is about the food, even with glass in it ("饭里吃出玻璃碴").
      const otherThing = trades.some((t) => t.tier <= 1 && !foodSafety.test(t.word));
      if (meal.test(rest) && foodSafety.test(text) && !otherThing) return 'meal';
      if (broken && thing) return 'repair';
      // "饭不够", "土豆丝太辣了 孩子吃不了": food with no thing named is about the food, whatever the words.
      if (meal.test(rest) && (!broken || !trades.length || foodSafety.test(rest))) return 'meal';
      if (cleaning.test(rest) && !(broken && trades.length)) return 'cleaning';
      return broken ? 'repair' : undefined;
    },
    calm: (text) => urgent.blank(text),
    blankKnown(text) {
      const { trades, rest: things } = read(text);
      const rest = trades.reduce((s, t) => s.replaceAll(t.word, ' '), things);
      const sets = [faults, cleaning, meal, mess, urgent, asks, foodSafety, ...added.map((k) => k.words)];
      return sets.reduce((s, set) => set.blank(s), rest);
    },
    thingWords: () => entries.filter((e) => e[1] && e[2] <= 1).map((e) => e[0]),
  };
}

const calm = wordSet(notUrgent);
const calmFaults = wordSet(notFaults);
const urgent = wordSet(urgentWords);
const foodSafety = wordSet(foodSafetyWords);
const foodUrgent = wordSet(foodUrgentWords);
/** Vomit is a mess to clean; the other food-safety words make a meal complaint. */
const foodSafetyNotVomit = wordSet(foodSafetyWords.filter((w) => w !== '呕吐' && w !== '吐了'));
const mess = wordSet(messWords);
const asks = wordSet(repairAsks);

/** Someone got a shock: "被水龙头电了一下", "洗手时被电到". */
const shock = /被[^,.!?，。！？\s]{0,5}电(?:了|到|一下)/;

const ateThenIll = /吃(?:完|了|过)\S{0,6}\s?\S{0,8}(?:吐了|呕吐|拉肚子|肚子疼|腹痛|过敏|起疹|疹子)/;

const locative = /^(?:上|里|下|旁|边|外|内|顶|底|前|后|对面|附近)(?:面|边|头)?的/;

const builtIn = createClassifier();
export const detectTrade = (text: string) => builtIn.detectTrade(text);
export const isUrgent = (text: string, kind: Kind) => builtIn.isUrgent(text, kind);
/** A food-safety word (头发, 虫, 没熟, 拉肚子 …): a meal score with one goes to the canteen as a task, urgent or not. */
export const mentionsFoodSafety = (text: string) => foodSafety.test(text);
export const detectKind = (text: string) => builtIn.detectKind(text);
