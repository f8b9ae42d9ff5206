// Reports (报修 / 保洁 / 餐评): from a command, from a bare problem sentence, or from a form.
// Every report carries `urgent`, so the domain never has to guess what a missing flag means.
import type { Kind } from '../config/schema.js';
import type { ParseContext } from './context.js';
import type { Form } from './form.js';
import { freePlace } from './free-place.js';
import type { Intent } from './intent.js';
import { say } from './messages.js';
import { trimPunct } from './normalize.js';
import { takeRating, takeTrailingRating, type Taken } from './numbers.js';
import { haste } from './vocabulary/faults.js';

interface Draft {
  kind: Kind;
  text: string;
  /** The words judged for urgency: the text plus a title or prefix like "紧急报修", never form labels. */
  said: string;
  /** A form's 地点 value; matched against the places, and kept in the text when it matches none. */
  placeText?: string;
  /** A form's 紧急 field said yes. */
  markedUrgent?: boolean;
  rating?: Taken<number>;
  trade?: string;
  /** The text with sound-alike typos corrected (水笼头 → 水龙头), for the trade; the task keeps what was typed. */
  heard?: string;
}

/** "报修 小一班 空调不制冷" with the command word already removed: `body` is "小一班 空调不制冷". */
export function reportFromCommand(kind: Kind, body: string, said: string, ctx: ParseContext): Intent {
  if (kind !== 'meal') return finish({ kind, text: trimPunct(body), said }, ctx);
  const lead = takeRating(trimPunct(body));
  const rating = lead.value !== undefined || lead.bad ? lead : takeTrailingRating(lead.rest);
  return finish({ kind, text: trimPunct(rating.rest), said, rating }, ctx);
}

/**
 * "小一班空调坏了", "大门口有呕吐物", "门口电子屏黑了": a report when its words say something is wrong. A typo by sound
 * is read as the word it sounds like. A fault with nothing to say what or where ("又坏了") is `unsure`: the bot asks.
 */
export function reportFromSentence(line: string, ctx: ParseContext): Intent | undefined {
  const c = ctx.classifier;
  let heard = line;
  let kind = c.detectKind(line);
  const corrected = ctx.sound.correct(line);
  if (corrected !== line) {
    const again = c.detectKind(corrected);
    if (again) [kind, heard] = [again, corrected];
  }
  if (!kind) return undefined;
  const anchored = c.read(heard).trades.length > 0 || !!ctx.places.match(line) || !!freePlace(line);
  // "收到，马上处理": haste with nothing broken and nothing named is no report at all; nor is haste at a place with no
  // thing named ("快来看 操场上有只小猫"): a place says where, not what is wrong.
  if (kind === 'repair' && !c.isBroken(c.calm(heard)) && (!anchored || !c.read(heard).trades.length)) {
    if (!anchored || !c.isBroken(heard.replace(haste, ' '))) return undefined;
  }
  const intent = finish({ kind, text: trimPunct(line), said: heard, heard }, ctx);
  return anchored || kind !== 'repair' || intent.invalid ? intent : { ...intent, unsure: true };
}

/** A 紧急 answer meaning yes. Anything else ("否", "一般") leaves the danger words to decide. */
const yes = /^(是|急|紧急|很急|特急|加急|高|yes|y|true|1)$/i;

/** A title line, not a description: "报修", "【紧急报修】", "保洁申请", "餐评". */
const title = /^[【[(]?(紧急|加急)?(报修|保修|维修|报障|保洁|清洁|餐评|评餐|膳食反馈)(单|申请|表)?[】\])]?$/;

export function reportFromForm(form: Form, ctx: ParseContext): Intent {
  const { header, fields } = form;
  const typeKind = fields.kind ? kindFromTitle(fields.kind, ctx) : undefined;
  // A header that is more than a title ("小一班空调坏了\n紧急:是") is part of the description.
  const titled = title.test(header);
  const written = [titled ? '' : header, fields.text ?? ''].filter(Boolean).join(' ');
  const kind =
    typeKind ?? (titled ? kindFromTitle(header, ctx) : undefined) ?? ctx.classifier.detectKind(written) ?? 'repair';
  const rating =
    fields.rating !== undefined ? takeRating(fields.rating) : kind === 'meal' ? takeTrailingRating(written) : undefined;
  const text = fields.rating === undefined && rating ? rating.rest : written;
  return finish(
    {
      kind,
      text,
      said: `${header} ${text}`,
      placeText: fields.place,
      markedUrgent: yes.test(fields.urgent ?? ''),
      rating,
      trade: fields.kind && !typeKind ? ctx.classifier.detectTrade(fields.kind) : undefined,
    },
    ctx,
  );
}

