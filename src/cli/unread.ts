// `houqin unread [--json] [--limit N]`: the messages the bot could not read, and reports people said 不是 to,
// newest first, with the words the parser did not know — what a manager would add to the site's vocabulary.
import { createParser } from '../commands/parser.js';
import type { Env } from '../config/load.js';
import { loadSite, siteOption } from './site-arg.js';
import { Roster } from '../domain/roster.js';
import { keys } from '../store/keys.js';
import { connect } from '../store/redis.js';
import { SideStore } from '../store/side.js';

const usage = 'usage: houqin unread [--json] [--limit N]';

export async function unreadCommand(all: string[], env: Env, out: NodeJS.WritableStream): Promise<number> {
  const { args, id } = siteOption(all);
  const siteArgs = id === undefined ? [] : ['--site', id];
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
  const { settings, site, prefix } = loadSite(env, siteArgs);
  const redis = connect(settings.redis);
  try {
    const roster = new Roster(site.config);
    const parser = createParser(site.config);
    const items = await new SideStore(redis, keys(prefix)).listUnread(limit);
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
