// Which configured chat (chats[].id) a group message came from: each channel's own chat id is mapped to one in the
// config (config/platform-ids.ts reads the mapping).
import type { Envelope } from '../channels/envelope.js';
import { chatIds } from '../config/platform-ids.js';
import type { Config } from '../config/schema.js';

export function chatOf(config: Config, env: Pick<Envelope, 'channel' | 'chat'>): string | undefined {
  if (env.chat.type !== 'group') return undefined;
  return config.chats.find((c) => chatIds(c).some((x) => x.channel === env.channel && x.id === env.chat.id))?.id;
}
