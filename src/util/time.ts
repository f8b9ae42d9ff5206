// Intl.DateTimeFormat costs ~100 µs to build and ~2 µs to use: build each (locale, options) once.
const cache = new Map<string, Intl.DateTimeFormat>();

export function formatter(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    cache.set(key, f);
  }
  return f;
}

/** YYYY-MM-DD of an instant in a time zone. */
export function dateIn(timeZone: string, at: number): string {
  return formatter('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at));
}

/** The instant a wall-clock time (HH:MM) on a date is in a time zone ("2026-11-18", "00:00" → 2026-11-17T16:00Z). */
export function instantIn(timeZone: string, date: string, time = '12:00'): number {
  const guess = Date.parse(`${date}T${time}:00Z`);
  const parts = formatter('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).formatToParts(new Date(guess));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  const shown = Date.parse(
    `${get('year')}-${get('month')}-${get('day')}T${get('hour').replace('24', '00')}:${get('minute')}:00Z`,
  );
  return guess - (shown - guess);
}
