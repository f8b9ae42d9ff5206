// `npm run bench:parse` — per-field accuracy of the parser on the hand-labelled corpora (development and held-out,
// reported apart) and its speed on one core. `--misses` lists every line the parser got wrong (development corpus;
// `--misses=heldout` for the held-out file, only after tuning is over).
import { createParser } from '../src/commands/parser.js';
import { loadSettings } from '../src/config/load.js';
import { devCorpus, formatScore, inputOf, readCorpus, score, type Score } from './lib/parse-score.js';

const config = loadSettings({}, 'config/example.yaml').config;
const parser = createParser(config);
const dev = devCorpus();
const heldout = readCorpus('heldout.jsonl');
const heldout2 = readCorpus('heldout-2.jsonl');
const args = process.argv.slice(2);
const missesOf = args.find((a) => a.startsWith('--misses'));

// --dev: the development corpus only (what to look at while tuning; the held-out figures are for reporting).
const devOnly = args.includes('--dev');
const devScore = score(parser, dev);
console.log(formatScore('development corpus', devScore));
const heldScore = devOnly ? undefined : score(parser, heldout);
if (heldScore) console.log(formatScore('held-out corpus (written before the first tuning)', heldScore));
const held2Score = devOnly ? undefined : score(parser, heldout2);
if (held2Score) console.log(formatScore('second held-out corpus (written before the second round)', held2Score));

if (missesOf) printMisses(missesOf === '--misses=heldout' && heldScore ? heldScore : devScore);

// Speed: every line of all corpora, over and over for about two seconds of this thread's CPU time. CPU time, not
// wall time: on a shared machine other processes then cost this figure much less.
const all = [...dev, ...heldout, ...heldout2];
for (const l of all) parser.parse(l.text, inputOf(l)); // warm-up (lazy tables, JIT)
let n = 0;
const cpu = () => process.cpuUsage().user / 1e6;
const start = cpu();
while (cpu() - start < 2) {
  for (const l of all) parser.parse(l.text, inputOf(l));
  n += all.length;
}
const seconds = cpu() - start;
console.log(`speed: ${Math.round(n / seconds).toLocaleString('en')} lines per CPU-second on one core (${n} parses)`);

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
