// Sound-alike words from phone input methods: 水笼头 for 水龙头, 网落 for 网络, 马捅 for 马桶, 露水 for 漏水. A
// pinyin IME offers every character with the right sound, and a fast thumb picks the wrong one. Each known word
// is indexed by its syllables (pinyin-pro, tones dropped, every reading of a character), and a span of the message
// that sounds like a known word and shares at least one character with it is read as that word.
import { pinyin } from 'pinyin-pro';
import { memo } from './memo.js';

const readingsCache = new Map<string, string[]>();

/** Every toneless reading of one character ("露" → lu, lou); empty for anything that is not a Han character. */
function readings(ch: string): string[] {
  let r = readingsCache.get(ch);
  if (r === undefined) {
    r = /\p{Script=Han}/u.test(ch)
      ? [...new Set(pinyin(ch, { toneType: 'none', type: 'array', multiple: true }).map(loose))]
      : [];
    readingsCache.set(ch, r);
  }
  return r;
}

/** Fuzzy pinyin as many phone IMEs allow it: zh/z, ch/c, sh/s, n/l, and -ng/-n are typed alike. */
function loose(s: string): string {
  return s
    .replace(/^([zcs])h/, '$1')
    .replace(/^n/, 'l')
    .replace(/([aei])ng$/, '$1n');
}

export interface SoundIndex {
  /** The text with sound-alike spans replaced by the known word; the same string when nothing matched. */
  correct(text: string): string;
}

/**
 * `words` are what a span may be corrected to; `asWritten` are more words that are right as they stand and must not be
 * corrected or reached into (水果 is not 滴水 + 果).
 */
export function createSoundIndex(words: string[], asWritten: string[] = []): SoundIndex {
  // Only words of two or more Han characters: one character has too many sound-alikes to guess from.
  const byFirst = new Map<string, { word: string; sylls: string[] }[]>();
  /** Words known as written, and per first character the longest such word. */
  const known = new Set<string>();
  const longest = new Map<string, number>();
  const addKnown = (word: string) => {
    known.add(word);
    longest.set(word[0], Math.max(longest.get(word[0]) ?? 0, word.length));
  };
  for (const word of [...everyday, ...asWritten]) {
    if (word.length >= 2) addKnown(word);
  }
  for (const word of new Set(words)) {
    if (word.length < 2 || !/^\p{Script=Han}+$/u.test(word)) continue;
    addKnown(word);
    // The word's own reading in context (多音字: 重 in 重新 is chong), then loosened.
    const sylls = pinyin(word, { toneType: 'none', type: 'array' }).map(loose);
    const list = byFirst.get(sylls[0]) ?? [];
    list.push({ word, sylls });
    byFirst.set(sylls[0], list);
  }
  for (const list of byFirst.values()) list.sort((a, b) => b.word.length - a.word.length);

  function matchAt(text: string, i: number, covered: Uint8Array): string | undefined {
    // The first character's own reading must start some word (a slip there is not corrected: too many guesses).
    for (const first of readings(text[i])) {
      for (const { word, sylls } of byFirst.get(first) ?? []) {
        if (i + word.length > text.length) continue;
        // Cheap rejects first: a sound-alike shares a character with the word at the same place, and reaches into
        // no word known as written.
        let shares = false;
        let free = true;
        for (let j = 0; j < word.length && free; j++) {
          // A shared 了 or 不 says nothing: "没扫了" must not become 烧了, "汇演了" not 淹了.
          if (text[i + j] === word[j] && !glue.has(word[j])) shares = true;
          free = covered[i + j] === 0;
        }
        if (!shares || !free) continue;
        let same = 0;
        let ok = true;
        for (let j = 0; j < word.length && ok; j++) {
          const ch = text[i + j];
          if (ch === word[j]) same++;
          else ok = j === 0 || readings(ch).includes(sylls[j]);
        }
        if (ok && same > 0 && same < word.length) return word;
      }
    }
    return undefined;
  }

  return { correct: memo(correct) };

  function correct(text: string): string {
    // Characters inside a word we know as written (a thing, a fault, a common word) are never corrected, and no
    // sound-alike may reach into one: "楼电梯" is not "漏电" + "梯", "地点" is not "地垫".
    const covered = new Uint8Array(text.length);
    let any = false;
    for (let i = 0; i < text.length; i++) {
      const w = knownAt(text, i);
      if (w) covered.fill(1, i, i + w.length);
      else if (readings(text[i]).length) any = true;
    }
    if (!any) return text;
    let out = '';
    let changed = false;
    for (let i = 0; i < text.length; ) {
      let w = covered[i] ? undefined : matchAt(text, i, covered);
      // A slip on the first character loses to one that starts right inside the same span: "楼电悌" is 楼 + 电梯,
      // not 漏电 + 悌.
      if (w && w[0] !== text[i] && startsRightInside(text, i, w.length, covered)) w = undefined;
      if (w) {
        out += w;
        i += w.length;
        changed = true;
      } else out += text[i++];
    }
    return changed ? out : text;
  }

  function startsRightInside(text: string, i: number, length: number, covered: Uint8Array): boolean {
    for (let j = i + 1; j < i + length; j++) {
      const w = covered[j] ? undefined : matchAt(text, j, covered);
      if (w && w[0] === text[j]) return true;
    }
    return false;
  }

  function knownAt(text: string, i: number): string | undefined {
    for (let len = Math.min(longest.get(text[i]) ?? 0, text.length - i); len >= 2; len--) {
      const s = text.slice(i, i + len);
      if (known.has(s)) return s;
    }
    return undefined;
  }
}

/** Characters too common to show that a span was meant as a word that has them. */
const glue = new Set('了的一不没有是在个着过吗呢吧很太又也都就还');

/** Everyday words that sound like a thing or a fault and must stay what they are. */
const everyday = [
  '地点',
  '电话',
  '时候',
  '时间',
  '东西',
  '问题',
  '一点',
  '有点',
  '地方',
  '点名',
  '一下',
  '下面',
  '上面',
  '里面',
  '老师',
  '师傅',
  '孩子',
  '今天',
  '明天',
  '昨天',
  '现在',
  '已经',
  '知道',
  '事情',
  '房间',
  '位置',
  '水平',
  '电影',
  '点心',
  '小时',
  '大家',
];
