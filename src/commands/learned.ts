// A second opinion learned from examples, over the characters of a message (runs of one to three) plus who sent it,
// where, and what it quotes. The rules read a message precisely when its words are known; people keep finding new ways
// to say "师傅在路上了" or "谁拿了三楼的钥匙", and a model trained on a few thousand labelled lines recognises the shape
// of those. It never decides alone: the parser asks it only where the rules found nothing sure (second-opinion.ts says
// where), and a report it suggests is asked about, not opened.
//
// Two models read the same features, and the judgement is seven parts of one to three of the other:
// - a multinomial logistic regression (softmax, L2): the weights that make the training lines' classes likeliest, all
//   features weighed together;
// - multinomial naive Bayes (the second opinion alone before): counts, each feature on its own, and sure of everything.
// Chosen by five-fold cross-validation on the development corpus (`npm run bench:parse -- --dev --cv`, bench/README.md):
// naive Bayes alone at its thresholds read intent 95.3 %, chatter → task 117 (kind 96.8, place 94.7, trade 93.3,
// urgent 94.8, task 95.7); the logistic regression alone 95.7 % and 97, but silenced more real reports; the mix
// 96.0 % and 93 (97.0, 94.8, 93.6, 95.0, 96.0), at or above naive Bayes in every field.
//
// The model is data (model/intent.json), trained by `npm run train:parse` from the development corpora in
// test/fixtures/parse/ — never from the held-out files.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface Example {
  text: string;
  who: string;
  chat?: string;
  quote?: string;
}

export interface ModelData {
  /** The classes both models learned: an intent, or report:kind. */
  classes: string[];
  /** The share of naive Bayes in a judgement; the rest is the logistic regression's. */
  mix: number;
  logistic: Logistic;
  bayes: Bayes;
  /** What it was trained on: a hash of every line's class and features, and of the training options. */
  trainedOn: string;
}

export interface Logistic {
  /** Per class, its score before any feature is counted. */
  bias: number[];
  /**
   * feature → [training lines with it, then (class index, weight) pairs], flattened. A feature adds its weights to its
   * classes' scores. Adding one number to every class's weight of a feature changes no probability, so each feature's
   * weights are shifted to make the middle class 0, and weights under 0.03 (the cross-validated figures moved by a line or two
   * when they went) are left out: most features keep weights for a few classes.
   */
  weights: Record<string, number[]>;
  /** The L2 penalty per line it was trained with (withExamples holds its changes to the same). */
  lambda: number;
  /** Lines it was trained on. */
  lines: number;
}

