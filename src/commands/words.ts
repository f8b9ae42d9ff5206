// A set of words to find inside a text, indexed by first character: one pass over the text instead of one
// `includes` per word (the fault, food and danger lists run to hundreds of words and every message meets them).
export interface WordSet {
  /** True when any word occurs in the text. */
  test(text: string): boolean;
  /** The text with every occurrence of every word replaced by a space (longest word first at each position). */
  blank(text: string): string;
}

export function wordSet(words: readonly string[]): WordSet {
  const byFirst = new Map<string, string[]>();
  for (const w of new Set(words)) {
    if (!w) continue;
    const list = byFirst.get(w[0]) ?? [];
    list.push(w);
    byFirst.set(w[0], list);
  }
  for (const list of byFirst.values()) list.sort((a, b) => b.length - a.length);
  const at = (text: string, i: number) => byFirst.get(text[i])?.find((w) => text.startsWith(w, i));
  return {
    test(text) {
      for (let i = 0; i < text.length; i++) if (byFirst.has(text[i]) && at(text, i)) return true;
      return false;
    },
    blank(text) {
      let out = '';
      let changed = false;
      for (let i = 0; i < text.length; ) {
        const w = byFirst.has(text[i]) ? at(text, i) : undefined;
        if (w) {
          out += ' ';
          i += w.length;
          changed = true;
        } else out += text[i++];
      }
      return changed ? out : text;
    },
  };
}
