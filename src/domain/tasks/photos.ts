// Photos on tasks. A photo someone sends with or right after a report (same person, same chat, within 5 minutes) is
// a 现场照片 of that report's task; a worker's photo with or right after their 完工 (same person, within 5 minutes) is
// the task's 完工照片 (proof). A photo that finds neither waits 5 minutes for that person's next report in that
// chat — in a 1:1 chat the bot asks "这张照片是要报修吗？".
//
// By the time a message reaches the service its pictures are stored files (src/channels/photo-intake.ts): here only
// hashes move. Three ways in:
// - PhotoConversation, asked before the command parser (TaskService.use): pictures without words are answered here;
//   pictures with words are set aside for the report or 完工 the words may be.
// - photosForReport / photosForDone, the hooks createTask (reports.ts) and done (worker-steps.ts) call: they take
//   what was set aside and open the 5-minute window for photos that follow.
// - followCards, run on every Outcome before it is carried out (Queues.onApply): whoever gets a task's claim card
//   gets its 现场照片 after it, and the reporter gets the 完工照片 after the acceptance card.
import type { Envelope, ImageRef } from '../../channels/envelope.js';
import type { Person } from '../../config/schema.js';
import { keys } from '../../store/keys.js';
import { mb } from '../../store/media.js';
import { PhotoStore, type PhotoKind, type PhotoRef, type TaskPhoto } from '../../store/photos.js';
import type { TaskStore } from '../../store/tasks.js';
import type { Outcome } from '../outcome.js';
import type { Roster } from '../roster.js';
import type { Conversation } from './service.js';
import type { Ctx, StepKit } from './steps.js';
import type { Task } from './task.js';

/** How long a photo and a report (or a 完工) find each other. */
export const PHOTO_WINDOW_MS = 5 * 60_000;
/** Photos sent after one card: WeCom shows at most nine pictures in a row comfortably. */
const MAX_SENT = 9;

export const photoTexts = {
  ask: '这张照片是要报修吗？请在5分钟内说一下在哪里、什么问题，例如“报修 小一班 水龙头漏水”，照片会附在报修单上。',
  askDone: (ids: number[]) => `如果是完工照片，请回复“完工 ${ids[0]}”。`,
  askPlace: '📷 照片收到了。请问在哪里？回复地点即可，例如：小一班、厨房、操场',
  attached: (n: number, task: number) => `📷 ${n > 1 ? `${n} 张照片` : '照片'}已附到 #${task}。`,
  attachedDone: (n: number, task: number, reporter: string) =>
    `📷 ${n > 1 ? `${n} 张` : ''}完工照片已附到 #${task}，已发给${reporter}。`,
  tooBig: (size: number | undefined, limit: number) =>
    `这张照片太大了（${size ? `${mb(size)}，` : ''}上限 ${mb(limit)}），没有收下。请压缩后重新发送。`,
  unreadable: '这张照片没能读取（链接可能已过期，或不是图片），请重新发送一次。',
  alt: (kind: PhotoKind, task: number, i: number, n: number) =>
    `#${task} ${kind === 'done' ? '完工照片' : '现场照片'}${n > 1 ? `（${i + 1}/${n}）` : ''}`,
  sentBy: (kind: PhotoKind, task: number, who: string) =>
    kind === 'done' ? `📷 ${who}发来 #${task} 的完工照片：` : `📷 ${who}补充了 #${task} 的现场照片：`,
};

const chatKeyOf = (env: Envelope) => `${env.channel}:${env.chat.id}`;

/** The pictures of a message that were stored (hash known). */
function stored(env: Envelope): PhotoRef[] {
  return (env.images ?? [])
    .filter((i): i is ImageRef & { hash: string } => !!i.hash)
    .map((i) => ({ hash: i.hash, mime: i.mime ?? 'image/jpeg', size: i.size ?? 0 }));
}

/** Set-aside photos of this person in this chat from the window, and the message's own; each picture once. */
async function gather(store: PhotoStore, ctx: Ctx, windowMs: number): Promise<(PhotoRef & { at: number })[]> {
  const { env, me, now } = ctx;
  const pending = await store.takePending(chatKeyOf(env), me.id, now - windowMs);
  const seen = new Set<string>();
  const out: (PhotoRef & { at: number })[] = [];
  for (const p of [...pending, ...stored(env).map((r) => ({ ...r, at: now }))]) {
    if (seen.has(p.hash)) continue;
    seen.add(p.hash);
    out.push(p);
  }
  return out;
}

