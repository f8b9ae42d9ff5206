// The task service: an Intent from a person becomes one atomic state change plus the messages around it.
// It knows no platform; it talks to storage through TaskStore/SideStore and returns an Outcome.
import type { Envelope } from '../../channels/envelope.js';
import type { Intent } from '../../commands/intent.js';
import type { Parser } from '../../commands/parser.js';
import type { Person } from '../../config/schema.js';
import type { SideStore } from '../../store/side.js';
import type { TaskStore, TransitionRequest, TransitionResult } from '../../store/tasks.js';
import type { ReplyHandle } from '../messages.js';
import { Outcome } from '../outcome.js';
import type { Roster } from '../roster.js';
import { transitions, stateLabel, type Step, type Task } from './task.js';
import * as T from './texts.js';
import { splitMessage, toPlainText } from '../digest/digest.js';
import { digestsFor, requestedDate, type Digests } from '../digest/service.js';
import { dateIn } from '../../util/time.js';

const NUDGE_WINDOW_MS = 10 * 60_000;

/**
 * Something that may take a message before the command parser does: an answer to today's checklist, a score
 * for the meal just asked about. Returns true when it took the message (and put its replies in `out`). Card clicks
 * go to click() first, for buttons a conversation put on its own cards; the rest are task buttons (claim:12 …).
 */
export interface Conversation {
  offer(env: Envelope, me: Person, out: Outcome, now: number): Promise<boolean>;
  /** A card button (env.action) this conversation put on a card of its own; true when it took the click. */
  click?(env: Envelope, me: Person, out: Outcome, now: number): Promise<boolean>;
}

export interface NewTaskInput {
  kind: Task['kind'];
  trade?: string;
  place?: string;
  text: string;
  urgent: boolean;
  reporter: string;
  source: Task['source'];
  mealRating?: number;
  /** The checklist entry this task came from (ledger link). */
  checklist?: string;
}

export class TaskService {
  private conversations: Conversation[] = [];

  constructor(
    private tasks: TaskStore,
    private side: SideStore,
    private roster: Roster,
    private parser: Parser,
    /** 日报 / 周报 / 月报; by default over the same Redis as `tasks` (digest/service.ts). */
    private digests?: Digests,
  ) {}

  /** Conversations are asked in the order added, before the parser. */
  use(c: Conversation): void {
    this.conversations.push(c);
  }

  /**
   * Opens a task (once per `sourceId`) and asks for it to be dispatched. For other modules — a failed checklist
   * item, a meal complaint — that have already decided a task is needed.
   */
  async openTask(
    out: Outcome,
    r: NewTaskInput,
    sourceId: string,
    now = Date.now(),
  ): Promise<{ id: number; team: string; owner?: string }> {
    const { team, owner } = this.roster.route(r.kind, r.trade, r.place);
    const { id } = await this.tasks.create({ ...r, team: team.id, owner, createdAt: now }, sourceId);
    out.dispatch(id, r.kind);
    return { id, team: team.name, owner };
  }

  async handle(env: Envelope, now = Date.now()): Promise<Outcome> {
    const handle: ReplyHandle = {
      channel: env.channel,
      surface: env.surface,
      chatId: env.chat.id,
      chatType: env.chat.type,
      senderPlatformId: env.sender.platformId,
      responseUrl: env.responseUrl,
      envelopeId: env.id,
    };
    const out = new Outcome(handle);
    const me = this.roster.fromPlatform(env.channel, env.sender.platformId);
    if (!me) return out.reply(T.unknownPerson);
    if (env.action) {
      for (const c of this.conversations) if (c.click && (await c.click(env, me, out, now))) return out;
    } else for (const c of this.conversations) if (await c.offer(env, me, out, now)) return out;
    const intent = env.action ? intentFromButton(env.action.key) : this.parser.parse(env.text ?? '');
    const ctx: Ctx = { env, me, out, now };
    const chatKey = `${env.channel}:${env.chat.id}`;

    if (!env.action && completesPending(intent)) {
      const pending = await this.side.takePending(chatKey, me.id);
      if (pending) {
        const place = this.parser.findPlace(env.text ?? '') ?? (env.text ?? '').trim().slice(0, 40);
        return this.createTask(
          ctx,
          {
            kind: pending.kind,
            trade: pending.trade ?? intent.trade,
            place,
            text: pending.text,
            urgent: pending.urgent || !!intent.urgent,
          },
          pending.envelopeId,
        );
      }
    }
    if (intent.invalid) return out.reply(intent.error ?? T.help);
    return this.dispatchIntent(ctx, intent, chatKey);
  }

