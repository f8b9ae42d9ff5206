// The few lines a person sees after `npm start` in a terminal: where the console is, what is on, and whether
// Redis will keep the data. Logs carry the same facts as one structured line for machines.
import type { Started } from '../app.js';

/** `redisAt`: where Redis is (config/redis-topology.ts describeTopology). */
export function banner(s: Started, redisAt: string, startedRedis: boolean, processes = 1): string {
  const lines = ['', `  Houqin 后勤 is running on port ${s.port}${s.role === 'all' ? '' : ` (${s.role} only)`}`];
  if (processes === 2)
    lines.push('  Processes receiver + workers (workers at lower priority; HOUQIN_PROCESSES=1 for one)');
  if (s.consoleUrl) lines.push(`  Console   ${s.consoleUrl}   ← open it to try every role in the browser`);
  for (const c of s.channels) lines.push(`  ${c.on ? '✓' : '·'} ${c.name.padEnd(13)} ${c.detail}`);
  const kept = s.redis.appendonly === 'yes' ? 'AOF on' : `AOF ${s.redis.appendonly}: a Redis restart loses data`;
  const policy = s.redis.policy === 'noeviction' ? 'noeviction' : `maxmemory-policy ${s.redis.policy}`;
  const where = startedRedis ? `${safe(redisAt)} (started by houqin, data in ./data)` : safe(redisAt);
  lines.push(`  Redis     ${where} · ${kept} · ${policy}`, '  Stop with Ctrl-C.', '');
  return lines.join('\n') + '\n';
}

/** A Redis URL without its password. */
function safe(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
