// Task commands that name no number: "那个修好了吗" (the reporter's latest report), "换了个开关 已经好了" and
// "师傅在路上了" (a worker's or manager's one task in hand). One candidate: act on it. Several: ask which, naming
// them. None: say so, with the phrasing that works.
import type { Intent } from '../../commands/intent.js';
import type { Ctx, StepKit } from './steps.js';
import type { Task } from './task.js';
import * as T from './texts.js';

/** The states in which a task is still the worker's to do something about. */
const inHand = new Set(['claimed', 'on_hold']);

export type Resolved = { task: Task } | { reply: string };

export async function resolveTask(k: StepKit, ctx: Ctx, intent: Intent): Promise<Resolved> {
  const mineAll = await k.tasks.forPerson(ctx.me.id, 50);
  if (intent.ref === 'last') {
    const reported = mineAll.filter((t) => t.reporter === ctx.me.id).sort((a, b) => b.createdAt - a.createdAt);
    if (!reported.length) return { reply: `没找到你最近报的单。请写任务号，例如：${example(intent.intent, 12)}` };
    // 那个 is unambiguous with one open report, or with 刚才 / 刚 naming the latest; otherwise ask which.
    if (reported.length === 1 || /刚/.test(ctx.env.text ?? '')) return { task: reported[0] };
    const list = reported.slice(0, 5).map((t) => `· ${T.summary(t)}`);
    return {
      reply: [
        `你报的单有 ${reported.length} 个还没结束，是哪一单？`,
        ...list,
        `回复时写上任务号，例如：${example(intent.intent, reported[0].id)}`,
      ].join('\n'),
    };
  }
  // A worker's own tasks first; a manager with none in hand is asked for the number.
  const held = mineAll.filter((t) => t.assignee === ctx.me.id && inHand.has(t.state));
  if (held.length === 1) return { task: held[0] };
  if (!held.length)
    return { reply: `你手上没有在办的单。请写任务号，例如：${example(intent.intent, 12)}（发"我的"可查看你的任务）` };
  const list = held.slice(0, 5).map((t) => `· ${T.summary(t)}`);
  return {
    reply: [
      `你手上有 ${held.length} 单，是哪一单？`,
      ...list,
      `回复时写上任务号，例如：${example(intent.intent, held[0].id)}`,
    ].join('\n'),
  };
}

function example(intent: Intent['intent'], id: number): string {
  switch (intent) {
    case 'done':
      return `完工 ${id} 换了开关`;
    case 'note':
      return `${id}号 师傅在路上了`;
    case 'hold':
      return `挂起 ${id} 等配件`;
    case 'claim':
      return `接单 ${id}`;
    case 'accept':
      return `验收 ${id}`;
    case 'reopen':
      return `没修好 ${id} 还是漏水`;
    case 'rate':
      return `评价 ${id} 5 很满意`;
    case 'nudge':
      return `催办 ${id}`;
    case 'cancel':
      return `撤销 ${id}`;
    default:
      return `进度 ${id}`;
  }
}
