// The one shape every receiver turns a platform payload into (design.md §2). Receivers know nothing else.
import { z } from 'zod';

/**
 * A picture that came with a message. The receiver says where it is (WeCom AI bot: `url`, which lives 5 minutes and
 * whose bytes are encrypted with the callback's key; WeCom app: `mediaId`; DingTalk: `downloadCode`); the worker
 * fetches and stores it before the message is handled (src/channels/photo-intake.ts) and fills in `hash`, `mime` and
 * `size` — or `error`. The console stores the picture as it takes the upload and sends `hash` at once.
 */
export const imageRefSchema = z.object({
  url: z.string().max(4096).optional(),
  /** A per-picture key, where the platform gives one (WeCom long-connection mode); never the callback's own key. */
  aesKey: z.string().max(64).optional(),
  mediaId: z.string().max(512).optional(),
  /** DingTalk: the code a robot message gives for its picture, exchanged for the bytes by the robot API. */
  downloadCode: z.string().max(4096).optional(),
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  mime: z.string().max(40).optional(),
  size: z.number().int().nonnegative().optional(),
  /** Why no picture was kept: over the size limit (`limit`, bytes), or unreadable (expired, not a picture …). */
  error: z.enum(['too_big', 'unreadable']).optional(),
  limit: z.number().int().positive().optional(),
});

export type ImageRef = z.infer<typeof imageRefSchema>;

export const envelopeSchema = z.object({
  id: z.string().min(1), // channel:surface:platform message id — the dedupe key
  /** The site it came to (the deployment's `default` when absent): set by the hand-off, not by receivers. */
  tenant: z.string().max(64).optional(),
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
  /** Pictures sent with the message (a WeCom image or mixed message, a quoted picture, a console upload). */
  images: z.array(imageRefSchema).max(9).optional(),
  action: z
    .object({
      key: z.string(), // the clicked button's key, e.g. "claim:12"
      cardRef: z.string().optional(),
      responseCode: z.string().optional(), // WeCom app: one-use code to update the clicked card
    })
    .optional(),
  responseUrl: z.string().optional(), // WeCom AI bot: one active reply; DingTalk: the sessionWebhook
  /** When responseUrl stops working (ms since the epoch), where the platform says (DingTalk, about 90 minutes). */
  responseUrlExpiresAt: z.number().optional(),
  /**
   * A platform's handle for answering this very message over a connection rather than a URL (WeCom long-connection
   * mode: the callback frame's req_id), and when it stops working (ms since the epoch). Kept with the message, so a
   * reply still goes out the same way after a restart.
   */
  replyRef: z.string().max(256).optional(),
  replyRefExpiresAt: z.number().optional(),
  receivedAt: z.number(),
});

export type Envelope = z.infer<typeof envelopeSchema>;
