// Checklist answers as people type them into a group chat: "全部正常", "3 异常 灭火器压力不足", "2 浓度 500",
// "1 正常 2 450 4 异常 滑梯松动", "应到30 实到29 体温异常0", 繁體 and full-width digits too. Text → structure only;
// the domain decides what the structure means for a sheet (ranges, tasks, what is still missing).
import { normalize, trimPunct } from './normalize.js';
import { problemWords } from './lexicon.js';
import { chineseToInt } from './numbers.js';

export interface AnswerItem {
  label: string;
  type: 'yesno' | 'number' | 'text';
}

export interface ItemAnswer {
  index: number; // 0-based position on the sheet
  ok?: boolean; // yes/no items: true = 正常
  number?: number; // number items
  text?: string; // text items
  note?: string; // what follows the value ("灭火器压力不足")
}

export interface ChecklistAnswer {
  /** "全部正常" / "其余正常": every yes/no item not answered otherwise is 正常. */
  allOk: boolean;
  answers: ItemAnswer[];
  /** Parts that were recognisably meant for the sheet but cannot be used, said in Chinese. */
  problems: string[];
}

const okWords = [
  '没有问题',
  '无异常',
  '没问题',
  '正常',
  '合格',
  '完好',
  '良好',
  '已完成',
  '完成',
  '已做',
  '做了',
  '到位',
  '已消毒',
  '已留样',
  '是',
  '有',
  '好',
  'ok',
  'yes',
  '√',
  '✓',
  '✔',
  '☑',
];
const failWords = [
  '不正常',
  '不合格',
  '有问题',
  '有隐患',
  '隐患',
  '未完成',
  '没完成',
  '没做',
  '未做',
  '异常',
  '损坏',
  '坏了',
  '坏',
  '故障',
  '失灵',
  '破损',
  '不行',
  '没有',
  '无',
  '否',
  'no',
  '×',
  '✗',
  '✘',
  'x',
];
const verdicts: [string, boolean][] = [
  ...okWords.map((w): [string, boolean] => [w, true]),
  ...failWords.map((w): [string, boolean] => [w, false]),
].sort((a, b) => b[0].length - a[0].length);

/** Whole-sheet "all fine" at the start of a clause: 全部正常, 都正常, 一切正常, 均合格, 其余正常, 正常. */
const allOkLead =
  /^(?:(?:全部|全都|都|均|一切|所有项目|所有项|所有|各项|其余|其他|其它|剩下的|剩下|余下的|余下|别的|另外的|另外)的?(?:都|均|全)?(?:已经|已|是)?(?:正常|合格|完好|良好|没问题|无异常|ok|完成|做了|到位|好)|正常|没问题|无异常|合格|ok)(?:了|的|啊|哈|呢)?(?=$|[\s\d\p{P}\p{S}])/u;
/** The same said at the end of a note, after the exceptions: "3 异常 灭火器压力不足 其余正常". */
const allOkTail =
  /(?:^|\s)(?:其余|其他|其它|剩下的?|余下的?|别的|另外的?)(?:都|均|全)?(?:正常|合格|完好|良好|没问题|无异常|好)(?:了|的)?$/;

const cjk = /[\u3400-\u9fff]/;
const boundary = /[\s\p{P}\p{S}]/u;
/** "2号楼", "3号床": a numbered thing, not item 2 (as in numbers.ts). */
const numberedThing = /^\s*[楼层床柜车线桌房室门]/;
const troubleWords = [...problemWords, ...failWords.filter((w) => w.length > 1), '有点', '不太', '不够'];

/** Words that say something is wrong, without the verdict grammar ("滑梯有点松", "插座松动"). */
function soundsWrong(t: string): boolean {
  return troubleWords.some((w) => t.includes(w));
}

/** A verdict word at `j`. One-letter and one-character words need a boundary after them ("好吃" is not 好). */
function verdictAt(s: string, j: number): { ok: boolean; end: number } | undefined {
  for (const [w, ok] of verdicts) {
    if (!s.startsWith(w, j)) continue;
    const end = j + w.length;
    const strongWord = w.length > 1 && cjk.test(w);
    if (strongWord || end >= s.length || boundary.test(s[end])) return { ok, end };
  }
  return undefined;
}

const numberRe = /(-?\d+(?:\.\d+)?)(?![\d.])\s*(?:mg\/l|mg|ppm|分钟|min|人|个|℃|°c|度|°|小时|h)?/y;

function numberAt(s: string, j: number): { value: number; end: number } | undefined {
  numberRe.lastIndex = j;
  const m = numberRe.exec(s);
  return m ? { value: Number(m[1]), end: j + m[0].length } : undefined;
}

const indexRe = /\(?(?:第\s*)?(\d{1,2})(?![\d]|\.\d)\s*(?:项|号)?\s*[.、:)]?\s*/y;
const cnIndexRe = /(?:第\s*)?([一二三四五六七八九十]{1,2})\s*(?:项|号)?\s*[.、:)]?\s*/y;

