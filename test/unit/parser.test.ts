// Phrasings teachers, nurses and workers really type on a phone, against the example kindergarten's
// config. Each row: input → the fields the parser must produce (a field set to undefined must be absent).
import { describe, expect, it } from 'vitest';
import { intentSchema, type Intent } from '../../src/commands/intent.js';
import { createParser } from '../../src/commands/parser.js';
import { loadSettings } from '../../src/config/load.js';
import { normalize } from '../../src/commands/normalize.js';

const parser = createParser(loadSettings({}, 'config/example.yaml').config);

type Case = [input: string, expected: Partial<Intent>];

const needTask = (example: string) => `请写工单号（数字），例如：${example}`;
const unreadable = (example: string) => `没看懂。您是想：${example}？发“帮助”看全部用法`;
const unreadQuestion = '没太明白，是要报修、保洁，还是问进度？直接说哪里什么坏了就行，例如：报修 小一班 空调不制冷';

const reportCommands: Case[] = [
  [
    '报修 小一班 空调不制冷',
    { intent: 'report', kind: 'repair', trade: '空调', place: '小一班', urgent: false, text: '小一班 空调不制冷' },
  ],
  ['报修 中二班 厕所漏水', { kind: 'repair', trade: '水', place: '中二班', urgent: false, text: '中二班 厕所漏水' }],
  ['报修：大三班投影仪坏了', { kind: 'repair', trade: '弱电', place: '大三班', text: '大三班投影仪坏了' }],
  ['报修 午睡室的床板断了', { kind: 'repair', trade: '床', place: '午睡室', urgent: false }],
  ['报修 操场滑梯扶手松了', { kind: 'repair', trade: '玩具', place: '操场' }],
  ['报修 大一班桌子腿断了', { kind: 'repair', trade: '桌椅', place: '大一班' }],
  ['报修 图书室书架晃', { kind: 'repair', trade: '木', place: '图书室' }],
  ['报修 小二班柜门掉了', { kind: 'repair', trade: '柜子', place: '小二班' }],
  ['报修 厨房燃气灶打不着火', { kind: 'repair', trade: '燃气', place: '厨房' }],
  ['报修 多功能厅灭火器过期了', { kind: 'repair', trade: '消防', place: '多功能厅', urgent: false }],
  ['报修 办公室网络断了', { kind: 'repair', trade: '网络', place: '办公室' }],
  ['报修 午睡室暖气片不热', { kind: 'repair', trade: '暖气', place: '午睡室' }],
  ['报修 中三班窗户关不上', { kind: 'repair', trade: '门窗', place: '中三班' }],
  ['报修 小三班 墙皮脱落', { kind: 'repair', trade: '土建', place: '小三班', urgent: false, text: '小三班 墙皮脱落' }],
  ['我要报修 门卫室灯不亮', { kind: 'repair', trade: '电', place: '门卫室', text: '门卫室灯不亮' }],
  ['保修 中二班空调漏水', { intent: 'report', kind: 'repair', trade: '空调', place: '中二班' }],
  [
    '保洁 大门口有呕吐物',
    { intent: 'report', kind: 'cleaning', trade: undefined, place: '大门', urgent: false, text: '大门口有呕吐物' },
  ],
  ['保洁 楼梯有积水很滑', { kind: 'cleaning', place: '教学楼楼梯', urgent: false }],
  ['保洁 午睡室地上有尿', { kind: 'cleaning', place: '午睡室', text: '午睡室地上有尿' }],
  ['保洁 厕所堵了', { kind: 'cleaning', trade: undefined, urgent: false }],
  [
    '@后勤小助手 报修 小一班 空调不制冷',
    { intent: 'report', kind: 'repair', place: '小一班', text: '小一班 空调不制冷' },
  ],
  ['报修 空调不制冷', { kind: 'repair', trade: '空调', place: undefined, urgent: false, text: '空调不制冷' }],
];

