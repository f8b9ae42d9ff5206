// The learned second opinion (src/commands/learned.ts): the model itself, that the shipped model is the one the
// corpora train, and how the parser may use it — never to open a task unasked.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { devCorpus, examplesOf, MODEL_FILE } from '../../bench/lib/parse-score.js';
import {
  builtInData,
  builtInModel,
  features,
  loadModel,
  train,
  trainedOn,
  trainingDefaults,
  withExamples,
} from '../../src/commands/learned.js';
import { createParser } from '../../src/commands/parser.js';
import { loadSettings } from '../../src/config/load.js';

const config = loadSettings({}, 'config/example.yaml').config;

const lines = (intent: string, texts: string[], who = 'teacher') =>
  texts.map((text) => ({ example: { text, who }, intent }));

describe('learned intent model', () => {
  const tiny = [
    ...lines('report:repair', ['三楼热水器不出热水了', '二楼热水器坏了', '热水器不热了 麻烦看看', '四楼热水器漏了']),
    ...lines('report:cleaning', ['三楼走廊好多灰', '走廊好多灰 扫一下']),
    ...lines('none', ['明天开会 大家别迟到', '谁有会议室钥匙', '今天开会改到三点', '开会的材料谁拿了']),
    ...lines('note', ['师傅在路上了', '在路上了 十分钟到', '配件在路上了'], 'worker'),
  ];
  const data = train(tiny);
  const model = loadModel(data);

  it('reads characters, the sender and the chat as features', () => {
    const f = features({ text: '热水器', who: 'worker', chat: 'dm' });
    const meta = (x: string) => `\u0001${x}`;
    expect(f).toEqual(
      expect.arrayContaining([meta('worker'), meta('dm'), meta('noquote'), '热', '热水', '热水器', '^热', '器$']),
    );
    expect(features({ text: '好了', who: 'teacher', quote: '#15 已完工，请验收' })).toContain(meta('quote:done'));
  });

  it('ranks the classes with probabilities that add up to one', () => {
    const o = model.judge({ text: '五楼热水器不出水', who: 'teacher' });
    expect(o[0]).toMatchObject({ intent: 'report', kind: 'repair' });
    expect(o.reduce((s, x) => s + x.p, 0)).toBeCloseTo(1, 9);
    expect(model.judge({ text: '下午开会谁去', who: 'teacher' })[0].intent).toBe('none');
    expect(model.judge({ text: '已经在路上了', who: 'worker' })[0].intent).toBe('note');
  });

  it('learns the classes of the lines it was trained on', () => {
    for (const { example, intent } of tiny) {
      const [top] = model.judge(example);
      expect(top.kind ? `${top.intent}:${top.kind}` : top.intent, example.text).toBe(intent);
    }
  });

  it('mixes a logistic regression with naive Bayes, each a model on its own', () => {
    const text = { text: '五楼热水器不出水', who: 'teacher' };
    for (const mix of [0, 1]) {
      const alone = loadModel({ ...data, mix }).judge(text);
      expect(alone[0]).toMatchObject({ intent: 'report', kind: 'repair' });
      expect(alone.reduce((s, x) => s + x.p, 0)).toBeCloseTo(1, 9);
    }
    const p = (mix: number) => loadModel({ ...data, mix }).judge(text)[0].p;
    expect(model.judge(text)[0].p).toBeCloseTo((1 - data.mix) * p(0) + data.mix * p(1), 9);
  });

  it('is trained deterministically: the same lines give the same model', () => {
    expect(train(tiny)).toEqual(data);
    expect(JSON.stringify(train([...tiny]))).toBe(JSON.stringify(data));
  });

  it('is shipped as trained from the development corpora (run `npm run train:parse` after changing them)', () => {
    // Training on the whole corpus takes a minute; the hash of what it reads, a second.
    const shipped = JSON.parse(readFileSync(MODEL_FILE, 'utf8'));
    expect(shipped.trainedOn).toBe(trainedOn(examplesOf(devCorpus()), trainingDefaults));
    expect(shipped.logistic.lines).toBe(devCorpus().length);
    expect(shipped.bayes.lines.reduce((a: number, b: number) => a + b, 0)).toBe(devCorpus().length);
  });
});

