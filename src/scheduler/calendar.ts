// School days: weekends and Chinese public holidays are off, make-up workdays (调休) are on (chinese-days),
// then the config's own extra holidays, extra workdays and closed periods (寒暑假, 停课) on top.
import chineseDays from 'chinese-days';
import type { Config } from '../config/schema.js';
import { dateIn, instantIn } from '../util/time.js';

export class SchoolCalendar {
  private holidays: Set<string>;
  private workdays: Set<string>;

  constructor(
    private cfg: Config['calendar'],
    readonly timezone: string,
  ) {
    this.holidays = new Set(cfg.holidays);
    this.workdays = new Set(cfg.workdays);
  }

  /** YYYY-MM-DD of an instant in the school's time zone. */
  dateOf(at: number): string {
    return dateIn(this.timezone, at);
  }

  /** The instant of a wall-clock time on a date in the school's time zone. */
  instantAt(date: string, time = '12:00'): number {
    return instantIn(this.timezone, date, time);
  }

  /** The reason a day is not a school day, or undefined when it is one. */
  offReason(date: string): string | undefined {
    const closed = this.cfg.closed.find((c) => c.from <= date && date <= c.to);
    if (closed) return closed.name;
    if (this.holidays.has(date)) return '假日';
    if (this.workdays.has(date)) return undefined;
    if (!chineseDays.isWorkday(date)) return weekday(date) >= 6 ? '周末' : '节假日';
    return undefined;
  }

  isSchoolDay(date: string): boolean {
    return this.offReason(date) === undefined;
  }

  /** Is `date` the first school day of its Monday-to-Sunday week? (食谱公示) */
  isFirstSchoolDayOfWeek(date: string): boolean {
    if (!this.isSchoolDay(date)) return false;
    for (let d = addDays(date, -1); weekday(d) < weekday(date); d = addDays(d, -1))
      if (this.isSchoolDay(d)) return false;
    return true;
  }

  /** Is `date` the last school day of its month? (monthly summary) */
  isLastSchoolDayOfMonth(date: string): boolean {
    if (!this.isSchoolDay(date)) return false;
    for (let d = addDays(date, 1); d.slice(0, 7) === date.slice(0, 7); d = addDays(d, 1))
      if (this.isSchoolDay(d)) return false;
    return true;
  }

  /** Is `date` the last school day of its week? (weekly summary) */
  isLastSchoolDayOfWeek(date: string): boolean {
    if (!this.isSchoolDay(date)) return false;
    for (let d = addDays(date, 1); weekday(d) > weekday(date); d = addDays(d, 1)) if (this.isSchoolDay(d)) return false;
    return true;
  }
}

/** 1 = Monday … 7 = Sunday, for a calendar date (no time zone involved). */
export function weekday(date: string): number {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