export interface Bayes {
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

export interface TrainOptions {
  /** The logistic regression's L2 penalty per line (chosen by five-fold cross-validation on the development corpus). */
  lambda?: number;
  /** Its L-BFGS iterations at most (the objective stops moving after about 150 on the development corpus). */
  iterations?: number;
  /** Naive Bayes's share of a judgement (chosen by the same cross-validation). */
  mix?: number;
}

export const trainingDefaults: Required<TrainOptions> = { lambda: 1e-5, iterations: 200, mix: 0.3 };

type Labelled = { example: Example; intent: string };

/** Both models, trained on the same lines. */
export function train(examples: Labelled[], options: TrainOptions = {}): ModelData {
  const o = { ...trainingDefaults, ...options };
  const classes = [...new Set(examples.map((e) => e.intent))].sort();
  const lines = examples.map((e) => features(e.example));
  const ys = examples.map((e) => classes.indexOf(e.intent));
  return {
    classes,
    mix: o.mix,
    logistic: trainLogistic(lines, ys, classes.length, o),
    bayes: trainBayes(lines, ys, classes.length),
    trainedOn: trainedOn(examples, o),
  };
}

/**
 * A hash of what training reads (every line's class and features) and of its options: the shipped model is the one
 * the development corpus trains while this is the hash of that corpus (training takes a minute, the hash a second).
 */
export function trainedOn(examples: Labelled[], options: Required<TrainOptions>): string {
  const hash = createHash('sha256').update(JSON.stringify(options));
  for (const e of examples) hash.update(`${e.intent}\t${features(e.example).join('\u0002')}\n`);
  return hash.digest('hex').slice(0, 16);
}

const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const round = (w: number) => Math.round(w * 1000) / 1000;

/** The features of two lines or more, in code order (a feature seen once says little, and would swell the file). */
function vocabularyOf(lines: string[][]): { vocabulary: string[]; seen: Map<string, number> } {
  const seen = new Map<string, number>();
  for (const line of lines) for (const f of line) seen.set(f, (seen.get(f) ?? 0) + 1);
  const vocabulary = [...seen]
    .filter(([, n]) => n >= 2)
    .map(([f]) => f)
    .sort(byCode);
  return { vocabulary, seen };
}

function trainBayes(lines: string[][], ys: number[], k: number, alpha = 0.1): Bayes {
  const { vocabulary } = vocabularyOf(lines);
  const rows = new Map(vocabulary.map((f) => [f, new Array<number>(k).fill(0)]));
  const perClass = new Array<number>(k).fill(0);
  const totals = new Array<number>(k).fill(0);
  lines.forEach((line, r) => {
    perClass[ys[r]]++;
    for (const f of line) {
      totals[ys[r]]++;
      const row = rows.get(f);
      if (row) row[ys[r]]++;
    }
  });
  const counts: Record<string, number[]> = {};
  for (const [f, row] of rows) counts[f] = row.flatMap((n, c) => (n ? [c, n] : []));
  return { lines: perClass, totals, counts, alpha };
}

/**
 * Multinomial logistic regression with an L2 penalty, trained by L-BFGS from all-zero weights for a fixed number of
 * iterations: the same lines give the same model, byte for byte.
 */
function trainLogistic(lines: string[][], ys: number[], k: number, o: Required<TrainOptions>): Logistic {
  const { vocabulary, seen } = vocabularyOf(lines);
  const index = new Map(vocabulary.map((f, i) => [f, i]));
  const rows = lines.map((line) => Int32Array.from(line.flatMap((f) => (index.has(f) ? [index.get(f)!] : []))));
  const weights = vocabulary.length * k;
  const solved = minimize(
    softmaxLoss(rows, ys, 1 / lines.length, k, (x, g) => {
      // The penalty on the weights (not the biases), per line.
      let penalty = 0;
      for (let i = 0; i < weights; i++) {
        penalty += x[i] * x[i];
        g[i] += o.lambda * x[i];
      }
      return (o.lambda / 2) * penalty;
    }),
    new Float64Array(weights + k),
    o.iterations,
  );
  return {
    bias: Array.from(solved.subarray(weights), round),
    weights: pack(vocabulary, solved, k, (f) => seen.get(f)!),
    lambda: o.lambda,
    lines: lines.length,
  };
}

/**
 * The cross-entropy of lines given as feature indices, each line counting `scale`, with its gradient, over weights
 * laid out feature by feature, k classes each, then the k biases; `penalty` adds its own term and gradient.
 */
function softmaxLoss(
  rows: Int32Array[],
  ys: number[],
  scale: number,
  k: number,
  penalty: (x: Float64Array, g: Float64Array) => number,
) {
  const z = new Float64Array(k);
  return (x: Float64Array, g: Float64Array): number => {
    g.fill(0);
    const biases = x.length - k;
    let loss = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      for (let c = 0; c < k; c++) z[c] = x[biases + c];
      for (let j = 0; j < row.length; j++) for (let c = 0, at = row[j] * k; c < k; c++) z[c] += x[at + c];
      let top = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < k; c++) top = Math.max(top, z[c]);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += z[c] = Math.exp(z[c] - top);
      loss -= scale * Math.log(z[ys[r]] / sum);
      for (let c = 0; c < k; c++) z[c] = scale * (z[c] / sum - (c === ys[r] ? 1 : 0));
      for (let c = 0; c < k; c++) g[biases + c] += z[c];
      for (let j = 0; j < row.length; j++) for (let c = 0, at = row[j] * k; c < k; c++) g[at + c] += z[c];
    }
    return loss + penalty(x, g);
  };
}

