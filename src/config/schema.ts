// The configuration file's shape. Everything a deployment can change lives here; zod turns a bad file
// into one message naming the exact field (see load.ts).
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

const duration = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
    if (ms === undefined || ms < 0) {
      ctx.addIssue({ code: 'custom', message: `not a duration: "${v}" (use e.g. 30s, 15m, 2h, 1d)` });
      return z.NEVER;
    }
    return ms;
  });

const id = z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lowercase letters, digits and _ (start with a letter)');
const role = z.enum(['teacher', 'nurse', 'staff', 'worker', 'manager', 'director', 'canteen_manager']);
export const kinds = ['repair', 'cleaning', 'meal'] as const;
const kind = z.enum(kinds);
const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

const person = z.object({
  id,
  name: z.string().min(1),
  roles: z.array(role).min(1),
  wecom: z.string().min(1).optional(), // WeCom userid
  dingtalk: z.string().min(1).optional(), // DingTalk staffId
  title: z.string().optional(),
});

const place = z.object({
  name: z.string().min(1),
  aliases: z.array(z.string().min(1)).default([]),
  building: z.string().optional(),
  floor: z.string().optional(),
  type: z.enum(['class', 'room', 'area']).default('room'),
  // 责任到人: a named person who owns this place for a kind of work; wins over trade routing.
  owners: z.partialRecord(kind, id).default({}),
});

const chat = z.object({
  id,
  name: z.string().min(1),
  type: z.enum(['class', 'team', 'manager', 'leadership', 'staff']),
  wecom: z
    .object({
      chatId: z.string().optional(), // AI bot chatid, when known
      webhookKey: z.string().optional(), // group robot key; use ${ENV_NAME} to keep it out of the file
    })
    .default({}),
  dingtalk: z.object({ conversationId: z.string().optional() }).default({}),
});

const team = z.object({
  id,
  name: z.string().min(1),
  kinds: z.array(kind).min(1),
  members: z.array(id).min(1),
  chat: id.optional(), // the team's group chat (chats[].id)
  lead: id.optional(),
  onDuty: z.partialRecord(weekday, z.array(id)).default({}),
});

const route = z.object({
  kind,
  trades: z.array(z.string()).optional(), // absent = any trade
  team: id,
});

const slaLevel = z.object({
  remind: duration, // unclaimed this long → reminder to the team
  assign: duration, // → assigned to the on-duty worker
  escalate: duration, // → escalated to the manager
  claimTarget: duration,
  finishTarget: duration,
});

export const configSchema = z
  .object({
    org: z.object({
      name: z.string().min(1),
      kind: z.enum(['kindergarten', 'school', 'hospital', 'other']).default('kindergarten'),
      timezone: z.string().default('Asia/Shanghai'),
    }),
    redis: z.object({ keyPrefix: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('houqin') }).default({ keyPrefix: 'houqin' }),
    people: z.array(person).min(1),
    places: z.array(place).default([]),
    chats: z.array(chat).default([]),
    teams: z.array(team).min(1),
    routing: z.array(route).min(1),
    sla: z.object({
      normal: slaLevel,
      urgent: slaLevel,
      autoAccept: duration.default(48 * 3600 * 1000),
      pendingReport: duration.default(10 * 60 * 1000), // how long a half-finished report waits for its place
    }),
    meals: z
      .object({
        lowRating: z.number().int().min(1).max(5).default(2), // this or lower becomes a canteen task
      })
      .default({ lowRating: 2 }),
    channels: z
      .object({
        wecom: z.object({ enabled: z.boolean().default(true) }).default({ enabled: true }),
        local: z.object({ enabled: z.boolean().default(true) }).default({ enabled: true }),
      })
      .default({ wecom: { enabled: true }, local: { enabled: true } }),
  })
  .superRefine((cfg, ctx) => {
    const people = new Set(cfg.people.map((p) => p.id));
    const teams = new Set(cfg.teams.map((t) => t.id));
    const chats = new Set(cfg.chats.map((c) => c.id));
    const unique = (list: string[], path: string) => {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [path, i, 'id'], message: `duplicate id "${v}"` });
        seen.add(v);
      });
    };
    unique(cfg.people.map((p) => p.id), 'people');
    unique(cfg.teams.map((t) => t.id), 'teams');
    unique(cfg.chats.map((c) => c.id), 'chats');
    const needPerson = (v: string | undefined, path: (string | number)[]) => {
      if (v !== undefined && !people.has(v)) ctx.addIssue({ code: 'custom', path, message: `no person with id "${v}"` });
    };
    cfg.teams.forEach((t, i) => {
      t.members.forEach((m, j) => needPerson(m, ['teams', i, 'members', j]));
      needPerson(t.lead, ['teams', i, 'lead']);
      for (const [day, ids] of Object.entries(t.onDuty)) {
        (ids ?? []).forEach((m, j) => {
          if (!t.members.includes(m)) ctx.addIssue({ code: 'custom', path: ['teams', i, 'onDuty', day, j], message: `"${m}" is not a member of team ${t.id}` });
        });
      }
      if (t.chat && !chats.has(t.chat)) ctx.addIssue({ code: 'custom', path: ['teams', i, 'chat'], message: `no chat with id "${t.chat}"` });
    });
    cfg.places.forEach((p, i) => {
      for (const [k, owner] of Object.entries(p.owners)) needPerson(owner, ['places', i, 'owners', k]);
    });
    cfg.routing.forEach((r, i) => {
      if (!teams.has(r.team)) ctx.addIssue({ code: 'custom', path: ['routing', i, 'team'], message: `no team with id "${r.team}"` });
    });
    for (const k of kinds) {
      if (!cfg.routing.some((r) => r.kind === k)) ctx.addIssue({ code: 'custom', path: ['routing'], message: `no route for kind "${k}"` });
    }
    if (!cfg.people.some((p) => p.roles.includes('manager'))) ctx.addIssue({ code: 'custom', path: ['people'], message: 'someone needs the role "manager"' });
  });

export type Config = z.infer<typeof configSchema>;
export type Person = Config['people'][number];
export type Place = Config['places'][number];
export type Team = Config['teams'][number];
export type Chat = Config['chats'][number];
export type Kind = (typeof kinds)[number];
export type Role = Person['roles'][number];
export type SlaLevel = Config['sla']['normal'];
