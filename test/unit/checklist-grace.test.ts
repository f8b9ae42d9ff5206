// A checklist's grace period (checklists[].grace): how long after its due time a sheet still not done is marked
// missed. 60 minutes unless the template says otherwise; bad values stop the start with the field named.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { SchoolCalendar } from '../../src/scheduler/calendar.js';
import { missedFirings, nextFiring } from '../../src/scheduler/scheduler.js';
import { allJobs } from '../../jobs/index.js';

const example = readFileSync('config/example.yaml', 'utf8');
const canteenDue = '    due: "0 11 * * *"\n';

function errorOf(text: string): string {
  try {
    parseConfig(text, {}, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

/** The example config with the canteen checklist's `grace:` line replaced (or removed when `line` is empty). */
function withCanteenGrace(line: string): string {
  const text = example.replace(/\n {4}grace: [^\n]*/, '');
  expect(text).toContain(canteenDue);
  return text.replace(canteenDue, canteenDue + (line ? `    grace: ${line}\n` : ''));
}

describe('checklist grace period', () => {
  it('defaults to 60 minutes; the example shows 30 minutes on the canteen check', () => {
    const { config } = parseConfig(example, {});
    const safety = config.checklists.find((c) => c.id === 'safety')!;
    const canteen = config.checklists.find((c) => c.id === 'canteen')!;
    expect(safety.grace).toBe(60 * 60_000);
    expect(canteen.grace).toBe(30 * 60_000);
    const jobs = allJobs(config);
    const job = (name: string) => jobs.find((j) => j.name === name)!;
    expect(job('checklist-missed.safety').schedule).toBe('30 9 * * *'); // due 08:30 + 60 min
    expect(job('checklist-missed.canteen').schedule).toBe('30 11 * * *'); // due 11:00 + 30 min
    // The reminder is worth catching up after a restart only until the sheet is missed.
    expect(job('checklist-due.safety').catchUpMs).toBe(60 * 60_000);
    expect(job('checklist-due.canteen').catchUpMs).toBe(30 * 60_000);
  });

  it('moves the missed firing: 90 minutes after an 11:00 due time is 12:30, on school days', () => {
    const { config } = parseConfig(withCanteenGrace('90m'), {});
    const cal = new SchoolCalendar(config.calendar, config.org.timezone);
    const missed = allJobs(config).find((j) => j.name === 'checklist-missed.canteen')!;
    expect(missed.schedule).toBe('30 12 * * *');
    const friday = Date.parse('2026-11-27T13:00:00+08:00');
    expect(new Date(nextFiring(missed, cal, friday)!).toISOString()).toBe('2026-11-30T04:30:00.000Z'); // Monday 12:30
    // The reminder at 11:00 is caught up at 12:00 (within 90 minutes), not at 12:40 the way a 30-minute grace would.
    const due = allJobs(config).find((j) => j.name === 'checklist-due.canteen')!;
    expect(missedFirings([due], cal, Date.parse('2026-11-27T12:00:00+08:00'))).toHaveLength(1);
    expect(missedFirings([due], cal, Date.parse('2026-11-27T12:40:00+08:00'))).toHaveLength(0);
  });

  it('a grace past midnight stops at 23:59 the same day', () => {
    const { config } = parseConfig(withCanteenGrace('12h').replace(canteenDue, '    due: "0 20 * * *"\n'), {});
    expect(allJobs(config).find((j) => j.name === 'checklist-missed.canteen')!.schedule).toBe('59 23 * * *');
  });

  it('names the field and says what to write for a bad value', () => {
    const field = 'checklists[3].grace: not a grace period';
    expect(errorOf(withCanteenGrace('soon'))).toContain(
      `${field}: "soon" (use whole minutes from 1m to 12h, e.g. 30m, 90m or 2h)`,
    );
    expect(errorOf(withCanteenGrace('30'))).toContain(`${field}: "30"`); // a bare number is seconds, as everywhere
    expect(errorOf(withCanteenGrace('0m'))).toContain(field);
    expect(errorOf(withCanteenGrace('90s'))).toContain(field);
    expect(errorOf(withCanteenGrace('13h'))).toContain(field);
    expect(parseConfig(withCanteenGrace('1h30m'), {}).config.checklists[3].grace).toBe(90 * 60_000);
    expect(parseConfig(withCanteenGrace('1800'), {}).config.checklists[3].grace).toBe(30 * 60_000);
  });
});
