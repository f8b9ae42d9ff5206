// One WeCom deployment for tests: keys, a fake platform, and the environment that points the service at it.
import { randomBytes } from 'node:crypto';
import { startFakeWecom, type FakeWecom } from './fake-wecom.js';
import type { AibotKeys, AppKeys } from './wecom-callbacks.js';

export function aesKey(): string {
  // 43 chars of [A-Za-z0-9] that decode (with '=') to 32 bytes.
  return randomBytes(32).toString('base64').replace(/[+/=]/g, 'A').slice(0, 43);
}

export const webhookKeys = {
  WECOM_WEBHOOK_SHUIDIAN: 'key-shuidian',
  WECOM_WEBHOOK_MUGONG: 'key-mugong',
  WECOM_WEBHOOK_BAOJIE: 'key-baojie',
  WECOM_WEBHOOK_SHITANG: 'key-shitang',
  WECOM_WEBHOOK_MANAGER: 'key-manager',
};

export interface WecomWorld {
  fake: FakeWecom;
  aibot: AibotKeys;
  app: AppKeys;
  env: Record<string, string>;
}

export async function wecomWorld(): Promise<WecomWorld> {
  const corpId = 'wwtestcorp0001';
  const secret = randomBytes(16).toString('hex');
  const agentId = 1000002;
  const fake = await startFakeWecom({ corpId, corpSecret: secret, agentId, webhookKeys: Object.values(webhookKeys) });
  const aibot: AibotKeys = { token: 'aibotToken' + randomBytes(4).toString('hex'), aesKey: aesKey() };
  const app: AppKeys = { token: 'appToken' + randomBytes(4).toString('hex'), aesKey: aesKey(), corpId, agentId };
  const env = {
    WECOM_API_BASE: fake.url,
    WECOM_CORP_ID: corpId,
    WECOM_AIBOT_TOKEN: aibot.token,
    WECOM_AIBOT_AES_KEY: aibot.aesKey,
    WECOM_APP_TOKEN: app.token,
    WECOM_APP_AES_KEY: app.aesKey,
    WECOM_APP_SECRET: secret,
    WECOM_APP_AGENT_ID: String(agentId),
    ...webhookKeys,
  };
  return { fake, aibot, app, env };
}
