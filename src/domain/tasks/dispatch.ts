// What happens after a task is created (the route queues) and when its timers fire (the timers queue).
import type { SideStore } from '../../store/side.js';
import type { TaskStore } from '../../store/tasks.js';
import { Outcome, type TimerStep } from '../outcome.js';
import type { Roster } from '../roster.js';
import { transitions, type Task } from './task.js';
import * as T from './texts.js';
import { formatDuration } from '../../util/duration.js';

export class Dispatcher {
  constructor(
    private tasks: TaskStore,
    private roster: Roster,
    _side?: SideStore,
  ) {}

  private sla(t: Task) {
    return t.urgent ? this.roster.config.sla.urgent : this.roster.config.sla.normal;
  }

  /** Team notice, claim cards to the on-duty members (or the place's owner), and the SLA timers. */
  async route(taskId: number, now = Date.now()): Promise<Outcome> {
    const out = new Outcome();
    const t = await this.tasks.get(taskId);
    if (t?.state !== 'open') return out; // claimed or cancelled before dispatch: nothing to announce
    const team = this.roster.team(t.team)!;
    const recipients = t.owner ? [t.owner] : this.roster.onDuty(team, now);
    if (team.chat) {
      const to = t.owner ? `，责任人${this.roster.name(t.owner)}` : '';
      out.send(
        { kind: 'chat', chat: team.chat },
        {
          type: 'text',
          text: `${t.urgent ? '🔴 紧急！' : '📌 '}${T.summary(t)}\n报修人：${this.roster.name(t.reporter)}${to}。回复"接单 ${t.id}"或点卡片接单。`,
          mention: recipients,
        },
      );
    }
    for (const p of recipients)
      out.send({ kind: 'user', person: p }, { type: 'card', card: T.claimCard(t, this.roster) });
    const sla = this.sla(t);
    for (const step of ['remind', 'assign', 'escalate'] as const)
      out.timers.push({ step, task: t.id, delayMs: sla[step], id: step });
    return out;
  }

  async timer(step: TimerStep, taskId: number, expect: number | undefined, now = Date.now()): Promise<Outcome> {
    const out = new Outcome();
    const t = await this.tasks.get(taskId);
    if (!t) return out;
    const team = this.roster.team(t.team)!;
    const waited = formatDuration(now - t.createdAt);
    switch (step) {
      case 'remind': {
        if (t.state !== 'open') return out;
        await this.tasks.note(t.id, { at: now, by: 'system', type: 'reminded' });
        const text = `⏰ ${T.summary(t)}\n已${waited}无人接单，请值班师傅尽快处理：回复"接单 ${t.id}"。`;
        if (team.chat)
          out.send({ kind: 'chat', chat: team.chat }, { type: 'text', text, mention: this.roster.onDuty(team, now) });
        for (const p of t.owner ? [t.owner] : this.roster.onDuty(team, now)) out.dm(p, text);
        return out;
      }
      case 'assign': {
        if (t.state !== 'open') return out;
        const who = t.owner ?? this.roster.onDuty(team, now)[0] ?? team.lead ?? team.members[0];
        const r = await this.tasks.transition(
          t.id,
          {
            from: transitions.assign.from,
            actor: 'system',
            set: { assignee: who, assignedBy: 'system', acked: false, claimedAt: now },
            event: { at: now, by: 'system', type: 'assigned', to: who },
            index: [who],
          },
          transitions.assign.to,
        );
        if (!r.ok) return out;
        out.send(
          { kind: 'cards', ref: `t${t.id}`, except: who },
          { type: 'card', card: T.takenCard(r.task, this.roster) },
        );
        out.send(
          { kind: 'user', person: who },
          {
            type: 'card',
            card: {
              ...T.claimCard(r.task, this.roster),
              title: `已派给你 #${t.id}`,
              buttons: [{ text: '确认接单', key: `claim:${t.id}`, style: 'primary' }],
            },
          },
        );
        out.dm(who, `#${t.id} 已${waited}无人接单，按值班表派给你，请确认。`);
        return out.dm(t.reporter, `你报的 #${t.id} 已派给值班的${this.roster.name(who)}。`);
      }
      case 'escalate': {
        const unacked = t.state === 'claimed' && !t.acked;
        if (t.state !== 'open' && !unacked) return out;
        await this.tasks.note(t.id, { at: now, by: 'system', type: 'escalated' });
        const state = t.state === 'open' ? '无人接单' : `已派给${this.roster.name(t.assignee)}但未确认`;
        const text = `🚨 ${T.summary(t)}\n${waited}仍${state}。报修人：${this.roster.name(t.reporter)}。可回复"转单 ${t.id} @师傅"派单。`;
        const managerChat = this.roster.config.chats.find((c) => c.type === 'manager');
        if (managerChat) out.send({ kind: 'chat', chat: managerChat.id }, { type: 'text', text });
        for (const m of this.roster.managers()) out.dm(m.id, text);
        return out;
      }
      case 'autoaccept': {
        if (t.state !== 'done' || t.doneCount !== expect) return out;
        const r = await this.tasks.transition(
          t.id,
          {
            from: transitions.autoaccept.from,
            actor: 'system',
            set: { acceptedAt: now, rating: 5, ratingText: '默认好评' },
            event: { at: now, by: 'system', type: 'auto_accepted', rating: 5 },
          },
          transitions.autoaccept.to,
        );
        if (!r.ok) return out;
        out.dm(
          t.reporter,
          `#${t.id} 完工已超过${formatDuration(this.roster.config.sla.autoAccept)}未验收，已自动验收并默认好评。`,
        );
        return out.dm(t.assignee, `#${t.id} 已自动验收（默认好评 ★★★★★）。`);
      }
    }
  }
}
