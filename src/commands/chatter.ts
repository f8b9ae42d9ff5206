// Chatter the bot stays quiet on: "谢谢李师傅！", "好的收到", "👍", "早上好". Answering these in a group
// chat would be noise.
import { addressWords, chatterWords, particles } from './lexicon.js';

export interface Chatter {
  /** True when the whole text is made of chatter words, names and particles (or only emoji). */
  isChatter(text: string): boolean;
  afterChatter(line: string): string | undefined;
}

export function createChatter(personNames: string[]): Chatter {
  const words = [
    ...new Set([...chatterWords, ...addressWords, ...personNames.map((n) => n.toLowerCase()), ...particles]),
  ].sort((a, b) => b.length - a.length);
  const address = addressWords.filter((w) => w.length > 1);

  function isChatter(clause: string): boolean {
    const s = clause.toLowerCase().replace(/[\p{P}\p{S}\p{Extended_Pictographic}\s]/gu, '');
    for (let i = 0; i < s.length; ) {
      const w = words.find((word) => s.startsWith(word, i));
      // "谢谢王老师": a surname the roster does not know, before a form of address.
      const named = w ? undefined : address.find((a) => s.startsWith(a, i + 1));
      if (!w && !named) return false;
      i += w ? w.length : 1 + named!.length;
    }
    return true;
  }

  return {
    isChatter,
    /** What follows a chatter clause: "好的，12号我来接" → "12号我来接"; undefined when nothing does. */
    afterChatter(line: string): string | undefined {
      const m = /^(.+?)[\s,.;!?~、。…]+(.+)$/.exec(line);
      return m && isChatter(m[1]) ? m[2] : undefined;
    },
  };
}
