// A worker's or manager's note with no task number: "师傅在路上了", "已通知厂家", "配件明天到" (a progress note, 备注)
// and "换了个开关 已经好了" (完工). The domain puts it on the sender's one open task, or asks which.
import type { Intent } from './intent.js';

const doneWords =
  /修好了|已经好了|弄好了|搞定了?|处理好了|处理完了|已处理|已修好|已修复|已更换|换好了|装好了|ok了|没问题了|恢复正常|正常了|清理干净|打扫干净|拖干净|拖完了|消毒了|就好了|打扫完|扫完了|弄完了|换完了|修完了|完工了?$/;
/** Said only of work in hand: these make a note even when the message also names a fault ("主板烧了 得换"). */
const strongProgress =
  /在路上|路上了|马上到|分钟到|快到了|已通知|通知了|已联系|联系了|已上报|上报|厂家|配件|零件|到货|买回来|去买|定做|拆开|找到了|得换|打过电话|已报|已派/;
const progressWords =
  /在路上|路上了|马上到|分钟到|快到了|到了|已通知|通知了|已联系|联系了|厂家|配件|零件|材料|明天|后天|下午|上午|晚上|周[一二三四五六日天]|过去看|去看看|先去|先把|稍等|等会|等一下|晚点|量好|找到了|拆开|得换|要换|去买|买回来|订了|已派|安排了|在修|正在|看了一下|看过了|检查了|排查|上报|已报|等批|明早|到货|打过电话|打电话|定做|弄完就|就过去|顶着|下周|公司说|远程|观察|再看看|问过了|报给/;

export function readNote(line: string, strongOnly = false): Intent | undefined {
  if (doneWords.test(line) && !/吗|没\s*$|\?/.test(line)) return { intent: 'done', text: line };
  if ((strongOnly ? strongProgress : progressWords).test(line)) return { intent: 'note', text: line };
  return undefined;
}
