// The words the parser knows, all in normalized form (简体, half-width, lower case for Latin).
// Data only; the matching lives in the files that use it.
import type { IntentName } from './intent.js';

export type TaskIntent = Extract<IntentName, 'claim' | 'transfer' | 'hold' | 'done' | 'accept' | 'reopen' | 'rate' | 'nudge' | 'cancel' | 'status'>;

/**
 * Commands that act on a task number. A strong word says the command by itself, so "接单" without a
 * number is a mistake worth pointing out. A weak word is an ordinary word too ("接", "确认", "查",
 * "好了"), so it counts only when a task number follows.
 */
export const taskWords: Record<TaskIntent, { strong: string[]; weak: string[] }> = {
  claim: { strong: ['接单', '抢单'], weak: ['接', '继续', '恢复'] },
  transfer: { strong: ['转单', '派单', '转给', '转派', '改派', '指派'], weak: ['转', '派'] },
  hold: { strong: ['挂起', '暂停', '待配件'], weak: [] },
  done: {
    strong: ['完工', '已完工', '修好了', '已修好', '已完成', '维修完成', '处理完毕'],
    weak: ['完成', '修好', '搞定', '好了', '弄好了', '处理好了', '处理完了'],
  },
  accept: { strong: ['验收', '验收通过', '确认完工', '确认修好'], weak: ['确认', '通过'] },
  // "又坏了" without a number is usually a fresh report ("又坏了，小一班空调"), so it is weak.
  reopen: { strong: ['没修好', '还没修好', '返工', '还是坏的', '重修'], weak: ['又坏了'] },
  // 好评 / 中评 / 差评 carry their own score (see ratingPresets).
  rate: { strong: ['评价', '评分', '打分', '好评', '中评', '差评'], weak: [] },
  nudge: { strong: ['催办', '催一下', '催促'], weak: ['催'] },
  cancel: { strong: ['撤销', '撤回', '撤单', '取消报修', '撤销报修', '取消工单'], weak: ['取消'] },
  status: {
    strong: ['进度', '查进度', '查询进度'],
    weak: ['查询', '状态', '查一下', '查看', '查', '怎么样了', '到哪了', '什么情况', '进展'],
  },
};

/** Online-shop habit: 好评 is five stars, 差评 one, 中评 three — unless a score is written too. */
export const ratingPresets: Record<string, number> = { 好评: 5, 中评: 3, 差评: 1 };

/** Report commands. 保修 is the usual homophone typo for 报修. */
export const reportWords: Record<string, 'repair' | 'cleaning' | 'meal'> = {
  报修: 'repair', 保修: 'repair', 报障: 'repair', 申请维修: 'repair',
  保洁: 'cleaning',
  餐评: 'meal', 评餐: 'meal', 膳食评价: 'meal', 伙食评价: 'meal',
};

/** Said before a command and ignorable: "请验收12", "帮我查一下12号", "紧急报修 …", "12号我接了". */
export const politePrefixes = ['麻烦你', '麻烦您', '麻烦', '请', '帮我', '帮忙', '我要', '我想', '我来', '我', '已经', '已', '再', '紧急', '加急', '特急', '急'];

/**
 * Trades, matched leftmost-longest so "消毒柜" is 电 not 柜子 and "蹦床" is 玩具 not 床.
 * Tier 1 names a thing, tier 2 a symptom or a room; a thing wins ("空调漏水" → 空调, "厕所门坏了" → 门窗).
 * A null trade only blocks a shorter word inside it ("门口" is not a door, "门卫室" not a door either).
 */
