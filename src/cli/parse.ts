// `houqin parse [--jsonl]`: messages on stdin, one JSON intent per line on stdout, in order. For trying
// phrasings against a real config and for feeding recorded messages through the parser in bulk.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createParser, type ParseInput } from '../commands/parser.js';
import type { Intent } from '../commands/intent.js';
import { loadSettings } from '../config/load.js';

const usage = `usage: houqin parse [--jsonl]
  Reads one message per line on stdin and prints one JSON intent per line.
  --jsonl   each input line is a JSON string (for multi-line forms: "地点：中二班\\n问题：漏水"), or an object
            {"text": "好了", "quote": "#15 已完工，请验收", "roles": ["teacher"], "chat": "dm"} (a reply by quoting,
            and who sent it: the same words mean 验收 from a teacher and 完工 from a worker)
  The config is $HOUQIN_CONFIG, else config/example.yaml of this package.`;

export async function parseCommand(
  args: string[],
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  env: Record<string, string | undefined>,
): Promise<number> {
  let jsonl = false;
  for (const arg of args) {
    if (arg === '--jsonl') jsonl = true;
    else if (arg === '-h' || arg === '--help') {
      stdout.write(usage + '\n');
      return 0;
    } else {
      process.stderr.write(`houqin parse: unknown argument "${arg}"\n${usage}\n`);
      return 2;
    }
  }

  const parser = createParser(loadSettings(env, env.HOUQIN_CONFIG || packageConfig()).config);
  const lines = createInterface({ input: stdin, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    const out = jsonl ? parseJsonLine(line, n, parser.parse) : safeParse(line, n, parser.parse);
    if (!stdout.write(JSON.stringify(out) + '\n')) await new Promise((resolve) => stdout.once('drain', resolve));
  }
  return 0;
}

const messageSchema = z.object({
  text: z.string(),
  quote: z.string().optional(),
  roles: z.array(z.string()).optional(),
  chat: z.enum(['group', 'dm']).optional(),
});

/** One --jsonl line; a bad line gets an answer in its place so the output stays aligned with the input. */
function parseJsonLine(line: string, n: number, parse: (text: string, input?: ParseInput) => Intent): Intent {
  if (line.trim() === '') return { intent: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { intent: 'none', invalid: true, error: `line ${n}: not valid JSON (${(e as Error).message})` };
  }
  if (typeof value === 'string') return safeParse(value, n, parse);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return {
      intent: 'none',
      invalid: true,
      error: `line ${n}: expected a JSON string, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`,
    };
  const message = messageSchema.safeParse(value);
  if (!message.success)
    return {
      intent: 'none',
      invalid: true,
      error: `line ${n}: expected a JSON string or {text, quote?, roles?, chat?} (${message.error.issues[0]?.message})`,
    };
  const { text, ...input } = message.data;
  return safeParse(text, n, (t) => parse(t, input));
}

/** A parser bug on one message is reported in that message's place; the rest of the input still runs. */
function safeParse(text: string, n: number, parse: (text: string) => Intent): Intent {
  try {
    return parse(text);
  } catch (e) {
    process.stderr.write(`houqin parse: line ${n}: ${(e as Error).stack ?? String(e)}\n`);
    return { intent: 'none', invalid: true, error: `line ${n}: parser failed (${(e as Error).message})` };
  }
}

/** config/example.yaml next to package.json, so the command works from any directory (src/ or dist/). */
function packageConfig(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'config', 'example.yaml');
}