const asTaskPhoto = (p: PhotoRef & { at: number }, kind: PhotoKind, by: string): TaskPhoto => ({
  hash: p.hash,
  mime: p.mime,
  size: p.size,
  kind,
  by,
  at: p.at,
});

/**
 * createTask's hook (reports.ts), right after the task is opened: photos this person sent in this chat in the last
 * 5 minutes (or with this message) become the task's 现场照片, and photos that follow within 5 minutes will too.
 */
export async function photosForReport(k: StepKit, ctx: Ctx, task: number, windowMs = PHOTO_WINDOW_MS): Promise<void> {
  const store = PhotoStore.of(k.tasks);
  const photos = await gather(store, ctx, windowMs);
  if (photos.length)
    await store.attach(
      task,
      photos.map((p) => asTaskPhoto(p, 'report', ctx.me.id)),
    );
  await store.setRecent('report', `${chatKeyOf(ctx.env)}:${ctx.me.id}`, { task, at: ctx.now }, windowMs * 2);
}

/**
 * done's hook (worker-steps.ts), after the 完工 step succeeded: photos with the 完工 message (or set aside in this
 * chat just before it) become the task's 完工照片, and the worker's photos in the next 5 minutes will too. The
 * reporter gets them after the acceptance card (followCards).
 */
export async function photosForDone(k: StepKit, ctx: Ctx, task: Task, windowMs = PHOTO_WINDOW_MS): Promise<void> {
  const store = PhotoStore.of(k.tasks);
  const photos = await gather(store, ctx, windowMs);
  if (photos.length)
    await store.attach(
      task.id,
      photos.map((p) => asTaskPhoto(p, 'done', ctx.me.id)),
    );
  await store.setRecent('done', ctx.me.id, { task: task.id, at: ctx.now }, windowMs * 2);
}

export class PhotoConversation implements Conversation {
  constructor(
    private store: PhotoStore,
    private tasks: TaskStore,
    private roster: Roster,
    private windowMs = PHOTO_WINDOW_MS,
  ) {}

  /**
   * Messages with pictures. Pictures that could not be kept are answered (too big, unreadable). With words, the
   * kept pictures are set aside and the words go on to the parser (false); without words this answers the message.
   */
  async offer(env: Envelope, me: Person, out: Outcome, now: number): Promise<boolean> {
    const images = env.images ?? [];
    if (!images.length) return false;
    for (const i of images) {
      if (i.error === 'too_big') out.reply(photoTexts.tooBig(i.size, i.limit ?? 0));
      else if (i.error === 'unreadable') out.reply(photoTexts.unreadable);
    }
    const photos = stored(env);
    const words = !!env.text?.trim();
    if (words || !photos.length) {
      for (const p of photos) await this.setAside(env, me, p, now);
      return !words;
    }
    const target = await this.windowFor(env, me, now);
    if (!target) {
      for (const p of photos) await this.setAside(env, me, p, now);
      await this.ask(env, me, out);
      return true;
    }
    const task = await this.tasks.get(target.task);
    if (!task) return true;
    const fresh = await this.store.attach(
      task.id,
      photos.map((p) => asTaskPhoto({ ...p, at: now }, target.kind, me.id)),
    );
    if (target.kind === 'done')
      out.reply(photoTexts.attachedDone(photos.length, task.id, this.roster.name(task.reporter)));
    else out.reply(photoTexts.attached(photos.length, task.id));
    this.sendLate(out, task, target.kind, fresh, me, now);
    return true;
  }

  private async setAside(env: Envelope, me: Person, p: PhotoRef, now: number): Promise<void> {
    await this.store.addPending(chatKeyOf(env), me.id, { ...p, at: now }, this.windowMs * 2);
  }

