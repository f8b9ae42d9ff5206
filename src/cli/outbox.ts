// `houqin outbox list|replay [ID…]`: outgoing messages that failed for good, for an operator.
import { Queue } from 'bullmq';
import { loadSettings, type Env } from '../config/load.js';
import { connect } from '../store/redis.js';
import { queueNames } from '../queues/names.js';
import type { OutboxJob } from '../queues/runtime.js';
import { defaultConfigPath } from './paths.js';

export async function outboxCommand(args: string[], env: Env): Promise<number> {
  const [sub, ...ids] = args;
  if (sub !== 'list' && sub !== 'replay') {
    process.stderr.write('usage: houqin outbox list | houqin outbox replay [JOB_ID…]\n');
    return 2;
  }
  const settings = loadSettings(env, env.HOUQIN_CONFIG || defaultConfigPath());
  const redis = connect(settings.redis);
  const q = new Queue<OutboxJob>(queueNames.outbox, {
    connection: redis,
    prefix: `${settings.config.redis.keyPrefix}:q`,
  });
  try {
    const failed = ids.length
      ? (await Promise.all(ids.map((id) => q.getJob(id)))).filter((j) => j !== undefined)
      : await q.getFailed(0, 999);
    if (sub === 'list') {
      for (const j of failed)
        process.stdout.write(
          JSON.stringify({
            id: j.id,
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
    await q.close();
    redis.disconnect();
  }
}