const problemSentences: Case[] = [
  [
    '小一班空调坏了',
    { intent: 'report', kind: 'repair', trade: '空调', place: '小一班', urgent: false, text: '小一班空调坏了' },
  ],
  ['中二班厕所堵了', { intent: 'report', kind: 'repair', trade: '水', place: '中二班', urgent: false }],
  ['大门口有呕吐物', { intent: 'report', kind: 'cleaning', place: '大门', urgent: false, text: '大门口有呕吐物' }],
  ['保健室水龙头一直滴水', { kind: 'repair', trade: '水', place: '保健室' }],
  ['多功能厅音响没声音', { kind: 'repair', trade: '弱电', place: '多功能厅' }],
  ['操场大型玩具螺丝松了', { kind: 'repair', trade: '玩具', place: '操场' }],
  ['小二班椅子腿松了', { kind: 'repair', trade: '桌椅', place: '小二班' }],
  ['小一班空调漏水', { kind: 'repair', trade: '空调', place: '小一班' }],
  ['厕所门关不上', { kind: 'repair', trade: '门窗', place: '厕所' }],
  ['小一班门口的灯坏了', { kind: 'repair', trade: '电', place: '小一班' }],
  ['大门口的灯坏了', { kind: 'repair', trade: '电', place: '大门' }],
  ['门卫室灯不亮', { kind: 'repair', trade: '电', place: '门卫室' }],
  ['大门坏了', { kind: 'repair', trade: '门窗', place: '大门' }],
  ['大三班的消毒柜不加热', { kind: 'repair', trade: '家电', place: '大三班' }],
  ['蒸饭柜坏了', { kind: 'repair', trade: '家电' }],
  ['厨房冰箱坏了', { kind: 'repair', trade: '家电', place: '厨房' }],
  ['洗衣房洗衣机漏水', { kind: 'repair', trade: '家电', place: '洗衣房' }],
  ['大二班wifi连不上', { kind: 'repair', trade: '网络', place: '大二班' }],
  ['办公室打印机卡纸', { kind: 'repair', trade: '弱电', place: '办公室' }],
  ['二楼走廊灯不亮', { kind: 'repair', trade: '电', place: '二楼走廊', text: '二楼走廊灯不亮' }],
  ['3楼厕所堵了', { intent: 'report', kind: 'repair', trade: '水', text: '3楼厕所堵了' }],
  ['2号楼灯坏了', { intent: 'report', kind: 'repair', trade: '电', text: '2号楼灯坏了' }],
  ['小一班鱼缸漏水', { kind: 'repair', trade: '水', place: '小一班' }],
  ['午睡室地上好脏', { kind: 'cleaning', place: '午睡室', urgent: false }],
  ['操场垃圾桶满了', { kind: 'cleaning', place: '操场' }],
  ['中二班厕所很臭', { kind: 'cleaning', place: '中二班' }],
  ['好的，小一班空调又坏了', { intent: 'report', kind: 'repair', place: '小一班', text: '小一班空调又坏了' }],
];

const urgency: Case[] = [
  [
    '紧急报修 配电房冒烟',
    { intent: 'report', kind: 'repair', trade: '电', place: '配电房', urgent: true, text: '配电房冒烟' },
  ],
  ['紧急！小一班插座漏电', { kind: 'repair', trade: '电', place: '小一班', urgent: true }],
  ['厨房燃气泄漏', { kind: 'repair', trade: '燃气', place: '厨房', urgent: true }],
  ['厨房有煤气味', { kind: 'repair', trade: '燃气', urgent: true }],
  ['电梯有人被困', { kind: 'repair', trade: '电梯', urgent: true }],
  ['大一班孩子被桌角划伤了，桌角要包一下', { kind: 'repair', trade: '桌椅', place: '大一班', urgent: true }],
  ['配电房着火了', { kind: 'repair', place: '配电房', urgent: true }],
  ['洗衣房水管爆管了', { kind: 'repair', trade: '水', place: '洗衣房', urgent: true }],
  ['报修 大二班 插座冒火花 急', { kind: 'repair', trade: '电', place: '大二班', urgent: true }],
  ['报修 小三班 灯管不亮 不急', { kind: 'repair', trade: '电', place: '小三班', urgent: false }],
  ['小一班应急灯不亮', { kind: 'repair', trade: '消防', place: '小一班', urgent: false }],
  ['报修 中一班有孩子触电', { kind: 'repair', place: '中一班', urgent: true }],
  ['大一班电线裸露', { kind: 'repair', trade: '电', place: '大一班', urgent: true }],
  ['保洁 操场有碎玻璃', { kind: 'cleaning', place: '操场', urgent: true }],
];

