// Text → Intent. Order matters: a pasted quote is split off, then forms, lists and summaries (帮助, 我的, 日报),
// a command word at the start (or after the task number), a task named anywhere with what is wanted in plain words
// ("15号我来修"), a reply under a quoted bot message, a worker's note, a problem sentence, talk between people,
// and last "没看懂".
import type { Config, Kind } from '../config/schema.js';
import { readAsk } from './asks.js';
import { createChatter, elsewhere, isTalkToPeople, ownLife } from './chatter.js';
import { createContext, type ParseContext } from './context.js';
import { readForm } from './form.js';
import { type Intent, taskIntentNames } from './intent.js';
import { builtInData, builtInModel, type IntentModel, loadModel, primaryRole, withExamples } from './learned.js';
import { politePrefixes, taskWords, type TaskIntent } from './lexicon.js';
import { normalize } from './normalize.js';
import { readNote } from './notes.js';
import { takeTask } from './numbers.js';
import { plainTask, type Who } from './plain-task.js';
import { findTaskRef, lastRef, readQuote, splitPastedQuote, type Quote } from './refs.js';
import { reportFromCommand, reportFromForm, reportFromSentence } from './report.js';
import { createReconsider, type SecondOpinion } from './second-opinion.js';
import { unreadable, unreadQuestion } from './suggest.js';
import { isQuestion, taskCommand, type TaskWord } from './task.js';
import { haste } from './vocabulary/faults.js';

/** What else the parser may know about a message besides its text. */
export interface ParseInput {
  /** The text of the message this one replies to by quoting (WeCom puts it in the payload). */
  quote?: string;
  /** The sender's roles from the roster (teacher, worker, manager, …): "好了" is 完工 from a worker, 验收 from a reporter. */
  roles?: readonly string[];
  chat?: 'group' | 'dm';
}

export interface Parser {
  parse(text: string, input?: ParseInput): Intent;
  /** The canonical configured place named in the text (for a report that is waiting for its place). */
  findPlace(text: string): string | undefined;
  /**
   * Words in a message the parser knows nothing about (no place, thing, fault or common word): what a manager may
   * add to the site's vocabulary when the bot missed the message ("门口电子屏黑了" → 电子屏 once it was unknown).
   */
  unknownWords(text: string): string[];
}

type CommandWord = TaskWord | { word: string; intent: 'report'; kind: Kind };

const taskCommandWords: CommandWord[] = Object.entries(taskWords).flatMap(([intent, { strong, weak }]) => [
  ...strong.map((word) => ({ word, intent: intent as TaskIntent, strong: true })),
  ...weak.map((word) => ({ word, intent: intent as TaskIntent, strong: false })),
]);
const commandWordsByContext = new WeakMap<ParseContext, CommandWord[]>();

/** Report words (built in, and each added kind's `commands`: 运送, 医废收运) and task words, longest first. */
function commandWordsOf(ctx: ParseContext): CommandWord[] {
  let words = commandWordsByContext.get(ctx);
  if (!words) {
    words = [
      ...Object.entries(ctx.reportWords).map(([word, kind]) => ({ word, intent: 'report' as const, kind })),
      ...taskCommandWords,
    ].sort((a, b) => b.word.length - a.word.length);
    commandWordsByContext.set(ctx, words);
  }
  return words;
}

/** @-mentions anywhere (the bot's, a worker's) and phone numbers, masked or not: noise around a request. */
const noise =
  /@\S+|(?:电话|手机|联系电话|联系方式|tel)?[:\s]*(?:(?<!\d)1[3-9]\d[\d*]{4}\d{4}(?!\d)|(?<!\d)\d{3,4}-\d{7,8}(?!\d)|(?<![\d-])[48]00-?\d{3}-?\d{4}(?![\d-]))/gi;

const taskSteps = new Set<string>(taskIntentNames);
const isTaskStep = (i: Intent) => taskSteps.has(i.intent);

/** "别进水", "防止漏电", "小心滑倒": a warning to people names a fault that has not happened. */
const warning = /(?:别|不要|防止|以防|小心|注意|免得|当心)\S{0,4}/g;
/** Asking logistics to come: "麻烦派人来看看", "你们安排人来看一下", "帮忙扫一下" — a report whatever else is said. */
const askingLogistics =
  /麻烦|派人|安排人|来人|帮忙|请.{0,4}(?:来|派|安排|处理|修|看|收拾|打扫)|来(?:修|看|收拾|处理|扫)|处理一下|收拾一下|看一下|看看|你们\S{0,2}来(?!了)/;
