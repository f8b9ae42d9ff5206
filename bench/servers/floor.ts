// The floor of the work: a minimal Koa endpoint that checks the signature (sha1 over the sorted four strings),
// decrypts with @wecom/crypto, and makes one BullMQ queue.add per request on a plain ioredis connection.
// No router, no schema validation, no replay check, no auto-pipelining: what any correct receiver must at least do.
import { timingSafeEqual } from 'node:crypto';
import { decrypt, getSignature } from '@wecom/crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import Koa from 'koa';
import getRawBody from 'raw-body';

const token = process.env.WECOM_AIBOT_TOKEN!;
const aesKey = process.env.WECOM_AIBOT_AES_KEY!;
const prefix = process.env.BENCH_PREFIX!;
if (!token || !aesKey || !prefix)
  throw new Error('WECOM_AIBOT_TOKEN, WECOM_AIBOT_AES_KEY and BENCH_PREFIX must be set');

const conn = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
// The same job options as the real inbox, so the Redis-side cost of the add is the same.
const inbox = new Queue('inbox', {
  connection: conn,
  prefix: `${prefix}:q`,
  defaultJobOptions: {
    attempts: 5,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { age: 86_400, count: 200_000 },
    removeOnFail: false,
  },
});

const app = new Koa();
app.use(async (ctx) => {
  const raw = await getRawBody(ctx.req, {
    limit: 64 * 1024,
    encoding: 'utf8',
    length: ctx.get('content-length') || undefined,
  });
  const q = ctx.query;
  const sig = String(q.msg_signature ?? '');
  const encrypted = (JSON.parse(raw) as { encrypt?: string }).encrypt ?? '';
  const expected = getSignature(token, String(q.timestamp ?? ''), String(q.nonce ?? ''), encrypted);
  if (sig.length !== expected.length || !timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) {
    ctx.status = 401;
    ctx.body = 'refused';
    return;
  }
  const p = JSON.parse(decrypt(aesKey, encrypted).message) as {
    msgid: string;
    chatid?: string;
    from: { userid: string };
    text?: { content: string };
  };
  await inbox.add(
    'envelope',
    {
      id: `wecom:aibot:${p.msgid}`,
      channel: 'wecom',
      surface: 'aibot',
      msgId: p.msgid,
      chat: { id: p.chatid ?? '', type: 'group' },
      sender: { platformId: p.from.userid },
      text: p.text?.content,
      receivedAt: Date.now(),
    },
    { jobId: `wecom_aibot_${p.msgid}` },
  );
  ctx.status = 200;
  ctx.body = '';
});
const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const addr = server.address();
  console.log(`bench-server floor listening on port ${typeof addr === 'object' && addr ? addr.port : 0}`);
});
const stop = () =>
  server.close(
    () =>
      void inbox
        .close()
        .then(() => conn.quit())
        .finally(() => process.exit(0)),
  );
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
