// The transition table: which step is legal from which state, and where it leads.
import { describe, expect, it } from 'vitest';
import { finalStates, states, transitions, type State, type Step } from '../../src/domain/tasks/task.js';
import { intentFromButton } from '../../src/domain/tasks/service.js';
import { mergeReplies } from '../../src/queues/merge.js';
import { jobId } from '../../src/queues/names.js';

const legal = (step: Step, from: State) => transitions[step].from.includes(from);

describe('task state machine', () => {
  it('follows open → claimed → (on_hold ↔ claimed) → done → accepted', () => {
    expect(transitions.claim).toEqual({ from: ['open'], to: 'claimed' });
    expect(transitions.hold).toEqual({ from: ['claimed'], to: 'on_hold' });
    expect(transitions.resume).toEqual({ from: ['on_hold'], to: 'claimed' });
    expect(transitions.done.to).toBe('done');
    expect(transitions.accept).toEqual({ from: ['done'], to: 'accepted' });
  });

  it('没修好 goes from done back to claimed; cancel only before done', () => {
    expect(transitions.reopen).toEqual({ from: ['done'], to: 'claimed' });
    expect(transitions.cancel.from).toEqual(['open', 'claimed', 'on_hold']);
    expect(legal('cancel', 'done')).toBe(false);
  });

  it('nothing leaves a final state', () => {
    for (const step of Object.keys(transitions) as Step[])
      for (const f of finalStates) if (step !== 'rate') expect(legal(step, f)).toBe(false);
    // 评价 may come after 验收: it changes the rating, not the state.
    expect(transitions.rate).toEqual({ from: ['done', 'accepted'], to: 'accepted' });
  });

  it('every state is reachable and every step leads to a known state', () => {
    const reached = new Set<State>(['open']);
    for (let i = 0; i < states.length; i++)
      for (const t of Object.values(transitions)) if (t.from.some((f) => reached.has(f))) reached.add(t.to);
    expect([...reached].sort()).toEqual([...states].sort());
  });

  it('card buttons map to intents; unknown keys do nothing', () => {
    expect(intentFromButton('claim:12')).toEqual({ intent: 'claim', task: 12 });
    expect(intentFromButton('accept:3')).toEqual({ intent: 'accept', task: 3 });
    expect(intentFromButton('noop:3')).toEqual({ intent: 'none' });
    expect(intentFromButton('drop table')).toEqual({ intent: 'none' });
  });

  it('job ids are BullMQ-safe and deterministic', () => {
    expect(jobId('wecom:aibot:abc/=', 'm0', 'wecom')).toBe('wecom_aibot_abc/=.m0.wecom');
  });

  it('several replies to one message become one (response_url is single-use)', () => {
    const handle = {
      channel: 'wecom',
      surface: 'aibot',
      chatId: 'c',
      chatType: 'group' as const,
      senderPlatformId: 'u',
      envelopeId: 'e1',
    };
    const merged = mergeReplies([
      { to: { kind: 'reply', handle }, message: { type: 'text', text: 'a' } },
      { to: { kind: 'user', person: 'p' }, message: { type: 'text', text: 'dm' } },
      { to: { kind: 'reply', handle }, message: { type: 'text', text: 'b' } },
    ]);
    expect(merged).toHaveLength(2);
    expect(merged[0].message).toEqual({ type: 'text', text: 'a\n\nb' });
  });
});
