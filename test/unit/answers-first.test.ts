// The meter that makes a one-process pump rest while the receiver beside it needs the event loop.
import { describe, expect, it } from 'vitest';
import { AnswersFirst } from '../../src/queues/answers-first.js';

/** Keeps the event loop busy for `ms` (what a receiver under a burst does). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
const idle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('AnswersFirst', () => {
  it('is busy while messages arrive fast and the loop is saturated, and rests four times the batch', async () => {
    const a = new AnswersFirst();
    for (let i = 0; i < 100; i++) a.arrived(); // 100 in ~60 ms: well over 200/s
    spin(60);
    expect(a.receiverBusy()).toBe(true);
    expect(a.restAfter(10)).toBe(40);
    expect(a.restAfter(0.1)).toBe(5); // at least a few ms, so the receiver's callbacks get their turn
    expect(a.restAfter(500)).toBe(200); // never long: the workers keep going
    expect(a.rests).toBe(3);
  });

  it('is not busy when the loop has idle time, however many messages arrive', async () => {
    const a = new AnswersFirst();
    for (let i = 0; i < 100; i++) a.arrived();
    await idle(60);
    expect(a.restAfter(10)).toBe(0);
  });

  it('is not busy when the loop is saturated by the workers alone (a process that receives nothing)', async () => {
    const a = new AnswersFirst();
    a.arrived(); // one message: a trickle
    spin(60);
    expect(a.restAfter(10)).toBe(0);
  });

  it('reads at once again when the burst ends', async () => {
    const a = new AnswersFirst();
    for (let i = 0; i < 100; i++) a.arrived();
    spin(60);
    expect(a.restAfter(10)).toBeGreaterThan(0);
    await idle(60);
    expect(a.restAfter(10)).toBe(0);
  });
});