// "昨天中三班跳闸 吴师傅五分钟就到了 必须点赞": a past fault told with thanks, already dealt with.
const pastAndThanked =
  /^(?=.*(?:昨天|昨晚|前天|上周|上个?月|去年|前两天|那天|上次))(?=.*(?:点赞|感谢|辛苦|负责|给力|(?:早就|已经)修好|处理过|问题不大|就到了|赶过来))(?!.*又)/;
// "容易起火", "当心一氧化碳中毒", "发现燃气味：不开灯…大家记住": advice about what could happen, not a report of what did.
const advice = /记住|容易|可能会?|当心|谨防|千万别|别(?:挨着|推进|碰|靠近|再)|不要(?:去)?碰|一定要/;
const happening = /现在|刚才|已经|快来|了$/;
/** Nothing to do after all: "我去看了是好的", "是厨房炒辣椒 没事了", "不用管". */
const resolved =
  /是好的|没事了|没事没事|不用管|还好很快|虚惊|误报|已经恢复|其实还好|以为.{0,12}结果|现在(?:可以|好)了|不用(?:打扫|扫|收拾|擦|拖|修)|解释了|没着火|在测试|跟(?:咱们|我们)没关系|(?:查过了|看了)是|还好.{0,10}(?:出来了|没事)|已经(?:查清|处理完|弄出来|赶出去|报警|消毒)|没问题$|已经(?:回复|解释|答复)了?|是在换新的|已经换(?:成)?新的了(?!.*(?:还|又))/;
/**
 * A past event retold, already dealt with: "上回水管爆了多亏王师傅半夜赶过来", "前天电梯困人那事 后来查了是门机坏了
 * 已经换了新的". Talk, however dangerous the words; "又" or "还没" makes it a report again.
 */
const retold =
  /^(?=.*(?:上回|上次|那次|那回|之前|前天|上周|那天|那事|的事))(?=.*(?:多亏|幸亏|还好|后来|已经处理|已经换|不然|吓得|差点))(?!.*(?:又|还是|还没|还不|再次|现在))/;
/**
 * A batch of past work said to be done, or one done long ago: "上周报的那些都修完了 大家辛苦", "这周报的都修好了",
 * "上个月午睡室那个漏水早就修好了" — a summary told to people, no step on a task ("那几个都修好没" asks).
 */
const doneLongAgo =
  /^(?=.*(?:上周|这周|本周|上个?月|这个月|本月|上学期|这学期|早就))(?=.*(?:那些|那几单|都|早就)\S{0,2}(?:修完|处理完|修好|弄好|处理好))(?!.*(?:吗|没(?:\s|$)|\?))/;
/**
 * A fault explained away by the one who saw it: "原来是遥控器调成送风了", "是路由器插头被碰掉了 插回去就好了",
 * "我自己插好了". Nothing for logistics.
 */
// Also the sender's own doing or a setting meant so ("窗帘是我拆下来洗的 不是掉了", "漏电保护是故意调得很灵敏的",
// "空调是分时段开的 四点以后才开", "制热要等十分钟才出热风 正常的"), a thing that is someone else's to look after
// ("广告屏是广告公司的 不归我们管"), and a message said not to be a report ("不是报修 问下装修报备的事", "群里发错了").
const explained =
  /是我(?:自己)?\S{0,3}(?:拆|拿|取|摘|卸|收|挪|搬)|是故意|故意(?:调|设|关|开|拆)|(?:别|不要)以为|分时段|定时(?:开|关)|(?:以后|之后)才(?:开|供|有|通)|正常的(?:\s|$)|(?<!归)不归\S{0,4}管|不是(?:要)?报修|已经?沟通过?了|原来\S{0,10}是|其实是|是因为|看了\S{0,6}好好的|推反了|不是真|没毛病|跟我们\S{0,6}没关系|不是漏气|按错了|是我没|不用找师傅|是\S{0,8}(?:被人?|自己把?)\S{0,4}(?:拔|拧|抠|碰|关|按|接|拆|调)|(?<!是)不是\S{0,2}(?:机器|设备)的问题|(?<!是)不是着火|正常现象|不用报(?:了|$)|插上就好|按紧就|是在除霜|是有人在|是\S{0,6}在(?:保养|升级|调试?|检修|维护|测试|烧|施工|装)|是(?:有人|孩子|小朋友|学生)\S{0,3}(?:把|按|打翻|拧|碰|关)|(?<![没])没坏|(?:还|我)以为.{0,8}坏|我(?:已经)?(?:调回|打开了|拖干|插上了)|已经拖干|就正常了|是正常的|(?:先)?(?:别|不用)报修|(?<!是)不是(?:咱们|我们)(?:园|学校|这边)?的|后来(?:发现|查了?)是|(?:插|换|拧|按|调|装|充|重启)(?:了|好|回去|上)?.{0,6}就好了|我自己.{0,8}(?:好了|弄好)|我教(?:她|他|了)|我(?:关|插|拧|调|按|盖)(?:上|好|回去)了|(?<!是)不是\S{0,3}(?:坏了|断了|掉了|裂了|漏了|堵了|漏水|管子漏|故障)|密码改了|虚惊|不用麻烦(?:师傅|后勤|你们)|自己修/;