describe('the parser with a second opinion', () => {
  // A model that is sure every line is a report, or a note: what the parser does with a confident opinion.
  const sure = (intent: string, who = 'teacher') =>
    loadModel(train([...lines(intent, ['甲', '乙', '丙'], who), ...lines('help', ['丁'])]));

  it('asks about a report the rules did not see, and never opens it unasked', () => {
    const withModel = createParser(config, { secondOpinion: { model: sure('report:repair'), sure: 0.5 } });
    const rules = createParser(config, { secondOpinion: false });
    const text = '小二班的晨检仪一早就显示异常';
    expect(rules.parse(text, { roles: ['teacher'] }).intent).not.toBe('report');
    const got = withModel.parse(text, { roles: ['teacher'] });
    expect(got).toMatchObject({ intent: 'report', kind: 'repair', unsure: true, place: '小二班' });
  });

  it('leaves what the rules are sure of alone', () => {
    const p = createParser(config, { secondOpinion: { model: sure('report:repair'), sure: 0.5 } });
    expect(p.parse('接单 12', { roles: ['worker'] })).toMatchObject({ intent: 'claim', task: 12 });
    expect(p.parse('谢谢李师傅', { roles: ['teacher'] }).intent).toBe('none');
  });

  it("reads a worker's progress in new words as a note, but only from a worker or manager", () => {
    const p = createParser(config, { secondOpinion: { model: sure('note', 'worker'), sure: 0.5 } });
    const text = '柜子太重 下午叫人帮忙抬';
    expect(p.parse(text, { roles: ['worker'] }).intent).toBe('note');
    expect(p.parse(text, { roles: ['teacher'] }).intent).not.toBe('note');
  });
});

describe("a site's own examples", () => {
  it('teach the model a kind it never saw, on top of what it ships with', () => {
    const site = loadModel(
      withExamples(builtInData(), [
        { example: { text: '5病区有个标本要送检验科', who: 'nurse' }, intent: 'report:transport' },
        { example: { text: '3床的血样麻烦送到检验科', who: 'nurse' }, intent: 'report:transport' },
        { example: { text: '手术室的病理标本送一下', who: 'nurse' }, intent: 'report:transport' },
      ]),
    );
    expect(builtInModel().judge({ text: '8病区两管血要送检验科', who: 'nurse' })[0].kind).not.toBe('transport');
    expect(site.judge({ text: '8病区两管血要送检验科', who: 'nurse' })[0]).toMatchObject({
      intent: 'report',
      kind: 'transport',
    });
    // What it knew stays: a plain repair is still a repair.
    expect(site.judge({ text: '三楼热水器不出热水了', who: 'teacher' })[0]).toMatchObject({ kind: 'repair' });
  });

  it('shift the judgement of lines like them, and hardly that of others', () => {
    const cleaning = (m: ReturnType<typeof loadModel>, text: string) =>
      m.judge({ text, who: 'teacher' }).find((o) => o.intent === 'report' && o.kind === 'cleaning')?.p ?? 0;
    const site = loadModel(
      withExamples(builtInData(), [
        { example: { text: '中班的植物角该浇水了', who: 'teacher' }, intent: 'report:cleaning' },
      ]),
    );
    const before = cleaning(builtInModel(), '大班的植物角该浇水了');
    expect(cleaning(site, '大班的植物角该浇水了')).toBeGreaterThan(Math.max(0.5, before + 0.3));
    // The shipped lines, judged again: one example changes the top class of almost none.
    const sample = examplesOf(devCorpus().filter((_, i) => i % 20 === 0)).map((e) => e.example);
    const top = (m: ReturnType<typeof loadModel>, e: (typeof sample)[number]) => m.judge(e)[0];
    const moved = sample.filter((e) => top(site, e).intent !== top(builtInModel(), e).intent);
    expect(moved.length).toBeLessThanOrEqual(sample.length / 100);
  });

  it('come from the config and the overlay (vocabulary.examples) into the parser', () => {
    const taught = {
      ...config,
      vocabulary: {
        ...config.vocabulary,
        examples: [{ text: '中班的植物角该浇水了', means: 'report:cleaning', who: 'teacher' as const }],
      },
    };
    const text = '大班的植物角该浇水了';
    expect(createParser(config).parse(text, { roles: ['teacher'] }).intent).toBe('none');
    // Asked about, as every report only the model sees: "是要报保洁「大班的植物角该浇水了」吗？"
    expect(createParser(taught).parse(text, { roles: ['teacher'] })).toMatchObject({
      intent: 'report',
      kind: 'cleaning',
      unsure: true,
    });
  });
});
