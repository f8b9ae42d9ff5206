import { testConfig } from '../test/helpers/service.js';
import { loadSettings } from '../src/config/load.js';
import { createParser } from '../src/commands/parser.js';
const stems = '甲乙丙丁戊己庚辛壬癸'.split('');
const branches = '子丑寅卯辰巳午未申酉戌亥'.split('');
const file = testConfig((cfg) => {
  const people: any[] = [], places: any[] = [];
  let n = 0;
  for (const s of stems) for (const b of branches) {
    const id = `bench_w${String(++n).padStart(3, '0')}`;
    people.push({ id, name: `${s}${b}师傅`, roles: ['worker'], wecom: `BenchW${String(n).padStart(3, '0')}` });
    places.push({ name: `${s}${b}室`, type: 'room', owners: { repair: id } });
  }
  cfg.people.push(...people); cfg.places.push(...places);
  cfg.teams.push({ id: 'bench_repair', name: '压测维修', kinds: ['repair'], members: people.map((p) => p.id) });
});
const s = loadSettings({}, file);
const p = createParser(s.config);
for (const t of ['报修 甲子室 空调不制冷', '报修 癸亥室 空调不制冷', '报修 甲午室 灯不亮', '谢谢李师傅！']) console.log(t, JSON.stringify(p.parse(t)));
console.log(file);
