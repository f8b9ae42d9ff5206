// `houqin outbox list|replay [ID…]`: outgoing messages that failed for good, for an operator.
import { Queue } from 'bullmq';
import { loadSettings, type Env } from '../config/load.js';
import { connect } from '../store/redis.js';
import { queueNames } from '../queues/names.js';
import type { OutboxJob } from '../queues/runtime.js';
import { defaultConfigPath } from './paths.js';
import { pickSite, siteOption } from './site-arg.js';
import { DEFAULT_TENANT } from '../queues/shared.js';

export async function outboxCommand(all: string[], env: Env): Promise<number> {
  const { args, id } = siteOption(all);
  const [sub, ...ids] = args;
  if (sub !== 'list' && sub !== 'replay') {
    process.stderr.write('usage: houqin outbox list | houqin outbox replay [JOB_ID…]\n');
    return 2;
  }
  const settings = loadSettings(env, env.HOUQIN_CONFIG || defaultConfigPath());
  // In a district: every site's failures (each line names its site), or one site's with --site.
  const site = id === undefined ? undefined : pickSite(settings, id).id;
  const redis = connect(settings.redis);
  const lay = settings.layout;
  const queues = Array.from(
    { length: lay.shards },
    (_, s) => new Queue<OutboxJob>(lay.queue(queueNames.outbox, s), { connection: redis, prefix: `${lay.base}:q` }),
  );
  try {
    const found = await Promise.all(
      queues.map(async (q) =>
        ids.length
          ? (await Promise.all(ids.map((j) => q.getJob(j)))).filter((j) => j !== undefined)
          : await q.getFailed(0, 999),
      ),
    );
    const failed = found.flat().filter((j) => site === undefined || (j.data.tenant ?? DEFAULT_TENANT) === site);
    if (sub === 'list') {
      for (const j of failed)
        process.stdout.write(
          JSON.stringify({
            id: j.id,
            ...(settings.sites[0].named ? { site: j.data.tenant } : {}),
            channel: j.data.channel,
            to: j.data.out.to,
            message: j.data.out.message,
            reason: j.failedReason,
          }) + '\n',
        );
      process.stderr.write(`${failed.length} failed message(s)\n`);
    } else {
      let n = 0;
      for (const j of failed)
        if ((await j.getState()) === 'failed') {
          await j.retry('failed');
          n++;
        }
      process.stderr.write(`${n} message(s) queued again\n`);
    }
    return 0;
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
  }
}
