// What handling a message or a timer produces: messages to send, a task to dispatch, timers to arm — as data.
// The queue layer carries these out with deterministic job ids, so a retried job repeats none of them.
import type { Kind } from '../config/schema.js';
import type { Card, Message, Outgoing, ReplyHandle, Target } from './messages.js';

export type TimerStep = 'remind' | 'assign' | 'escalate' | 'autoaccept';

export interface TimerSpec {
  step: TimerStep;
  task: number;
  delayMs: number;
  /** Part of the job id: arming the same timer twice is a no-op. */
  id: string;
  expect?: number; // autoaccept: the doneCount it was armed for
}

export class Outcome {
  messages: Outgoing[] = [];
  timers: TimerSpec[] = [];
  /** Tasks to dispatch (each through its kind's route queue). A checklist answer with two failures opens two. */
  routes: { task: number; kind: Kind }[] = [];
  /** The card the clicker should see, for platforms that change the clicked card in the click's own answer. */
  clickedCard?: Card;
  /** The channel a person just wrote from: where their direct messages go when several platforms can reach them. */
  via?: { person: string; channel: string };

  constructor(readonly handle?: ReplyHandle) {}

  /** The first task this outcome dispatches, if any. */
  get route(): { task: number; kind: Kind } | undefined {
    return this.routes[0];
  }

  dispatch(task: number, kind: Kind): this {
    this.routes.push({ task, kind });
    return this;
  }

  send(to: Target, message: Message): this {
    this.messages.push({ to, message });
    return this;
  }

  reply(text: string): this {
    if (this.handle) this.send({ kind: 'reply', handle: this.handle }, { type: 'text', text });
    return this;
  }

  /**
   * A reply that only informs (help, "not understood", "not on the roster"): when the person's waiting messages pass
   * the outbox's cap, these may be folded into one summary. Task notices, claim cards and reminders never are.
   */
  inform(text: string): this {
    if (this.handle)
      this.messages.push({ to: { kind: 'reply', handle: this.handle }, message: { type: 'text', text }, info: true });
    return this;
  }

  dm(person: string | undefined, text: string): this {
    if (person) this.send({ kind: 'user', person }, { type: 'text', text });
    return this;
  }
}