/**
 * "如果电梯困人 先按警铃": what to do if it happens, not that it did; also after an address and a short subject
 * ("各位 电梯万一困人 …别扒门").
 */
const hypothetical = /^(?:(?:各位|大家|老师们|同事们)[\s,，]*)?(?:如果|万一|要是|假如|一旦|\S{1,4}(?:万一|假如|一旦))/;
/** "监护仪报警的时候记得看一眼": what to do when it happens, told to people (a worker's may close a job: not his). */
const whenItHappens = /的话\s*(?:先|就|别|记得)|的时候\s*(?:先|别|记得)/;
/** A drill, a simulation or a quiz: "演练脚本：二楼走廊起火", "考考大家：电梯困人第一步干什么", "烟雾是假的". */
const drill = /演练|模拟情景|模拟一下|考考大家|是假的/;
/** A notice by its heading: "通知：本周六配电房换电缆 全园停电" tells people; it is no report however it sounds. */
const headedNotice = /^(?:紧急|重要|最新|临时)?(?:通知|公告|温馨提示|提醒)\s*[:：]/;
const mealTalk = /聚餐|投票|是啥|是什么|什么时候|几点|谁|明天|下周|后天|当天|少做|多做|来领|配送|改成|换成|发一下|开饭/;
const joking = /😂|🤣|😅|哈哈|笑死|开玩笑|hhh/;

/** The first roster person @-mentioned anywhere in the raw text (normalize drops a leading mention). */
function mentionedPerson(raw: string, names: string[]): string | undefined {
  for (const m of raw.normalize('NFKC').matchAll(/@\s*(\S+)/g)) {
    const name = names.find((n) => m[1].startsWith(n));
    if (name) return name;
  }
  return undefined;
}

/** The shipped model, with the site's own examples (config and overlay `vocabulary.examples`) learned on top. */
function siteModel(config: Config): IntentModel {
  const examples = config.vocabulary?.examples ?? [];
  if (!examples.length) return builtInModel();
  const taught = examples.map((e) => ({
    example: { text: normalize(e.text), who: e.who ?? 'teacher' },
    intent: e.means,
  }));
  return loadModel(withExamples(builtInData(), taught));
}

function whoOf(roles: readonly string[] | undefined): Who {
  if (!roles) return 'anyone';
  if (roles?.some((r) => r === 'manager' || r === 'director')) return 'manager';
  if (roles?.includes('worker')) return 'worker';
  return 'reporter';
}

export interface ParserOptions {
  /** The learned second opinion (second-opinion.ts); `false` for the rules alone. */
  secondOpinion?: Partial<SecondOpinion> | false;
}

