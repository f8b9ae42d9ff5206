// Chatter the bot stays quiet on: "谢谢李师傅！", "好的收到", "👍", "早上好". Answering these in a group
// chat would be noise.
import { addressWords, chatterWords, particles } from './lexicon.js';

export function createChatter(personNames: string[]): (line: string) => boolean {
  const words = [...new Set([...chatterWords, ...addressWords, ...personNames.map((n) => n.toLowerCase()), ...particles])].sort(
    (a, b) => b.length - a.length,
  );
  const address = addressWords.filter((w) => w.length > 1);

  /** True when the whole clause is made of chatter words, names and particles (or only emoji). */
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

  /**
   * Chatter as a whole, or chatter first and then nothing the bot could act on
   * ("好的，我马上过去", "谢谢师傅，很及时"). A task number or a command word afterwards is not chatter.
   */
  return (line) => {
    if (isChatter(line)) return true;
    const [first, ...rest] = line.split(/[\s,.;!?~、。…]+/).filter(Boolean);
    return rest.length > 0 && isChatter(first) && !/\d/.test(rest.join(''));
  };
}