  private async dispatchIntent(ctx: Ctx, intent: Intent, chatKey: string): Promise<Outcome> {
    const { out } = ctx;
    switch (intent.intent) {
      case 'none':
        return out;
      case 'help':
        return out.reply(T.help);
      case 'report':
        return this.report(ctx, intent, chatKey);
      case 'mine':
        return this.mine(ctx);
      case 'digest':
        return this.digest(ctx);
    }
    if (!intent.task) return out.reply(T.help);
    const task = await this.tasks.get(intent.task);
    if (!task) return out.reply(`没有找到 #${intent.task}，请核对任务号（发"我的"可查看你的任务）。`);
    switch (intent.intent) {
      case 'claim':
        return this.claim(ctx, task);
      case 'transfer':
        return this.transfer(ctx, task, intent.target);
      case 'hold':
        return this.hold(ctx, task, intent.text);
      case 'done':
        return this.done(ctx, task, intent.text);
      case 'accept':
        return this.accept(ctx, task);
      case 'reopen':
        return this.reopen(ctx, task, intent.text);
      case 'rate':
        return this.rate(ctx, task, intent.rating!, intent.text);
      case 'nudge':
        return this.nudge(ctx, task);
      case 'cancel':
        return this.cancel(ctx, task);
      case 'status':
        return this.status(ctx, task);
    }
    return out;
  }

  // ── reports ────────────────────────────────────────────────────────────────────────────────────────
  private async report(ctx: Ctx, intent: Intent, chatKey: string): Promise<Outcome> {
    const { out, me, env, now } = ctx;
    const kind = intent.kind ?? 'repair';
    const text = (intent.text ?? env.text ?? '').trim();
    if (kind === 'meal') return this.mealReport(ctx, intent, text);
    if (!intent.place) {
      await this.side.setPending(
        chatKey,
        me.id,
        { kind, trade: intent.trade, text, urgent: !!intent.urgent, envelopeId: env.id, at: now },
        this.roster.config.sla.pendingReport,
      );
      return out.reply(`${intent.urgent ? '收到紧急情况！' : ''}${T.askPlace}`);
    }
    return this.createTask(
      ctx,
      { kind, trade: intent.trade, place: intent.place, text, urgent: !!intent.urgent },
      env.id,
    );
  }

  private async mealReport(ctx: Ctx, intent: Intent, text: string): Promise<Outcome> {
    const { out, me, env, now } = ctx;
    const low = intent.rating !== undefined && intent.rating <= this.roster.config.meals.lowRating;
    const safety = !!intent.urgent;
    // The ledger's dated meal records (records.ts), the same storage the meal rounds write.
    const date = dateIn(this.roster.config.org.timezone, now);
    const record = (task?: number) => ({
      at: now,
      person: me.id,
      ...(intent.rating !== undefined ? { rating: intent.rating } : {}),
      ...(text ? { text } : {}),
      urgent: safety,
      ...(task !== undefined ? { task } : {}),
    });
    if (!low && !safety) {
      await this.side.addMealFeedback(record(), date, env.id);
      return out.reply(`谢谢反馈${intent.rating ? `（${'★'.repeat(intent.rating)}）` : ''}，已转达食堂。`);
    }
    const place = intent.place ?? this.roster.config.places.find((p) => p.name === '厨房' || p.name === '食堂')?.name;
    const res = await this.createTask(
      ctx,
      { kind: 'meal', trade: intent.trade, place, text: text || '餐评低分', urgent: safety, mealRating: intent.rating },
      env.id,
    );
    await this.side.addMealFeedback(record(res.route?.task), date, env.id);
    return res;
  }

