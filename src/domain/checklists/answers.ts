// Answers to today's checklists, typed in chat by the person responsible: "全部正常", "3 异常 灭火器压力不足",
// "2 浓度 500". A Conversation (TaskService.use): it takes a message only when it reads as an answer from someone
// with a sheet today, in the chat the sheet was posted to (or a DM), and never a command ("接单 12", "报修 …").
// Also the buttons of the card that comes with the post (全部正常 / 有异常，我来说明), through click().
import type { Envelope } from '../../channels/envelope.js';
import { AnswerReader, type ChecklistAnswer } from '../../commands/checklist-answer.js';
import { detectTrade, isUrgent } from '../../commands/classify.js';
import { isCommand } from '../../commands/command-guard.js';
import { normalize } from '../../commands/normalize.js';
import type { Parser } from '../../commands/parser.js';
import type { Kind, Person } from '../../config/schema.js';
import type { SchoolCalendar } from '../../scheduler/calendar.js';
import type { ChecklistStore } from '../../store/checklists.js';
import { chatOf } from '../chat-of.js';
import { answerCard, cardRef, explainText, parseCardKey, recordedCard } from './card.js';
import {
  applyChanges,
  changesFrom,
  failureText,
  itemsOf,
  missing,
  missingText,
  rangeText,
  sheetName,
  sheetNames,
  valueText,
  type Change,
} from './sheets.js';
import { Outcome } from '../outcome.js';
import type { ChecklistSheet } from '../records.js';
import type { Roster } from '../roster.js';
import type { Conversation, TaskService } from '../tasks/service.js';

export interface ChecklistAnswersDeps {
  store: ChecklistStore;
  service: TaskService;
  roster: Roster;
  calendar: SchoolCalendar;
  parser: Parser;
}

/** Every answer has a number, a verdict word or "ok": anything else is not looked at (no Redis read). */
const mayBeAnswer =
  /[\d一二三四五六七八九十√✓✔☑×✗✘]|正常|异常|合格|问题|完好|良好|完成|坏|故障|不行|隐患|失灵|破损|没做|未做|没有|ok|yes|no|(?:^|\s)[x无否是有好](?:$|\s)/i;

const statusOrder = { open: 0, missed: 1, done: 2 } as const;
const opened: Record<string, string> = { repair: '已报修', cleaning: '已报保洁', meal: '已转食堂' };

export class ChecklistAnswers implements Conversation {
  constructor(private d: ChecklistAnswersDeps) {}

  async offer(env: Envelope, me: Person, out: Outcome, now: number): Promise<boolean> {
    const text = env.text?.trim();
    if (!text || !mayBeAnswer.test(normalize(text))) return false;
    const mine = (await this.d.store.day(this.d.calendar.dateOf(now))).filter((s) => s.responsible === me.id);
    if (!mine.length || isCommand(this.d.parser, text)) return false;
    // In a group we know, only the sheets posted there; in a DM (or a group the config does not map) all of them.
    const chat = chatOf(this.d.roster.config, env);
    const scope = chat ? mine.filter((s) => s.chat === chat) : mine;
    if (!scope.length) return false;

    const named = pickByName(scope, normalize(text).toLowerCase());
    const candidates = named.sheets.length ? named.sheets : scope;
    const best = Math.min(...candidates.map((s) => statusOrder[s.status]));
    const pool = candidates.filter((s) => statusOrder[s.status] === best);
    const readings = pool
      .map((s) => ({ sheet: s, answer: this.reader(s).read(named.sheets.length ? named.rest : text) }))
      .filter((r) => r.answer);
    if (!readings.length) return false;
    if (pool.length > 1) {
      const list = pool.map((s) => sheetName(s)).join('、');
      const hint = pool[0].area ?? sheetNames(pool[0]).at(-1);
      out.reply(`你有 ${pool.length} 张检查表：${list}。请在回复前写上名称，例如“${hint} 全部正常”。`);
      return true;
    }
    const sheet = readings[0].sheet;
    const after = await this.record(env, me, out, now, sheet, readings[0].answer!);
    if (after) this.retireCard(sheet, after, out);
    return !!after;
  }

