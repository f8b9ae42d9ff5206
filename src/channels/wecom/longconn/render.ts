// Platform-neutral messages → the bodies of aibot_respond_msg / aibot_send_msg (wecom.md §3.7). Text goes as markdown:
// aibot_send_msg refuses msgtype text (errcode 40008, wecom.md §7.10), and one shape for both keeps a reply that falls
// back to a proactive send unchanged. Pictures need a media_id first (upload.ts); the caller passes it in.
import type { Message } from '../../../domain/messages.js';
import { fitBytes } from '../../../util/text.js';
import { buttonCard, cardAsMarkdown } from '../render.js';

/** Markdown content of the AI bot: at most 20 480 bytes (wecom.md §3.4). */
const MARKDOWN_BYTES = 20_480;

export function markdown(text: string): Record<string, unknown> {
  return { msgtype: 'markdown', markdown: { content: fitBytes(text, MARKDOWN_BYTES) } };
}

/** The body for a message; `mediaId` for a picture already uploaded, `taskId` for a card (unique per bot). */
export function longconnBody(m: Message, o: { taskId: string; mediaId?: string }): Record<string, unknown> {
  switch (m.type) {
    case 'text':
    case 'markdown':
      return markdown(m.text);
    case 'card':
      // A button card needs its task_id to come back in the click (wecom.md §4.2).
      return m.card.buttons.length
        ? { msgtype: 'template_card', template_card: buttonCard(m.card, o.taskId) }
        : markdown(cardAsMarkdown(m.card));
    case 'image':
    case 'photo':
      return o.mediaId ? { msgtype: 'image', image: { media_id: o.mediaId } } : markdown(m.alt);
  }
}
