// Two instances, one firing: both schedulers add the same firing and the job body runs once (real Redis/BullMQ).
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { dropPrefix, redisClient, REDIS, testPrefix } from '../helpers/redis.js';
import { until } from '../helpers/service.js';
import { Scheduler, type ContextBase } from '../../src/scheduler/scheduler.js';
import { SchoolCalendar } from '../../src/scheduler/calendar.js';
import { loadSettings } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import type { JobDefinition } from '../../src/scheduler/job.js';

const prefix = testPrefix('sched');
const conns: Redis[] = [];
afterAll(async () => {
  const r = redisClient();
  await dropPrefix(r, prefix);
  r.disconnect();
  for (const c of conns) c.disconnect();
});

describe('scheduler with two instances', () => {
  it('runs each firing once, including a catch-up both instances attempt at start', async () => {
    const { config } = loadSettings({}, 'config/example.yaml');
    const calendar = new SchoolCalendar(config.calendar, config.org.timezone);
    const runs: string[] = [];
    const job: JobDefinition = {
      name: 'test.tick',
      title: '测试',
      schedule: '* * * * *',
      everyDay: true,
      catchUpMs: 5 * 60_000,
      run: async (ctx) => void runs.push(ctx.firing),
    };
    const make = () => {
      const c = redisClient();
      conns.push(c);
      return new Scheduler(
        [job],
        config,
        calendar,
        c,
        prefix,
        {} as ContextBase,
        async () => undefined,
        createLogger('silent'),
      );
    };
    const a = make();
    const b = make();
    // Both start (each catches up the current minute's firing), and both fire the same minute again.
    await Promise.all([a.start(REDIS), b.start(REDIS)]);
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    await Promise.all([a.fire('test.tick', minute), b.fire('test.tick', minute), a.fire('test.tick', minute)]);
    await until('the firing ran', () => runs.length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    const thisMinute = runs.filter((f) =>
      f.startsWith(`test.tick@${new Date(minute).toISOString().slice(0, 16).replace(/[-:]/g, '')}`),
    );
    expect(thisMinute).toHaveLength(1);
    expect(new Set(runs).size).toBe(runs.length);
    await Promise.all([a.stop(), b.stop()]);
  });

  it('runNow runs a job as of a given date', async () => {
    const { config } = loadSettings({}, 'config/example.yaml');
    const calendar = new SchoolCalendar(config.calendar, config.org.timezone);
    const dates: string[] = [];
    const job: JobDefinition = {
      name: 'test.date',
      title: '测试',
      schedule: '0 8 * * *',
      everyDay: false,
      catchUpMs: 0,
      run: async (ctx) => void dates.push(ctx.date),
    };
    const c = redisClient();
    conns.push(c);
    const s = new Scheduler(
      [job],
      config,
      calendar,
      c,
      prefix,
      {} as ContextBase,
      async () => undefined,
      createLogger('silent'),
    );
    await s.runNow('test.date', '2026-12-01');
    expect(dates).toEqual(['2026-12-01']);
    await expect(s.runNow('nope')).rejects.toThrow(/no scheduled job/);
    expect(s.list(Date.parse('2026-11-27T01:00:00Z'))[0]).toMatchObject({
      name: 'test.date',
      enabled: true,
      next: Date.parse('2026-11-30T00:00:00Z'),
    });
    await s.stop();
  });
});