  private async createTask(
    ctx: Ctx,
    r: { kind: Task['kind']; trade?: string; place?: string; text: string; urgent: boolean; mealRating?: number },
    sourceId: string,
  ): Promise<Outcome> {
    const { out, me, env, now } = ctx;
    const source = { channel: env.channel, surface: env.surface, chatId: env.chat.id, chatType: env.chat.type };
    const { id, team, owner } = await this.openTask(out, { ...r, reporter: me.id, source }, sourceId, now);
    const who = owner ? `${this.roster.name(owner)}（${team}）` : team;
    const where = r.place ? `【${r.place}】` : '';
    return out.reply(
      `${r.urgent ? '🔴 紧急' : '✅ 已登记'} #${id} ${T.kindLabel[r.kind]}${where}${T.what(r)}\n已通知${who}，有人接单会告诉你。发"进度 ${id}"可随时查看。`,
    );
  }

  // ── worker steps ───────────────────────────────────────────────────────────────────────────────────
  private canWork(person: Person, task: Task): boolean {
    if (task.owner === person.id) return true;
    return this.roster.teamsOf(person.id).some((t) => t.id === task.team || t.kinds.includes(task.kind));
  }

  private async claim(ctx: Ctx, task: Task): Promise<Outcome> {
    const { out, me, now } = ctx;
    const manager = this.roster.isManager(me.id);
    if (task.state === 'on_hold' && (task.assignee === me.id || manager)) {
      const res = await this.step(ctx, task, 'resume', {
        mustBe: manager ? undefined : 'assignee',
        set: { holdReason: undefined },
        event: { type: 'resumed' },
      });
      if (!res.ok) return out;
      out.reply(`▶️ #${task.id} 继续处理。`);
      return out.dm(
        task.reporter !== me.id ? task.reporter : undefined,
        `你报的 #${task.id} 已恢复处理（${me.name}）。`,
      );
    }
    if (task.state === 'claimed' && task.assignee === me.id) {
      if (task.acked) return this.clicked(ctx, res(task)).reply(`#${task.id} 已经在你名下了。`);
      const r = await this.step(ctx, task, 'ack', {
        mustBe: 'assignee',
        set: { acked: true },
        event: { type: 'acknowledged' },
      });
      if (!r.ok) return out;
      this.clicked(ctx, r);
      return out.reply(`✅ 已确认 #${task.id}，完工后回复"完工 ${task.id} 备注"。`);
    }
    if (task.state !== 'open') {
      this.clicked(ctx, res(task));
      return out.reply(
        task.assignee
          ? `#${task.id} 已由${this.roster.name(task.assignee)}接单。`
          : `#${task.id} ${stateLabel[task.state]}，不能接单。`,
      );
    }
    if (!this.canWork(me, task))
      return out.reply(
        `只有${this.roster.team(task.team)?.name ?? '相应班组'}的师傅可以接单；需要派单请用"转单 ${task.id} @师傅"。`,
      );
    const r = await this.step(ctx, task, 'claim', {
      set: { assignee: me.id, assignedBy: me.id, acked: true, claimedAt: now },
      event: { type: 'claimed' },
      index: [me.id],
    });
    if (!r.ok) return out; // step() has replied: someone else was faster
    this.clicked(ctx, r);
    out.send(
      { kind: 'cards', ref: `t${task.id}`, except: me.id },
      { type: 'card', card: T.takenCard(r.task, this.roster) },
    );
    out.reply(
      `✅ 你已接单 ${T.summary(r.task)}\n完工后回复"完工 ${task.id} 备注"；缺配件可回复"挂起 ${task.id} 待配件"。`,
    );
    return out.dm(
      task.reporter !== me.id ? task.reporter : undefined,
      `你报的 #${task.id} 已由${me.name}接单，正在处理。`,
    );
  }

