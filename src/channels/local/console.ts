// The console's HTTP side: the page, and a small JSON API (also for scripts and tests) to act as any person
// on the roster. It is a channel like WeCom: it turns what a person does into an Envelope and hands it off.
import type Router from '@koa/router';
import { PassThrough } from 'node:stream';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Ingress } from '../ingress.js';
import type { Roster } from '../../domain/roster.js';
import type { TaskStore } from '../../store/tasks.js';
import type { Queues } from '../../queues/runtime.js';
import type { LocalChats } from './chats.js';
import type { EventHub } from './hub.js';
import { json, refuse } from './request.js';
import { dmChat } from './sender.js';
import type { MediaStore } from '../../store/media.js';
import type { PhotoStore } from '../../store/photos.js';
import { mountPhotoRoute, takeUpload, uploadBodyLimit } from './photos.js';

export interface ScheduledJobs {
  list(): { name: string; title: string; schedule: string; enabled: boolean; everyDay: boolean; next?: number }[];
  run(name: string, date?: string): Promise<void>;
}

export interface ConsoleDeps {
  ingress: Ingress;
  roster: Roster;
  tasks: TaskStore;
  queues: Queues;
  chats: LocalChats;
  hub: EventHub;
  jobs: ScheduledJobs;
  token?: string;
  /** Photos: uploads are stored here, and served from GET /console/api/photos/:hash (photos.ts). */
  media?: MediaStore;
  photos?: PhotoStore;
}

const pageDir = new URL('./page/', import.meta.url);
const assets: Record<string, string> = {
  '': 'index.html',
  'console.js': 'console.js',
  'unread.js': 'unread.js',
  'console.css': 'console.css',
};
const types: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

// A message is words, a picture (`image`: a data URL or base64), or both.
const sendSchema = z
  .object({ as: z.string(), chat: z.string(), text: z.string().max(2000).optional(), image: z.string().optional() })
  .refine((b) => !!b.text?.trim() || !!b.image, { message: 'text or image is required', path: ['text'] });
const clickSchema = z.object({ as: z.string(), chat: z.string(), messageId: z.string(), key: z.string().max(200) });
const advanceSchema = z.object({
  minutes: z
    .number()
    .positive()
    .max(60 * 24 * 30),
});
const runSchema = z.object({
  name: z.string(),
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
});

