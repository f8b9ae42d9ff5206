// The ceiling: a bare Koa endpoint that reads the body and answers 200. Nothing else.
import Koa from 'koa';
import getRawBody from 'raw-body';

const app = new Koa();
app.use(async (ctx) => {
  await getRawBody(ctx.req, { limit: 64 * 1024, encoding: 'utf8', length: ctx.get('content-length') || undefined });
  ctx.status = 200;
  ctx.body = '';
});
const server = app.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const addr = server.address();
  console.log(`bench-server bare listening on port ${typeof addr === 'object' && addr ? addr.port : 0}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