  /**
   * Once typed answers leave the card's "全部正常" nothing to do (no yes/no item open), the card in the person's
   * DM shows what was recorded and loses its buttons, as after a tap. Before that the button still helps: "3 异常
   * …" typed, then 全部正常 for the rest.
   */
  private retireCard(before: ChecklistSheet, after: ChecklistSheet, out: Outcome): void {
    const open = (s: ChecklistSheet) => s.items.some((e) => e.type === 'yesno' && e.value === undefined);
    if (!answerCard(after) || !open(before) || open(after)) return;
    out.send({ kind: 'cards', ref: cardRef(after) }, { type: 'card', card: recordedCard(after) });
  }

  /**
   * A button on the card sent with the post (card.ts): "全部正常" records what the text "全部正常" would,
   * once — a second click, or a click after everything was answered in chat, records nothing and shows the sheet as
   * it is; "有异常，我来说明" says how to write the failure. Either way the person responsible, no one else.
   */
  async click(env: Envelope, me: Person, out: Outcome, now: number): Promise<boolean> {
    const k = parseCardKey(env.action?.key ?? '');
    if (!k) return false;
    const sheet = await this.d.store.get(k.date, k.sheet);
    if (!sheet) {
      out.reply('找不到这张检查表了，请在群里直接回复检查结果。');
      return true;
    }
    if (sheet.responsible !== me.id) {
      out.reply(`${sheetName(sheet)}由${this.d.roster.name(sheet.responsible)}填写。`);
      return true;
    }
    if (k.action === 'explain') {
      out.reply(explainText(sheet));
      return true;
    }
    const answer: ChecklistAnswer = { allOk: true, answers: [], problems: [] };
    const fresh = changesFrom(sheet, itemsOf(this.d.roster.config, sheet), answer).length > 0;
    const after = fresh ? await this.record(env, me, out, now, sheet, answer) : sheet;
    if (!after) return false;
    if (!fresh) {
      const left = missing(sheet);
      out.reply(
        `【${sheetName(sheet)}】的是非项已经记录过了，不用再点。${left.length ? `还差 ${left.length} 项：${missingText(sheet)}` : ''}`,
      );
    }
    const card = recordedCard(after);
    out.clickedCard = card;
    if (env.action?.responseCode)
      out.send(
        { kind: 'clicked_card', channel: env.channel, person: me.id, responseCode: env.action.responseCode },
        { type: 'card', card },
      );
    return true;
  }

  private reader(s: ChecklistSheet): AnswerReader {
    return new AnswerReader(s.items.map((e) => ({ label: e.label, type: e.type })));
  }

  /** Writes the answer to the sheet, opens tasks for failures, replies; the sheet as written (undefined: it is gone). */
  private async record(
    env: Envelope,
    me: Person,
    out: Outcome,
    now: number,
    sheet: ChecklistSheet,
    answer: ChecklistAnswer,
  ): Promise<ChecklistSheet | undefined> {
    const items = itemsOf(this.d.roster.config, sheet);
    const changes = changesFrom(sheet, items, answer);
    const tasks = new Map<string, number>();
    const notes: Map<string, string> = new Map();
    const routed: { id: number; kind: Kind }[] = [];
    for (const c of changes.filter((x) => !x.ok)) {
      const prior = sheet.items[c.index].task;
      if (prior !== undefined) {
        tasks.set(c.item.key, prior);
        notes.set(c.item.key, `#${prior}`);
        continue;
      }
      const t = await this.openTask(env, me, now, sheet, c);
      tasks.set(c.item.key, t.id);
      routed.push({ id: t.id, kind: c.item.kind ?? 'repair' });
      notes.set(
        c.item.key,
        `${opened[c.item.kind ?? 'repair'] ?? `已转${this.d.roster.kindName(c.item.kind ?? 'repair')}`} #${t.id}（已通知${t.owner ? `${this.d.roster.name(t.owner)}·${t.team}` : t.team}）`,
      );
    }
    const updated = await this.d.store.update(sheet.date, sheet.id, (s) =>
      applyChanges(s, changesFrom(s, items, answer), me.id, now, tasks),
    );
    if (!updated) return undefined;
    for (const r of routed) out.dispatch(r.id, r.kind);
    out.reply(this.confirmation(sheet, updated, changes, notes, answer.problems));
    return updated;
  }

