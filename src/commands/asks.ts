// Requests for lists and summaries, however they are worded: "日报", "把今天的日报发我", "这周的汇总",
// "本月报表", "我手上有哪些单", "我的任务", "帮助".
import type { Intent } from './intent.js';

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
  '你会什么',
  '能干什么',
  '怎么报修',
]);

// 周报 but not "上周报的那些" or "这周报修比上周少" (a week's reports talked about, not a report asked for). Also a summary
// in other words: "汇个总给我", "总结拉一下", "今天修了哪些", "报了些啥", "weekly report", "今日戰報".
const summaryNoun =
  /(?:日|周|月)报(?!修|的|了|过)|汇个?总|总结(?:给我|拉|一下|发)|完成情况|修了哪些|报了些|干了多少|战报|月度报告|report|summary|会总|总结一?下|完成率|报表|统计|数据|多少单|几单|完成了?几个|修了多少|报了多少|一共/;
const month = /月/;
const week = /周|礼拜|星期/;
/** A list of one's own work: "我的", "我手上有哪些单", "我接的单还有哪些没完工", "我报的那些怎么样了". */
const mineWords =
  /^mytasks?$|^(?:查看?|看看?|列一?下)?下?我的(?:任务|工单|单子|活)|派给我的|我(?:待|要)处理的|^(?:查看?|看看?|列一?下)?我的(?:任务|工单|单子|报修|单|待办|活|人物)?(?:列表)?$|我(?:手上|手里|名下)|我(?:接|报|报过|提交|负责)的(?!那个|那单|第|\d)|我.{0,6}(?:接|报)了?几单|查查?我的(?:任务|工单|单子)|我还没(?:做|修|弄)完的|我报修?过的|我.{0,3}手上|我.{0,4}接了哪|我.{0,8}报修?过的单|我.{0,5}(?:报过|接过|挂起|挂着|没完工)的(?:所有|全部|那几|那些)?单|我接了哪些|我未完成|我今天要干|看看我报的|我有几个没|还有几个单|我(?:身上|这边?)\S{0,2}(?:挂着|压着)几单|我.{0,4}(?:哪些|几个|几单|啥|什么)(?:单|活|任务|工单|没完|没修|没做)/;
/** How-to questions: "这个机器人怎么用", "怎么接单啊", "报修要按什么格式写", "有哪些指令" (no number: "怎么还没人修" is not one). */
const howTo =
  /机器人怎么|怎么(?:用|使用|操作)(?:啊|呀|呢)?$|(?:要|该|应该|得)?(?:怎么|如何)(?:接单|报修|撤销|撤回|验收|评价|打分|转单|挂起|完工|催单|报保洁|评餐)(?!了)|(?:什么|啥)格式|有(?:哪些|什么)(?:指令|命令|功能|用法)|(?:指令|命令|用法)(?:有哪些|是什么|是啥)|怎么用.{0,4}机器人|要写(?:哪些|什么|啥)|怎么跟你说|可以发语音|要怎么弄|几分制|教程|帮助菜单|不太会用|(?:要|该|得)(?:发|回复?|写|打)(?:什么|啥)|(?:要|该)?怎么写(?:格式)?$|怎么操作|哪个命令|回复什么|(?:在哪里?|哪里)(?:评|打分|点)|怎么打分|怎么改(?!了|不)|能听懂|有说明吗|(?:报修|机器人|打分|评分|评价|好评|接单)\S{0,8}(?:不会(?:弄|用)|教教我)|(?:不会(?:弄|用)|教教我)\S{0,8}(?:报修|机器人)/;

/** What a summary request is made of: the rest must not say that anything is broken. */
const summaryTalk = /报修|维修|汇总|统计|报表|情况|数据|一共|多少|发.{0,2}我|看看|怎么样/g;

/**
 * Figures told and paperwork of people's own, not a request to the bot: "这学期一共修了两百多单 辛苦大家", "晨检数据都发给
 * 园长了", "教学周报下午交教务处", "日报我写好了 放共享文件夹了", "中二班的日报今天谁发", "明天的周报会改到下午".
 */
const toldNotAsked = new RegExp(
  [
    '辛苦|感谢|清净|来着|别忘|別忘|恢复了|出来了(?!吗|没)|报名',
    '发给(?!我)|(?<!日|周|月)报给(?!我)|发过去|贴在|交给|交到|已经交|要交|交一份',
    '处理完了|修完了|写完|写好|做完了|整理好|汇总了|填一下|核一下',
    '谁(?:帮忙|能|来|写|交|做|发|负责)|改到|会改|填好|明天交|群文件|写啥|签了|记录汇总',
    // Paperwork handed up or still in the making: "统计表已经报上去了", "周四前交保健室", "报表晚两天出 还在对账".
    '报上去|交上去|(?:前|之前|以前)交|统计(?:完|好)|问卷|对账|晚\\S{0,2}天出',
  ].join('|'),
);

export function readAsk(line: string, broken: (s: string) => boolean): Intent | undefined {
  const core = line
    .toLowerCase()
    .replace(/\s+/g, '')
    .replace(/(.)[.!~。…?]+$/, '$1');
  if (helpWords.has(core) || /^\?+$/.test(core)) return { intent: 'help' };
  if (howTo.test(core) && !/\d/.test(core)) return { intent: 'help' };
  if (core.length > 30) return undefined;
  if (toldNotAsked.test(core)) return undefined;
  const mine = mineWords.test(core);
  const summary = summaryNoun.test(core);
  if ((!mine && !summary) || broken(core.replace(summaryTalk, ' '))) return undefined;
  if (mine) return { intent: 'mine' };
  if (summary && !/\d+号|#/.test(core)) {
    const period = /日报/.test(core)
      ? 'day'
      : /周报(?!修|的|了|过)/.test(core)
        ? 'week'
        : /月报(?!修|的|了|过)/.test(core)
          ? 'month'
          : undefined;
    return { intent: 'digest', period: period ?? (month.test(core) ? 'month' : week.test(core) ? 'week' : 'day') };
  }
  return undefined;
}
