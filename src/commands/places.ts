// Finds the configured place a message talks about. People write class names every which way
// (中二班, 中2班, 中２班, 中貳班, 中二), so each configured name and alias is expanded into its numeral
// variants; the longest match in the text wins ("小一班门口" is 小一班, not 大门).
import type { Config } from '../config/schema.js';
import { normalize } from './normalize.js';
import { createSoundIndex } from './sound.js';

const numeralForms = [
  ['1', '一', '壹'],
  ['2', '二', '贰'],
  ['3', '三', '叁'],
  ['4', '四', '肆'],
  ['5', '五', '伍'],
  ['6', '六', '陆'],
  ['7', '七', '柒'],
  ['8', '八', '捌'],
  ['9', '九', '玖'],
];
const formsOf = new Map(numeralForms.flatMap((forms) => forms.map((f) => [f, forms] as const)));

/** A short name ending in a numeral ("中一") inside "其中一个灯" or "大一点" is not a class. */
const countAfter = /^[个只件台盏张把根块次天点些下样位种\d]/;

export interface PlaceMatch {
  place: string; // canonical name
  index: number;
  length: number;
}

export interface PlaceMatcher {
  /** The best place mentioned in normalized text. */
  match(text: string): PlaceMatch | undefined;
  /** Every place word in normalized text, for removing them when judging what else was said. */
  strip(text: string): string;
}

export function createPlaceMatcher(config: Config): PlaceMatcher {
  const variants = new Map<string, string>();
  for (const p of config.places) {
    const canonical = normalize(p.name);
    for (const name of [p.name, ...p.aliases]) {
      for (const v of numeralVariants(normalize(name))) if (!variants.has(v)) variants.set(v, canonical);
    }
  }
  const byFirst = new Map<string, string[]>();
  for (const w of [...variants.keys()].sort((a, b) => b.length - a.length)) {
    byFirst.set(w[0], [...(byFirst.get(w[0]) ?? []), w]);
  }

  function matchAt(text: string, i: number): string | undefined {
    return byFirst
      .get(text[i])
      ?.find(
        (w) =>
          text.startsWith(w, i) &&
          !(formsOf.has(w.at(-1)!) && (countAfter.test(text.slice(i + w.length)) || text[i - 1] === '其')),
      );
  }

  function exact(text: string): PlaceMatch | undefined {
    let best: PlaceMatch | undefined;
    for (let i = 0; i < text.length; i++) {
      const w = matchAt(text, i);
      if (w && (!best || w.length > best.length)) best = { place: variants.get(w)!, index: i, length: w.length };
    }
    return best;
  }
  // "中儿班", "午睡是", "配电方": a phone's sound-alike of a configured name of three characters or more (two are too
  // easily heard in other words). A correction keeps every character where it was, so the match's index stands.
  const sound = createSoundIndex([...variants.keys()].filter((w) => w.length >= 3));

  return {
    match(text) {
      const found = exact(text);
      if (found) return found;
      const heard = sound.correct(text);
      return heard === text ? undefined : exact(heard);
    },
    strip(text) {
      let out = '';
      for (let i = 0; i < text.length; ) {
        const w = matchAt(text, i);
        out += w ? ' ' : text[i];
        i += w ? w.length : 1;
      }
      return out;
    },
  };
}

/** "中二班" → 中二班, 中2班, 中贰班 (every numeral in every form). */
function numeralVariants(name: string): string[] {
  let out = [''];
  for (const ch of name) {
    const forms = formsOf.get(ch) ?? [ch];
    out = out.flatMap((prefix) => forms.map((f) => prefix + f));
  }
  return out;
}
