// Commands on an existing task: 接单 12, 转单 12 @吴师傅, 挂起 12 等配件, 完工 12 换了灯管, 评价 12 5 …
import type { ParseContext } from './context.js';
import type { Intent } from './intent.js';
import { ratingPresets, type TaskIntent } from './lexicon.js';
import { say } from './messages.js';
import { trimPunct } from './normalize.js';
import { takeRating, takeTask } from './numbers.js';
import { lastRef } from './refs.js';

export interface TaskWord {
  word: string;
  intent: TaskIntent;
  strong: boolean;
}

/** "修好了吗", "12号有人接了吗": a question about the task, not the act itself. */
export const isQuestion = (s: string) => /(?:[吗么呢?]|没有?)\s*$/.test(s);
/**
 * What follows a done word makes it a question when it starts with one, whatever reason comes after ("修好了吗 孩子中午要睡");
 * "码" and "马" right after 了 are a phone's 吗 ("28号修好了码").
 */
const asksAfter = (rest: string) => isQuestion(rest) || /^\s*(?:[吗么呢嘛码马?]|没有?)(?:\s|$)/.test(rest);

/**
 * `rest` is what follows the command word; `task` is given when the number came first ("12号修好了").
 * Undefined when a weak word turns out not to be a command (no number after "接").
 */
export function taskCommand(
  w: TaskWord,
  rest: string,
  ctx: ParseContext,
  task?: number,
  /** The task of a quoted message, for a command written without its number ("没修好" under "#15 已完工"). */
  quoted?: number,
  /** A worker or manager: "修好了", "挂起 等配件" with no number mean the one task in their hands (the domain finds it). */
  inHand = false,
): Intent | undefined {
  const ex = ctx.examples;
  const intent = w.intent === 'done' && asksAfter(rest) ? 'status' : w.intent;
  // "验收一下 12", "麻烦催下12号": the filler belongs to the verb.
  let body = rest.replace(/^\s*一?下/, '');
  if (task === undefined) {
    const taken = w.intent === 'transfer' ? takeTaskAnywhere(body) : takeTask(trimPunct(body));
    // A weak word ("好了") under a quote is left to the plain-words reading, which knows who is speaking.
    task = taken.value ?? (w.strong ? quoted : undefined);
    body = taken.rest;
  }
  if (task === undefined && quoted === undefined && inHand && (intent === 'done' || intent === 'hold'))
    return { intent, text: trimPunct(body).replace(/^[了啦]\s*/, '') || undefined };
  // "撤回刚才那个", "验收我报的那个": the sender's last report, found by the domain.
  if (task === undefined && w.strong && lastRef.test(body) && intent !== 'transfer' && intent !== 'claim')
    return { intent, ref: 'last', text: trimPunct(body.replace(lastRef, ' ')) || undefined };
  if (task === undefined) return w.strong ? { intent, invalid: true, error: say.needTask(ex(intent)) } : undefined;
  // "完工了 换了灯管", "12号我接了": the particle belongs to the verb.
  body = trimPunct(body).replace(/^[了啦]\s*/, '');
  if (/^[了啦吧哈呀哦啊的]*$/.test(body) || (intent === 'status' && isQuestion(body))) body = '';
  const base: Intent = { intent, task, text: body || undefined };
  switch (intent) {
    case 'transfer': {
      const { target, reason } = takeTarget(body, ctx.personNames);
      if (!target) return { ...base, invalid: true, error: say.needTarget(ex('transfer', task)) };
      return { ...base, target, text: reason || undefined };
    }
    case 'hold': {
      // 待配件 is itself the reason; anything after it says which part.
      const reason = w.word === '待配件' ? `待配件 ${body}`.trim() : body;
      if (!reason) return { ...base, invalid: true, error: say.needReason(ex('hold', task)) };
      return { ...base, text: reason };
    }
    case 'rate': {
      const r = takeRating(body);
      if (r.bad) return { ...base, text: undefined, invalid: true, error: say.badRating(ex('rate', task)) };
      const rating = r.value ?? ratingPresets[w.word];
      if (rating === undefined) return { ...base, invalid: true, error: say.needRating(ex('rate', task)) };
      return { ...base, rating, text: trimPunct(r.rest) || undefined };
    }
    default:
      return base;
  }
}

/** 转单 puts the person before or after the number: "转给吴师傅 12", "转单 12 @吴师傅". */
function takeTaskAnywhere(s: string): { value?: number; rest: string } {
  const first = takeTask(trimPunct(s));
  if (first.value !== undefined) return first;
  const m = /(?<![\da-z])#?(\d{1,9})\s*(?:号单?|单)?(?=[\s,.;!]|$)/i.exec(s);
  if (!m || Number(m[1]) === 0) return { rest: s };
  return { value: Number(m[1]), rest: s.slice(0, m.index) + ' ' + s.slice(m.index + m[0].length) };
}

/** The person as typed, without "@" or "给": a roster name if it starts the text, else the first word. */
function takeTarget(s: string, personNames: string[]): { target?: string; reason: string } {
  const t = trimPunct(s)
    .replace(/^(?:转给|派给|交给|给)\s*/, '')
    .replace(/^@\s*/, '');
  const known = personNames.find((n) => t.toLowerCase().startsWith(n.toLowerCase()));
  const target = known ? t.slice(0, known.length) : /^[^\s,.;:!?、。@]+/.exec(t)?.[0];
  return { target, reason: trimPunct(t.slice(target?.length ?? 0)) };
}