const meals: Case[] = [
  ['餐评 4 今天的汤太咸', { intent: 'report', kind: 'meal', rating: 4, text: '今天的汤太咸', urgent: false }],
  ['餐评 ★★★★', { kind: 'meal', rating: 4, text: undefined, urgent: false }],
  ['餐评 ⭐⭐⭐ 一般', { kind: 'meal', rating: 3, text: '一般' }],
  ['餐评 五星', { kind: 'meal', rating: 5 }],
  ['餐评 4分 菜很新鲜', { kind: 'meal', rating: 4, text: '菜很新鲜' }],
  ['餐评 四分', { kind: 'meal', rating: 4 }],
  ['餐评 3/5 菜有点咸', { kind: 'meal', rating: 3, text: '菜有点咸' }],
  ['餐评 5 很好吃', { kind: 'meal', rating: 5, text: '很好吃', urgent: false }],
  ['餐评 1 米饭太硬', { kind: 'meal', rating: 1, text: '米饭太硬', urgent: false }],
  ['餐评 2米饭太硬了', { kind: 'meal', rating: 2, text: '米饭太硬了' }],
  ['餐评 5 今天的包子很好吃', { kind: 'meal', rating: 5, text: '今天的包子很好吃' }],
  ['餐评3个菜都凉了', { kind: 'meal', rating: undefined, text: '3个菜都凉了' }],
  ['餐评 今天的汤太咸 3分', { kind: 'meal', rating: 3, text: '今天的汤太咸' }],
  ['餐评 两个菜都凉了', { kind: 'meal', rating: undefined, text: '两个菜都凉了', urgent: false }],
  ['餐评 十分好吃', { kind: 'meal', rating: undefined, text: '十分好吃' }],
  // A hair or an insect is a complaint for the canteen, not an emergency (how the corpora's labellers read it).
  ['餐评 汤里有头发', { kind: 'meal', rating: undefined, urgent: false, text: '汤里有头发' }],
  ['餐评 米饭夹生', { kind: 'meal', urgent: false }], // half-cooked rice is a complaint, not a danger
  ['餐评 鸡肉没熟', { kind: 'meal', urgent: true }],
  ['餐评 2 菜里有根头发', { kind: 'meal', rating: 2, urgent: false }],
  ['餐评 1 鸡蛋有异味 孩子吃了拉肚子', { kind: 'meal', rating: 1, urgent: true }],
  ['餐评 3 菜有点发霉', { kind: 'meal', rating: 3, urgent: true }],
  ['餐评 2 有孩子对虾过敏', { kind: 'meal', rating: 2, urgent: true }],
  ['午餐的汤里有虫子', { intent: 'report', kind: 'meal', urgent: false, text: '午餐的汤里有虫子' }],
  ['饭菜没熟', { kind: 'meal', urgent: true }],
  ['午餐有异物', { kind: 'meal', urgent: true }],
  ['早餐的牛奶过期了', { kind: 'meal', urgent: true }],
  ['汤里有碎玻璃', { kind: 'meal', trade: undefined, urgent: true }],
  ['今天的饭菜太咸了', { intent: 'report', kind: 'meal', urgent: false, rating: undefined }],
  ['餐评 0', { intent: 'report', kind: 'meal', invalid: true, error: '评分请写 1 到 5，例如：餐评 4 今天的汤太咸' }],
  ['餐评 9', { intent: 'report', kind: 'meal', invalid: true, error: '评分请写 1 到 5，例如：餐评 4 今天的汤太咸' }],
  ['餐评 4.5', { kind: 'meal', invalid: true, error: '评分请写 1 到 5，例如：餐评 4 今天的汤太咸' }],
  ['餐评', { kind: 'meal', invalid: true, error: '请写评分或意见，例如：餐评 4 今天的汤太咸' }],
];

const forms: Case[] = [
  [
    '地点：中二班\n问题：厕所漏水\n紧急：是',
    { intent: 'report', kind: 'repair', trade: '水', place: '中二班', urgent: true, text: '厕所漏水' },
  ],
  [
    '报修\n位置：小一班\n描述：灯管闪\n紧急：否',
    { kind: 'repair', trade: '电', place: '小一班', urgent: false, text: '灯管闪' },
  ],
  ['地点:三楼走廊 问题:灯不亮', { kind: 'repair', trade: '电', place: '三楼走廊', text: '三楼走廊 灯不亮' }],
  ['位置:小三班,故障:灯管不亮,紧急:否', { kind: 'repair', place: '小三班', urgent: false, text: '灯管不亮' }],
  [
    '【报修单】\n地点：配电房\n问题：配电箱冒烟\n紧急：否',
    { kind: 'repair', trade: '电', place: '配电房', urgent: true, text: '配电箱冒烟' },
  ],
  [
    '保洁\n区域：午睡室\n内容：地上有呕吐物',
    { kind: 'cleaning', place: '午睡室', urgent: false, text: '地上有呕吐物' },
  ],
  ['餐评\n评分：2\n内容：鱼没熟', { kind: 'meal', rating: 2, urgent: true, text: '鱼没熟' }],
  ['类型：空调\n地点：大二班\n问题：不制冷', { kind: 'repair', trade: '空调', place: '大二班', text: '不制冷' }],
  ['类型：保洁\n地点：大门\n内容：门口有落叶', { kind: 'cleaning', place: '大门' }],
  [
    '小一班空调坏了\n紧急：是',
    { kind: 'repair', trade: '空调', place: '小一班', urgent: true, text: '小一班空调坏了' },
  ],
  ['问题：水龙头坏了', { kind: 'repair', trade: '水', place: undefined, urgent: false }],
  [
    '报修\n地点：中2班\n问题：空调不制冷\n报修人：刘芳\n电话：13800000000',
    { kind: 'repair', place: '中二班', trade: '空调', text: '空调不制冷' },
  ],
  [
    '地点：大三班',
    {
      intent: 'report',
      kind: 'repair',
      place: '大三班',
      invalid: true,
      error: '请写清问题，例如：报修 大三班 空调不制冷',
    },
  ],
];

