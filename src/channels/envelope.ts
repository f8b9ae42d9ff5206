// The one shape every receiver turns a platform payload into (design.md §2). Receivers know nothing else.
import { z } from 'zod';

export const envelopeSchema = z.object({
  id: z.string().min(1), // channel:surface:platform message id — the dedupe key
  channel: z.enum(['wecom', 'dingtalk', 'local']),
  surface: z.string().min(1), // aibot | app | console | robot
  msgId: z.string().min(1),
  chat: z.object({ id: z.string(), type: z.enum(['group', 'single']) }),
  sender: z.object({ platformId: z.string().min(1) }),
  text: z.string().optional(),
  /** The text of the message this one quotes (a reply by quoting), when the platform says. */
  quote: z.string().max(2000).optional(),
  /** The text came from speech the platform transcribed (WeCom voice.content). */
  voice: z.literal(true).optional(),
  action: z
    .object({
      key: z.string(), // the clicked button's key, e.g. "claim:12"
      cardRef: z.string().optional(),
      responseCode: z.string().optional(), // WeCom app: one-use code to update the clicked card
    })
    .optional(),
  responseUrl: z.string().optional(), // WeCom AI bot: one active reply
  receivedAt: z.number(),
});

export type Envelope = z.infer<typeof envelopeSchema>;
