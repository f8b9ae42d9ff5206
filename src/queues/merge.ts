// Several replies to one message become one: the WeCom AI bot's response_url can be used only once,
// and a teacher would rather read one message than three.
import type { Outgoing } from '../domain/messages.js';

export function mergeReplies(messages: Outgoing[]): Outgoing[] {
  const out: Outgoing[] = [];
  const byHandle = new Map<string, Outgoing>();
  for (const m of messages) {
    if (m.to.kind !== 'reply' || m.message.type !== 'text') {
      out.push(m);
      continue;
    }
    const first = byHandle.get(m.to.handle.envelopeId);
    if (first && first.message.type === 'text') {
      first.message = { type: 'text', text: `${first.message.text}\n\n${m.message.text}` };
      // Merged with something that carries work: no longer only informational.
      if (!m.info) delete first.info;
    } else {
      const copy: Outgoing = { to: m.to, message: { ...m.message }, ...(m.info ? { info: true } : {}) };
      byHandle.set(m.to.handle.envelopeId, copy);
      out.push(copy);
    }
  }
  return out;
}