const places: Case[] = [
  ['中2班灯不亮', { place: '中二班', trade: '电' }],
  ['中二 插座冒烟', { place: '中二班', urgent: true }],
  ['中２班灯不亮', { place: '中二班' }],
  ['中貳班 窗户关不上', { place: '中二班', trade: '门窗' }],
  ['报修 大1班 马桶堵了', { place: '大一班', trade: '水' }],
  ['报修 小3 地板翘起来了', { place: '小三班', trade: '木' }],
  ['后厨水池堵了', { place: '厨房', trade: '水' }],
  ['医务室的门锁坏了', { place: '保健室', trade: '门窗' }],
  ['音体室灯坏了', { place: '多功能厅' }],
  ['绘本馆书架坏了', { place: '图书室' }],
  ['其中一个灯不亮', { intent: 'report', place: undefined }],
  ['报修 大门口的路灯不亮 声音大一点的那个', { place: '大门', trade: '电' }],
];

const taskCommands: Case[] = [
  ['接单 12', { intent: 'claim', task: 12, text: undefined }],
  ['抢单12', { intent: 'claim', task: 12 }],
  ['接12', { intent: 'claim', task: 12 }],
  ['接 12', { intent: 'claim', task: 12 }],
  ['接单：12', { intent: 'claim', task: 12 }],
  ['接单 #12', { intent: 'claim', task: 12 }],
  ['接单 第12单', { intent: 'claim', task: 12 }],
  ['接单 12号', { intent: 'claim', task: 12 }],
  ['接单 十二号', { intent: 'claim', task: 12 }],
  ['我来接12', { intent: 'claim', task: 12 }],
  ['12号我接了', { intent: 'claim', task: 12, text: undefined }],
  ['好的，12号我来接', { intent: 'claim', task: 12 }],
  ['继续 12', { intent: 'claim', task: 12 }],
  ['恢复 12', { intent: 'claim', task: 12 }],
  ['转单 5 @吴师傅', { intent: 'transfer', task: 5, target: '吴师傅', text: undefined }],
  ['转单 5 @WuShiFu', { intent: 'transfer', task: 5, target: 'WuShiFu' }],
  ['派单 12 郑师傅', { intent: 'transfer', task: 12, target: '郑师傅' }],
  ['派单 #7 @zheng_sf', { intent: 'transfer', task: 7, target: 'zheng_sf' }],
  ['转给吴师傅 12', { intent: 'transfer', task: 12, target: '吴师傅' }],
  ['转单12给吴师傅 他今天值班', { intent: 'transfer', task: 12, target: '吴师傅', text: '他今天值班' }],
  ['12号单转给吴师傅', { intent: 'transfer', task: 12, target: '吴师傅' }],
  ['把12号转给郑师傅', { intent: 'transfer', task: 12, target: '郑师傅' }],
  ['挂起 12 等配件', { intent: 'hold', task: 12, text: '等配件' }],
  ['暂停12 明天再来', { intent: 'hold', task: 12, text: '明天再来' }],
  ['暂停 12：等厂家', { intent: 'hold', task: 12, text: '等厂家' }],
  ['待配件 12', { intent: 'hold', task: 12, text: '待配件' }],
  ['待配件 12 水龙头阀芯', { intent: 'hold', task: 12, text: '待配件 水龙头阀芯' }],
  ['完工 12 换了灯管', { intent: 'done', task: 12, text: '换了灯管' }],
  ['完工12换了灯管', { intent: 'done', task: 12, text: '换了灯管' }],
  ['完工 12，换了灯管。', { intent: 'done', task: 12, text: '换了灯管' }],
  ['完成12 换了马桶圈', { intent: 'done', task: 12, text: '换了马桶圈' }],
  ['修好了 12', { intent: 'done', task: 12, text: undefined }],
  ['已修好 #12', { intent: 'done', task: 12 }],
  ['12号修好了', { intent: 'done', task: 12 }],
  ['12号搞定了', { intent: 'done', task: 12 }],
  ['#12 完工', { intent: 'done', task: 12 }],
  ['12 完工 灯管换了', { intent: 'done', task: 12, text: '灯管换了' }],
  ['验收 12', { intent: 'accept', task: 12 }],
  ['验收通过 12', { intent: 'accept', task: 12 }],
  ['验收通过#12', { intent: 'accept', task: 12 }],
  ['确认 12', { intent: 'accept', task: 12 }],
  ['请验收12', { intent: 'accept', task: 12 }],
  ['麻烦验收一下 12', { intent: 'accept', task: 12 }],
  ['谢谢，12号验收通过', { intent: 'accept', task: 12 }],
  ['没修好 12 还是漏水', { intent: 'reopen', task: 12, text: '还是漏水' }],
  ['没修好 12，还是漏水！', { intent: 'reopen', task: 12, text: '还是漏水' }],
  ['返工 12', { intent: 'reopen', task: 12 }],
  ['还是坏的 12', { intent: 'reopen', task: 12 }],
  ['12号还是坏的', { intent: 'reopen', task: 12 }],
  ['评价 12 5 很满意', { intent: 'rate', task: 12, rating: 5, text: '很满意' }],
  ['评价 12 五星 很好', { intent: 'rate', task: 12, rating: 5, text: '很好' }],
  ['评价 #12 4分 师傅来得很快', { intent: 'rate', task: 12, rating: 4, text: '师傅来得很快' }],
  ['评价 12号 五颗星', { intent: 'rate', task: 12, rating: 5 }],
  ['评价 12 ★★★☆☆', { intent: 'rate', task: 12, rating: 3, text: undefined }],
  ['评价12 很满意', { intent: 'rate', task: 12, rating: 5, text: '很满意' }],
  ['评价 12 满意', { intent: 'rate', task: 12, rating: 4 }],
  ['评价 12 3 一般', { intent: 'rate', task: 12, rating: 3, text: '一般' }],
  ['评价 12 好评', { intent: 'rate', task: 12, rating: 5 }],
  ['好评 12', { intent: 'rate', task: 12, rating: 5, text: undefined }],
  ['好评 12 师傅辛苦了', { intent: 'rate', task: 12, rating: 5, text: '师傅辛苦了' }],
  ['差评 12 修了两次还漏', { intent: 'rate', task: 12, rating: 1, text: '修了两次还漏' }],
  ['中评 12', { intent: 'rate', task: 12, rating: 3 }],
  ['好评 12 4星', { intent: 'rate', task: 12, rating: 4 }],
  ['催办 12', { intent: 'nudge', task: 12 }],
  ['催一下12号', { intent: 'nudge', task: 12 }],
  ['催下12号', { intent: 'nudge', task: 12 }],
  ['催 12', { intent: 'nudge', task: 12 }],
  ['催办 ＃12 都两天了', { intent: 'nudge', task: 12, text: '都两天了' }],
  ['撤销 12', { intent: 'cancel', task: 12 }],
  ['取消 12 已经好了', { intent: 'cancel', task: 12, text: '已经好了' }],
  ['撤回 12', { intent: 'cancel', task: 12 }],
  ['进度 12', { intent: 'status', task: 12 }],
  ['查询 12', { intent: 'status', task: 12 }],
  ['查询12号', { intent: 'status', task: 12 }],
  ['状态 12', { intent: 'status', task: 12 }],
  ['帮我查一下12号', { intent: 'status', task: 12 }],
  ['12号进度', { intent: 'status', task: 12 }],
  ['12号怎么样了', { intent: 'status', task: 12 }],
  ['12号修好了吗？', { intent: 'status', task: 12, text: undefined }],
  ['12号有人接了吗', { intent: 'status', task: 12 }],
];

