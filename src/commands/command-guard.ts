// Modules that read messages before the command parser (checklist answers, meal scores) must leave real
// commands alone: "接单 12", "完工 12 换了灯管", "报修 小一班 …", "帮助", "我的", "日报".
import { type Intent, taskIntentNames } from './intent.js';
import { politePrefixes, reportWords } from './lexicon.js';
import { normalize } from './normalize.js';
import type { Parser } from './parser.js';

const commands = new Set<Intent['intent']>([...taskIntentNames, 'help', 'mine', 'digest']);

/** True when the parser reads the text as a command of its own (a report written with its command word counts). */
export function isCommand(parser: Parser, text: string): boolean {
  const intent = parser.parse(text);
  if (!intent.invalid && commands.has(intent.intent)) return true;
  if (intent.intent !== 'report') return false;
  let msg = normalize(text);
  for (let p = politePrefixes.find((x) => msg.startsWith(x)); p; p = politePrefixes.find((x) => msg.startsWith(x)))
    msg = msg.slice(p.length).trimStart();
  return Object.keys(reportWords).some((w) => msg.startsWith(w));
}
