// A task as it was at an earlier instant, from its history: what a digest for a past date shows as 在办 and
// 最久未完成 (the task hash holds only the present). Pure: reading the history is the store's business.
import type { State, Task, TaskEvent } from './task.js';

/** The state each history entry leaves the task in; entries that change no state (催办, 提醒, 上报, 答复) are absent. */
const stateAfter: Record<string, State> = {
  created: 'open',
  claimed: 'claimed',
  assigned: 'claimed',
  acknowledged: 'claimed',
  transferred: 'claimed',
  resumed: 'claimed',
  reopened: 'claimed',
  held: 'on_hold',
  done: 'done',
  accepted: 'accepted',
  auto_accepted: 'accepted',
  rated: 'accepted', // from 待验收 a rating accepts; from 已验收 it stays there
  cancelled: 'cancelled',
};

/**
 * The task's state at `at`, or undefined when it had not been reported yet. Read from the history; a task without
 * one (written by hand, e.g. by a benchmark) falls back to its step times.
 */
export function stateAt(
  task: Pick<Task, 'createdAt' | 'claimedAt' | 'doneAt' | 'acceptedAt' | 'cancelledAt'>,
  history: TaskEvent[],
  at: number,
): State | undefined {
  if (task.createdAt > at) return undefined;
  if (!history.length) {
    if (task.cancelledAt !== undefined && task.cancelledAt <= at) return 'cancelled';
    if (task.acceptedAt !== undefined && task.acceptedAt <= at) return 'accepted';
    if (task.doneAt !== undefined && task.doneAt <= at) return 'done';
    if (task.claimedAt !== undefined && task.claimedAt <= at) return 'claimed';
    return 'open';
  }
  let state: State = 'open';
  // Entries are appended as they happen; sorting by time (stable) guards against a clock that stepped back.
  for (const e of [...history].sort((a, b) => a.at - b.at)) {
    if (e.at > at) break;
    state = stateAfter[e.type] ?? state;
  }
  return state;
}

/** The task with its state at `at`; undefined when it did not exist yet or was already accepted or cancelled. */
export function openAt(task: Task, history: TaskEvent[], at: number): Task | undefined {
  const state = stateAt(task, history, at);
  if (state === undefined || state === 'accepted' || state === 'cancelled') return undefined;
  return { ...task, state };
}
