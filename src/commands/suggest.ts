// The reply to a message the parser cannot read: "没看懂" and the one example it most resembles, so a
// typo like "接丹 12" or "接 单12" gets "接单 12" back, with the user's own task number and place.
import type { ParseContext } from './context.js';
import { say, type ExampleName } from './messages.js';

/** Characters that give a command away even when the rest is mistyped. Earlier entries win ties. */
const hints: [ExampleName, string[]][] = [
  ['claim', ['接', '抢']],
  ['transfer', ['转', '派']],
  ['hold', ['挂', '暂停', '配件']],
  ['done', ['完', '修好', '搞定']],
  ['accept', ['验', '确认']],
  ['reopen', ['返', '没修', '还是坏']],
  ['rate', ['评', '价', '星', '满意']],
  ['nudge', ['催']],
  ['cancel', ['撤', '取消']],
  ['status', ['进度', '查', '状态', '进展']],
  ['digest', ['日报', '周报', '月报']],
  ['repair', ['报修', '修']],
  ['cleaning', ['洁', '扫']],
  ['meal', ['餐', '饭']],
  ['mine', ['我的']],
  ['help', ['帮', '助', '菜单', '怎么']],
];

/**
 * The nearest correct phrasing for a message nobody could read ("接丹 12" → 接单 12, "中二班" → 报修 中二班 …), or
 * undefined when nothing in it hints at a command; then unreadQuestion() asks instead. The bot says it in a DM only.
 */
export function unreadable(line: string, ctx: ParseContext): string | undefined {
  const task = /[1-9]\d{0,8}/.exec(line)?.[0];
  const place = ctx.places.match(line)?.place;
  let best: ExampleName | undefined;
  let bestScore = 0;
  for (const [name, chars] of hints) {
    const score = chars.filter((c) => line.includes(c)).length;
    if (score > bestScore) [best, bestScore] = [name, score];
  }
  best ??= place ? 'repair' : task ? 'status' : undefined;
  if (!best) return undefined;
  return say.unreadable(ctx.examples(best, task ? Number(task) : undefined, place));
}

/** The one short question for a message the bot cannot place (in a DM; in a group the bot stays quiet). */
export function unreadQuestion(ctx: ParseContext): string {
  return say.unreadQuestion(ctx.examples('repair'));
}