  private async transfer(ctx: Ctx, task: Task, typed: string | undefined): Promise<Outcome> {
    const { out, me, now } = ctx;
    const target = typed ? this.roster.findPerson(typed) : undefined;
    if (!target) return out.reply(`没找到"${typed ?? ''}"，请写名册里的名字，例如：转单 ${task.id} @吴师傅`);
    const manager = this.roster.isManager(me.id);
    if (!manager && !this.canWork(target, task))
      return out.reply(`${target.name}不在处理${T.kindLabel[task.kind]}的班组，只有后勤主任可以跨组派单。`);
    if (task.state === 'open') {
      if (!manager && !this.canWork(me, task)) return out.reply(`只有后勤主任或本班组师傅可以派单 #${task.id}。`);
      const r = await this.step(ctx, task, 'assign', {
        set: { assignee: target.id, assignedBy: me.id, acked: target.id === me.id, claimedAt: now },
        event: { type: 'assigned', to: target.id },
        index: [target.id],
      });
      if (!r.ok) return out;
      return this.afterHandover(ctx, r.task, target);
    }
    const r = await this.step(ctx, task, 'transfer', {
      mustBe: manager ? undefined : 'assignee',
      set: { assignee: target.id, assignedBy: me.id, acked: false },
      event: { type: 'transferred', to: target.id },
      index: [target.id],
    });
    if (!r.ok) return out;
    return this.afterHandover(ctx, r.task, target);
  }

  private afterHandover(ctx: Ctx, task: Task, target: Person): Outcome {
    const { out, me } = ctx;
    out.send(
      { kind: 'cards', ref: `t${task.id}`, except: target.id },
      { type: 'card', card: T.takenCard(task, this.roster) },
    );
    out.send(
      { kind: 'user', person: target.id },
      {
        type: 'card',
        card: {
          ...T.claimCard(task, this.roster),
          title: `${me.name}派给你 #${task.id}`.slice(0, 26),
          buttons: [{ text: '确认接单', key: `claim:${task.id}`, style: 'primary' }],
        },
      },
    );
    out.reply(`↪️ #${task.id} 已交给${target.name}。`);
    return out.dm(task.reporter !== me.id ? task.reporter : undefined, `你报的 #${task.id} 已转给${target.name}处理。`);
  }

  private async hold(ctx: Ctx, task: Task, reason: string | undefined): Promise<Outcome> {
    const { out, me } = ctx;
    const why = reason?.trim() || '待配件';
    const r = await this.step(ctx, task, 'hold', {
      mustBe: this.roster.isManager(me.id) ? undefined : 'assignee',
      set: { holdReason: why },
      event: { type: 'held', text: why },
    });
    if (!r.ok) return out;
    out.reply(`⏸ #${task.id} 已挂起：${why}。恢复时回复"接单 ${task.id}"。`);
    return out.dm(task.reporter, `你报的 #${task.id} 暂时挂起：${why}（${me.name}）。`);
  }

