import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/util/backoff.js';

describe('Backoff (full jitter, capped, with a floor)', () => {
  it('draws up to base·2^n, never above the cap, never below the floor', () => {
    const top = new Backoff({ baseMs: 1000, capMs: 60_000, floorMs: 500, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(() => top.next())).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000,
    ]);
    const bottom = new Backoff({ baseMs: 1000, capMs: 60_000, floorMs: 500, random: () => 0 });
    // A draw of zero would be a spin against a rate-protected subscribe: the floor holds.
    expect([1, 2, 3].map(() => bottom.next())).toEqual([500, 500, 500]);
  });

  it('spreads instances apart: draws are random within the window', () => {
    const draws = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const b = new Backoff({ baseMs: 1000, capMs: 60_000, floorMs: 100 });
      b.next();
      b.next();
      b.next();
      draws.add(b.next()); // the 4th draw: anywhere in [100, 8000]
    }
    expect(draws.size).toBeGreaterThan(40);
    for (const d of draws) {
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(8000);
    }
  });

  it('starts again from the base after a reset, and survives many failures', () => {
    const b = new Backoff({ baseMs: 1000, capMs: 30_000, floorMs: 0, random: () => 0.5 });
    for (let i = 0; i < 200; i++) b.next();
    expect(b.next()).toBe(15_000);
    expect(b.count).toBe(201);
    b.reset();
    expect(b.next()).toBe(500);
  });
});
