// Places that are not in the config: "三楼", "二楼男厕所", "会议室", "5病区", "3号楼2单元", "10-1-3003". A report
// names where as often as what; a place the config does not know is still worth passing on as written. The
// words are data below; the config's own places are matched first (places.ts).

/** Rooms and areas of kindergartens, schools, dorms, hospitals and housing estates. */
const rooms = [
  '开水间',
  '垃圾站',
  '垃圾房',
  '配电间',
  '教学楼',
  '综合楼',
  '行政楼',
  '实验楼',
  '图书馆',
  '会议室',
  '多媒体教室',
  '教室',
  '办公室',
  '宿舍楼',
  '宿舍',
  '寝室',
  '病房',
  '病区',
  '护士站',
  '护理站',
  '治疗室',
  '抢救室',
  '值班室',
  '污物间',
  '处置室',
  '换药室',
  '配药室',
  '走廊',
  '楼道',
  '过道',
  '走道',
  '楼梯间',
  '楼梯口',
  '大厅',
  '门厅',
  '大堂',
  '男生楼',
  '女生楼',
  '新生儿病房',
  '澡堂',
  '男厕所',
  '女厕所',
  '男厕',
  '女厕',
  '厕所',
  '卫生间',
  '洗手间',
  '淋浴间',
  '浴室',
  '水房',
  '开水房',
  '食堂',
  '饭厅',
  '餐厅',
  '厨房',
  '仓库',
  '库房',
  '车库入口',
  '车库出口',
  '车库',
  '地库',
  '停车场',
  '操场',
  '后院',
  '前院',
  '院子',
  '大门口',
  '门口',
  '后门',
  '侧门',
  '东门',
  '西门',
  '南门',
  '北门',
  '电梯口',
  '电梯间',
  '电梯厅',
  '机房',
  '实验室',
  '图书馆',
  '体育馆',
  '礼堂',
  '报告厅',
  '阳台',
  '天台',
  '楼顶',
  '地下室',
  '财务室',
  '美工室',
  '音乐室',
  '舞蹈室',
  '科学室',
  '住院部',
  '住院楼',
  '门诊楼',
  '门诊',
  '药房',
  '收费处',
  '挂号处',
  '检验科',
  '放射科',
  '手术室',
  '员工通道',
  '通道',
  '花园',
  '沙池',
  '大礼堂',
  '传达室',
  '宿舍楼道',
  '台阶',
  '休息室',
  '更衣室',
  '洗衣房',
  '晾衣房',
  '锅炉房',
  '泵房',
  '配电房',
  '教工厕所',
  '教工宿舍',
  '学生宿舍',
  '公寓',
  '楼梯',
  '天井',
  '连廊',
  '架空层',
  '大院',
  '校园',
  '园区',
  '小区',
  '篮球场',
  '足球场',
  '跑道',
  '电教室',
  '微机室',
  '计算机房',
  '档案室',
  '保安室',
  '值班岗',
  '病案室',
  '病理科',
  '检查室',
  '候诊区',
  '车棚',
  '岗亭',
  '游泳池',
  '泳池',
  '种植园',
  '服务中心',
  '水泵房',
  '沙水区',
  '玩具区',
  '游戏区',
  '阅读区',
  '等候区',
  'icu',
  '顶楼',
  '露台',
  '平台',
];
const roomPattern = [...rooms].sort((a, b) => b.length - a.length).join('|');

const num = '[0-9一二三四五六七八九十两]+';
/** Characters no room name has: particles, pronouns, time words, verbs of the complaint around it. */
const notInRoomName =
  '一二三四五六七八九十两的了吗呢吧啊呀也都还又就在有是我你他她它们这那个些里上下一不没很太好要给把被和跟与及或请麻烦谢看说去来到从今明昨早午晚刚天点钟,.!?:;、，。！？：；';
