// Chatter the bot stays quiet on: "谢谢李师傅！", "好的收到", "👍", "早上好". Answering these in a group
// chat would be noise.
import { addressWords, chatterWords, particles } from './lexicon.js';

export interface Chatter {
  /** True when the whole text is made of chatter words, names and particles (or only emoji). */
  isChatter(text: string): boolean;
  afterChatter(line: string): string | undefined;
}

export function createChatter(personNames: string[]): Chatter {
  const words = [
    ...new Set([...chatterWords, ...addressWords, ...personNames.map((n) => n.toLowerCase()), ...particles]),
  ].sort((a, b) => b.length - a.length);
  const address = addressWords.filter((w) => w.length > 1);
  // Per first character, longest first: one lookup per position instead of a scan of every word.
  const byFirst = new Map<string, string[]>();
  for (const w of words) byFirst.set(w[0], [...(byFirst.get(w[0]) ?? []), w]);

  function isChatter(clause: string): boolean {
    const s = clause.toLowerCase().replace(/[\p{P}\p{S}\p{Extended_Pictographic}\s]/gu, '');
    for (let i = 0; i < s.length; ) {
      const w = byFirst.get(s[i])?.find((word) => s.startsWith(word, i));
      // "谢谢王老师": a surname the roster does not know, before a form of address.
      const named = w ? undefined : address.find((a) => s.startsWith(a, i + 1));
      if (!w && !named) return false;
      i += w ? w.length : 1 + named!.length;
    }
    return true;
  }

  return {
    isChatter,
    /** What follows a chatter clause: "好的，12号我来接" → "12号我来接"; undefined when nothing does. */
    afterChatter(line: string): string | undefined {
      const m = /^(.+?)[\s,.;!?~、。…]+(.+)$/.exec(line);
      return m && isChatter(m[1]) ? m[2] : undefined;
    },
  };
}

/**
 * Talk between people that names things and faults but asks the bot for nothing: notices ("明天停电检修 大家注意"),
 * reminders to colleagues ("走之前把窗户关上"), questions to people ("钥匙在谁那"), praise ("李师傅修得真快 点赞").
 * The parser asks this only of messages that carry no command, and a message in danger is never chatter.
 */
/** The sender's own home or car: "我家洗衣机罢工了", "家里热水器又坏了" — not the school's, however broken or dangerous. */
export const ownLife =
  /(?:^|[^自])(?:我家|我们家|我老家|家里|她家|他家)(?!孩子|宝宝|娃|小孩)|我(?:妈|爸|婆婆|公公|老公|老婆|爷爷|奶奶|外婆|姥姥)(?:住|家|那)|^老家|老家(?:下|的|那)|回(?:到)?家(?:发现|一看|以后)|我的车|我车|车电瓶|我(?:的)?手机|手机(?:屏|摔|没电)|手机\S{0,2}没电|我的电动车|我在家|房东|租的房子/;

/**
 * A fault somewhere else, heard of or dreamt: "听说隔壁小学电梯困人了", "新闻说燃气泄漏的事故挺多", "我女儿学校的空调坏了",
 * "昨晚做梦滑梯塌了", "周末带孩子去看了科技馆 里面的电梯…" — talk, however dangerous it sounds, because nothing here needs anyone.
 */
export const elsewhere =
  /听说|新闻|做梦|电视剧|电影里|路上看到|饿到|气炸|搭成|外地|热搜|(?:她|他)们单位|(?:那个|别的|实验)(?:学校|幼儿园)|住院那个|视频你们看|脑子(?:都)?短路|别的(?:园|学校|幼儿园|单位|医院)|朋友圈|(?:我们|我家|我住的)小区|不是我们(?:这边|园|学校|楼)的|(?:看到|听)群里说|梦见|梦到|周末(?:带|去)|带(?:孩子|娃|儿子|女儿)去|旅游|隔壁(?:小学|中学|学校|幼儿园|单位|医院|小区)|(?:女儿|儿子|闺女|孩子)(?:的|所在的|那个)?(?:学校|幼儿园)/;

export function isTalkToPeople(line: string): 'plain' | 'notice' | 'question' | 'reminder' | 'praise' | undefined {
  if (plainlyToPeople.test(line)) return 'plain';
  if (notice.test(line)) return 'notice';
  if (toPeople.test(line)) return 'question';
  if (reminder.test(line)) return 'reminder';
  if (praise.test(line)) return 'praise';
  return undefined;
}

const future =
  /暑假|寒假|开学|下学期|等会儿?|一会儿|待会儿?|明天|后天|明早|今晚|下周|下个?月|周[一二三四五六日天]|星期[一二三四五六日天]|礼拜[一二三四五六日天]|\d+月\d+[号日]|\d+号(?:开始|起|放假|上班|上课)|[上下]午[\d一二三四五六七八九十两]+点|[\d一二三四五六七八九十两]+点(?:半|前|后|钟)?/;