  private async done(ctx: Ctx, task: Task, note: string | undefined): Promise<Outcome> {
    const { out, me, now } = ctx;
    const r = await this.step(ctx, task, 'done', {
      mustBe: this.roster.isManager(me.id) ? undefined : 'assignee',
      set: { note: note?.trim() || undefined, doneAt: now },
      incr: { doneCount: 1 },
      event: { type: 'done', text: note },
    });
    if (!r.ok) return out;
    const t = r.task;
    out.timers.push({
      step: 'autoaccept',
      task: t.id,
      delayMs: this.roster.config.sla.autoAccept,
      id: `autoaccept:${t.doneCount}`,
      expect: t.doneCount,
    });
    out.reply(`🎉 #${t.id} 已完工，等待${this.roster.name(t.reporter)}验收。`);
    out.send(
      { kind: 'user', person: t.reporter },
      {
        type: 'card',
        card: {
          ref: `a${t.id}x${t.doneCount}`,
          title: `#${t.id} 已完工，请验收`,
          description: `${T.summary(t)}${t.note ? `\n备注：${t.note}` : ''}`.slice(0, 100),
          fields: [{ label: '处理人', value: this.roster.name(t.assignee) }],
          buttons: [
            { text: '验收通过', key: `accept:${t.id}`, style: 'primary' },
            { text: '没修好', key: `reopen:${t.id}`, style: 'danger' },
          ],
        },
      },
    );
    return out.dm(
      t.reporter,
      `也可以回复"验收 ${t.id}"、"没修好 ${t.id} 原因"或"评价 ${t.id} 5 很满意"。48小时内不验收将自动好评。`,
    );
  }

  // ── reporter steps ─────────────────────────────────────────────────────────────────────────────────
  private async accept(ctx: Ctx, task: Task): Promise<Outcome> {
    const { out, me, now } = ctx;
    const r = await this.step(ctx, task, 'accept', {
      mustBe: this.roster.isManager(me.id) ? undefined : 'reporter',
      set: { acceptedAt: now },
      event: { type: 'accepted' },
    });
    if (!r.ok) return out;
    this.settled(ctx, r.task, '已验收');
    out.reply(`👍 #${task.id} 已验收。欢迎评价：评价 ${task.id} 5 很满意`);
    return out.dm(r.task.assignee, `#${task.id} 已通过验收（${me.name}）。`);
  }

  private async reopen(ctx: Ctx, task: Task, why: string | undefined): Promise<Outcome> {
    const { out, me } = ctx;
    const r = await this.step(ctx, task, 'reopen', {
      mustBe: this.roster.isManager(me.id) ? undefined : 'reporter',
      incr: { rework: 1 },
      set: { note: undefined },
      event: { type: 'reopened', text: why },
    });
    if (!r.ok) return out;
    this.settled(ctx, r.task, '已退回返工');
    out.reply(`🔁 #${task.id} 已退回给${this.roster.name(r.task.assignee)}返工。`);
    return out.dm(
      r.task.assignee,
      `🔁 #${task.id} 没修好，需要返工${why ? `：${why}` : ''}（${me.name}）。完工后再回复"完工 ${task.id}"。`,
    );
  }

  private async rate(ctx: Ctx, task: Task, rating: number, comment: string | undefined): Promise<Outcome> {
    const { out, me, now } = ctx;
    const set = {
      rating,
      ratingText: comment?.trim() || undefined,
      ...(task.state === 'done' ? { acceptedAt: now } : {}),
    };
    const r = await this.step(ctx, task, 'rate', {
      mustBe: this.roster.isManager(me.id) ? undefined : 'reporter',
      set,
      event: { type: 'rated', rating, text: comment },
    });
    if (!r.ok) return out;
    out.reply(`谢谢评价 #${task.id} ${'★'.repeat(rating)}`);
    out.dm(r.task.assignee, `#${task.id} 收到评价 ${'★'.repeat(rating)}${comment ? `：${comment}` : ''}`);
    if (rating <= 2)
      for (const m of this.roster.managers())
        out.dm(
          m.id,
          `⚠️ 差评 #${task.id} ${'★'.repeat(rating)}${comment ? `：${comment}` : ''}（报修人${me.name}，处理人${this.roster.name(r.task.assignee)}）`,
        );
    return out;
  }

