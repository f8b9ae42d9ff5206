// A second opinion learned from examples: a naive Bayes model over the characters of a message (runs of one to three)
// plus who sent it, where, and what it quotes. The rules read a message precisely when its words are known; people
// keep finding new ways to say "师傅在路上了" or "谁拿了三楼的钥匙", and a model trained on a few thousand labelled lines
// recognises the shape of those. It never decides alone: the parser asks it only where the rules found nothing sure
// (parser.ts says where), and a report it suggests is asked about, not opened.
//
// The model is data (model/intent.json), trained by `npm run train:parse` from the development corpora in
// test/fixtures/parse/ — never from the held-out files.
import { readFileSync } from 'node:fs';

export interface Example {
  text: string;
  who: string;
  chat?: string;
  quote?: string;
}

export interface ModelData {
  classes: string[];
  /** Lines per class. */
  lines: number[];
  /** Feature occurrences per class (each feature counted once per line). */
  totals: number[];
  /** feature → [class index, lines with it] pairs, flattened. */
  counts: Record<string, number[]>;
  alpha: number;
}

export interface Opinion {
  intent: string;
  p: number;
  /** For a report: the likeliest kind (the model learns reports as report:repair, report:cleaning …). */
  kind?: string;
}

/** The class a labelled line is learned as: a report with its kind, anything else by its intent. */
export const classOf = (intent: string, kind?: string) => (intent === 'report' && kind ? `report:${kind}` : intent);

/** The text as the model reads it: lower case, every number one digit, spaces collapsed. */
const fold = (text: string) =>
  text
    .toLowerCase()
    .replace(/\d+/g, '0')
    .replace(/[\s\p{Cc}]+/gu, ' ');

/** Marks a feature that is not a run of characters (no folded text holds a control character). */
const META = '\u0001';

/** Who sent it, where, and what it quotes. */
function metaFeatures(e: Example): string[] {
  const f = [e.who, e.chat ?? 'group', e.quote ? 'quote' : 'noquote'];
  if (e.quote && /完工|验收/.test(e.quote)) f.push('quote:done');
  if (e.quote && /接单/.test(e.quote)) f.push('quote:claim');
  return f.map((x) => META + x);
}

/** The one role the model knows a sender by (it was trained on one role per line). */
export function primaryRole(roles: readonly string[] | undefined): (typeof modelRoles)[number] {
  return modelRoles.find((r) => roles?.includes(r)) ?? 'teacher';
}
const modelRoles = ['director', 'manager', 'worker', 'nurse', 'teacher'] as const;

/** What the model looks at: the meta features and every run of one to three characters, each once. */
export const features = (e: Example): string[] => [...featureSet(e)];

function featureSet(e: Example): Set<string> {
  const f = new Set<string>(metaFeatures(e));
  const s = `^${fold(e.text)}$`;
  for (let n = 1; n <= 3; n++) for (let i = 0; i + n <= s.length; i++) f.add(s.slice(i, i + n));
  return f;
}

export function train(examples: { example: Example; intent: string }[], alpha = 0.1): ModelData {
  const classes = [...new Set(examples.map((e) => e.intent))].sort();
  const ix = new Map(classes.map((c, i) => [c, i]));
  const lines = classes.map(() => 0);
  const totals = classes.map(() => 0);
  const byFeature = new Map<string, number[]>();
  for (const { example, intent } of examples) {
    const c = ix.get(intent)!;
    lines[c]++;
    for (const f of features(example)) {
      const row = byFeature.get(f) ?? classes.map(() => 0);
      row[c]++;
      totals[c]++;
      byFeature.set(f, row);
    }
  }
  const counts: Record<string, number[]> = {};
  for (const [f, row] of [...byFeature].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // A feature seen once says little and would make the model file several times larger.
    if (row.reduce((a, b) => a + b, 0) < 2) continue;
    counts[f] = row.flatMap((n, c) => (n ? [c, n] : []));
  }
  return { classes, lines, totals, counts, alpha };
}

interface Lift {
  classes: Uint8Array;
  lifts: Float64Array;
  /** The judgement that last counted this feature. */
  seen: number;
}

/** One to three UTF-16 codes as one number: 1 + c1, then ×65536 + c2 … (the 1 keeps "a" and "\0a" apart). */
function runKey(s: string, from: number, n: number): number {
  let key = 1;
  for (let i = from; i < from + n; i++) key = key * 65536 + s.charCodeAt(i);
  return key;
}

export interface IntentModel {
  /** The classes by probability, most likely first. */
  judge(e: Example): Opinion[];
}

