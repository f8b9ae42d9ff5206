// `houqin unread [--json] [--limit N]`: the messages the bot could not read, and reports people said 不是 to,
// newest first, with the words the parser did not know — what a manager would add to the site's vocabulary.
import { createParser } from '../commands/parser.js';
import { loadSettings, type Env } from '../config/load.js';
import { Roster } from '../domain/roster.js';
import { keys } from '../store/keys.js';
import { connect } from '../store/redis.js';
import { SideStore } from '../store/side.js';
import { defaultConfigPath } from './paths.js';

const usage = 'usage: houqin unread [--json] [--limit N]';

export async function unreadCommand(args: string[], env: Env, out: NodeJS.WritableStream): Promise<number> {
  const json = args.includes('--json');
  const limitAt = args.indexOf('--limit');
  const limit = limitAt >= 0 ? Number(args[limitAt + 1]) : 50;
  if (
    !Number.isInteger(limit) ||
    limit < 1 ||
    args.some((a, i) => a.startsWith('--') && a !== '--json' && i !== limitAt)
  ) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const settings = loadSettings(env, env.HOUQIN_CONFIG || defaultConfigPath());
  const redis = connect(settings.redis);
  try {
    const roster = new Roster(settings.config);
    const parser = createParser(settings.config);
    const items = await new SideStore(redis, keys(settings.config.redis.keyPrefix)).listUnread(limit);
    for (const u of items) {
      const words = parser.unknownWords(u.text);
      if (json) out.write(`${JSON.stringify({ ...u, name: roster.name(u.person), words })}\n`);
      else {
        const when = new Date(u.at).toISOString().slice(0, 16).replace('T', ' ');
        const why = u.reason === 'declined' ? `说不是（猜的是${u.guess ?? '报修'}）` : '没看懂';
        out.write(
          `#${u.id} ${when} ${roster.name(u.person)} ${why}：${u.text}${words.length ? `   生词：${words.join('、')}` : ''}\n`,
        );
      }
    }
    if (!json && !items.length) out.write('没有未识别的消息。\n');
    return 0;
  } finally {
    redis.disconnect();
  }
}
