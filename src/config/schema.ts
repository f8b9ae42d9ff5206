// The configuration file's shape. Everything a deployment can change lives here; zod turns a bad file
// into one message naming the exact field (see load.ts).
import { z } from 'zod';
import { reportWords, taskWords } from '../commands/lexicon.js';
import { parseDuration } from '../util/duration.js';
import { envFlag, envNumber, numberFromText } from './env-refs.js';

// A bare number is seconds, also when it comes as text from a ${NAME} reference (env-refs.ts).
const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = numberFromText(v);
  const ms = typeof n === 'number' ? n * 1000 : parseDuration(v as string);
  if (ms === undefined || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `not a duration: "${v}" (use e.g. 30s, 15m, 2h, 1d)` });
    return z.NEVER;
  }
  return ms;
});

const MINUTE = 60_000;
/**
 * A checklist's grace period after its due time: whole minutes, at least 1m, at most 12h (the missed check is a
 * cron firing the same day, so it needs a whole minute, and a sheet missed half a day late says little).
 */
const grace = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = numberFromText(v);
  const ms = typeof n === 'number' ? n * 1000 : parseDuration(v as string);
  if (ms === undefined || ms < MINUTE || ms > 12 * 60 * MINUTE || ms % MINUTE !== 0) {
    ctx.addIssue({
      code: 'custom',
      message: `not a grace period: "${v}" (use whole minutes from 1m to 12h, e.g. 30m, 90m or 2h)`,
    });
    return z.NEVER;
  }
  return ms;
});

const id = z.string().regex(/^[a-z][a-z0-9_]*$/, 'use lowercase letters, digits and _ (start with a letter)');
const role = z.enum(['teacher', 'nurse', 'staff', 'worker', 'manager', 'director', 'canteen_manager']);
/** The kinds of work every site has. A config may add its own under `kinds:` (运送, 医废收运 …). */
export const builtInKinds = ['repair', 'cleaning', 'meal'] as const;
/** What the bot calls the built-in kinds (报修 #12, 保洁 #13); an added kind brings its own `name`. */
export const builtInKindNames = { repair: '报修', cleaning: '保洁', meal: '餐评' } as const;
/** A kind of work: a built-in one or an id from the config's `kinds:`; checked against both in superRefine. */
const kind = z.string().min(1);
const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
/** A wall-clock time, "17:30". */
const clock = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'use HH:MM, e.g. "17:30"');

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
  owners: z.record(kind, id).default({}),
});

/** A labelled message: `means` is `report:<kind>` or an intent (`none`, `note` …); `who` the sender's role. */
export const vocabularyExample = z.object({
  text: z.string().trim().min(1).max(500),
  means: z.string().regex(/^(?:report:[a-z_]+|[a-z]+)$/),
  who: role.optional(),
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
  dingtalk: z
    .object({
      conversationId: z.string().optional(), // where the enterprise robot posts (it must be in the group)
      // A custom robot (自定义机器人) in a group the enterprise robot is not in: its Webhook address and its 加签
      // secret. Both are credentials: give them as ${ENV_NAME}, never in the file (docs/setup-dingtalk.md).
      webhook: z
        .string()
        .refine(isRobotWebhook, {
          message: "use the custom robot's Webhook address, https://oapi.dingtalk.com/robot/send?access_token=…",
        })
        .optional(),
      secret: z
        .string()
        .refine((s) => s.startsWith('SEC'), { message: 'the 加签 secret starts with SEC (copy it whole)' })
        .optional(),
    })
    .default({}),
});

/** An http(s) URL with an access_token (a test's local stand-in is http). */
function isRobotWebhook(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'https:' || u.protocol === 'http:') && !!u.searchParams.get('access_token');
  } catch {
    return false;
  }
}

const team = z.object({
  id,
  name: z.string().min(1),
  kinds: z.array(kind).min(1),
  members: z.array(id).min(1),
  chat: id.optional(), // the team's group chat (chats[].id)
  lead: id.optional(),
  onDuty: z.partialRecord(weekday, z.array(id)).default({}),
  // 夜班: from `from` to `to` (wall clock in org.timezone; past midnight when `to` is earlier) `night.onDuty` is on
  // duty instead. A night belongs to the weekday it starts on: Monday 17:30 – Tuesday 08:00 is `mon`.
  night: z
    .object({
      from: clock,
      to: clock,
      onDuty: z.partialRecord(weekday, z.array(id)).default({}),
    })
    .optional(),
});

const route = z.object({
  kind,
  trades: z.array(z.string()).optional(), // absent = any trade
  team: id,
});

const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD');
// Five-field cron (minute hour day month weekday), read in org.timezone.
const cron = z.string().regex(/^\S+(\s+\S+){4}$/, 'use a five-field cron expression such as "30 7 * * *"');

