// `houqin parse` as a user runs it: the real bin script, messages on stdin, JSON lines on stdout.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(fileURLToPath(import.meta.url), '..', '..', '..');
const bin = join(root, 'bin', 'houqin.mjs');

function run(
  args: string[],
  input: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // From another directory, without HOUQIN_CONFIG: the package's example config must still be found.
    const { HOUQIN_CONFIG: _ignored, ...inherited } = process.env;
    const child = spawn(process.execPath, [bin, 'parse', ...args], { cwd: tmpdir(), env: { ...inherited, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const lines = (out: string) =>
  out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('houqin parse', () => {
  it('prints one JSON intent per line, in order, with absent fields left out', async () => {
    const input =
      ['报修 小一班 空调不制冷', '接單 ＃12', '', '谢谢', '评价 12 10', '餐评 4 今天的汤太咸', '中2班厕所堵了'].join(
        '\n',
      ) + '\n';
    const { code, stdout } = await run([], input);
    expect(code).toBe(0);
    const out = lines(stdout);
    expect(out).toEqual([
      { intent: 'report', kind: 'repair', trade: '空调', place: '小一班', urgent: false, text: '小一班 空调不制冷' },
      { intent: 'claim', task: 12 },
      { intent: 'none' },
      { intent: 'none' },
      { intent: 'rate', task: 12, invalid: true, error: '评分请写 1 到 5，例如：评价 12 5 修得很快' },
      { intent: 'report', kind: 'meal', urgent: false, rating: 4, text: '今天的汤太咸' },
      { intent: 'report', kind: 'repair', trade: '水', place: '中二班', urgent: false, text: '中2班厕所堵了' },
    ]);
    expect(stdout).not.toContain('undefined');
    expect(stdout).not.toContain('null');
  }, 30_000);

  it('answers the last line even without a final newline, and CRLF input', async () => {
    const { stdout } = await run([], '催办 12\r\n撤销 12');
    expect(lines(stdout)).toEqual([
      { intent: 'nudge', task: 12 },
      { intent: 'cancel', task: 12 },
    ]);
  }, 30_000);

  it('--jsonl reads multi-line forms and keeps going past malformed lines', async () => {
    const input =
      [JSON.stringify('地点：中二班\n问题：厕所漏水\n紧急：是'), '{not json', '42', '', JSON.stringify('餐评 0')].join(
        '\n',
      ) + '\n';
    const { code, stdout } = await run(['--jsonl'], input);
    expect(code).toBe(0);
    const out = lines(stdout);
    expect(out).toHaveLength(5);
    expect(out[0]).toEqual({
      intent: 'report',
      kind: 'repair',
      trade: '水',
      place: '中二班',
      urgent: true,
      text: '厕所漏水',
    });
    expect(out[1]).toMatchObject({
      intent: 'none',
      invalid: true,
      error: expect.stringMatching(/^line 2: not valid JSON/),
    });
    expect(out[2]).toEqual({ intent: 'none', invalid: true, error: 'line 3: expected a JSON string, got number' });
    expect(out[3]).toEqual({ intent: 'none' });
    expect(out[4]).toEqual({
      intent: 'report',
      kind: 'meal',
      urgent: false,
      invalid: true,
      error: '评分请写 1 到 5，例如：餐评 4 今天的汤太咸',
    });
  }, 30_000);

  it('exits 2 on an unknown argument', async () => {
    const { code, stdout, stderr } = await run(['--bogus'], '');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown argument "--bogus"');
  }, 30_000);

  it('uses HOUQIN_CONFIG when set, and says so when the file is missing', async () => {
    const ok = await run([], '小一班空调坏了\n', { HOUQIN_CONFIG: join(root, 'config', 'example.yaml') });
    expect(lines(ok.stdout)).toEqual([
      { intent: 'report', kind: 'repair', trade: '空调', place: '小一班', urgent: false, text: '小一班空调坏了' },
    ]);
    const missing = await run([], '接单 12\n', { HOUQIN_CONFIG: join(tmpdir(), 'no-such-houqin.yaml') });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read config file');
  }, 30_000);
});
