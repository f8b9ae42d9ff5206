// Which configured chat (chats[].id) a message came from: the console uses the configured ids themselves, WeCom and
// DingTalk their own ids, mapped in the config (chats[].wecom.chatId, chats[].dingtalk.conversationId).
import type { Envelope } from '../channels/envelope.js';
import type { Config } from '../config/schema.js';

export function chatOf(config: Config, env: Pick<Envelope, 'channel' | 'chat'>): string | undefined {
  if (env.chat.type !== 'group') return undefined;
  switch (env.channel) {
    case 'local':
      return config.chats.some((c) => c.id === env.chat.id) ? env.chat.id : undefined;
    case 'wecom':
      return config.chats.find((c) => c.wecom.chatId === env.chat.id)?.id;
    case 'dingtalk':
      return config.chats.find((c) => c.dingtalk.conversationId === env.chat.id)?.id;
  }
}
