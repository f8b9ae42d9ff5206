// Our WXBizMsgCrypt against the public vectors of protocols/wecom.md §2.8, and the inputs it must refuse.
import { createCipheriv, randomBytes } from 'node:crypto';
import { decrypt as libDecrypt, encrypt as libEncrypt, getSignature as libSign } from '@wecom/crypto';
import { describe, expect, it } from 'vitest';
import { open, seal, sign, verifySignature, type CallbackKeys } from '../../src/channels/wecom/crypto.js';
import { VerificationError } from '../../src/errors.js';
import {
  aibotPost,
  appPost,
  appTextXml,
  openAibotReply,
  openAppReply,
  verifyQuery,
} from '../helpers/wecom-callbacks.js';

// Vector B — official Go JSON sample / Java testVerifyUrl.
const B: CallbackKeys = {
  token: 'QDG6eK',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  receiveId: 'wx5823bf96d3bd56c7',
};
const B1 = {
  signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
  timestamp: '1409659589',
  nonce: '263014780',
  echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
  echostrUrlEncoded:
    'P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D',
  plain: '1616140317555161061',
};
const B2 = {
  signature: '0623cbc5a8cbee5bcc137c70de99575366fc2af3',
  timestamp: '1409659813',
  nonce: '1372623149',
  body: '{"tousername":"wx5823bf96d3bd56c7","encrypt":"CZWs4CWRpI4VolQlvn4dlEC1alN2MUEY2VklGehgBVLBrlVF7SyT+SV+Toj43l4ayJ9UMGKphktKKmP7B2j/P1ey67XB8PBgS7Wr5/8+w/yWriZv3Vmoo/MH3/1HsIWZrPQ3N2mJrelStIfI2Y8kLKXA7EhfZgZX4o+ffdkZDM76SEl79Ib9mw7TGjZ9Aw/x/A2VjNbV1E8BtEbRxYYcQippYNw7hr8sFfa3nW1xLdxokt8QkRX83vK3DFP2F6TQFPL2Tu98UwhcUpPvdJBuu1/yiOQIScppV3eOuLWEsko=","agentid":"218"}',
  plain:
    '{"ToUserName":"wx5823bf96d3bd56c7","FromUserName":"mycreate","CreateTime": 1409659813,"MsgType":"text","Content":"hello","MsgId":4561255354251345929,"AgentID": 218}',
};
const B2_ENCRYPT: string = JSON.parse(B2.body).encrypt;

// Vector C — Java WXBizMsgCryptTest, fixed random.
const C: CallbackKeys = {
  token: 'pamtest',
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  receiveId: 'wxb11529c136998cb6',
};
const C_RANDOM = () => Buffer.from('aaaabbbbccccdddd');
const C_TS = '1409304348';
const C_NONCE = 'xxxxxx';
const C1 = {
  plain: '我是中文abcd123',
  encrypt: 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==',
  signature: '82c962d39941aa48552f90ef55aa323dc620cc10',
};
// The test's second vector (replyMsg2 / afterAesEncrypt2), copied from the Java WXBizMsgCryptTest source.
const C2 = {
  plain:
    '<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>',
  encrypt:
    'jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb',
};

// Vector D — self-generated for the AI bot's empty receive id (same key/random as C).
const D: CallbackKeys = { ...C, receiveId: '' };
const D1 = {
  plain: '{"msgtype":"text"}',
  encrypt: 'jn1L23DB+6ELqJ+6bruv2/3zu9BtWQu585BcmO077ShaLm1rOrF3IqxNHL67u+5858QXR88xGwk6BGjmYXd/nQ==',
  signature: 'db33bd9fa1eb89711d2654f742e7b1f73ecfcdf8',
};

// Vector E — docs.rs wechat-crypto example.
const E: CallbackKeys = { token: 'unused', aesKey: 'kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aQ', receiveId: 'rust' };
const E1 = { encrypt: '9s4gMv99m88kKTh/H8IdkNiFGeG9pd7vNWl50fGRWXY=', plain: 'test' };