  /** This person's latest report in this chat or latest 完工, whichever is later, if within the window. */
  private async windowFor(env: Envelope, me: Person, now: number): Promise<{ kind: PhotoKind; task: number } | null> {
    const [report, done] = await Promise.all([
      this.store.recent('report', `${chatKeyOf(env)}:${me.id}`),
      this.store.recent('done', me.id),
    ]);
    const open = (s: { at: number } | null) => !!s && now - s.at <= this.windowMs && now >= s.at - this.windowMs;
    const candidates = [
      ...(open(report) ? [{ kind: 'report' as const, ...report! }] : []),
      ...(open(done) ? [{ kind: 'done' as const, ...done! }] : []),
    ].sort((a, b) => b.at - a.at);
    return candidates[0] ?? null;
  }

  /** A photo that joins nothing: in a 1:1 chat, ask; a report waiting for its place gets the place question. */
  private async ask(env: Envelope, me: Person, out: Outcome): Promise<void> {
    const waiting = await this.store.redis.exists(keys(this.store.prefix).pending(chatKeyOf(env), me.id));
    if (waiting) {
      out.reply(photoTexts.askPlace);
      return;
    }
    if (env.chat.type !== 'single') return; // a group hears nothing; the photo still waits for a report
    const mine = (await this.tasks.forPerson(me.id, 10))
      .filter((t) => t.assignee === me.id && (t.state === 'claimed' || t.state === 'on_hold'))
      .map((t) => t.id);
    out.reply(mine.length ? `${photoTexts.ask}\n${photoTexts.askDone(mine)}` : photoTexts.ask);
  }

  /** Photos that came after the cards went out: to the worker(s) for 现场照片, to the reporter for 完工照片. */
  private sendLate(out: Outcome, task: Task, kind: PhotoKind, fresh: TaskPhoto[], me: Person, now: number): void {
    if (!fresh.length) return;
    let to: string[] = [];
    if (kind === 'done') to = [task.reporter];
    else if (task.state === 'open') {
      const team = this.roster.team(task.team);
      to = task.owner ? [task.owner] : team ? this.roster.onDuty(team, now) : [];
    } else if (task.assignee && task.state !== 'accepted' && task.state !== 'cancelled') to = [task.assignee];
    for (const person of to.filter((p) => p !== me.id)) {
      out.dm(person, photoTexts.sentBy(kind, task.id, me.name));
      fresh
        .slice(0, MAX_SENT)
        .forEach((p, i, all) =>
          out.send(
            { kind: 'user', person },
            { type: 'photo', photo: p.hash, alt: photoTexts.alt(kind, task.id, i, all.length) },
          ),
        );
    }
  }
}

/**
 * Photos follow a task's cards: after a claim card (ref t<id>) sent to a person, the task's 现场照片; after an
 * acceptance card (ref a<id>x<n>), the 完工照片 of that round. Appended at the end of the Outcome, so the job ids of the
 * messages already there do not move (a retried job then repeats nothing).
 */
export async function followCards(
  store: PhotoStore,
  tasks: TaskStore,
  o: Outcome,
  windowMs = PHOTO_WINDOW_MS,
): Promise<void> {
  const wanted: { person: string; task: number; kind: PhotoKind }[] = [];
  for (const m of o.messages) {
    if (m.to.kind !== 'user' || m.message.type !== 'card') continue;
    const ref = m.message.card.ref;
    const claim = /^t(\d+)$/.exec(ref);
    const accept = /^a(\d+)x\d+$/.exec(ref);
    if (claim) wanted.push({ person: m.to.person, task: Number(claim[1]), kind: 'report' });
    else if (accept) wanted.push({ person: m.to.person, task: Number(accept[1]), kind: 'done' });
  }
  if (!wanted.length) return;
  const ids = [...new Set(wanted.map((w) => w.task))];
  const photos = await store.forTasks(ids);
  if (!photos.size) return;
  const needDone = wanted.some((w) => w.kind === 'done' && photos.has(w.task));
  const doneAt = new Map<number, number>();
  if (needDone) for (const t of await tasks.getMany(ids)) if (t.doneAt) doneAt.set(t.id, t.doneAt);
  for (const w of wanted) {
    const list = (photos.get(w.task) ?? []).filter(
      (p) => p.kind === w.kind && (w.kind === 'report' || p.at >= (doneAt.get(w.task) ?? 0) - windowMs),
    );
    list
      .slice(0, MAX_SENT)
      .forEach((p, i, all) =>
        o.send(
          { kind: 'user', person: w.person },
          { type: 'photo', photo: p.hash, alt: photoTexts.alt(w.kind, w.task, i, all.length) },
        ),
      );
  }
}
