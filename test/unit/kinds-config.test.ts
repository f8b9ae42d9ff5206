// Kinds of work as config: the built-in repair / cleaning / meal, and the kinds a site adds under `kinds:` (the example
// hospital's 运送 and 医废收运). Every place that names a kind is checked against both, with the bad kind named; the
// night shift of a duty roster; and the route queues staying a fixed set whatever kinds a config adds.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { Roster } from '../../src/domain/roster.js';
import { kindName } from '../../src/domain/kinds.js';
import { routeQueueOf, routeQueues } from '../../src/queues/names.js';

const hospital = readFileSync('config/example-hospital.yaml', 'utf8');
const kindergarten = readFileSync('config/example.yaml', 'utf8');

function errorOf(text: string): string {
  try {
    parseConfig(text, {}, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('kinds of work in the config', () => {
  it('loads the example hospital with its two kinds of its own', () => {
    const { config } = parseConfig(hospital, {});
    expect(config.org).toMatchObject({ name: '清河县人民医院', kind: 'hospital' });
    expect(config.kinds.map((k) => [k.id, k.name])).toEqual([
      ['porter', '运送'],
      ['medical_waste', '医废收运'],
    ]);
    expect(config.kinds[0].commands).toContain('运送');
    expect(config.teams.find((t) => t.id === 'yunsong')!.kinds).toEqual(['porter']);
    expect(config.checklists.map((c) => c.id)).toEqual(['ward_safety', 'waste_handover', 'equipment_round', 'canteen']);
    expect(config.checklists.every((c) => c.everyDay)).toBe(true);
    const handover = config.checklists.find((c) => c.id === 'waste_handover')!;
    expect(handover.items.filter((i) => i.unit === 'kg').map((i) => i.label)).toEqual([
      '感染性废物',
      '损伤性废物',
      '病理性废物',
      '药物性和化学性废物',
    ]);
    expect(config.jobs['digest.daily']).toEqual({ enabled: true, everyDay: true });
  });

  it('the kindergarten needs no kinds: and keeps the three built-in ones', () => {
    const { config } = parseConfig(kindergarten, {});
    expect(config.kinds).toEqual([]);
    expect(new Roster(config).kinds).toEqual([
      { id: 'repair', name: '报修' },
      { id: 'cleaning', name: '保洁' },
      { id: 'meal', name: '餐评' },
    ]);
  });

  it('an unknown kind in routing, a team, a checklist item or a place owner is named with its field', () => {
    const use = 'use repair, cleaning, meal or a kind listed under kinds: (porter, medical_waste)';
    expect(errorOf(hospital.replace('{ kind: porter, team: yunsong }', '{ kind: porters, team: yunsong }'))).toContain(
      `routing[5].kind: unknown kind "porters": ${use}`,
    );
    expect(errorOf(hospital.replace('kinds: [medical_waste]', 'kinds: [waste]'))).toContain(
      `teams[5].kinds[0]: unknown kind "waste": ${use}`,
    );
    expect(
      errorOf(hospital.replace('label: 利器盒不超过四分之三, kind: medical_waste', 'label: 利器盒, kind: sharps')),
    ).toContain(`checklists[0].items[7].kind: unknown kind "sharps": ${use}`);
    expect(errorOf(hospital.replace('medical_waste: peng_sf }', 'waste: peng_sf }'))).toMatch(
      /places\[\d+\]\.owners\.waste: unknown kind "waste"/,
    );
    // Without kinds: the message says where to add one.
    expect(errorOf(kindergarten.replace('{ kind: meal, team: shitang }', '{ kind: porter, team: shitang }'))).toContain(
      'routing[4].kind: unknown kind "porter": use repair, cleaning or meal, or add it under kinds:',
    );
  });

  it('every kind, built in or added, needs a route', () => {
    expect(errorOf(hospital.replace('  - { kind: medical_waste, team: yifei }\n', ''))).toContain(
      'routing: no route for kind "medical_waste"',
    );
  });

  it('an added kind may not take a built-in id, a name or a command word already in use', () => {
    expect(errorOf(hospital.replace('id: porter', 'id: cleaning'))).toContain('kinds[0].id: "cleaning" is built in');
    expect(errorOf(hospital.replace('id: medical_waste', 'id: porter'))).toContain(
      'kinds[1].id: duplicate kind id "porter"',
    );
    expect(errorOf(hospital.replace('name: 运送\n', 'name: 保洁\n'))).toContain(
      'kinds[0].name: another kind is already named "保洁"',
    );
    expect(errorOf(hospital.replace('commands: [运送, 送检', 'commands: [报修, 送检'))).toContain(
      'kinds[0].commands[0]: the command word "报修" already starts a report of kind "repair"',
    );
    expect(errorOf(hospital.replace('commands: [医废收运,', 'commands: [运送,'))).toContain(
      'kinds[1].commands[0]: the command word "运送" already starts a report of kind "porter"',
    );
    expect(errorOf(hospital.replace('commands: [运送, 送检', 'commands: [接单, 送检'))).toContain(
      'kinds[0].commands[0]: "接单" is already a task command',
    );
    expect(errorOf(hospital.replace('id: porter', 'id: Porter-1'))).toContain(
      'kinds[0].id: use lowercase letters and _',
    );
  });

  it('a roster names every kind, and the texts know the added names once a roster has loaded them', () => {
    const roster = new Roster(parseConfig(hospital, {}).config);
    expect(roster.kinds.map((k) => k.name)).toEqual(['报修', '保洁', '餐评', '运送', '医废收运']);
    expect(roster.kindName('medical_waste')).toBe('医废收运');
    expect(kindName('porter')).toBe('运送');
    expect(kindName('gone')).toBe('gone');
  });

  it('route queues stay the fixed three: an added kind waits in the cleaning queue', () => {
    expect(routeQueues).toEqual(['repair', 'cleaning', 'meal']);
    expect(routeQueueOf('repair')).toBe('repair');
    expect(routeQueueOf('meal')).toBe('meal');
    expect(routeQueueOf('porter')).toBe('cleaning');
    expect(routeQueueOf('medical_waste')).toBe('cleaning');
  });
});

describe('night shifts', () => {
  const { config } = parseConfig(hospital, {});
  const roster = new Roster(config);
  const team = (id: string) => config.teams.find((t) => t.id === id)!;
  // 2026-11-16 is a Monday; Asia/Shanghai is UTC+8.
  const at = (date: string, time: string) => Date.parse(`${date}T${time}:00+08:00`);

  it('the day list by day, the night list from 17:30 to 08:00, a night past midnight on the weekday it began', () => {
    const shuidian = team('shuidian');
    expect(roster.onDuty(shuidian, at('2026-11-16', '10:00'))).toEqual(['liu_sf', 'ma_sf']); // Monday day
    expect(roster.onDuty(shuidian, at('2026-11-16', '17:29'))).toEqual(['liu_sf', 'ma_sf']);
    expect(roster.onDuty(shuidian, at('2026-11-16', '17:30'))).toEqual(['yang_sf']); // Monday night
    expect(roster.onDuty(shuidian, at('2026-11-17', '03:00'))).toEqual(['yang_sf']); // still Monday's night
    expect(roster.onDuty(shuidian, at('2026-11-17', '08:00'))).toEqual(['liu_sf', 'ma_sf']); // Tuesday day
    expect(roster.onDuty(shuidian, at('2026-11-17', '22:00'))).toEqual(['ma_sf']); // Tuesday night
    expect(roster.onDuty(shuidian, at('2026-11-23', '02:00'))).toEqual(['yang_sf']); // Sunday's night, on Monday
  });

  it('a team without a night keeps its day lists; a day without a list means every member', () => {
    expect(roster.onDuty(team('weixiu'), at('2026-11-16', '23:00'))).toEqual(['feng_sf']);
    expect(roster.onDuty(team('yunsong'), at('2026-11-16', '10:00'))).toEqual(['deng_sf', 'han_sf', 'cao_sf']);
    expect(roster.onDuty(team('yunsong'), at('2026-11-16', '23:00'))).toEqual(['han_sf']);
  });

  it('a night shift that does not cross midnight, and a night member who is not in the team', () => {
    const night = { from: '00:00', to: '06:00', onDuty: { tue: ['ma_sf'] } };
    const t = { ...team('shuidian'), night };
    expect(roster.onDuty(t, at('2026-11-17', '01:00'))).toEqual(['ma_sf']);
    expect(roster.onDuty(t, at('2026-11-17', '06:00'))).toEqual(['liu_sf', 'ma_sf']);
    expect(errorOf(hospital.replace('mon: [yang_sf]', 'mon: [han_sf]'))).toContain(
      'teams[0].night.onDuty.mon[0]: "han_sf" is not a member of team shuidian',
    );
    expect(errorOf(hospital.replace('from: "17:30"', 'from: "5:30pm"'))).toContain(
      'teams[0].night.from: use HH:MM, e.g. "17:30"',
    );
  });
});