/** Every refusal must be our VerificationError — never a TypeError/RangeError from deep inside, never garbage. */
function expectRefused(f: () => unknown): VerificationError {
  let caught: unknown;
  try {
    const out = f();
    caught = new Error(`expected a VerificationError, got ${JSON.stringify(out)}`);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(VerificationError);
  return caught as VerificationError;
}

/** WXBizMsgCrypt by hand, to build ciphertexts our seal() would never produce. */
function craft(aesKey: string, plaintext: Buffer): string {
  const key = Buffer.from(aesKey + '=', 'base64');
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plaintext), c.final()]).toString('base64');
}
function layout(msg: string, receiveId: string, msgLen = Buffer.byteLength(msg)): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msgLen);
  return Buffer.concat([Buffer.from('aaaabbbbccccdddd'), len, Buffer.from(msg), Buffer.from(receiveId)]);
}
function pkcs7to32(b: Buffer): Buffer {
  const n = 32 - (b.length % 32);
  return Buffer.concat([b, Buffer.alloc(n, n)]);
}

describe('vector B1 — GET URL verification', () => {
  it('verifies the signature and decrypts echostr', () => {
    verifySignature(B, B1.signature, B1.timestamp, B1.nonce, B1.echostr);
    expect(open(B, B1.echostr)).toBe(B1.plain);
  });

  it('works from the URL-encoded request line (%2F, %2B, %3D decoded before signing)', () => {
    const q = new URLSearchParams(
      `msg_signature=${B1.signature}&timestamp=${B1.timestamp}&nonce=${B1.nonce}&echostr=${B1.echostrUrlEncoded}`,
    );
    const echostr = q.get('echostr')!;
    expect(echostr).toBe(B1.echostr);
    verifySignature(B, q.get('msg_signature')!, q.get('timestamp')!, q.get('nonce')!, echostr);
    expect(open(B, echostr)).toBe(B1.plain);
  });

  it('the raw (undecoded) echostr does not verify — decoding is required (§2.4)', () => {
    expectRefused(() => verifySignature(B, B1.signature, B1.timestamp, B1.nonce, B1.echostrUrlEncoded));
  });

  it("tolerates '+' turned into ' ' by a form decoder (§7.6)", () => {
    const mangled = B1.echostr.replace(/\+/g, ' ');
    expect(mangled).not.toBe(B1.echostr);
    expect(open(B, mangled)).toBe(B1.plain);
  });
});

describe('vector B2 — POST JSON with a 64-bit MsgId', () => {
  it('verifies the signature over the body encrypt field and decrypts to the exact JSON text', () => {
    verifySignature(B, B2.signature, B2.timestamp, B2.nonce, B2_ENCRYPT);
    expect(open(B, B2_ENCRYPT)).toBe(B2.plain);
  });

  it('plain JSON.parse loses MsgId digits; the id must be read as a string', () => {
    const plain = open(B, B2_ENCRYPT);
    const naive = JSON.parse(plain);
    expect(Number.isSafeInteger(naive.MsgId)).toBe(false);
    expect(String(naive.MsgId)).not.toBe('4561255354251345929'); // it reads back as 4561255354251345920
    expect(BigInt(naive.MsgId)).not.toBe(4561255354251345929n);
    // A string-preserving read: quote the number before parsing (what a receiver must do for numeric ids).
    const safe = JSON.parse(plain.replace(/("MsgId"\s*:\s*)(\d+)/, '$1"$2"'));
    expect(safe.MsgId).toBe('4561255354251345929');
    expect(safe.Content).toBe('hello');
  });
});