  private async nudge(ctx: Ctx, task: Task): Promise<Outcome> {
    const { out, me, now } = ctx;
    if (!['open', 'claimed', 'on_hold'].includes(task.state))
      return out.reply(`#${task.id} ${stateLabel[task.state]}，不需要催办。`);
    if (!(await this.side.nudgeAllowed(task.id, me.id, NUDGE_WINDOW_MS)))
      return out.reply(`#${task.id} 刚催过，师傅已收到，请稍候。`);
    await this.tasks.note(task.id, { at: now, by: me.id, type: 'nudged' });
    const text = `⏰ ${me.name}催办 ${T.summary(task)}`;
    if (task.assignee) out.dm(task.assignee, text);
    else {
      const team = this.roster.team(task.team);
      if (team?.chat) out.send({ kind: 'chat', chat: team.chat }, { type: 'text', text });
      for (const p of team ? this.roster.onDuty(team, now) : []) out.dm(p, text);
    }
    return out.reply(`已催办 #${task.id}，${task.assignee ? this.roster.name(task.assignee) : '班组'}会尽快处理。`);
  }

  private async cancel(ctx: Ctx, task: Task): Promise<Outcome> {
    const { out, me, now } = ctx;
    const r = await this.step(ctx, task, 'cancel', {
      mustBe: this.roster.isManager(me.id) ? undefined : 'reporter',
      set: { cancelledAt: now },
      event: { type: 'cancelled' },
    });
    if (!r.ok) return out;
    out.send({ kind: 'cards', ref: `t${task.id}` }, { type: 'card', card: T.takenCard(r.task, this.roster) });
    out.reply(`已撤销 #${task.id}。`);
    return out.dm(r.task.assignee, `#${task.id} 已被${me.name}撤销，不用再处理了。`);
  }

  // ── questions ──────────────────────────────────────────────────────────────────────────────────────
  private async status(ctx: Ctx, task: Task): Promise<Outcome> {
    const log = await this.tasks.history(task.id);
    const recent = log
      .slice(-3)
      .map(
        (e) =>
          `· ${new Date(e.at).toISOString().slice(11, 16)} ${this.roster.name(e.by)} ${eventLabel[e.type] ?? e.type}${e.text ? `：${e.text}` : ''}`,
      );
    return ctx.out.reply([T.statusText(task, this.roster), ...recent].join('\n'));
  }

  private async mine(ctx: Ctx): Promise<Outcome> {
    const list = await this.tasks.forPerson(ctx.me.id);
    if (!list.length) return ctx.out.reply('你目前没有未完成的任务。');
    return ctx.out.reply(['你的任务：', ...list.map((t) => `${T.summary(t)} · ${stateLabel[t.state]}`)].join('\n'));
  }

