// A task's state at an earlier instant, from its history (what a past date's digest shows as 在办).
import { describe, expect, it } from 'vitest';
import { openAt, stateAt } from '../../src/domain/tasks/history.js';
import type { Task, TaskEvent } from '../../src/domain/tasks/task.js';

const h = (n: number) => n * 3_600_000;
const ev = (hour: number, type: string): TaskEvent => ({ at: h(hour), by: 'x', type });
const task = (over: Partial<Task> = {}): Task => ({
  id: 1,
  kind: 'repair',
  text: '灯不亮',
  reporter: 'wang_li',
  team: 'shuidian',
  source: { channel: 'local', surface: 'console', chatId: 'c', chatType: 'group' },
  urgent: false,
  state: 'accepted',
  acked: true,
  createdAt: h(1),
  rework: 0,
  doneCount: 0,
  version: 1,
  ...over,
});

describe('a task at an earlier instant', () => {
  const history = [
    ev(1, 'created'),
    ev(2, 'claimed'),
    ev(3, 'held'),
    ev(3.5, 'nudged'),
    ev(4, 'resumed'),
    ev(5, 'done'),
    ev(6, 'reopened'),
    ev(7, 'done'),
    ev(8, 'rated'),
    ev(9, 'rated'),
  ];

  it('follows every step of the history; steps that change nothing leave the state', () => {
    expect([0.5, 1, 2, 3, 3.7, 4, 5, 6, 7, 8, 10].map((x) => stateAt(task(), history, h(x)))).toEqual([
      undefined,
      'open',
      'claimed',
      'on_hold',
      'on_hold',
      'claimed',
      'done',
      'claimed',
      'done',
      'accepted',
      'accepted',
    ]);
    expect(
      stateAt(task(), [ev(1, 'created'), ev(2, 'assigned'), ev(3, 'transferred'), ev(4, 'cancelled')], h(3.5)),
    ).toBe('claimed');
    expect(stateAt(task(), [ev(1, 'created'), ev(2, 'done'), ev(3, 'auto_accepted')], h(3))).toBe('accepted');
  });

  it('reads entries in time order even if one was appended late', () => {
    expect(stateAt(task(), [ev(1, 'created'), ev(3, 'done'), ev(2, 'claimed')], h(4))).toBe('done');
  });

  it('without a history, from the step times', () => {
    const t = task({ claimedAt: h(2), doneAt: h(5), acceptedAt: h(8) });
    expect([1.5, 2, 6, 8].map((x) => stateAt(t, [], h(x)))).toEqual(['open', 'claimed', 'done', 'accepted']);
    expect(stateAt(task({ cancelledAt: h(3) }), [], h(3))).toBe('cancelled');
  });

  it('openAt: the task with its state then, or nothing once accepted or cancelled', () => {
    expect(openAt(task(), history, h(3))).toMatchObject({ id: 1, state: 'on_hold', text: '灯不亮' });
    expect(openAt(task(), history, h(8))).toBeUndefined();
    expect(openAt(task(), history, h(0.5))).toBeUndefined();
  });
});
