// Which task a message is about when the number is not at the start: "这个我来 #146", "3号楼的那个 第27单 弄好没有",
// "15號單什麼時候修", and the task of a quoted bot message ("「#15 已完工，请验收」 好了"). A building code is a place,
// never a task ("8-2那边的 #119" is task 119; "一期43号" is a building); neither is a date ("下周一15号停电").
import { buildingCode } from './free-place.js';
import { chineseToInt } from './numbers.js';

export interface TaskRef {
  task: number;
  /** The text with the reference taken out. */
  rest: string;
}

const cn = '[零〇一二两三四五六七八九十百]+';
/** Strongest first: a "#", a 第…单, a …号单, a 单号…, then a bare …号 that is neither a building nor a date. */
const forms: RegExp[] = [
  /(?:#|\bno\.?)\s*(\d{1,9})(?!\d)/i,
  new RegExp(`第\\s*(\\d{1,9}|${cn})\\s*(?:号单|个单|单|号)`),
  new RegExp(`(?<![\\d-])(\\d{1,9}|${cn})\\s*号\\s*(?:单子?|工单|任务|报修)`),
  new RegExp(`(?:单号|工单号?|任务号?|报修号|编号为?)\\s*[:：]?\\s*(\\d{1,9}|${cn})(?!\\d)`),
  new RegExp(`(?<![\\d\\-期弄栋幢月周期日区床层楼])(\\d{1,9}|${cn})\\s*号(?![\\d楼床柜车线桌房室门栋座区位层院]|电梯)`),
];

/** A date or a time, not a task: 15号开始, 下周一15号, 12月15号, 15号那天, 15号上午. */
const dateBefore = /(?:月|周[一二三四五六日天]|星期[一二三四五六日天]|下周|这周|本周|本月|下个?月|上个?月)\s*$/;
const dateAfter =
  /^\s*(?:开始|之前|以前|前|后|那天|当天|上午|下午|晚上|早上|中午|到(?!哪)|至|左右|放假|停|开学|放学|起|彩排|演出|活动|开会|体检|家长会|运动会)/;

export function findTaskRef(text: string): TaskRef | undefined {
  // Building codes are blanked first, keeping every other character where it was.
  const masked = text.replace(buildingCode, (s) => '_'.repeat(s.length));
  for (const form of forms) {
    const m = form.exec(masked);
    if (!m) continue;
    const before = text.slice(0, m.index);
    const after = text.slice(m.index + m[0].length);
    if (form === forms[4] && (dateBefore.test(before) || dateAfter.test(after))) continue;
    const value = /^\d+$/.test(m[1]) ? Number(m[1]) : chineseToInt(m[1]);
    if (!value) continue;
    return { task: value, rest: `${before} ${after}`.trim() };
  }
  return undefined;
}

export interface Quote {
  /** The task the quoted message was about, if it named one. */
  task?: number;
  /** What the quoted bot message was: the request to accept finished work, a new task for workers, … */
  about?: 'done' | 'new' | 'claimed' | 'held' | 'overdue' | 'transferred' | 'rate';
}

/** Reads a quoted message (the bot's, usually): its task number and what it asked for. */
export function readQuote(quote: string): Quote {
  const ref = findTaskRef(quote);
  const about = /请验收|已完工|完工/.test(quote)
    ? 'done'
    : /打分|评价|已验收/.test(quote)
      ? 'rate'
      : /新报修|新保洁|待接单|请接单|新工单|新任务/.test(quote)
        ? 'new'
        : /超时|未接单|催办/.test(quote)
          ? 'overdue'
          : /挂起|等配件|等厂家/.test(quote)
            ? 'held'
            : /转给|派给/.test(quote)
              ? 'transferred'
              : /已接单|接单/.test(quote)
                ? 'claimed'
                : undefined;
  return { task: ref?.task, about };
}

/**
 * A quote pasted into the message itself: a first line in 「…」, “…”, "> …" or "引用 …", then the answer. Only a
 * quote that names a task counts: people also put 「」 around plain words.
 */
export function splitPastedQuote(msg: string): { quote?: string; text: string } {
  const lines = msg.split('\n');
  const first = lines[0];
  const whole = /^(?:>\s*|引用[:：]?\s*)(.+)$/.exec(first) ?? /^[「“"](.+?)[」”"]\s*(.*)$/.exec(first);
  if (!whole || !findTaskRef(whole[1])) return { text: msg };
  const sameLine = whole[2] ?? '';
  return { quote: whole[1], text: [sameLine, ...lines.slice(1)].filter(Boolean).join('\n') };
}

/**
 * What 那个 points at when it is no task: a visitor, the weather, an event or a file ("刚才那个家长又来了", "刚刚那个打雷",
 * "我报的那个培训名额"). "刚才那个师傅修好了" is the task still: the worker is how it is told.
 */
const notTask = '家长|病人|家属|学生|打雷|雷|雨|风|培训|名额|活动|通知|视频|照片|链接|文件';
/** A bare 那个 is also the filler before what one says ("那个我跟大家说一下"), or a person. */
const bareNotTask = `新|人|老师|谁|阿姨|师傅|小朋友|孩子|我|你|大家|就是|${notTask}`;
/** Stands for "the task I reported last" in a reporter's message: 那个, 刚才那个, 我报的那个, 我的那个, 刚才报的电梯. */
export const lastRef = new RegExp(
  `(?:刚才|刚刚|刚|上午|下午|中午|晚上|昨天|前天|之前|早上|我)(?:报的|报修的|说的|提的|发的)?(?:的?那个(?!${notTask})|那单|的单子?)|(?:刚才|刚刚|早上|上午|中午|下午|昨天)报的|我(?:刚|今天|上午|下午|中午|早上|昨天)?报的(?!那个(?:${notTask}))|刚报的|报修的那个|(?:刚|刚刚)?修好?的那个|(?:^|\\s)那个(?!${bareNotTask})`,
);

export { chineseToInt };
