// One canonical form of a chat message before any matching: half-width, simplified Chinese, tidy spaces.
// Everything downstream (lexicon, places, numbers) assumes this form, and so do the config names it is
// compared with.
import { Converter } from 'opencc-js/t2cn';

// Messages arrive in both Taiwan and Hong Kong variants (copied from notices, typed on HK phones);
// each converter only knows its own variant characters, so both run. The package's .d.ts imports
// './core' without an extension, which NodeNext cannot follow, so the function type is spelled out here.
const twToCn: (text: string) => string = Converter({ from: 'tw', to: 'cn' });
const hkToCn: (text: string) => string = Converter({ from: 'hk', to: 'cn' });

/** Zero-width characters and emoji variation selectors that phones insert and that break exact matching. */
const invisible = /[\u200b-\u200d\u2060\ufeff]|\ufe0e|\ufe0f/g;

// Every reader of a message (checklist answers, meal scores, the command parser) normalizes its text, four times
// per message in all; the 繁→简 conversion is the dear part. The last few results are kept.
const recent = new Map<string, string>();
const keep = 256;

/**
 * Full-width → half-width (NFKC: "＃１２" → "#12", "：" → ":", U+3000 and WeCom's U+2005 → " "),
 * 繁體 → 简体, spaces collapsed, empty lines dropped, and a leading "@name " mention removed
 * (the channel should strip the bot mention already; a copy-pasted one must not hide the command).
 * Lines are kept: multi-line forms need them.
 */
export function normalize(text: string): string {
  const hit = recent.get(text);
  if (hit !== undefined) return hit;
  const out = normalizeOnce(text);
  if (recent.size >= keep) recent.delete(recent.keys().next().value!);
  recent.set(text, out);
  return out;
}

/** Characters the 繁→简 converters would change; most messages have none, and then the dear conversion is skipped. */
const changes = new Map<string, boolean>();
function traditional(text: string): boolean {
  for (const ch of text) {
    let c = changes.get(ch);
    if (c === undefined) {
      c = ch.charCodeAt(0) >= 0x2e80 && (twToCn(ch) !== ch || hkToCn(ch) !== ch);
      changes.set(ch, c);
    }
    if (c) return true;
  }
  return false;
}

function normalizeOnce(text: string): string {
  const plain = text.normalize('NFKC').replace(invisible, '');
  // Phrase-level conversion (乾淨 vs 乾隆) needs the whole text, so a message with any such character goes whole.
  const simplified = traditional(plain) ? hkToCn(twToCn(plain)) : plain;
  const lines = simplified
    .split(/\r\n|\r|\n/)
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '');
  if (lines.length && lines[0].startsWith('@')) {
    lines[0] = lines[0].replace(/^@\S*\s*/, '');
    if (lines[0] === '') lines.shift();
  }
  return lines.join('\n');
}

/** Separators and sentence ends people put around values: "完工 12，换了灯管。" → "换了灯管". */
export function trimPunct(s: string): string {
  return s.replace(/^[\s,.;:!?~、。…—-]+/, '').replace(/[\s,.;:!?~、。…]+$/, '');
}
