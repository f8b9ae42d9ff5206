// The fake WeCom's media/upload and image messages must enforce the documented rules (protocols/wecom.md §5.1,
// §5.3, §5.5), or the image tests prove nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { startFakeWecom, type FakeWecom } from '../helpers/fake-wecom.js';

const CORP = { corpId: 'wwcorp0001', corpSecret: 'secret-of-the-app', agentId: 1000002 };
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 7)]);
let fake: FakeWecom;

beforeEach(async () => {
  fake = await startFakeWecom({ ...CORP, webhookKeys: ['robot'] });
});
afterEach(async () => {
  await fake.close();
});

async function token(): Promise<string> {
  return (
    await (await fetch(`${fake.url}/cgi-bin/gettoken?corpid=${CORP.corpId}&corpsecret=${CORP.corpSecret}`)).json()
  ).access_token;
}
async function upload(
  query: string,
  data: Buffer,
  field = 'media',
  filename: string | undefined = 'chart.png',
): Promise<any> {
  const form = new FormData();
  if (filename === undefined)
    form.append(field, new Blob([new Uint8Array(data)], { type: 'image/png' }) as unknown as string);
  else form.append(field, new Blob([new Uint8Array(data)], { type: 'image/png' }), filename);
  return (await fetch(`${fake.url}/cgi-bin/media/upload?${query}`, { method: 'POST', body: form })).json();
}
async function send(t: string, body: unknown): Promise<any> {
  return (
    await fetch(`${fake.url}/cgi-bin/message/send?access_token=${t}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  ).json();
}

describe('media/upload', () => {
  it('takes a PNG in the field "media" and returns a media_id that message/send accepts', async () => {
    const t = await token();
    const r = await upload(`access_token=${t}&type=image`, PNG);
    expect(r).toMatchObject({ errcode: 0, type: 'image' });
    expect(typeof r.media_id).toBe('string');
    expect(typeof r.created_at).toBe('string');
    expect(fake.uploaded(r.media_id)!.data.equals(PNG)).toBe(true);
    expect(
      (await send(t, { touser: 'zhangsan', agentid: CORP.agentId, msgtype: 'image', image: { media_id: r.media_id } }))
        .errcode,
    ).toBe(0);
    expect(fake.violations()).toEqual([]);
  });

  it('refuses a missing or unknown token, a wrong type, a wrong field, a non-image, an empty file', async () => {
    expect((await upload('type=image', PNG)).errcode).toBe(41001);
    expect((await upload('access_token=nope&type=image', PNG)).errcode).toBe(40014);
    const t = await token();
    expect((await upload(`access_token=${t}&type=picture`, PNG)).errcode).toBe(40004);
    const wrongField = await upload(`access_token=${t}&type=image`, PNG, 'file');
    expect(wrongField.errcode).toBe(40058);
    expect((await upload(`access_token=${t}&type=image`, Buffer.from('GIF89a-not-allowed-here'))).errcode).toBe(40005);
    expect((await upload(`access_token=${t}&type=image`, Buffer.from('abc'))).errcode).toBe(40006);
    expect(
      (await upload(`access_token=${t}&type=image`, Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)]))).errcode,
    ).toBe(40009);
    expect(fake.violations().map((v) => v.violations[0])).toEqual([
      'access_token query parameter is missing',
      'type "picture" must be one of image, voice, video, file',
      'no part named "media" (got "file")',
      'an image must be JPG or PNG (by its bytes)',
      'the file is 3 bytes; media must be more than 5 bytes',
      expect.stringMatching(/^the image is \d+ bytes, max 10485760$/),
    ]);
  });

  it('message/send image needs a media_id this server issued; the group robot checks md5 and size', async () => {
    const t = await token();
    expect(
      (await send(t, { touser: 'zhangsan', agentid: CORP.agentId, msgtype: 'image', image: { media_id: 'made-up' } }))
        .errcode,
    ).toBe(40007);
    expect((await send(t, { touser: 'zhangsan', agentid: CORP.agentId, msgtype: 'image', image: {} })).errcode).toBe(
      40007,
    );
    const hook = (body: unknown) =>
      fetch(`${fake.url}/cgi-bin/webhook/send?key=robot`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    const md5 = createHash('md5').update(PNG).digest('hex');
    expect((await hook({ msgtype: 'image', image: { base64: PNG.toString('base64'), md5 } })).errcode).toBe(0);
    expect(
      (await hook({ msgtype: 'image', image: { base64: PNG.toString('base64'), md5: 'x'.repeat(32) } })).errcode,
    ).not.toBe(0);
  });
});
