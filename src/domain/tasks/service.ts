// The task service: an Intent from a person becomes one atomic state change plus the messages around it.
// It knows no platform; it talks to storage through TaskStore/SideStore and returns an Outcome.
// This file routes: who is asking, which conversation takes the message, which step or question answers it. The
// steps themselves are in worker-steps.ts, reporter-steps.ts, reports.ts and questions.ts, over steps.ts.
import type { Envelope } from '../../channels/envelope.js';
import type { Intent } from '../../commands/intent.js';
import type { Parser } from '../../commands/parser.js';
import type { Person } from '../../config/schema.js';
import type { SideStore } from '../../store/side.js';
import type { TaskStore } from '../../store/tasks.js';
import { digestsFor, type Digests } from '../digest/service.js';
import type { ReplyHandle } from '../messages.js';
import { Outcome } from '../outcome.js';
import type { Roster } from '../roster.js';
import { digest, mine, status } from './questions.js';
import { accept, cancel, nudge, rate, reopen } from './reporter-steps.js';
import { answerAsk, createTask, report, splitFolded } from './reports.js';
import type { Ctx, StepKit } from './steps.js';
import type { Task } from './task.js';
import * as T from './texts.js';
import { resolveTask } from './unnumbered.js';
import { claim, done, hold, note, transfer } from './worker-steps.js';

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
  /** What the step functions use in place of `this`. */
  private readonly kit: StepKit;

  constructor(
    private tasks: TaskStore,
    private side: SideStore,
    private roster: Roster,
    private parser: Parser,
    /** 日报 / 周报 / 月报; by default over the same Redis as `tasks` (digest/service.ts). */
    private digests?: Digests,
  ) {
    this.kit = {
      tasks,
      side,
      roster,
      openTask: (out, r, sourceId, now) => this.openTask(out, r, sourceId, now),
      digests: () => (this.digests ??= digestsFor(this.tasks, this.roster)),
    };
  }

  /** The parser in use; replaced when the site's learned words change (console 未识别 → vocabulary). */
  currentParser(): Parser {
    return this.parser;
  }

  useParser(parser: Parser): void {
    this.parser = parser;
  }

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
    const out = await this.handleOnce(env, now);
    // A voice message was transcribed by the platform: the first reply says what the bot heard, so a misheard word
    // is seen at once ("语音已转文字：…").
    if (env.voice && env.text) {
      const first = out.messages.find((m) => m.to.kind === 'reply' && m.message.type === 'text');
      if (first && first.message.type === 'text')
        first.message = {
          ...first.message,
          text: `🎙 语音已转文字：「${env.text.slice(0, 60)}」\n${first.message.text}`,
        };
    }
    return out;
  }

  private async handleOnce(env: Envelope, now: number): Promise<Outcome> {
    const handle: ReplyHandle = {
      channel: env.channel,
      surface: env.surface,
      chatId: env.chat.id,
      chatType: env.chat.type,
      senderPlatformId: env.sender.platformId,
      responseUrl: env.responseUrl,
      responseUrlExpiresAt: env.responseUrlExpiresAt,
      replyRef: env.replyRef,
      replyRefExpiresAt: env.replyRefExpiresAt,
      envelopeId: env.id,
    };
    const out = new Outcome(handle);
    const me = this.roster.fromPlatform(env.channel, env.sender.platformId);
    if (!me) {
      // Not on the roster: kept for the manager, and one polite reply an hour, however many messages (a new teacher
      // missing from the roster is noticed; a flood from a script costs one reply).
      const first = await this.side.noteStranger({
        channel: env.channel,
        platformId: env.sender.platformId,
        chat: env.chat.id,
        text: env.text ?? (env.images?.length ? '[图片]' : ''),
        at: now,
      });
      return first ? out.inform(T.unknownPerson) : out;
    }
    out.via = { person: me.id, channel: env.channel };
    if (env.action) {
      for (const c of this.conversations) if (c.click && (await c.click(env, me, out, now))) return out;
    } else for (const c of this.conversations) if (await c.offer(env, me, out, now)) return out;
    const intent = env.action
      ? intentFromButton(env.action.key)
      : this.parser.parse(env.text ?? '', {
          quote: env.quote,
          roles: me.roles,
          chat: env.chat.type === 'single' ? 'dm' : 'group',
        });
    const ctx: Ctx = { env, me, out, now };
    const chatKey = `${env.channel}:${env.chat.id}`;
    // 不是同一个 right after a report was folded into an open task: it gets a task of its own.
    if (!env.action && notTheSame.test(env.text ?? '') && (await this.side.hasFolded(me.id))) {
      const split = await splitFolded(this.kit, ctx);
      if (split) return split;
    }
    // 是 / 不是 to "是要报修…吗？": a tap on the card, or a short typed answer while the question is open.
    const yesNo = env.action ? askButton(env.action.key) : shortAnswer(env.text ?? '');
    if (yesNo !== undefined && (env.action || (await this.side.hasAsk(me.id)))) {
      const answered = await answerAsk(this.kit, ctx, yesNo);
      if (answered) return answered;
    }

    if (!env.action && completesPending(intent)) {
      const pending = await this.side.takePending(chatKey, me.id);
      if (pending) {
        const place = this.parser.findPlace(env.text ?? '') ?? (env.text ?? '').trim().slice(0, 40);
        return createTask(
          this.kit,
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
    if (intent.invalid) return out.inform(intent.error ?? T.help);
    return this.dispatchIntent(ctx, intent, chatKey);
  }

  private async dispatchIntent(ctx: Ctx, intent: Intent, chatKey: string): Promise<Outcome> {
    const { out } = ctx;
    switch (intent.intent) {
      case 'none':
        // Chatter stays unanswered; a message nobody could read gets one short line (the nearest phrasing or a
        // question) and is kept for the manager's 未识别 list.
        if (!intent.error) return out;
        await this.side.addUnread({
          at: ctx.now,
          person: ctx.me.id,
          channel: ctx.env.channel,
          chat: chatKey,
          text: (ctx.env.text ?? '').slice(0, 500),
          reason: 'unread',
        });
        return out.inform(intent.error);
      case 'help':
        return out.inform(T.help);
      case 'report':
        return report(this.kit, ctx, intent, chatKey);
      case 'mine':
        return mine(this.kit, ctx);
      case 'digest':
        return digest(this.kit, ctx, intent.period);
    }
    let task: Task | null;
    if (intent.task) {
      // As this message first found it: handled again after a crash, it answers as it did (store/tasks.ts).
      task = await this.tasks.asSeenBy(intent.task, ctx.env.id);
      if (!task) return out.reply(`没有找到 #${intent.task}，请核对任务号（发"我的"可查看你的任务）。`);
    } else {
      const found = await resolveTask(this.kit, ctx, intent);
      if ('reply' in found) return out.reply(found.reply);
      task = found.task;
    }
    switch (intent.intent) {
      case 'claim':
        return claim(this.kit, ctx, task);
      case 'transfer':
        return transfer(this.kit, ctx, task, intent.target);
      case 'hold':
        return hold(this.kit, ctx, task, intent.text);
      case 'done':
        return done(this.kit, ctx, task, intent.text);
      case 'accept':
        return accept(this.kit, ctx, task);
      case 'reopen':
        return reopen(this.kit, ctx, task, intent.text);
      case 'rate':
        if (intent.rating === undefined) return out.reply(`请写上分数（1-5），例如：评价 ${task.id} 5 很满意`);
        return rate(this.kit, ctx, task, intent.rating, intent.text);
      case 'nudge':
        return nudge(this.kit, ctx, task);
      case 'cancel':
        return cancel(this.kit, ctx, task);
      case 'status':
        return status(this.kit, ctx, task);
      case 'note':
        return note(this.kit, ctx, task, intent.text ?? '');
    }
    return out;
  }
}

/** Messages that can finish a half-given report: anything that is not a clear command of its own. */
function completesPending(i: Intent): boolean {
  return i.intent === 'report' || (i.intent === 'help' && !!i.invalid) || (i.intent === 'none' && !!i.error);
}

/** Card buttons carry "claim:12"-style keys; anything else is ignored. */
export function intentFromButton(key: string): Intent {
  const m = /^(claim|accept|reopen):(\d+)$/.exec(key);
  if (!m) return { intent: 'none' };
  return { intent: m[1] as Intent['intent'], task: Number(m[2]) };
}

const notTheSame = /^\s*(?:不是同一个|不是同一(?:个|件)?(?:事|问题)|不是一回事|两回事|是另一个|另外一个|不是这个)/;

/** ask:yes / ask:no on the "是要报修吗？" card. */
function askButton(key: string): boolean | undefined {
  return key === 'ask:yes' ? true : key === 'ask:no' ? false : undefined;
}

/** A typed 是 / 不是, and nothing longer: "是的，三楼" is a new message, not an answer. */
function shortAnswer(text: string): boolean | undefined {
  const t = text.trim().replace(/[。.!！~～\s]+$/, '');
  if (/^(?:是|是的|对|对的|嗯|嗯嗯|好|好的|要|需要|报修|保洁|登记|确认|没错|yes|y|ok)$/i.test(t)) return true;
  if (/^(?:不是|不用|不要|没事|算了|不需要|否|no|n)$/i.test(t)) return false;
  return undefined;
}