/** "时间", "中间": words that end like a room and are none. */
const notRooms = /(?:时|中|期|之|空|瞬|夜|课)间$|^科室$/;
const knownRoomAtEnd = new RegExp(`(?:${[...rooms].sort((a, b) => b.length - a.length).join('|')})$`);
/** The parts a written place is made of, in the order people chain them. */
const parts = [
  `[a-z]?\\d+(?:-\\d+){1,3}(?:单元|室|号)?`, // 8-2, 10-1-3003, B2-105, 20-2单元
  `[一二三四五六七八九]期(?:\\d+号(?:楼)?)?`, // 一期43号
  `\\d+弄\\d+号\\d*`, // 5511弄236号502
  `(?:\\d+|[一二三四五六七八九十]+)号(?:宿舍|教学|住院|办公|实验|门诊)?楼`, // 3号楼, 2号宿舍楼
  `\\d+#楼`, // 11#楼
  `(?:\\d+|[a-z])(?:栋|幢|座)`, // 3栋, B栋
  `[东西南北中]区`,
  `[a-z]区`,
  `[a-z]座`,
  `(?:\\d+|[一二三四五六七八九十]+|[东西南北])单元`,
  `负?${num}(?:楼|层)`, // 三楼, 4层, 负一楼
  `(?:高|初)[一二三](?:\\(\\d+\\)|\\d+|${num})班`, // 高二(3)班, 初一3班
  `[一二三四五六][(（]\\d{1,2}[)）]班`, // 五(2)班
  `(?<![小中大托一二三四五六\\d])\\d{1,2}班`, // 3班 (not 中2班, a config alias)
  `${num}(?:病区|号病房|病房)`,
  `\\d+(?:号)?床(?![板垫单架])`, // 12床 (not 515床板: a room's bed board)
  `[一二三四五六]年级(?:${num}班)?`,
  `[东西南北][头侧边面]`,
  `b\\d{1,2}`, // 地库B1
  `(?:入口|出口|门口|楼下|楼上|旁边|对面)`,
  `(?:${roomPattern})`,
  `\\d{3,4}(?:室|房间|房|号)?`, // a room number after a building: 2号宿舍楼302; 302房间 alone
  // Any other room or area by its ending: 美术室, 资料室, 配餐间, 茶水间, 输液区, 家属等候区 (freePlace drops it when a
  // known room ends it).
  `[^\\s\\d${notInRoomName}]{2,5}(?:室|间|厅|馆|区)`,
];
/** Who or what a room belongs to, kept with it: 男生宿舍, 教师休息室, 家属等候区, 急诊大厅, 地下车库, 心内科8床. */
const qualifier = `(?:男生|女生|教师|教工|职工|学生|员工|家属|急诊|门诊|地下|[^\\s\\d${notInRoomName}]{1,2}科)`;
/** The chain without the room-by-its-ending part: what a place must start with to be more than a guess. */
const known = new RegExp(`${qualifier}?(?:${parts.slice(0, -1).join('|')})`, 'y');
const chain = new RegExp(`${qualifier}?(?:${parts.join('|')})(?:的?(?:${parts.join('|')}))*`, 'y');
/** Words that only add to a place before them ("地库入口", "药房门口"); alone they say nothing. A basement level with
 * more after it ("B2停车场", "B2-105") says where by itself. */
const suffixOnly = /^(?:入口|出口|门口|楼下|楼上|旁边|对面|b\d{1,2}$)/;
/**
 * A building by its use before a floor or a room ("实训楼二楼", "外科楼5楼", "医技楼302"): 楼 alone ends too many other
 * words to be a part of its own, so it is only looked for in front of a floor or a room number.
 */
const usedBuilding = new RegExp(`^[^\\s\\d${notInRoomName}]{2}楼$`);
const floorOrRoom = /^(?:负?[0-9一二三四五六七八九十两]+(?:楼|层)|\d{3,4})/;
/** A lone room number is not a place ("302" alone could be anything). */
const weakStart = /^\d{3,4}(?:室|房|号)?$/;
/** A floor where something stopped or fell is not where the problem is: "停在19楼", "卡在两层中间", "流了一楼道". */
const stateFloor = /^[0-9一二三四五六七八九十两]+(?:楼|层)$/;
const stateBefore = /(?:在|到|了|坠|掉)$/;

/**
 * The place as written, or undefined: a chain of place parts as long as it goes ("2号宿舍楼三楼", "5病区8床"),
 * skipping lone numbers and floors that describe what happened rather than where. A chain with a building or room
 * number wins over a bare room word ("我们宿舍的热水器 … 5号宿舍楼204" is 5号宿舍楼204); otherwise the first.
 */
export function freePlace(text: string): string | undefined {
  const lower = text.toLowerCase();
  let first: string | undefined;
  for (let i = 0; i < lower.length; i++) {
    chain.lastIndex = i;
    const m = chain.exec(lower);
    if (!m) continue;
    const s = m[0];
    // Not from the middle of a number ("19楼" is not "9楼"), not a lone room number, not a floor where something stopped.
    if (/\d/.test(lower[i - 1] ?? '') && /^\d/.test(s)) continue;
    const building = i >= 3 && floorOrRoom.test(s) && usedBuilding.test(lower.slice(i - 3, i));
    if (
      !building &&
      (weakStart.test(s) || suffixOnly.test(s) || (stateFloor.test(s) && stateBefore.test(lower.slice(0, i))))
    )
      continue;
    // A room by its ending alone: not a word that only ends like one, and not when a known room ends it (the words
    // before "办公室" are more often "老师" or "今天" than part of its name).
    known.lastIndex = i;
    const guessed = !known.test(lower);
    if (guessed && (notRooms.test(s) || knownRoomAtEnd.test(s))) continue;
    const found = trimSides(text.slice(building ? i - 3 : i, i + s.length).replace(/的/g, ''));
    // A building or unit code says where better than a room word; a bed number alone does not.
    if (/\d/.test(s) && !/^\d+号?床$/.test(s)) return found;
    first ??= found;
    i += s.length - 1;
  }
  return first;
}

/**
 * Where something is beside or in front of a place, the place says where: "手术室门口" → 手术室, "5病区8床旁边" → 5病区8床,
 * "护士站旁边治疗室" → 治疗室 (what comes after 旁边 is the place meant).
 */
function trimSides(place: string): string {
  const after = /^.+?(?:旁边|隔壁|对面)(.{2,})$/.exec(place)?.[1];
  const p = after && !/^(?:门口|旁边|对面)$/.test(after) ? after : place;
  return p.replace(/(?<=.{2})(?:门口|旁边|边上)$/, '');
}

/** Building-unit codes and numbered buildings: these numbers are places, never task numbers. */
export const buildingCode =
  /[a-z]?\d+(?:-\d+){1,3}|[一二三四五六七八九]期\d+号|\d+弄\d+号|\d+号(?:宿舍|教学|住院|办公|实验|门诊)?楼|\d+(?:栋|幢|单元)/gi;
