// Times derived from the config's cron expressions, for texts ("08:30前完成") and job windows.
import { CronExpressionParser } from 'cron-parser';
import type { SchoolCalendar } from '../scheduler/calendar.js';
import { formatter } from '../util/time.js';

const HOUR = 3_600_000;

/** HH:MM of the first firing of `cron` on `date`, or undefined when it does not fire that day. */
export function clockOn(cron: string, date: string, calendar: SchoolCalendar): string | undefined {
  const it = CronExpressionParser.parse(cron, {
    tz: calendar.timezone,
    currentDate: new Date(Date.parse(`${date}T00:00:00Z`) - 15 * HOUR),
  });
  for (let i = 0; i < 2000; i++) {
    const at = it.next().getTime();
    const d = calendar.dateOf(at);
    if (d > date) return undefined;
    if (d === date)
      return formatter('en-GB', {
        timeZone: calendar.timezone,
        hour: '2-digit',
        minute: '2-digit',
        hour12: false,
      }).format(new Date(at));
  }
  return undefined;
}

/** From a firing of `from` to the next firing of `to` (post → due), within [min, max]. */
export function gapMs(from: string, to: string, tz: string, min: number, max: number, now = Date.now()): number {
  const start = CronExpressionParser.parse(from, { tz, currentDate: new Date(now) })
    .next()
    .getTime();
  const end = CronExpressionParser.parse(to, { tz, currentDate: new Date(start) })
    .next()
    .getTime();
  return Math.min(max, Math.max(min, end - start));
}

/**
 * The cron `minutes` later the same day: "30 8 * * *" + 60 → "30 9 * * *". Past midnight it stops at 23:59
 * (a day's sheets are that day's). A minute or hour that is not one plain number falls back to 23:59.
 */
export function shiftCron(cron: string, minutes: number): string {
  const [m, h, ...rest] = cron.trim().split(/\s+/);
  if (!/^\d+$/.test(m) || !/^\d+$/.test(h)) return ['59', '23', ...rest].join(' ');
  const total = Math.min(Number(h) * 60 + Number(m) + minutes, 23 * 60 + 59);
  return [String(total % 60), String(Math.floor(total / 60)), ...rest].join(' ');
}