const wholeMessages: Case[] = [
  ['我的', { intent: 'mine' }],
  ['我的任务', { intent: 'mine' }],
  ['我的工单', { intent: 'mine' }],
  ['查看我的任务', { intent: 'mine' }],
  ['帮助', { intent: 'help', invalid: undefined }],
  ['?', { intent: 'help', invalid: undefined }],
  ['？', { intent: 'help', invalid: undefined }],
  ['？？', { intent: 'help' }],
  ['怎么用', { intent: 'help' }],
  ['怎么用？', { intent: 'help' }],
  ['help', { intent: 'help' }],
  ['HELP', { intent: 'help' }],
  ['菜单', { intent: 'help' }],
  ['使用说明', { intent: 'help' }],
  ['日报', { intent: 'digest', period: 'day' }],
  ['周报', { intent: 'digest', period: 'week' }],
  ['月报', { intent: 'digest', period: 'month' }],
  ['今日日报', { intent: 'digest', period: 'day' }],
  ['本周周报', { intent: 'digest', period: 'week' }],
];

const chatter: Case[] = [
  ['谢谢', { intent: 'none' }],
  ['谢谢！', { intent: 'none' }],
  ['好的', { intent: 'none' }],
  ['收到', { intent: 'none' }],
  ['好的收到', { intent: 'none' }],
  ['收到，马上处理', { intent: 'none' }],
  ['辛苦了', { intent: 'none' }],
  ['老师们辛苦了', { intent: 'none' }],
  ['👍', { intent: 'none' }],
  ['🙏🙏', { intent: 'none' }],
  ['好的👍', { intent: 'none' }],
  ['你好', { intent: 'none' }],
  ['你好 在吗', { intent: 'none' }],
  ['早上好', { intent: 'none' }],
  ['下午好！', { intent: 'none' }],
  ['大家好', { intent: 'none' }],
  ['ok', { intent: 'none' }],
  ['OK 收到', { intent: 'none' }],
  ['嗯嗯', { intent: 'none' }],
  ['谢谢李师傅！', { intent: 'none' }],
  ['好的，谢谢王老师', { intent: 'none' }],
  ['谢谢师傅，修得很快', { intent: 'none' }],
  ['好的，我马上过去', { intent: 'none' }],
  ['辛苦了，空调修好了', { intent: 'none' }],
  ['', { intent: 'none' }],
  ['   ', { intent: 'none' }],
  ['@后勤小助手', { intent: 'none' }],
];