export function createParser(config: Config, options: ParserOptions = {}): Parser {
  const ctx = createContext(config);
  const reconsider =
    options.secondOpinion === false
      ? undefined
      : createReconsider(ctx, {
          ...options.secondOpinion,
          sure: options.secondOpinion?.sure ?? 0.5,
          sureTalk: options.secondOpinion?.sureTalk ?? { group: 0.95 },
          model: options.secondOpinion?.model ?? siteModel(config),
        });
  const chatter = createChatter(ctx.personNames);
  /**
   * Talk the rules recognise by its shape (a story already dealt with, a fault explained away, what to do if, a
   * notice by its heading, someone's home): the learned second opinion does not turn these into a question, however
   * much they sound like a report ("万一电梯困人了 先按警铃").
   */
  const shapedTalk = new WeakSet<Intent>();
  const asTalk = (): Intent => {
    const none: Intent = { intent: 'none' };
    shapedTalk.add(none);
    return none;
  };

  function parseLine(line: string, who: Who, quote: Quote | undefined, mentioned?: string): Intent | undefined {
    // "日抱" is a thumb's 日报: a list or summary request is read again with sound-alikes corrected.
    const ask = readAsk(line, ctx.classifier.isBroken) ?? readAsk(ctx.sound.correct(line), ctx.classifier.isBroken);
    if (ask) return ask;
    const command =
      leadingCommand(line, ctx, undefined, quote?.task, who === 'worker' || who === 'manager') ??
      numberFirst(line, ctx, who, mentioned);
    if (command) return command;
    // A story of what happened and was dealt with, a fault explained away, a plan for what to do if: talk.
    const ifSo = hypothetical.test(line) || (who !== 'worker' && whenItHappens.test(line));
    if (
      retold.test(line) ||
      doneLongAgo.test(line) ||
      ((ifSo || drill.test(line)) && !happening.test(line)) ||
      headedNotice.test(line)
    )
      return asTalk();
    // (A fault explained away may still hide a real one, "虚惊一场 不是着火 是配电箱在冒烟": the model may ask.)
    // (Only when no task is named: a building's 号 is no task. Tested last, as few lines are explained away.)
    const numbered = () => quote?.task !== undefined || /#|号|單|单/.test(line.replace(/\d+号(?:楼|床|宿舍)/g, ''));
    if (who !== 'worker' && explained.test(line) && !numbered()) return { intent: 'none' };
    const ref = findTaskRef(line);
    if (ref) {
      const reply = plainTask(ref.rest, ref.task, who, { quote, mentioned, numbered: true });
      if (reply) return withTarget(reply, line, ctx);
      if (isQuestion(ref.rest)) return { intent: 'status', task: ref.task };
    }
    if (quote?.task !== undefined) {
      // "修好了吗 病人要下楼做检查": a question first, whatever the reason after it.
      if (who !== 'worker' && /^(?:修|弄|处理|搞)?好了?(?:吗|么|没有?)$|^修了(?:吗|么|没有?)$/.test(line.split(' ')[0]))
        return { intent: 'status', task: quote.task };
      const reply = plainTask(line, quote.task, who, { quote, mentioned });
      if (reply) return withTarget(reply, line, ctx);
    }
    // 那个 is "the one I reported" for reporters and managers; a worker's 那个热水器 is the job in hand.
    if (who !== 'worker' && lastRef.test(line)) {
      const reply = plainTask(line.replace(lastRef, ' '), undefined, who, { byRef: true });
      if (reply) return { ...reply, ref: 'last' };
    }
    // A notice, a reminder or a question to colleagues is no report unless something is wrong even without its
    // "别…" and "防止…" parts ("雨太大了 窗户都关好 别进水" asks people, not the bot).
    const talk = isTalkToPeople(line);
    // A worker's words are about the work in hand unless something is dangerous; a manager's only when they say so.
    const toEveryone = /大家|各位|全体|各班|老师们/.test(line);
    if (
      (who === 'worker' || who === 'manager') &&
      !(toEveryone && (talk === 'notice' || talk === 'praise')) &&
      talk !== 'plain'
    ) {
      // "…不冷 你们派个人来看看吧": a worker asking for someone is reporting, whatever plans the message mentions.
      // (Someone else sending a person, "燃气公司…他们马上派人来", is news of the work, not a request.)
      const note = /(?<!(?:他们|厂家|公司)\S{0,4})派个?人|你们.{0,4}来(?:看|修)/.test(line)
        ? undefined
        : readNote(line, who === 'manager');
      // "修完了 单号187": a step with its number at the end, in a spelling the plain-task reading did not take.
      const task = note && note.intent !== 'note' ? (findTaskRef(line)?.task ?? quote?.task) : undefined;
      if (note) return task ? { ...note, task } : note;
    }
    if (ownLife.test(line) || elsewhere.test(line) || pastAndThanked.test(line)) return { intent: 'none' };
    const report = reportFromSentence(talk ? line.replace(warning, ' ') : line, ctx);
    // A notice or a question to colleagues is a report only in danger; a reminder or thanks, when something is
    // plainly broken as well ("谢谢 三楼灯又坏了").
    if (talk && (!report || report.unsure)) return { intent: 'none' };
    // "等会儿消防演练会放烟雾 大家别慌": a drill announced is no fire.
    // "今天维保单位来测烟感 会有报警声 不用紧张": what people will hear is announced, not reported.
    if (talk === 'notice' && /演练|别慌|(?:不用|别|不要)(?:紧张|慌|担心|害怕)/.test(line)) return { intent: 'none' };
    if ((talk === 'reminder' || talk === 'notice') && advice.test(line) && !happening.test(line))
      return { intent: 'none' };
    // "各班自己把教室收拾一下" asks the classes, not logistics.
    const asked = askingLogistics.test(line) && !(talk === 'notice' && /各班|大家|各位|老师们/.test(line));
    // "急！谁有充电线 借我用十分钟": haste words make a report urgent, but in a question to people only danger keeps it
    // one ("等会儿开放日 投影仪开不了机 急！" is a notice with a fault in it: its haste stands).
    const toPeople = talk === 'plain' || talk === 'question';
    const danger =
      !!report?.urgent && (!toPeople || ctx.classifier.isUrgent(line.replace(haste, ' '), report.kind ?? 'repair'));
    if (talk && report && !danger && !asked) {
      // A question after a plain report ("冰箱不冷了 药品要放哪里") does not undo it: a thing and a fault stand.
      const plain = talk === 'question' && report.kind === 'repair' && !!report.trade;
      if (talk === 'plain' || talk === 'notice' || (talk === 'question' && !plain)) return { intent: 'none' };
      // "熄灯后不要用吹风机", "别让孩子喝生水": a warning to people, not a fault to fix.
      if (talk === 'reminder' && /别|不要|记得/.test(line)) return { intent: 'none' };
      // Cleaning and a site's own kinds (运送 …) are asked of people as often as of the bot.
      if (report.kind === 'meal' ? talk !== 'praise' : report.kind !== 'repair') return { intent: 'none' };
    }
    // A joke, or nothing to do after all ("我去看了是好的", "没事了"), is no report.
    if (report && (resolved.test(line) || (!report.urgent && !asked && joking.test(line)))) return { intent: 'none' };
    // About food but asking or telling people, not rating it: "下午点心是啥", "明天春游 午饭少做15份".
    if (report?.kind === 'meal' && !report.urgent && report.rating === undefined && mealTalk.test(line))
      return { intent: 'none' };
    if (report && !report.unsure) return report;
    if (who === 'worker' || who === 'manager') {
      const note = readNote(line);
      if (note) return note;
    }
    return report;
  }

  function parse(text: string, input: ParseInput = {}): Intent {
    const normalized = normalize(text);
    if (!normalized) return { intent: 'none' };
    const pasted = splitPastedQuote(normalized);
    const quoteText = input.quote !== undefined ? normalize(input.quote) : pasted.quote;
    const quote = quoteText ? readQuote(quoteText) : undefined;
    // A mention of someone on the roster stays ("转单 5 @吴师傅"); any other is noise.
    const msg = pasted.text
      .replace(noise, (m) => (m.startsWith('@') && ctx.personNames.some((n) => m.slice(1).startsWith(n)) ? m : ' '))
      .replace(/ {2,}/g, ' ')
      .trim();
    if (!msg) return { intent: 'none' };
    const form = readForm(msg);
    if (form) return reportFromForm(form, ctx);
    const who = whoOf(input.roles);
    const mentioned = mentionedPerson(text, ctx.personNames);
    const line = msg.replace(/\n/g, ' ');
    // "好的，12号我来接": act on what follows the courtesy, and leave the courtesy out of a report's text.
    const after = chatter.afterChatter(line);
    const afterwards = after !== undefined ? parseLine(after, who, quote, mentioned) : undefined;
    // "不用了 已经好了": the courtesy-looking start is part of what is meant when the whole says something else.
    const whole = afterwards && !isTaskStep(afterwards) ? undefined : parseLine(line, who, quote, mentioned);
    const understood =
      afterwards && whole && isTaskStep(whole) && whole.intent !== afterwards.intent ? whole : (afterwards ?? whole);
    // What the rules read for sure stands; the rest may be reconsidered (second-opinion.ts says when).
    const open = !understood || ['none', 'note', 'report'].includes(understood.intent);
    if (!open || (understood && shapedTalk.has(understood))) return understood;
    if ((!understood || understood.intent === 'none') && chatter.isChatter(line))
      return understood ?? { intent: 'none' };
    const judged = reconsider?.(understood, {
      line,
      text: normalized,
      quoteText,
      quote,
      who,
      role: primaryRole(input.roles),
      chat: input.chat,
      commanded: startsWithCommand(line, ctx),
    });
    if (judged) return judged;
    if (understood) return understood;
    // "收到，接丹 12" was meant as a command: a typo near a command word with a number gets its nearest phrasing.
    return { intent: 'none', error: unreadable(after ?? line, ctx) ?? unreadQuestion(ctx) };
  }

  return {
    parse: (text, input) => tidy(parse(text, input)),
    findPlace: (text) => ctx.places.match(normalize(text))?.place,
    unknownWords: (text) => unknownWords(normalize(text), ctx),
  };
}

