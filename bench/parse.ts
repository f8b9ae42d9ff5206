// `npm run bench:parse` — per-field accuracy of the parser on the hand-labelled corpora (development and held-out,
// reported apart) and its speed on one core. `--misses` lists every line the parser got wrong (development corpus;
// `--misses=heldout-2.jsonl` for a held-out file, only after tuning is over).
import { createParser } from '../src/commands/parser.js';
import { loadSettings } from '../src/config/load.js';
import { readdirSync } from 'node:fs';
import { loadModel } from '../src/commands/learned.js';
import type { SecondOpinion } from '../src/commands/second-opinion.js';
import {
  devCorpus,
  FIXTURES,
  formatScore,
  inputOf,
  pct,
  readCorpus,
  score,
  type Score,
  trainOn,
} from './lib/parse-score.js';

const config = loadSettings({}, 'config/example.yaml').config;
const parser = createParser(config);
const dev = devCorpus();
/** Each held-out file, written by its own author before a round of tuning, reported on its own. */
const heldouts = readdirSync(FIXTURES)
  .filter((f) => /^heldout.*\.jsonl$/.test(f))
  .sort()
  .map((file) => ({ file, lines: readCorpus(file) }));
const args = process.argv.slice(2);
const missesOf = args.find((a) => a.startsWith('--misses'));

// --dev: the development corpus only (what to look at while tuning; the held-out figures are for reporting).
const devOnly = args.includes('--dev');
const devScore = score(parser, dev);
console.log(formatScore('development corpus', devScore));
const heldScores = devOnly ? [] : heldouts.map((h) => ({ file: h.file, score: score(parser, h.lines) }));
for (const h of heldScores) console.log(formatScore(`held-out ${h.file} (never tuned against)`, h.score));
// The same files read by the rules alone: what the learned second opinion (src/commands/learned.ts) adds.
if (!devOnly) {
  const rules = createParser(config, { secondOpinion: false });
  console.log('rules alone (no learned second opinion):');
  for (const h of [{ file: 'development', lines: dev }, ...heldouts])
    console.log(`  ${h.file.padEnd(18)} ${brief(score(rules, h.lines))}`);
}

// `--misses=heldout.jsonl` lists a held-out file's misses: only once tuning is over.
const missesIn = missesOf?.split('=')[1];
if (missesOf) printMisses(heldScores.find((h) => h.file === missesIn)?.score ?? devScore);

// Speed: every line of all corpora, over and over for about two seconds of this thread's CPU time (CPU time, not
// wall time: on a shared machine other processes then cost this figure much less), with and without the second opinion.
// --cv: the second opinion cross-validated on the development corpus (trained on four fifths, scored on the fifth):
// the shipped mix (at the parser's thresholds, or --sure= and --sure-talk= for the group), and the same training's
// two models alone: the logistic regression at the same thresholds, naive Bayes (the second opinion before it) at
// its own (0.95, 0.995).
if (args.includes('--cv')) {
  const folds = 5;
  const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const sure = option('sure') === undefined ? undefined : Number(option('sure'));
  const talk = option('sure-talk') === undefined ? undefined : Number(option('sure-talk'));
  const thresholds = {
    ...(sure === undefined ? {} : { sure }),
    ...(talk === undefined ? {} : { sureTalk: { group: talk } }),
  };
  const totals = { mix: score(parser, []), logistic: score(parser, []), bayes: score(parser, []) };
  for (let k = 0; k < folds; k++) {
    const test = dev.filter((_, i) => i % folds === k);
    const data = trainOn(dev.filter((_, i) => i % folds !== k));
    const read = (mix: number, opinion: Partial<SecondOpinion>) =>
      score(createParser(config, { secondOpinion: { ...opinion, model: loadModel({ ...data, mix }) } }), test);
    add(totals.mix, read(data.mix, thresholds));
    add(totals.logistic, read(0, thresholds));
    add(totals.bayes, read(1, { sure: 0.95, sureTalk: { group: 0.995 } }));
  }
  console.log(`development, ${folds}-fold cross-validated second opinion: ${brief(totals.mix)}`);
  console.log(`  the logistic regression alone:                   ${brief(totals.logistic)}`);
  console.log(`  naive Bayes alone (the model before), 0.95/0.995: ${brief(totals.bayes)}`);
}

function add(total: Score, s: Score): void {
  for (const f of Object.keys(s.fields) as (keyof Score['fields'])[]) {
    total.fields[f].right += s.fields[f].right;
    total.fields[f].total += s.fields[f].total;
  }
  total.chatterToTask.push(...s.chatterToTask);
}

const all = [...dev, ...heldouts.flatMap((h) => h.lines)];
const cpu = () => process.cpuUsage().user / 1e6;
function speed(p: typeof parser): number {
  for (const l of all) p.parse(l.text, inputOf(l)); // warm-up (lazy tables, JIT)
  let n = 0;
  const start = cpu();
  while (cpu() - start < 2) {
    for (const l of all) p.parse(l.text, inputOf(l));
    n += all.length;
  }
  return n / (cpu() - start);
}
const full = speed(parser);
const alone = speed(createParser(config, { secondOpinion: false }));
console.log(
  `speed: ${Math.round(full).toLocaleString('en')} lines per CPU-second on one core; the rules alone ${Math.round(alone).toLocaleString('en')} in the same run (ratio ${(full / alone).toFixed(2)})`,
);

function brief(s: Score): string {
  const fields = Object.entries(s.fields).map(([k, f]) => `${k} ${pct(f).toFixed(1)}`);
  return `${fields.join('  ')}  chatter→task ${s.chatterToTask.length}`;
}

function printMisses(s: Score): void {
  for (const m of s.misses) {
    const { text, quote, from, cat, ...gold } = m.line;
    const want = Object.entries(gold)
      .filter(([k]) => k !== 'chat')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const got = Object.entries(m.got)
      .filter(([k]) => !['text', 'error'].includes(k))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(
      `✗ [${cat}] ${from} ${JSON.stringify(text)}${quote ? ` «${quote}»` : ''}\n    want ${want}\n    got  ${got}   (${m.fields.join(',')})`,
    );
  }
}
