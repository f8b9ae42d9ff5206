// Who is who: people, teams, places and routing from the config, with the lookups the domain needs.
import type { Config, Kind, Person, Place, Team } from '../config/schema.js';
import { personIds } from '../config/platform-ids.js';
import { formatter } from '../util/time.js';
import { type KindInfo, kindsOf, nameKinds } from './kinds.js';

const weekdays = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export class Roster {
  private byId = new Map<string, Person>();
  private byPlatform = new Map<string, Person>();
  private placeByName = new Map<string, Place>();
  /** The kinds of work here: built-in, then the config's own. */
  readonly kinds: KindInfo[];

  constructor(readonly config: Config) {
    this.kinds = kindsOf(config);
    nameKinds(this.kinds);
    for (const p of config.people) {
      this.byId.set(p.id, p);
      for (const x of personIds(p)) this.byPlatform.set(`${x.channel}:${x.id}`, p);
    }
    for (const pl of config.places) this.placeByName.set(pl.name, pl);
  }

  /**
   * People who only receive messages here: the district's bureau (jobs/district.ts). Found by their id for sending,
   * never by a platform id, so a message they write is a stranger's, and they hold no role.
   */
  addRecipients(people: { id: string; name: string; wecom?: string; dingtalk?: string }[]): void {
    for (const p of people) if (!this.byId.has(p.id)) this.byId.set(p.id, { ...p, roles: [] } as unknown as Person);
  }

  person(id: string | undefined): Person | undefined {
    return id ? this.byId.get(id) : undefined;
  }

  name(id: string | undefined): string {
    if (id === 'system') return '系统';
    return this.person(id)?.name ?? id ?? '未知';
  }

  /** The person behind a channel's user id (the console's is the config id). */
  fromPlatform(channel: string, platformId: string): Person | undefined {
    return this.byPlatform.get(`${channel}:${platformId}`);
  }

  /** Resolves a 转单 target as typed: a name (吴师傅), a platform id (WuShiFu) or a person id. */
  findPerson(typed: string): Person | undefined {
    const t = typed.replace(/^@/, '').trim();
    const lower = t.toLowerCase();
    return this.config.people.find(
      (p) => p.name === t || personIds(p).some((x) => x.id === t || x.id.toLowerCase() === lower),
    );
  }

  /** What the bot calls a kind of work here (报修, 运送 …). */
  kindName(kind: Kind): string {
    return this.kinds.find((k) => k.id === kind)?.name ?? kind;
  }

  has(id: string, role: Person['roles'][number]): boolean {
    return this.person(id)?.roles.includes(role) ?? false;
  }

  isManager(id: string): boolean {
    return this.has(id, 'manager');
  }

  managers(): Person[] {
    return this.config.people.filter((p) => p.roles.includes('manager'));
  }

  team(id: string): Team | undefined {
    return this.config.teams.find((t) => t.id === id);
  }

  teamsOf(person: string): Team[] {
    return this.config.teams.filter((t) => t.members.includes(person));
  }

  place(name: string | undefined): Place | undefined {
    return name ? this.placeByName.get(name) : undefined;
  }

  /**
   * Routing: a place's named owner for this kind (责任到人) wins; otherwise the first rule whose kind and trade
   * match. The owner's team is the first team of that kind they belong to.
   */
  route(kind: Kind, trade: string | undefined, place: string | undefined): { team: Team; owner?: string } {
    const owner = this.place(place)?.owners[kind];
    if (owner) {
      const team = this.teamsOf(owner).find((t) => t.kinds.includes(kind)) ?? this.teamsOf(owner)[0];
      if (team) return { team, owner };
    }
    const rule =
      this.config.routing.find(
        (r) => r.kind === kind && (!r.trades || (trade !== undefined && r.trades.includes(trade))),
      ) ??
      this.config.routing.find((r) => r.kind === kind && !r.trades) ??
      this.config.routing.find((r) => r.kind === kind)!;
    return { team: this.team(rule.team)! };
  }

  /**
   * On duty at that moment in the configured time zone: the night list during the team's night (a night past midnight
   * belongs to the weekday it started on), else the day's list. A day without a list means every member.
   */
  onDuty(team: Team, at: number): string[] {
    const { day, minute } = wallClock(this.config.org.timezone, at);
    let lists = team.onDuty;
    let listDay = day;
    if (team.night) {
      const from = minutes(team.night.from);
      const to = minutes(team.night.to);
      const evening = minute >= from && (from < to ? minute < to : true);
      const early = from > to && minute < to;
      if (evening || early) {
        lists = team.night.onDuty;
        if (early) listDay = (day + 6) % 7;
      }
    }
    const list = lists[weekdays[listDay]];
    return list?.length ? list : team.members;
  }
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Weekday (0 = Sunday) and minute of the day of an instant in a time zone. */
function wallClock(timeZone: string, at: number): { day: number; minute: number } {
  const parts = formatter('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = weekdays.indexOf(get('weekday').toLowerCase().slice(0, 3) as (typeof weekdays)[number]);
  return { day, minute: (Number(get('hour')) % 24) * 60 + Number(get('minute')) };
}

export function weekdayIn(timeZone: string, at: number): number {
  const name = formatter('en-US', { timeZone, weekday: 'short' }).format(new Date(at)).toLowerCase().slice(0, 3);
  return weekdays.indexOf(name as (typeof weekdays)[number]);
}

export function clockIn(timeZone: string, at: number): string {
  return formatter('zh-CN', {
    timeZone,
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(new Date(at));
}