/** 转单 in plain words names the person: "64号单子给何阿姨吧", "转给郑师傅". */
function withTarget(intent: Intent, line: string, ctx: ParseContext): Intent {
  if (intent.intent !== 'transfer') return intent;
  const lower = line.toLowerCase();
  const target = ctx.personNames.find((n) => lower.includes(n.toLowerCase()));
  return target ? { ...intent, target } : intent;
}

/** "接单 12", "请验收12", "紧急报修 配电房冒烟": a command word after any polite prefix. */
function leadingCommand(
  line: string,
  ctx: ParseContext,
  task?: number,
  quoted?: number,
  inHand = false,
): Intent | undefined {
  for (const candidate of withoutPrefixes(line)) {
    const w = commandWordsOf(ctx).find((c) => candidate.startsWith(c.word));
    if (!w) continue;
    const rest = candidate.slice(w.word.length);
    if (w.intent === 'report') {
      // "保洁阿姨辛苦了", "报修的那个": the word names a person or a thing here, not the command.
      if (task === undefined && !/^(?:阿姨|员|工|师傅|组|公司|的|单|号)/.test(rest))
        return reportFromCommand(w.kind, rest, line, ctx);
      continue;
    }
    const intent = taskCommand(w, rest, ctx, task, quoted, inHand);
    if (intent) return intent;
  }
  return undefined;
}

