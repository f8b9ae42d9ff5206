// The learned second opinion (src/commands/learned.ts): the model itself, that the shipped model is the one the
// corpora train, and how the parser may use it — never to open a task unasked.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODEL_FILE, trainFromCorpus } from '../../bench/lib/parse-score.js';
import { builtInData, builtInModel, features, loadModel, train, withExamples } from '../../src/commands/learned.js';
import { createParser } from '../../src/commands/parser.js';
import { loadSettings } from '../../src/config/load.js';

const config = loadSettings({}, 'config/example.yaml').config;

const lines = (intent: string, texts: string[], who = 'teacher') =>
  texts.map((text) => ({ example: { text, who }, intent }));

describe('learned intent model', () => {
  const model = loadModel(
    train([
      ...lines('report:repair', ['三楼热水器不出热水了', '二楼热水器坏了', '热水器不热了 麻烦看看', '四楼热水器漏了']),
      ...lines('report:cleaning', ['三楼走廊好多灰']),
      ...lines('none', ['明天开会 大家别迟到', '谁有会议室钥匙', '今天开会改到三点', '开会的材料谁拿了']),
      ...lines('note', ['师傅在路上了', '在路上了 十分钟到', '配件在路上了'], 'worker'),
    ]),
  );

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

  it('is shipped as trained from the development corpora (run `npm run train:parse` after changing them)', () => {
    const shipped = JSON.parse(readFileSync(MODEL_FILE, 'utf8'));
    expect(shipped).toEqual(trainFromCorpus());
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