const invalidValues: Case[] = [
  ['评价 12 10', { intent: 'rate', task: 12, invalid: true, error: '评分请写 1 到 5，例如：评价 12 5 修得很快' }],
  ['评价 12 0', { intent: 'rate', task: 12, invalid: true, error: '评分请写 1 到 5，例如：评价 12 5 修得很快' }],
  ['评价 12 六星', { intent: 'rate', task: 12, invalid: true, error: '评分请写 1 到 5，例如：评价 12 5 修得很快' }],
  ['评价 12', { intent: 'rate', task: 12, invalid: true, error: '请打 1 到 5 分，例如：评价 12 5 修得很快' }],
  ['评价 5星', { intent: 'rate', task: undefined, invalid: true, error: needTask('评价 12 5 修得很快') }],
  ['评价 abc 5', { intent: 'rate', invalid: true, error: needTask('评价 12 5 修得很快') }],
  ['接单 abc', { intent: 'claim', task: undefined, invalid: true, error: needTask('接单 12') }],
  ['接单', { intent: 'claim', invalid: true, error: needTask('接单 12') }],
  ['接单 0', { intent: 'claim', invalid: true, error: needTask('接单 12') }],
  ['接单 12345678901', { intent: 'claim', task: undefined, invalid: true, error: needTask('接单 12') }],
  ['转单 5', { intent: 'transfer', task: 5, invalid: true, error: '请写转给谁，例如：转单 5 @李师傅' }],
  ['转单 @吴师傅', { intent: 'transfer', invalid: true, error: needTask('转单 12 @李师傅') }],
  ['挂起 12', { intent: 'hold', task: 12, invalid: true, error: '请写挂起原因，例如：挂起 12 等配件' }],
  ['完工', { intent: 'done', invalid: true, error: needTask('完工 12 换了灯管') }],
  ['修好了', { intent: 'done', invalid: true, error: needTask('完工 12 换了灯管') }],
  ['验收', { intent: 'accept', invalid: true, error: needTask('验收 12') }],
  ['催办', { intent: 'nudge', invalid: true, error: needTask('催办 12') }],
  ['撤销', { intent: 'cancel', invalid: true, error: needTask('撤销 12') }],
  ['进度', { intent: 'status', invalid: true, error: needTask('进度 12') }],
  ['没修好', { intent: 'reopen', invalid: true, error: needTask('没修好 12 还是漏水') }],
  [
    '报修',
    {
      intent: 'report',
      kind: 'repair',
      urgent: false,
      invalid: true,
      error: '请写清问题，例如：报修 小一班 空调不制冷',
    },
  ],
  [
    '报修 小一班',
    { intent: 'report', place: '小一班', invalid: true, error: '请写清问题，例如：报修 小一班 空调不制冷' },
  ],
  ['保洁', { intent: 'report', kind: 'cleaning', invalid: true, error: '请写清问题，例如：保洁 小一班 地上有呕吐物' }],
];