/** The line starts with a command word, after any polite prefix (what leadingCommand reads, without reading it). */
function startsWithCommand(line: string, ctx: ParseContext): boolean {
  for (const candidate of withoutPrefixes(line))
    if (commandWordsOf(ctx).some((c) => candidate.startsWith(c.word))) return true;
  return false;
}

/** "12号修好了", "#12 验收", "把12号转给吴师傅", "12号有人接了吗" (a question about a task is 进度). */
function numberFirst(line: string, ctx: ParseContext, who: Who, mentioned?: string): Intent | undefined {
  const { value: task, rest } = takeTask(line.replace(/^[把将]\s*/, ''));
  if (task === undefined) return undefined;
  const after = rest.replace(/^[\s,:]+/, '');
  // A reporter's "22號好了" accepts: the plain-words reading, which knows who speaks, goes first for them.
  const plain = () =>
    maybe(plainTask(after, task, who, { mentioned, numbered: true }), (i) => withTarget(i, after, ctx));
  return (
    (who === 'reporter' ? plain() : undefined) ??
    leadingCommand(after, ctx, task) ??
    plain() ??
    (isQuestion(after) ? { intent: 'status', task } : undefined)
  );
}

function maybe<T, U>(v: T | undefined, f: (v: T) => U): U | undefined {
  return v === undefined ? undefined : f(v);
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
  'ref',
  'kind',
  'trade',
  'place',
  'urgent',
  'rating',
  'text',
  'target',
  'period',
  'unsure',
  'invalid',
  'error',
] as const;

/** Same key order every time, and no undefined keys: the JSON output shows only what was understood. */
function tidy(intent: Intent): Intent {
  const out: Record<string, unknown> = {};
  for (const k of fieldOrder) if (intent[k] !== undefined) out[k] = intent[k];
  return out as Intent;
}

/** Characters that glue a sentence together and are never a thing's name on their own. */
const glue = /[的了吗呢吧啊呀哦么着过也都还又就在有是我你他她们这那个些里上下一不没很太好要给把被和跟与及或请麻烦谢]/g;

function unknownWords(text: string, ctx: ParseContext): string[] {
  const known = ctx.classifier.blankKnown(ctx.places.strip(text));
  const runs = known.replace(glue, ' ').match(/\p{Script=Han}{2,6}/gu) ?? [];
  return [...new Set(runs)].slice(0, 5);
}
