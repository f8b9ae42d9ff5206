// The console API's request handling, shared by its route files: a JSON body checked against a schema (a clear 400
// or 413 on failure) and the `{error}` answer.
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import type { z } from 'zod';

export function refuse(ctx: Context, status: number, error: string): void {
  ctx.status = status;
  ctx.body = { error };
}

export async function json<T>(ctx: Context, schema: z.ZodType<T>, limit = 16 * 1024): Promise<T | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse(await getRawBody(ctx.req, { limit, encoding: 'utf8' }));
  } catch (e) {
    if ((e as { type?: string }).type === 'entity.too.large') {
      ctx.status = 413;
      ctx.body = { error: `request body over ${limit} bytes (a photo may be at most HOUQIN_MEDIA_MAX_BYTES)` };
      return undefined;
    }
    raw = undefined;
  }
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  ctx.status = 400;
  ctx.body = {
    error: `bad request body: ${r.error?.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ') ?? 'not JSON'}`,
  };
  return undefined;
}
