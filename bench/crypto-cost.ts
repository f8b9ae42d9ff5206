// Why the receiver checks and opens callbacks without per-request crypto objects (src/channels/wecom/crypto.ts):
// every createHash / createDecipheriv is a native object behind a weak handle, and V8 processes each dead one in
// the next young-generation collection. This signs and opens the same callbacks both ways and prints the CPU per
// callback, the number of scavenges, and the time the process stood in them.
//   node bin/run-ts.mjs bench/crypto-cost.ts [callbacks=100000]
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { decrypt as libDecrypt, encrypt as libEncrypt, getSignature as libSign } from '@wecom/crypto';
import { open, sign, type CallbackKeys } from '../src/channels/wecom/crypto.js';

const n = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 100_000);
const keys: CallbackKeys = { token: 'QDG6eK', aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', receiveId: '' };
// A typical AI-bot text callback (~600 bytes of ciphertext), 64 distinct ones.
const sealed = Array.from({ length: 64 }, (_, i) =>
  libEncrypt(
    keys.aesKey,
    JSON.stringify({
      msgid: `m${i}`,
      chatid: 'wrStaff',
      chattype: 'group',
      from: { userid: 'WangLi' },
      response_url: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=' + 'x'.repeat(40),
      msgtype: 'text',
      text: { content: '@后勤助手 报修 小一班 空调不制冷，孩子午睡太热' },
    }),
    '',
  ),
);

let pauses = 0;
let scavenges = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    pauses += e.duration;
    if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR)
      scavenges++;
  }
}).observe({ entryTypes: ['gc'] });

async function run(label: string, one: (enc: string, i: number) => number): Promise<void> {
  for (let i = 0; i < 5000; i++) one(sealed[i % 64], i); // warm-up
  const before = { pauses, scavenges };
  const c0 = process.cpuUsage();
  let sink = 0;
  for (let i = 0; i < n; i++) sink += one(sealed[i % 64], i);
  const c = process.cpuUsage(c0);
  await new Promise((r) => setTimeout(r, 50)); // the observer hears of the last collections a little later
  const us = (c.user + c.system) / n;
  console.log(
    `${label.padEnd(44)} ${us.toFixed(1).padStart(6)} µs/callback  ${String(scavenges - before.scavenges).padStart(4)} scavenges  ${(pauses - before.pauses).toFixed(0).padStart(5)} ms in GC${sink ? '' : ' '}`,
  );
  results.push(us);
}

const results: number[] = [];
console.log(`${n} callbacks: SHA1 signature over the four strings, then AES-256-CBC open of the ciphertext`);
await run(
  '@wecom/crypto (createHash + createDecipheriv)',
  (enc, i) => libSign(keys.token, String(i), 'nonce', enc).length + libDecrypt(keys.aesKey, enc).message.length,
);
await run(
  'ours (crypto.hash + one shared ECB decipher)',
  (enc, i) => sign(keys.token, String(i), 'nonce', enc).length + open(keys, enc).length,
);
console.log(`ratio ours/@wecom/crypto CPU: ${(results[1] / results[0]).toFixed(2)}`);
