// A site's platform credentials and the rules their values follow, wherever they come from: the `wecom:` and
// `dingtalk:` blocks of a site file, or the WECOM_* / DINGTALK_* variables of a one-site install. load.ts lays those
// variables out as the same blocks and checks them with these schemas, so the two cannot drift apart. Messages never
// quote a value: these are secrets.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { envNumber } from './env-refs.js';

const given = z.string().min(1, 'must not be empty');
// https://developer.work.weixin.qq.com/document/path/90968: the EncodingAESKey is 43 characters of [A-Za-z0-9].
const aesKey = z.string().regex(/^[A-Za-z0-9]{43}$/, 'must be the 43-character EncodingAESKey from the admin console');
const wholeNumber = 'must be a whole number (0 or more)';

export const dingtalkModes = ['http', 'stream'] as const;
export const dingtalkModeRule = `must be ${dingtalkModes.join(' or ')}`;

// Strict: a misspelt key (`robotcode`, `aesKye`) in a credentials block would otherwise vanish and a default
// (robotCode = appKey) or a missing-field message would point somewhere else.
export const wecomBlock = z
  .object({
    corpId: given.optional(),
    aibot: z.object({ token: given, aesKey }).strict().optional(),
    app: z
      .object({
        token: given,
        aesKey,
        secret: z.string().default(''),
        agentId: envNumber(z.number({ error: wholeNumber }).int(wholeNumber).min(0, wholeNumber)).default(0),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.app && !w.corpId)
      ctx.addIssue({ code: 'custom', path: ['corpId'], message: 'must be set: the app callback needs the corp id' });
  });

export const dingtalkBlock = z
  .object({
    appKey: given,
    appSecret: given,
    // The robot's RobotCode; the same as the AppKey for a robot inside an enterprise internal app.
    robotCode: given.optional(),
    mode: z.enum(dingtalkModes, { error: dingtalkModeRule }).default('http'),
  })
  .strict()
  .transform((d) => ({ appKey: d.appKey, appSecret: d.appSecret, robotCode: d.robotCode ?? d.appKey, mode: d.mode }));

/** The two blocks of a site file; every other key of the file belongs to configSchema. */
/**
 * A district site's own tokens for its console and /admin/export (a one-site install uses HOUQIN_CONSOLE_TOKEN and
 * HOUQIN_ADMIN_TOKEN). Long enough not to be guessed: they open a school's data.
 */
const token = z.string().min(16, 'must be at least 16 characters (a random string: openssl rand -hex 16)');
export const accessBlock = z.object({ consoleToken: token.optional(), adminToken: token.optional() }).strict();

export const credentialsSchema = z.object({
  wecom: wecomBlock.optional(),
  dingtalk: dingtalkBlock.optional(),
  access: accessBlock.optional(),
});

export type WecomBlock = z.output<typeof wecomBlock>;
export type DingtalkBlock = z.output<typeof dingtalkBlock>;
export type AccessBlock = z.output<typeof accessBlock>;

/** Block field → the environment variable that gives it in a one-site install. */
export const wecomEnvNames: Record<string, string> = {
  corpId: 'WECOM_CORP_ID',
  'aibot.token': 'WECOM_AIBOT_TOKEN',
  'aibot.aesKey': 'WECOM_AIBOT_AES_KEY',
  'app.token': 'WECOM_APP_TOKEN',
  'app.aesKey': 'WECOM_APP_AES_KEY',
  'app.secret': 'WECOM_APP_SECRET',
  'app.agentId': 'WECOM_APP_AGENT_ID',
};
export const dingtalkEnvNames: Record<string, string> = {
  appKey: 'DINGTALK_APP_KEY',
  appSecret: 'DINGTALK_APP_SECRET',
  robotCode: 'DINGTALK_ROBOT_CODE',
  mode: 'DINGTALK_MODE',
};

/** A block laid out from environment variables, checked; a mistake names the variable, as it always did. */
export function checkFromEnv<S extends z.ZodType>(schema: S, block: unknown, names: Record<string, string>) {
  const r = schema.safeParse(block);
  if (r.success) return r.data as z.output<S>;
  throw new ConfigError(
    r.error.issues.map((i) => `${names[i.path.join('.')] ?? i.path.join('.')} ${i.message}`).join('; '),
  );
}
