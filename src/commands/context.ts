// What the parser derives once from the config and hands to every part.
import type { Config, Kind } from '../config/schema.js';
import { personIds } from '../config/platform-ids.js';
import { type Classifier, createClassifier } from './classify.js';
import { reportWords } from './lexicon.js';
import { createExamples, type Examples } from './messages.js';
import { normalize } from './normalize.js';
import { createPlaceMatcher, type PlaceMatcher } from './places.js';
import { createSoundIndex, type SoundIndex } from './sound.js';
import { cleaningWords, faultWords, mealWords, messWords } from './vocabulary/faults.js';
import { notThings, symptoms } from './vocabulary/trades.js';

export interface ParseContext {
  places: PlaceMatcher;
  examples: Examples;
  /** Every way a person can be named in a 转单 (name, id, each platform id), longest first. */
  personNames: string[];
  /** Trades, faults, urgency and kinds, with the site's own vocabulary. */
  classifier: Classifier;
  /** Sound-alike correction of things and faults (水笼头 → 水龙头). */
  sound: SoundIndex;
  /** The kinds the config adds (运送, 医废收运), their command and detection words normalized. */
  addedKinds: AddedKindWords[];
  /** Command word → kind: the built-in 报修 / 保洁 / 餐评 words and each added kind's `commands`. */
  reportWords: Record<string, Kind>;
}

export interface AddedKindWords {
  id: Kind;
  name: string;
  commands: string[];
  words: string[];
}

export function createContext(config: Config): ParseContext {
  const names = config.people.flatMap((p) => [normalize(p.name), ...personIds(p).map((x) => x.id)]);
  const vocabulary = normalizeVocabulary(config.vocabulary);
  const addedKinds = (config.kinds ?? []).map((k) => ({
    id: k.id,
    name: k.name,
    commands: k.commands.map(normalize).filter(Boolean),
    words: [...k.words, ...(vocabulary.kinds[k.id] ?? [])].map(normalize).filter(Boolean),
  }));
  const classifier = createClassifier({ ...vocabulary, added: addedKinds });
  // Things, faults and the summary words (日抱 → 日报) are worth correcting by sound; task commands are not.
  const soundWords = [
    ...classifier.thingWords(),
    ...faultWords,
    ...Object.values(symptoms).flat(),
    '日报',
    '周报',
    '月报',
    '汇总',
  ];
  return {
    places: createPlaceMatcher(config),
    examples: createExamples(config),
    personNames: [...new Set(names.filter((n): n is string => !!n))].sort((a, b) => b.length - a.length),
    classifier,
    sound: createSoundIndex(soundWords, [...mealWords, ...cleaningWords, ...messWords, ...notThings]),
    addedKinds,
    reportWords: {
      ...reportWords,
      ...Object.fromEntries(addedKinds.flatMap((k) => k.commands.map((c) => [c, k.id]))),
    },
  };
}

/** The config's words in the parser's normalized form (a site may write them in 繁體 or full width). */
function normalizeVocabulary(v: Config['vocabulary']): Config['vocabulary'] {
  const each = (r: Record<string, string[]> | undefined) =>
    Object.fromEntries(Object.entries(r ?? {}).map(([k, words]) => [k, words.map(normalize)]));
  return { trades: each(v?.trades), kinds: each(v?.kinds), examples: v?.examples ?? [] };
}