/** Limited-memory BFGS (ten pairs) with a backtracking line search, from x, for at most `iterations` steps. */
function minimize(f: (x: Float64Array, g: Float64Array) => number, x: Float64Array, iterations: number): Float64Array {
  const n = x.length;
  const dot = (a: Float64Array, b: Float64Array) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += a[i] * b[i];
    return s;
  };
  let g = new Float64Array(n);
  let fx = f(x, g);
  const steps: { s: Float64Array; y: Float64Array; rho: number; a: number }[] = [];
  const d = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    // The direction: the gradient turned by what the last steps showed of the curvature (the two-loop recursion).
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let j = steps.length - 1; j >= 0; j--) {
      const h = steps[j];
      h.a = h.rho * dot(h.s, d);
      for (let i = 0; i < n; i++) d[i] -= h.a * h.y[i];
    }
    const last = steps.at(-1);
    const gamma = last ? 1 / (last.rho * dot(last.y, last.y)) : 1 / Math.sqrt(dot(g, g) || 1);
    for (let i = 0; i < n; i++) d[i] *= gamma;
    for (const h of steps) {
      const b = h.rho * dot(h.y, d);
      for (let i = 0; i < n; i++) d[i] += h.s[i] * (h.a - b);
    }
    let slope = dot(g, d);
    if (slope >= 0) {
      for (let i = 0; i < n; i++) d[i] = -g[i];
      slope = -dot(g, g);
    }
    if (slope === 0) break;
    const next = new Float64Array(n);
    const gNext = new Float64Array(n);
    let fNext = fx;
    for (let t = 1, tries = 0; tries < 40; t /= 2, tries++) {
      for (let i = 0; i < n; i++) next[i] = x[i] + t * d[i];
      fNext = f(next, gNext);
      if (fNext <= fx + 1e-4 * t * slope) break;
    }
    if (!(fNext < fx)) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = next[i] - x[i];
      y[i] = gNext[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) steps.push({ s, y, rho: 1 / sy, a: 0 });
    if (steps.length > 10) steps.shift();
    const moved = (fx - fNext) / Math.max(Math.abs(fx), 1e-12);
    x = next;
    g = gNext;
    fx = fNext;
    if (moved < 1e-10) break;
  }
  return x;
}

/** The weights as stored: per feature its training lines, then its classes' weights less the middle one's, ≥ 0.03. */
function pack(vocabulary: string[], x: Float64Array, k: number, linesWith: (f: string) => number) {
  const weights: Record<string, number[]> = {};
  vocabulary.forEach((f, i) => {
    const w = x.subarray(i * k, (i + 1) * k);
    const middle = [...w].sort((a, b) => a - b)[k >> 1];
    const pairs = [...w].flatMap((v, c) => (Math.abs(round(v - middle)) >= 0.03 ? [c, round(v - middle)] : []));
    if (pairs.length) weights[f] = [linesWith(f), ...pairs];
  });
  return weights;
}

/**
 * What one feature adds to each model's class scores: entries [from, mid) of the shared class and value arrays for
 * the logistic regression, [mid, to) for naive Bayes (its log-likelihoods beyond "unseen in this class"), `known`
 * when naive Bayes counts the feature. One flat pool for all features keeps judging fast.
 */