const event =
  /停电|停水|检修|施工|演练|开会|会议|体检|检查|彩排|培训|大扫除|开放日|放假|上班|上课|活动|集合|消杀|维保|保养|通知|来检查|装修|参观|视察|评估|作息|春游|秋游|家长会|断电|断水|停网|恢复|升级|改造|换新|搬走/;
// Planned works (升级, 改造, 换新) with a time are announced, and so is a schedule moved ("器械改下午送"), something posted
// to the group (食谱发群里了, 群公告) and what people will hear ("响了别慌", "会有报警声 不用紧张").
const notice = new RegExp(
  `(?:${future.source}).*(?:${event.source})|(?:${event.source}).*(?:${future.source})|^(?:通知|温馨提示|提醒|公告)|提示[:：]|提醒一下|安全主题|板报|大家注意|请注意|请知悉|各位老师|全体|各班|(?:菜谱|食谱|菜单).{0,4}(?:改|换|调整)|年检|停用|(?:已经?)?发(?:到)?群里了|群公告|响了?(?:别|不用|不要)慌|(?:不用|别|不要)紧张|改(?:到|成|在)?(?:[上下]午|明天|后天|下周|周[一二三四五六日天])`,
);
/** Also advice after the fact: "昨天跳闸是同时开了两个取暖器 今天别这样了", "大家记住". */
const reminder =
  /^(?:记得|别忘了|别忘记|走之前|下班前|离开前|离园前|放学前|睡前|出门前|晚上别忘|请大家|麻烦大家|大家|各位)|别忘了|记得|别让|看好|小心点|注意安全|千万别|当心|谨防|请绕行|放高处|别(?:挨着|推进|碰|靠近|再)|不要(?:去)?碰|一定要|说话小声|多穿|(?:都|要|记得)(?:关好|锁好|收好|盖好|关上)|别迟到|请大家|请各位|记住|下次(?:别|不要)|别这样/;
/**
 * Strong signs of talk between people: a question here is never the start of a report. Among them reassurance
 * (大家放心, 放心用), asking people's opinion (大家觉得…好看), borrowing (借我用), paperwork rules (先报物业审批, 报备), asking who did it (哪个班的学生, 哪位老师的车)
 * cars blocking a way (被私家车堵了) and people's habits (老把治疗车停在走廊): people's matters, not a fault for logistics.
 */
const plainlyToPeople =
  /^(?:每天|每周|每次|以后|今后)\S{0,12}(?:把|要|记得|请)|(?:去年|上回|上次|那几天|那天|以前|上学期)(?!.{0,8}(?:又|还是))|会(?:跳闸|漏|坏|堵|烧)的|不然|否则|预算|打算|计划|准备换|要换新的|一起(?:吃|去|走)|[找去来].{1,4}(?:补办|办理|领|登记)|回家讲|(?:师傅|阿姨|老师|园长|主任|医生|家长|保安|同事)说.{0,6}(?:下周|明天|后天|到时候)|又来电|来电了|来水了|恢复了|在谁那|谁有|谁拿|谁借|谁知道|谁的(?:车|电动车)|报给我|在群里发|数量报|到时候.{0,8}再报|(?:有问题|坏了)(?:及时|再)报修?|及时报修|我是新来的|借我用|还有多的|维修中|跟(?:孩子们?|家长们?|大家)说|有家长问|家长问|家属问|孩子问我|来着|没说错吧|是不是(?:要|不能|可以)|谁的|谁负责|规定|先报\S{0,4}审批|(?:大家|你们)觉得|借我|借一下|借用|老是?把\S{1,6}(?:停|放|堆)在|(?:大家|可以|请|家长)放心|放心(?:用|吧)|哪(?:个|位)\S{0,4}的(?:学生|孩子|小朋友|车|人)|哪位老师的|(?:私家车|电动车|汽车|的车|车辆|送菜车)\S{0,6}(?:堵|挡|停在|占)|被\S{0,4}车(?:堵|挡|占)|报修最多|一共.{0,6}(?:张|单)|以后.{0,16}(?:直接|在群里|先看)|是.{2,12}还是.{2,12}(?:换|买|管|负责|弄)|演练.{0,12}(?:表现|结束|顺利|很好|不错)|(?:换了|装了|新装|新换|装好)了?新?的?.{0,12}(?:舒服|不错|挺好|挺大|好用|方便|漂亮)/;
const toPeople =
  /谁(?:有|知道|拿|借|值班|在|看见|见过)|在谁那|哪位(?:老师|同事)?(?:有|知道)|有没有人(?:有|知道|看见)|放哪|在哪|借一下|借我|有没有.{1,6}$|哪个(?:班|老师|人)/;
const praise = /点赞|真快|真好|真棒|辛苦了|谢谢|感谢|厉害|给力|太棒|好评如潮/;
