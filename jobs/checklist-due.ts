// checklist-due.<id>: at the template's `due` time, every sheet of the day not yet done → a reminder DM to the
// person responsible and one line in each chat. checklist-missed.<id>, the template's `grace` later the same day
// (default 60 minutes): still not done → status "missed" (the digest counts it), the managers get the list by DM,
// the person is told.
//
// The grace step is a second job rather than a delayed timer: the spine's timers queue carries task timers only
// (Outcome.timers are per task), while a job gets exactly-once firing, catch-up after downtime, `houqin jobs list`
// and the console's "run now" for free.
import type { Checklist } from '../src/config/schema.js';
import { missing, missingText, sheetName } from '../src/domain/checklists/sheets.js';
import { Outcome } from '../src/domain/outcome.js';
import type { ChecklistSheet } from '../src/domain/records.js';
import { shiftCron } from '../src/domain/schedule-times.js';
import type { JobContext, JobDefinition, JobFactory } from '../src/scheduler/job.js';
import { ChecklistStore } from '../src/store/checklists.js';

const MIN = 60_000;

export function checklistDueJobs(c: Checklist): JobDefinition[] {
  // The schema keeps `grace` to whole minutes from 1 to 720; a reminder is worth catching up until the sheet is missed.
  const grace = Math.round(c.grace / MIN);
  return [
    {
      name: `checklist-due.${c.id}`,
      title: `检查表催填：${c.title}`,
      schedule: c.due,
      everyDay: c.everyDay,
      catchUpMs: grace * MIN,
      run: (ctx) => remind(ctx, c),
    },
    {
      name: `checklist-missed.${c.id}`,
      title: `检查表漏检登记：${c.title}`,
      schedule: shiftCron(c.due, grace),
      everyDay: c.everyDay,
      catchUpMs: 6 * 60 * MIN,
      run: (ctx) => markMissed(ctx, c),
    },
  ];
}

async function openSheets(ctx: JobContext, c: Checklist, store: ChecklistStore): Promise<ChecklistSheet[]> {
  return (await store.day(ctx.date)).filter((s) => s.template === c.id && s.status === 'open');
}

export async function remind(ctx: JobContext, c: Checklist): Promise<Outcome> {
  const store = new ChecklistStore(ctx.redis, ctx.prefix);
  const out = new Outcome();
  const byChat = new Map<string, ChecklistSheet[]>();
  for (const s of await openSheets(ctx, c, store)) {
    await store.update(ctx.date, s.id, (x) =>
      x.status === 'open' && !x.reminded ? { ...x, reminded: true } : undefined,
    );
    const left = missing(s).length;
    out.dm(
      s.responsible,
      `⏰ ${sheetName(s)}还没填完，还差 ${left} 项：${missingText(s)}。请在群里直接回复，例如“全部正常”或“1 正常 2 异常 说明”。`,
    );
    byChat.set(s.chat, [...(byChat.get(s.chat) ?? []), s]);
  }
  for (const [chat, sheets] of byChat) {
    const list = sheets
      .map((s) => `${s.area ?? s.title}（${ctx.roster.name(s.responsible)}，差 ${missing(s).length} 项）`)
      .join('、');
    out.send(
      { kind: 'chat', chat },
      {
        type: 'text',
        text: `⏰ ${c.title}还没填完：${list}，请尽快回复。`,
        mention: [...new Set(sheets.map((s) => s.responsible))],
      },
    );
  }
  return out;
}

export async function markMissed(ctx: JobContext, c: Checklist): Promise<Outcome> {
  const store = new ChecklistStore(ctx.redis, ctx.prefix);
  const out = new Outcome();
  const missed: ChecklistSheet[] = [];
  for (const s of await openSheets(ctx, c, store)) {
    const u = await store.update(ctx.date, s.id, (x) => (x.status === 'open' ? { ...x, status: 'missed' } : undefined));
    if (u) missed.push(u);
  }
  if (!missed.length) return out;
  const [, month, day] = ctx.date.split('-').map(Number);
  const lines = missed.map(
    (s) =>
      `· ${sheetName(s)}：${ctx.roster.name(s.responsible)}，${missing(s).length === s.items.length ? '未填' : `还差 ${missing(s).length} 项`}`,
  );
  for (const m of ctx.roster.managers())
    out.dm(m.id, [`⚠️ ${month}月${day}日 ${c.title}未按时完成：`, ...lines].join('\n'));
  for (const s of missed)
    out.dm(s.responsible, `${sheetName(s)}已过时限，记为未完成（已告知后勤主任）。仍可补填，回复方式不变。`);
  ctx.log.info({ checklist: c.id, date: ctx.date, missed: missed.length }, 'checklist sheets missed');
  return out;
}

const factory: JobFactory = (config) => config.checklists.flatMap((c) => checklistDueJobs(c));
export default factory;
