// Scores the parser against the hand-labelled corpora in test/fixtures/parse/ (LABELS.md says how a line is
// labelled). Used by `npm run bench:parse` (prints) and test/unit/parse-corpus.test.ts (holds the floor).
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Intent, taskIntentNames } from '../../src/commands/intent.js';
import type { ParseInput, Parser } from '../../src/commands/parser.js';
import { classOf, train } from '../../src/commands/learned.js';
import { normalize } from '../../src/commands/normalize.js';

export const FIXTURES = resolve(import.meta.dirname, '..', '..', 'test', 'fixtures', 'parse');

export interface Labelled {
  text: string;
  from: 'teacher' | 'nurse' | 'worker' | 'manager' | 'director';
  chat: 'group' | 'dm';
  quote?: string;
  cat: string;
  intent: string;
  kind?: string;
  trade?: string;
  place?: string;
  urgent?: boolean;
  task?: number;
  ref?: 'last';
  rating?: number;
  period?: string;
}

export function readCorpus(file: string): Labelled[] {
  return readFileSync(join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as Labelled;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: ${(e as Error).message}`);
      }
    });
}

/** The development corpus: every corpus*.jsonl file (not the held-out one). */
export function devCorpus(): Labelled[] {
  return readdirSync(FIXTURES)
    .filter((f) => /^corpus.*\.jsonl$/.test(f))
    .sort()
    .flatMap(readCorpus);
}

export function inputOf(l: Labelled): ParseInput {
  return { quote: l.quote, roles: [l.from], chat: l.chat };
}

/** A task intent: one that acts on an existing task. */
const taskIntents = new Set<string>(taskIntentNames);

/** Places compare after the parser's own normalization (简体, half-width) and without a trailing 的/里/上/这边. */
function samePlace(a: string | undefined, b: string | undefined): boolean {
  const n = (s: string | undefined) => (s ? normalize(s).replace(/(?:的|里|上|这边|那边)$/, '') : '');
  return n(a) === n(b);
}

export interface FieldScore {
  right: number;
  total: number;
}

export interface Miss {
  line: Labelled;
  got: Intent;
  fields: string[];
}

export interface Score {
  lines: number;
  fields: Record<'intent' | 'kind' | 'place' | 'trade' | 'urgent' | 'task', FieldScore>;
  /** Lines labelled `none` that the parser made a task from (a report it did not ask about, or a task step). */
  chatterToTask: Labelled[];
  byCat: Record<string, FieldScore>;
  misses: Miss[];
}

export function score(parser: Parser, lines: Labelled[]): Score {
  const fields: Score['fields'] = {
    intent: { right: 0, total: 0 },
    kind: { right: 0, total: 0 },
    place: { right: 0, total: 0 },
    trade: { right: 0, total: 0 },
    urgent: { right: 0, total: 0 },
    task: { right: 0, total: 0 },
  };
  const byCat: Record<string, FieldScore> = {};
  const misses: Miss[] = [];
  const chatterToTask: Labelled[] = [];
  for (const l of lines) {
    const got = parser.parse(l.text, inputOf(l));
    const wrong: string[] = [];
    const count = (field: keyof Score['fields'], ok: boolean) => {
      fields[field].total++;
      if (ok) fields[field].right++;
      else wrong.push(field);
    };
    count('intent', got.intent === l.intent);
    if (l.intent === 'report') {
      const isReport = got.intent === 'report';
      count('kind', isReport && got.kind === l.kind);
      count('place', isReport && samePlace(got.place, l.place));
      count('urgent', isReport && !!got.urgent === !!l.urgent);
      if (l.kind === 'repair' && l.trade) count('trade', isReport && got.trade === l.trade);
    }
    if (taskIntents.has(l.intent) && (l.task !== undefined || l.ref)) {
      count('task', got.intent === l.intent && got.task === l.task && got.ref === l.ref);
    }
    if (l.intent === 'none' && ((got.intent === 'report' && !got.unsure) || taskIntents.has(got.intent)))
      chatterToTask.push(l);
    const cat = (byCat[l.cat] ??= { right: 0, total: 0 });
    cat.total++;
    if (!wrong.length) cat.right++;
    else misses.push({ line: l, got, fields: wrong });
  }
  return { lines: lines.length, fields, chatterToTask, byCat, misses };
}

export const pct = (f: FieldScore) => (f.total ? (100 * f.right) / f.total : 100);

export function formatScore(title: string, s: Score): string {
  const rows = Object.entries(s.fields).map(
    ([k, f]) => `  ${k.padEnd(8)} ${pct(f).toFixed(1).padStart(5)} %  (${f.right}/${f.total})`,
  );
  const cats = Object.entries(s.byCat)
    .sort()
    .map(([k, f]) => `  ${k.padEnd(12)} ${pct(f).toFixed(1).padStart(5)} %  (${f.right}/${f.total})`);
  return [
    `${title}: ${s.lines} lines`,
    ...rows,
    `  chatter → task: ${s.chatterToTask.length}`,
    '  lines right in every field, by category:',
    ...cats,
  ].join('\n');
}

/** Where `npm run train:parse` writes the learned second opinion (src/commands/learned.ts). */
export const MODEL_FILE = resolve(import.meta.dirname, '..', '..', 'src', 'commands', 'model', 'intent.json');

/** The learned second opinion trained on the development corpus (never the held-out files). */
export const trainFromCorpus = () => trainOn(devCorpus());

export const trainOn = (lines: Labelled[]) => train(examplesOf(lines));

/** Labelled lines as the model learns them: the normalized text, who sent it, where, the quote, and the class. */
export function examplesOf(lines: Labelled[]) {
  return lines.map((l) => ({
    example: {
      text: normalize(l.text),
      who: l.from,
      chat: l.chat,
      quote: l.quote === undefined ? undefined : normalize(l.quote),
    },
    intent: classOf(l.intent, l.kind),
  }));
}
