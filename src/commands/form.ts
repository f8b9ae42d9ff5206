// Multi-line forms teachers copy from a notice and fill in:
//   报修
//   地点：中二班
//   问题：厕所漏水
//   紧急：是
// Labels may also follow each other on one line ("地点:中二班 问题:漏水"); after normalize every colon is ":".
import { trimPunct } from './normalize.js';

export type FormField = 'place' | 'text' | 'kind' | 'urgent' | 'rating' | 'ignored';

const labels: Record<FormField, string[]> = {
  place: ['地点', '位置', '区域', '地方', '班级', '教室', '场所', '报修地点', '报修位置'],
  text: [
    '问题',
    '描述',
    '内容',
    '故障',
    '情况',
    '问题描述',
    '故障描述',
    '故障现象',
    '报修内容',
    '具体情况',
    '说明',
    '备注',
    '设备',
    '设施',
    '物品',
    '名称',
  ],
  kind: ['类型', '类别', '分类', '报修类型'],
  urgent: ['紧急', '是否紧急', '紧急程度', '加急', '优先级'],
  rating: ['评分', '打分', '星级'],
  // Filled in by habit; the bot knows the sender already.
  ignored: ['报修人', '联系人', '电话', '联系电话', '手机', '姓名', '时间', '日期', '班主任'],
};

const fieldOf = new Map(Object.entries(labels).flatMap(([f, ls]) => ls.map((l) => [l, f as FormField] as const)));
const labelAlternatives = [...fieldOf.keys()].sort((a, b) => b.length - a.length).join('|');
const labelRe = new RegExp(`(^|[\\s,;.、。])(${labelAlternatives})\\s*:`, 'g');
/** On a form of several lines the colon is often left out: "地点 大二班\n问题 门把手松了". */
const lineLabelRe = new RegExp(`(^|\\n)(${labelAlternatives}) `, 'g');

export interface Form {
  /** Text before the first label: a title like "报修" / "【保洁】", or the problem itself. */
  header: string;
  fields: Partial<Record<FormField, string>>;
}

/**
 * A form, or undefined for ordinary text. One label is enough on a multi-line message or when the
 * message starts with 地点/问题; a single label inside a sentence ("…原因:不知道") is just text.
 */
export function readForm(msg: string): Form | undefined {
  const colonHits = [...msg.matchAll(labelRe)];
  const lineHits = msg.includes('\n') ? [...msg.matchAll(lineLabelRe)] : [];
  const matches = colonHits.length >= lineHits.length ? colonHits : lineHits.length >= 2 ? lineHits : colonHits;
  const hits = matches.map((m) => ({
    field: fieldOf.get(m[2])!,
    start: m.index + m[1].length,
    valueStart: m.index + m[0].length,
  }));
  if (!hits.length) return undefined;
  const startsWithLabel = hits[0].start === 0 && (hits[0].field === 'place' || hits[0].field === 'text');
  if (hits.length < 2 && !msg.includes('\n') && !startsWithLabel) return undefined;
  const fields: Form['fields'] = {};
  hits.forEach((h, i) => {
    const value = trimPunct(msg.slice(h.valueStart, hits[i + 1]?.start ?? msg.length).replace(/\n/g, ' '));
    if (value) fields[h.field] = fields[h.field] ? `${fields[h.field]} ${value}` : value;
  });
  return { header: trimPunct(msg.slice(0, hits[0].start).replace(/\n/g, ' ')), fields };
}
