// Platform-neutral messages → WeCom JSON, within the documented field limits (protocols/wecom.md §4.2, §5).
import { createHash } from 'node:crypto';
import { fitBytes } from '../../util/text.js';
import type { Card, Message } from '../../domain/messages.js';
import { sniffImage } from '../../store/media.js';

/** WeCom takes pictures as JPG or PNG only (media/upload and the group robot, wecom.md §5.1, §5.5). */
export function isJpgOrPng(raw: Buffer): boolean {
  const mime = sniffImage(raw);
  return mime === 'image/jpeg' || mime === 'image/png';
}

const chars = (s: string, max: number) =>
  Array.from(s).length > max
    ? Array.from(s)
        .slice(0, max - 1)
        .join('') + '…'
    : s;

const style = { primary: 1, default: 2, danger: 3, muted: 4 } as const;

/** task_id: unique per bot, [0-9a-zA-Z_-@], ≤128 bytes. */
export function cardTaskId(ref: string, unique: string): string {
  return `${ref}_${unique}`.replace(/[^0-9a-zA-Z_\-@]/g, '_').slice(0, 128);
}

export function buttonCard(card: Card, taskId?: string): Record<string, unknown> {
  const tc: Record<string, unknown> = {
    card_type: 'button_interaction',
    main_title: { title: chars(card.title, 26) },
    horizontal_content_list: card.fields
      .slice(0, 6)
      .map((f) => ({ keyname: chars(f.label, 5), value: chars(f.value, 26) })),
    button_list: card.buttons
      .slice(0, 6)
      .map((b) => ({ text: chars(b.text, 10), style: style[b.style ?? 'default'], key: b.key })),
  };
  if (card.description) tc.sub_title_text = chars(card.description, 112);
  if (taskId) tc.task_id = taskId;
  return tc;
}

/** App message/send body (without touser/agentid). */
export function appMessage(m: Message, taskId: string): Record<string, unknown> {
  switch (m.type) {
    case 'text':
      return { msgtype: 'text', text: { content: fitBytes(m.text, 2048) } };
    case 'markdown':
      return { msgtype: 'markdown', markdown: { content: fitBytes(m.text, 2048) } };
    case 'card':
      return { msgtype: 'template_card', template_card: buttonCard(m.card, taskId) };
    case 'image':
    case 'photo':
      // An app image needs a media_id from media/upload first (sender.ts does that and uses appImage).
      return { msgtype: 'markdown', markdown: { content: fitBytes(m.alt, 2048) } };
  }
}

/** App message/send body for an uploaded image (wecom.md §5.3, §5.5). */
export function appImage(mediaId: string): Record<string, unknown> {
  return { msgtype: 'image', image: { media_id: mediaId } };
}

/** The group robot takes an image inline: base64 of the raw bytes and their md5, at most 2 MB (wecom.md §5.1). */
export const WEBHOOK_IMAGE_MAX_BYTES = 2 * 1024 * 1024;

/** Group robot webhook body. Cards with buttons cannot be sent there: they become markdown. */
export function webhookMessage(m: Message, mentionIds: string[]): Record<string, unknown> {
  switch (m.type) {
    case 'text':
      return {
        msgtype: 'text',
        text: { content: fitBytes(m.text, 2048), ...(mentionIds.length ? { mentioned_list: mentionIds } : {}) },
      };
    case 'markdown':
      return { msgtype: 'markdown', markdown: { content: fitBytes(m.text, 4096) } };
    case 'card':
      return { msgtype: 'markdown', markdown: { content: fitBytes(cardAsMarkdown(m.card), 4096) } };
    case 'image': {
      const raw = Buffer.from(m.png, 'base64');
      if (raw.length > WEBHOOK_IMAGE_MAX_BYTES)
        return { msgtype: 'markdown', markdown: { content: fitBytes(m.alt, 4096) } };
      return { msgtype: 'image', image: { base64: m.png, md5: createHash('md5').update(raw).digest('hex') } };
    }
    case 'photo':
      // The bytes are in the media folder: sender.ts reads them and uses webhookImage when they fit.
      return { msgtype: 'markdown', markdown: { content: fitBytes(m.alt, 4096) } };
  }
}

/** The group robot's inline picture: JPG or PNG up to 2 MB (wecom.md §5.1); undefined when it does not fit. */
export function webhookImage(raw: Buffer): Record<string, unknown> | undefined {
  if (raw.length > WEBHOOK_IMAGE_MAX_BYTES || !isJpgOrPng(raw)) return undefined;
  return {
    msgtype: 'image',
    image: { base64: raw.toString('base64'), md5: createHash('md5').update(raw).digest('hex') },
  };
}

export function cardAsMarkdown(c: Card): string {
  const lines = [`**${c.title}**`];
  if (c.description) lines.push(c.description);
  for (const f of c.fields) lines.push(`> ${f.label}：${f.value}`);
  const actions = c.buttons.filter((b) => !b.key.startsWith('noop')).map((b) => `「${b.text}」`);
  if (actions.length) lines.push(`回复 ${actions.join(' / ')}`);
  else if (c.buttons[0]) lines.push(c.buttons[0].text);
  return lines.join('\n');
}

/** AI bot response_url body: markdown only in groups (wecom.md §3.6). */
export function responseUrlMessage(m: Message): Record<string, unknown> {
  // response_url carries markdown only, and only once: a picture becomes its description.
  const text = m.type === 'card' ? cardAsMarkdown(m.card) : m.type === 'image' || m.type === 'photo' ? m.alt : m.text;
  return { msgtype: 'markdown', markdown: { content: fitBytes(text, 20480) } };
}
