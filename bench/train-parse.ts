// `npm run train:parse` — trains the parser's learned second opinion (src/commands/learned.ts) on the development
// corpora (test/fixtures/parse/corpus*.jsonl) and writes src/commands/model/intent.json. The held-out files are
// never read here: their figures must stay figures on lines the parser has never seen.
import { writeFileSync } from 'node:fs';
import { MODEL_FILE, trainFromCorpus } from './lib/parse-score.js';

{
  const start = Date.now();
  const model = trainFromCorpus();
  const json = `${JSON.stringify(model)}\n`;
  writeFileSync(MODEL_FILE, json);
  console.log(
    `wrote ${MODEL_FILE}: ${model.logistic.lines} lines, ${Object.keys(model.bayes.counts).length} features, ${Math.round(json.length / 1024)} KB, trained in ${((Date.now() - start) / 1000).toFixed(0)} s`,
  );
}
