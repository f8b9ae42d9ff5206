// The DingTalk card template shipped in config/ and the code that fills it are one contract: every variable the code
// fills is declared in the template and used by its layout, every declared variable is filled, each button sends its
// key back the way the click receiver reads it, and every card the domain makes fits (strings only, ≤ 1 KB a value,
// no more live buttons than slots).
import { describe, expect, it } from 'vitest';
import { CARD_VARIABLES, cardParams, MAX_BUTTONS } from '../../src/channels/dingtalk/card-params.js';
import { loadSettings } from '../../src/config/load.js';
import { answerCard, recordedCard } from '../../src/domain/checklists/card.js';
import { sheetsFor } from '../../src/domain/checklists/sheets.js';
import type { Card } from '../../src/domain/messages.js';
import { Roster } from '../../src/domain/roster.js';
import type { Task } from '../../src/domain/tasks/task.js';
import { claimCard, takenCard } from '../../src/domain/tasks/texts.js';
import { boundVariables, readTemplate } from '../helpers/card-template.js';

const tpl = readTemplate();
const config = loadSettings({}, 'config/example.yaml').config;
const roster = new Roster(config);

const task: Task = {
  id: 12,
  kind: 'repair',
  trade: '空调',
  place: '小一班',
  text: '小一班 空调不制冷',
  reporter: 'wang_li',
  team: 'shuidian',
  source: { channel: 'dingtalk', surface: 'robot', chatId: 'cid', chatType: 'group' },
  urgent: false,
  state: 'open',
  acked: false,
  createdAt: Date.parse('2025-03-03T09:00:00+08:00'),
  rework: 0,
  doneCount: 0,
  version: 1,
};
const claimed: Task = { ...task, state: 'claimed', assignee: 'li_sf', acked: true };
const sheet = sheetsFor(
  config.checklists.find((c) => c.id === 'safety')!,
  '2025-03-03',
  Date.parse('2025-03-03T08:00:00+08:00'),
)[0];
const acceptCard: Card = {
  ref: 'a12x1',
  title: '#12 已完工，请验收',
  description: '#12 报修【小一班】空调不制冷\n备注：换了电容',
  fields: [{ label: '处理人', value: '李师傅' }],
  buttons: [
    { text: '验收通过', key: 'accept:12', style: 'primary' },
    { text: '没修好', key: 'reopen:12', style: 'danger' },
  ],
};
const cards: Record<string, Card> = {
  claim: claimCard(task, roster),
  'taken (others)': takenCard(claimed, roster),
  'taken (the clicker)': takenCard(claimed, roster, 'li_sf'),
  accept: acceptCard,
  'checklist answer': answerCard(sheet, '09:00')!,
  'checklist recorded': recordedCard({ ...sheet, items: sheet.items.map((e) => ({ ...e, value: '正常', ok: true })) }),
};

describe('the shipped DingTalk card template', () => {
  it('is in the card platform export format', () => {
    expect(tpl.raw).toMatchObject({ type: 'standard', mode: 'card' });
    expect(typeof tpl.raw.widgetInfo).toBe('string');
    expect(tpl.editor.schema.componentsTree[0].componentName).toBe('StdCard');
  });

  it('declares exactly the variables the code fills', () => {
    expect(tpl.variables.map((v) => v.name).sort()).toEqual([...CARD_VARIABLES].sort());
    // Private where a clicker has their own view (group cards): the layout then falls back to the public value.
    for (const v of tpl.variables) expect(v.private, v.name).toBe(true);
    const types = Object.fromEntries(tpl.variables.map((v) => [v.name, v.type]));
    for (let i = 1; i <= MAX_BUTTONS; i++) expect(types[`btn${i}_show`]).toBe('boolean');
  });

  it('uses every declared variable in the designer and in the compiled layout, and no other', () => {
    const declared = new Set(tpl.variables.map((v) => v.name));
    expect([...boundVariables(tpl.editor.schema.componentsTree)].sort()).toEqual([...declared].sort());
    const compiled = new Set([...tpl.raw.widgetInfo.matchAll(/data\.cardData\.(\w+)/g)].map((m) => m[1]));
    expect([...compiled].sort()).toEqual([...declared].sort());
  });

  it('has one call-back button per slot, sending its key as `key` with the slot as its action id', () => {
    const block = tpl.editor.schema.componentsTree[0].children.find((c: any) => c.componentName === 'ButtonBlock');
    expect(block.props.buttons).toHaveLength(MAX_BUTTONS);
    block.props.buttons.forEach((b: any, i: number) => {
      const n = i + 1;
      expect(b).toMatchObject({ id: `btn${n}`, actionType: 'request' });
      expect(b.text.content).toBe(`\${btn${n}_text}`);
      expect(b.params).toEqual([expect.objectContaining({ type: 'variable', variable: `btn${n}_key`, name: 'key' })]);
      expect(b.visible.condition.conditions[0]).toMatchObject({ op: 'isTrue', variable: `btn${n}_show` });
      expect(tpl.raw.widgetInfo).toContain(`&#039;actionId&#039;, &#039;btn${n}&#039;`);
    });
  });
});

describe('every card the domain makes fits the template', () => {
  for (const [name, card] of Object.entries(cards))
    it(name, () => {
      const p = cardParams(card);
      expect(Object.keys(p).sort()).toEqual([...CARD_VARIABLES].sort());
      for (const [k, v] of Object.entries(p)) {
        expect(typeof v, k).toBe('string');
        expect(Buffer.byteLength(v), k).toBeLessThanOrEqual(1024);
        if (k.endsWith('_show')) expect(['true', 'false']).toContain(v);
      }
      const live = card.buttons.filter((b) => !b.key.startsWith('noop'));
      expect(live.length).toBeLessThanOrEqual(MAX_BUTTONS);
      live.forEach((b, i) => {
        expect(p[`btn${i + 1}_key`]).toBe(b.key);
        expect(p[`btn${i + 1}_show`]).toBe('true');
      });
    });

  it('a claim card: one 接单 button with its key, no status', () => {
    expect(cardParams(cards.claim)).toMatchObject({
      title: '新报修 #12',
      status: '',
      btn1_text: '接单',
      btn1_key: 'claim:12',
      btn1_show: 'true',
      btn2_show: 'false',
      btn3_show: 'false',
    });
    expect(cardParams(cards.claim).content).toContain('**地点**：小一班');
  });

  it('a taken card: no button, the status line says who', () => {
    expect(cardParams(cards['taken (others)'])).toMatchObject({
      status: '李师傅已接单',
      btn1_show: 'false',
      btn1_key: '',
    });
    expect(cardParams(cards['taken (the clicker)']).status).toBe('你已接单');
  });

  it('the checklist card: 全部正常 and 有异常 by their keys; once recorded, 已记录 and no button', () => {
    expect(cardParams(cards['checklist answer'])).toMatchObject({
      btn1_text: '全部正常',
      btn1_key: `cl:ok:2025-03-03:${sheet.id}`,
      btn2_text: '有异常，我来说明',
      btn2_key: `cl:explain:2025-03-03:${sheet.id}`,
    });
    expect(cardParams(cards['checklist recorded'])).toMatchObject({ status: '已记录', btn1_show: 'false' });
  });

  it('a card with more live buttons than slots names the rest as words to type', () => {
    const many: Card = {
      ref: 'x',
      title: 't',
      fields: [],
      buttons: ['claim:1', 'claim:2', 'claim:3', 'claim:4'].map((key) => ({ text: key, key })),
    };
    const p = cardParams(many);
    expect(p.btn3_key).toBe('claim:3');
    expect(p.content).toContain('「接单 4」');
  });
});
