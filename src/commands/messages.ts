// The Chinese replies for mistakes, each with a correct example built from the deployment's own config
// (its first class and first worker), so the example can be copied and sent as is.
import type { Config } from '../config/schema.js';

export type ExampleName =
  | 'repair'
  | 'cleaning'
  | 'meal'
  | 'claim'
  | 'transfer'
  | 'hold'
  | 'done'
  | 'accept'
  | 'reopen'
  | 'rate'
  | 'nudge'
  | 'cancel'
  | 'status'
  | 'mine'
  | 'help'
  | 'digest';

/** An example per name; a kind the config adds is named by its id ("运送 5病区"). */
export type Examples = (name: ExampleName | (string & {}), task?: number, place?: string) => string;

export function createExamples(config: Config): Examples {
  const firstPlace = (config.places.find((p) => p.type === 'class') ?? config.places[0])?.name ?? '小一班';
  const worker = (config.people.find((p) => p.roles.includes('worker')) ?? config.people[0]).name;
  return (name, task = 12, place = firstPlace) => {
    const added = config.kinds?.find((k) => k.id === name);
    if (added) return `${added.commands[0] ?? added.name} ${place}`;
    switch (name) {
      case 'repair':
        return `报修 ${place} 空调不制冷`;
      case 'cleaning':
        return `保洁 ${place} 地上有呕吐物`;
      case 'meal':
        return '餐评 4 今天的汤太咸';
      case 'claim':
        return `接单 ${task}`;
      case 'transfer':
        return `转单 ${task} @${worker}`;
      case 'hold':
        return `挂起 ${task} 等配件`;
      case 'done':
        return `完工 ${task} 换了灯管`;
      case 'accept':
        return `验收 ${task}`;
      case 'reopen':
        return `没修好 ${task} 还是漏水`;
      case 'rate':
        return `评价 ${task} 5 修得很快`;
      case 'nudge':
        return `催办 ${task}`;
      case 'cancel':
        return `撤销 ${task}`;
      case 'status':
        return `进度 ${task}`;
      case 'mine':
        return '我的任务';
      case 'help':
        return '帮助';
      case 'digest':
        return '日报';
    }
    return `报修 ${place} 空调不制冷`;
  };
}

export const say = {
  needTask: (example: string) => `请写工单号（数字），例如：${example}`,
  badRating: (example: string) => `评分请写 1 到 5，例如：${example}`,
  needRating: (example: string) => `请打 1 到 5 分，例如：${example}`,
  needTarget: (example: string) => `请写转给谁，例如：${example}`,
  needReason: (example: string) => `请写挂起原因，例如：${example}`,
  needProblem: (example: string) => `请写清问题，例如：${example}`,
  needPlace: (example: string) => `请写清地点，例如：${example}`,
  needMealComment: (example: string) => `请写评分或意见，例如：${example}`,
  unreadable: (example: string) => `没看懂。您是想：${example}？发“帮助”看全部用法`,
  unreadableDefault: (example: string) => `没看懂。报修请写：${example}；发“帮助”看全部用法`,
  unreadQuestion: (example: string) => `没太明白，是要报修、保洁，还是问进度？直接说哪里什么坏了就行，例如：${example}`,
};
