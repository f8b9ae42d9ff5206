// Numbers as people type them: task numbers ("#12", "12号", "第12单", "十二号") and ratings
// ("4", "4分", "四分", "五星", "★★★★", "满意", "好评").
import { ratingPresets } from './lexicon.js';

/** Chinese digits, lower and upper case (大写 as on receipts: 壹贰叁). */
const chineseDigits: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  壹: 1,
  二: 2,
  两: 2,
  贰: 2,
  三: 3,
  叁: 3,
  四: 4,
  肆: 4,
  五: 5,
  伍: 5,
  六: 6,
  陆: 6,
  七: 7,
  柒: 7,
  八: 8,
  捌: 8,
  九: 9,
  玖: 9,
};

/** "十二" → 12, "一百零五" → 105, "一二" → 12; undefined when it is not a plain Chinese number. */
export function chineseToInt(s: string): number | undefined {
  let total = 0;
  let current = 0;
  let lastWasDigit = false;
  for (const ch of s) {
    if (ch in chineseDigits) {
      current = lastWasDigit ? current * 10 + chineseDigits[ch] : chineseDigits[ch];
      lastWasDigit = true;
    } else if (ch === '十' || ch === '百') {
      total += (lastWasDigit || current ? current : 1) * (ch === '十' ? 10 : 100);
      current = 0;
      lastWasDigit = false;
    } else {
      return undefined;
    }
  }
  return s ? total + current : undefined;
}

/** A count of things, not a task number or a rating: "3个菜", "2号楼"… ("号" is handled separately). */
const measure = /^\s*[个只件台盏张把根块次天点年月日岁人楼层种道碗盘样位遍床栋幢病区]/;
/** "2号楼", "3号床": a numbered thing, not task 2. */
const numberedThing = /^\s*[楼层床柜车线桌房室门病区栋幢座单期弄梯]/;

export interface Taken<T> {
  value?: T;
  /** The number was there but impossible (0, too long, out of range): the caller reports it. */
  bad?: true;
  rest: string;
}

const taskPrefix = /^(?:工单号?|单号|单子|任务号?|编号为?|第)?\s*(?:#|no\.?)?\s*/i;

/** A task number at the start of `s`. Task ids stay below 10⁹; a longer number is a phone number or a typo. */
export function takeTask(s: string): Taken<number> {
  const prefix = taskPrefix.exec(s)![0];
  const after = s.slice(prefix.length);
  const digits = /^\d+/.exec(after)?.[0];
  const chinese = digits ? undefined : /^[零〇一二两三四五六七八九十百]+(?=\s*[号单]|\s|$)/.exec(after)?.[0];
  const raw = digits ?? chinese;
  if (!raw) return { rest: s };
  let rest = after.slice(raw.length);
  // "6-2 应急灯坏了", "2号宿舍楼": a building-unit code or a numbered building, not a task.
  if (/^-\d|^#楼|^\s*号(?:宿舍|教学|住院|办公|实验|门诊)楼/.test(rest)) return { rest: s };
  const suffix = /^\s*(?:号(?:单子?)?|单子?)/.exec(rest)?.[0];
  if (!suffix && (measure.test(rest) || /^\s*(?:星|分|颗|\.\d)/.test(rest))) return { rest: s };
  // "208的马桶很脏": a bare room number owning a thing is a place; a task is "208号" or "#208".
  if (!suffix && !/#|no/i.test(prefix) && /^的/.test(rest)) return { rest: s };
  // "301宿舍那单": a room or bed number before what it numbers.
  if (!suffix && !/#|no/i.test(prefix) && /^(?:宿舍|寝室|室|房|病房|床|病区|班|栋|幢|楼|层|单元)/.test(rest))
    return { rest: s };
  rest = rest.slice(suffix?.length ?? 0);
  // "第156单 门能关严了" is task 156 whatever follows; "2号楼" is a building.
  if (suffix && !suffix.includes('单') && numberedThing.test(rest)) return { rest: s };
  const value = digits ? (digits.length <= 9 ? Number(digits) : 0) : chineseToInt(raw)!;
  return value > 0 ? { value, rest } : { bad: true, rest };
}

/** Words that stand for a score when no number is given (a comment like "很满意" is a rating on its own). */
const ratingWords: [string, number][] = [
  ...Object.entries(ratingPresets),
  ['非常不满意', 1],
  ['很不满意', 1],
  ['不满意', 2],
  ['非常满意', 5],
  ['很满意', 5],
  ['满意', 4],
  ['满分', 5],
  ['很差', 1],
  ['一般', 3],
  ['还行', 3],
];

/**
 * A 1–5 rating at the start of `s`. Satisfaction words give a score but stay in `rest` (they are also the
 * comment). "十分好吃" is "very tasty", not ten points.
 */
export function takeRating(s: string): Taken<number> {
  const stars = /^[★⭐]+☆*/.exec(s)?.[0];
  if (stars) return score([...stars].filter((c) => c !== '☆').length, s.slice(stars.length));
  // "1 米饭太硬" is a score then a comment; "3个菜" (no space) counts dishes.
  const num = /^(\d+(?:\.\d+)?)(\s*)(\/\s*5|分|颗星|星|颗)?/.exec(s);
  if (num && (num[2] || num[3] || !measure.test(s.slice(num[0].length)))) {
    return score(Number(num[1]), s.slice(num[0].length));
  }
  const cn = /^([零一二两三四五六七八九十]+)\s*(分|颗星|星)/.exec(s);
  if (cn && !(cn[1] === '十' && cn[2] === '分')) return score(chineseToInt(cn[1])!, s.slice(cn[0].length));
  const word = ratingWords.find(([w]) => s.startsWith(w));
  return word ? { value: word[1], rest: s } : { rest: s };
}

/** A rating written after the comment: "餐评 汤太咸 3分", "餐评 不错 ★★★★". */
export function takeTrailingRating(s: string): Taken<number> {
  const m = /(?:^|\s)([★⭐]+☆*|\d\s*(?:分|星)|[一二两三四五]\s*(?:分|星))$/.exec(s);
  if (!m) return { rest: s };
  const r = takeRating(m[1]);
  return r.value === undefined && !r.bad ? { rest: s } : { ...r, rest: s.slice(0, m.index) };
}

function score(n: number, rest: string): Taken<number> {
  return Number.isInteger(n) && n >= 1 && n <= 5 ? { value: n, rest } : { bad: true, rest };
}