class Lift {
  from = 0;
  mid = 0;
  to = 0;
  known = false;
  /** The judgement that last counted this feature. */
  seen = 0;
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
  const { logistic, bayes, mix } = data;
  const vocabulary = Object.keys(bayes.counts).length;
  const all = bayes.lines.reduce((a, b) => a + b, 0);
  const prior = bayes.lines.map((n) => Math.log(n / all));
  const denominators = bayes.totals.map((t) => Math.log(t + bayes.alpha * vocabulary));
  const unseen = denominators.map((d) => Math.log(bayes.alpha) - d);
  // Per feature, what it adds to each model's classes, and the judgement that last counted it: a run met twice in one
  // message counts once, as in training, without building a set per message. Runs of characters are keyed by their
  // UTF-16 codes packed into one number (three codes fit in 48 bits), so judging a message cuts no strings.
  const meta = new Map<string, Lift>();
  const runs = new Map<number, Lift>();
  const entries = new Map<string, { lr: number[]; nb: number[] }>();
  for (const [f, w] of Object.entries(logistic.weights)) entries.set(f, { lr: w.slice(1), nb: [] });
  for (const [f, pairs] of Object.entries(bayes.counts)) {
    // Only the classes the feature was seen in: most runs of characters belong to a few.
    const nb = pairs.map((v, j) =>
      j % 2 ? Math.log(v + bayes.alpha) - denominators[pairs[j - 1]] - unseen[pairs[j - 1]] : v,
    );
    entries.set(f, { lr: entries.get(f)?.lr ?? [], nb });
  }
  let size = 0;
  for (const { lr, nb } of entries.values()) size += (lr.length + nb.length) / 2;
  const classAt = new Uint8Array(size);
  const value = new Float64Array(size);
  let at = 0;
  for (const [f, { lr, nb }] of entries) {
    const lift = new Lift();
    lift.from = at;
    for (let j = 0; j < lr.length; j += 2, at++) [classAt[at], value[at]] = [lr[j], lr[j + 1]];
    lift.mid = at;
    for (let j = 0; j < nb.length; j += 2, at++) [classAt[at], value[at]] = [nb[j], nb[j + 1]];
    lift.to = at;
    lift.known = nb.length > 0;
    if (f[0] === META) meta.set(f, lift);
    else runs.set(runKey(f, 0, f.length), lift);
  }
  // Reports of every kind count together as "report"; the kind is the likeliest of them.
  const split = data.classes.map((c) => c.split(':') as [string, string | undefined]);
  const intents = [...new Set(split.map(([i]) => i))];
  const intentOf = split.map(([i]) => intents.indexOf(i));
  const softmax = (score: Float64Array) => {
    let top = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) top = Math.max(top, score[c]);
    let z = 0;
    for (let c = 0; c < k; c++) z += score[c] = Math.exp(score[c] - top);
    for (let c = 0; c < k; c++) score[c] /= z;
  };
  let judgement = 0;

  const score = new Float64Array(k);
  const bayesScore = new Float64Array(k);
  let known = 0;
  const count = (hit: Lift | undefined) => {
    if (!hit || hit.seen === judgement) return;
    hit.seen = judgement;
    for (let j = hit.from; j < hit.mid; j++) score[classAt[j]] += value[j];
    if (!hit.known) return;
    known++;
    for (let j = hit.mid; j < hit.to; j++) bayesScore[classAt[j]] += value[j];
  };

  function judge(e: Example): Opinion[] {
    score.set(logistic.bias);
    bayesScore.set(prior);
    judgement++;
    known = 0;
    for (const f of metaFeatures(e)) count(meta.get(f));
    const s = `^${fold(e.text)}$`;
    for (let n = 1; n <= 3; n++) for (let i = 0; i + n <= s.length; i++) count(runs.get(runKey(s, i, n)));
    for (let c = 0; c < k; c++) bayesScore[c] += known * unseen[c];
    softmax(score);
    softmax(bayesScore);
    const p = new Float64Array(intents.length);
    const kind: (string | undefined)[] = [];
    const best = new Float64Array(intents.length);
    for (let c = 0; c < k; c++) {
      const i = intentOf[c];
      const pc = (1 - mix) * score[c] + mix * bayesScore[c];
      p[i] += pc;
      if (split[c][1] && pc > best[i]) [kind[i], best[i]] = [split[c][1], pc];
    }
    return intents
      .map((intent, i) => (kind[i] ? { intent, p: p[i], kind: kind[i] } : { intent, p: p[i] }))
      .sort((a, b) => b.p - a.p);
  }

  return { judge };
}