export const tradeWords: [word: string, trade: string | null, tier: 1 | 2][] = [
  ...t1('空调', ['空调', '冷气', '空调外机', '空调遥控器']),
  ...t1('暖气', ['暖气', '暖气片', '地暖', '供暖', '散热器']),
  ...t1('燃气', ['燃气', '煤气', '天然气', '液化气', '燃气灶', '煤气灶', '灶台', '灶']),
  ...t1('消防', ['消防', '灭火器', '消防栓', '消火栓', '烟感', '烟雾报警器', '应急灯', '疏散指示', '安全出口灯', '喷淋', '火警']),
  ...t1('网络', ['网络', '网路', '网线', 'wifi', 'wi-fi', '无线网', '路由器', '交换机', '网口', '监控', '摄像头']),
  ...t1('玩具', ['玩具', '大型玩具', '滑梯', '秋千', '蹦床', '攀爬架', '跷跷板', '积木', '摇摇马', '木马', '转椅']),
  ...t1('床', ['床', '小床', '床板', '床铺', '上下床', '床栏', '床腿']),
  ...t1('柜子', ['柜子', '柜', '柜门', '衣柜', '书柜', '储物柜', '鞋柜', '抽屉']),
  ...t1('桌椅', ['桌椅', '桌子', '椅子', '桌', '椅', '凳子', '凳', '板凳', '课桌', '餐桌', '桌腿', '椅腿']),
  ...t1('门窗', ['门', '窗', '窗户', '门窗', '门锁', '锁', '玻璃', '纱窗', '纱门', '合页', '门把手', '把手', '门框', '窗框', '卷帘门', '防盗门', '推拉门', '门吸', '闭门器', '窗帘', '大门', '校门', '园门']),
  ...t1('木', ['木', '木板', '木头', '木地板', '地板', '书架', '架子', '隔板', '扶手', '栏杆', '黑板']),
  ...t1('电', [
    '灯', '电灯', '灯管', '灯泡', '吊灯', '台灯', '插座', '插头', '插排', '开关', '电线', '线路', '电路', '电箱', '电闸',
    '电表', '配电箱', '电视', '电视机', '电脑', '打印机', '投影', '投影仪', '一体机', '音响', '话筒', '麦克风', '广播',
    '风扇', '电扇', '吊扇', '排气扇', '换气扇', '消毒柜', '冰箱', '冰柜', '微波炉', '烤箱', '电饭锅', '蒸饭柜', '热水器',
    '门禁', '门铃', '电梯', '紫外线灯', '消毒灯', '电源', '空气净化器', '加湿器', '洗衣机', '烘干机',
  ]),
  ...t1('水', [
    '水龙头', '龙头', '马桶', '坐便器', '蹲坑', '蹲便器', '小便池', '便池', '下水道', '下水', '水管', '管道', '水箱',
    '地漏', '洗手池', '洗手台', '洗手盆', '水池', '水槽', '拖把池', '花洒', '淋浴', '饮水机', '净水器', '开水器', '阀门',
    '水阀', '水表', '冲水', '排水', '化粪池',
  ]),
  ...t2('水', ['漏水', '滴水', '渗水', '冒水', '返水', '爆管', '水管爆', '堵', '堵塞', '不通', '没水', '停水', '水压', '厕所', '卫生间', '洗手间']),
  ...t2('电', ['跳闸', '漏电', '短路', '没电', '停电', '断电', '不亮', '闪', '触电', '火花', '配电房', '配电室', '电房']),
  ...t2('空调', ['不制冷', '不制热', '制冷', '制热']),
  ...t2('网络', ['断网', '上不了网', '没网', '网速', '网很慢']),
  ...t2('燃气', ['漏气', '煤气味', '燃气味']),
  // Blockers: a gate's doorway is a place, not a door; shards in food are not a window to fix.
  ...(['门口', '大门口', '校门口', '园门口', '门卫', '门卫室', '门厅', '门前', '出门', '进门', '部门', '碎玻璃'].map((w) => [w, null, 2] as [string, null, 2])),
];

function t1(trade: string, words: string[]): [string, string, 1][] {
  return words.map((w) => [w, trade, 1]);
}
function t2(trade: string, words: string[]): [string, string, 2][] {
  return words.map((w) => [w, trade, 2]);
}

