// Summarises a V8 .cpuprofile (from BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"):
//   node bin/run-ts.mjs bench/profile.ts /tmp/prof/CPU…cpuprofile [top=30] [filter]
// Prints self time by function and by package/file, and total (inclusive) time of the functions matching
// `filter` (a substring of "name url").
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const me = process.argv.findIndex((a) => /profile\.ts$/.test(a));
const [file, topArg, filter] = process.argv.slice(me >= 0 ? me + 1 : 2);
if (!file) {
  process.stderr.write('usage: bench/profile.ts <file.cpuprofile> [top] [filter]\n');
  process.exit(2);
}
const top = Number(topArg || 30);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (n: Node) => {
  const u = n.callFrame.url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, 'npm:')
    .replace(/^\/work\/main\//, '');
  return u || '(native)';
};
const fname = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${where(n)}:${n.callFrame.lineNumber + 1}`;
const pct = (us: number) => ((100 * us) / total).toFixed(1).padStart(5) + '%';

const selfByFn = new Map<string, number>();
const selfByPkg = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  selfByFn.set(fname(n), (selfByFn.get(fname(n)) ?? 0) + us);
  const w = where(n);
  const pkg = w.startsWith('npm:')
    ? w
        .split('/')
        .slice(0, w.startsWith('npm:@') ? 2 : 1)
        .join('/')
    : w.startsWith('node:')
      ? 'node:*'
      : w;
  selfByPkg.set(pkg, (selfByPkg.get(pkg) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}\n`);
};
process.stdout.write(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled over ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s\n`,
);
show('self time by function', selfByFn);
show('self time by file / package', selfByPkg);

if (filter) {
  // inclusive time of matching frames (counted once per sample even when recursive)
  const incl = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const k = fname(n);
      if (!seen.has(k) && `${n.callFrame.functionName} ${n.callFrame.url}`.includes(filter)) {
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + (p.timeDeltas[i] ?? 0));
      }
    }
  });
  show(`inclusive time of frames matching "${filter}"`, incl);
}