interface Part {
  answer?: ItemAnswer;
  problem?: string;
  /** A problem with an item that exists ("第3项请填数字"): the message was meant for this sheet. */
  meant?: boolean;
  end: number;
  /** A failed yes/no item: its note runs on to the next numbered part (an explanation may name other things). */
  fail?: boolean;
}

export class AnswerReader {
  /** Label fragments (two characters or more) that point at exactly one item, longest first. */
  private fragments: { text: string; index: number }[] = [];

  constructor(private items: AnswerItem[]) {
    const seen = new Map<string, Set<number>>();
    items.forEach((it, index) => {
      const label = normalize(it.label).toLowerCase();
      for (let a = 0; a < label.length; a++) {
        for (let b = a + 2; b <= label.length; b++) {
          const f = label.slice(a, b);
          if (!seen.has(f)) seen.set(f, new Set());
          seen.get(f)!.add(index);
        }
      }
    });
    for (const [text, where] of seen) {
      // A fragment that is itself a verdict ("异常" in 体温异常人数) would read "3 异常" as a label.
      if (where.size !== 1 || verdicts.some(([w]) => w === text) || /^[\s\d]|\s$/.test(text)) continue;
      this.fragments.push({ text, index: [...where][0] });
    }
    this.fragments.sort((x, y) => y.text.length - x.text.length);
  }

  /** undefined when the text does not read as an answer to this sheet at all. */
  read(text: string): ChecklistAnswer | undefined {
    const msg = normalize(text).toLowerCase();
    if (!msg) return undefined;
    const clauses = msg
      .split(/[\n,;。!?，；！？]+/)
      .map((c) => c.trim())
      .filter(Boolean);
    const out: ChecklistAnswer = { allOk: false, answers: [], problems: [] };
    let last: { answer?: ItemAnswer; fail?: boolean } | undefined;
    let usable = false; // at least one part meant for this sheet (not only "没有第7项")
    const loose = (raw: string) => {
      // Words after "全部正常" that belong to no item: say so when they sound like a problem, never drop them silently.
      const t = trimPunct(raw.trim());
      if (t && soundsWrong(t)) out.problems.push(`“${t}”没看懂：有异常请写编号，例如“3 异常 ${t.slice(0, 8)}”`);
    };
    for (const clause of clauses) {
      let i = 0;
      const lead = allOkLead.exec(clause);
      if (lead) {
        out.allOk = usable = true;
        i = lead[0].length;
        last = undefined; // what follows "全部正常" is not a note on an earlier item
      }
      const leadEnd = i;
      let noteFrom = i;
      let inClause = false;
      let prevEnd = -1;
      while (i < clause.length) {
        if (clause[i] === ' ') {
          i++;
          continue;
        }
        const spaced = i === 0 || clause[i - 1] === ' ';
        const clauseStart = clause.slice(leadEnd, i).trim() === '' && !inClause;
        const p = this.partAt(clause, i, {
          clauseStart,
          afterPart: i === prevEnd,
          spaced,
          inFailNote: !!last?.fail && inClause,
        });
        if (!p) {
          if (!last && !out.allOk) return undefined; // words before any item: not an answer ("报修 小一班 …")
          i++;
          continue;
        }
        if (last) this.closeNote(last.answer, clause.slice(noteFrom, i));
        else loose(clause.slice(noteFrom, i));
        if (p.problem) out.problems.push(p.problem);
        if (p.answer || p.meant) usable = true;
        if (p.answer) out.answers.push(p.answer);
        last = { answer: p.answer, fail: p.fail };
        inClause = true;
        i = noteFrom = prevEnd = p.end;
      }
      const rest = clause.slice(noteFrom);
      const tail = allOkTail.exec(rest);
      if (tail) out.allOk = usable = true;
      const note = tail ? rest.slice(0, tail.index) : rest;
      if (last) this.closeNote(last.answer, note);
      else loose(note);
    }
    // Only out-of-range numbers ("12号好了" on a six-item sheet) is a task command, not an answer.
    if (!usable) return undefined;
    for (const a of out.answers) {
      if (this.items[a.index].type === 'text' && !a.text)
        out.problems.push(`第${a.index + 1}项“${this.items[a.index].label}”请写上内容`);
    }
    out.answers = out.answers.filter((a) => this.items[a.index].type !== 'text' || a.text);
    return out;
  }

  private closeNote(a: ItemAnswer | undefined, raw: string): void {
    const note = trimPunct(raw.trim());
    if (!a || !note) return;
    if (this.items[a.index].type === 'text' && a.text === undefined) a.text = note;
    else a.note = a.note ? `${a.note}，${note}` : note;
  }