/**
 * The model with a site's own examples (a manager's answers in the console's 未识别 list) learned on top: each counts
 * `weight` times, as a manager's word on the site's own way of writing is worth more than one line from another
 * school. Naive Bayes is counts, so there this is addition. The logistic regression's training lines are not at hand,
 * so its weights stand in for them: the weights of the examples' features (and of a new class) move to fit the
 * examples, each held to its shipped value by the training penalty plus one unit per training line that had the
 * feature. A run of characters no line had ("检验科") moves freely; "^", "了" or "teacher", which thousands of lines
 * taught, barely move, so an example does not tilt every message towards its class (on the development corpus, one
 * example or three of a new kind changed the top intent of none of its 11 696 lines). The biases stay; a new class's
 * is the lowest there was.
 */
export function withExamples(data: ModelData, examples: Labelled[], weight = 3): ModelData {
  const classes = [...new Set([...data.classes, ...examples.map((e) => e.intent)])].sort();
  const from = data.classes.map((c) => classes.indexOf(c));
  const lines = examples.map((e) => features(e.example));
  const ys = examples.map((e) => classes.indexOf(e.intent));
  return {
    ...data,
    classes,
    logistic: adaptLogistic(data.logistic, from, classes.length, lines, ys, weight),
    bayes: addToBayes(data.bayes, from, classes.length, lines, ys, weight),
  };
}

function addToBayes(data: Bayes, from: number[], k: number, lines: string[][], ys: number[], weight: number): Bayes {
  const perClass = new Array<number>(k).fill(0);
  const totals = new Array<number>(k).fill(0);
  from.forEach((to, c) => {
    perClass[to] = data.lines[c];
    totals[to] = data.totals[c];
  });
  const rows = new Map<string, number[]>();
  for (const [f, pairs] of Object.entries(data.counts)) {
    const row = new Array<number>(k).fill(0);
    for (let i = 0; i < pairs.length; i += 2) row[from[pairs[i]]] = pairs[i + 1];
    rows.set(f, row);
  }
  lines.forEach((line, r) => {
    perClass[ys[r]] += weight;
    for (const f of line) {
      const row = rows.get(f) ?? new Array<number>(k).fill(0);
      row[ys[r]] += weight;
      totals[ys[r]] += weight;
      rows.set(f, row);
    }
  });
  const counts: Record<string, number[]> = {};
  for (const [f, row] of rows) counts[f] = row.flatMap((n, c) => (n ? [c, n] : []));
  return { lines: perClass, totals, counts, alpha: data.alpha };
}

function adaptLogistic(
  data: Logistic,
  from: number[],
  k: number,
  lines: string[][],
  ys: number[],
  weight: number,
): Logistic {
  const vocabulary = [...new Set(lines.flat())].sort(byCode);
  const index = new Map(vocabulary.map((f, i) => [f, i]));
  const biases = vocabulary.length * k;
  const start = new Float64Array(biases + k).fill(Math.min(...data.bias), biases);
  data.bias.forEach((b, c) => {
    start[biases + from[c]] = b;
  });
  const hold = new Float64Array(biases);
  vocabulary.forEach((f, i) => {
    const w = data.weights[f] ?? [0];
    for (let j = 1; j < w.length; j += 2) start[i * k + from[w[j]]] = w[j + 1];
    hold.fill(data.lambda * data.lines + w[0], i * k, (i + 1) * k);
  });
  const rows = lines.map((line) => Int32Array.from(line, (f) => index.get(f)!));
  const solved = minimize(
    softmaxLoss(rows, ys, weight, k, (x, g) => {
      let penalty = 0;
      for (let i = 0; i < biases; i++) {
        const d = x[i] - start[i];
        penalty += hold[i] * d * d;
        g[i] += hold[i] * d;
      }
      g.fill(0, biases);
      return penalty / 2;
    }),
    start.slice(),
    100,
  );
  const weights: Record<string, number[]> = {};
  const same = from.every((to, c) => to === c);
  for (const [f, w] of Object.entries(data.weights))
    if (!index.has(f)) weights[f] = same ? w : w.map((v, j) => (j % 2 === 1 ? from[v] : v));
  Object.assign(
    weights,
    pack(vocabulary, solved, k, (f) => data.weights[f]?.[0] ?? 0),
  );
  return {
    bias: Array.from(start.subarray(biases)),
    weights,
    lambda: data.lambda,
    lines: data.lines + weight * lines.length,
  };
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
