// The same text goes through the same question several times while one message is parsed (is it broken, is it
// urgent, what does it sound like): keep the last few answers. Small and bounded; insertion order evicts the oldest.
export function memo<R>(f: (text: string) => R, keep = 32): (text: string) => R {
  const recent = new Map<string, R>();
  return (text) => {
    if (recent.has(text)) return recent.get(text) as R;
    const r = f(text);
    if (recent.size >= keep) recent.delete(recent.keys().next().value!);
    recent.set(text, r);
    return r;
  };
}
