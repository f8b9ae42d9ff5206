// `npm test` on a machine where nothing answers at REDIS_URL: start a throwaway redis-server there (data in a temp
// folder, removed afterwards) the way `npm start` does, so the README's test command needs no Redis running first.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { ensureRedis } from '../../src/store/local-redis.js';
import { REDIS_URL } from '../helpers/redis.js';

export default async function setup(): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'houqin-test-redis-'));
  const local = await ensureRedis(REDIS_URL, createLogger('warn'), dir);
  return async () => {
    await local?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