  private async digest(ctx: Ctx): Promise<Outcome> {
    const { me, out, env, now } = ctx;
    if (!this.roster.has(me.id, 'manager') && !this.roster.has(me.id, 'director'))
      return out.reply('日报、周报、月报只发给园长和后勤主任。');
    const text = env.text ?? '';
    const period = /月报/.test(text) ? 'month' : /周报/.test(text) ? 'week' : 'day';
    const digests = (this.digests ??= digestsFor(this.tasks, this.roster));
    const d = await digests.compose(period, requestedDate(text, digests.today(now)), now);
    // A reply may end up as plain text (app text, merged replies): the same digest without markdown marks. A summary
    // longer than one WeCom app message (2048 bytes) goes on in direct messages.
    const [first, ...more] = splitMessage(toPlainText(d.markdown), 2000);
    out.reply(first);
    for (const part of more) out.dm(me.id, part);
    // The chart goes to the person (a group reply through response_url carries one markdown message only).
    if (d.image) out.send({ kind: 'user', person: me.id }, d.image);
    return out;
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────────────────────
  /** Runs one step atomically; on refusal replies why and returns the refusal. */
  private async step(
    ctx: Ctx,
    task: Task,
    step: Step,
    r: Omit<TransitionRequest, 'from' | 'actor' | 'event'> & {
      event: { type: string; text?: string; to?: string; rating?: number };
    },
  ): Promise<TransitionResult> {
    const { out, me, now } = ctx;
    const t = transitions[step];
    const res = await this.tasks.transition(
      task.id,
      { ...r, from: t.from, actor: me.id, event: { at: now, by: me.id, ...r.event } },
      t.to,
    );
    if (res.ok) return res;
    if (res.reason === 'missing') out.reply(`没有找到 #${task.id}。`);
    else if (res.reason === 'actor') out.reply(refuseActor(step, res.task, this.roster));
    else if (step === 'claim' && res.task.assignee) {
      this.clicked(ctx, res);
      out.reply(`慢了一步，#${task.id} 已由${this.roster.name(res.task.assignee)}接单。`);
    } else out.reply(`#${task.id} 现在是"${stateLabel[res.task.state]}"，不能${stepLabel[step]}。`);
    return res;
  }

  /** After 验收通过 / 没修好 on the acceptance card: the card says what was decided and has no live button. */
  private settled(ctx: Ctx, t: Task, label: string): void {
    const { env, out, me } = ctx;
    if (!env.action) return;
    const card = {
      ref: `a${t.id}`,
      title: `#${t.id} ${label}`,
      description: T.summary(t).slice(0, 100),
      fields: [{ label: '处理人', value: this.roster.name(t.assignee) }],
      buttons: [{ text: label, key: `noop:${t.id}`, style: 'muted' as const }],
    };
    out.clickedCard = card;
    if (env.action.responseCode)
      out.send(
        { kind: 'clicked_card', channel: env.channel, person: me.id, responseCode: env.action.responseCode },
        { type: 'card', card },
      );
  }

  /** The card the clicker sees after a click: who has the task now. */
  private clicked(ctx: Ctx, r: { task: Task }): Outcome {
    const { env, out, me } = ctx;
    if (!env.action) return out;
    const card = T.takenCard(r.task, this.roster, me.id);
    out.clickedCard = card;
    if (env.action.responseCode)
      out.send(
        { kind: 'clicked_card', channel: env.channel, person: me.id, responseCode: env.action.responseCode },
        { type: 'card', card },
      );
    return out;
  }
}

interface Ctx {
  env: Envelope;
  me: Person;
  out: Outcome;
  now: number;
}

const res = (task: Task) => ({ task });

/** Messages that can finish a half-given report: anything that is not a clear command of its own. */
function completesPending(i: Intent): boolean {
  if (i.intent === 'report' || (i.intent === 'help' && i.invalid)) return true;
  return false;
}

/** Card buttons carry "claim:12"-style keys; anything else is ignored. */
export function intentFromButton(key: string): Intent {
  const m = /^(claim|accept|reopen):(\d+)$/.exec(key);
  if (!m) return { intent: 'none' };
  return { intent: m[1] as Intent['intent'], task: Number(m[2]) };
}

const stepLabel: Record<Step, string> = {
  claim: '接单',
  ack: '确认',
  resume: '恢复',
  assign: '派单',
  transfer: '转单',
  hold: '挂起',
  done: '完工',
  accept: '验收',
  reopen: '退回返工',
  rate: '评价',
  cancel: '撤销',
  autoaccept: '自动验收',
};

const eventLabel: Record<string, string> = {
  created: '报修',
  claimed: '接单',
  acknowledged: '确认接单',
  assigned: '派单',
  transferred: '转单',
  held: '挂起',
  resumed: '恢复',
  done: '完工',
  accepted: '验收',
  reopened: '返工',
  rated: '评价',
  cancelled: '撤销',
  nudged: '催办',
  reminded: '提醒',
  escalated: '上报主任',
  auto_accepted: '自动好评',
  answered: '答复',
};

function refuseActor(step: Step, task: Task, roster: Roster): string {
  if (['hold', 'done', 'transfer', 'ack'].includes(step))
    return `只有处理人${roster.name(task.assignee)}或后勤主任可以${stepLabel[step]} #${task.id}。`;
  return `只有报修人${roster.name(task.reporter)}或后勤主任可以${stepLabel[step]} #${task.id}。`;
}