function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export function mountConsole(router: Router, d: ConsoleDeps): void {
  const { roster } = d;
  const chatIds = new Set(roster.config.chats.map((c) => c.id));
  const canUse = (as: string, chat: string) => chatIds.has(chat) || chat === dmChat(as);

  // Mounted under a prefix (a district's site: /t/<id>), the page's own links must carry it too.
  const prefix = router.opts.prefix ?? '';
  for (const [path, file] of Object.entries(assets)) {
    router.get(`/console${path ? '/' + path : ''}`, async (ctx) => {
      ctx.type = types[file.split('.').pop()!];
      ctx.set('Cache-Control', 'no-cache');
      const body = await readFile(new URL(file, pageDir));
      ctx.body =
        prefix && file.endsWith('.html') ? body.toString('utf8').replaceAll('"/console', `"${prefix}/console`) : body;
    });
  }

  router.use('/console/api', async (ctx, next) => {
    if (d.token) {
      const given = ctx.get('x-console-token') || (typeof ctx.query.token === 'string' ? ctx.query.token : '');
      if (!given || !same(given, d.token)) {
        ctx.status = 401;
        ctx.body = { error: 'console token required (HOUQIN_CONSOLE_TOKEN): open the page with ?token=…' };
        return;
      }
    }
    await next();
  });
  if (d.media) mountPhotoRoute(router, d.media);

  router.get('/console/api/roster', (ctx) => {
    ctx.body = {
      org: { name: roster.config.org.name },
      people: roster.config.people.map((p) => ({ id: p.id, name: p.name, roles: p.roles, title: p.title })),
      chats: roster.config.chats.map((c) => ({ id: c.id, name: c.name, type: c.type })),
      kinds: roster.kinds,
    };
  });

  router.post('/console/api/messages', async (ctx) => {
    const b = await json(ctx, sendSchema, d.media ? uploadBodyLimit(d.media.maxBytes) : undefined);
    if (!b) return;
    const person = roster.person(b.as);
    if (!person || !canUse(b.as, b.chat)) return refuse(ctx, 400, `unknown person "${b.as}" or chat "${b.chat}"`);
    if (b.image && !d.media) return refuse(ctx, 400, 'photos are not enabled here');
    const image = b.image && d.media ? await takeUpload(d.media, b.image, d.ingress.log) : undefined;
    const text = b.text?.trim() ? b.text : undefined;
    const posted = await d.chats.post(
      b.chat,
      { kind: 'person', id: person.id, name: person.name },
      // A photo that was not kept (too big, unreadable) shows as 📷; the bot's answer says why.
      image?.hash ? { type: 'image', text, photo: image.hash } : { type: 'text', text: text ?? '📷' },
    );
    await d.ingress.accept({
      id: `local:console:${b.chat}:${posted.id}`,
      channel: 'local',
      surface: 'console',
      msgId: posted.id,
      chat: { id: b.chat, type: b.chat.startsWith('dm:') ? 'single' : 'group' },
      sender: { platformId: person.id },
      text,
      ...(image ? { images: [image] } : {}),
      receivedAt: Date.now(),
    });
    ctx.body = { id: posted.id, ...(image ? { image } : {}) };
  });

  router.post('/console/api/click', async (ctx) => {
    const b = await json(ctx, clickSchema);
    if (!b) return;
    if (!roster.person(b.as) || !canUse(b.as, b.chat))
      return refuse(ctx, 400, `unknown person "${b.as}" or chat "${b.chat}"`);
    const card = await d.ingress.click({
      id: `local:click:${b.chat}:${b.messageId}:${b.key}:${b.as}`,
      channel: 'local',
      surface: 'console',
      msgId: `${b.messageId}-${b.key}`,
      chat: { id: b.chat, type: b.chat.startsWith('dm:') ? 'single' : 'group' },
      sender: { platformId: b.as },
      action: { key: b.key, cardRef: b.messageId, responseCode: b.messageId },
      receivedAt: Date.now(),
    });
    if (card) await d.chats.updateCard(b.chat, b.messageId, card);
    ctx.body = { ok: true, ...(card ? { card } : {}) };
  });

  router.get('/console/api/messages', async (ctx) => {
    const chat = typeof ctx.query.chat === 'string' ? ctx.query.chat : '';
    const since =
      typeof ctx.query.since === 'string' && /^\d+-\d+$/.test(ctx.query.since) ? ctx.query.since : undefined;
    if (!chatIds.has(chat) && !(chat.startsWith('dm:') && roster.person(chat.slice(3))))
      return refuse(ctx, 400, `unknown chat "${chat}"`);
    const messages = await d.chats.read(chat, since);
    ctx.body = { messages, last: messages.at(-1)?.id ?? since ?? null };
  });

  router.get('/console/api/events', async (ctx) => {
    ctx.req.socket.setTimeout(0);
    ctx.req.socket.setNoDelay(true);
    ctx.set({
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const stream = new PassThrough();
    ctx.status = 200;
    ctx.body = stream;
    stream.write(': connected\n\n');
    const ping = setInterval(() => stream.write(': ping\n\n'), 15_000);
    const end = () => {
      clearInterval(ping);
      stream.end();
    };
    const off = await d.hub.listen((e) => {
      if (e.type === 'message') stream.write(`event: message\ndata: ${JSON.stringify(e.message)}\n\n`);
      else stream.write(`event: card\ndata: ${JSON.stringify({ id: e.id, chat: e.chat, card: e.card })}\n\n`);
    }, end);
    ctx.req.on('close', () => {
      off();
      end();
    });
  });

  router.get('/console/api/tasks', async (ctx) => {
    const [tasks, timers] = await Promise.all([d.tasks.active(500), d.queues.pendingTimers()]);
    const photos = await d.photos?.forTasks(tasks.map((t) => t.id));
    ctx.body = {
      tasks: tasks.map((t) => ({
        id: t.id,
        kind: t.kind,
        trade: t.trade,
        state: t.state,
        place: t.place,
        text: t.text,
        urgent: t.urgent,
        createdAt: t.createdAt,
        reporter: { id: t.reporter, name: roster.name(t.reporter) },
        ...(t.assignee ? { assignee: { id: t.assignee, name: roster.name(t.assignee) } } : {}),
        acked: t.acked,
        photos: (photos?.get(t.id) ?? []).map((p) => ({ hash: p.hash, kind: p.kind })),
        // Only timers that would still do something: the claim timers while nobody has taken it on, auto-accept while done.
        timers: timers
          .filter((x) => x.task === t.id)
          .filter((x) =>
            x.step === 'autoaccept'
              ? t.state === 'done'
              : t.state === 'open' || (x.step === 'escalate' && t.state === 'claimed' && !t.acked),
          )
          .map(({ step, at }) => ({ step, at })),
      })),
    };
  });

  router.post('/console/api/timers/advance', async (ctx) => {
    const b = await json(ctx, advanceSchema);
    if (!b) return;
    ctx.body = { promoted: await d.queues.advanceTimers(b.minutes * 60_000) };
  });

  router.get('/console/api/jobs', (ctx) => {
    ctx.body = { jobs: d.jobs.list() };
  });

  router.post('/console/api/jobs/run', async (ctx) => {
    const b = await json(ctx, runSchema);
    if (!b) return;
    if (!d.jobs.list().some((j) => j.name === b.name)) return refuse(ctx, 404, `no scheduled job named "${b.name}"`);
    await d.jobs.run(b.name, b.date);
    ctx.body = { ok: true };
  });
}
