// What the parser makes of a message. zod-typed so the domain and queues can trust job data.
import { z } from 'zod';

/** The steps that act on an existing task (they need a task number, written or found). */
export const taskIntentNames = [
  'claim',
  'transfer',
  'hold',
  'done',
  'accept',
  'reopen',
  'rate',
  'nudge',
  'cancel',
  'status',
] as const;

export const intentNames = ['report', ...taskIntentNames, 'note', 'mine', 'help', 'digest', 'none'] as const;

export const intentSchema = z.object({
  intent: z.enum(intentNames),
  task: z.number().int().positive().optional(),
  /** A task named without its number: `last` is the sender's latest report (那个 / 刚才那个), resolved by the domain. */
  ref: z.literal('last').optional(),
  /** repair, cleaning, meal or a kind the config adds (createParser gives only the config's kinds). */
  kind: z
    .string()
    .regex(/^[a-z_]+$/)
    .optional(),
  trade: z.string().optional(),
  place: z.string().optional(), // canonical place name from the config
  urgent: z.boolean().optional(), // set on every report
  rating: z.number().int().min(1).max(5).optional(),
  /** Free text: the problem description for a report, the note for 完工, the reason for 挂起, the comment for 评价. */
  text: z.string().optional(),
  /** 转单 target: a platform mention or a name as typed (resolved against the roster by the domain). */
  target: z.string().optional(),
  period: z.enum(['day', 'week', 'month']).optional(), // 日报 / 周报 / 月报
  /** A report the parser is not sure of: the bot asks "是要报修「…」吗？" with buttons instead of opening a task. */
  unsure: z.literal(true).optional(),
  invalid: z.literal(true).optional(),
  error: z.string().optional(), // the Chinese reply the user gets when invalid
});

export type Intent = z.infer<typeof intentSchema>;
export type IntentName = (typeof intentNames)[number];
