// A task (#N) and its state machine. The table below is the single source of which step is legal from where;
// the store enforces it atomically, the service uses it to explain refusals.
import type { Kind } from '../../config/schema.js';

export const states = ['open', 'claimed', 'on_hold', 'done', 'accepted', 'cancelled'] as const;
export type State = (typeof states)[number];

export const stateLabel: Record<State, string> = {
  open: '待接单',
  claimed: '处理中',
  on_hold: '已挂起',
  done: '待验收',
  accepted: '已验收',
  cancelled: '已撤销',
};

export const finalStates: readonly State[] = ['accepted', 'cancelled'];

export type Step =
  | 'claim'
  | 'ack'
  | 'resume'
  | 'assign'
  | 'transfer'
  | 'hold'
  | 'done'
  | 'accept'
  | 'reopen'
  | 'rate'
  | 'cancel'
  | 'autoaccept';

/** Which states each step may start from, and where it leads. */
export const transitions: Record<Step, { from: readonly State[]; to: State }> = {
  claim: { from: ['open'], to: 'claimed' },
  ack: { from: ['claimed'], to: 'claimed' }, // the worker confirms a job the system or manager gave them
  resume: { from: ['on_hold'], to: 'claimed' },
  assign: { from: ['open'], to: 'claimed' }, // by the timer or the manager
  transfer: { from: ['claimed', 'on_hold'], to: 'claimed' },
  hold: { from: ['claimed'], to: 'on_hold' },
  done: { from: ['claimed', 'on_hold'], to: 'done' },
  accept: { from: ['done'], to: 'accepted' },
  reopen: { from: ['done'], to: 'claimed' },
  rate: { from: ['done', 'accepted'], to: 'accepted' },
  cancel: { from: ['open', 'claimed', 'on_hold'], to: 'cancelled' },
  autoaccept: { from: ['done'], to: 'accepted' },
};

export interface Source {
  channel: string; // the channel it came in on (Envelope.channel)
  surface: string; // aibot | app | console …
  chatId: string;
  chatType: 'group' | 'single';
}

export interface Task {
  id: number;
  kind: Kind;
  trade?: string;
  place?: string; // canonical place, or what the reporter typed when it matched none
  text: string;
  reporter: string; // person id
  team: string;
  owner?: string; // 责任到人: the person the place names for this kind
  source: Source;
  urgent: boolean;
  state: State;
  assignee?: string;
  assignedBy?: string; // 'system', a manager's id, or the assignee (claimed themselves)
  acked: boolean; // the assignee has taken it on themselves (silences escalation)
  createdAt: number;
  claimedAt?: number;
  doneAt?: number;
  acceptedAt?: number;
  cancelledAt?: number;
  rating?: number;
  ratingText?: string;
  mealRating?: number;
  checklist?: string; // the checklist entry a failed item came from
  note?: string;
  holdReason?: string;
  rework: number;
  doneCount: number;
  version: number;
}

export interface TaskEvent {
  at: number;
  by: string; // person id or 'system'
  type: string; // created | claimed | assigned | transferred | held | resumed | done | accepted | reopened | rated | cancelled | nudged | reminded | escalated | auto_accepted
  text?: string;
  to?: string;
  rating?: number;
}

export function taskRef(id: number): string {
  return `#${id}`;
}
