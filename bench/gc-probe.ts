// Scratch: receiver alone at 1000 req/s with --trace-gc-nvp, to see what scavenges keep alive. Not committed.
import { startServer } from './lib/proc.js';
import { writeCallbacks } from './lib/gen.js';
import { wrk } from './lib/wrk.js';
import { aesKey } from '../test/helpers/wecom-env.js';
import { writeFileSync } from 'node:fs';
const keys = { token: 'probeTok', aesKey: aesKey() };
const prefix = 'bench-gcprobe';
const env = { WECOM_AIBOT_TOKEN: keys.token, WECOM_AIBOT_AES_KEY: keys.aesKey, REDIS_URL: 'redis://127.0.0.1:6379', HOUQIN_KEY_PREFIX: prefix, HOUQIN_CONFIG: 'config/example.yaml' };
const flags = (process.env.PROBE_FLAGS || '--trace-gc-nvp').split(' ').filter(Boolean);
const s = await startServer('recv', [...flags, 'bin/houqin.mjs', 'serve', '--role', process.env.PROBE_ROLE || 'receiver'], env, '0');
await writeCallbacks('/tmp/gcx/req.txt', { keys, count: 12000 });
await wrk({ url: s.url, file: '/tmp/gcx/req.txt', seconds: 3, connections: 32, rate: 1000, cpu: '1' });
await writeCallbacks('/tmp/gcx/req.txt', { keys, count: 9000 });
const r = await wrk({ url: s.url, file: '/tmp/gcx/req.txt', seconds: 8, connections: 32, rate: 1000, cpu: '1' });
console.log(JSON.stringify(r.lat_us));
writeFileSync('/tmp/gcx/log.txt', s.logs.join('\n'));
await s.stop();
