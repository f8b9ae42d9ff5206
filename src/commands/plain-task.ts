// Task commands in plain words, once the task is known (a number anywhere, a quoted bot message, or 那个):
// "我来修" (接单), "进度怎样" (进度), "先放一放 等配件" (挂起), "打个五星" (评价), "怎么还没人管" (催办),
// "不用来了 已经好了" (撤销), "又没电了" (返修). Who says it matters: "好了" is 完工 from a worker and 验收 from the
// person who reported. Rules are tried in order; the first that matches decides.
import type { Intent } from './intent.js';
import { ratingPresets, type TaskIntent } from './lexicon.js';
import { trimPunct } from './normalize.js';
import { takeRating } from './numbers.js';
import type { Quote } from './refs.js';

/** Who is speaking; `anyone` when the roles are not known (`houqin parse` without them): every rule may apply. */
export type Who = 'worker' | 'manager' | 'reporter' | 'anyone';

interface Rule {
  intent: TaskIntent;
  re: RegExp;
  /** Only for these senders (default: anyone). */
  who?: Who[];
}

const rules: Rule[] = [
  {
    intent: 'transfer',
    re: /转给|转到|转派|转单|改派|派给|交给(?!我)|转(?=\S{0,3}(?:师傅|阿姨|主任))|转(?:木工|水电|保洁|食堂)|(?:给|让|叫|请)@?\S{1,4}(?:师傅|阿姨|主任)|@\S+\s*(?:你|去|看|处理)|不是(?:我们|水电|木工|保洁)|是(?:保洁|木工|水电|食堂)的活|(?:师傅|阿姨)去(?:看|弄|修|处理)|转老[\u4e00-\u9fa5]|换\S{1,4}(?:师傅|阿姨)去/,
    who: ['worker', 'manager'],
  },
  {
    intent: 'cancel',
    re: /不用(?:来|修|了|弄|管|麻烦|跑)|不麻烦|我?不要了|不需要了|(?<!修)不修了|别来了|撤销|撤回|撤单|撤(?:了|掉|吧)|不用过来|不用上来|取消|算了|报错了|搞错了|自己好了|(?:重启|弄|修)了?一下(?:就)?好了/,
    who: ['reporter', 'manager'],
  },
  {
    intent: 'rate',
    re: /\brate\b|[1-5]\s*stars?|[1-5一二两三四五]\s*颗?星|★|⭐|好评|差评|中评|打.{0,2}分|评分|评价|满分|星星?给满|[1-5一二两三四五]\s*分(?!钟)/,
  },
  {
    intent: 'hold',
    re: /放一放|先放|先不(?:弄|修|做|处理)|缓一缓|缓缓|暂缓|\bhold\b|搁着|先挂|(?<!还|怎么)挂起|(?<!还|一直)挂着|暂停|等(?:配件|零件|材料|厂家|放假|周末|孩子|厂里|公司|货)|缺(?:配件|零件|材料)|配件没到|要定做|订货|改天再/,
    who: ['worker', 'manager'],
  },
  {
    intent: 'reopen',
    re: /又(?:坏|漏|不|没|堵|响|掉|松|断|跳|出|开始)|又.{1,2}不[上下开动了住]|没(?:弄|搞|处理|整)好|重新开|还是(?:坏|漏|不|没|堵|一样|老样子|有|松|晃|响)|还是.{1,3}(?:不|没)|没修好|没好(?![吗么呢])|不行|没人来过|根本没(?:来|修)|怎么就完工|还在(?:漏|滴|响)|还(?:滴|漏|响|晃|松|堵)|又出|返工|重修|复发|修了.{0,4}(?:又|还)|但.{0,8}(?:还|又)/,
    who: ['reporter', 'manager'],
  },
  {
    intent: 'nudge',
    // "一直没人接 我来吧" from a worker takes the job: the claim below decides.
    re: /^(?!.*(?:我来|我接|我去))(?:.*?)(?:怎么还没|还没人|有没有人(?:接|管)|还没来|有没有人来|别忘了|还没修|还(?:在)?等着|还挂着|一直挂着|拖.{0,4}(?:天|周|礼拜|星期|久)|还修不修|没人(?:管|来|接|理|修|处理)|一直没(?:人|动静|处理)|催|能不能快|快点|快一点|赶紧|抓紧|都.{1,5}(?:天|小时|周|星期|礼拜|上午|下午)了|等了.{0,6}(?:天|小时|上午|下午|周|半天)|超时|为什么还没|还不来|怎么没人|谁去一下|快来人|马上处理|尽快处理|(?<!不|不着|别|不用)急)/,
  },
  {
    intent: 'claim',
    re: /我来|我去|我接|我修(?!好|完)|我负责|我处理(?!好|完)|我弄(?!好|完)|交给我|^我的$|马上(?:去|到|过去)|这就(?:去|过去)|收到|拿下|我顺路|接了|分钟到|现在过去|立刻去/,
    who: ['worker', 'manager'],
  },
  {
    intent: 'done',
    re: /修好了|好了|搞定|完工|完成|处理好|处理完|换好|弄好|弄完|已修|已处理|已更换|已换|已经不|ok了|没问题了|正常了|干净了|拖干净|清理好|清理完|打扫好|打扫完|消了毒|换了|装好|紧了|修复|恢复正常/,
    who: ['worker', 'manager'],
  },
  {
    intent: 'status',
    re: /进度|怎么样|咋样|到哪|哪一步|什么时候|啥时候|几点|什么情况|啥情况|进展|状态|好了吗|好了没|好没|修了吗|修了没|有(?:人|师傅)接|接手|谁在(?:弄|修|做)|谁接|哪位师傅|来了吗|处理了吗|到了没|到了吗|[了过]没有?\s*$|能修好吗|多久|要等|(?:吗|(?<!什)么|\?)\s*$/,
  },
  { intent: 'accept', re: /验收|确认|通过|可以了|行了|没问题|结单|关单|可以结/, who: ['reporter', 'manager'] },
];

