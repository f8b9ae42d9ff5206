// Time for the ledger: month bounds as instants in the school's time zone, and instants as the wall-clock dates
// Excel shows. Excel dates have no time zone, so a cell holds the school's local time (what an inspector expects).

const partsFmt = new Map<string, Intl.DateTimeFormat>();

function fmt(tz: string): Intl.DateTimeFormat {
  let f = partsFmt.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFmt.set(tz, f);
  }
  return f;
}

/** Milliseconds to add to an instant to get its wall-clock time in `tz` read as UTC. */
export function offsetAt(at: number, tz: string): number {
  const p: Record<string, number> = {};
  for (const x of fmt(tz).formatToParts(new Date(at))) if (x.type !== 'literal') p[x.type] = Number(x.value);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - (at - (at % 1000));
}

/** A Date whose UTC fields are the wall-clock time of `at` in `tz`: what exceljs writes as the cell's date. */
export class WallClock {
  private cache = new Map<number, number>();

  constructor(readonly tz: string) {}

  /** Offsets change at most at an hour boundary (DST); cache per hour. */
  date(at: number): Date {
    const hour = Math.floor(at / 3_600_000);
    let off = this.cache.get(hour);
    if (off === undefined) {
      off = offsetAt(at, this.tz);
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hour, off);
    }
    return new Date(at + off);
  }
}

/** The instant at which `date` (YYYY-MM-DD) begins in `tz`. */
export function startOfDay(date: string, tz: string): number {
  const guess = Date.parse(`${date}T00:00:00Z`);
  let at = guess - offsetAt(guess, tz);
  at = guess - offsetAt(at, tz); // second pass settles a DST change between the guess and the answer
  return at;
}

/** [start, end) of a month (YYYY-MM) in `tz`, and its dates. */
export function monthBounds(month: string, tz: string): { from: number; to: number; dates: string[] } {
  const [y, m] = month.split('-').map(Number);
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const dates = Array.from({ length: days }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
  const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
  return { from: startOfDay(`${month}-01`, tz), to: startOfDay(next, tz), dates };
}

/** A calendar date as an Excel date (midnight, no time zone). */
export function calendarDate(date: string): Date {
  return new Date(`${date}T00:00:00Z`);
}
