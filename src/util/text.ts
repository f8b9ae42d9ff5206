// Platform message limits are in UTF-8 bytes (WeCom 2 048 / 4 096, DingTalk msgParam 15 000).

/** Cuts text to a byte budget without splitting a character, ending in "…" when it had to cut. */
export function fitBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (used + n > max - 3) break;
    out += ch;
    used += n;
  }
  return `${out}…`;
}
