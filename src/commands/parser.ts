// Text → Intent. Order matters: forms, whole-message commands (帮助, 我的, 日报), a command word at the
// start (or after the task number), a problem sentence, chatter, and last the "没看懂" reply.
import type { Config, Kind } from '../config/schema.js';
import { createChatter } from './chatter.js';
import { createContext, type ParseContext } from './context.js';
import { readForm } from './form.js';
import type { Intent } from './intent.js';
import { politePrefixes, reportWords, taskWords, type TaskIntent } from './lexicon.js';
import { normalize } from './normalize.js';
import { takeTask } from './numbers.js';
import { reportFromCommand, reportFromForm, reportFromSentence } from './report.js';
import { unreadable } from './suggest.js';
import { isQuestion, taskCommand, type TaskWord } from './task.js';

export interface Parser {
  parse(text: string): Intent;
  /** The canonical configured place named in the text (for a report that is waiting for its place). */
  findPlace(text: string): string | undefined;
}

type CommandWord = TaskWord | { word: string; intent: 'report'; kind: Kind };

const commandWords: CommandWord[] = [
  ...Object.entries(reportWords).map(([word, kind]) => ({ word, intent: 'report' as const, kind })),
  ...Object.entries(taskWords).flatMap(([intent, { strong, weak }]) => [
    ...strong.map((word) => ({ word, intent: intent as TaskIntent, strong: true })),
    ...weak.map((word) => ({ word, intent: intent as TaskIntent, strong: false })),
  ]),
].sort((a, b) => b.word.length - a.word.length);

const helpWords = new Set([
  '?',
  '帮助',
  'help',
  'h',
  '/help',
  '怎么用',
  '如何使用',
  '使用说明',
  '使用方法',
  '说明',
  '菜单',
  '选单',
  '指令',
  '命令',
  '功能',
  '用法',
]);
const mine = /^(?:查看?|看看?)?我的(?:任务|工单|单子|报修|单|待办)?(?:列表)?$/;
const digest =
  /^(?:发|看|查看|查|要)?(?:今日|今天的?|昨天的?|本周的?|这周的?|上周的?|本月的?|这个月的?|上个月的?)?(日报|周报|月报)$/;
const periods = { 日报: 'day', 周报: 'week', 月报: 'month' } as const;

export function createParser(config: Config): Parser {
  const ctx = createContext(config);
  const chatter = createChatter(ctx.personNames);

  function parseLine(line: string): Intent | undefined {
    return wholeMessage(line) ?? leadingCommand(line, ctx) ?? numberFirst(line, ctx) ?? reportFromSentence(line, ctx);
  }

  function parse(text: string): Intent {
    const msg = normalize(text);
    if (!msg) return { intent: 'none' };
    const form = readForm(msg);
    if (form) return reportFromForm(form, ctx);
    const line = msg.replace(/\n/g, ' ');
    // "好的，12号我来接": act on what follows the courtesy, and leave the courtesy out of a report's text.
    const after = chatter.afterChatter(line);
    const understood = (after !== undefined ? parseLine(after) : undefined) ?? parseLine(line);
    if (understood) return understood;
    if (chatter.isChatter(line)) return { intent: 'none' };
    if (after === undefined) return unreadable(line, ctx);
    // "好的，我马上过去" is chatter all through; "收到，接丹 12" was meant as a command.
    return /\d/.test(after) ? unreadable(after, ctx) : { intent: 'none' };
  }

  return {
    parse: (text) => tidy(parse(text)),
    findPlace: (text) => ctx.places.match(normalize(text))?.place,
  };
}

/** Commands that are the whole message: "帮助", "？", "我的任务", "本周周报". */
function wholeMessage(line: string): Intent | undefined {
  const core = line
    .toLowerCase()
    .replace(/\s+/g, '')
    .replace(/(.)[.!~。…?]+$/, '$1');
  if (helpWords.has(core) || /^\?+$/.test(core)) return { intent: 'help' };
  if (mine.test(core)) return { intent: 'mine' };
  const d = digest.exec(core);
  return d ? { intent: 'digest', period: periods[d[1] as keyof typeof periods] } : undefined;
}

/** "接单 12", "请验收12", "紧急报修 配电房冒烟": a command word after any polite prefix. */
function leadingCommand(line: string, ctx: ParseContext, task?: number): Intent | undefined {
  for (const candidate of withoutPrefixes(line)) {
    const w = commandWords.find((c) => candidate.startsWith(c.word));
    if (!w) continue;
    const rest = candidate.slice(w.word.length);
    if (w.intent === 'report') {
      if (task === undefined) return reportFromCommand(w.kind, rest, line, ctx);
      continue;
    }
    const intent = taskCommand(w, rest, ctx, task);
    if (intent) return intent;
  }
  return undefined;
}

/** "12号修好了", "#12 验收", "把12号转给吴师傅", "12号有人接了吗" (a question about a task is 进度). */
function numberFirst(line: string, ctx: ParseContext): Intent | undefined {
  const { value: task, rest } = takeTask(line.replace(/^[把将]\s*/, ''));
  if (task === undefined) return undefined;
  const after = rest.replace(/^[\s,:]+/, '');
  return leadingCommand(after, ctx, task) ?? (isQuestion(after) ? { intent: 'status', task } : undefined);
}

function* withoutPrefixes(line: string): Generator<string> {
  let s = line;
  yield s;
  for (let p = politePrefixes.find((x) => s.startsWith(x)); p; p = politePrefixes.find((x) => s.startsWith(x))) {
    s = s.slice(p.length).trimStart();
    yield s;
  }
}

const fieldOrder = [
  'intent',
  'task',
  'kind',
  'trade',
  'place',
  'urgent',
  'rating',
  'text',
  'target',
  'period',
  'invalid',
  'error',
] as const;

/** Same key order every time, and no undefined keys: the JSON output shows only what was understood. */
function tidy(intent: Intent): Intent {
  const out: Record<string, unknown> = {};
  for (const k of fieldOrder) if (intent[k] !== undefined) out[k] = intent[k];
  return out as Intent;
}
