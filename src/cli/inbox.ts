// `houqin inbox unknown [--json] [--limit N]`: people who wrote to the bot but are not on the roster (名册外), the
// latest first: who (their platform id, to add to people[].wecom / .dingtalk), how many messages, when, and their
// last few texts. `--dismiss ID` takes one off the list once dealt with.
import type { Env } from '../config/load.js';
import { loadSite, siteOption } from './site-arg.js';
import { connect } from '../store/redis.js';
import { StrangerStore } from '../store/strangers.js';

const usage = 'usage: houqin inbox unknown [--json] [--limit N] [--dismiss CHANNEL:ID]';

export async function inboxCommand(all: string[], env: Env, out: NodeJS.WritableStream): Promise<number> {
  const { args, id } = siteOption(all);
  const siteArgs = id === undefined ? [] : ['--site', id];
  const [what, ...rest] = args;
  const json = rest.includes('--json');
  const limitAt = rest.indexOf('--limit');
  const limit = limitAt >= 0 ? Number(rest[limitAt + 1]) : 50;
  const dismissAt = rest.indexOf('--dismiss');
  const dismiss = dismissAt >= 0 ? rest[dismissAt + 1] : undefined;
  const known = new Set([limitAt + 1, dismissAt + 1].filter((i) => i > 0));
  if (
    what !== 'unknown' ||
    !Number.isInteger(limit) ||
    limit < 1 ||
    (dismissAt >= 0 && !dismiss) ||
    rest.some((a, i) => !known.has(i) && !['--json', '--limit', '--dismiss'].includes(a))
  ) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const { settings, prefix } = loadSite(env, siteArgs);
  const redis = connect(settings.redis);
  try {
    const store = new StrangerStore(redis, prefix);
    if (dismiss) {
      const gone = await store.dismiss(dismiss);
      out.write(gone ? `已移出名册外列表：${dismiss}\n` : `列表里没有 ${dismiss}\n`);
      return gone ? 0 : 1;
    }
    const items = await store.list(limit);
    for (const s of items) {
      if (json) out.write(`${JSON.stringify(s)}\n`);
      else {
        const when = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
        out.write(
          `${s.id}  ${s.count} 条  ${when(s.first)} – ${when(s.last)}  会话 ${s.chat}\n` +
            s.texts.map((t) => `    「${t}」\n`).join(''),
        );
      }
    }
    if (!json && !items.length) out.write('没有名册外的人发来消息。\n');
    else if (!json)
      out.write('把他们加入配置的 people（wecom / dingtalk 填上面的 ID）后重启；处理完可用 --dismiss 移出列表。\n');
    return 0;
  } finally {
    redis.disconnect();
  }
}
