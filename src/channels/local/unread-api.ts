// The console's 未识别 list: messages the bot could not read and reports people said 不是 to. A manager turns one into
// a report with a tap (kind, trade, place), and may add the words the bot did not know to the site's vocabulary
// overlay (config/vocabulary.ts), which the running parser picks up at once.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { Parser } from '../../commands/parser.js';
import { addExample, addWords } from '../../config/vocabulary.js';
import { primaryRole } from '../../commands/learned.js';
import { Outcome } from '../../domain/outcome.js';
import type { Roster } from '../../domain/roster.js';
import type { TaskService } from '../../domain/tasks/service.js';
import type { Queues } from '../../queues/runtime.js';
import type { SideStore, Unread } from '../../store/side.js';
import type { StrangerStore } from '../../store/strangers.js';
import { json } from './request.js';

export interface UnreadDeps {
  side: SideStore;
  /** People not on the roster who wrote (名册外). */
  strangers: StrangerStore;
  service: TaskService;
  roster: Roster;
  queues: Queues;
  parser(): Parser;
  vocabularyPath: string;
  /** Rebuilds the parser with the overlay just written. */
  reloadVocabulary(): void;
}

const words = z.array(z.string().trim().min(1).max(20)).max(10).default([]);
const reportSchema = z.object({
  as: z.string(),
  id: z.number().int().positive(),
  kind: z.string().min(1),
  trade: z.string().min(1).max(20).optional(),
  place: z.string().min(1).max(40).optional(),
  words,
});
const dismissSchema = z.object({ as: z.string(), id: z.number().int().positive() });
const strangerSchema = z.object({ as: z.string(), id: z.string().min(1).max(300) });
const vocabularySchema = z
  .object({ as: z.string(), trade: z.string().min(1).max(20).optional(), kind: z.string().min(1).optional(), words })
  .refine((b) => !!b.trade !== !!b.kind, 'give either trade or kind');

export function mountUnread(router: Router, d: UnreadDeps): void {
  const manager = (ctx: Context, as: string): boolean => {
    if (d.roster.isManager(as)) return true;
    ctx.status = 403;
    ctx.body = { error: `only a manager can do this ("${as}" is not one)` };
    return false;
  };

  const teach = (item: Unread, means: string) =>
    addExample(d.vocabularyPath, { text: item.text, means, who: primaryRole(d.roster.person(item.person)?.roles) });

  router.get('/console/api/unread', async (ctx) => {
    const items = await d.side.listUnread(200);
    ctx.body = {
      items: items.map((u) => ({ ...u, name: d.roster.name(u.person), words: d.parser().unknownWords(u.text) })),
    };
  });

  router.post('/console/api/unread/report', async (ctx) => {
    const b = await json(ctx, reportSchema);
    if (!b || !manager(ctx, b.as)) return;
    if (!d.roster.kinds.some((k) => k.id === b.kind)) {
      ctx.status = 400;
      ctx.body = { error: `unknown kind "${b.kind}" (${d.roster.kinds.map((k) => k.id).join(', ')})` };
      return;
    }
    const item = await d.side.takeUnread(b.id);
    if (!item) {
      ctx.status = 404;
      ctx.body = { error: `no unread message ${b.id} (already handled?)` };
      return;
    }
    const out = new Outcome();
    const source = { channel: item.channel, surface: 'console', chatId: item.chat, chatType: 'group' as const };
    const { id } = await d.service.openTask(
      out,
      {
        kind: b.kind as never,
        trade: b.trade,
        place: b.place,
        text: item.text,
        urgent: false,
        reporter: item.person,
        source,
      },
      `unread:${item.id}`,
    );
    out.dm(
      item.person,
      `你之前发的「${item.text.slice(0, 30)}」已由${d.roster.name(b.as)}登记为 #${id}，有人接单会告诉你。`,
    );
    await d.queues.apply(out, `unread:${item.id}`);
    // The message itself, as this site writes, is kept as an example of the kind; and the words, if any were picked.
    teach(item, `report:${b.kind}`);
    if (b.words.length) addWords(d.vocabularyPath, b.trade ? { trade: b.trade } : { kind: b.kind }, b.words);
    d.reloadVocabulary();
    ctx.body = { task: id, learned: b.words };
  });

  router.post('/console/api/unread/dismiss', async (ctx) => {
    const b = await json(ctx, dismissSchema);
    if (!b || !manager(ctx, b.as)) return;
    const item = await d.side.takeUnread(b.id);
    // Nothing for logistics: the next message like it is no report either.
    if (item) {
      teach(item, 'none');
      d.reloadVocabulary();
    }
    ctx.body = { ok: !!item };
  });

  // 名册外: senders not on the roster, one line each (store/strangers.ts), for the manager to add or to dismiss.
  router.get('/console/api/strangers', async (ctx) => {
    ctx.body = { items: await d.strangers.list(100) };
  });

  router.post('/console/api/strangers/dismiss', async (ctx) => {
    const b = await json(ctx, strangerSchema);
    if (!b || !manager(ctx, b.as)) return;
    ctx.body = { ok: await d.strangers.dismiss(b.id) };
  });

  router.post('/console/api/vocabulary', async (ctx) => {
    const b = await json(ctx, vocabularySchema);
    if (!b || !manager(ctx, b.as)) return;
    if (b.kind && !d.roster.kinds.some((k) => k.id === b.kind)) {
      ctx.status = 400;
      ctx.body = { error: `unknown kind "${b.kind}"` };
      return;
    }
    const o = addWords(d.vocabularyPath, b.trade ? { trade: b.trade } : { kind: b.kind! }, b.words);
    d.reloadVocabulary();
    ctx.body = { vocabulary: o };
  });
}
