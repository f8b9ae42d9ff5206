// The long-connection mode's pure parts: frames, bodies, the click's event_key in both places, the settings, and the
// banner line.
import { describe, expect, it } from 'vitest';
import { payloadSchema, toEnvelope } from '../../src/channels/wecom/aibot.js';
import { ackOf, CMD, frame, incomingSchema, newReqId } from '../../src/channels/wecom/longconn/frames.js';
import { longconnBody } from '../../src/channels/wecom/longconn/render.js';
import { channelStates } from '../../src/app.js';
import { loadSettings } from '../../src/config/load.js';
import type { Card } from '../../src/domain/messages.js';

const card: Card = {
  ref: 't12',
  title: '报修 #12 小一班 空调不制冷',
  fields: [{ label: '地点', value: '小一班' }],
  buttons: [{ text: '接单', key: 'claim:12', style: 'primary' }],
};

describe('long-connection frames', () => {
  it('writes {cmd, headers: {req_id}, body} and reads acks and callbacks', () => {
    const id = newReqId(CMD.send);
    expect(id).toMatch(/^aibot_send_msg_[0-9a-z]+$/);
    expect(newReqId(CMD.send)).not.toBe(id);
    expect(JSON.parse(frame(CMD.ping, 'p1'))).toEqual({ cmd: 'ping', headers: { req_id: 'p1' } });
    expect(JSON.parse(frame(CMD.subscribe, 's1', { bot_id: 'b', secret: 's' }))).toEqual({
      cmd: 'aibot_subscribe',
      headers: { req_id: 's1' },
      body: { bot_id: 'b', secret: 's' },
    });
    const ack = incomingSchema.parse({ headers: { req_id: 'u1' }, errcode: 0, errmsg: 'ok', body: { upload_id: 'x' } });
    expect(ackOf(ack)).toEqual({ reqId: 'u1', errcode: 0, errmsg: 'ok', body: { upload_id: 'x' } });
    expect(ackOf(incomingSchema.parse({ headers: { req_id: 'u2' } }))).toMatchObject({ errcode: 0 });
    expect(incomingSchema.safeParse({ headers: {} }).success).toBe(false);
    expect(incomingSchema.parse({ cmd: CMD.msgCallback, headers: { req_id: 'r' }, body: { msgid: 'm' } }).cmd).toBe(
      'aibot_msg_callback',
    );
  });

  it('renders text as markdown (aibot_send_msg refuses text), cards with their task_id, pictures by media_id', () => {
    expect(longconnBody({ type: 'text', text: '已报修 #1' }, { taskId: 'x' })).toEqual({
      msgtype: 'markdown',
      markdown: { content: '已报修 #1' },
    });
    const c = longconnBody({ type: 'card', card }, { taskId: 't12_abc' }) as any;
    expect(c.msgtype).toBe('template_card');
    expect(c.template_card).toMatchObject({ card_type: 'button_interaction', task_id: 't12_abc' });
    expect(c.template_card.button_list[0]).toMatchObject({ key: 'claim:12', style: 1 });
    expect(longconnBody({ type: 'image', png: 'AA==', alt: '图' }, { taskId: 'x', mediaId: 'm1' })).toEqual({
      msgtype: 'image',
      image: { media_id: 'm1' },
    });
    // No media_id (not uploaded): the words instead of nothing.
    expect(longconnBody({ type: 'photo', photo: 'h', alt: '照片' }, { taskId: 'x' })).toMatchObject({
      msgtype: 'markdown',
    });
    const long = longconnBody({ type: 'markdown', text: '很'.repeat(10_000) }, { taskId: 'x' }) as any;
    expect(Buffer.byteLength(long.markdown.content)).toBeLessThanOrEqual(20_480);
  });

  it('reads the click from event.template_card_event (the doc) and from event.event_key (the SDK README)', () => {
    const base = { msgid: 'm', from: { userid: 'LiShiFu' }, msgtype: 'event', chattype: 'single' };
    const documented = payloadSchema.parse({
      ...base,
      event: { eventtype: 'template_card_event', template_card_event: { event_key: 'claim:1', task_id: 't1' } },
    });
    const sdkStyle = payloadSchema.parse({
      ...base,
      event: { eventtype: 'template_card_event', event_key: 'claim:2', task_id: 't2' },
    });
    expect(toEnvelope(documented, 0).action).toEqual({ key: 'claim:1', cardRef: 't1' });
    expect(toEnvelope(sdkStyle, 0).action).toEqual({ key: 'claim:2', cardRef: 't2' });
  });
});