export function loadModel(data: ModelData): IntentModel {
  const k = data.classes.length;
  const vocabulary = Object.keys(data.counts).length;
  const all = data.lines.reduce((a, b) => a + b, 0);
  const prior = data.lines.map((n) => Math.log(n / all));
  const denominators = data.totals.map((t) => Math.log(t + data.alpha * vocabulary));
  const unseen = denominators.map((d) => Math.log(data.alpha) - d);
  // Per feature, the log-likelihood it adds to each class beyond "unseen in this class", and the judgement that last
  // counted it: a run met twice in one message counts once, as in training, without building a set per message.
  // Runs of characters are keyed by their UTF-16 codes packed into one number (three codes fit in 48 bits), so
  // judging a message cuts no strings.
  const meta = new Map<string, Lift>();
  const runs = new Map<number, Lift>();
  for (const [f, pairs] of Object.entries(data.counts)) {
    // Only the classes the feature was seen in: most runs of characters belong to a few, so a message adds a few
    // numbers per run instead of one per class.
    const classes = new Uint8Array(pairs.length / 2);
    const lifts = new Float64Array(pairs.length / 2);
    for (let i = 0; i < pairs.length; i += 2) {
      const c = pairs[i];
      classes[i / 2] = c;
      lifts[i / 2] = Math.log(pairs[i + 1] + data.alpha) - denominators[c] - unseen[c];
    }
    const lift = { classes, lifts, seen: 0 };
    if (f[0] === META) meta.set(f, lift);
    else runs.set(runKey(f, 0, f.length), lift);
  }
  // Reports of every kind count together as "report"; the kind is the likeliest of them.
  const split = data.classes.map((c) => c.split(':') as [string, string | undefined]);
  const intents = [...new Set(split.map(([i]) => i))];
  const intentOf = split.map(([i]) => intents.indexOf(i));
  let judgement = 0;

  function judge(e: Example): Opinion[] {
    const score = Float64Array.from(prior);
    const gen = ++judgement;
    let known = 0;
    const count = (hit: Lift | undefined) => {
      if (!hit || hit.seen === gen) return;
      hit.seen = gen;
      known++;
      for (let j = 0; j < hit.classes.length; j++) score[hit.classes[j]] += hit.lifts[j];
    };
    for (const f of metaFeatures(e)) count(meta.get(f));
    const s = `^${fold(e.text)}$`;
    for (let n = 1; n <= 3; n++) for (let i = 0; i + n <= s.length; i++) count(runs.get(runKey(s, i, n)));
    let top = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      score[c] += known * unseen[c];
      top = Math.max(top, score[c]);
    }
    let z = 0;
    for (let c = 0; c < k; c++) {
      score[c] = Math.exp(score[c] - top);
      z += score[c];
    }
    const p = new Float64Array(intents.length);
    const kind: (string | undefined)[] = [];
    const best = new Float64Array(intents.length);
    for (let c = 0; c < k; c++) {
      const i = intentOf[c];
      p[i] += score[c] / z;
      if (split[c][1] && score[c] > best[i]) [kind[i], best[i]] = [split[c][1], score[c]];
    }
    return intents
      .map((intent, i) => (kind[i] ? { intent, p: p[i], kind: kind[i] } : { intent, p: p[i] }))
      .sort((a, b) => b.p - a.p);
  }

  return { judge };
}

/**
 * The model with a site's own examples learned on top (a manager's answers in the console's 未识别 list). Naive Bayes
 * is counts, so this is addition; each example counts `weight` times, as a manager's word on the site's own way of
 * writing is worth more than one line from another school.
 */
export function withExamples(data: ModelData, examples: { example: Example; intent: string }[], weight = 3): ModelData {
  const classes = [...new Set([...data.classes, ...examples.map((e) => e.intent)])].sort();
  const from = data.classes.map((c) => classes.indexOf(c));
  const lines = classes.map(() => 0);
  const totals = classes.map(() => 0);
  data.classes.forEach((_, c) => {
    lines[from[c]] = data.lines[c];
    totals[from[c]] = data.totals[c];
  });
  const rows = new Map<string, number[]>();
  for (const [f, pairs] of Object.entries(data.counts)) {
    const row = classes.map(() => 0);
    for (let i = 0; i < pairs.length; i += 2) row[from[pairs[i]]] = pairs[i + 1];
    rows.set(f, row);
  }
  for (const { example, intent } of examples) {
    const c = classes.indexOf(intent);
    lines[c] += weight;
    for (const f of features(example)) {
      const row = rows.get(f) ?? classes.map(() => 0);
      row[c] += weight;
      totals[c] += weight;
      rows.set(f, row);
    }
  }
  const counts: Record<string, number[]> = {};
  for (const [f, row] of rows) counts[f] = row.flatMap((n, c) => (n ? [c, n] : []));
  return { classes, lines, totals, counts, alpha: data.alpha };
}

let shipped: ModelData | undefined;
let builtIn: IntentModel | undefined;

/** The model data shipped with the code (model/intent.json), read once. */
export function builtInData(): ModelData {
  shipped ??= JSON.parse(readFileSync(new URL('./model/intent.json', import.meta.url), 'utf8')) as ModelData;
  return shipped;
}

/** The model shipped with the code, loaded once. */
export function builtInModel(): IntentModel {
  builtIn ??= loadModel(builtInData());
  return builtIn;
}