  private async openTask(env: Envelope, me: Person, now: number, sheet: ChecklistSheet, c: Change) {
    const kind = c.item.kind ?? 'repair';
    const note = c.note ?? '';
    const text = failureText(sheet, c);
    const source = { channel: env.channel, surface: env.surface, chatId: env.chat.id, chatType: env.chat.type };
    return this.d.service.openTask(
      new Outcome(),
      {
        kind,
        trade: c.item.trade ?? (note ? detectTrade(note) : undefined),
        // A place named in the note ("小一班灭火器过期") is more exact than the item's or the area's.
        place: (note ? this.d.parser.findPlace(note) : undefined) ?? c.item.place ?? sheet.place,
        text,
        urgent: isUrgent(note, kind),
        reporter: me.id,
        source,
        checklist: `${sheet.id}:${c.item.key}`,
      },
      `cl.${sheet.date}.${sheet.id}.${c.item.key}`,
      now,
    );
  }

  private confirmation(
    before: ChecklistSheet,
    after: ChecklistSheet,
    changes: Change[],
    notes: Map<string, string>,
    problems: string[],
  ): string {
    const lines = [`📝 已记录【${sheetName(after)}】`];
    const fine = changes.filter((c) => c.ok && c.item.type === 'yesno');
    if (fine.length > 3) lines.push(`✅ 第${fine.map((c) => c.index + 1).join('、')}项 正常`);
    else if (fine.length) lines.push(`✅ ${fine.map((c) => `${c.index + 1} ${c.item.label}`).join('、')} 正常`);
    for (const c of changes.filter((x) => x.item.type !== 'yesno' || !x.ok)) {
      const range = !c.ok && c.item.type === 'number' ? rangeText(c.item) : '';
      const why = range ? `（${range.startsWith('应为') ? range : `应为 ${range}`}）` : '';
      const task = notes.get(c.item.key);
      lines.push(
        `${c.ok ? '✅' : '❌'} ${c.index + 1} ${c.item.label} ${valueText(c)}${why}${c.note ? `：${c.note}` : ''}${task ? ` → ${task}` : ''}`,
      );
    }
    for (const p of problems) lines.push(`⚠️ ${p}`);
    const left = missing(after);
    if (!left.length) {
      if (before.status === 'open' && after.status === 'done')
        lines.push(`🎉 ${after.items.length} 项全部填完，谢谢！`);
      else if (after.status === 'missed') lines.push('（已过时限，按补填记录）');
    } else {
      const numbers = left.some((x) => x.entry.type === 'number');
      lines.push(
        `还差 ${left.length} 项：${missingText(after)}${numbers ? `。数字项写“编号 数值”，如“${left.find((x) => x.entry.type === 'number')!.index + 1} 数值”` : ''}`,
      );
      if (after.status === 'missed') lines.push('（已过时限，按补填记录）');
    }
    return lines.join('\n');
  }
}

/**
 * "午睡室 全部正常", "消毒 午睡室 1 正常": names in front of the answer narrow the sheets, longest first.
 * Returns no sheets when the text names none.
 */
export function pickByName(scope: ChecklistSheet[], msg: string): { sheets: ChecklistSheet[]; rest: string } {
  let sheets = scope;
  let rest = msg;
  let named = false;
  for (;;) {
    const lengths = sheets.map((s) =>
      Math.max(
        0,
        ...sheetNames(s)
          .map((n) => normalize(n).toLowerCase())
          .filter((n) => rest.startsWith(n))
          .map((n) => n.length),
      ),
    );
    const len = Math.max(0, ...lengths);
    if (!len) break;
    sheets = sheets.filter((_, i) => lengths[i] === len);
    rest = rest.slice(len).replace(/^[\s:,·.\-、]+/, '');
    named = true;
  }
  return { sheets: named ? sheets : [], rest };
}