// Nobody could read these: the parser says none (the bot stays quiet in a group) and gives the one line a DM gets —
// the nearest correct phrasing when something hints at a command, else a short question.
const unreadables: Case[] = [
  ['asdf qwer', { intent: 'none', error: unreadQuestion }],
  ['明天几点开会', { intent: 'none', error: undefined }],
  ['接 单12', { intent: 'none', error: unreadable('接单 12') }],
  ['接丹 12', { intent: 'none', error: unreadable('接单 12') }],
  ['收到，接丹 12', { intent: 'none', error: unreadable('接单 12') }],
  ['完 工8', { intent: 'none', error: unreadable('完工 8 换了灯管') }],
  ['验 收 8', { intent: 'none', error: unreadable('验收 8') }],
  ['评介 8 五星', { intent: 'none', error: unreadable('评价 8 5 修得很快') }],
  ['取消', { intent: 'none', error: unreadable('撤销 12') }],
  ['确认一下', { intent: 'none', error: unreadable('验收 12') }],
  ['12', { intent: 'none', error: unreadable('进度 12') }],
  ['中二班', { intent: 'none', error: unreadable('报修 中二班 空调不制冷') }],
];

const traditional: Case[] = [
  [
    '報修 中二班 廁所漏水',
    { intent: 'report', kind: 'repair', trade: '水', place: '中二班', urgent: false, text: '中二班 厕所漏水' },
  ],
  ['報修 大一班 電燈不亮', { kind: 'repair', trade: '电', place: '大一班', text: '大一班 电灯不亮' }],
  ['保潔 午睡室地上有尿', { kind: 'cleaning', place: '午睡室' }],
  ['餐評 3 飯菜太鹹了', { kind: 'meal', rating: 3, text: '饭菜太咸了' }],
  ['接單 ＃12', { intent: 'claim', task: 12 }],
  ['接單１２', { intent: 'claim', task: 12 }],
  ['評價 12 五星 很好', { intent: 'rate', task: 12, rating: 5, text: '很好' }],
  ['評價 12 ★★★★★ 師傅很專業', { intent: 'rate', task: 12, rating: 5, text: '师傅很专业' }],
  ['轉單 12 @吳師傅', { intent: 'transfer', task: 12, target: '吴师傅' }],
  ['掛起 12 等配件', { intent: 'hold', task: 12, text: '等配件' }],
  ['完工 12 換了水龍頭', { intent: 'done', task: 12, text: '换了水龙头' }],
  ['沒修好 12', { intent: 'reopen', task: 12 }],
  ['驗收 12', { intent: 'accept', task: 12 }],
  ['催辦 ＃８', { intent: 'nudge', task: 8 }],
  ['撤銷 12', { intent: 'cancel', task: 12 }],
  ['進度 12', { intent: 'status', task: 12 }],
  ['幫助', { intent: 'help' }],
  ['週報', { intent: 'digest', period: 'week' }],
  ['我的工單', { intent: 'mine' }],
  ['地點：中二班\n問題：廁所漏水\n緊急：是', { kind: 'repair', place: '中二班', urgent: true, text: '厕所漏水' }],
  ['廚房煤氣洩漏', { kind: 'repair', trade: '燃气', place: '厨房', urgent: true }],
  ['謝謝', { intent: 'none' }],
];

const typos: Case[] = [
  ['接单  12', { intent: 'claim', task: 12 }],
  ['接单12。', { intent: 'claim', task: 12 }],
  ['＃１２ 验收', { intent: 'accept', task: 12 }],
  ['接单　１２', { intent: 'claim', task: 12 }],
  ['Help', { intent: 'help' }],
  ['完工12 换了灯管~', { intent: 'done', task: 12, text: '换了灯管' }],
  ['  报修   小一班   空调不制冷  ', { intent: 'report', place: '小一班', text: '小一班 空调不制冷' }],
  ['报修，小一班，空调不制冷。', { intent: 'report', place: '小一班', trade: '空调', text: '小一班,空调不制冷' }],
  ['评价 12 5分！', { intent: 'rate', task: 12, rating: 5 }],
  ['转单 12 给 @吴师傅', { intent: 'transfer', task: 12, target: '吴师傅' }],
  ['进度12？', { intent: 'status', task: 12 }],
  ['接单 12 13', { intent: 'claim', task: 12, text: '13' }],
];

