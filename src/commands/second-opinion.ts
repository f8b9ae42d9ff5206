// Where the rules are least sure, the learned model (learned.ts) gets a say. Measured on a corpus that neither had
// seen (bench/README.md), the model alone read the intent of more lines right than the rules; the rules read the
// fields (place, trade, task number) far better. So the rules keep every field, and the model only changes which
// reading applies, in these cases and no others:
//
// - the rules found nothing, and the model is sure it is a report → a report the bot *asks* about (unsure), never one
//   it opens unasked;
// - the rules read a report from a plain sentence, and the model is sure it is talk → the same, asked about (in a
//   group, where everyone reads the question, nothing when the model is surer still: `sureTalk`);
// - a worker or manager, and the model is sure it is a progress note, 完工 or 挂起 → that, on the task in hand;
// - a task number (written or quoted) or 那个, and the model is sure of a task step the rules did not find → that step;
// - the model is sure someone asks for their list or for help → that;
// - the rules read a note, and the model is sure it is talk → talk.
//
// A command word, a form, a danger report and a task step the rules read are never second-guessed.
import type { ParseContext } from './context.js';
import type { Intent } from './intent.js';
import type { IntentModel } from './learned.js';
import type { Who } from './plain-task.js';
import { findTaskRef, lastRef, type Quote } from './refs.js';
import { reportFromCommand, reportFromSentence } from './report.js';

/**
 * How sure the model must be to change what the rules made of a message. The parser's defaults (parser.ts) were
 * chosen for the mixed model (learned.ts: logistic regression with some naive Bayes) by five-fold
 * cross-validation on the development corpus (`npm run bench:parse -- --dev --cv`): `sure` 0.5, a reading more likely
 * than all others together (0.4 and 0.6 read fewer intents right or turned more talk into tasks); naive Bayes, sure
 * of everything, had 0.95.
 */
export interface SecondOpinion {
  model: IntentModel;
  sure: number;
  /**
   * How sure it must be that a report the rules read is talk for the bot to stay quiet instead of asking, per chat.
   * A question in a group is read by everyone, so there the model may silence it when it is sure enough (0.95, by the
   * same cross-validation: from 0.995 down to 0.93 it silenced no report more and asked 17 fewer questions on talk
   * at 0.95, in 11 696 lines; 0.9 silenced one report more for six questions fewer); in a 1:1 chat a needless
   * question costs little, so the bot always asks.
   */
  sureTalk?: { group?: number; dm?: number };
}

export interface Heard {
  /** The line as the rules read it (noise and line breaks gone). */
  line: string;
  /** The normalized message and quote, as the model was trained on them. */
  text: string;
  quoteText?: string;
  quote?: Quote;
  who: Who;
  role: string;
  chat?: 'group' | 'dm';
  /** The line starts with a command word (报修, 接单 …). */
  commanded: boolean;
}

const steps = new Set(['claim', 'done', 'accept', 'reopen', 'cancel', 'hold', 'nudge', 'status']);
const workerNotes = new Set(['note', 'done', 'hold']);

export function createReconsider(ctx: ParseContext, s: SecondOpinion) {
  /** The kinds of report this site takes (a guess of another kind is no use here). */
  const siteKinds = new Set<string>(Object.values(ctx.reportWords));

  /** A report to ask about, from the rules' reading or the kind the model expects; only with something to name. */
  function askAbout(line: string, kind: string | undefined): Intent | undefined {
    const report =
      reportFromSentence(line, ctx) ??
      (kind && siteKinds.has(kind) ? reportFromCommand(kind, line, line, ctx) : undefined);
    // A place, a thing or a fault the rules can name: "晨检仪" alone is nothing to ask about.
    const heard = ctx.sound.correct(line);
    const named =
      report?.kind !== 'repair' ||
      report?.place ||
      ctx.classifier.read(heard).trades.length ||
      ctx.classifier.isBroken(heard);
    return report && !report.invalid && named ? { ...report, unsure: true } : undefined;
  }

  /** What the rules made of a message, or the model's reading where it applies; undefined keeps the rules'. */
  return function reconsider(ruled: Intent | undefined, h: Heard): Intent | undefined {
    if (h.commanded || (ruled?.intent === 'report' && ruled.urgent)) return undefined;
    // A reporter's report that names what and where is as sure as the rules get: the model is not asked (it is the
    // dearest step of the parse, and on the development corpus it changed none of these for the better).
    const named =
      ruled?.intent === 'report' && !ruled.unsure && !!ruled.place && (!!ruled.trade || ruled.kind !== 'repair');
    if (h.who === 'reporter' && named) return undefined;
    const [top] = s.model.judge({ text: h.text, who: h.role, chat: h.chat, quote: h.quoteText });
    // With no Chinese to go by only a sure reading counts: "asdf qwer" comes out 37 % "mine", the English and pinyin
    // it learned ("list my jobs pls", "wode renwu") 97–99 %. (Naive Bayes alone had "asdf qwer" at 98.6 % and needed
    // 99.99 %; in the cross-validation any bar from 0.9 to 0.9999 read the same.)
    const bar = /\p{Script=Han}/u.test(h.line) ? s.sure : Math.max(s.sure, 0.9);
    if (top.p < bar || top.intent === ruled?.intent) return undefined;
    const staff = h.who === 'worker' || h.who === 'manager';
    const was = ruled?.intent ?? 'none';
    if (was === 'none' && top.intent === 'report') return askAbout(h.line, top.kind);
    // A sure reading the rules were unsure of is talk: nothing to ask about ("大家好 我是新来的水电工").
    if (ruled?.intent === 'report' && top.intent === 'none') {
      const quiet = top.p >= ((h.chat === 'dm' ? s.sureTalk?.dm : s.sureTalk?.group) ?? Number.POSITIVE_INFINITY);
      return ruled.unsure || quiet ? { intent: 'none' } : { ...ruled, unsure: true };
    }
    if (staff && workerNotes.has(top.intent) && (was === 'none' || was === 'report' || was === 'note')) {
      const task = h.quote?.task ?? findTaskRef(h.line)?.task;
      return { intent: top.intent as 'note' | 'done' | 'hold', text: h.line, ...(task ? { task } : {}) };
    }
    if (steps.has(top.intent) && (was === 'none' || was === 'report' || was === 'note')) {
      const task = h.quote?.task ?? findTaskRef(h.line)?.task;
      if (task) return { intent: top.intent as 'claim', task };
      // 那个 alone: a question about "that noise just now" is no status request, so only the steps a reporter takes.
      if (h.who !== 'worker' && top.intent !== 'status' && lastRef.test(h.line))
        return { intent: top.intent as 'claim', ref: 'last' };
    }
    if ((top.intent === 'mine' || top.intent === 'help') && was === 'none') return { intent: top.intent };
    if (was === 'note' && top.intent === 'none') return { intent: 'none' };
    return undefined;
  };
}