const checklistItem = z.object({
  key: z.string().regex(/^[a-z0-9_]+$/, 'use lowercase letters, digits and _'),
  label: z.string().min(1),
  type: z.enum(['yesno', 'number', 'text']).default('yesno'),
  unit: z.string().optional(),
  min: envNumber(z.number()).optional(),
  max: envNumber(z.number()).optional(),
  // What a failed answer becomes: a task of this kind and trade at this place (default: the sheet's place).
  kind: kind.optional(),
  trade: z.string().optional(),
  place: z.string().optional(),
});

const checklist = z.object({
  id,
  title: z.string().min(1),
  chat: id, // where it is posted
  responsible: id.optional(), // a person id; or per area below
  areas: z
    .array(z.object({ name: z.string().min(1), responsible: id, place: z.string().optional(), chat: id.optional() }))
    .default([]), // one sheet per area (晨检 per class, 消毒 per room); empty = one sheet
  post: cron,
  due: cron,
  // Still not done this long after `due` → missed (漏检), the managers are told. Default 60 minutes.
  grace: grace.default(60 * MINUTE),
  everyDay: envFlag(z.boolean()).default(false), // hospitals never close
  items: z.array(checklistItem).min(1),
});

const mealRound = z.object({
  meal: z.string().min(1), // 早餐 / 午餐 / 午点 / 晚餐
  ask: cron,
  chats: z.array(id).min(1),
  window: duration.default(3 * 3600 * 1000), // answers are taken this long after the ask
});

const slaLevel = z.object({
  remind: duration, // unclaimed this long → reminder to the team
  assign: duration, // → assigned to the on-duty worker
  escalate: duration, // → escalated to the manager
  claimTarget: duration,
  finishTarget: duration,
});

/** A site's own word for a thing or a kind of problem (班班通, 希沃, 呼叫器…). */
const word = z.string().trim().min(1).max(20);

/**
 * A kind of work the site adds next to repair, cleaning and meal (a hospital's 运送, 医废收运). It behaves like
 * cleaning: place + text → a task routed by `routing` to a team by kind, no trade. `commands` start a report of this
 * kind ("运送 5病区3床 去CT室"); `words` make a free-text message this kind when nothing is broken.
 */
const addedKind = z.object({
  id: z.string().regex(/^[a-z_]+$/, 'use lowercase letters and _'),
  name: z.string().trim().min(1).max(10),
  words: z.array(word).default([]),
  commands: z.array(word).default([]),
});

