// A worker's or manager's note with no task number: "师傅在路上了", "已通知厂家", "配件明天到" (a progress note, 备注),
// "换了个开关 已经好了" (完工) and "缺个阀芯 等配件 先挂着" (挂起). The domain puts it on the sender's one task in hand,
// or asks which.
import type { Intent } from './intent.js';

/** The work is finished: 修好了, 换好了, 通了, 不漏了, 亮了, 清走了, 可以用了. */
const doneWords =
  /能(?:点着|打着|打开|关上|上网|出水|出热水|抬杆)了|(?<![不没])(?:点着|打着)了|(?:修|换|弄|装|清|拖|扫|加|处理|搞|紧|接|(?<!沟)通|疏通|清理|打扫)(?:好|完)\S{0,2}了(?!.{0,6}(?:吗|没|\?))|换成新的了|换了新的|换新了|已经?(?:修|换|装|弄|处理)好|已经好了|搞定|已处理|已修复|已更换|ok了|没问题了|恢复正常|(?<![不没])正常了|干净了|清走了|拖完了|消毒了|就好了|可以用了|能用了|不漏了|不堵了|(?<![不没])亮了|(?<![不没])通了|完工了?$|重新(?:钉|装|插|接|固定|焊|粘|调|装了)\S{0,3}(?:了|好|牢)|钉牢了|复位了|通开了|排了气|更换完毕|(?:补|焊|粘|调|钉)好了|(?<![不没])(?:(?:画面|信号|声音|网|电|水|图像)回来了|转起来了|热乎了|拉得动了|稳定在)|(?:换|装|修|补|调|接|紧)了[^还又仍]{0,10}\s(?!.*(?:还是|又|还不|仍|没有?$))\S{0,10}(?:了|没问题)$/;
/** Part of the work is done; the rest is still to come. */
const partly = /还剩|还差|还有.{1,3}(?:个|处|间|台)|一半|还在查/;
/** Waiting on something the worker cannot hurry: 挂起 in plain words. */
const holdWords = /等配件|等零件|缺(?:个|配件|零件)|先挂着?|先放一放|先放着|缓一缓|挂起/;
/**
 * Said only of work in hand: these make a note even when the message also names a fault ("主板烧了 得换"). "拍不到门口"
 * (a camera that cannot see the gate) is no arrival. A first step taken (总阀先关了, 电源先断开了), work under way where one is
 * (我在大门这边修道闸), a manager's arrangement (已经和燃气公司报备, 马上安排, 排到明天) are progress too.
 */
const strongProgress =
  /在路上|路上了|马上到|分钟到|快到了|(?<!不)到现场|(?<!不)到门口|(?<!不)已经到|已经过去|下单|送修|建议|您看|还在查|跟.{1,4}说了|等.{1,4}一起|叫上|已通知|通知了|已联系|联系了|已上报|上报|汇报|厂家|配件|零件|到货|买回来|去买|五金店|定做|拆开|找到了|找到原因|原因是|问题出在|得换|得找|要找|打过电话|打了.{0,6}电话|已报|已派|跟进|测了|查了|看了下?|上去看|约了|先用|临时|凑合|不是我们的活|晚点到|晚一点到|晚一点过去|马上过去|弄着呢|修着呢|在弄|堵车|忙完|弄完就|等.{1,6}(?:再|了再)|叫上|一起去|同意|(?:和|跟)\S{1,6}(?:报备|联系)|(?<!麻烦)(?:马上|尽快|已经?)安排(?!人)|要等|排到|先处理|我在\S{0,8}(?:修|弄|装|换|处理)|先(?:断|关|拉|停|堵|拔|围)\S{0,2}了|我再(?:紧|拧|试|调|看看)/;
const progressWords = new RegExp(
  `${strongProgress.source}|到了|一半|还剩|继续|再过去|起床了再|吃个饭|材料|明天|后天|下午|上午|晚上|周[一二三四五六日天]|过去看|去看看|先去|先把|稍等|等会|等一下|量好|要换|订了|安排了|在修|正在|看过了|检查了|排查|等批|明早|打电话|就过去|顶着|下周|公司说|远程|观察|再看看|问过了|报给|点以后|以后去|再过去|多弄`,
);

/** `strongOnly` for a manager, whose words are often about others' work: 等配件 from them is news, not a 挂起. */
export function readNote(line: string, strongOnly = false): Intent | undefined {
  if (!strongOnly && holdWords.test(line)) return { intent: 'hold', text: line };
  if (doneWords.test(line) && !partly.test(line) && !/吗|没\s*$|\?/.test(line)) return { intent: 'done', text: line };
  // "一上午跳了三次", "抬杆抬一半就卡住", "指示灯一半不亮": a duration and a fault halfway are no plan and no progress;
  // nor is when a fault shows ("路灯晚上不亮", "wifi一到晚上就断") or what cannot be seen ("监控看不到了").
  const plain = line.replace(
    /一[上下]午|一晚上|一整天|\S{0,2}一半就?(?=\S{0,3}不|卡|停|掉|弹)|(?:一到)?(?:晚上|白天|早上|[上中下]午)(?=\S{0,3}(?:不(?!在|能)|没|看不|断|黑|糊|卡|漏|滴))|(?:看|听|收|找)不到了?/g,
    ' ',
  );
  if ((strongOnly ? strongProgress : progressWords).test(plain)) return { intent: 'note', text: line };
  return undefined;
}