  private partAt(
    s: string,
    i: number,
    at: { clauseStart: boolean; afterPart: boolean; spaced: boolean; inFailNote: boolean },
  ): Part | undefined {
    indexRe.lastIndex = i;
    const m = indexRe.exec(s);
    // "有2个灭火器过期": a number inside words is an item only when a verdict follows at once ("1正常2正常").
    if (m && !(i > 0 && /[\d.a-z-]/.test(s[i - 1]))) {
      const tight = !at.spaced && !at.afterPart;
      if (tight && at.inFailNote) return undefined; // "3 异常 灭火器2号坏了" explains item 3
      return this.numbered(s, Number(m[1]), i + m[0].length, tight, /[项号、.:)]\s*$/.test(m[0]));
    }
    if (at.clauseStart) {
      cnIndexRe.lastIndex = i;
      const c = cnIndexRe.exec(s);
      const n = c ? chineseToInt(c[1]) : undefined;
      if (c && n && verdictAt(s, i + c[0].length)) return this.numbered(s, n, i + c[0].length, true, false);
    }
    // A label in place of the number: "燃气 正常", "浓度 500", "应到30 实到29". Not inside the explanation of a
    // failed item ("3 异常 门窗坏了" names a door, it does not answer item 1).
    if (at.inFailNote || (!at.spaced && !at.afterPart)) return undefined;
    const f = this.fragments.find((x) => s.startsWith(x.text, i));
    if (!f) return undefined;
    let j = i + f.text.length;
    // The rest of the label and a connector: "消防器材与通道 异常", "浓度为 500", "冷藏温度: 4".
    const label = normalize(this.items[f.index].label).toLowerCase();
    const fullFrom = label.indexOf(f.text) + f.text.length;
    if (s.startsWith(label.slice(fullFrom), j)) j += label.length - fullFrom;
    j += /^\s*[:=为是]?\s*/.exec(s.slice(j))![0].length;
    return this.valueFor(s, f.index, j, false);
  }

  private numbered(s: string, n: number, j: number, tight: boolean, marked: boolean): Part | undefined {
    if (n < 1 || n > this.items.length) {
      // Recognisably an item ("7 正常"), but the sheet is shorter.
      if (verdictAt(s, j) || numberAt(s, j))
        return { problem: `没有第${n}项（共${this.items.length}项）`, end: (verdictAt(s, j) ?? numberAt(s, j))!.end };
      return undefined;
    }
    const index = n - 1;
    const item = this.items[index];
    if (item.type === 'text') return tight || j >= s.length ? undefined : { answer: { index }, end: j };
    if (item.type === 'number' && !tight) {
      // "2 浓度 500": a label may stand between the number of the item and its value.
      const labelled = /^([^\d\s-][^\d]{0,11}?)\s*[:=为是]?\s*(?=-?\d)/.exec(s.slice(j));
      if (labelled && !this.isVerdictText(labelled[1])) return this.valueFor(s, index, j + labelled[0].length, false);
    }
    if (item.type === 'yesno' && !tight) {
      // "2 浓度 500" numbered wrong: the label names a number item, trust the label.
      const labelled = /^([^\d\s-][^\d]{0,11}?)\s*[:=为是]?\s*(?=-?\d)/.exec(s.slice(j));
      const f =
        labelled &&
        this.fragments.find((x) => labelled[1].trim().includes(x.text) && this.items[x.index].type === 'number');
      if (labelled && f) return this.valueFor(s, f.index, j + labelled[0].length, false);
    }
    const part = this.valueFor(s, index, j, tight);
    if (part) return part;
    // "4 滑梯松动", "就是4号滑梯有点松": no verdict word, but plainly a problem with that item. Not "2号楼漏水".
    if (item.type === 'yesno' && (!tight || marked) && !numberedThing.test(s.slice(j))) {
      const said = s.slice(j).split(/\s\d/)[0];
      if (soundsWrong(said)) return { answer: { index, ok: false }, end: j, fail: true };
    }
    return undefined;
  }

  private isVerdictText(t: string): boolean {
    const x = t.trim();
    if (this.fragments.some((f) => x.includes(f.text))) return false; // "体温异常" is a label
    return verdicts.some(([w]) => cjk.test(w) && x.includes(w));
  }

  private valueFor(s: string, index: number, j: number, tight: boolean): Part | undefined {
    const item = this.items[index];
    const no = `第${index + 1}项“${item.label}”`;
    const v = verdictAt(s, j);
    const num = v ? undefined : numberAt(s, j);
    if (item.type === 'yesno') {
      if (v) return { answer: { index, ok: v.ok }, end: v.end, fail: !v.ok };
      if (num && !tight) return { problem: `${no}请回复“正常”或“异常”`, end: num.end, meant: true };
      return undefined;
    }
    if (item.type === 'number') {
      if (num) return { answer: { index, number: num.value }, end: num.end };
      if (v && !tight) return { problem: `${no}请填数字`, end: v.end, meant: true };
      return undefined;
    }
    return tight ? undefined : { answer: { index }, end: j };
  }
}

/** One-shot form of AnswerReader (tests, scripts). */
export function parseChecklistAnswer(text: string, items: AnswerItem[]): ChecklistAnswer | undefined {
  return new AnswerReader(items).read(text);
}
