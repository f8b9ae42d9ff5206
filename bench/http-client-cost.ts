// CPU per outgoing JSON POST: global fetch (what src/channels/wecom/api.ts uses) vs node:http with a keep-alive
// agent, against a local server in another process. The app makes two such calls per report (reply + claim card).
//   node bin/run-ts.mjs bench/http-client-cost.ts      (pins the client to cpu 0 and the server to cpu 1 itself)
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { execFileSync } from 'node:child_process';

execFileSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
const server = spawn(
  'taskset',
  [
    '-c',
    '1',
    process.execPath,
    '-e',
    `
  const s = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"errcode":0,"errmsg":"ok","msgid":"x"}'); }); });
  s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise<number>((resolve) =>
  server.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))),
);
const url = `http://127.0.0.1:${port}/cgi-bin/message/send?access_token=abc`;
const body = JSON.stringify({
  touser: 'BenchW001',
  agentid: 1000002,
  msgtype: 'template_card',
  template_card: {
    card_type: 'button_interaction',
    main_title: { title: '新报修 #12345', desc: '甲子室 空调不制冷' },
    task_id: 't12345_abcdef',
    button_list: [{ text: '接单', key: 'claim:12345', style: 1 }],
  },
});
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

const viaFetch = async () => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return JSON.parse(await res.text());
};
const viaHttp = () =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });

for (const [name, call] of [
  ['fetch', viaFetch],
  ['node:http', viaHttp],
] as const) {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const n = 3000;
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i += 4) await Promise.all([call(), call(), call(), call()]);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / n);
  }
  console.log(`${name.padEnd(10)} ${best.toFixed(0)} µs CPU per POST (best of 3 rounds of 3000, 4 in flight)`);
}
agent.destroy();
server.kill();