describe('long-connection settings', () => {
  const cfg = 'config/example.yaml';

  it('WECOM_AIBOT_MODE=longconn takes the bot id and secret, and the gateway (wss://openws.work.weixin.qq.com)', () => {
    const s = loadSettings({ WECOM_AIBOT_MODE: 'longconn', WECOM_AIBOT_ID: 'aib1', WECOM_AIBOT_SECRET: 'sec' }, cfg);
    expect(s.wecom.longconn).toEqual({ botId: 'aib1', secret: 'sec', wsUrl: 'wss://openws.work.weixin.qq.com' });
    expect(s.wecom.aibot).toBeUndefined(); // the two modes exclude each other
    const local = loadSettings(
      {
        WECOM_AIBOT_MODE: 'longconn',
        WECOM_AIBOT_ID: 'aib1',
        WECOM_AIBOT_SECRET: 'sec',
        WECOM_AIBOT_WS_URL: 'ws://127.0.0.1:9',
        WECOM_AIBOT_TOKEN: 't',
        WECOM_AIBOT_AES_KEY: 'a'.repeat(43),
      },
      cfg,
    );
    expect(local.wecom.longconn?.wsUrl).toBe('ws://127.0.0.1:9');
    expect(local.wecom.aibot).toBeUndefined();
  });

  it('stops the start with a clear message on a missing id or secret, an unknown mode, a bad URL', () => {
    expect(() => loadSettings({ WECOM_AIBOT_MODE: 'longconn', WECOM_AIBOT_ID: 'a' }, cfg)).toThrow(
      /WECOM_AIBOT_MODE=longconn needs WECOM_AIBOT_SECRET/,
    );
    expect(() => loadSettings({ WECOM_AIBOT_MODE: 'websocket' }, cfg)).toThrow(/callback or longconn/);
    expect(() =>
      loadSettings(
        { WECOM_AIBOT_MODE: 'longconn', WECOM_AIBOT_ID: 'a', WECOM_AIBOT_SECRET: 's', WECOM_AIBOT_WS_URL: 'https://x' },
        cfg,
      ),
    ).toThrow(/wss:\/\//);
    // The default stays the URL callback.
    expect(loadSettings({ WECOM_AIBOT_TOKEN: 't', WECOM_AIBOT_AES_KEY: 'a'.repeat(43) }, cfg).wecom.longconn).toBe(
      undefined,
    );
  });

  it('the banner says which mode, and whether this instance holds the connection — never the secret', () => {
    const s = loadSettings(
      { WECOM_AIBOT_MODE: 'longconn', WECOM_AIBOT_ID: 'aib1', WECOM_AIBOT_SECRET: 'topsecret' },
      cfg,
    );
    const line = (st?: Parameters<typeof channelStates>[3]) =>
      channelStates(s, true, undefined, st).find((c) => c.name === 'WeCom AI bot')!;
    expect(line({ state: 'connected', holder: true, reconnects: 0 })).toEqual({
      name: 'WeCom AI bot',
      on: true,
      detail: 'long connection mode to openws.work.weixin.qq.com (bot aib1), connected',
    });
    expect(line({ state: 'watching', holder: false, reconnects: 0 }).detail).toContain('held by another instance');
    expect(
      line({ state: 'connecting', holder: true, reconnects: 0, lastError: 'subscribe refused: 40001' }).detail,
    ).toContain('last try: subscribe refused: 40001');
    const callback = loadSettings({ WECOM_AIBOT_TOKEN: 't', WECOM_AIBOT_AES_KEY: 'a'.repeat(43) }, cfg);
    expect(channelStates(callback, true).find((c) => c.name === 'WeCom AI bot')!.detail).toBe(
      'callback mode on /wecom/aibot',
    );
    expect(JSON.stringify(channelStates(s, true))).not.toContain('topsecret');
  });
});
