// The config spells a person's and a chat's platform ids per platform (people[].wecom, chats[].dingtalk
// .conversationId …); the domain only ever asks "which person or chat has this id on this channel". This is the one
// place that knows how the two line up, so nothing under domain/ or commands/ has to name a platform.
import type { Chat, Person } from './schema.js';

/** A person's ids, one per channel they are on. The console (`local`) knows people by their config id. */
export function personIds(p: Person): { channel: string; id: string }[] {
  const ids = [{ channel: 'local', id: p.id }];
  if (p.wecom) ids.push({ channel: 'wecom', id: p.wecom });
  if (p.dingtalk) ids.push({ channel: 'dingtalk', id: p.dingtalk });
  return ids;
}

/** A group chat's id on each channel it is mapped to. The console uses the config's own chat id. */
export function chatIds(c: Chat): { channel: string; id: string }[] {
  const ids = [{ channel: 'local', id: c.id }];
  if (c.wecom.chatId) ids.push({ channel: 'wecom', id: c.wecom.chatId });
  if (c.dingtalk.conversationId) ids.push({ channel: 'dingtalk', id: c.dingtalk.conversationId });
  return ids;
}
