// What the parser derives once from the config and hands to every part.
import type { Config } from '../config/schema.js';
import { type Classifier, createClassifier } from './classify.js';
import { createExamples, type Examples } from './messages.js';
import { normalize } from './normalize.js';
import { createPlaceMatcher, type PlaceMatcher } from './places.js';
import { createSoundIndex, type SoundIndex } from './sound.js';
import { faultWords } from './vocabulary/faults.js';
import { symptoms } from './vocabulary/trades.js';

export interface ParseContext {
  places: PlaceMatcher;
  examples: Examples;
  /** Every way a person can be named in a 转单 (name, id, WeCom and DingTalk ids), longest first. */
  personNames: string[];
  /** Trades, faults, urgency and kinds, with the site's own vocabulary. */
  classifier: Classifier;
  /** Sound-alike correction of things and faults (水笼头 → 水龙头). */
  sound: SoundIndex;
}

export function createContext(config: Config): ParseContext {
  const names = config.people.flatMap((p) => [normalize(p.name), p.id, p.wecom, p.dingtalk]);
  const vocabulary = normalizeVocabulary(config.vocabulary);
  const classifier = createClassifier(vocabulary);
  const soundWords = [...classifier.thingWords(), ...faultWords, ...Object.values(symptoms).flat()];
  return {
    places: createPlaceMatcher(config),
    examples: createExamples(config),
    personNames: [...new Set(names.filter((n): n is string => !!n))].sort((a, b) => b.length - a.length),
    classifier,
    sound: createSoundIndex(soundWords),
  };
}

/** The config's words in the parser's normalized form (a site may write them in 繁體 or full width). */
function normalizeVocabulary(v: Config['vocabulary']): Config['vocabulary'] {
  const each = (r: Record<string, string[]> | undefined) =>
    Object.fromEntries(Object.entries(r ?? {}).map(([k, words]) => [k, words.map(normalize)]));
  return { trades: each(v?.trades), kinds: each(v?.kinds) };
}