/** Said to the person who finished the work ("好了", "谢谢师傅"): acceptance only where acceptance was asked for. */
const acceptWeak = /好了|修好了|正常了|ok|谢谢|辛苦|👍|👌|🙏|好的|好滴|好嘞|嗯|行/i;

export interface Context {
  quote?: Quote;
  /** A roster person @-mentioned in the message: "@吴师傅 你去看下" from a manager hands the task over. */
  mentioned?: string;
  /** The task was named as 那个 / 刚才那个: the reporter is answering about their own finished work. */
  byRef?: boolean;
  /** The number was written: "22號好了" from the reporter accepts 22. */
  numbered?: boolean;
}

/** Work the quoted message says is not finished yet: "没好" under it is a complaint (催办), not a rework (返修). */
const unfinished = new Set(['new', 'claimed', 'held', 'overdue', 'transferred']);

export function plainTask(rest: string, task: number | undefined, who: Who, c: Context = {}): Intent | undefined {
  const { quote } = c;
  const text = rest.trim();
  // Unknown sender under a request to accept: the person asked to accept is the likeliest to answer it.
  if (who === 'anyone' && quote?.about === 'done') who = 'reporter';
  // "@吴师傅 下次完工拍个照片发群里": how to do it next time, said to a person, is no step on this task.
  if (/^(?:@\S+\s*)?(?:下次|以后|今后)/.test(text)) return undefined;
  // "@赵静 你们班也有这个问题吗", "@孙艳 是你报的吗": a reporter asking a colleague about the quoted task asks them.
  if (c.mentioned && who === 'reporter' && /你们班|是你报|你报的|你们也/.test(text)) return undefined;
  if (c.mentioned && who !== 'reporter' && /你|去|看|处理|弄|修|这个/.test(text))
    return { intent: 'transfer', task, target: c.mentioned, text: trimPunct(text) || undefined };
  const ordered = quote?.about === 'done' && who === 'reporter' ? rulesUnderDone : rules;
  // A question ("啥时候能弄完") asks about the step it names; it does not take it.
  const asking =
    // A question may come first and its reason after it: "修好了吗 孩子中午要睡".
    (/(?:吗|么|\?|了[码马嘛])(?:\s|$)|没有?\s*$/.test(text) && !/什么$/.test(text)) ||
    /什么时候|啥时候|多久|能\S{0,3}吗|能不能|可以\S{0,3}吗/.test(text);
  for (const r of ordered) {
    if (r.who && who !== 'anyone' && !r.who.includes(who)) continue;
    // "12号有人接了吗", "修好了吗": a question about the step, not the step itself.
    if (asking && r.intent !== 'status' && r.intent !== 'nudge' && r.intent !== 'reopen') continue;
    if (r.intent === 'reopen' && quote?.about && unfinished.has(quote.about)) continue;
    if (!r.re.test(text)) continue;
    return finish(r.intent, text, task);
  }
  // "28号修好了码" asks (a phone's 吗): no acceptance in a question.
  if (!asking && (quote?.about === 'done' || c.byRef || (c.numbered && who === 'reporter')) && acceptWeak.test(text))
    return { intent: 'accept', task };
  if (quote?.about === 'rate') {
    const rating = takeRating(text).value;
    if (rating !== undefined) return { intent: 'rate', task, rating };
  }
  return undefined;
}

/** Under a request to accept, a reporter's "不行" and "还是漏" come before anything else they might say. */
const rulesUnderDone: Rule[] = [
  ...rules.filter((r) => r.intent === 'rate' || r.intent === 'reopen'),
  ...rules.filter((r) => r.intent !== 'rate' && r.intent !== 'reopen'),
];

function finish(intent: TaskIntent, text: string, task: number | undefined): Intent {
  const body = trimPunct(text) || undefined;
  if (intent === 'rate') {
    const preset = Object.entries(ratingPresets).find(([w]) => text.includes(w))?.[1];
    const m = /([1-5一二两三四五])\s*(?:颗?星|分|stars?)|rate\s*([1-5])/i.exec(text);
    const stars = /[★⭐]+/.exec(text)?.[0].length;
    const digit = m?.[1]?.replace('两', '二') ?? m?.[2];
    const full = /满分|星星?给满/.test(text) ? 5 : undefined;
    const rating = digit ? '一二三四五'.indexOf(digit) + 1 || Number(digit) : (stars ?? preset ?? full);
    return { intent, task, rating, text: body };
  }
  if (intent === 'transfer') return { intent, task, text: body };
  return { intent, task, text: body };
}