/** Something is broken: a sentence with one of these and no command is a repair report. */
export const problemWords = [
  '坏', '损坏', '堵', '漏', '不亮', '不制冷', '不制热', '不转', '不出水', '没水', '没电', '停电', '断', '裂', '松', '掉',
  '脱落', '卡住', '卡了', '关不上', '打不开', '关不了', '开不了', '锁不上', '跳闸', '异响', '响声', '滴水', '短路', '故障',
  '失灵', '不好用', '不能用', '用不了', '不工作', '没反应', '闪', '晃', '破', '碎', '翘', '歪', '倒了', '维修', '要修',
  '修一下', '修理', '需要修', '更换', '换一下', '没声音', '没信号', '黑屏', '不通', '不热', '不动', '生锈', '锈',
  '过期', '没压力', '连不上', '上不去', '卡纸', '不加热', '不启动', '不出风',
];

/** Something needs cleaning (保洁). */
export const cleaningWords = [
  '呕吐物', '呕吐', '吐了', '脏', '垃圾', '打扫', '清扫', '清理', '清洁', '拖地', '拖一下', '擦', '消毒', '异味', '臭',
  '尿', '大便', '粪', '便便', '积水', '蜘蛛网', '灰尘', '落叶', '污渍', '油污', '地滑', '很滑', '洒了', '打翻', '满了',
  '杂草', '除草', '鸟屎', '卫生死角', '霉斑',
];

/** About food: a sentence with these and no broken thing is a meal comment (餐评). */
export const mealWords = [
  '饭', '菜', '汤', '粥', '面条', '午餐', '早餐', '晚餐', '午点', '加餐', '点心', '水果', '牛奶', '馒头', '包子', '饺子',
  '肉', '鸡蛋', '鱼', '伙食', '膳食', '食谱', '口味', '太咸', '太淡', '太油', '太辣', '太硬', '难吃', '好吃', '分量',
];

/** Danger or haste in any report. "急" alone counts; the phrases in notUrgent are removed first. */
export const urgentWords = [
  '急', '漏电', '触电', '冒烟', '烟雾', '着火', '起火', '失火', '火灾', '泄漏', '漏气', '煤气味', '燃气味', '天然气味',
  '被困', '困住', '爆管', '水管爆', '爆裂', '受伤', '流血', '划伤', '摔伤', '砸到', '砸伤', '倒塌', '塌了', '坍塌',
  '短路', '火花', '烧焦', '焦味', '危险', '裸露', '碎玻璃', '玻璃碎', '钉子', '淹了', '水漫',
];
// A smoke alarm that chirps for its battery is routine; real smoke is reported as 冒烟.
export const notUrgent = ['不急', '不着急', '不紧急', '不用急', '别急', '不太急', '应急', '急救', '烟雾报警'];

/** Food-safety words: a meal comment with one of these goes to the canteen as urgent. */
export const foodSafetyWords = [
  '异物', '变质', '没熟', '不熟', '夹生', '半生', '发霉', '霉', '过敏', '头发', '毛发', '虫', '苍蝇', '蟑螂', '老鼠',
  '馊', '臭', '异味', '中毒', '拉肚子', '腹泻', '呕吐', '吐了', '肚子疼', '腹痛', '过期', '玻璃', '钢丝', '铁丝',
  '塑料', '石子', '沙子', '鱼刺', '噎',
];

/** Whole-message chatter the bot ignores, with the forms of address that go with it ("谢谢李师傅"). */
export const chatterWords = [
  '谢谢', '谢谢你', '谢谢您', '多谢', '感谢', '谢啦', '好的', '好', '好滴', '好嘞', '好吧', '嗯', '嗯嗯', '收到', '收到了',
  '辛苦了', '辛苦', '辛苦啦', '麻烦了', 'ok', 'okay', 'thanks', 'thx', '明白', '明白了', '知道了', '了解', '你好', '您好',
  '早上好', '早', '早安', '上午好', '中午好', '下午好', '晚上好', '晚安', 'hi', 'hello', '哈哈', '哈', '在吗', '在',
  '没事了', '没事', '不用了', '好了', '对', '是的', '行', '可以',
];
export const addressWords = ['师傅', '老师', '阿姨', '主任', '园长', '医生', '大家', '各位', '你们', '你', '您', '亲'];
export const particles = '啊呀哦哈啦了的吧呢么嘛噢喔们';