const groups: [string, Case[]][] = [
  ['report commands', reportCommands],
  ['problem sentences', problemSentences],
  ['urgency', urgency],
  ['meal comments', meals],
  ['forms', forms],
  ['places', places],
  ['task commands', taskCommands],
  ['whole-message commands', wholeMessages],
  ['chatter', chatter],
  ['invalid values', invalidValues],
  ['unreadable text', unreadables],
  ['繁體', traditional],
  ['typing mistakes', typos],
];

describe.each(groups)('%s', (_name, cases) => {
  it.each(cases)('%j', (input, expected) => {
    const got = parser.parse(input);
    const entries = Object.entries(expected);
    expect(got).toMatchObject(Object.fromEntries(entries.filter(([, v]) => v !== undefined)));
    for (const [k] of entries.filter(([, v]) => v === undefined)) expect(got).not.toHaveProperty(k);
    expect(intentSchema.parse(got)).toEqual(got);
    expect(Object.values(got)).not.toContain(undefined);
    if (got.intent === 'report') expect(typeof got.urgent).toBe('boolean');
    if (got.invalid) expect(got.error).toMatch(/[\u4e00-\u9fff]/);
  });
});

describe('exact output', () => {
  it('gives exactly the documented 餐评 intent', () => {
    expect(parser.parse('餐评 4 今天的汤太咸')).toEqual({
      intent: 'report',
      kind: 'meal',
      rating: 4,
      text: '今天的汤太咸',
      urgent: false,
    });
  });
  it('keeps keys in one order', () => {
    expect(Object.keys(parser.parse('报修 小一班 空调不制冷 很急'))).toEqual([
      'intent',
      'kind',
      'trade',
      'place',
      'urgent',
      'text',
    ]);
  });
});

describe('findPlace', () => {
  it.each([
    ['中2班', '中二班'],
    ['中二', '中二班'],
    ['中２班', '中二班'],
    ['中貳班', '中二班'],
    ['在中二班门口', '中二班'],
    ['大门口', '大门'],
    ['廚房', '厨房'],
    ['午休室', '午睡室'],
    ['配电室', '配电房'],
  ])('%s → %s', (text, place) => {
    expect(parser.findPlace(text)).toBe(place);
  });
  it.each(['三楼走廊', '其中一个', '声音大一点', ''])('%j → none', (text) => {
    expect(parser.findPlace(text)).toBeUndefined();
  });
});

it('has enough realistic cases', () => {
  expect(groups.reduce((n, [, cases]) => n + cases.length, 0)).toBeGreaterThanOrEqual(170);
});

describe('normalize', () => {
  it('gives the same form from its cache as the first time, and keeps working past the cache size', () => {
    const first = normalize('＠後勤助手  報修　中２班　燈壞了\r\n\r\n地點：廚房');
    expect(first).toBe('报修 中2班 灯坏了\n地点:厨房');
    for (let i = 0; i < 600; i++) expect(normalize(`評價 ${i} 五星`)).toBe(`评价 ${i} 五星`);
    expect(normalize('＠後勤助手  報修　中２班　燈壞了\r\n\r\n地點：廚房')).toBe(first);
  });
});

describe('talk the bot does not ask about', () => {
  const teacher = (chat: 'group' | 'dm') => ({ roles: ['teacher'], chat });

  it('stays quiet on what to do if something happens, in any chat, however urgent it sounds', () => {
    for (const chat of ['group', 'dm'] as const)
      expect(parser.parse('万一电梯困人了 先按警铃 再打维保电话', teacher(chat))).toEqual({ intent: 'none' });
  });

  it('stays quiet on a drill or a quiz, but not on a fault found during one', () => {
    for (const text of ['下午消防演练 烟雾是假的 孩子们别怕', '考考大家：电梯困人第一步干什么？答对的中午加鸡腿 😄'])
      expect(parser.parse(text, teacher('group'))).toEqual({ intent: 'none' });
    expect(parser.parse('刚才疏散演练的时候发现 二楼的应急灯不亮', teacher('group'))).toMatchObject({
      intent: 'report',
      trade: '消防',
    });
  });

  it('stays quiet in a group when the learned model is all but certain a "report" is talk, and asks in a 1:1 chat', () => {
    const text = '今天真热 空调都救不了我🥵';
    expect(parser.parse(text, teacher('group'))).toEqual({ intent: 'none' });
    expect(parser.parse(text, teacher('dm'))).toMatchObject({ intent: 'report', trade: '空调', unsure: true });
  });
});
