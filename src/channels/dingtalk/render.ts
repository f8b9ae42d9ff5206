// Platform-neutral messages → DingTalk robot messages (https://open.dingtalk.com/document/orgapp/robot-message-type):
// a sessionWebhook takes `{msgtype, text|markdown, at}`, the robot API a `msgKey` and a JSON-string `msgParam`.
// Buttons cannot call back without a card template (a later step), so a card becomes markdown that names the text
// command each button stands for ("回复 接单 12").
import type { Button, Card, Message } from '../../domain/messages.js';
import { fitBytes } from '../../util/text.js';
import type { Parcel } from './pace.js';

const MAX_BYTES = 12_000; // under the 15 000-byte msgParam limit with the JSON around it

/** What to type instead of tapping a button. */
export function commandFor(b: Button): string | undefined {
  const m = /^(claim|accept|reopen):(\d+)$/.exec(b.key);
  if (m) return `${{ claim: '接单', accept: '验收', reopen: '没修好' }[m[1] as 'claim' | 'accept' | 'reopen']} ${m[2]}`;
  if (b.key === 'ask:yes') return '是';
  if (b.key === 'ask:no') return '不是';
  if (b.key.startsWith('noop')) return undefined;
  return b.text;
}

/** DingTalk markdown: a line break needs a blank line or two trailing spaces, so lines are joined by "\n\n". */
export function cardMarkdown(c: Card): { title: string; text: string } {
  const lines = [`**${c.title}**`];
  if (c.description) lines.push(...c.description.split('\n'));
  for (const f of c.fields) lines.push(`${f.label}：${f.value}`);
  const commands = c.buttons.map(commandFor).filter((x): x is string => !!x);
  if (commands.length) lines.push(`回复 ${commands.map((x) => `「${x}」`).join(' 或 ')}`);
  else if (c.buttons[0]) lines.push(c.buttons[0].text);
  return { title: c.title, text: fitBytes(lines.join('\n\n'), MAX_BYTES) };
}

function titleOf(text: string): string {
  const first = text.split('\n').find((l) => l.trim()) ?? '后勤';
  return (
    Array.from(first.replace(/[#*>`]/g, '').trim())
      .slice(0, 20)
      .join('') || '后勤'
  );
}

/** The markdown form of any message (pictures go as their description in this step). */
export function asMarkdown(m: Message): { title: string; text: string } {
  switch (m.type) {
    case 'card':
      return cardMarkdown(m.card);
    case 'markdown':
      return { title: titleOf(m.text), text: fitBytes(m.text.replace(/\n/g, '\n\n'), MAX_BYTES) };
    case 'text':
      return { title: titleOf(m.text), text: fitBytes(m.text, MAX_BYTES) };
    case 'image':
    case 'photo':
      return { title: titleOf(m.alt), text: fitBytes(m.alt, MAX_BYTES) };
  }
}

/** sessionWebhook body; `atUserIds` (staffIds) notify people in a group. */
export function webhookBody(m: Message, atUserIds: string[]): Record<string, unknown> {
  const at = atUserIds.length ? { at: { atUserIds, isAtAll: false } } : {};
  if (m.type === 'text') {
    const mentions = atUserIds.length ? `\n${atUserIds.map((u) => `@${u}`).join(' ')}` : '';
    return { msgtype: 'text', text: { content: fitBytes(m.text, MAX_BYTES) + mentions }, ...at };
  }
  return { msgtype: 'markdown', markdown: asMarkdown(m), ...at };
}

/**
 * A message as a custom robot may merge it with others (pace.ts): markdown, with its mentions written as "@staffId"
 * in the text and listed in `at` — DingTalk wants both (dingtalk.md §3.2).
 */
export function webhookParcel(m: Message, atUserIds: string[]): Parcel {
  const mentions = atUserIds.length ? `\n\n${atUserIds.map((u) => `@${u}`).join(' ')}` : '';
  if (m.type === 'text') {
    const text = fitBytes(m.text, MAX_BYTES).replace(/\n/g, '\n\n');
    return { title: titleOf(m.text), text: text + mentions, at: atUserIds };
  }
  const md = asMarkdown(m);
  return { ...md, text: md.text + mentions, at: atUserIds };
}

/** Separates merged messages: a rule between them reads as "next message" in the DingTalk client. */
export const MERGE_SEPARATOR = '\n\n---\n\n';

/** Several messages for one robot as one markdown body, in the order they were queued; every mention kept. */
export function mergedWebhookBody(batch: Parcel[]): Record<string, unknown> {
  const at = [...new Set(batch.flatMap((p) => p.at))];
  const title = Array.from(`${batch[0].title}（共${batch.length}条）`).slice(0, 30).join('');
  return {
    msgtype: 'markdown',
    markdown: { title, text: batch.map((p) => p.text).join(MERGE_SEPARATOR) },
    ...(at.length ? { at: { atUserIds: at, isAtAll: false } } : {}),
  };
}

/** A picture by the media_id media/upload gave (or a URL): `sampleImageMsg` (dingtalk.md §6.1). */
export function imageMessage(photoURL: string): { msgKey: string; msgParam: string } {
  return { msgKey: 'sampleImageMsg', msgParam: JSON.stringify({ photoURL }) };
}

/** A picture that cannot go as one: its words, and why, so nobody looks for a picture that is not there. */
export function pictureInWords(m: Extract<Message, { type: 'image' | 'photo' }>, why: string): Message {
  return { type: 'markdown', text: `📷 ${m.alt}\n（${why}）` };
}

/** Robot API `msgKey` and `msgParam` (a JSON string). */
export function apiMessage(m: Message): { msgKey: string; msgParam: string } {
  if (m.type === 'text')
    return { msgKey: 'sampleText', msgParam: JSON.stringify({ content: fitBytes(m.text, MAX_BYTES) }) };
  return { msgKey: 'sampleMarkdown', msgParam: JSON.stringify(asMarkdown(m)) };
}
