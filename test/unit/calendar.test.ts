// School days: weekends and public holidays off, make-up workdays (调休) on, closed periods, config extras;
// and the pure scheduling decisions (next firing, catch-up) with a fixed clock.
import { describe, expect, it } from 'vitest';
import { SchoolCalendar, addDays, weekday } from '../../src/scheduler/calendar.js';
import { missedFirings, nextFiring, previousFiring, firingId } from '../../src/scheduler/scheduler.js';
import type { JobDefinition } from '../../src/scheduler/job.js';

const tz = 'Asia/Shanghai';
const cal = new SchoolCalendar(
  {
    closed: [{ from: '2027-01-23', to: '2027-02-21', name: '寒假' }],
    holidays: ['2026-12-24'],
    workdays: ['2027-03-06'],
  },
  tz,
);
const at = (iso: string) => Date.parse(iso);
const job = (over: Partial<JobDefinition> = {}): JobDefinition => ({
  name: 'checklist.safety',
  title: '安全检查',
  schedule: '30 7 * * *',
  everyDay: false,
  catchUpMs: 60 * 60_000,
  run: async () => undefined,
  ...over,
});

describe('school calendar', () => {
  it('weekdays are school days, weekends are not', () => {
    expect(cal.isSchoolDay('2026-11-23')).toBe(true); // Monday
    expect(cal.offReason('2026-11-28')).toBe('周末');
  });

  it('public holidays are off and make-up workdays (调休) are on', () => {
    expect(cal.offReason('2026-10-01')).toBe('节假日'); // National Day, a Thursday
    expect(cal.isSchoolDay('2026-10-10')).toBe(true); // a Saturday worked in exchange
  });

  it('closed periods and the config extras', () => {
    expect(cal.offReason('2027-02-01')).toBe('寒假');
    expect(cal.offReason('2026-12-24')).toBe('假日');
    expect(cal.isSchoolDay('2027-03-06')).toBe(true); // a Saturday the config makes a workday
  });

  it('first school day of the week, last of the week and of the month', () => {
    expect(cal.isFirstSchoolDayOfWeek('2026-11-23')).toBe(true);
    expect(cal.isFirstSchoolDayOfWeek('2026-11-24')).toBe(false);
    expect(cal.isFirstSchoolDayOfWeek('2026-10-08')).toBe(true); // Mon–Wed of that week were holidays
    expect(cal.isLastSchoolDayOfWeek('2026-11-27')).toBe(true);
    expect(cal.isLastSchoolDayOfMonth('2026-11-30')).toBe(true);
    expect(cal.isLastSchoolDayOfMonth('2026-11-27')).toBe(false);
  });

  it('dates are taken in the school time zone', () => {
    expect(cal.dateOf(at('2026-11-23T16:30:00Z'))).toBe('2026-11-24'); // 00:30 in Shanghai
    expect(weekday('2026-11-29')).toBe(7);
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

describe('scheduling decisions (fixed clock)', () => {
  it('next firing skips weekends and holidays unless every day', () => {
    const fri = at('2026-11-27T01:00:00Z'); // Friday 09:00 in Shanghai
    expect(new Date(nextFiring(job(), cal, fri)!).toISOString()).toBe('2026-11-29T23:30:00.000Z'); // Monday 07:30
    expect(new Date(nextFiring(job({ everyDay: true }), cal, fri)!).toISOString()).toBe('2026-11-27T23:30:00.000Z'); // Saturday 07:30
  });

  it('catches up a missed firing within its window and not after', () => {
    const tenPast8 = at('2026-11-24T00:10:00Z'); // Tue 08:10, 40 min after 07:30
    expect(missedFirings([job()], cal, tenPast8)).toEqual([
      { name: 'checklist.safety', at: at('2026-11-23T23:30:00Z') },
    ]);
    const elevenAm = at('2026-11-24T03:00:00Z'); // 3.5 h late
    expect(missedFirings([job()], cal, elevenAm)).toEqual([]);
    const sunday = at('2026-11-29T00:10:00Z');
    expect(missedFirings([job()], cal, sunday)).toEqual([]);
  });

  it('a firing has one id whichever instance computes it', () => {
    const a = previousFiring('30 7 * * *', tz, at('2026-11-24T00:10:00Z'));
    const b = previousFiring('30 7 * * *', tz, at('2026-11-24T00:59:59Z'));
    expect(firingId('checklist.safety', a)).toBe(firingId('checklist.safety', b));
    expect(firingId('checklist.safety', a)).not.toContain(':');
  });
});

describe('wall-clock instants', () => {
  it('noon on a date is noon in the school time zone', () => {
    expect(new Date(cal.instantAt('2026-12-01', '12:00')).toISOString()).toBe('2026-12-01T04:00:00.000Z');
    const london = new SchoolCalendar({ closed: [], holidays: [], workdays: [] }, 'Europe/London');
    expect(new Date(london.instantAt('2026-07-01', '08:30')).toISOString()).toBe('2026-07-01T07:30:00.000Z');
  });
});