describe('vector C — deterministic encryption', () => {
  it('seal() reproduces the Java test ciphertext byte for byte', () => {
    expect(seal(C, C1.plain, C_RANDOM())).toBe(C1.encrypt);
    expect(Buffer.from(seal(C, C1.plain, C_RANDOM()), 'base64')).toEqual(Buffer.from(C1.encrypt, 'base64'));
  });

  it('signs it as documented', () => {
    expect(sign(C.token, C_TS, C_NONCE, C1.encrypt)).toBe(C1.signature);
    verifySignature(C, C1.signature, C_TS, C_NONCE, C1.encrypt);
  });

  it('opens it again', () => {
    expect(open(C, C1.encrypt)).toBe(C1.plain);
  });

  it('second vector (long XML with Chinese) both ways', () => {
    expect(seal(C, C2.plain, C_RANDOM())).toBe(C2.encrypt);
    expect(open(C, C2.encrypt)).toBe(C2.plain);
  });

  it('an upper-case hex signature is still accepted (hex is case-insensitive)', () => {
    verifySignature(C, C1.signature.toUpperCase(), C_TS, C_NONCE, C1.encrypt);
  });
});

describe('vector D — AI bot, empty receive id', () => {
  it('seals, signs and opens with receiveId ""', () => {
    expect(seal(D, D1.plain, C_RANDOM())).toBe(D1.encrypt);
    expect(sign(D.token, C_TS, C_NONCE, D1.encrypt)).toBe(D1.signature);
    verifySignature(D, D1.signature, C_TS, C_NONCE, D1.encrypt);
    expect(open(D, D1.encrypt)).toBe(D1.plain);
  });
});

describe('vector E — third party', () => {
  it('opens to "test" for receive id "rust"', () => {
    expect(open(E, E1.encrypt)).toBe(E1.plain);
  });
});