function kindFromTitle(s: string, ctx: ParseContext): Kind | undefined {
  const own = ctx.addedKinds.find((k) => s.includes(k.name) || k.commands.some((c) => s.includes(c)));
  if (own) return own.id;
  if (/餐|膳|伙食|饭菜/.test(s)) return 'meal';
  if (/保洁|清洁|卫生|打扫/.test(s)) return 'cleaning';
  if (/报修|保修|维修|修理|报障/.test(s)) return 'repair';
  return undefined;
}

function finish(d: Draft, ctx: ParseContext): Intent {
  const formPlace = d.placeText !== undefined ? ctx.places.match(d.placeText) : undefined;
  const text = trimPunct(d.placeText !== undefined && !formPlace ? `${d.placeText} ${d.text}` : d.text);
  const place = formPlace?.place ?? placeOf(d.placeText ?? text, ctx);
  const rating = d.kind === 'meal' ? d.rating : undefined;
  // A prefilled "紧急:否" must not hide smoke or a hair in the soup: danger words still make it urgent.
  const urgent = d.markedUrgent === true || ctx.classifier.isUrgent(d.said, d.kind);
  const intent: Intent = {
    intent: 'report',
    kind: d.kind,
    trade: d.kind === 'repair' ? (d.trade ?? tradeOf(d.heard ?? text, place, ctx)) : undefined,
    place,
    urgent,
    rating: rating?.value,
    text: text || undefined,
  };
  const ex = ctx.examples;
  const described = /\p{L}/u.test(ctx.places.strip(text).replace(/[\d\s]/g, ''));
  if (rating?.bad) return { ...intent, invalid: true, error: say.badRating(ex('meal')) };
  if (d.kind === 'meal' && !described && rating?.value === undefined)
    return { ...intent, invalid: true, error: say.needMealComment(ex('meal')) };
  // A site's own kind says what is wanted by itself: "医废收运 5病区" needs only the place.
  const added = ctx.addedKinds.find((k) => k.id === d.kind);
  if (added && !described) {
    return place
      ? { ...intent, text: trimPunct(d.said) || undefined }
      : { ...intent, invalid: true, error: say.needPlace(ex(added.id)) };
  }
  if (d.kind !== 'meal' && !described) {
    return {
      ...intent,
      invalid: true,
      error: say.needProblem(ex(d.kind === 'cleaning' ? 'cleaning' : 'repair', undefined, place)),
    };
  }
  return intent;
}

const leadingRoom = /^(\d{3,4})(?=\p{Script=Han})(?![号单楼层栋]|床(?![板垫单架]))/u;

/** A hospital bed's number ("12床"); a kindergarten's bed is "3号床". */
const bedNumber = /\d+床/g;

/** The trade of the thing, not of the place: "大门的门禁坏了" is the access control's, though 大门 is also a door. */
function tradeOf(text: string, place: string | undefined, ctx: ParseContext): string | undefined {
  const c = ctx.classifier;
  const span = ctx.places.match(text) ?? (place ? { index: text.indexOf(place), length: place.length } : undefined);
  if (span && span.index >= 0) {
    const without = text.slice(0, span.index) + ' ' + text.slice(span.index + span.length);
    // "5病区12床呼叫器不响": the bed's number says where, like the ward; the call bell is what is broken.
    const trade = c.detectTrade(without.replace(bedNumber, ' ')) ?? c.detectTrade(without);
    if (trade) return trade;
  }
  return c.detectTrade(text);
}

/**
 * The config's place when the text names one; a place written with a building or room code wins over it, and so does a
 * longer place that contains the config's word ("7号楼312门口" is not the kindergarten's 大门, "药房门口" neither).
 */
function placeOf(text: string, ctx: ParseContext): string | undefined {
  const known = ctx.places.match(text);
  // "418窗户玻璃碎了": a report that starts with a room number and goes straight on to the thing names the room (a task
  // number never gets here: it was read as a task step first).
  const free = freePlace(text) ?? (known ? undefined : leadingRoom.exec(text)?.[1]);
  if (!known) return free;
  if (!free) return known.place;
  const word = text.slice(known.index, known.index + known.length);
  // "药房门口" holds a place besides the config's 门口; "大门口" is only the config's 大门 said another way.
  const besides = free.includes(word) && free !== word ? freePlace(free.replace(word, ' ')) : undefined;
  // A written place that starts with the config's ("5病区3床" where 5病区 is configured) is that place: its name routes.
  if (free.startsWith(word)) return known.place;
  // "输液室门口的灭火器": the config's 门口 is only the side of a written room (freePlace leaves the side off).
  if (text.includes(free + word) && !/\d/.test(word)) return free;
  // "二楼楼梯口" where 楼梯 is configured: a floor says which part of the config's place, not another place.
  if (besides && /^[一二三四五六七八九十两负]+(?:楼|层)$/.test(besides)) return known.place;
  return /\d/.test(free) || besides ? free : known.place;
}
