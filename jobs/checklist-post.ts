// checklist.<id>: at the template's `post` time (school days, or every day with everyDay) each sheet of the day is
// stored (status open) and posted to its chat — numbered items, units and ranges, the responsible person
// @-mentioned, how to answer — and that person gets a card whose "全部正常" answers with a tap. Once per day: a
// second run of the same day (a manual "run now", a catch-up) finds the sheets there and posts nothing; a retry of
// the same firing re-sends with the same job ids (no duplicates).
import type { Checklist } from '../src/config/schema.js';
import { answerCard } from '../src/domain/checklists/card.js';
import { postText, sheetsFor } from '../src/domain/checklists/sheets.js';
import { Outcome } from '../src/domain/outcome.js';
import { clockOn, gapMs } from '../src/domain/schedule-times.js';
import type { JobContext, JobDefinition, JobFactory } from '../src/scheduler/job.js';
import { ChecklistStore } from '../src/store/checklists.js';

const MIN = 60_000;

export function checklistPostJob(c: Checklist, tz: string): JobDefinition {
  return {
    name: `checklist.${c.id}`,
    title: `发布检查表：${c.title}`,
    schedule: c.post,
    everyDay: c.everyDay,
    // Posting late is worth it until the sheet is due.
    catchUpMs: gapMs(c.post, c.due, tz, 5 * MIN, 12 * 60 * MIN),
    run: (ctx) => postSheets(ctx, c),
  };
}

export async function postSheets(ctx: JobContext, c: Checklist): Promise<Outcome> {
  const store = new ChecklistStore(ctx.redis, ctx.prefix);
  const out = new Outcome();
  const due = clockOn(c.due, ctx.date, ctx.calendar);
  for (const sheet of sheetsFor(c, ctx.date, ctx.at)) {
    const { post } = await store.create(sheet, ctx.firing);
    if (!post) continue;
    const text = postText(sheet, c, ctx.roster.name(sheet.responsible), due);
    out.send({ kind: 'chat', chat: sheet.chat }, { type: 'text', text, mention: [sheet.responsible] });
    // The person responsible can also answer with a tap: a card in their DM (a group robot cannot carry buttons).
    const card = answerCard(sheet, due);
    if (card) out.send({ kind: 'user', person: sheet.responsible }, { type: 'card', card });
  }
  ctx.log.info({ checklist: c.id, date: ctx.date, posted: out.messages.length }, 'checklist posted');
  return out;
}

const factory: JobFactory = (config) => config.checklists.map((c) => checklistPostJob(c, config.org.timezone));
export default factory;