describe('refusals', () => {
  it('wrong signature of the same length', () => {
    const flipped = (B2.signature[0] === '0' ? '1' : '0') + B2.signature.slice(1);
    expect(flipped).toHaveLength(B2.signature.length);
    expectRefused(() => verifySignature(B, flipped, B2.timestamp, B2.nonce, B2_ENCRYPT));
    const lastFlipped = B2.signature.slice(0, -1) + (B2.signature.endsWith('f') ? 'e' : 'f');
    expectRefused(() => verifySignature(B, lastFlipped, B2.timestamp, B2.nonce, B2_ENCRYPT));
  });

  it('wrong signature of a different length', () => {
    expectRefused(() => verifySignature(B, B2.signature + '0', B2.timestamp, B2.nonce, B2_ENCRYPT));
    expectRefused(() => verifySignature(B, B2.signature.slice(0, -1), B2.timestamp, B2.nonce, B2_ENCRYPT));
    expectRefused(() => verifySignature(B, B2.signature.slice(0, 20), B2.timestamp, B2.nonce, B2_ENCRYPT));
  });

  it('empty signature, timestamp, nonce or ciphertext', () => {
    expectRefused(() => verifySignature(B, '', B2.timestamp, B2.nonce, B2_ENCRYPT));
    expectRefused(() => verifySignature(B, B2.signature, '', B2.nonce, B2_ENCRYPT));
    expectRefused(() => verifySignature(B, B2.signature, B2.timestamp, '', B2_ENCRYPT));
    expectRefused(() => verifySignature(B, B2.signature, B2.timestamp, B2.nonce, ''));
  });

  it('a right signature with the wrong token, timestamp or nonce', () => {
    expectRefused(() => verifySignature({ ...B, token: 'QDG6eL' }, B2.signature, B2.timestamp, B2.nonce, B2_ENCRYPT));
    expectRefused(() => verifySignature(B, B2.signature, '1409659814', B2.nonce, B2_ENCRYPT));
    expectRefused(() => verifySignature(B, B2.signature, B2.timestamp, '1372623148', B2_ENCRYPT));
  });

  it('a flipped ciphertext byte: the signature check always catches it', () => {
    const raw = Buffer.from(B2_ENCRYPT, 'base64');
    for (let i = 0; i < raw.length; i++) {
      const bad = Buffer.from(raw);
      bad[i] ^= 0x01;
      const b64 = bad.toString('base64');
      expectRefused(() => {
        verifySignature(B, B2.signature, B2.timestamp, B2.nonce, b64);
        return open(B, b64);
      });
    }
  });

  it('a flipped ciphertext byte that hits msg_len, the padding or the receive id is refused by open() itself', () => {
    const raw = Buffer.from(B2_ENCRYPT, 'base64');
    // byte 0: CBC flips plaintext byte 16 = msg_len's high byte; the last three blocks carry receive id + padding.
    const positions = [0, 1, 2, 3, raw.length - 48, raw.length - 33, raw.length - 17, raw.length - 16, raw.length - 1];
    for (const i of positions) {
      const bad = Buffer.from(raw);
      bad[i] ^= 0x01;
      expectRefused(() => open(B, bad.toString('base64')));
    }
  });

  it('an app ciphertext opened with the AI bot receive id "" and vice versa', () => {
    expectRefused(() => open({ ...B, receiveId: '' }, B2_ENCRYPT));
    expectRefused(() => open({ ...D, receiveId: C.receiveId }, D1.encrypt));
    expectRefused(() => open({ ...C, receiveId: 'wxb11529c136998cb' }, C1.encrypt)); // a prefix is not enough
    expectRefused(() => open({ ...C, receiveId: 'wxb11529c136998cb6 ' }, C1.encrypt));
  });

  it('an over-long msg_len (which @wecom/crypto would read as receive id "")', () => {
    const msg = '{"msgtype":"text","text":{"content":"hi"}}';
    const b64 = craft(D.aesKey, pkcs7to32(layout(msg, '', 5000)));
    // The library slices past the end and reports id "" — exactly the AI bot's expected id (crypto.ts comment).
    expect(libDecrypt(D.aesKey, b64).id).toBe('');
    expectRefused(() => open(D, b64));
    // Off by one: msg_len one byte longer than the message eats the receive id's first byte.
    expectRefused(() => open(C, craft(C.aesKey, pkcs7to32(layout('hello', C.receiveId, 6)))));
    // Reaching exactly the end is legal only when the receive id is empty.
    expect(open(D, craft(D.aesKey, pkcs7to32(layout('hello', ''))))).toBe('hello');
    // A maximal length field.
    expectRefused(() => open(D, craft(D.aesKey, pkcs7to32(layout('hello', '', 0xffffffff)))));
  });

  it('a pad byte > 32 or 0', () => {
    const body = layout('hello', D.receiveId); // 25 bytes
    for (const pad of [33, 48, 0]) {
      const padded = Buffer.concat([body, Buffer.alloc(48 - body.length, 7)]);
      padded[padded.length - 1] = pad;
      const b64 = craft(D.aesKey, padded);
      expectRefused(() => open(D, b64));
    }
    // Control: the same bytes with a correct pad open fine, so the refusals above are about the pad.
    expect(open(D, craft(D.aesKey, pkcs7to32(body)))).toBe('hello');
  });

  it('a plaintext too short to hold random + msg_len', () => {
    const b64 = craft(D.aesKey, Buffer.concat([Buffer.alloc(15, 0x41), Buffer.alloc(17, 17)])); // 15 bytes of data
    expectRefused(() => open(D, b64));
  });

  it('non-base64 input and wrong lengths', () => {
    for (const bad of [
      '',
      '!!!!',
      'abc',
      'not base64 at all?',
      '====',
      '%2B%2F',
      B1.echostr + 'A',
      B1.echostr.slice(0, -4) + '*==',
      'AAAA',
    ]) {
      expectRefused(() => open(B, bad));
    }
    // Valid base64 whose length is not a whole number of AES blocks.
    expectRefused(() => open(B, Buffer.alloc(24).toString('base64')));
  });

  it('a wrong key: VerificationError, never garbage', () => {
    expectRefused(() => open({ ...B, aesKey: C.aesKey }, B2_ENCRYPT));
    expectRefused(() => open({ ...B, aesKey: 'short' }, B2_ENCRYPT));
  });
});

