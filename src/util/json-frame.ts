// A text frame off a long connection (DingTalk Stream, WeCom's AI bot): JSON of a known shape, or undefined with one
// warning saying which it was not. A bad frame is ignored, never fatal: the connection goes on.
import type { z } from 'zod';

type Warn = (fields: Record<string, unknown>, msg: string) => void;

export function readJsonFrame<T>(text: string, schema: z.ZodType<T>, warn: Warn, what: string): T | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    warn({ bytes: text.length }, `${what} is not JSON; ignored`);
    return undefined;
  }
  const r = schema.safeParse(parsed);
  if (r.success) return r.data;
  warn({ problem: r.error.issues[0]?.message }, `${what} of an unknown shape; ignored`);
  return undefined;
}