export const configSchema = z
  .object({
    org: z.object({
      name: z.string().min(1),
      kind: z.enum(['kindergarten', 'school', 'hospital', 'other']).default('kindergarten'),
      timezone: z.string().default('Asia/Shanghai'),
    }),
    redis: z
      .object({
        keyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+$/)
          .default('houqin'),
      })
      .default({ keyPrefix: 'houqin' }),
    // The outbox (src/queues/mailbox.ts): past this many messages waiting for one person or group, the oldest
    // informational ones (help, "not understood") are folded into one summary. Work is never folded.
    outbox: z
      .object({ recipientCap: envNumber(z.number().int().min(2).max(10_000)).default(30) })
      .default({ recipientCap: 30 }),
    people: z.array(person).min(1),
    places: z.array(place).default([]),
    chats: z.array(chat).default([]),
    kinds: z.array(addedKind).default([]),
    teams: z.array(team).min(1),
    routing: z.array(route).min(1),
    sla: z.object({
      normal: slaLevel,
      urgent: slaLevel,
      autoAccept: duration.default(48 * 3600 * 1000),
      pendingReport: duration.default(10 * 60 * 1000), // how long a half-finished report waits for its place
      // A second report of the same place and trade this soon after the first joins it instead of opening a new task.
      duplicateWindow: duration.default(12 * 3600 * 1000),
    }),
    meals: z
      .object({
        lowRating: envNumber(z.number().int().min(1).max(5)).default(2), // this or lower becomes a canteen task
        // 食谱: per weekday, meal → dishes. Posted on the first school day of the week.
        menu: z.partialRecord(weekday, z.record(z.string(), z.string())).default({}),
        menuChats: z.array(id).default([]),
        menuPost: cron.default('0 7 * * 1-5'),
        rounds: z.array(mealRound).default([]),
      })
      .default({ lowRating: 2, menu: {}, menuChats: [], menuPost: '0 7 * * 1-5', rounds: [] }),
    calendar: z
      .object({
        closed: z.array(z.object({ from: date, to: date, name: z.string().default('停课') })).default([]), // 寒暑假, 停课
        holidays: z.array(date).default([]), // extra days off the holiday library does not know
        workdays: z.array(date).default([]), // extra make-up workdays (调休) for years the library does not know
      })
      .default({ closed: [], holidays: [], workdays: [] }),
    checklists: z.array(checklist).default([]),
    digest: z
      .object({
        to: z.array(id).default([]), // default: every director
        daily: cron.default('30 17 * * *'),
        weekly: cron.default('0 17 * * 5'),
        monthly: cron.default('0 17 28-31 * *'), // runs on the last school day of the month
      })
      .default({ to: [], daily: '30 17 * * *', weekly: '0 17 * * 5', monthly: '0 17 28-31 * *' }),
    // Per scheduled job: switch it off, or let it run on every day instead of school days only.
    jobs: z
      .record(
        z.string(),
        z.object({ enabled: envFlag(z.boolean()).default(true), everyDay: envFlag(z.boolean()).optional() }),
      )
      .default({}),
    // The site's own words, added to the parser's: things per trade (the trade names are free, routing decides the
    // team), and words per kind of work.
    vocabulary: z
      .object({
        trades: z.record(z.string().min(1), z.array(word)).default({}),
        kinds: z.record(z.string().min(1), z.array(word)).default({}),
        // Whole messages with what they meant, the site's own way of writing: the parser's learned second opinion
        // learns them on top of what it ships with (src/commands/learned.ts). The console adds them from 未识别.
        examples: z.array(vocabularyExample).max(5000).default([]),
      })
      .default({ trades: {}, kinds: {}, examples: [] }),
    channels: z
      .object({
        wecom: z.object({ enabled: envFlag(z.boolean()).default(true) }).default({ enabled: true }),
        dingtalk: z.object({ enabled: envFlag(z.boolean()).default(true) }).default({ enabled: true }),
        local: z.object({ enabled: envFlag(z.boolean()).default(true) }).default({ enabled: true }),
      })
      .default({ wecom: { enabled: true }, dingtalk: { enabled: true }, local: { enabled: true } }),
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
    unique(
      cfg.people.map((p) => p.id),
      'people',
    );
    unique(
      cfg.teams.map((t) => t.id),
      'teams',
    );
    unique(
      cfg.chats.map((c) => c.id),
      'chats',
    );
    const kindIds = [...builtInKinds, ...cfg.kinds.map((k) => k.id)];
    const known = new Set<string>(kindIds);
    const use = cfg.kinds.length
      ? `use repair, cleaning, meal or a kind listed under kinds: (${cfg.kinds.map((k) => k.id).join(', ')})`
      : 'use repair, cleaning or meal, or add it under kinds:';
    const needKind = (k: string | undefined, path: (string | number)[]) => {
      if (k !== undefined && !known.has(k))
        ctx.addIssue({ code: 'custom', path, message: `unknown kind "${k}": ${use}` });
    };
    checkAddedKinds(cfg.kinds, ctx);
    for (const k of Object.keys(cfg.vocabulary.kinds)) needKind(k, ['vocabulary', 'kinds', k]);
    const needPerson = (v: string | undefined, path: (string | number)[]) => {
      if (v !== undefined && !people.has(v))
        ctx.addIssue({ code: 'custom', path, message: `no person with id "${v}"` });
    };
    cfg.teams.forEach((t, i) => {
      t.members.forEach((m, j) => needPerson(m, ['teams', i, 'members', j]));
      needPerson(t.lead, ['teams', i, 'lead']);
      t.kinds.forEach((k, j) => needKind(k, ['teams', i, 'kinds', j]));
      const onDuty = (lists: Partial<Record<string, string[]>>, path: string[]) => {
        for (const [day, ids] of Object.entries(lists)) {
          (ids ?? []).forEach((m, j) => {
            if (!t.members.includes(m))
              ctx.addIssue({
                code: 'custom',
                path: ['teams', i, ...path, day, j],
                message: `"${m}" is not a member of team ${t.id}`,
              });
          });
        }
      };
      onDuty(t.onDuty, ['onDuty']);
      if (t.night) {
        onDuty(t.night.onDuty, ['night', 'onDuty']);
        if (t.night.from === t.night.to)
          ctx.addIssue({ code: 'custom', path: ['teams', i, 'night', 'to'], message: 'the night ends when it starts' });
      }
      if (t.chat && !chats.has(t.chat))
        ctx.addIssue({ code: 'custom', path: ['teams', i, 'chat'], message: `no chat with id "${t.chat}"` });
    });
    cfg.places.forEach((p, i) => {
      for (const [k, owner] of Object.entries(p.owners)) {
        needKind(k, ['places', i, 'owners', k]);
        needPerson(owner, ['places', i, 'owners', k]);
      }
    });
    const placeNames = new Set(cfg.places.map((p) => p.name));
    cfg.checklists.forEach((c, i) => {
      if (!chats.has(c.chat))
        ctx.addIssue({ code: 'custom', path: ['checklists', i, 'chat'], message: `no chat with id "${c.chat}"` });
      needPerson(c.responsible, ['checklists', i, 'responsible']);
      if (!c.responsible && !c.areas.length)
        ctx.addIssue({
          code: 'custom',
          path: ['checklists', i, 'responsible'],
          message: 'name a responsible person, or areas with one each',
        });
      c.areas.forEach((a, j) => {
        needPerson(a.responsible, ['checklists', i, 'areas', j, 'responsible']);
        if (a.place && !placeNames.has(a.place))
          ctx.addIssue({
            code: 'custom',
            path: ['checklists', i, 'areas', j, 'place'],
            message: `no place named "${a.place}"`,
          });
        if (a.chat && !chats.has(a.chat))
          ctx.addIssue({
            code: 'custom',
            path: ['checklists', i, 'areas', j, 'chat'],
            message: `no chat with id "${a.chat}"`,
          });
      });
      c.items.forEach((it, j) => {
        if (it.place && !placeNames.has(it.place))
          ctx.addIssue({
            code: 'custom',
            path: ['checklists', i, 'items', j, 'place'],
            message: `no place named "${it.place}"`,
          });
        needKind(it.kind, ['checklists', i, 'items', j, 'kind']);
        if (it.min !== undefined && it.max !== undefined && it.min > it.max)
          ctx.addIssue({ code: 'custom', path: ['checklists', i, 'items', j, 'min'], message: 'min is above max' });
      });
    });
    cfg.meals.rounds.forEach((r, i) =>
      r.chats.forEach((c, j) => {
        if (!chats.has(c))
          ctx.addIssue({ code: 'custom', path: ['meals', 'rounds', i, 'chats', j], message: `no chat with id "${c}"` });
      }),
    );
    cfg.meals.menuChats.forEach((c, j) => {
      if (!chats.has(c))
        ctx.addIssue({ code: 'custom', path: ['meals', 'menuChats', j], message: `no chat with id "${c}"` });
    });
    cfg.digest.to.forEach((p, j) => needPerson(p, ['digest', 'to', j]));
    cfg.routing.forEach((r, i) => {
      needKind(r.kind, ['routing', i, 'kind']);
      if (!teams.has(r.team))
        ctx.addIssue({ code: 'custom', path: ['routing', i, 'team'], message: `no team with id "${r.team}"` });
    });
    for (const k of kindIds) {
      if (!cfg.routing.some((r) => r.kind === k))
        ctx.addIssue({ code: 'custom', path: ['routing'], message: `no route for kind "${k}"` });
    }
    if (!cfg.people.some((p) => p.roles.includes('manager')))
      ctx.addIssue({ code: 'custom', path: ['people'], message: 'someone needs the role "manager"' });
  });