describe('agrees with @wecom/crypto on many messages in a row', () => {
  // The decipher is shared between calls (crypto.ts): nothing of one message may reach the next, whatever the
  // lengths, the keys and the refusals in between.
  it('signs and opens 300 random messages of every length under two keys, interleaved with refusals', () => {
    const keys = [B, C];
    for (let i = 0; i < 300; i++) {
      const k = keys[i % 2];
      const text = randomBytes(i % 97).toString('base64') + '中文'.repeat(i % 5);
      const sealed = libEncrypt(k.aesKey, text, k.receiveId);
      const [ts, nonce] = [String(1_700_000_000 + i), randomBytes(6).toString('hex')];
      expect(sign(k.token, ts, nonce, sealed)).toBe(libSign(k.token, ts, nonce, sealed));
      expect(open(k, sealed)).toBe(text);
      if (i % 7 === 0) expectRefused(() => open(k, sealed.slice(0, -24) + 'A'.repeat(24))); // a mangled one between
    }
  });
});

describe('test helpers build callbacks WeCom-compatible (round trip through our crypto)', () => {
  const app = { token: C.token, aesKey: C.aesKey, corpId: C.receiveId, agentId: 1000002 };

  it('verifyQuery: percent-encoded echostr that verifies and opens', () => {
    const q = verifyQuery(C, C.receiveId, '12345', { timestamp: 1409304348, nonce: 'n1', random: C_RANDOM() });
    const p = new URLSearchParams(q);
    verifySignature(C, p.get('msg_signature')!, p.get('timestamp')!, p.get('nonce')!, p.get('echostr')!);
    expect(open(C, p.get('echostr')!)).toBe('12345');
    expect(q).not.toMatch(/echostr=[^&]*[+/=]/); // encoded like WeCom does
  });

  it('aibotPost: JSON envelope, receive id ""', () => {
    const { query, body, nonce } = aibotPost(C, { msgtype: 'text' }, { nonce: 'abc' });
    const p = new URLSearchParams(query);
    expect(nonce).toBe('abc');
    const enc = JSON.parse(body).encrypt;
    verifySignature(D, p.get('msg_signature')!, p.get('timestamp')!, p.get('nonce')!, enc);
    expect(JSON.parse(open(D, enc))).toEqual({ msgtype: 'text' });
  });

  it('appPost: XML envelope with the corp id; MsgId stays a 19-digit literal', () => {
    const inner = appTextXml({
      corpId: app.corpId,
      agentId: app.agentId,
      from: 'zhangsan',
      content: 'a]]>b',
      msgId: '4561255354251345929',
      createTime: 1,
    });
    expect(inner).toContain('<MsgId>4561255354251345929</MsgId>');
    const { query, body } = appPost(app, inner);
    const enc = /<Encrypt><!\[CDATA\[(.*?)\]\]><\/Encrypt>/.exec(body)![1];
    const p = new URLSearchParams(query);
    verifySignature(C, p.get('msg_signature')!, p.get('timestamp')!, p.get('nonce')!, enc);
    expect(open(C, enc)).toBe(inner);
  });

  it('openAibotReply / openAppReply accept a correct reply and refuse a tampered one', () => {
    const ts = '1700000000';
    const enc = seal(D, '{"msgtype":"stream"}');
    const reply = JSON.stringify({
      encrypt: enc,
      msgsignature: sign(D.token, ts, 'nn', enc),
      timestamp: Number(ts),
      nonce: 'nn',
    });
    expect(openAibotReply(C, reply, 'nn')).toEqual({ msgtype: 'stream' });
    expect(() => openAibotReply(C, reply, 'other-nonce')).toThrow(/nonce/);
    expectRefused(() => openAibotReply(C, reply.replace(/"msgsignature":"./, '"msgsignature":"X'), 'nn'));

    const encApp = seal(C, '<xml><MsgType><![CDATA[update_button]]></MsgType></xml>');
    const xml = `<xml>\n<Encrypt><![CDATA[${encApp}]]></Encrypt>\n<MsgSignature><![CDATA[${sign(C.token, ts, 'nx', encApp)}]]></MsgSignature>\n<TimeStamp>${ts}</TimeStamp>\n<Nonce><![CDATA[nx]]></Nonce>\n</xml>`;
    expect(openAppReply(app, xml)).toBe('<xml><MsgType><![CDATA[update_button]]></MsgType></xml>');
    expectRefused(() => openAppReply({ ...app, corpId: 'other' }, xml));
  });
});