/** Added kinds: ids and names not taken by a built-in kind or each other, command words not taken either. */
function checkAddedKinds(added: z.infer<typeof addedKind>[], ctx: z.RefinementCtx): void {
  const ids = new Set<string>(builtInKinds);
  const names = new Set<string>(Object.values(builtInKindNames));
  const commands = new Map<string, string>(Object.entries(reportWords));
  const taskCommands = new Set(Object.values(taskWords).flatMap((w) => [...w.strong, ...w.weak]));
  added.forEach((k, i) => {
    if (ids.has(k.id))
      ctx.addIssue({
        code: 'custom',
        path: ['kinds', i, 'id'],
        message: (builtInKinds as readonly string[]).includes(k.id)
          ? `"${k.id}" is built in (repair, cleaning and meal need no entry under kinds:)`
          : `duplicate kind id "${k.id}"`,
      });
    if (names.has(k.name))
      ctx.addIssue({
        code: 'custom',
        path: ['kinds', i, 'name'],
        message: `another kind is already named "${k.name}"`,
      });
    ids.add(k.id);
    names.add(k.name);
    k.commands.forEach((c, j) => {
      const taken = commands.get(c);
      if (taskCommands.has(c))
        ctx.addIssue({
          code: 'custom',
          path: ['kinds', i, 'commands', j],
          message: `"${c}" is already a task command (接单, 完工, 验收 …); choose another word`,
        });
      else if (taken !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['kinds', i, 'commands', j],
          message: `the command word "${c}" already starts a report of kind "${taken}"`,
        });
      commands.set(c, k.id);
    });
  });
}

export type Config = z.infer<typeof configSchema>;
export type Person = Config['people'][number];
export type Place = Config['places'][number];
export type Team = Config['teams'][number];
export type Chat = Config['chats'][number];
export type BuiltInKind = (typeof builtInKinds)[number];
/** A kind of work: one of builtInKinds or the id of one of the config's `kinds:`. */
export type Kind = string;
export type AddedKind = Config['kinds'][number];
export type Role = Person['roles'][number];
export type SlaLevel = Config['sla']['normal'];
export type Checklist = Config['checklists'][number];
export type ChecklistItem = Checklist['items'][number];
export type MealRound = Config['meals']['rounds'][number];
